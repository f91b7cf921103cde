"""The facts several rules share about one claim, computed once per claim and on first use.

The engine makes one :class:`ClaimFacts` per claim and hands it to every rule with the claim.
Each fact is computed the first time a rule asks for it and kept for the other rules of the same
claim (never across claims): the dates of service of each line, the HI entries as sent, the
ICD-10-CM verdicts of the codes on their dates, the back-pain reading of the diagnoses, the
service lines by date for the NCCI pairs. Run-level things (the as-of date, options, limits and
the loaded maps) come from the run's :class:`~scrubber.rules.base.Context` through the same
object, so that a rule reads everything it needs from ``(claim, facts)``.
"""

from __future__ import annotations

import datetime
import re
from collections import defaultdict
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from scrubber.codesets.backpain import MAP_NAME, BackpainMaps, load_backpain_maps
from scrubber.codesets.icd10cm import format_code
from scrubber.codesets.icd10cm import normalize_code as norm
from scrubber.rules.base import Context
from scrubber.x12.model import Claim, Diagnosis, ServiceLine, parse_date_period
from scrubber.x12.reader import Segment

if TYPE_CHECKING:
    from scrubber.codesets.ncci import Ncci

_ICD10_QUALIFIERS = ("ABK", "ABF")
#: Diagnosis qualifiers an HI composite may carry (ICD-10-CM, ICD-9-CM, patient reason, external cause ...).
HI_QUALIFIERS = {"ABK", "ABF", "BK", "BF", "APR", "PR", "ABJ", "BJ", "ADD", "DR"}
_QUALIFIERS = HI_QUALIFIERS
MAX_CODES = 12  # HI positions on a claim
_MAX_CODES = MAX_CODES


class fact:  # noqa: N801 - used as a decorator, like functools.cached_property
    """A per-claim fact: computed on first access, then an attribute of the instance (a
    non-data descriptor, so later reads do not call it again; no lock, unlike cached_property)."""

    def __init__(self, fn):
        self.fn = fn
        self.name = fn.__name__
        self.__doc__ = fn.__doc__

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, obj, owner=None):
        if obj is None:
            return self
        value = obj.__dict__[self.name] = self.fn(obj)
        return value


class ClaimFacts:
    """The shared facts of one claim (see the module docstring), and the run's context."""

    def __init__(self, claim: Claim, context: Context):
        self.claim = claim
        self.context = context
        self.as_of = context.as_of
        self.options = context.options
        self.limits = context.limits
        self.maps = context.maps

    # Run-level things, as the context has them ---------------------------------------------------
    @property
    def icd10cm(self):
        return self.context.icd10cm

    def map(self, name: str, loader):
        return self.context.map(name, loader)

    # Per-claim facts ----------------------------------------------------------------------------
    @fact
    def dates(self) -> ClaimDates:
        """The claim's DTP segments and the date of service of each line (see :class:`ClaimDates`)."""
        return ClaimDates(self.claim)

    @fact
    def dated_lines(self) -> list[tuple[ServiceLine, str, date | None]]:
        """Each service line with an SV1 as ``(line, procedure, date of service)``: the line's
        DTP*472, else the claim's (None when neither)."""
        claim = self.claim
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
        return lines

    @fact
    def hi_entries(self) -> list[HiEntry]:
        """The claim's diagnosis composites as sent (qualifier and code, even when malformed)."""
        return read_hi_entries(self.claim)

    @fact
    def icd_findings(self) -> list[tuple]:
        """The ICD-10-CM verdicts of the claim's codes on their dates of service, as
        (rule, segment, message, element, value) tuples for DX101-DX110."""
        checker = self.maps.get("icd10cm-checker") or self.context.map("icd10cm-checker", IcdChecker)
        return checker.for_claim(self)

    @fact
    def backpain_maps(self) -> BackpainMaps:
        maps = self.maps.get(MAP_NAME)  # loaded once per run
        return maps if maps is not None else self.context.map(MAP_NAME, load_backpain_maps)

    @fact
    def backpain(self) -> BackpainFacts:
        """The claim's diagnoses as the back-pain rules read them (see :class:`BackpainFacts`)."""
        return BackpainFacts(self.claim, self.backpain_maps, self.dated_lines)

    @fact
    def ncci_lines(self) -> NcciLines:
        """The service lines by date of service, as the NCCI rules read them."""
        return NcciLines(self.claim, self.dated_lines)

    @fact
    def service_lines(self) -> list[ServiceLine]:
        """The lines that carry an SV1."""
        return [line for line in self.claim.lines if line.sv1 is not None]

    # Gates: boolean facts a rule names in ``concerns`` (the engine asks each once per claim) ------
    @fact
    def has_lines(self) -> bool:
        """The claim has at least one service line (LX or SV1)."""
        return bool(self.claim.lines)

    @fact
    def has_diagnoses(self) -> bool:
        """The claim has at least one HI segment."""
        return bool(self.claim.hi_segments)

    @fact
    def backpain_in_scope(self) -> bool:
        """A diagnosis of the claim is in the back-pain maps' scope."""
        return self.backpain.in_scope

    @fact
    def multi_procedure_dates(self) -> bool:
        """A date of service carries two or more different procedures (where an NCCI pair can be)."""
        return bool(self.ncci_lines.multi)


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



