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
from functools import lru_cache
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, NamedTuple

from scrubber.codesets.backpain import MAP_NAME, BackpainMaps, load_backpain_maps
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
#: An SV107 pointer as sent -> the HI position it names (1-12, also written 01-09).
POINTERS = {**{str(i): i for i in range(1, 13)}, **{f"{i:02d}": i for i in range(1, 10)}}


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


def claim_fact(fn):
    """Declares a fact of :class:`ClaimFacts` next to the rules that share it (a family's
    ``_common.py``): ``facts.<name>`` is then computed on first use per claim, like the facts
    defined here. A name may be declared once."""
    name = fn.__name__
    if name in ClaimFacts.__dict__:
        raise RuntimeError(f"ClaimFacts.{name} is declared twice")
    setattr(ClaimFacts, name, fact(fn))
    return ClaimFacts.__dict__[name]


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
    # The engine asks every gate of every claim, and the gates read the dates, the lines and the
    # diagnoses: those facts are made together, in one pass over the claim (``_claim_pass``), the
    # first time one of them is asked. Each is still an attribute of its own name.
    def _claim_pass(self) -> dict:
        """Makes the facts of the claim's DTPs, lines and diagnoses at once: ``dates``,
        ``dated_lines``, ``service_lines``, ``ncci_lines`` and the gates ``has_lines``,
        ``has_diagnoses``, ``over_limits``, ``pointers_suspect``, ``hi_suspect`` and
        ``multi_procedure_dates``. Returns the instance's dictionary, which holds them."""
        known = self.__dict__
        if "dates" in known:
            return known
        claim = self.claim
        lines = claim.lines
        diagnoses = claim.diagnoses
        limits = self.limits
        dates = ClaimDates(claim)
        # The diagnoses: the HI positions holding a code (as bits) and the hi_suspect gate.
        filled = 0
        hi_bad = len(diagnoses) > MAX_CODES
        expected = "ABK"
        seen: list[str] = []
        formed = _WELL_FORMED_CODES
        for dx in diagnoses:
            code = dx.code
            if code:
                filled |= 1 << dx.position
            if not hi_bad:
                if dx.qualifier != expected or not code or code in seen or not (formed.get(code) or well_formed(code)):
                    hi_bad = True
                else:
                    seen.append(code)
                    expected = "ABF"
        # The lines: each line with an SV1 dated, and the pointers_suspect gate.
        dated: list[tuple[ServiceLine, str, date | None]] = []
        coded: list[tuple[ServiceLine, str, date | None]] = []  # those with a procedure (for NCCI)
        one_day = True  # all of those on one date of service
        suspect = False
        masks = _POINTER_MASKS
        for line, day in zip(lines, dates.line_dates):
            pointers = line.pointers
            if line.sv1 is not None:
                procedure = line.procedure
                item = (line, procedure, day)
                dated.append(item)
                if procedure:
                    if coded and day != coded[0][2]:
                        one_day = False
                    coded.append(item)
                if not pointers:
                    suspect = True
                    continue
            elif not pointers:
                continue
            if not suspect:
                key = tuple(pointers)
                mask = masks.get(key)
                if mask is None:
                    mask = _pointer_mask(key)
                if mask < 0 or mask & ~filled:
                    suspect = True
        ncci = NcciLines(claim, coded, one_day)
        known["dates"] = dates
        known["dated_lines"] = dated
        known["service_lines"] = [item[0] for item in dated]
        known["ncci_lines"] = ncci
        known["has_lines"] = bool(lines)
        known["has_diagnoses"] = bool(claim.hi_segments)
        known["over_limits"] = claim.number > limits.claims_per_transaction or len(lines) > limits.lines_per_claim
        known["pointers_suspect"] = suspect
        known["hi_suspect"] = hi_bad
        known["multi_procedure_dates"] = bool(ncci.multi)
        return known

    @fact
    def dates(self) -> ClaimDates:
        """The claim's DTP segments and the date of service of each line (see :class:`ClaimDates`)."""
        return self._claim_pass()["dates"]

    @fact
    def dated_lines(self) -> list[tuple[ServiceLine, str, date | None]]:
        """Each service line with an SV1 as ``(line, procedure, date of service)``: the line's
        DTP*472, else the claim's (None when neither)."""
        return self._claim_pass()["dated_lines"]

    @fact
    def hi_entries(self) -> list[HiEntry]:
        """The claim's diagnosis composites as sent (qualifier and code, even when malformed)."""
        return read_hi_entries(self.claim)

    # --- pointers ---------------------------------------------------------------------------------
    @fact
    def filled_positions(self) -> set[int]:
        """The HI positions (1-12) that hold a diagnosis code."""
        return {dx.position for dx in self.claim.diagnoses if dx.code}

    @fact
    def pointers_suspect(self) -> bool:
        """A gate: a line with an SV1 has no first pointer, more than four, a pointer that is not
        1-12, a repeated one, or one naming an HI position with no code (what DP001-DP005 report)."""
        return self._claim_pass()["pointers_suspect"]

    # --- diagnosis --------------------------------------------------------------------------------
    @fact
    def hi_suspect(self) -> bool:
        """A gate: a diagnosis composite is not an ICD-10-CM qualifier in its place (ABK in HI01, ABF
        after) with a code in the X12 form, repeats a code, or is past the twelfth (DX001-DX006)."""
        return self._claim_pass()["hi_suspect"]

    @fact
    def icd_verdicts(self) -> IcdVerdicts:
        """The ICD-10-CM verdicts of the claim's codes on their dates of service (see
        :class:`IcdVerdicts`)."""
        checker = self.maps.get("icd10cm-checker") or self.context.map("icd10cm-checker", IcdChecker)
        return checker.for_claim(self)

    @fact
    def icd_flagged(self) -> bool:
        """A gate: a code is not valid on its date of service, a date is outside the loaded
        ICD-10-CM code sets, or the claim has diagnoses and no date of service (DX101-DX103, DX110)."""
        return self.icd_verdicts.flagged

    # --- limits -----------------------------------------------------------------------------------
    @fact
    def over_limits(self) -> bool:
        """A gate: the claim is past the claims per transaction set, or has more service lines than
        allowed (``[limits]``; LM001, LM002)."""
        return self._claim_pass()["over_limits"]

    @fact
    def backpain_maps(self) -> BackpainMaps:
        maps = self.maps.get(MAP_NAME)  # loaded once per run
        return maps if maps is not None else self.context.map(MAP_NAME, load_backpain_maps)

    @fact
    def backpain(self) -> BackpainFacts:
        """The claim's diagnoses as the back-pain rules read them (see :class:`BackpainFacts`)."""
        return BackpainFacts(self.claim, self.backpain_maps, self.dated_lines, self.dates.claim_start)

    @fact
    def ncci_lines(self) -> NcciLines:
        """The service lines by date of service, as the NCCI rules read them."""
        return self._claim_pass()["ncci_lines"]

    @fact
    def service_lines(self) -> list[ServiceLine]:
        """The lines that carry an SV1."""
        return self._claim_pass()["service_lines"]

    # Gates: boolean facts a rule names in ``concerns`` (the engine asks each once per claim) ------
    @fact
    def has_lines(self) -> bool:
        """The claim has at least one service line (LX or SV1)."""
        return self._claim_pass()["has_lines"]

    @fact
    def has_diagnoses(self) -> bool:
        """The claim has at least one HI segment."""
        return self._claim_pass()["has_diagnoses"]

    @fact
    def backpain_in_scope(self) -> bool:
        """A diagnosis of the claim is in the back-pain maps' scope."""
        return self.backpain.in_scope

    @fact
    def multi_procedure_dates(self) -> bool:
        """A date of service carries two or more different procedures (where an NCCI pair can be)."""
        return self._claim_pass()["multi_procedure_dates"]


