"""What the date rules share: one pass over the claim's dates of service (DTP*472), kept with the
claim's facts, that DT003, DT004 and TF001 read instead of each walking them again; and the
claim's other dates (onset, initial treatment, last seen, last X-ray) that DT006-DT008 read."""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

from scrubber.rules.facts import ClaimFacts, claim_fact, dtp_facts
from scrubber.x12.reader import Segment



class ServiceSpan(NamedTuple):
    """``first``: the earliest start of a DTP*472 (claim or line); ``latest``: the latest of their
    last days (the end of a range, else the start); ``oldest``: the earliest last day and its DTP
    (the first such DTP in claim order), None when no DTP*472 has a date."""

    first: date | None
    latest: date | None
    oldest: tuple[date, Segment] | None


@claim_fact
def service_span(facts: ClaimFacts) -> ServiceSpan:
    dates = facts.dates  # (the claim pass reads the span with the dates)
    return ServiceSpan(dates.first_start, dates.latest, dates.oldest)


@claim_fact
def other_dates(facts: ClaimFacts) -> list[tuple[Segment, str, date | None, int]]:
    """(DTP segment, qualifier, date, service line number or 0) of every DTP other than 472."""
    out = []
    for seg, number in facts.claim.dated:
        qualifier = seg.el(1)
        if qualifier == "472":
            continue
        start = dtp_facts(seg)[2]
        out.append((seg, qualifier, start, number if seg.loop.startswith("24") else 0))
    return out


def dated_after_service(facts: ClaimFacts, qualifiers, latest: bool):
    """The DTPs of ``qualifiers`` dated after the service they speak of, as ``(segment, qualifier,
    date, date of service, whose)``: a line's DTP against that line's date of service, a claim's
    against the claim's first date of service (its last with ``latest``)."""
    for seg, qualifier, when, number in facts.other_dates:
        if qualifier not in qualifiers or when is None:
            continue
        dates = facts.dates
        if number:
            service = dates.line_dates[number - 1]
        else:
            service = facts.service_span.latest if latest else dates.first
        if service is None or when <= service:
            continue
        whose = (f"service line {number}'s date of service" if number
                 else f"the claim's {'last' if latest else 'first'} date of service")
        yield seg, qualifier, when, service, whose
