"""Procedure against diagnosis and procedure against procedure (PX, NC).

PX001-PX002 (back-pain claims): the pointed diagnosis supports the procedure (region maps;
Medicare chiropractic subluxation), from ``maps/backpain/procedures.toml``. NC001-NC003 (any
claim): NCCI procedure-to-procedure edits with modifier indicator 0 and 1, and medically unlikely
edits, from the CMS practitioner tables in ``maps/ncci/`` (:mod:`scrubber.codesets.ncci`, loaded
when a claim first needs them). NC004: timed therapy units against the minutes given (8-minute
rule), from ``maps/backpain/timed.toml``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import ClassVar

from scrubber.codesets.backpain import MapError
from scrubber.codesets.ncci import (
    MODIFIERS_NAME,
    MUE_NAME,
    MUE_TITLE,
    PTP_NAME,
    PTP_TITLE,
    Mue,
    Ncci,
    NcciError,
    load_ncci,
    quarter_age,
)
from scrubber.findings import Finding
from scrubber.x12.model import Claim, ServiceLine
from scrubber.rules.backpain import BackpainRule, dot
from scrubber.rules.base import Context, Rule

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
        f = ctx.backpain
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
        f = ctx.backpain
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


# --- NCCI (NC001-NC003): the CMS practitioner PTP and MUE tables of maps/ncci/, for any claim -----


def _plain(value: Decimal) -> str:
    """``Decimal("10")`` -> ``"10"``, ``Decimal("1.50")`` -> ``"1.5"`` (no exponent)."""
    return format(value.normalize(), "f")


class _NcciRule(Rule):
    """Shared plumbing of the NCCI rules (not itself a rule): the tables, loaded on first use."""

    uses_ncci: ClassVar[bool] = True
    table_kind: ClassVar[str] = "PTP"
    map_files: ClassVar[tuple[str, ...]] = (f"ncci/{PTP_NAME}", f"ncci/{MODIFIERS_NAME}")

    @staticmethod
    def ncci(ctx: Context) -> Ncci | NcciError:
        """The NCCI tables (loaded once per run), or the error that keeps them from loading."""
        table = ctx.maps.get("ncci")
        if table is None:
            try:
                table = load_ncci()
            except NcciError as exc:
                table = exc
            ctx.maps["ncci"] = table
        return table

    def unreadable(self, claim: Claim, exc: NcciError) -> Finding:
        return self.finding(claim.clm, f"Claim {claim.claim_id}: {self.code} not checked: {exc}",
                            element="CLM01", severity="not_checked")

    @classmethod
    def explain_sources(cls) -> str:
        """The CMS table and quarter this rule reads (for --explain)."""
        try:
            n = load_ncci()
        except NcciError as exc:
            raise MapError(str(exc)) from None
        today = date.today()

        def age(quarter: date) -> str:
            k = quarter_age(quarter, today)
            return f" ({k} quarter{'s' if k != 1 else ''} old on {today.isoformat()})" if k else ""

        if cls.table_kind == "PTP":
            out = [
                f"Data: maps/ncci/{PTP_NAME} ({n.ptp_path})",
                f"  {PTP_TITLE}, quarter {n.ptp_quarter.isoformat()}{age(n.ptp_quarter)}: {n.ptp_rows:,} edits "
                f"with modifier indicator 0 or 1, {n.ptp_active:,} active pairs",
                f"  source: {n.ptp_source}",
                f"  inputs: {'; '.join(i.split(' sha256=')[0] for i in n.ptp_inputs)}",
            ]
        else:
            out = [
                f"Data: maps/ncci/{MUE_NAME} ({n.mue_path})",
                f"  {MUE_TITLE}, quarter {n.mue_quarter.isoformat()}{age(n.mue_quarter)}: {n.mue_rows:,} codes",
                f"  source: {n.mue_source}",
                f"  inputs: {'; '.join(i.split(' sha256=')[0] for i in n.mue_inputs)}",
            ]
        out.append("  NCCI quarters replace each other and have no end date: a later date of service is checked "
                   "against the newest quarter loaded (maps/ncci/SOURCE.md says how to load a newer one).")
        if cls.table_kind == "PTP":
            b = n.bypass
            out.append(f"Data: maps/ncci/{MODIFIERS_NAME} ({b.path}): {b.title}; from {b.effective_from.isoformat()}")
            out.append(f"  source: {b.source}")
            for rule in b.rules:
                where = f"a column-2 line {rule.low}-{rule.high}" if rule.low else "any column-2 line"
                out.append(f"  - {', '.join(sorted(rule.modifiers))} on {where}: {rule.label} ({rule.source})")
        return "\n".join(out)


class _PtpRule(_NcciRule):
    indicator: ClassVar[int] = 0

    def check(self, claim: Claim, ctx: Context) -> Iterator[Finding]:
        found = ctx.ncci_lines
        if not found.multi:
            return  # no date with two different procedures: no pair to look up
        n = self.ncci(ctx)
        if isinstance(n, NcciError):
            yield self.unreadable(claim, n)
            return
        wanted = self.indicator + 2  # index in the hit tuple
        # One finding per column-2 line and indicator (the bypass modifiers depend on the line alone).
        for hit in found.ptp_hits(n):
            edit = hit[wanted]
            if edit is not None:
                finding = self.pair_finding(hit[0], edit[0], hit[1], edit[1], n, ctx)
                if finding is not None:
                    yield finding

    def pair_finding(self, line: ServiceLine, column1: str, d: date | None, rationale: str, n: Ncci,
                     ctx: Context) -> Finding | None:  # pragma: no cover - interface
        raise NotImplementedError


def _either(modifiers) -> str:
    """``{"XS", "59", "XE"}`` -> ``"59, XE or XS"``."""
    items = sorted(set(modifiers))
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} or {items[-1]}"


def _when(d: date | None) -> str:
    return d.isoformat() if d is not None else "the claim's date"


class NcciPairNoModifier(_PtpRule):
    """NCCI procedure-to-procedure edit with modifier indicator 0 on one date (never payable together).

    ## What it does
    On any claim, flags a service line whose procedure is the column-2 code of an NCCI PTP edit with
    modifier indicator 0 when the edit's column-1 code is billed on the same date of service. The
    edits are the CMS Medicare NCCI PTP table for practitioner services (`maps/ncci/`, one quarter;
    a later date of service is checked against the newest quarter loaded, and a deleted edit only
    counts up to its deletion date). Examples: chiropractic manipulation 98940-98942 with a
    physical therapy evaluation 97161-97164, two manipulation levels (98941 with 98940), two
    evaluation levels. The finding names the quarter checked against and its age.

    ## Why is this bad
    The column-2 line is denied whatever modifier it carries: CMS considers the two services
    mutually exclusive, or one part of the other. No documentation makes it payable, so the claim
    is held back (error) until the line is removed or corrected.

    ## Example
    `SV1*HC:98940*45*UN*1***1~` and `SV1*HC:97161*120*UN*1***1~` on the same date

    ## Use instead
    Bill the service that was performed (the manipulation, or the evaluation on another date):
    `SV1*HC:98940*45*UN*1***1~` alone.

    ## References
    CMS NCCI Policy Manual for Medicare Services ch. 1 sec. E and ch. 11; CMS Medicare NCCI PTP edits,
    practitioner services (quarterly): maps/ncci/ptp_practitioner.tsv, see maps/ncci/SOURCE.md.
    """

    code = "NC001"
    name = "ncci-ptp-indicator-0"
    summary = "NCCI PTP pair with modifier indicator 0 billed on one date"
    severity = "error"
    source = "CMS Medicare NCCI PTP edits, practitioner services (quarterly table, maps/ncci/ptp_practitioner.tsv)"
    indicator = 0

    def pair_finding(self, line, column1, d, rationale, n, ctx) -> Finding | None:
        return self.finding(
            line.sv1,
            f"Service line {line.number} ({line.procedure}) is billed on {_when(d)} with {column1}: an NCCI PTP edit "
            f"with modifier indicator 0 ({rationale}) denies it whatever its modifiers; remove or correct the line "
            f"{n.note('PTP', ctx.as_of)}.",
            element="SV101-2", value=line.procedure,
        )


class NcciPairModifierMissing(_PtpRule):
    """NCCI procedure-to-procedure edit with modifier indicator 1 whose column-2 line has no bypass modifier.

    ## What it does
    On any claim, flags a service line whose procedure is the column-2 code of an NCCI PTP edit with
    modifier indicator 1 when the edit's column-1 code is billed on the same date of service and the
    line carries no modifier that bypasses the edit: 59, XE, XS, XP or XU on any line, and also 25
    on an E/M line (99202-99499), as listed in `maps/ncci/modifiers.toml`. The edits are the CMS
    Medicare NCCI PTP table for practitioner services (`maps/ncci/`), as for NC001. Examples:
    manual therapy 97140 with manipulation 98940-98942 or with traction 97012 (column 1); an office
    visit 99202-99215 with manipulation 98940-98942 or with a therapy evaluation 97161-97164.

    ## Why is this bad
    Without the modifier the column-2 line is denied as bundled into the column-1 service. The
    modifier is allowed only when the record shows a distinct service (another region, encounter
    or session) or, for an E/M visit, a significant, separately identifiable evaluation beyond the
    usual one of the procedure. Only the provider can say so: hence a warning.

    ## Example
    `SV1*HC:98940*45*UN*1***1~` and `SV1*HC:99213*100*UN*1***1~` on the same date

    ## Use instead
    `SV1*HC:99213:25*100*UN*1***1~` when the visit was a separately identifiable E/M service, or
    `SV1*HC:97140:XS*40*UN*1***1~` (with 98940) when manual therapy treated another region; else
    drop the column-2 line.

    ## References
    CMS NCCI Policy Manual for Medicare Services ch. 1 sec. E (modifiers 59, XE, XS, XP, XU, 25) and
    ch. 11; CMS Medicare NCCI PTP edits, practitioner services: maps/ncci/ptp_practitioner.tsv,
    maps/ncci/modifiers.toml, see maps/ncci/SOURCE.md.
    """

    code = "NC002"
    name = "ncci-ptp-modifier-missing"
    summary = "NCCI PTP pair with modifier indicator 1: column-2 line lacks 59/XE/XS/XP/XU (25 on E/M)"
    severity = "warning"
    source = ("CMS Medicare NCCI PTP edits, practitioner services (quarterly table, maps/ncci/ptp_practitioner.tsv); "
              "NCCI Policy Manual ch. 1 sec. E and ch. 11 (maps/ncci/modifiers.toml)")
    indicator = 1

    def pair_finding(self, line, column1, d, rationale, n, ctx) -> Finding | None:
        proc = line.procedure
        bypass = n.bypass.for_code(proc)
        if not bypass.isdisjoint(line.modifiers):
            return None
        special = [f"{_either(r.modifiers)} ({r.label})" for r in n.bypass.rules if r.low and r.covers(proc)]
        plain = _either(m for r in n.bypass.rules if not r.low for m in r.modifiers)
        ways = (f"{'; or '.join(special)}; or {plain} (a distinct service)" if special
                else f"{plain}, when the record shows a distinct service")
        return self.finding(
            line.sv1,
            f"Service line {line.number} ({proc}) is billed on {_when(d)} with {column1}: an NCCI PTP edit with "
            f"modifier indicator 1 ({rationale}); the line is payable only with modifier {ways} "
            f"{n.note('PTP', ctx.as_of)}.",
            element="SV101-3", value=proc,
        )


class MedicallyUnlikelyUnits(_NcciRule):
    """More units of a code than its medically unlikely edit (MUE) allows, per line or per date.

    ## What it does
    On any claim, compares the units billed (SV104 with SV103 = UN) of each code with its MUE in
    the CMS Medicare NCCI MUE table for practitioner services (`maps/ncci/`, one quarter; a later
    date of service is checked against it). MUE adjudication indicator (MAI) 1 is a per-line edit:
    each line's units are compared. MAI 2 and 3 are per date of service: the units of the code on
    all the claim's lines of one date are added up. An MUE value of 0 means no unit is payable.
    Examples: 97110, 97140 and 97530 allow 6 units a day, 97112 4, 98940-98942 and the therapy
    evaluations 97161-97164 1. The finding names the quarter checked against and its age.

    ## Why is this bad
    Units above the MUE are denied (a date-of-service MUE denies all the code's units of the day).
    It is almost always a keying error: minutes sent as units, a line sent twice. Hence an error.

    ## Example
    `SV1*HC:97110*320*UN*8***1~` (8 units on one date; the MUE is 6)

    ## Use instead
    `SV1*HC:97110*240*UN*6***1~`, the units the record supports (15-minute units, see NC004)

    ## References
    CMS Medicare NCCI medically unlikely edits, practitioner services (quarterly): maps/ncci/mue_practitioner.tsv,
    see maps/ncci/SOURCE.md; CMS NCCI Policy Manual ch. 1.
    """

    code = "NC003"
    name = "mue-units"
    summary = "units of a code above its medically unlikely edit (per line, or per date of service)"
    severity = "error"
    source = "CMS Medicare NCCI MUE table, practitioner services (quarterly table, maps/ncci/mue_practitioner.tsv)"
    table_kind = "MUE"
    map_files = (f"ncci/{MUE_NAME}",)

    def check(self, claim: Claim, ctx: Context) -> Iterator[Finding]:
        found = ctx.ncci_lines
        if not found.lines:
            return
        n = self.ncci(ctx)
        if isinstance(n, NcciError):
            yield self.unreadable(claim, n)
            return
        mue_of = n.mue_raw
        totals: dict[tuple[str, date | None], tuple[Decimal, ServiceLine, Mue]] = {}
        for line, proc, d in found.lines:
            raw = mue_of(proc)
            if raw is None:
                continue
            if line.sv1.el(3) not in ("UN", ""):
                continue  # minutes (MJ): NC004 speaks for them
            mue = Mue(proc, *raw)
            units = _units(line)
            if units is None:
                continue  # not a number: ID004 speaks for it
            if mue.per_line:
                if units > mue.value:
                    yield self.units_finding(line, units, mue, d, ctx, n, per_line=True)
                continue
            key = (proc, d)
            if key in totals:
                totals[key] = (totals[key][0] + units, line, mue)
            else:
                totals[key] = (units, line, mue)
        for (_, d), (total, line, mue) in totals.items():
            if total > mue.value:
                yield self.units_finding(line, total, mue, d, ctx, n, per_line=False)

    def units_finding(self, line: ServiceLine, units: Decimal, mue: Mue, d: date | None, ctx: Context, n: Ncci,
                      per_line: bool) -> Finding:
        count = f"{_plain(units)} unit{'s' if units != 1 else ''}"
        allows = ("is 0: no unit of it is payable" if mue.value == 0 else
                  f"allows {mue.value} {'per line' if per_line else 'per date of service'}")
        what = (f"Service line {line.number} ({mue.code}) is billed for {count}" if per_line else
                f"{mue.code} is billed for {count} on {_when(d)}")
        return self.finding(
            line.sv1,
            f"{what}; its medically unlikely edit {allows} (MAI {mue.mai}, {mue.rationale or 'no rationale given'}) "
            f"{n.note('MUE', ctx.as_of)}.",
            element="SV104", value=_plain(units),
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
        f = ctx.backpain
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