# SV107 pointers as sent (a tuple) -> the HI positions they name as bits, or -1 when there are more
# than four, one is not 1-12, or two name one position. A pure function of the pointers (bounded).
_POINTER_MASKS: dict[tuple[str, ...], int] = {}


def _pointer_mask(pointers: tuple[str, ...]) -> int:
    mask = 0
    if len(pointers) > 4:
        mask = -1
    else:
        position = POINTERS.get
        for raw in pointers:
            p = position(raw)
            if p is None or mask >> p & 1:
                mask = -1
                break
            mask |= 1 << p
    if len(_POINTER_MASKS) >= 4096:
        _POINTER_MASKS.clear()
    _POINTER_MASKS[pointers] = mask
    return mask


# DTP*472 D8 dates as sent -> (start, end): they repeat across claims (bounded).
_D8_PERIODS: dict[str, tuple[date | None, date | None]] = {}


class ClaimDates:
    """The claim's DTP segments and dates of service.

    ``service``: (DTP*472 segment, start, end) for the claim (2300) and the lines; ``line_dates``:
    each line's date of service (its own DTP*472 start, else the claim's); ``first``: the earliest
    of them; ``label(seg)``: "service line N" or "the claim", for messages.
    """

    __slots__ = ("claim", "dtps", "service", "_where", "claim_level", "claim_start", "line_dates", "dated_lines",
                 "first")

    def __init__(self, claim: Claim) -> None:
        self.claim = claim
        self._where: dict[int, int] | None = None
        claim_start: date | None = None
        claim_level = False
        own: dict[int, date | None] = {}
        dated = claim.dated
        self.dtps: list[Segment] = [seg for seg, _ in dated]
        service: list[tuple[Segment, date | None, date | None]] = []
        self.service = service
        periods = _D8_PERIODS
        # The model notes each DTP with the service line it is in (the model starts one at each LX).
        for seg, number in dated:
            els = seg.elements
            if len(els) < 2 or els[1] != "472":
                continue
            if len(els) > 3 and els[2] == "D8":
                value = els[3]
                period = periods.get(value)
                if period is None:
                    if len(periods) >= 4096:
                        periods.clear()
                    period = periods[value] = parse_date_period("D8", value)
                start, end = period
            else:
                start, end = parse_date_period(seg.el(2), seg.el(3))
            service.append((seg, start, end))
            if number > 0 and seg.loop.startswith("24"):
                if number not in own:
                    own[number] = start
            elif seg.loop == "2300" and not claim_level:
                claim_level = True
                claim_start = start
        self.claim_level = claim_level
        self.claim_start = claim_start
        self.dated_lines: set[int] = set(own)
        get = own.get
        line_dates: list[date | None] = [get(line.number) or claim_start for line in claim.lines]
        self.line_dates = line_dates
        first = None
        for d in line_dates:
            if d is not None and (first is None or d < first):
                first = d
        self.first = first or claim_start

    @property
    def where(self) -> dict[int, int]:
        """id(DTP segment) -> the number of the service line it is in (made on first use)."""
        where = self._where
        if where is None:
            where = self._where = {
                id(seg): number for seg, number in self.claim.dated if number > 0 and seg.loop.startswith("24")
            }
        return where

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
_UNSEEN = object()


