"""DX103: a diagnosis code not valid on its date of service: not yet, or no longer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrubber.rules.base import Rule
from scrubber.rules.diagnosis._common import on_date_findings

if TYPE_CHECKING:
    from scrubber.findings import Finding
    from scrubber.rules.facts import ClaimFacts, IcdVerdict
    from scrubber.x12.model import Claim


class CodeNotValidOnDate(Rule):
    """Diagnosis code not valid on the date of service: not yet in effect, or already deleted.

    ## What it does
    Flags a code that exists in other fiscal years but not in the one of the date of service:
    a code not valid yet (M54.50 before 2021-10-01, new in FY2022) or no longer valid (a deleted
    code after its last year). A code that still exists but became a header (M54.5 from
    2021-10-01) is DX102's case.

    ## Why is this bad
    Payers check codes against the code set in force on the date of service; a code from another
    year is rejected (277CA A7:255).

    ## Example
    `HI*ABK:M5450~` with `DTP*472*D8*20210930~`

    ## Use instead
    `HI*ABK:M545~` for that date (M54.5 was billable until 2021-09-30).

    ## References
    CMS ICD-10-CM annual updates (effective October 1); 45 CFR 162.1002.
    """

    code = "DX103"
    name = "icd10-not-valid-on-date"
    summary = "diagnosis code is not valid on the date of service (not yet, or no longer)"
    ack = "A7:255"
    source = "CMS ICD-10-CM order files, FY of the date of service"
    concerns = "icd_flagged"

    def check(self, claim: Claim, facts: ClaimFacts) -> list[Finding]:
        return on_date_findings(self, facts, "not-valid", _why)


def _why(verdict: IcdVerdict) -> str:
    fy = verdict.year
    if verdict.april:
        if verdict.new:
            return f"is not valid yet: it is valid from {fy}-04-01 (the FY{fy} April update)"
        return f"is no longer valid: the FY{fy} April update (dates from {fy}-04-01) deleted it"
    if verdict.new:
        return f"is not valid yet: it is valid from FY{fy} (dates from {fy - 1}-10-01)"
    return f"is no longer valid: its last year was FY{fy} (dates to {fy}-09-30)"
