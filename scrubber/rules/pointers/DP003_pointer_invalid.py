"""DP003: a diagnosis pointer that is not a whole number from 1 to 12."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrubber.rules.base import Rule
from scrubber.rules.facts import POINTERS

if TYPE_CHECKING:
    from scrubber.findings import Finding
    from scrubber.rules.facts import ClaimFacts
    from scrubber.x12.model import Claim


class PointerInvalid(Rule):
    """Diagnosis pointer that is not a whole number from 1 to 12.

    ## What it does
    Flags each SV107 component that is not an integer between 1 and 12 (``A``, ``0``, ``13``,
    ``1.5``, a diagnosis code sent in place of the pointer).

    ## Why is this bad
    A pointer is a position in the HI segment (1-12), not a code. Anything else is invalid data
    and the claim is rejected (277CA A7:477).

    ## Example
    `SV1*HC:99213*125*UN*1***M545~`

    ## Use instead
    `SV1*HC:99213*125*UN*1***1~`

    ## References
    005010X222A1 2400 SV107-1: "Diagnosis Code Pointer", N0 1/2, values 1-12.
    """

    code = "DP003"
    name = "pointer-invalid"
    summary = "SV107 pointer is not an integer from 1 to 12"
    ack = "A7:477"
    source = "005010X222A1 2400 SV107-1..4"
    concerns = "pointers_suspect"

    def check(self, claim: Claim, facts: ClaimFacts) -> list[Finding]:
        found = []
        for line in claim.lines:
            for index, raw in enumerate(line.pointers, start=1):
                if index == 1 and not raw:
                    continue  # DP001 speaks for a missing first pointer
                if raw and raw in POINTERS:  # a valid pointer (1-12)
                    continue
                what = "is empty" if not raw else f"is {raw!r}"
                found.append(self.finding(
                    line.sv1,
                    f"Service line {line.number} diagnosis pointer SV107-{index} {what}; a pointer is an HI "
                    f"position from 1 to 12.",
                    element=f"SV107-{index}",
                    value=raw or None,
                ))
        return found