class IcdVerdict(NamedTuple):
    """Why a code is not billable in an ICD-10-CM release.

    ``kind`` is ``unknown`` (the code is in no loaded release), ``header`` (it exists but needs more
    characters: ``children`` are its first billable codes, ``more`` says there are others) or
    ``not-valid`` (it is valid in other releases: from a later one when ``new``, else no longer;
    ``year`` is the fiscal year it is valid from or was last valid in, or, with ``april``, the
    fiscal year whose April update adds or deletes it)."""

    kind: str
    year: int = 0
    new: bool = False
    april: bool = False
    children: tuple[str, ...] = ()
    more: bool = False


class IcdVerdicts:
    """The ICD-10-CM verdicts of one claim's codes on their dates of service.

    ``found``: ``(verdict, diagnosis, date of service, release)`` for each ABK/ABF code in the X12
    form that is not billable on a date it is checked on, the first of each kind per diagnosis, in
    HI order then date order. ``late``: the latest date past the newest loaded fiscal year (its
    codes were checked against the newest); ``early``: the first date before the oldest one (its
    codes were not checked); ``undated``: the claim has diagnoses but no date of service (nothing
    was checked). ``table``: the ICD-10-CM table the codes were checked against (None when none).
    ``flagged``: any of these holds."""

    __slots__ = ("table", "found", "late", "early", "undated", "flagged")

    def __init__(self, table, found: list, late: date | None = None, early: date | None = None,
                 undated: bool = False) -> None:
        self.table = table
        self.found: list[tuple[IcdVerdict, Diagnosis, date, int | tuple[int, int]]] = found
        self.late = late
        self.early = early
        self.undated = undated
        self.flagged = bool(found) or undated or late is not None or early is not None


