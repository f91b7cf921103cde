"""DT003: date of service after the as-of date (today, or --as-of)."""

from __future__ import annotations

from scrubber.findings import Finding
from scrubber.rules.base import Rule
from scrubber.rules.facts import ClaimFacts
import scrubber.rules.dates._common  # noqa: F401 - declares facts.service_span
from scrubber.x12.model import Claim


class ServiceDateFuture(Rule):
    """Date of service after the as-of date (today, or --as-of).

    ## What it does
    Flags a DTP*472 (claim or line) whose date, or the end of whose range, is after the as-of date.

    ## Why is this bad
    A service cannot be billed before it is rendered; payers reject future dates (277CA A7:187).

    ## Example
    `DTP*472*D8*20250710~` scrubbed as of 2025-06-01.

    ## Use instead
    Send the claim after the service, with the date it was rendered.

    ## References
    005010X222A1 2400 DTP*472; CMS Claims Processing Manual ch. 1 (claims for future services).
    """

    code = "DT003"
    concerns = "after_as_of"
    name = "service-date-future"
    summary = "date of service after the as-of date"
    ack = "A7:187"
    source = "005010X222A1 2400 DTP*472"

    def check(self, claim: Claim, facts: ClaimFacts) -> list[Finding] | tuple:
        as_of = facts.as_of
        latest = facts.service_span.latest
        if latest is None or latest <= as_of:
            return ()
        dates = facts.dates
        return [
            self.finding(
                seg,
                f"Date of service {last.isoformat()} ({dates.label(seg)}) is after the as-of date "
                f"{as_of.isoformat()}; a service is billed after it is rendered.",
                element="DTP03",
                value=seg.el(3),
            )
            for seg, start, end in dates.service
            if (last := end or start) is not None and last > as_of
        ]
