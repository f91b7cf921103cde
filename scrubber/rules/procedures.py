"""Procedure against diagnosis and procedure against procedure for back-pain claims (PX, NC).

PX001-PX002: the pointed diagnosis supports the procedure (region maps; Medicare chiropractic
subluxation). NC001-NC004: NCCI procedure-to-procedure pairs (modifier indicator 0 and 1),
medically unlikely units per code per day, timed therapy units against the minutes given (8-minute
rule). All content is data in ``maps/backpain/`` (procedures.toml, ncci.toml, timed.toml).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from datetime import date
from decimal import Decimal, InvalidOperation

from ..findings import Finding
from ..model import Claim, ServiceLine
from .backpain import BackpainRule, dot, facts
from .base import Context

_MINUTES_NOTE = re.compile(r"^\s*(?:TIMED\s+)?MIN(?:UTES|S)?\s*[:=]?\s*(\d{1,4})\b", re.IGNORECASE)


_UNITS: dict[str, Decimal | None] = {}  # SV104 texts repeat: parsed once each (bounded)


def _units(line: ServiceLine) -> Decimal | None:
    text = line.sv1.el(4)
    try:
        return _UNITS[text]
    except KeyError:
        pass
    try:
        value = Decimal(text) if text else None
    except InvalidOperation:
        value = None
    if len(_UNITS) >= 4096:
        _UNITS.clear()
    _UNITS[text] = value
    return value


class ProcedureRegionSupport(BackpainRule):
    """Service line whose pointed diagnoses do not support the procedure's spinal region.

    ## What it does
    On a back-pain claim (one carrying a code of the back-pain family), flags a line whose
    procedure is in `maps/backpain/procedures.toml` ([[support]]) when none of its pointed
    diagnoses (SV107) is in the region the procedure needs: thoracic MRI 72146 and thoracic
    X-rays 72070-72074/72080 a thoracic diagnosis (M54.6, M54.14, M51.x4, S23.3- ...); lumbar MRI
    72148 a lumbar one; cervical MRI 72141 a cervical one; traction 97012 a cervical or lumbar
    one; therapy 97110/97112/97140/97530 and E/M 99202-99215 any musculoskeletal back diagnosis.

    ## Why is this bad
    Payers check that the diagnosis a line points at justifies the service (medical necessity).
    A thoracic MRI that points at low back pain is denied as not supported, even when the
    claim's HI carries a thoracic code elsewhere: the pointer decides.

    ## Example
    `HI*ABK:M5450*ABF:M546~` `SV1*HC:72146*850*UN*1***1~` (thoracic MRI pointing at low back pain)

    ## Use instead
    `SV1*HC:72146*850*UN*1***2~` (pointing at M54.6, pain in thoracic spine)

    ## References
    maps/backpain/procedures.toml (each entry names its source; entries without a public source
    give warnings only).
    """

    code = "PX001"
    name = "procedure-region-support"
    summary = "line's pointed diagnoses do not support the procedure's spinal region"
    source = "maps/backpain/procedures.toml [[support]] (the procedure's region; no LCD found listing diagnoses)"
    map_files = ("procedures.toml", "groups.toml")

    def check(self, claim: Claim, ctx: Context) -> Iterator[Finding]:
        f = facts(claim, ctx)
        if not f.in_scope:
            return
        maps = f.maps
        support = maps.support
        lines = [item for item in f.lines if item[1] in support]
        if not lines:
            return
        missing = self.not_covered(claim, ctx, [d for _, _, d in lines])
        if missing:
            yield missing
            return
        for line, proc, d in lines:
            requires, wanted, entry = support[proc]
            if d is not None and not entry.in_effect(d):
                continue
            dxs = f.pointed(line)
            if not dxs:
                continue  # no usable pointer: the DP rules speak for it
            match = requires.match
            for _, _, c in dxs:
                if match(c):
                    break
            else:  # none of the pointed diagnoses is in the region
                codes = ", ".join([dot(c) for _, _, c in dxs])
                yield self.finding(
                    line.sv1,
                    f"Service line {line.number} ({line.procedure}, {entry.label}) points at {codes}; it wants "
                    f"a {wanted}. Point it at one (or add one to HI).",
                    element="SV107-1", value=dxs[0][2], severity=self.severity_for(entry),
                )


class MedicareChiropracticSubluxation(BackpainRule):
    """Medicare chiropractic manipulation without a subluxation code as the line's first pointer.

    ## What it does
    On a Medicare Part B claim (2000B SBR09 = MB), flags a chiropractic manipulative treatment
    line (98940, 98941, 98942) whose FIRST diagnosis pointer (SV107-1) is not a subluxation code
    M99.00-M99.05 (segmental and somatic dysfunction of the head, cervical, thoracic, lumbar,
    sacral or pelvic region). Codes and payers are in `maps/backpain/procedures.toml`
    ([[first_pointer]]).

    ## Why is this bad
    Medicare pays chiropractic manipulation only to correct a subluxation of the spine, and
    requires the subluxation as the primary diagnosis of the service. The line is denied
    otherwise, so the claim is held back (error) to be fixed before it goes out.

    ## Example
    `SBR*P*18*******MB~` ... `HI*ABK:M5450*ABF:M9903~` `SV1*HC:98940*45*UN*1***1:2~`

    ## Use instead
    `SV1*HC:98940*45*UN*1***2:1~` (M99.03 first), or `HI*ABK:M9903*ABF:M5450~`.

    ## References
    CMS Pub. 100-04 Medicare Claims Processing Manual ch. 12 sec. 220; Pub. 100-02 Benefit Policy
    Manual ch. 15 sec. 240.1.2-240.1.3.
    """

    code = "PX002"
    name = "medicare-chiro-subluxation"
    summary = "Medicare 98940-98942 line whose first pointer is not a subluxation code M99.00-M99.05"
    severity = "error"
    ack = "A7:255"
    source = "CMS Pub. 100-04 ch. 12 sec. 220; Pub. 100-02 ch. 15 sec. 240.1.2-240.1.3; maps/backpain/procedures.toml"
    map_files = ("procedures.toml", "groups.toml")

    def check(self, claim: Claim, ctx: Context) -> Iterator[Finding]:
        f = facts(claim, ctx)
        maps = f.maps
        lines = [item for item in f.lines if item[1] in maps.first_pointer]
        if not lines:
            return
        sbr = claim.subscriber.first("SBR") if claim.subscriber is not None else None
        filing = sbr.el(9) if sbr is not None else ""
        lines = [item for item in lines if filing in maps.first_pointer[item[1]][0]]
        if not lines:
            return
        missing = self.not_covered(claim, ctx, [d for _, _, d in lines])
        if missing:
            yield missing
            return
        for line, proc, d in lines:
            _, requires, wanted, entry = maps.first_pointer[proc]
            if d is not None and not entry.in_effect(d):
                continue
            first = line.pointers[0] if line.pointers else ""
            if not (first.isdigit() and 1 <= int(first) <= 12):
                continue  # DP001/DP003 speak for it
            hit = f.code_at.get(int(first))
            if hit is None:
                continue  # DP002
            c = hit[1]
            if requires.match(c):
                continue
            yield self.finding(
                line.sv1,
                f"Service line {line.number} ({line.procedure}, {entry.label}) on a Medicare claim (SBR09 {filing}) "
                f"points first at {dot(c)}; Medicare wants a {wanted} as the first pointer.",
                element="SV107-1", value=c, severity=self.severity_for(entry),
            )


def _by_date(lines) -> dict[date | None, list[tuple[ServiceLine, str]]]:
    out: defaultdict[date | None, list[tuple[ServiceLine, str]]] = defaultdict(list)
    for line, proc, d in lines:
        if proc:
            out[d].append((line, proc))
    return out


def _dated(f) -> list[tuple[date | None, list[tuple[ServiceLine, str]], set[str]]]:
    """The claim's lines by date of service, with each date's procedures (once per claim)."""
    if f.by_date is None:
        f.by_date = [(d, lines, {proc for _, proc in lines}) for d, lines in _by_date(f.lines).items()]
    return f.by_date


class _PtpRule(BackpainRule):
    map_files = ("ncci.toml",)
    indicator = 0

    def check(self, claim: Claim, ctx: Context) -> Iterator[Finding]:
        f = facts(claim, ctx)
        maps = f.maps
        ptp = maps.ptp
        if ptp.keys().isdisjoint(f.procedures):
            return
        checked = False
        for d, lines, procedures in _dated(f):
            for line, proc in lines:
                for column1, indicator, entry in ptp.get(proc, ()):
                    if indicator != self.indicator or not (column1 & procedures):
                        continue
                    if not checked:
                        checked = True
                        missing = self.not_covered(claim, ctx, [d])
                        if missing:
                            yield missing
                            return
                    if d is not None and not entry.in_effect(d):
                        continue
                    col1 = min(column1 & procedures)
                    finding = self.pair_finding(line, col1, entry, maps.bypass_modifiers)
                    if finding is not None:
                        yield finding
                    break

    def pair_finding(self, line, col1, entry, bypass) -> Finding | None:  # pragma: no cover - interface
        raise NotImplementedError


class NcciPairNoModifier(_PtpRule):
    """NCCI procedure-to-procedure pair with modifier indicator 0 on one date (never payable together).

    ## What it does
    Flags the column-2 line of an NCCI PTP pair (maps/backpain/ncci.toml, modifier indicator 0)
    when its column-1 code is billed on the same date of service, for example two spinal
    manipulation levels (98941 and 98940). No modifier bypasses these pairs.

    ## Why is this bad
    The column-2 line is denied whatever modifier it carries: the two services are mutually
    exclusive or one includes the other. Default severity error: no documentation can fix it,
    the line must go (entries not checked against the CMS quarterly file give warnings only).

    ## Example
    `SV1*HC:98941*55*UN*1***1~` and `SV1*HC:98940*45*UN*1***1~` on the same date

    ## Use instead
    Bill the one manipulation level that counts every region treated: `SV1*HC:98941*55*UN*1***1~`.

    ## References
    CMS NCCI Policy Manual ch. 1 and ch. 11; Medicare NCCI PTP edits (practitioner), quarterly.
    """

    code = "NC001"
    name = "ncci-ptp-indicator-0"
    summary = "NCCI PTP pair with modifier indicator 0 billed on one date"
    severity = "error"
    source = "CMS NCCI PTP edits (practitioner); maps/backpain/ncci.toml"
    indicator = 0

    def pair_finding(self, line, col1, entry, bypass) -> Finding | None:
        return self.finding(
            line.sv1,
            f"Service line {line.number} ({line.procedure}) is billed on the same date as {col1}: an NCCI pair "
            f"with modifier indicator 0 ({entry.label}); no modifier makes it payable, remove the line.",
            element="SV101-2", value=line.procedure, severity=self.severity_for(entry),
        )


class NcciPairModifierMissing(_PtpRule):
    """NCCI procedure-to-procedure pair with modifier indicator 1 whose column-2 line has no 59/X{EPSU}.

    ## What it does
    Flags the column-2 line of an NCCI PTP pair (maps/backpain/ncci.toml, modifier indicator 1)
    billed on the same date as its column-1 code when the column-2 line carries none of the
    NCCI-associated modifiers 59, XE, XS, XP, XU: for example manual therapy 97140 with
    chiropractic manipulation 98940-98942, 97140 with therapeutic activities 97530, traction 97012
    with 97140.

    ## Why is this bad
    Without the modifier the column-2 line is denied as bundled. The modifier is allowed only when
    the record shows a distinct service (another region, another session), which only the
    provider can say: hence a warning.

    ## Example
    `SV1*HC:98940*45*UN*1***1~` and `SV1*HC:97140*40*UN*1***1~` on the same date

    ## Use instead
    `SV1*HC:97140:XS*40*UN*1***2~` when manual therapy treated a different region, or drop 97140.

    ## References
    CMS NCCI Policy Manual ch. 1 sec. E (modifiers 59 and X{EPSU}); Medicare NCCI PTP edits.
    """

    code = "NC002"
    name = "ncci-ptp-modifier-missing"
    summary = "NCCI PTP pair with modifier indicator 1: column-2 line lacks 59/XE/XS/XP/XU"
    source = "CMS NCCI PTP edits (practitioner); NCCI Policy Manual ch. 1; maps/backpain/ncci.toml"
    indicator = 1

    def pair_finding(self, line, col1, entry, bypass) -> Finding | None:
        if bypass & set(line.modifiers):
            return None
        return self.finding(
            line.sv1,
            f"Service line {line.number} ({line.procedure}) is billed on the same date as {col1}: an NCCI pair "
            f"({entry.label}); payable only with modifier {', '.join(sorted(bypass))} on this line when the record "
            f"shows a distinct service.",
            element="SV101-3", value=line.procedure, severity=self.severity_for(entry),
        )


class MedicallyUnlikelyUnits(BackpainRule):
    """More units of a code on one date than its medically unlikely edit (MUE) allows.

    ## What it does
    Adds the units (SV104, unit basis UN) of each code in `maps/backpain/ncci.toml` ([[mue]]) per
    date of service over the claim's lines and flags the code when the total exceeds its MUE
    value: e.g. more than 1 unit of 98940-98942, of a therapy evaluation 97161-97164, of a spine
    MRI (72141, 72146, 72148) or of traction 97012 on one date.

    ## Why is this bad
    Units above the MUE are denied (date-of-service MUEs deny the whole code for the day).
    It is almost always a keying error (units for minutes, a duplicated line). Default severity
    error; entries not checked against the CMS quarterly MUE file give warnings only.

    ## Example
    `SV1*HC:98941*55*UN*2***1~`

    ## Use instead
    `SV1*HC:98941*55*UN*1***1~`

    ## References
    CMS Medically Unlikely Edits, practitioner services table (quarterly); NCCI Policy Manual ch. 1.
    """

    code = "NC003"
    name = "mue-units"
    summary = "units of a code on one date above its medically unlikely edit"
    severity = "error"
    source = "CMS Medically Unlikely Edits (practitioner); maps/backpain/ncci.toml"
    map_files = ("ncci.toml",)

    def check(self, claim: Claim, ctx: Context) -> Iterator[Finding]:
        f = facts(claim, ctx)
        maps = f.maps
        mue = maps.mue
        lines = [item for item in f.lines if item[1] in mue]
        if not lines:
            return
        missing = self.not_covered(claim, ctx, [d for _, _, d in lines])
        if missing:
            yield missing
            return
        totals: dict[tuple[str, date | None], tuple[Decimal, ServiceLine]] = {}
        for line, proc, d in lines:
            if line.sv1.el(3) not in ("UN", ""):
                continue
            units = _units(line)
            if units is None:
                continue
            key = (proc, d)
            total = totals[key][0] + units if key in totals else units
            totals[key] = (total, line)
        for (procedure, d), (total, line) in totals.items():
            limit, entry = mue[procedure]
            if d is not None and not entry.in_effect(d):
                continue
            if total > limit:
                when = d.isoformat() if d else "one date"
                yield self.finding(
                    line.sv1,
                    f"{procedure} ({entry.label}) is billed for {total.normalize()} units on {when}; its medically "
                    f"unlikely edit allows {limit}.",
                    element="SV104", value=str(total.normalize()), severity=self.severity_for(entry),
                )


def _minutes(line: ServiceLine) -> int | None:
    """Minutes given for a line: SV103 MJ (SV104 = minutes), or a 2400 NTE*ADD "MINUTES nn"."""
    if line.sv1.el(3) == "MJ":
        units = _units(line)
        return int(units) if units is not None else None
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

    def check(self, claim: Claim, ctx: Context) -> Iterator[Finding]:
        f = facts(claim, ctx)
        maps = f.maps
        lines = [item for item in f.lines if item[1] in maps.timed]
        if not lines:
            return
        given = [(line, m, d) for line, _, d in lines if (m := _minutes(line)) is not None]
        if not given:
            return
        missing = self.not_covered(claim, ctx, [d for _, _, d in given])
        if missing:
            yield missing
            return
        per_day: dict[date | None, list[tuple[ServiceLine, int]]] = defaultdict(list)
        for line, m, d in given:
            entry = maps.timed[line.procedure]
            if d is None or entry.in_effect(d):
                per_day[d].append((line, m))
        unit, least = maps.minutes_per_unit, maps.minimum_minutes
        for d, items in per_day.items():
            minutes = sum(m for _, m in items)
            allowed = 0 if minutes < least else (minutes + unit - least) // unit
            billed = Decimal(0)
            in_minutes = []
            for line, _ in items:
                if line.sv1.el(3) == "MJ":
                    in_minutes.append(line)
                else:
                    billed += _units(line) or 0
            if billed == allowed and not in_minutes:
                continue
            last = items[-1][0]
            codes = ", ".join(line.procedure for line, _ in items)
            if in_minutes:
                message = (f"Service line {in_minutes[0].number} ({in_minutes[0].procedure}) is billed in minutes "
                           f"(SV103 MJ); timed codes are billed in {unit}-minute units: {minutes} timed minutes on "
                           f"{d.isoformat() if d else 'this date'} ({codes}) allow {allowed} unit{'s' if allowed != 1 else ''}.")
                yield self.finding(in_minutes[0].sv1, message, element="SV103", value="MJ",
                                   severity=self.severity_for(maps.timed[in_minutes[0].procedure]))
                continue
            yield self.finding(
                last.sv1,
                f"{minutes} timed minutes on {d.isoformat() if d else 'this date'} ({codes}) allow {allowed} "
                f"unit{'s' if allowed != 1 else ''} under the 8-minute rule, but {billed.normalize()} "
                f"{'are' if billed != 1 else 'is'} billed.",
                element="SV104", value=str(billed.normalize()), severity=self.severity_for(maps.timed[last.procedure]),
            )


RULES = [
    ProcedureRegionSupport,
    MedicareChiropracticSubluxation,
    NcciPairNoModifier,
    NcciPairModifierMissing,
    MedicallyUnlikelyUnits,
    TimedTherapyUnits,
]
