"""NC004: timed therapy units that do not match the minutes given (8-minute rule)."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date
from decimal import Decimal

from scrubber.findings import Finding
from scrubber.rules.backpain._common import BackpainRule
from scrubber.rules.facts import ClaimFacts
from scrubber.rules.ncci._common import units
from scrubber.x12.model import Claim, ServiceLine

_MINUTES_NOTE = re.compile(r"^\s*(?:TIMED\s+)?MIN(?:UTES|S)?\s*[:=]?\s*(\d{1,4})\b", re.IGNORECASE)


def _minutes(line: ServiceLine) -> int | None:
    """Minutes given for a line: SV103 MJ (SV104 = minutes), or a 2400 NTE*ADD "MINUTES nn"."""
    if line.sv1.el(3) == "MJ":
        count = units(line)
        return int(count) if count is not None else None
    for seg in line.segments:
        if seg.id == "NTE" and seg.el(1) == "ADD":
            m = _MINUTES_NOTE.match(seg.el(2))
            if m:
                return int(m.group(1))
    return None


class TimedTherapyUnits(BackpainRule):
    """Timed therapy units that do not match the minutes given (8-minute rule).

    ## What it does
    For the timed therapy codes of `maps/backpain/timed.toml` (97110, 97112, 97140, 97530 ...),
    where minutes are given, adds the minutes of all such lines of one date of service and
    compares the 15-minute units billed (SV104 with SV103 = UN) with the units the minutes allow:
    8-22 minutes = 1 unit, 23-37 = 2, 38-52 = 3, and so on; under 8 minutes, none.

    Minutes are given by a line that carries SV103 = MJ (SV104 is then minutes, and the line
    bills no unit) or a 2400 note `NTE*ADD*MINUTES 38` (also `MIN 38`, `TIMED MINUTES: 38`).
    Lines without minutes are not checked.

    ## Why is this bad
    Medicare and most payers pay timed codes in 15-minute units set by the total timed minutes of
    the day; more units than the minutes allow is overbilling, fewer leaves money unbilled, and
    minutes sent as units (SV103 MJ) are refused for these codes.

    ## Example
    `SV1*HC:97110*120*UN*3***1~` `NTE*ADD*MINUTES 30~` (30 minutes allow 2 units)

    ## Use instead
    `SV1*HC:97110*80*UN*2***1~` `NTE*ADD*MINUTES 30~`

    ## References
    CMS Pub. 100-04 Medicare Claims Processing Manual ch. 5 sec. 20.2.
    """

    code = "NC004"
    name = "timed-therapy-units"
    summary = "timed therapy units inconsistent with the minutes given (8-minute rule)"
    source = "CMS Pub. 100-04 ch. 5 sec. 20.2; maps/backpain/timed.toml"
    map_files = ("timed.toml",)
    concerns = "minutes_given"

    def check(self, claim: Claim, facts: ClaimFacts) -> list[Finding] | tuple:
        f = facts.backpain
        maps = f.maps
        timed = maps.timed
        lines = [item for item in f.lines if item[1] in timed]
        if not lines:
            return ()
        given = [(line, m, d) for line, _, d in lines if (m := _minutes(line)) is not None]
        if not given:
            return ()
        missing = self.not_covered(claim, facts, lines=given)
        if missing:
            return [missing]
        per_day: dict[date | None, list[tuple[ServiceLine, int]]] = defaultdict(list)
        for line, m, d in given:
            entry = timed[line.procedure]
            if d is None or entry.in_effect(d):
                per_day[d].append((line, m))
        unit, least = maps.minutes_per_unit, maps.minimum_minutes
        out = []
        for d, items in per_day.items():
            minutes = sum(m for _, m in items)
            allowed = 0 if minutes < least else (minutes + unit - least) // unit
            billed = Decimal(0)
            in_minutes = []
            for line, _ in items:
                if line.sv1.el(3) == "MJ":
                    in_minutes.append(line)
                else:
                    billed += units(line) or 0
            if billed == allowed and not in_minutes:
                continue
            last = items[-1][0]
            codes = ", ".join(line.procedure for line, _ in items)
            if in_minutes:
                message = (f"Service line {in_minutes[0].number} ({in_minutes[0].procedure}) is billed in minutes "
                           f"(SV103 MJ); timed codes are billed in {unit}-minute units: {minutes} timed minutes on "
                           f"{d.isoformat() if d else 'this date'} ({codes}) allow {allowed} unit{'s' if allowed != 1 else ''}.")
                out.append(self.finding(in_minutes[0].sv1, message, element="SV103", value="MJ",
                                        severity=self.severity_for(timed[in_minutes[0].procedure])))
                continue
            out.append(self.finding(
                last.sv1,
                f"{minutes} timed minutes on {d.isoformat() if d else 'this date'} ({codes}) allow {allowed} "
                f"unit{'s' if allowed != 1 else ''} under the 8-minute rule, but {billed.normalize()} "
                f"{'are' if billed != 1 else 'is'} billed.",
                element="SV104", value=str(billed.normalize()), severity=self.severity_for(timed[last.procedure]),
            ))
        return out
