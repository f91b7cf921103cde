"""DT002: a date that is not a calendar date (20250230), or a date range that ends before it starts."""

from __future__ import annotations

from scrubber.findings import Finding
from scrubber.rules.base import Rule
from scrubber.rules.facts import ClaimFacts
from scrubber.x12.model import Claim, parse_date, parse_date_period


class DateImpossible(Rule):
    """A date that is not a calendar date (20250230), or a date range that ends before it starts.

    ## What it does
    Reads every DTP date of the claim in format D8 (CCYYMMDD) or RD8 (CCYYMMDD-CCYYMMDD) and flags
    a date that does not exist, a malformed value, or a range whose end precedes its start.

    ## Why is this bad
    The payer cannot date the service; the claim is rejected (277CA A7:187 for service dates).

    ## Example
    `DTP*472*D8*20250230~`

    ## Use instead
    `DTP*472*D8*20250228~`

    ## References
    005010X222A1 DTP02 (D8, RD8) and DTP03.
    """

    code = "DT002"
    concerns = "dates_odd"
    name = "date-impossible"
    summary = "a DTP date is not a real date (or a range ends before it starts)"
    ack = "A7:187"
    source = "005010X222A1 DTP02/DTP03"

    def check(self, claim: Claim, facts: ClaimFacts) -> list[Finding] | tuple:
        dates = facts.dates
        for seg in dates.dtps:  # the common case first: every date a D8 calendar date
            elements = seg.elements
            if len(elements) < 4 or elements[2] != "D8" or parse_date(elements[3]) is None:
                break
        else:
            return ()
        out = []
        for seg in dates.dtps:
            fmt, text = seg.el(2), seg.el(3)
            if fmt == "D8":
                if parse_date(text) is not None:
                    continue
                problem = f"is {text!r}, not a calendar date (CCYYMMDD)"
            elif fmt != "RD8":
                continue
            elif "-" not in text:
                problem = f"is {text!r}, not a range CCYYMMDD-CCYYMMDD"
            else:
                start, end = parse_date_period(fmt, text)
                if start is None or end is None:
                    problem = f"is {text!r}, not a calendar date (CCYYMMDD)"
                elif end < start:
                    problem = f"is {text!r}: the range ends before it starts"
                else:
                    continue
            out.append(self.finding(seg, f"Date DTP*{seg.el(1)} in {dates.label(seg)} {problem}.", element="DTP03",
                                    value=text or None))
        return out