class HiEntry:
    """One diagnosis composite as sent: ``ref`` is ``HI03`` (its element), ``split`` when the
    qualifier and code came as two elements (``HI*BK*8901``)."""

    __slots__ = ("number", "seg", "element", "qualifier", "code", "split", "has_qualifier")

    def __init__(self, number: int, seg: Segment, element: int, qualifier: str, code: str, split: bool, has_qualifier: bool):
        self.number, self.seg, self.element = number, seg, element
        self.qualifier, self.code, self.split, self.has_qualifier = qualifier, code, split, has_qualifier

    @property
    def ref(self) -> str:
        return f"HI{self.element:02d}"



def read_hi_entries(claim: Claim) -> list[HiEntry]:
    out: list[HiEntry] = []
    number = 0
    for seg in claim.hi_segments:
        elements = seg.elements
        sep = seg.delims.component
        n = len(elements)
        i = 1
        while i < n:
            value = elements[i]
            if not value:
                i += 1
                continue
            parts = value.split(sep)
            number += 1
            if len(parts) == 1 and parts[0] in _QUALIFIERS and i + 1 < n and elements[i + 1] and sep not in elements[i + 1]:
                out.append(HiEntry(number, seg, i, parts[0], seg.el(i + 1), True, True))
                i += 2
                continue
            if len(parts) == 1:  # a code with no qualifier (or a qualifier with no code)
                if parts[0] in _QUALIFIERS:
                    out.append(HiEntry(number, seg, i, parts[0], "", False, True))
                else:
                    out.append(HiEntry(number, seg, i, "", parts[0], False, False))
            else:
                out.append(HiEntry(number, seg, i, parts[0], parts[1], False, True))
            i += 1
    return out



_WELL_FORMED_CODES: dict[str, bool] = {}  # code -> format_problem(code) is None (bounded cache)


def well_formed(code: str) -> bool:
    known = _WELL_FORMED_CODES.get(code)
    if known is None:
        if len(_WELL_FORMED_CODES) >= 8192:
            _WELL_FORMED_CODES.clear()
        known = _WELL_FORMED_CODES[code] = format_problem(code) is None
    return known


def format_problem(code: str) -> str | None:
    """Why a code as sent is not in the X12 form (upper case, no dot, no blanks), or None."""
    if not code:
        return "is empty"
    if "." in code:
        return f"has a decimal point ({code!r}); X12 carries ICD-10-CM codes without it ({code.replace('.', '').strip().upper()!r})"
    if code != code.strip() or " " in code:
        return f"has blanks ({code!r}); send the code alone ({code.replace(' ', '').upper()!r})"
    if code != code.upper():
        return f"is in lower case ({code!r}); send it in capitals ({code.upper()!r})"
    if not code.isascii() or not code.isalnum():
        return f"has characters other than letters and digits ({code!r})"
    return None



_CACHE_LIMIT = 50_000


