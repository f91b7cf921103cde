"""TF001: date of service older than the timely-filing limit (default 365 days before the as-of date)."""

from __future__ import annotations

from scrubber.findings import Finding
from scrubber.rules.base import Rule
from scrubber.rules.facts import ClaimFacts
import scrubber.rules.dates._common  # noqa: F401 - declares facts.service_span
from scrubber.x12.model import Claim

DEFAULT_TIMELY_FILING_DAYS = 365


def _limit(value) -> int:
    try:
        days = int(value)
    except (TypeError, ValueError):
        return DEFAULT_TIMELY_FILING_DAYS
    return days if days > 0 else DEFAULT_TIMELY_FILING_DAYS


class TimelyFiling(Rule):
    """Date of service older than the timely-filing limit (default 365 days before the as-of date).

    ## What it does
    Counts the days from each date of service (the end of a range) to the as-of date and flags
    the oldest one past the limit: `timely_filing_days` in the configuration's `[options]`
    (default 365, Medicare's one calendar year). A warning by default, since limits are
    payer-specific (raise it to an error per payer in `[payers.ID.rules.severity]`).

    ## Why is this bad
    A claim filed after the payer's limit is denied (CARC 29) and cannot be billed to the patient.

    ## Example
    `DTP*472*D8*20240110~` scrubbed as of 2025-06-01 (508 days).

    ## Use instead
    File within the limit; with proof of timely filing, attach it as the payer requires.

    ## References
    42 CFR 424.44 (Medicare: 12 months from the date of service); payer contracts.
    """

    code = "TF001"
    concerns = "filed_late"
    name = "timely-filing"
    summary = "date of service older than the timely-filing limit (default 365 days)"
    severity = "warning"
    source = "42 CFR 424.44; option timely_filing_days"

    def check(self, claim: Claim, facts: ClaimFacts) -> list[Finding] | tuple:
        oldest = facts.service_span.oldest
        if oldest is None:
            return ()
        when, seg = oldest
        days = (facts.as_of - when).days
        if days <= DEFAULT_TIMELY_FILING_DAYS and "timely_filing_days" not in facts.options:
            return ()
        limit = _limit(facts.options.get("timely_filing_days", DEFAULT_TIMELY_FILING_DAYS))
        if days <= limit:
            return ()
        dates = facts.dates
        return [self.finding(
            seg,
            f"Date of service {when.isoformat()} ({dates.label(seg)}) is {days} days before the as-of date "
            f"{facts.as_of.isoformat()}, past the timely-filing limit of {limit} days.",
            element="DTP03",
            value=seg.el(3),
        )]