_NO_VERDICTS = IcdVerdicts(None, [])


class IcdChecker:
    """Looks up (code, release) once per run (kept in the run's maps); ``for_claim`` gives the
    :class:`IcdVerdicts` of one claim.

    A code is checked on the dates of service of the lines that point at it (HI01, the principal
    diagnosis, on every line's) when the claim's dated lines fall in more than one fiscal year;
    otherwise, and when no dated line points at it, on the claim's first date of service."""

    def __init__(self) -> None:
        self.verdicts: dict[tuple[str, int | tuple[int, int]], IcdVerdict | None] = {}
        self._table = None  # the ICD-10-CM table the memos below are of
        # date of service -> (its fiscal year, the release its codes are checked against or None
        # before the oldest, past the newest fiscal year); bounded.
        self._on: dict[date, tuple[int, int | tuple[int, int] | None, bool]] = {}
        # release -> {code: its verdict (None: billable), or _SKIP for a code not in the X12 form}; bounded.
        self._by_release: dict[int | tuple[int, int], dict[str, IcdVerdict | None | object]] = {}
        self._clean = _NO_VERDICTS  # the verdicts of a claim with nothing to say, for the table

    def verdict(self, table, code: str, release: int | tuple[int, int]) -> IcdVerdict | None:
        key = (code, release)
        verdicts = self.verdicts
        result = verdicts.get(key, _UNSEEN)
        if result is _UNSEEN:
            if len(verdicts) > _CACHE_LIMIT:
                verdicts.clear()
            verdicts[key] = result = _verdict(table, code, release)
        return result

    def _use(self, table) -> None:
        """Starts the memos afresh for another ICD-10-CM table."""
        self._table = table
        self._on = {}
        self._by_release = {}
        self.verdicts = {}
        self._clean = IcdVerdicts(table, [])

    def _date(self, table, d: date) -> tuple[int, int | tuple[int, int] | None, bool]:
        """(fiscal year, release, past the newest) of a date of service."""
        on = self._on
        if len(on) >= 4096:
            on.clear()
        fiscal_years = table.fiscal_years
        oldest, newest = fiscal_years[0], fiscal_years[-1]
        fy = table.fiscal_year_of(d)
        if fy < oldest:
            release = None
        elif fy > newest:
            release = table.release_of(datetime.date(newest, 9, 30))
        else:
            release = table.release_of(d) if table.april else fy
        found = on[d] = (fy, release, fy > newest)
        return found

    def _codes(self, release: int | tuple[int, int]) -> dict:
        memo = self._by_release.get(release)
        if memo is None or len(memo) >= _CACHE_LIMIT:
            memo = self._by_release[release] = {}
        return memo

    def _code(self, table, memo: dict, code: str, release: int | tuple[int, int]):
        """The verdict of a code in a release (None: billable), or _SKIP when it is not in the X12 form."""
        found = memo[code] = self.verdict(table, code, release) if well_formed(code) else _SKIP
        return found

    def for_claim(self, facts: ClaimFacts) -> IcdVerdicts:
        claim = facts.claim
        diagnoses = claim.diagnoses
        if not diagnoses:
            return _NO_VERDICTS
        dates = facts.dates
        first = dates.first
        if first is None:
            return IcdVerdicts(None, [], undated=True)
        table = facts.maps.get("icd10cm") or facts.icd10cm
        if table is not self._table:
            self._use(table)
        on = self._on
        info = on.get(first) or self._date(table, first)
        # The dates each diagnosis position is checked on, when not all on the first one.
        wanted: dict[int, set[date]] = {}
        fy_first = info[0]
        for d in dates.line_dates:
            if d is not None and d != first and (on.get(d) or self._date(table, d))[0] != fy_first:
                wanted = _dates_by_position(claim, dates.line_dates)
                break
        found: list = []
        reported: set[tuple[str, int]] = set()
        late: date | None = None
        early: date | None = None
        _, release, past = info
        if release is None:
            first_codes = None
        else:
            first_codes = self._by_release.get(release)
            if first_codes is None or len(first_codes) >= _CACHE_LIMIT:
                first_codes = self._codes(release)
        for dx in diagnoses:
            code = dx.code
            if dx.qualifier not in _ICD10_QUALIFIERS or not code:
                continue
            on_dates = wanted.get(dx.position) if wanted else None
            if on_dates is None:  # checked on the first date of service
                if first_codes is None:
                    if well_formed(code):
                        early = early or first
                    continue
                v = first_codes.get(code, _UNSEEN)
                if v is _UNSEEN:
                    v = self._code(table, first_codes, code, release)
                if v is _SKIP:
                    continue
                if past and (late is None or first > late):
                    late = first
                if v is None:
                    continue
                key = (v.kind, dx.position)
                if key in reported:
                    continue
                reported.add(key)
                found.append((v, dx, first, release))
                continue
            if not well_formed(code):
                continue
            for d in sorted(on_dates):
                _, d_release, d_past = on.get(d) or self._date(table, d)
                if d_release is None:
                    early = early or d
                    continue
                if d_past:
                    late = max(late, d) if late else d
                v = self.verdict(table, code, d_release)
                if v is None:
                    continue
                key = (v.kind, dx.position)
                if key in reported:
                    continue
                reported.add(key)
                found.append((v, dx, d, d_release))
        if not found and late is None and early is None:
            return self._clean  # (shared: do not modify)
        return IcdVerdicts(table, found, late, early)


