"""DX004: a diagnosis code not in the X12 form (decimal point, lower case, blanks, other characters, empty)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrubber.rules.base import Rule
from scrubber.rules.facts import format_problem, well_formed

if TYPE_CHECKING:
    from scrubber.findings import Finding
    from scrubber.rules.facts import ClaimFacts
    from scrubber.x12.model import Claim


class DiagnosisFormat(Rule):
    """Diagnosis code not in the X12 form: decimal point, lower case, blanks, other characters, empty.

    ## What it does
    Flags an HIxx-2 code that has a decimal point (`M54.6`), lower-case letters, blanks or other
    characters than letters and digits, or is empty after its qualifier.

    ## Why is this bad
    X12 carries ICD-10-CM codes without the dot, in capitals; payers do not clean them up and
    reject the claim (277CA A7:255).

    ## Example
    `HI*ABK:M54.6*ABF:m542~`

    ## Use instead
    `HI*ABK:M546*ABF:M542~`

    ## References
    005010X222A1 2300 HI01-2: "Do not transmit the decimal point for ICD codes".
    """

    code = "DX004"
    name = "diagnosis-format"
    summary = "diagnosis code has a decimal point, lower case, blanks or is empty"
    ack = "A7:255"
    source = "005010X222A1 2300 HI01-2..HI12-2"
    concerns = "hi_suspect"

    def check(self, claim: Claim, facts: ClaimFacts) -> list[Finding]:
        found = []
        for e in facts.hi_entries:
            if e.split or (not e.has_qualifier and e.code):
                continue  # DX006 speaks for a split composite, DX001 for a composite without qualifier
            if well_formed(e.code):
                continue
            problem = format_problem(e.code)
            if problem:
                found.append(self.finding(
                    e.seg,
                    f"Diagnosis {e.number} ({e.ref}-2) {problem}.",
                    element=f"{e.ref}-2",
                    value=e.code or None,
                ))
        return found
