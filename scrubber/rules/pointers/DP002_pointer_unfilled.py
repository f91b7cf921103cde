"""DP002: a diagnosis pointer naming an HI position that holds no code."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrubber.rules.base import Rule
from scrubber.rules.facts import POINTERS

if TYPE_CHECKING:
    from scrubber.findings import Finding
    from scrubber.rules.facts import ClaimFacts
    from scrubber.x12.model import Claim


class PointerUnfilled(Rule):
    """Diagnosis pointer reaches an HI position that holds no diagnosis.

    ## What it does
    Flags each SV107 pointer whose value (1-12) names an HI position that is not filled on the
    claim, e.g. pointer 3 when the HI segment carries two codes.

    ## Why is this bad
    The payer cannot link the procedure to a diagnosis; the claim is rejected (277CA A7:477)
    and comes back weeks later.

    ## Example
    `HI*ABK:M5450*ABF:M546~` ... `SV1*HC:97110*80*UN*2***1:3~`

    ## Use instead
    `SV1*HC:97110*80*UN*2***1:2~`, or add the missing diagnosis as HI03.

    ## References
    005010X222A1 2400 SV107-1..4: "points to the diagnosis codes in the 2300 HI segment".
    """

    code = "DP002"
    name = "pointer-unfilled"
    summary = "SV107 pointer points at an HI position with no diagnosis"
    ack = "A7:477"
    source = "005010X222A1 2400 SV107, 2300 HI"
    concerns = "pointers_suspect"

    def check(self, claim: Claim, facts: ClaimFacts) -> list[Finding]:
        filled = facts.filled_positions
        count = len(filled)
        found = []
        for line in claim.lines:
            for index, raw in enumerate(line.pointers, start=1):
                pointer = POINTERS.get(raw)  # the HI position a pointer names (1-12), or None
                if pointer is None or pointer in filled:
                    continue
                found.append(self.finding(
                    line.sv1,
                    f"Service line {line.number} ({line.procedure or 'no procedure'}) points at diagnosis "
                    f"{pointer} (HI{pointer:02d}) but the claim has "
                    + (f"{count} diagnosis code{'s' if count != 1 else ''}" if count else "no diagnosis code")
                    + (f" (position{'s' if count > 1 else ''} {_positions(filled)})" if count else "")
                    + "; point it at a filled position or add the code.",
                    element=f"SV107-{index}",
                    value=raw,
                ))
        return found


def _positions(filled: set[int]) -> str:
    ordered = sorted(filled)
    if ordered == list(range(ordered[0], ordered[-1] + 1)) and len(ordered) > 1:
        return f"{ordered[0]}-{ordered[-1]}"
    return ", ".join(map(str, ordered))
