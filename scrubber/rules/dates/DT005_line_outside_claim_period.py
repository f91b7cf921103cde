"""DT005: a line's date of service outside the claim-level service period."""

from __future__ import annotations

from scrubber.findings import Finding
from scrubber.rules.base import Rule
from scrubber.rules.facts import ClaimFacts
from scrubber.x12.model import Claim


class LineOutsideClaimPeriod(Rule):
    """A service line's date of service outside the claim-level service period.

    ## What it does
    When the claim (2300) gives a service period (DTP*472, a date or an RD8 range), flags a line
    whose own DTP*472 starts before the period or ends after it.

    ## Why is this bad
    The claim's period is meant to cover every line; a line outside it is a keying error in one
    of the two dates, and payers reject the claim (277CA A7:187).

    ## Example
    `DTP*472*RD8*20250301-20250315~` (2300) ... `DTP*472*D8*20250320~` (2400)

    ## Use instead
    A line date within the period, or a period that covers all the lines.

    ## References
    005010X222A1 2400 DTP*472 (service date) against the claim's service period; payer date edits.
    """

    code = "DT005"
    name = "line-outside-claim-period"
    summary = "service line date of service outside the claim-level service period"
    ack = "A7:187"
    source = "005010X222A1 2300/2400 DTP*472"
    concerns = "line_and_claim_dates"

    def check(self, claim: Claim, facts: ClaimFacts) -> list[Finding] | tuple:
        dates = facts.dates
        if not dates.claim_level:
            return ()
        start = end = None
        for seg, s, e in dates.service:
            if seg.loop == "2300":
                start, end = s, e or s
                break
        if start is None or end is None:
            return ()
        out = []
        for seg, s, e in dates.service:
            if not seg.loop.startswith("24") or s is None:
                continue
            last = e or s
            if s < start or last > end:
                out.append(self.finding(
                    seg,
                    f"Date of service {s.isoformat()} ({dates.label(seg)}) is outside the claim's service period "
                    f"{start.isoformat()} to {end.isoformat()} (2300 DTP*472); one of the two dates is wrong.",
                    element="DTP03", value=seg.el(3),
                ))
        return out