class IcdChecker:
    """Looks up (code, fiscal year) once per run (kept in the run's maps); ``for_claim`` gives the
    ICD-10-CM findings of one claim as (rule, segment, message, element, value) tuples."""

    def __init__(self) -> None:
        self.verdicts: dict[tuple[str, int], tuple[str, str] | None] = {}

    def for_claim(self, facts: ClaimFacts) -> list[tuple]:
        return self._check(facts.claim, facts)

    def verdict(self, table, code: str, fy: int) -> tuple[str, str] | None:
        key = (code, fy)
        if key in self.verdicts:
            return self.verdicts[key]
        if len(self.verdicts) > _CACHE_LIMIT:
            self.verdicts.clear()
        self.verdicts[key] = result = _verdict(table, code, fy)
        return result

    def _check(self, claim: Claim, facts: ClaimFacts) -> list[tuple]:
        if not claim.diagnoses:
            return []
        table = facts.icd10cm
        oldest, newest = table.fiscal_years[0], table.fiscal_years[-1]
        dates = facts.dates
        first = dates.first
        # Which diagnosis positions are checked on which dates.
        wanted: dict[int, set[date] | tuple[date]] = {}  # (a shared 1-tuple for the first date)
        fy_of = table.fiscal_year_of
        several_years = False  # do the dated lines fall in more than one fiscal year?
        if first is not None:
            fy_first = fy_of(first)
            for d in dates.line_dates:
                if d is not None and fy_of(d) != fy_first:
                    several_years = True
                    break
        if several_years:
            for line, d in zip(claim.lines, dates.line_dates):
                if d is None:
                    continue
                wanted.setdefault(1, set()).add(d)
                for raw in line.pointers:
                    if raw.isdigit() and raw.isascii() and 1 <= int(raw) <= _MAX_CODES:
                        wanted.setdefault(int(raw), set()).add(d)
        if first is not None:
            on_first = (first,)  # (never modified: shared by the positions checked on the first date)
            for dx in claim.diagnoses:  # one fiscal year, or no (dated) line points at it: the first date
                if dx.position not in wanted:
                    wanted[dx.position] = on_first
        items: list[tuple] = []
        principal = claim.diagnoses[0]
        if principal.position == 1 and principal.qualifier == "ABK" and principal.code[:1] in ("V", "W", "X", "Y"):
            items.append(("DX104", principal.segment, f"Principal diagnosis {format_code(principal.code)} (HI01-2) is "
                          f"an external cause code (V00-Y99); it can only be a secondary diagnosis (ABF). Put the "
                          f"injury or condition first.", "HI01-2", principal.code))
        hi = claim.hi_segments[0] if claim.hi_segments else claim.clm
        if first is None:
            items.append(("DX110", hi, f"Claim {claim.claim_id} has no date of service (DTP*472), so its diagnosis "
                          f"codes were not checked against ICD-10-CM.", "HI01-2", None))
            return items
        late: date | None = None
        early: date | None = None
        reported: set[tuple[str, int]] = set()
        for dx in claim.diagnoses:
            on = wanted.get(dx.position)
            if not on or dx.qualifier not in _ICD10_QUALIFIERS or not dx.code or not well_formed(dx.code):
                continue
            code = dx.code
            for d in (on if len(on) == 1 else sorted(on)):
                fy = fy_of(d)
                if fy < oldest:
                    early = early or d
                    continue
                if fy > newest:
                    late = max(late, d) if late else d
                    fy = newest
                    release = table.release_of(datetime.date(newest, 9, 30))
                else:
                    release = table.release_of(d) if table.april else fy
                found = self.verdict(table, code, release)
                if found is None or (found[0], dx.position) in reported:
                    continue
                reported.add((found[0], dx.position))
                rule, why = found
                items.append((rule, dx.segment, f"Diagnosis {format_code(code)} ({dx.ref}) {why} for the date of "
                              f"service {d.isoformat()} (ICD-10-CM {table.release_label(release)}).", dx.ref, code))
        if late is not None:
            items.append(("DX110", hi, f"Date of service {late.isoformat()} is in FY{table.fiscal_year_of(late)}, past the "
                          f"newest loaded ICD-10-CM code set (FY{newest}, to {newest}-09-30); its diagnosis codes were "
                          f"checked against FY{newest}. Add the newer CMS file (scrubber codesets add).", "HI01-2", None))
        if early is not None:
            items.append(("DX110", hi, f"Date of service {early.isoformat()} is before the oldest loaded ICD-10-CM code "
                          f"set (FY{oldest}, from {oldest - 1}-10-01); ICD-10-CM validity was not checked for it.",
                          "HI01-2", None))
        return items


