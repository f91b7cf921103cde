"""DT007: a last-seen date after the date of service."""

from __future__ import annotations

from scrubber.findings import Finding
from scrubber.rules.base import Rule
from scrubber.rules.facts import ClaimFacts
from scrubber.rules.dates._common import dated_after_service
from scrubber.x12.model import Claim


class LastSeenAfterService(Rule):
    """A last-seen date (DTP*304) after the date of service.

    ## What it does
    Compares the date the patient was last seen by the attending or supervising physician
    (DTP*304) with the dates of service: a 2300 date with the claim's latest date of service, a
    2400 date with its own line's date. Flags one that is later.

    ## Why is this bad
    The last-seen date is a visit before the services billed (routine foot care, therapy under a
    physician's plan); one after them is a keying error, and payers that require it deny the
    claim. A warning: the service date may be the wrong one.

    ## Example
    `DTP*304*D8*20250501~` (2300) with lines dated 2025-03-10 and 2025-03-11.

    ## Use instead
    `DTP*304*D8*20250301~`

    ## References
    005010X222A1 2300 and 2400 DTP Date - Last Seen Date (304).
    """

    code = "DT007"
    concerns = "other_dates_sent"
    name = "last-seen-after-service"
    summary = "last seen date (DTP*304) after the date of service"
    severity = "warning"
    ack = "A7:187"
    source = "005010X222A1 2300/2400 DTP*304"

    def check(self, claim: Claim, facts: ClaimFacts) -> list[Finding] | tuple:
        return [self.finding(
            seg,
            f"The last seen date (DTP*304) {when.isoformat()} is after {whose} {service.isoformat()}; "
            f"it is a visit before the services billed.",
            element="DTP03", value=seg.el(3),
        ) for seg, _, when, service, whose in dated_after_service(facts, ("304",), latest=True)]
