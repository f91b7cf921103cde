"""DX002: an ICD-9-CM qualifier (BK/BF) on a claim with dates of service from 2015-10-01."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from scrubber.rules.base import Rule
from scrubber.rules.diagnosis._common import ICD9_QUALIFIERS

if TYPE_CHECKING:
    from scrubber.findings import Finding
    from scrubber.rules.facts import ClaimFacts
    from scrubber.x12.model import Claim

ICD10_START = date(2015, 10, 1)  # ICD-10-CM replaced ICD-9-CM for dates of service from this day


class Icd9Qualifier(Rule):
    """ICD-9-CM qualifier (BK/BF) on a claim with dates of service from 2015-10-01.

    ## What it does
    Flags a diagnosis composite qualified BK or BF (ICD-9-CM) when a date of service of the claim
    is on or after 2015-10-01 (or the claim has no date at all).

    ## Why is this bad
    ICD-9-CM codes are not accepted for services from 2015-10-01 on; the claim is rejected
    (277CA A7:255).

    ## Example
    `HI*BK:7242*BF:7231~` with `DTP*472*D8*20250310~`

    ## Use instead
    `HI*ABK:M5450*ABF:M542~`

    ## References
    45 CFR 162.1002 (ICD-10-CM from October 1, 2015); 005010X222A1 2300 HI.
    """

    code = "DX002"
    name = "icd9-qualifier"
    summary = "ICD-9 qualifier BK/BF on a date of service from 2015-10-01"
    ack = "A7:255"
    source = "45 CFR 162.1002; 005010X222A1 2300 HI"
    concerns = "hi_suspect"

    def check(self, claim: Claim, facts: ClaimFacts) -> list[Finding] | tuple[()]:
        entries = [e for e in facts.hi_entries if e.qualifier in ICD9_QUALIFIERS]
        if not entries:
            return ()
        dates = [d for _, start, end in facts.dates.service for d in (start, end) if d is not None]
        latest = max(dates) if dates else None
        if latest is not None and latest < ICD10_START:
            return ()
        when = f"the date of service {latest.isoformat()}" if latest else "a claim with no date of service"
        return [
            self.finding(
                e.seg,
                f"Diagnosis {e.number} ({e.ref}) uses ICD-9-CM qualifier {e.qualifier} on {when}; from 2015-10-01 "
                f"diagnoses are ICD-10-CM ({'ABK' if e.number == 1 else 'ABF'}).",
                element=f"{e.ref}-1",
                value=e.qualifier,
            )
            for e in entries
        ]