_SKIP = object()  # a code not in the X12 form: not looked up


def _dates_by_position(claim: Claim, line_dates: list[date | None]) -> dict[int, set[date]]:
    """The dates of service each HI position is checked on: those of the dated lines pointing at
    it, and every line's for HI01."""
    wanted: dict[int, set[date]] = {}
    for line, d in zip(claim.lines, line_dates):
        if d is None:
            continue
        wanted.setdefault(1, set()).add(d)
        for raw in line.pointers:
            if raw.isdigit() and raw.isascii() and 1 <= int(raw) <= _MAX_CODES:
                wanted.setdefault(int(raw), set()).add(d)
    return wanted


def _verdict(table, code: str, release: int | tuple[int, int]) -> IcdVerdict | None:
    fy = release[0] if isinstance(release, tuple) else release
    status = table.status(code, release)
    if status.billable:
        return None
    if status.exists:
        children = table.billable_children(code, release, limit=8)
        more = bool(children) and len(table.billable_children(code, release, limit=9)) > len(children)
        return IcdVerdict("header", children=tuple(children), more=more)
    years = table.years_of(code)
    aprils = table.years_of(code, april=True) if table.april else []
    if not years and not aprils:
        return IcdVerdict("unknown")
    if isinstance(release, tuple) and any(y == fy for y, _ in years):
        return IcdVerdict("not-valid", fy, new=False, april=True)  # deleted by the April update
    if not isinstance(release, tuple) and any(y == fy for y, _ in aprils):
        return IcdVerdict("not-valid", fy, new=True, april=True)  # added by the April update
    years = sorted(set(years) | set(aprils))
    billable = [y for y, b in years if b] or [y for y, _ in years]
    later = [y for y in billable if y > fy]
    earlier = [y for y in billable if y < fy]
    if later:
        return IcdVerdict("not-valid", later[0], new=True)
    return IcdVerdict("not-valid", earlier[-1])



