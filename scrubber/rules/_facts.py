"""Per-claim facts shared by several rule families, computed once per claim.

The engine runs every rule on one claim before the next claim, so the facts of the last claim
are kept in the context (``ctx.maps``) and reused by the following rules; only one claim's facts
are ever held. Dates are parsed by the model (model.parse_date caches them).
"""

from __future__ import annotations

from datetime import date

from ..model import Claim, ServiceLine, parse_date_period
from ..reader import Segment
from .base import Context

class ClaimDates:
    """The claim's DTP segments and dates of service.

    ``service``: (DTP*472 segment, start, end) for the claim (2300) and the lines; ``line_dates``:
    each line's date of service (its own DTP*472 start, else the claim's); ``first``: the earliest
    of them; ``label(seg)``: "service line N" or "the claim", for messages.
    """

    __slots__ = ("dtps", "service", "where", "claim_level", "claim_start", "line_dates", "dated_lines", "first")

    def __init__(self, claim: Claim) -> None:
        self.dtps: list[Segment] = []
        self.service: list[tuple[Segment, date | None, date | None]] = []
        self.where: dict[int, int] = {}  # id(DTP segment) -> its service line number
        self.claim_start: date | None = None
        self.claim_level = False
        own: dict[int, date | None] = {}
        self.dated_lines: set[int] = set()
        dtps, service, where = self.dtps, self.service, self.where
        # The model notes each DTP with the service line it is in (the model starts one at each LX).
        for seg, number in claim.dated:
            in_line = number > 0 and seg.loop.startswith("24")
            dtps.append(seg)
            if in_line:
                where[id(seg)] = number
            if seg.el(1) != "472":
                continue
            start, end = parse_date_period(seg.el(2), seg.el(3))
            service.append((seg, start, end))
            if not in_line:
                if seg.loop == "2300" and not self.claim_level:
                    self.claim_level = True
                    self.claim_start = start
            elif number not in own:
                own[number] = start
                self.dated_lines.add(number)
        self.line_dates: list[date | None] = [
            own.get(line.number) or self.claim_start for line in claim.lines
        ]
        known = [d for d in self.line_dates if d is not None]
        self.first = min(known) if known else self.claim_start

    def label(self, seg: Segment) -> str:
        number = self.where.get(id(seg))
        return "the claim" if number is None else f"service line {number}"


def claim_dates(claim: Claim, ctx: Context) -> ClaimDates:
    slot = ctx.maps.get("claim-dates")
    if slot is not None and slot[0] is claim:
        return slot[1]
    dates = ClaimDates(claim)
    ctx.maps["claim-dates"] = (claim, dates)  # only the last claim is kept
    return dates


def dated_lines(claim: Claim, ctx: Context) -> list[tuple[ServiceLine, str, date | None]]:
    """Each service line with an SV1 as ``(line, procedure, date of service)``: the line's DTP*472,
    else the claim's (None when neither). Read once per claim for every rule family that needs it
    (only the last claim is kept)."""
    slot = ctx.maps.get("dated-lines")
    if slot is not None and slot[0] is claim:
        return slot[1]
    claim_date = None
    lines: list[tuple[ServiceLine, str, date | None]] = []
    for line in claim.lines:
        if line.sv1 is None:
            continue
        d = line.service_date
        if d is None:
            if claim_date is None:
                claim_date = claim.claim_dates()[0] or False
            d = claim_date or None
        lines.append((line, line.procedure, d))
    ctx.maps["dated-lines"] = (claim, lines)
    return lines
