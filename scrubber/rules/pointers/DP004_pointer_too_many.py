"""DP004: more than four diagnosis pointers on a service line."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrubber.rules.base import Rule

if TYPE_CHECKING:
    from scrubber.findings import Finding
    from scrubber.rules.facts import ClaimFacts
    from scrubber.x12.model import Claim


class PointerTooMany(Rule):
    """More than four diagnosis pointers on a service line.

    ## What it does
    Flags SV107 with more than four components.

    ## Why is this bad
    SV107 carries at most four pointers (SV107-1..SV107-4); a fifth is a syntax error that
    rejects the claim (277CA A7:477).

    ## Example
    `SV1*HC:97140*60*UN*1***1:2:3:4:5~`

    ## Use instead
    `SV1*HC:97140*60*UN*1***1:2:3:4~`, the four most relevant diagnoses, primary first.

    ## References
    005010X222A1 2400 SV107: components 1-4.
    """

    code = "DP004"
    name = "pointer-too-many"
    summary = "SV107 has more than 4 diagnosis pointers"
    ack = "A7:477"
    source = "005010X222A1 2400 SV107"
    concerns = "pointers_suspect"

    def check(self, claim: Claim, facts: ClaimFacts) -> list[Finding]:
        found = []
        for line in claim.lines:
            pointers = line.pointers
            if len(pointers) > 4:
                found.append(self.finding(
                    line.sv1,
                    f"Service line {line.number} has {len(pointers)} diagnosis pointers; SV107 allows 4. Keep the "
                    f"four that support the procedure, primary first.",
                    element="SV107-5",
                    value=pointers[4],
                ))
        return found