def _verdict(table, code: str, release: int | tuple[int, int]) -> tuple[str, str] | None:
    fy = release[0] if isinstance(release, tuple) else release
    status = table.status(code, release)
    if status.billable:
        return None
    if status.exists:
        children = table.billable_children(code, release, limit=8)
        if children:
            more = table.billable_children(code, release, limit=9)
            names = ", ".join(format_code(c) for c in children) + (", ..." if len(more) > len(children) else "")
            return "DX102", f"is a header, not billable: it needs more characters ({names})"
        return "DX102", "is a header, not billable: it needs more characters"
    years = table.years_of(code)
    aprils = table.years_of(code, april=True) if table.april else []
    if not years and not aprils:
        return "DX101", "does not exist in ICD-10-CM"
    if isinstance(release, tuple) and any(y == fy for y, _ in years):
        return "DX103", f"is no longer valid: the FY{fy} April update (dates from {fy}-04-01) deleted it"
    if not isinstance(release, tuple) and any(y == fy for y, _ in aprils):
        return "DX103", f"is not valid yet: it is valid from {fy}-04-01 (the FY{fy} April update)"
    years = sorted(set(years) | set(aprils))
    billable = [y for y, b in years if b] or [y for y, _ in years]
    later = [y for y in billable if y > fy]
    earlier = [y for y in billable if y < fy]
    if later:
        return "DX103", f"is not valid yet: it is valid from FY{later[0]} (dates from {later[0] - 1}-10-01)"
    return "DX103", f"is no longer valid: its last year was FY{earlier[-1]} (dates to {earlier[-1]}-09-30)"


def _verdict(table, code: str, release: int | tuple[int, int]) -> tuple[str, str] | None:
    fy = release[0] if isinstance(release, tuple) else release
    status = table.status(code, release)
    if status.billable:
        return None
    if status.exists:
        children = table.billable_children(code, release, limit=8)
        if children:
            more = table.billable_children(code, release, limit=9)
            names = ", ".join(format_code(c) for c in children) + (", ..." if len(more) > len(children) else "")
            return "DX102", f"is a header, not billable: it needs more characters ({names})"
        return "DX102", "is a header, not billable: it needs more characters"
    years = table.years_of(code)
    aprils = table.years_of(code, april=True) if table.april else []
    if not years and not aprils:
        return "DX101", "does not exist in ICD-10-CM"
    if isinstance(release, tuple) and any(y == fy for y, _ in years):
        return "DX103", f"is no longer valid: the FY{fy} April update (dates from {fy}-04-01) deleted it"
    if not isinstance(release, tuple) and any(y == fy for y, _ in aprils):
        return "DX103", f"is not valid yet: it is valid from {fy}-04-01 (the FY{fy} April update)"
    years = sorted(set(years) | set(aprils))
    billable = [y for y, b in years if b] or [y for y, _ in years]
    later = [y for y in billable if y > fy]
    earlier = [y for y in billable if y < fy]
    if later:
        return "DX103", f"is not valid yet: it is valid from FY{later[0]} (dates from {later[0] - 1}-10-01)"
    return "DX103", f"is no longer valid: its last year was FY{earlier[-1]} (dates to {earlier[-1]}-09-30)"



class BackpainFacts:
    """What the back-pain rules read from one claim, computed once for all of them (the engine runs
    the rules one after the other on the same claim; only the latest claim is kept)."""

    __slots__ = ("claim", "maps", "code_at", "codes", "dates", "first_date", "last_date", "in_scope", "lines",
                 "_pointed")

    def __init__(self, claim: Claim, maps: BackpainMaps, lines: list[tuple[ServiceLine, str, date | None]]):
        self.claim = claim
        self.maps = maps  # the back-pain maps the facts were read with
        normalized = maps.memo_of("norm")
        match = maps.scope.match
        in_scope = False
        codes = []
        code_at = {}
        for dx in claim.diagnoses:
            code = dx.code
            if code:
                c = normalized.get(code)
                if c is None:
                    c = normalized[code] = norm(code)
                item = (dx, c)
                codes.append(item)
                code_at[dx.position] = item
                if not in_scope and match(c):
                    in_scope = True
        self.codes = codes
        self.code_at = code_at
        self.in_scope = in_scope
        self._pointed: dict[int, list[tuple[int, Diagnosis, str]]] = {}
        self.lines = lines  # (line, procedure, date of service)
        dates = [d for _, _, d in lines]
        self.dates = dates or [claim.claim_dates()[0]]
        known = [d for d in self.dates if d is not None]
        self.first_date = min(known) if known else None
        self.last_date = max(known) if known else None

    def pointed(self, line: ServiceLine) -> list[tuple[int, Diagnosis, str]]:
        """The line's pointed diagnoses: (SV107 component index, diagnosis, normalized code).
        Computed once per line (several rules ask); do not modify the list."""
        out = self._pointed.get(line.number)
        if out is not None:
            return out
        out = []
        code_at = self.code_at
        index = 0
        for raw in line.pointers:
            index += 1
            position = _POSITIONS.get(raw)
            if position is None:
                if not (raw.isdigit() and raw.isascii()):
                    continue
                position = int(raw)
            hit = code_at.get(position)
            if hit is not None:
                out.append((index, hit[0], hit[1]))
        self._pointed[line.number] = out
        return out