class BackpainFacts:
    """What the back-pain rules read from one claim, computed once for all of them (the engine runs
    the rules one after the other on the same claim; only the latest claim is kept)."""

    __slots__ = ("claim", "maps", "code_at", "codes", "dates", "first_date", "last_date", "in_scope", "lines",
                 "_pointed")

    def __init__(self, claim: Claim, maps: BackpainMaps, lines: list[tuple[ServiceLine, str, date | None]],
                 claim_start: date | None | bool = False):
        """``claim_start``: the claim's own date of service when the caller has it (False: read it
        from the claim when needed)."""
        self.claim = claim
        self.maps = maps  # the back-pain maps the facts were read with
        # code as sent -> (normalized code, in the maps' scope): a pure function of the code and the maps.
        known = maps.memo.get("norm-scope")
        if known is None or len(known) >= 8192:
            known = maps.memo_of("norm-scope")
        in_scope = False
        codes = []
        code_at = {}
        # The HI positions a line can point at (1-12): a claim with more codes is rejected by
        # DX003, and the codes past the twelfth would only make the pair checks grow as their square.
        for dx in claim.diagnoses[:MAX_CODES]:
            code = dx.code
            if code:
                hit = known.get(code)
                if hit is None:
                    c = norm(code)
                    hit = known[code] = (c, maps.scope.match(c))
                item = (dx, hit[0])
                codes.append(item)
                code_at[dx.position] = item
                if hit[1]:
                    in_scope = True
        self.codes = codes
        self.code_at = code_at
        self.in_scope = in_scope
        self._pointed: dict[tuple[str, ...], list[tuple[int, Diagnosis, str]]] = {}
        self.lines = lines  # (line, procedure, date of service)
        first = last = None
        if lines:
            self.dates = dates = [d for _, _, d in lines]
            for d in dates:
                if d is not None:
                    if first is None:
                        first = last = d
                    elif d < first:
                        first = d
                    elif d > last:
                        last = d
        else:
            first = last = claim.claim_dates()[0] if claim_start is False else claim_start
            self.dates = [first]
        self.first_date = first
        self.last_date = last

    def pointed(self, line: ServiceLine) -> list[tuple[int, Diagnosis, str]]:
        """The line's pointed diagnoses: (SV107 component index, diagnosis, normalized code).
        Computed once per claim and pointers (several rules ask, lines often point alike); do not
        modify the list."""
        key = tuple(line.pointers)
        out = self._pointed.get(key)
        if out is not None:
            return out
        out = []
        code_at = self.code_at
        index = 0
        for raw in key:
            index += 1
            position = _POSITIONS.get(raw)
            if position is None:
                if not (raw.isdigit() and raw.isascii()):
                    continue
                position = int(raw)
            hit = code_at.get(position)
            if hit is not None:
                out.append((index, hit[0], hit[1]))
        self._pointed[key] = out
        return out


_POSITIONS = {str(i): i for i in range(1, MAX_CODES + 1)}  # SV107 pointers as sent, the usual ones



class NcciLines:
    """A claim's service lines as the NCCI rules read them, computed once for the three rules: each
    line with its procedure and date of service (the line's DTP*472, else the claim's), and the dates
    that carry two or more different procedures (where a PTP pair can occur). ``pairs`` is filled
    on first use by NC001 or NC002 (see :meth:`ptp_hits`), for both."""

    __slots__ = ("claim", "lines", "multi", "pairs")

    def __init__(self, claim: Claim, dated: list[tuple[ServiceLine, str, date | None]], one_day: bool | None = None):
        """``dated``: the claim's dated lines (see ``ClaimFacts.dated_lines``); ``one_day``, when the
        caller knows it: ``dated`` is already only the lines with a procedure, and says whether they
        are all of one date of service."""
        self.claim = claim
        self.pairs: list | None = None
        if one_day is None:
            lines = [item for item in dated if item[1]]
            one_day = len(lines) < 2 or all([item[2] == lines[0][2] for item in lines])
        else:
            lines = dated
        self.lines = lines
        self.multi = multi = []
        if len(lines) < 2:
            return
        if one_day:  # (the usual claim)
            procedures = {proc for _, proc, _ in lines}
            if len(procedures) > 1:
                multi.append((lines[0][2], [(line, proc) for line, proc, _ in lines], tuple(sorted(procedures))))
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
@lru_cache(maxsize=4096)  # amounts repeat across claims
def amount(text: str) -> Decimal | None:
    """An X12 R amount as a Decimal (never a float), None when it is not a plain decimal number."""
    if not _AMOUNT_RE.fullmatch(text):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
        return None
