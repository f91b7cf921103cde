"""DP005: the same diagnosis pointer twice on one service line."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrubber.rules.base import Rule
from scrubber.rules.facts import POINTERS

if TYPE_CHECKING:
    from scrubber.findings import Finding
    from scrubber.rules.facts import ClaimFacts
    from scrubber.x12.model import Claim


class PointerRepeated(Rule):
    """The same diagnosis pointer twice on one service line.

    ## What it does
    Flags an SV107 pointer that repeats an earlier pointer of the same line (``1:1``).

    ## Why is this bad
    Each pointer must name a different diagnosis; payers treat a repeat as invalid data
    (277CA A7:477).

    ## Example
    `SV1*HC:97110*80*UN*2***1:1~`

    ## Use instead
    `SV1*HC:97110*80*UN*2***1~` or `SV1*HC:97110*80*UN*2***1:2~`

    ## References
    005010X222A1 2400 SV107-2..4 notes: "use only when pointing to a different diagnosis".
    """

    code = "DP005"
    name = "pointer-repeated"
    summary = "SV107 repeats the same diagnosis pointer"
    ack = "A7:477"
    source = "005010X222A1 2400 SV107-2..4"
    concerns = "pointers_suspect"

    def check(self, claim: Claim, facts: ClaimFacts) -> list[Finding]:
        found = []
        for line in claim.lines:
            if len(line.pointers) < 2:
                continue  # nothing to repeat
            seen: set[int] = set()
            for index, raw in enumerate(line.pointers, start=1):
                pointer = POINTERS.get(raw)  # the HI position a pointer names (1-12), or None
                if pointer is None:
                    continue
                if pointer in seen:
                    found.append(self.finding(
                        line.sv1,
                        f"Service line {line.number} points at diagnosis {pointer} twice (SV107-{index}); each "
                        f"pointer must name a different diagnosis.",
                        element=f"SV107-{index}",
                        value=raw,
                    ))
                seen.add(pointer)
        return found