_POSITIONS = {str(i): i for i in range(1, MAX_CODES + 1)}  # SV107 pointers as sent, the usual ones



class NcciLines:
    """A claim's service lines as the NCCI rules read them, computed once for the three rules: each
    line with its procedure and date of service (the line's DTP*472, else the claim's), and the dates
    that carry two or more different procedures (where a PTP pair can occur). ``pairs`` is filled
    on first use by NC001 or NC002 (see :meth:`ptp_hits`), for both."""

    __slots__ = ("claim", "lines", "multi", "pairs")

    def __init__(self, claim: Claim, dated: list[tuple[ServiceLine, str, date | None]]):
        self.claim = claim
        self.pairs: list | None = None
        self.lines = lines = [item for item in dated if item[1]]
        self.multi = multi = []
        if len(lines) < 2:
            return
        by_date: dict[date | None, list[tuple[ServiceLine, str]]] = {}
        for line, proc, d in lines:
            items = by_date.get(d)
            if items is None:
                by_date[d] = [(line, proc)]
            else:
                items.append((line, proc))
        for d, items in by_date.items():
            if len(items) > 1:
                procedures = tuple(sorted({proc for _, proc in items}))
                if len(procedures) > 1:
                    multi.append((d, items, procedures))

    def ptp_hits(self, n: Ncci) -> list[tuple[ServiceLine, date | None, tuple | None, tuple | None]]:
        """Per column-2 line with an edit in force on its date: (line, date, first indicator-0 edit,
        first indicator-1 edit), each edit ``(column 1, rationale)`` or None (column 1 in code order)."""
        if self.pairs is None:
            pairs = []
            for d, items, procedures in self.multi:
                edits = _ptp_edits(n, n.ymd(d), procedures)
                if not edits:
                    continue
                for line, proc in items:
                    hit = edits.get(proc)
                    if hit is not None:
                        pairs.append((line, d, hit[0], hit[1]))
            self.pairs = pairs
        return self.pairs


# (table, YYYYMMDD, procedures of one date) -> {column 2: (first indicator-0 edit, first indicator-1 edit)}:
# a pure function of the NCCI table, asked again for each claim with the same procedures (bounded).
_PTP_EDITS: dict[tuple, dict[str, tuple]] = {}


def _ptp_edits(n: Ncci, ymd: str, procedures: tuple[str, ...]) -> dict[str, tuple]:
    key = (n, ymd, procedures)
    edits = _PTP_EDITS.get(key)
    if edits is not None:
        return edits
    edits = {}
    in_column2, edit_of = n.in_column2, n.ptp_edit_ymd
    for proc in procedures:
        if not in_column2(proc):
            continue
        first = [None, None]
        for column1 in procedures:
            if column1 != proc:
                edit = edit_of(column1, proc, ymd)
                if edit is not None and first[edit[0]] is None:
                    first[edit[0]] = (column1, edit[1])
        if first[0] is not None or first[1] is not None:
            edits[proc] = (first[0], first[1])
    if len(_PTP_EDITS) >= 4096:
        _PTP_EDITS.clear()
    _PTP_EDITS[key] = edits
    return edits




# --- balancing and identifiers: X12 R amounts (CLM02, SV102, SV104) --------------------------------

_AMOUNT_RE = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)")
_AMOUNTS: dict[str, Decimal | None] = {}  # amounts repeat across claims: a bounded cache


def amount(text: str) -> Decimal | None:
    """An X12 R amount as a Decimal (never a float), None when it is not a plain decimal number."""
    try:
        return _AMOUNTS[text]
    except KeyError:
        pass
    value = None
    if _AMOUNT_RE.fullmatch(text):
        try:
            value = Decimal(text)
        except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
            value = None
    if len(_AMOUNTS) >= 4096:
        _AMOUNTS.clear()
    _AMOUNTS[text] = value
    return value
