"""DX102: a diagnosis code that is a header on its date of service: it needs more characters."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrubber.codesets.icd10cm import format_code
from scrubber.rules.base import Rule
from scrubber.rules.diagnosis._common import on_date_findings

if TYPE_CHECKING:
    from scrubber.findings import Finding
    from scrubber.rules.facts import ClaimFacts, IcdVerdict
    from scrubber.x12.model import Claim


class CodeNotBillable(Rule):
    """Diagnosis code that is a header (category) on the date of service: it needs more characters.

    ## What it does
    Flags a code that exists in the fiscal year of the date of service but is not billable there
    (M54, M54.1; M54.5 from FY2022, when it was split into M54.50/M54.51/M54.59; M79.1 from FY2019).
    The message names the billable codes under it.

    ## Why is this bad
    Only codes to the highest specificity are valid for submission; a header is rejected
    (277CA A7:255).

    ## Example
    `HI*ABK:M545~` with `DTP*472*D8*20250310~`

    ## Use instead
    `HI*ABK:M5450~` (or M54.51, M54.59, whichever the record supports)

    ## References
    ICD-10-CM Official Guidelines I.B.2 (level of detail); CMS ICD-10-CM order files.
    """

    code = "DX102"
    name = "icd10-header"
    summary = "diagnosis code is a header that needs more characters on the date of service"
    ack = "A7:255"
    source = "ICD-10-CM Official Guidelines I.B.2; CMS order files"
    concerns = "icd_flagged"

    def check(self, claim: Claim, facts: ClaimFacts) -> list[Finding]:
        return on_date_findings(self, facts, "header", _why)


def _why(verdict: IcdVerdict) -> str:
    if not verdict.children:
        return "is a header, not billable: it needs more characters"
    names = ", ".join(format_code(c) for c in verdict.children) + (", ..." if verdict.more else "")
    return f"is a header, not billable: it needs more characters ({names})"
