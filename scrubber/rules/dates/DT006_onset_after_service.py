"""DT006: an onset or initial-treatment date after the service."""

from __future__ import annotations

from scrubber.findings import Finding
from scrubber.rules.base import Rule
from scrubber.rules.facts import ClaimFacts
from scrubber.rules.dates._common import dated_after_service
from scrubber.x12.model import Claim

WHAT = {"431": "onset of current illness or symptom", "454": "initial treatment"}


class OnsetAfterService(Rule):
    """An onset date (DTP*431) or initial-treatment date (DTP*454) after the service.

    ## What it does
    Compares the claim's onset of current illness (2300 DTP*431) and initial treatment date
    (2300 or 2400 DTP*454) with the dates of service: a 2300 date with the claim's earliest date
    of service, a 2400 date with its own line's date. Flags one that is later.

    ## Why is this bad
    A condition starts, and its treatment begins, on or before the visits billed for it; a later
    date is a keying error, and payers that use these dates (chiropractic, therapy, accident
    claims) reject or pend the claim. A warning: the service date may be the wrong one.

    ## Example
    `DTP*431*D8*20250401~` (2300) with lines dated 2025-03-10.

    ## Use instead
    `DTP*431*D8*20250301~`

    ## References
    005010X222A1 2300 DTP Date - Onset of Current Illness or Symptom (431), Date - Initial
    Treatment Date (454); 2400 DTP*454.
    """

    code = "DT006"
    concerns = "other_dates_sent"
    name = "onset-after-service"
    summary = "onset (DTP*431) or initial treatment date (DTP*454) after the date of service"
    severity = "warning"
    ack = "A7:187"
    source = "005010X222A1 2300 DTP*431/*454, 2400 DTP*454"

    def check(self, claim: Claim, facts: ClaimFacts) -> list[Finding] | tuple:
        return [self.finding(
            seg,
            f"The {WHAT[qualifier]} date (DTP*{qualifier}) {when.isoformat()} is after {whose} "
            f"{service.isoformat()}; one of the two dates is wrong.",
            element="DTP03", value=seg.el(3),
        ) for seg, qualifier, when, service, whose in dated_after_service(facts, WHAT, latest=False)]
