"""DX101: a diagnosis code that does not exist in ICD-10-CM."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrubber.rules.base import Rule
from scrubber.rules.diagnosis._common import on_date_findings

if TYPE_CHECKING:
    from scrubber.findings import Finding
    from scrubber.rules.facts import ClaimFacts, IcdVerdict
    from scrubber.x12.model import Claim


class CodeUnknown(Rule):
    """Diagnosis code that does not exist in ICD-10-CM.

    ## What it does
    Looks up each ABK/ABF code (principal, and those the service lines point at) in the CMS
    ICD-10-CM code set of the fiscal year of the line's date of service; flags a code that is in
    no loaded fiscal year at all (a typo, an ICD-9 code under an ICD-10 qualifier, a made-up code).

    ## Why is this bad
    The payer's front end rejects a claim with an invalid diagnosis (277CA A7:255).

    ## Example
    `HI*ABK:M5499~` (no such code)

    ## Use instead
    `HI*ABK:M5450~`

    ## References
    CMS ICD-10-CM code files (maps/icd10cm/SOURCE.md); 005010X222A1 2300 HI.
    """

    code = "DX101"
    name = "icd10-unknown"
    summary = "diagnosis code does not exist in ICD-10-CM"
    ack = "A7:255"
    source = "CMS ICD-10-CM order files, FY of the date of service"
    concerns = "icd_flagged"

    def check(self, claim: Claim, facts: ClaimFacts) -> list[Finding]:
        return on_date_findings(self, facts, "unknown", _why)


def _why(verdict: IcdVerdict) -> str:
    return "does not exist in ICD-10-CM"
