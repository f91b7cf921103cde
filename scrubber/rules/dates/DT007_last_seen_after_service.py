"""DT007: a last-seen date after the date of service."""

from __future__ import annotations

from scrubber.findings import Finding
from scrubber.rules.base import Rule
from scrubber.rules.facts import ClaimFacts
import scrubber.rules.dates._common  # noqa: F401 - declares facts.other_dates, facts.service_span
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
    name = "last-seen-after-service"
    summary = "last seen date (DTP*304) after the date of service"
    severity = "warning"
    ack = "A7:187"
    source = "005010X222A1 2300/2400 DTP*304"

    def check(self, claim: Claim, facts: ClaimFacts) -> list[Finding] | tuple:
        found = [item for item in facts.other_dates if item[1] == "304" and item[2] is not None]
        if not found:
            return ()
        dates = facts.dates
        out = []
        for seg, _, when, number in found:
            service = dates.line_dates[number - 1] if number else facts.service_span.latest
            if service is None or when <= service:
                continue
            whose = f"service line {number}'s date of service" if number else "the claim's last date of service"
            out.append(self.finding(
                seg,
                f"The last seen date (DTP*304) {when.isoformat()} is after {whose} {service.isoformat()}; "
                f"it is a visit before the services billed.",
                element="DTP03", value=seg.el(3),
            ))
        return out
