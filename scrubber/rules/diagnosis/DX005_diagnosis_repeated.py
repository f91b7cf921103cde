"""DX005: the same diagnosis code twice on a claim."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrubber.codesets.icd10cm import format_code
from scrubber.rules.base import Rule

if TYPE_CHECKING:
    from scrubber.findings import Finding
    from scrubber.rules.facts import ClaimFacts, HiEntry
    from scrubber.x12.model import Claim


class DiagnosisRepeated(Rule):
    """The same diagnosis code twice on a claim.

    ## What it does
    Flags an HI code that repeats an earlier one (compared without dots, blanks or case).

    ## Why is this bad
    Each HI position must hold a different diagnosis; a repeat wastes one of the twelve positions
    and payers reject it as invalid data (277CA A7:255).

    ## Example
    `HI*ABK:M5450*ABF:M546*ABF:M5450~`

    ## Use instead
    `HI*ABK:M5450*ABF:M546~` (and point the lines at 1 or 2)

    ## References
    005010X222A1 2300 HI; CMS-1500 item 21 instructions.
    """

    code = "DX005"
    name = "diagnosis-repeated"
    summary = "the same diagnosis code appears twice"
    ack = "A7:255"
    source = "005010X222A1 2300 HI"
    concerns = "hi_suspect"

    def check(self, claim: Claim, facts: ClaimFacts) -> list[Finding]:
        found = []
        seen: dict[str, HiEntry] = {}
        for e in facts.hi_entries:
            key = e.code.replace(".", "").replace(" ", "").upper()
            if not key:
                continue
            if key in seen:
                first = seen[key]
                found.append(self.finding(
                    e.seg,
                    f"Diagnosis {format_code(key)} appears twice: {first.ref} and {e.ref}; send each code once.",
                    element=f"{e.ref}-2",
                    value=e.code,
                ))
            else:
                seen[key] = e
        return found
