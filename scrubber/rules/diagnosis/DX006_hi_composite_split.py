"""DX006: a diagnosis qualifier and code sent as two elements instead of one composite."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrubber.rules.base import Rule

if TYPE_CHECKING:
    from scrubber.findings import Finding
    from scrubber.rules.facts import ClaimFacts
    from scrubber.x12.model import Claim


class SplitComposite(Rule):
    """Diagnosis qualifier and code sent as two elements (`HI*BK*8901`) instead of one composite.

    ## What it does
    Flags an HI element that holds only a qualifier (ABK, ABF, BK, BF ...) followed by an element
    that holds only the code: the component separator was replaced by the element separator.

    ## Why is this bad
    The payer reads `HI01 = BK` (no code) and `HI02 = 8901` (a qualifier that does not exist);
    the diagnoses and every pointer to them are wrong and the claim is rejected (277CA A7:255).
    Seen in public test files (imsweb x12-parser: `HI*BK*8901*BF*87200*BF:5559~`).

    ## Example
    `HI*ABK*M5450*ABF*M546~`

    ## Use instead
    `HI*ABK:M5450*ABF:M546~`

    ## References
    005010X222A1 2300 HI01: composite C022 (qualifier HI01-1, code HI01-2).
    """

    code = "DX006"
    name = "hi-composite-split"
    summary = "HI qualifier and code split by the element separator"
    ack = "A7:255"
    source = "005010X222A1 2300 HI composite C022"
    concerns = "hi_suspect"

    def check(self, claim: Claim, facts: ClaimFacts) -> list[Finding]:
        found = []
        for e in facts.hi_entries:
            if e.split:
                sep = e.seg.delims.component
                found.append(self.finding(
                    e.seg,
                    f"{e.ref} holds the qualifier {e.qualifier!r} and HI{e.element + 1:02d} the code {e.code!r}: the "
                    f"composite is split by the element separator; write {e.qualifier}{sep}{e.code} as one element.",
                    element=f"{e.ref}-1",
                    value=e.qualifier,
                ))
        return found
