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

    # --- pointers ---------------------------------------------------------------------------------
    @fact
    def filled_positions(self) -> set[int]:
        """The HI positions (1-12) that hold a diagnosis code."""
        return {dx.position for dx in self.claim.diagnoses if dx.code}

    @fact
    def pointers_suspect(self) -> bool:
        """A gate: a line with an SV1 has no first pointer, more than four, a pointer that is not
        1-12, a repeated one, or one naming an HI position with no code (what DP001-DP005 report)."""
        filled = self.filled_positions
        position = POINTERS.get
        for line in self.claim.lines:
            pointers = line.pointers
            if not pointers:
                if line.sv1 is not None:
                    return True
                continue
            if len(pointers) > 4:
                return True
            named = {position(raw) for raw in pointers}  # None for a pointer that is not 1-12
            if len(named) != len(pointers) or not named <= filled:
                return True
        return False

    # --- diagnosis --------------------------------------------------------------------------------
    @fact
    def hi_suspect(self) -> bool:
        """A gate: a diagnosis composite is not an ICD-10-CM qualifier in its place (ABK in HI01, ABF
        after) with a code in the X12 form, repeats a code, or is past the twelfth (DX001-DX006)."""
        diagnoses = self.claim.diagnoses
        if len(diagnoses) > MAX_CODES:
            return True
        expected = "ABK"
        codes = set()
        for dx in diagnoses:
            code = dx.code
            if dx.qualifier != expected or not code or code in codes or not well_formed(code):
                return True
            codes.add(code)
            expected = "ABF"
        return False

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
        limits = self.limits
        claim = self.claim
        return claim.number > limits.claims_per_transaction or len(claim.lines) > limits.lines_per_claim

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

    def verdict(self, table, code: str, release: int | tuple[int, int]) -> IcdVerdict | None:
        key = (code, release)
        verdicts = self.verdicts
        result = verdicts.get(key, _UNSEEN)
        if result is _UNSEEN:
            if len(verdicts) > _CACHE_LIMIT:
                verdicts.clear()
            verdicts[key] = result = _verdict(table, code, release)
        return result

    def for_claim(self, facts: ClaimFacts) -> IcdVerdicts:
        claim = facts.claim
        diagnoses = claim.diagnoses
        if not diagnoses:
            return _NO_VERDICTS
        table = facts.icd10cm
        dates = facts.dates
        first = dates.first
        if first is None:
            return IcdVerdicts(None, [], undated=True)
        fiscal_years = table.fiscal_years
        oldest, newest = fiscal_years[0], fiscal_years[-1]
        fy_of = table.fiscal_year_of
        release_of = table.release_of
        april = table.april

        def release_on(d: date) -> int | tuple[int, int] | None:
            """The release a date's codes are checked against; None before the oldest."""
            fy = fy_of(d)
            if fy < oldest:
                return None
            if fy > newest:
                return release_of(datetime.date(newest, 9, 30))
            return release_of(d) if april else fy

        # The dates each diagnosis position is checked on, when not all on the first one.
        wanted: dict[int, set[date]] = {}
        fy_first = fy_of(first)
        for d in dates.line_dates:
            if d is not None and d != first and fy_of(d) != fy_first:
                wanted = _dates_by_position(claim, dates.line_dates)
                break
        on_first = ((first, release_on(first), fy_first > newest),)
        verdicts = self.verdicts
        known = _WELL_FORMED_CODES
        found: list = []
        reported: set[tuple[str, int]] = set()
        late: date | None = None
        early: date | None = None
        for dx in diagnoses:
            code = dx.code
            if dx.qualifier not in _ICD10_QUALIFIERS or not code:
                continue
            if not (known.get(code) or well_formed(code)):
                continue
            on = wanted.get(dx.position) if wanted else None
            checked = on_first if on is None else [(d, release_on(d), fy_of(d) > newest) for d in sorted(on)]
            for d, release, past in checked:
                if release is None:
                    early = early or d
                    continue
                if past:
                    late = max(late, d) if late else d
                v = verdicts.get((code, release), _UNSEEN)
                if v is _UNSEEN:
                    v = self.verdict(table, code, release)
                if v is None:
                    continue
                key = (v.kind, dx.position)
                if key in reported:
                    continue
                reported.add(key)
                found.append((v, dx, d, release))
        return IcdVerdicts(table, found, late, early)


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
