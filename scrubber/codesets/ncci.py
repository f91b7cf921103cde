"""CMS NCCI edits for practitioner services: procedure-to-procedure (PTP) pairs and medically
unlikely edits (MUE), one quarter of each, plus the modifiers that bypass a PTP edit.

The data is ``maps/ncci/`` (see ``maps/ncci/SOURCE.md``): ``ptp_practitioner.tsv`` and
``mue_practitioner.tsv``, converted from the CMS quarterly tables by ``tools/build_ncci.py`` or by
:func:`add_file` (which writes into the operator's data folder, laid over the shipped files), and
``modifiers.toml``. NCCI quarters replace each other and carry no end date: a claim dated after
the loaded quarter is checked against it.

Interface:

* :func:`load_ncci` -> :class:`Ncci` (cached; reset when the data folder changes);
* :func:`add_file` converts a CMS PTP or MUE file (text: tab- or comma-delimited, title lines
  before the header row, or the subset TSV of ``../shared/codesets/ncci/``) into the data folder;
* :func:`describe` gives the lines ``scrubber codesets`` prints;
* :class:`NcciError`: every problem, as one line naming the file (and line).

In memory a PTP table is one dict keyed by column-2 code whose value packs that code's rows into
one string of fixed-width records sorted by column-1 code (see :class:`Ncci`). Standard library
only (plus :mod:`scrubber.mapsdir`).
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import re
import sys
import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from scrubber.atomic import write_bytes_atomic
from scrubber.errors import ScrubberError
from scrubber.mapsdir import on_change, overlay_path, shipped_path

__all__ = [
    "MODIFIERS_NAME", "MUE_NAME", "PTP_NAME", "Bypass", "Mue", "Ncci", "NcciError", "PtpRow",
    "add_file", "build", "describe", "load_ncci", "quarter_age", "quarter_note", "read_source", "reset",
]

FOLDER = "ncci"
PTP_NAME = "ptp_practitioner.tsv"
MUE_NAME = "mue_practitioner.tsv"
MODIFIERS_NAME = "modifiers.toml"
PTP_FORMAT = "ncci-ptp 1"
MUE_FORMAT = "ncci-mue 1"

PTP_TITLE = "NCCI PTP practitioner edits"
MUE_TITLE = "NCCI MUE practitioner services"
PTP_SOURCE = ("CMS Medicare NCCI procedure-to-procedure (PTP) edits, practitioner services, "
              "https://www.cms.gov/medicare/coding-billing/national-correct-coding-initiative-ncci-edits/"
              "medicare-ncci-procedure-procedure-ptp-edits (US government work, public domain)")
MUE_SOURCE = ("CMS Medicare NCCI medically unlikely edits (MUE), practitioner services, "
              "https://www.cms.gov/medicare/coding-billing/national-correct-coding-initiative-ncci-edits/"
              "medicare-ncci-medically-unlikely-edits (US government work, public domain)")

_CODE = re.compile(r"(?:[0-9]{4}[0-9A-Z]|[A-Z][0-9]{4})")
_MODIFIER = re.compile(r"[0-9A-Z]{2}")
# One row of the shipped PTP table: column1, column2, indicator, effective, deletion, rationale.
_TABLE_CODE = re.compile(r"[0-9A-Z]{5}")
_MUE_ROW = re.compile(r"([0-9A-Z]{5})\t([0-9]{1,6})\t([123])\t([^\t\r\n]*)$")

# A packed PTP record: column-1 code (5), indicator (1), effective (8), deletion (8), rationale (1).
_W = 23
_NO_EFFECTIVE = "00000000"
_NO_DELETION = "99999999"
_RATIONALE_CHARS = [chr(c) for c in range(33, 127)]  # 94 distinct rationale texts at most


class NcciError(ScrubberError):
    """A problem with an NCCI table or a CMS input file: ``str(exc)`` is one line."""

    def __init__(self, message: str):
        super().__init__(" ".join(str(message).split()))  # one line, whatever the message holds


# --- quarters ------------------------------------------------------------------------------------


def _quarter_index(d: datetime.date) -> int:
    return d.year * 4 + (d.month - 1) // 3


def quarter_age(quarter: datetime.date, as_of: datetime.date) -> int:
    """How many calendar quarters ``quarter`` is older than the quarter of ``as_of`` (0: current or newer)."""
    return max(0, _quarter_index(as_of) - _quarter_index(quarter))


def quarter_note(kind: str, quarter: datetime.date, as_of: datetime.date) -> str:
    """``(NCCI PTP quarter 2024-07-01, 9 quarters old)``; no age when it is the current quarter."""
    age = quarter_age(quarter, as_of)
    if not age:
        return f"(NCCI {kind} quarter {quarter.isoformat()})"
    return f"(NCCI {kind} quarter {quarter.isoformat()}, {age} quarter{'s' if age != 1 else ''} old)"


@lru_cache(maxsize=4096)  # dates of service repeat across claims: formatted once each
def _ymd(d: datetime.date) -> str:
    return f"{d.year:04d}{d.month:02d}{d.day:02d}"


def _parse_ymd(text: str) -> datetime.date | None:
    try:
        return datetime.date(int(text[:4]), int(text[4:6]), int(text[6:8])) if len(text) == 8 and text.isdigit() else None
    except ValueError:
        return None


# --- the loaded form -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PtpRow:
    """One PTP edit: when ``column1`` and ``column2`` are billed on one date, the column-2 line is denied
    (modifier indicator 0: always; 1: unless it carries a bypass modifier)."""

    column1: str
    column2: str
    modifier_indicator: int
    deletion: datetime.date | None  # None: not deleted
    rationale: str
    effective: datetime.date | None = None  # None: not in the source

    def applies(self, d: datetime.date) -> bool:
        """In force on date of service ``d``: not deleted before it (nor effective after it, when known)."""
        if self.effective is not None and d < self.effective:
            return False
        return self.deletion is None or d <= self.deletion


@dataclass(frozen=True, slots=True)
class Mue:
    code: str
    value: int  # the most units payable (0: none)
    mai: int  # MUE adjudication indicator: 1 per line, 2 per date of service (policy), 3 per date (clinical)
    rationale: str

    @property
    def per_line(self) -> bool:
        return self.mai == 1


@dataclass(frozen=True, slots=True)
class BypassRule:
    modifiers: frozenset[str]
    low: str  # column-2 codes from low to high (inclusive); "" and "" for any code
    high: str
    label: str
    source: str

    def covers(self, code: str) -> bool:
        return not self.low or (len(code) == len(self.low) and self.low <= code <= self.high)


@dataclass(frozen=True)
class Bypass:
    """The modifiers that let a column-2 line of an indicator-1 PTP edit through (``modifiers.toml``)."""

    rules: tuple[BypassRule, ...]
    title: str
    source: str
    effective_from: datetime.date
    path: Path

    def for_code(self, column2: str) -> frozenset[str]:
        out: frozenset[str] = frozenset()
        for rule in self.rules:
            if rule.covers(column2):
                out |= rule.modifiers
        return out


class Ncci:
    """One quarter of the PTP edits and one of the MUE table (practitioner services).

    PTP rows live in ``_ptp``: column-2 code -> one string of 23-character records sorted by column-1
    code: column 1 (5), modifier indicator (1), effective YYYYMMDD (8; 00000000 = unknown), deletion
    YYYYMMDD (8; 99999999 = none), rationale (1 character, an index into ``_rationales``). A record
    applies to a date of service when effective <= date <= deletion (compared as YYYYMMDD strings).
    """

    __slots__ = ("ptp_quarter", "mue_quarter", "ptp_source", "mue_source", "ptp_path", "mue_path",
                 "ptp_rows", "ptp_active", "ptp_inputs", "mue_rows", "mue_inputs", "bypass",
                 "_ptp", "_rationales", "_mue")

    def __init__(self, ptp: _PtpTable, mue: _MueTable, bypass: Bypass):
        self.ptp_quarter: datetime.date = ptp.quarter
        self.mue_quarter: datetime.date = mue.quarter
        self.ptp_source: str = ptp.source
        self.mue_source: str = mue.source
        self.ptp_path: Path = ptp.path
        self.mue_path: Path = mue.path
        self.ptp_rows: int = ptp.rows  # edits kept (modifier indicator 0 and 1, deleted ones included)
        self.ptp_active: int = ptp.active  # of them, not deleted before the quarter
        self.ptp_inputs: tuple[str, ...] = ptp.inputs
        self.mue_rows: int = len(mue.codes)
        self.mue_inputs: tuple[str, ...] = mue.inputs
        self.bypass: Bypass = bypass
        self._ptp = ptp.packed
        self._rationales = ptp.rationales
        self._mue = mue.codes

    # --- PTP ---------------------------------------------------------------------------------

    def in_column2(self, code: str) -> bool:
        """Whether ``code`` is the column-2 code of any PTP row."""
        return code in self._ptp

    def _row(self, column2: str, rec: str) -> PtpRow:
        eff, dele = rec[6:14], rec[14:22]
        return PtpRow(rec[:5], column2, int(rec[5]), None if dele == _NO_DELETION else _parse_ymd(dele),
                      self._rationales[ord(rec[22]) - 33],
                      None if eff == _NO_EFFECTIVE else _parse_ymd(eff))

    def ptp_for(self, column2: str) -> list[PtpRow]:
        """Every PTP row (indicator 0 and 1) whose column-2 code is ``column2``, sorted by column 1."""
        packed = self._ptp.get(column2, "")
        return [self._row(column2, packed[i:i + _W]) for i in range(0, len(packed), _W)]

    def _records(self, column1: str, column2: str) -> Iterator[str]:
        packed = self._ptp.get(column2)
        if not packed:
            return
        find = packed.find
        pos = find(column1)
        while pos >= 0 and pos % _W:
            pos = find(column1, pos + 1)  # a match inside another record's dates
        while 0 <= pos < len(packed) and packed.startswith(column1, pos):
            yield packed[pos:pos + _W]
            pos += _W

    def ptp_pair(self, column1: str, column2: str, d: datetime.date | None = None) -> list[PtpRow]:
        """The rows of the pair (column 1, column 2), only those in force on ``d`` when given."""
        rows = [self._row(column2, rec) for rec in self._records(column1, column2)]
        return rows if d is None else [r for r in rows if r.applies(d)]

    def ptp_edit(self, column1: str, column2: str, d: datetime.date | None) -> tuple[int, str] | None:
        """(modifier indicator, rationale) of the pair's edit in force on ``d`` (None: the loaded
        quarter's date), the strictest when several rows apply (0 before 1); None when none does."""
        return self.ptp_edit_ymd(column1, column2, _ymd(d if d is not None else self.ptp_quarter))

    def ptp_edit_ymd(self, column1: str, column2: str, ymd: str) -> tuple[int, str] | None:
        """:meth:`ptp_edit` for a date given as ``YYYYMMDD`` (the rules format each date once)."""
        packed = self._ptp.get(column2)
        if not packed:
            return None
        find = packed.find
        pos = find(column1)
        while pos >= 0 and pos % _W:
            pos = find(column1, pos + 1)  # a match inside another record's dates
        if pos < 0:
            return None
        best = None
        end = len(packed)
        while pos < end and packed.startswith(column1, pos):
            if packed[pos + 6:pos + 14] <= ymd <= packed[pos + 14:pos + 22]:
                if packed[pos + 5] == "0":
                    return 0, self._rationales[ord(packed[pos + 22]) - 33]
                if best is None:
                    best = 1, self._rationales[ord(packed[pos + 22]) - 33]
            pos += _W
        return best

    def ymd(self, d: datetime.date | None) -> str:
        """A date of service as ``YYYYMMDD`` (None: the PTP quarter's date)."""
        return _ymd(d if d is not None else self.ptp_quarter)

    def mue_codes(self) -> dict[str, tuple[int, int, str]]:
        """Every code with an MUE: code -> (value, MAI, rationale). Do not modify."""
        return self._mue

    def mue_raw(self, code: str) -> tuple[int, int, str] | None:
        """(value, MAI, rationale) of the code's MUE without building a :class:`Mue` (hot path)."""
        return self._mue.get(code)

    # --- MUE ---------------------------------------------------------------------------------

    def mue(self, code: str) -> Mue | None:
        """The code's MUE (value, MAI, rationale), or None when the table has none for it."""
        hit = self._mue.get(code)
        return Mue(code, *hit) if hit is not None else None

    def note(self, kind: str, as_of: datetime.date) -> str:
        """``(NCCI PTP quarter 2024-07-01, 9 quarters old)`` for ``kind`` "PTP" or "MUE"."""
        return quarter_note(kind, self.ptp_quarter if kind == "PTP" else self.mue_quarter, as_of)

    def __repr__(self) -> str:
        return (f"<Ncci PTP {self.ptp_quarter} ({self.ptp_rows} rows), MUE {self.mue_quarter} "
                f"({self.mue_rows} codes)>")


# --- reading the tables --------------------------------------------------------------------------


@dataclass
class _PtpTable:
    path: Path
    quarter: datetime.date
    source: str
    inputs: tuple[str, ...]
    rows: int
    active: int
    packed: dict[str, str]
    rationales: tuple[str, ...]


@dataclass
class _MueTable:
    path: Path
    quarter: datetime.date
    source: str
    inputs: tuple[str, ...]
    codes: dict[str, tuple[int, int, str]]


def _open_table(path: Path, what: str):
    try:
        return open(path, encoding="utf-8", newline="")
    except FileNotFoundError:
        raise NcciError(f"{path}: missing (the {what} table; reinstall, or add a CMS file with `scrubber codesets add`)") from None
    except OSError as exc:
        raise NcciError(f"{path}: cannot read: {exc.strerror or exc}") from None


def _header(path: Path, fh, fmt: str) -> tuple[dict[str, str], list[str], int, str]:
    """Read the ``#`` lines: (first value of each key, every ``input`` value, lines read, first body line)."""
    head: dict[str, str] = {}
    inputs: list[str] = []
    n = 0
    line = ""
    for line in fh:
        if not line.startswith("#"):
            break
        n += 1
        key, _, value = line[1:].strip().partition(":")
        key, value = key.strip(), value.strip()
        if key == "input":
            inputs.append(value)
        head.setdefault(key, value)
    else:
        line = ""
    if head.get("format") != fmt:
        raise NcciError(f"{path}: not an NCCI table of this scrubber (a '# format: {fmt}' first line expected, "
                        f"got {head.get('format')!r})")
    return head, inputs, n, line


def _quarter_of(path: Path, head: dict[str, str]) -> datetime.date:
    try:
        return datetime.date.fromisoformat(head["quarter"])
    except (KeyError, ValueError):
        raise NcciError(f"{path}: missing or unreadable '# quarter: YYYY-MM-DD' header") from None


def _rows_count(path: Path, head: dict[str, str]) -> int:
    text = head.get("rows", "")
    if not text.split(" ", 1)[0].isdigit():
        raise NcciError(f"{path}: missing '# rows: N' header")
    return int(text.split(" ", 1)[0])


def _bad_line(path: Path, lineno: int, line: str, what: str) -> NcciError:
    return NcciError(f"{path} line {lineno}: malformed {what} row {line.rstrip()[:60]!r}")


def _read_ptp(path: Path) -> _PtpTable:
    with _open_table(path, "NCCI PTP") as fh:
        try:
            head, inputs, nhead, first = _header(path, fh, PTP_FORMAT)
            quarter = _quarter_of(path, head)
            expected = _rows_count(path, head)
            quarter_ymd = _ymd(quarter)
            rationale_of: dict[str, str] = {}  # rationale text (with its newline) -> its record character
            packed: dict[str, str] = {}
            codes_ok: set[str] = set()  # codes already checked (a code repeats thousands of times)
            current = last = ""
            records: list[str] = []
            append = records.append
            rows = active = 0
            lineno = nhead
            counted = ""  # the last pair counted as active (a pair's rows are adjacent)
            # One split per row and cheap checks: a full CMS quarter has about a million rows.
            for line in _chain(first, fh):
                lineno += 1
                try:
                    c1, c2, ind, eff, dele, rat = line.split("\t")
                except ValueError:
                    if not line.strip():
                        continue
                    raise _bad_line(path, lineno, line, "PTP") from None
                if ind != "0" and ind != "1":
                    raise _bad_line(path, lineno, line, "PTP")
                if eff == "*":
                    eff = _NO_EFFECTIVE
                elif len(eff) != 8 or not eff.isdigit():
                    raise _bad_line(path, lineno, line, "PTP")
                if dele == "*":
                    dele = _NO_DELETION
                elif len(dele) != 8 or not dele.isdigit():
                    raise _bad_line(path, lineno, line, "PTP")
                for code in (c1, c2):
                    if code not in codes_ok:
                        if not _TABLE_CODE.fullmatch(code):
                            raise _bad_line(path, lineno, line, "PTP")
                        codes_ok.add(code)
                key = c2 + c1
                if key < last:
                    raise NcciError(f"{path} line {lineno}: rows not sorted by column 2 then column 1")
                last = key
                ch = rationale_of.get(rat)
                if ch is None:
                    if not rat.endswith("\n"):
                        rat += "\n"  # the last line
                    if "\r" in rat:
                        raise _bad_line(path, lineno, line, "PTP")
                    ch = rationale_of.get(rat)
                    if ch is None:
                        if len(rationale_of) >= len(_RATIONALE_CHARS):
                            raise NcciError(f"{path} line {lineno}: more than {len(_RATIONALE_CHARS)} distinct rationales")
                        ch = rationale_of[rat] = _RATIONALE_CHARS[len(rationale_of)]
                if dele >= quarter_ymd and key != counted:
                    active += 1
                    counted = key
                if c2 != current:
                    if records:
                        packed[current] = "".join(records)
                    current, records = c2, []
                    append = records.append
                append(c1 + ind + eff + dele + ch)
                rows += 1
            if records:
                packed[current] = "".join(records)
        except UnicodeDecodeError:
            raise NcciError(f"{path}: not UTF-8 text") from None
    if rows != expected:
        raise NcciError(f"{path}: {rows} rows where its header says {expected} (truncated?)")
    rationales = tuple(sys.intern(r[:-1]) for r in rationale_of)  # in index order (dicts keep insertion order)
    return _PtpTable(path, quarter, head.get("source", ""), tuple(inputs), rows, active, packed, rationales)


def _chain(first: str, rest: Iterable[str]) -> Iterator[str]:
    if first:
        yield first
    yield from rest


def _read_mue(path: Path) -> _MueTable:
    with _open_table(path, "NCCI MUE") as fh:
        try:
            head, inputs, nhead, first = _header(path, fh, MUE_FORMAT)
            quarter = _quarter_of(path, head)
            expected = _rows_count(path, head)
            codes: dict[str, tuple[int, int, str]] = {}
            rationales: dict[str, str] = {}
            lineno = nhead
            for line in _chain(first, fh):
                lineno += 1
                m = _MUE_ROW.match(line)
                if m is None:
                    if not line.strip():
                        continue
                    raise _bad_line(path, lineno, line, "MUE")
                code, value, mai, rat = m.groups()
                if code in codes:
                    raise NcciError(f"{path} line {lineno}: code {code} twice")
                codes[code] = (int(value), int(mai), rationales.setdefault(rat, rat))
        except UnicodeDecodeError:
            raise NcciError(f"{path}: not UTF-8 text") from None
    if len(codes) != expected:
        raise NcciError(f"{path}: {len(codes)} rows where its header says {expected} (truncated?)")
    return _MueTable(path, quarter, head.get("source", ""), tuple(inputs), codes)


_BYPASS_KEYS = {"modifiers", "column2", "column2_from", "column2_to", "label", "source"}
_META_KEYS = {"title", "source", "effective_from"}


def _read_modifiers(path: Path) -> Bypass:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise NcciError(f"{path}: missing (the NCCI bypass modifiers; reinstall)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise NcciError(f"{path}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise NcciError(f"{path}: not valid TOML: {exc}") from None
    meta = data.get("meta")
    if not isinstance(meta, dict) or set(meta) != _META_KEYS:
        raise NcciError(f"{path}: [meta] must have exactly {', '.join(sorted(_META_KEYS))}")
    if not isinstance(meta["effective_from"], datetime.date) or not all(
            isinstance(meta[k], str) and meta[k].strip() for k in ("title", "source")):
        raise NcciError(f"{path}: [meta] title and source must be text, effective_from a date")
    if set(data) != {"meta", "bypass"} or not isinstance(data["bypass"], list) or not data["bypass"]:
        raise NcciError(f"{path}: expected [meta] and one or more [[bypass]] tables only")
    rules = []
    for n, item in enumerate(data["bypass"], 1):
        where = f"{path}: [[bypass]] #{n}"
        if not isinstance(item, dict) or set(item) - _BYPASS_KEYS:
            unknown = sorted(set(item) - _BYPASS_KEYS) if isinstance(item, dict) else ["?"]
            raise NcciError(f"{where}: unknown key {unknown[0]!r} (allowed: {', '.join(sorted(_BYPASS_KEYS))})")
        mods = item.get("modifiers")
        if not isinstance(mods, list) or not mods or not all(isinstance(m, str) and _MODIFIER.fullmatch(m) for m in mods):
            raise NcciError(f"{where}: modifiers must be a list of 2-character modifiers")
        for key in ("label", "source"):
            if not isinstance(item.get(key), str) or not item[key].strip():
                raise NcciError(f"{where}: {key} must be a non-empty string")
        if item.get("column2") == "any" and "column2_from" not in item and "column2_to" not in item:
            low = high = ""
        elif "column2" not in item and all(isinstance(item.get(k), str) and _CODE.fullmatch(item[k])
                                           for k in ("column2_from", "column2_to")):
            low, high = item["column2_from"], item["column2_to"]
            if low > high:
                raise NcciError(f"{where}: column2_from is after column2_to")
        else:
            raise NcciError(f'{where}: give column2 = "any", or column2_from and column2_to (codes)')
        rules.append(BypassRule(frozenset(mods), low, high, item["label"], item["source"]))
    return Bypass(tuple(rules), meta["title"], meta["source"], meta["effective_from"], path)


def _peek_quarter(path: Path | None, fmt: str) -> datetime.date | None:
    """The quarter of a table from its header only (None: no such file)."""
    if path is None or not path.is_file():
        return None
    with _open_table(path, "NCCI") as fh:
        try:
            head, _, _, _ = _header(path, fh, fmt)
        except UnicodeDecodeError:
            raise NcciError(f"{path}: not UTF-8 text") from None
    return _quarter_of(path, head)


def table_path(name: str) -> Path:
    """The table file to read: the data folder's copy, unless the shipped one is of a newer quarter
    (the package was upgraded after the operator added a quarter); modifiers.toml: as map_path."""
    overlay = overlay_path(FOLDER, name)
    shipped = shipped_path(FOLDER, name)
    if overlay is None:
        return shipped
    fmt = {PTP_NAME: PTP_FORMAT, MUE_NAME: MUE_FORMAT}.get(name)
    if fmt is None:
        return overlay
    mine, theirs = _peek_quarter(overlay, fmt), _peek_quarter(shipped, fmt)
    return shipped if theirs is not None and mine is not None and theirs > mine else overlay


def load_ncci(ptp_path: Path | None = None, mue_path: Path | None = None,
              modifiers_path: Path | None = None) -> Ncci:
    """The NCCI tables: by default the data folder's copies or the shipped ones (loaded once, cached).

    Raises :class:`NcciError` (one line naming the file and line) when a table is missing or malformed.
    """
    if ptp_path is None and mue_path is None and modifiers_path is None:
        return _load_default()
    return Ncci(_read_ptp(Path(ptp_path) if ptp_path else table_path(PTP_NAME)),
                _read_mue(Path(mue_path) if mue_path else table_path(MUE_NAME)),
                _read_modifiers(Path(modifiers_path) if modifiers_path else table_path(MODIFIERS_NAME)))


@lru_cache(maxsize=1)
def _load_default() -> Ncci:
    return Ncci(_read_ptp(table_path(PTP_NAME)), _read_mue(table_path(MUE_NAME)),
                _read_modifiers(table_path(MODIFIERS_NAME)))


@on_change
def reset() -> None:
    """Forget the cached tables (the data folder changed, or a table was added)."""
    _load_default.cache_clear()


def quarters() -> tuple[datetime.date, datetime.date]:
    """(PTP quarter, MUE quarter) of the tables in use, from their headers only (no table loaded)."""
    ptp = _peek_quarter(table_path(PTP_NAME), PTP_FORMAT)
    mue = _peek_quarter(table_path(MUE_NAME), MUE_FORMAT)
    if ptp is None or mue is None:
        raise NcciError(f"NCCI table missing: {table_path(PTP_NAME if ptp is None else MUE_NAME)}")
    return ptp, mue


def describe() -> list[str]:
    """Lines for ``scrubber codesets``: per table its title, quarter, counts, source and path."""
    n = load_ncci()
    return [
        f"ncci     {PTP_TITLE}: quarter {n.ptp_quarter.isoformat()}, {n.ptp_rows:,} edits "
        f"(modifier indicator 0 or 1), {n.ptp_active:,} active pairs",
        f"         source: {n.ptp_source}",
        f"         inputs: {'; '.join(i.split(' sha256=')[0] for i in n.ptp_inputs) or '-'}",
        f"         table: {n.ptp_path}",
        f"ncci     {MUE_TITLE}: quarter {n.mue_quarter.isoformat()}, {n.mue_rows:,} codes",
        f"         source: {n.mue_source}",
        f"         inputs: {'; '.join(i.split(' sha256=')[0] for i in n.mue_inputs) or '-'}",
        f"         table: {n.mue_path}",
        "         dates of service after a quarter are checked against it (NCCI quarters have no end date)",
        f"         bypass modifiers: {n.bypass.path}",
    ]


# --- reading CMS files ---------------------------------------------------------------------------


@dataclass
class Source:
    """One converted CMS (or subset) input file."""

    kind: str  # "ptp" or "mue"
    name: str
    sha256: str
    quarter: datetime.date
    note: str  # the subset's first line, or ""
    rows: list[str]  # canonical table lines without newline (PTP: every kept row; MUE: one per code)
    read: int  # data rows read (PTP: indicator 9 rows included)


def _decode(raw: bytes) -> str:
    for enc in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")


_ISO_NAME = re.compile(r"(?<![0-9])(\d{4})-(\d{2})-(\d{2})(?![0-9])")
_US_NAME = re.compile(r"(?<![0-9])(\d{2})[-_.](\d{2})[-_.](\d{4})(?![0-9])")
_COMPACT_NAME = re.compile(r"(?<![0-9])(20\d{2})(\d{2})(\d{2})(?![0-9])")
_Q_NAME = re.compile(r"(?<![0-9])(20\d{2})[ _-]?q([1-4])(?![0-9])", re.IGNORECASE)
_VERSION_NAME = re.compile(r"v(\d{2})(\d)r\d+", re.IGNORECASE)  # NCCI version vYYQ: v302 = 30.2 = 2024-07-01
_EFFECTIVE_LINE = re.compile(r"effective\s+(\d{4})-(\d{2})-(\d{2})", re.IGNORECASE)


def _date_or_none(y: str, m: str, d: str) -> datetime.date | None:
    try:
        return datetime.date(int(y), int(m), int(d))
    except ValueError:
        return None


def quarter_from_name(name: str) -> datetime.date | None:
    """The quarter's effective date from a CMS or subset file name (``..._Eff_07-01-2024...``,
    ``...2024-07-01...``, ``...2024Q3...``, NCCI version ``ccipra-v302r0-...``), else None."""
    for rx, order in ((_ISO_NAME, (1, 2, 3)), (_US_NAME, (3, 1, 2)), (_COMPACT_NAME, (1, 2, 3))):
        m = rx.search(name)
        if m:
            found = _date_or_none(*(m.group(i) for i in order))
            if found is not None:
                return found
    m = _Q_NAME.search(name)
    if m:
        return datetime.date(int(m.group(1)), 3 * int(m.group(2)) - 2, 1)
    m = _VERSION_NAME.search(name)
    if m and int(m.group(2)) <= 3:
        return datetime.date(1994 + int(m.group(1)), 3 * int(m.group(2)) + 1, 1)
    return None


def _norm(cell: str) -> str:
    return " ".join(cell.replace("_", " ").lower().split())


def _ptp_kind(text: str) -> str | None:
    if "1996" in text or "existence" in text:
        return "prior"
    if re.search(r"\bcolumn ?(1|one)\b", text):
        return "column1"
    if re.search(r"\bcolumn ?(2|two)\b", text):
        return "column2"
    if "deletion" in text:
        return "deletion"
    if "effective" in text:
        return "effective"
    if "modifier" in text:
        return "indicator"
    if "rationale" in text:
        return "rationale"
    return None


def _mue_kind(text: str) -> str | None:
    if "rationale" in text:
        return "rationale"
    if "adjudication" in text or text == "mai":
        return "mai"
    if "mue" in text:
        return "value"
    if "hcpcs" in text or "cpt" in text or text == "code":
        return "code"
    return None


_REQUIRED = {"ptp": ("column1", "column2", "deletion", "indicator"), "mue": ("code", "value", "mai")}


def _columns(header_rows: list[list[str]], kind: str) -> dict[str, int] | None:
    """Column index of each field, from the header rows merged column by column (None: not this kind)."""
    width = max(len(r) for r in header_rows)
    texts = [_norm(" ".join(r[i] for r in header_rows if i < len(r) and r[i].strip())) for i in range(width)]
    classify = _ptp_kind if kind == "ptp" else _mue_kind
    found: dict[str, int] = {}
    for i, text in enumerate(texts):
        k = classify(text) if text else None
        if k is not None and k not in found:
            found[k] = i
    return found if all(k in found for k in _REQUIRED[kind]) else None


def _cells(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """(line number, stripped cells) of each row."""
    if delimiter == "\t":
        for lineno, line in enumerate(text.splitlines(), 1):
            cells = []
            for c in line.split("\t"):
                c = c.strip()
                if len(c) >= 2 and c[0] == c[-1] == '"':
                    c = c[1:-1].replace('""', '"').strip()
                cells.append(c)
            yield lineno, cells
        return
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        for row in reader:
            yield reader.line_num, [c.strip() for c in row]
    except csv.Error as exc:
        raise NcciError(f"line {reader.line_num}: not readable as CSV: {exc}") from None


_FIRST_DATA = re.compile(r'^[ \t]*"?(?:[0-9]{4}[0-9A-Z]|[A-Z][0-9]{4})"?[ \t]*([\t,])', re.MULTILINE)


def _is_data(cells: list[str]) -> bool:
    return len(cells) >= 2 and bool(_CODE.fullmatch(cells[0])) and (
        bool(_CODE.fullmatch(cells[1])) or cells[1].isdigit())


def read_source(src: Path, quarter: datetime.date | None = None) -> Source:
    """Read a CMS NCCI practitioner PTP or MUE file (or a subset TSV) into table rows.

    The kind comes from the header row; the quarter from ``quarter``, else the file name, else an
    ``effective YYYY-MM-DD`` line before the header. Raises :class:`NcciError` (one line).
    """
    src = Path(src)
    name = src.name
    try:
        raw = src.read_bytes()
    except FileNotFoundError:
        raise NcciError(f"{src}: no such file") from None
    except IsADirectoryError:
        raise NcciError(f"{src}: is a folder, not a CMS NCCI file") from None
    except OSError as exc:
        raise NcciError(f"{src}: cannot read: {exc.strerror or exc}") from None
    if raw[:2] == b"PK":
        raise NcciError(f"{name}: a zip archive (or .xlsx): unzip it and add the .txt or .csv table inside")
    if raw[:2] == b"\x1f\x8b":
        raise NcciError(f"{name}: gzipped: add the uncompressed .txt or .csv table")
    if b"\x00" in raw[:4096]:
        raise NcciError(f"{name}: not a text file (a CMS NCCI table as .txt or .csv is expected)")
    digest = hashlib.sha256(raw).hexdigest()
    text = _decode(raw)
    del raw
    m = _FIRST_DATA.search(text)
    delimiter = m.group(1) if m is not None else ("\t" if "\t" in text else ",")
    first_data_line = text.count("\n", 0, m.start()) + 1 if m is not None else 0

    cells = _cells(text, delimiter)
    before: list[tuple[int, list[str]]] = []
    first = None
    try:
        for lineno, row in cells:
            if m is not None and lineno >= first_data_line and _is_data(row):
                first = (lineno, row)
                break
            before.append((lineno, row))
    except NcciError as exc:
        raise NcciError(f"{name} {exc}") from None
    if first is None:
        for _, row in before:
            for k in ("ptp", "mue"):
                if any(row) and _columns([row], k) is not None:
                    raise NcciError(f"{name}: a CMS NCCI {k.upper()} header but no rows")
        raise NcciError(f"{name}: no rows, and no CMS PTP header (Column 1, Column 2, Deletion Date, Modifier ...) "
                        f"or MUE header (HCPCS/CPT Code, MUE Values, MUE Adjudication Indicator ...)")
    # The header: the fewest non-blank rows just above the first data row that name the columns.
    nonblank = [r for _, r in before if any(r)]
    kind = cols = None
    for size in range(1, min(len(nonblank), 6) + 1):
        rows = nonblank[-size:]
        for k in ("ptp", "mue"):
            found = _columns(rows, k)
            if found is not None:
                kind, cols = k, found
                break
        if kind:
            break
    if kind is None or cols is None:
        raise NcciError(f"{name}: no CMS PTP header (Column 1, Column 2, Deletion Date, Modifier ...) or MUE header "
                        f"(HCPCS/CPT Code, MUE Values, MUE Adjudication Indicator ...) above line {first[0]}")
    note = ""
    for _, row in before:
        line = " ".join(c for c in row if c)
        if line.startswith("#") and not note:
            note = line.lstrip("# ").strip()
    if quarter is None:
        quarter = quarter_from_name(name)
    if quarter is None:
        for _, row in before:
            e = _EFFECTIVE_LINE.search(" ".join(row))
            if e and _date_or_none(*e.groups()):
                quarter = _date_or_none(*e.groups())
                break
    if quarter is None:
        raise NcciError(f"{name}: cannot tell the quarter from the file name (e.g. ..._Eff_07-01-2024... or "
                        f"...2024-07-01...); give it explicitly")
    try:
        if kind == "ptp":
            out, read = _ptp_rows(name, cols, _chain_rows(first, cells))
        else:
            out, read = _mue_rows(name, cols, _chain_rows(first, cells))
    except NcciError as exc:
        if str(exc).startswith(name):
            raise
        raise NcciError(f"{name} {exc}") from None
    if not out:
        what = "no PTP edits with modifier indicator 0 or 1" if kind == "ptp" and read else "no rows"
        raise NcciError(f"{name}: {what}")
    return Source(kind, name, digest, quarter, note, out, read)


def _chain_rows(first, rest):
    yield first
    yield from rest


def _cell(row: list[str], i: int | None) -> str:
    return row[i] if i is not None and i < len(row) else ""


def _ptp_rows(name: str, cols: dict[str, int], rows) -> tuple[list[str], int]:
    c1i, c2i, deli, indi = cols["column1"], cols["column2"], cols["deletion"], cols["indicator"]
    effi, rati = cols.get("effective"), cols.get("rationale")
    need = max(c1i, c2i, deli, indi)
    seen: set[str] = set()
    read = 0
    for lineno, row in rows:
        if not any(row):
            continue
        def bad(why: str) -> NcciError:
            return NcciError(f"{name} line {lineno}: malformed PTP row: {why}")
        if len(row) <= need:
            raise bad(f"{len(row)} columns, {need + 1} expected")
        c1, c2, ind = row[c1i], row[c2i], row[indi]
        if not _CODE.fullmatch(c1):
            raise bad(f"column 1 {c1!r} is not a CPT/HCPCS code")
        if not _CODE.fullmatch(c2):
            raise bad(f"column 2 {c2!r} is not a CPT/HCPCS code")
        if ind not in ("0", "1", "9"):
            raise bad(f"modifier indicator {ind!r} is not 0, 1 or 9")
        dele = _ymd_cell(row[deli], "deletion date", bad)
        eff = _ymd_cell(_cell(row, effi), "effective date", bad)
        rat = " ".join(_cell(row, rati).split())
        read += 1
        if ind == "9":
            continue  # not an edit
        seen.add(f"{c1}\t{c2}\t{ind}\t{eff}\t{dele}\t{rat}")
    return sorted(seen, key=_ptp_key), read


def _ptp_key(row: str) -> str:
    """Sort key of a PTP table line: column 2, then column 1, then the rest."""
    return row[6:11] + row[:5] + row[11:]


def _ymd_cell(text: str, what: str, bad) -> str:
    t = text.strip()
    if t in ("", "*"):
        return "*"
    if _parse_ymd(t) is None:
        raise bad(f"{what} {text!r} is not YYYYMMDD or *")
    return t


def _mue_rows(name: str, cols: dict[str, int], rows) -> tuple[list[str], int]:
    ci, vi, mi, ri = cols["code"], cols["value"], cols["mai"], cols.get("rationale")
    need = max(ci, vi, mi)
    out: dict[str, str] = {}
    read = 0
    for lineno, row in rows:
        if not any(row):
            continue
        def bad(why: str) -> NcciError:
            return NcciError(f"{name} line {lineno}: malformed MUE row: {why}")
        if len(row) <= need:
            raise bad(f"{len(row)} columns, {need + 1} expected")
        code, value, mai = row[ci], row[vi], row[mi]
        if not _CODE.fullmatch(code):
            raise bad(f"code {code!r} is not a CPT/HCPCS code")
        if not value.isdigit() or len(value) > 6:
            raise bad(f"MUE value {value!r} is not a whole number")
        mm = re.match(r"([123])(?![0-9])", mai)
        if mm is None:
            raise bad(f"MUE adjudication indicator {mai!r} is not 1, 2 or 3")
        if code in out:
            raise bad(f"code {code} twice")
        rat = " ".join(_cell(row, ri).split())
        out[code] = f"{code}\t{int(value)}\t{mm.group(1)}\t{rat}"
        read += 1
    return [out[c] for c in sorted(out)], read


# --- writing tables ------------------------------------------------------------------------------


def _active(rows: Iterable[str], quarter: datetime.date) -> int:
    q = _ymd(quarter)
    pairs = set()
    for r in rows:
        dele = r.split("\t", 5)[4]
        if dele == "*" or dele >= q:
            pairs.add(r[:11])
    return len(pairs)


def _render(fmt: str, title: str, source: str, quarter: datetime.date, inputs: list[tuple[str, str, str]],
            notes: list[str], rows: list[str]) -> bytes:
    """A table file: the common header (format, title, source, quarter, inputs), ``notes`` (header
    lines of the table's own), then ``rows``."""
    out = io.StringIO()
    w = out.write
    w(f"# format: {fmt}\n")
    w(f"# title: {title}\n")
    w(f"# source: {source}\n")
    w(f"# quarter: {quarter.isoformat()}\n")
    for name, digest, _ in inputs:
        w(f"# input: {name} sha256={digest}\n")
    for name, _, note in inputs:
        if note:
            w(f"# input_note: {name}: {note}\n")
    for note in notes:
        w(f"# {note}\n")
    for r in rows:
        w(r)
        w("\n")
    return out.getvalue().encode("utf-8")


def render_ptp(rows: list[str], quarter: datetime.date, inputs: list[tuple[str, str, str]]) -> bytes:
    """The PTP table file: header, then ``rows`` (canonical lines, sorted). ``inputs``: (name, sha256, note)."""
    return _render(PTP_FORMAT, PTP_TITLE, PTP_SOURCE, quarter, inputs, [
        "kept: edits with modifier indicator 0 and 1, deleted ones with their deletion date; indicator 9 rows "
        "(not edits) left out",
        "columns: column1, column2, modifier_indicator (0 never together, 1 allowed with a bypass modifier), "
        "effective (YYYYMMDD, * = not in the input), deletion (YYYYMMDD, * = none), rationale (CMS's); "
        "tab-separated, sorted by column 2 then column 1",
        f"rows: {len(rows)}",
        f"active_pairs: {_active(rows, quarter)} (not deleted before the quarter)",
    ], rows)


def render_mue(rows: list[str], quarter: datetime.date, inputs: list[tuple[str, str, str]]) -> bytes:
    return _render(MUE_FORMAT, MUE_TITLE, MUE_SOURCE, quarter, inputs, [
        "columns: code, mue (most units payable; 0 = none), mai (MUE adjudication indicator: 1 per line, "
        "2 per date of service (policy), 3 per date of service (clinical)), rationale (CMS's); tab-separated, sorted",
        f"rows: {len(rows)}",
    ], rows)


def build(sources: list[Source]) -> dict[str, bytes]:
    """The table files (by name) for a set of inputs of one quarter per kind (PTP parts are merged)."""
    out: dict[str, bytes] = {}
    for kind, name, render in (("ptp", PTP_NAME, render_ptp), ("mue", MUE_NAME, render_mue)):
        mine = sorted((s for s in sources if s.kind == kind), key=lambda s: s.name)
        if not mine:
            raise NcciError(f"no {kind.upper()} input")
        quarters = {s.quarter for s in mine}
        if len(quarters) > 1:
            raise NcciError(f"{kind.upper()} inputs of different quarters: "
                            + ", ".join(f"{s.name} ({s.quarter})" for s in mine))
        if kind == "ptp":
            rows = sorted(set().union(*(s.rows for s in mine)), key=_ptp_key)
        else:
            merged: dict[str, str] = {}
            for s in mine:
                for r in s.rows:
                    code = r[:5]
                    if code in merged and merged[code] != r:
                        raise NcciError(f"MUE inputs disagree on {code}")
                    merged[code] = r
            rows = [merged[c] for c in sorted(merged)]
        out[name] = render(rows, quarters.pop(), [(s.name, s.sha256, s.note) for s in mine])
    return out


def _table_rows(path: Path, fmt: str) -> tuple[datetime.date, list[tuple[str, str, str]], list[str]]:
    """Re-read a written table for a merge: (quarter, inputs (name, sha256, note), rows)."""
    with _open_table(path, "NCCI") as fh:
        head, inputs, _, first = _header(path, fh, fmt)
        rows = [line.rstrip("\n") for line in _chain(first, fh) if line.strip()]
    with open(path, encoding="utf-8") as fh:
        notes = {}
        for line in fh:
            if not line.startswith("#"):
                break
            key, _, value = line[1:].strip().partition(":")
            if key.strip() == "input_note":
                n, _, note = value.strip().partition(": ")
                notes[n] = note
    parsed = []
    for value in inputs:
        n, _, digest = value.partition(" sha256=")
        parsed.append((n, digest, notes.get(n, "")))
    return _quarter_of(path, head), parsed, rows


def add_file(src: Path, data_dir: Path, quarter: datetime.date | None = None) -> str:
    """Convert one CMS NCCI practitioner PTP or MUE file into ``data_dir/ncci/`` (atomically).

    A PTP file of the quarter already there is merged with it (CMS ships a PTP quarter in several
    files); a newer quarter replaces it; an older quarter than the data folder's or the shipped
    table is refused. Returns a one-line summary; raises :class:`NcciError` (one line).
    """
    source = read_source(Path(src), quarter)
    name, fmt, render = ((PTP_NAME, PTP_FORMAT, render_ptp) if source.kind == "ptp"
                         else (MUE_NAME, MUE_FORMAT, render_mue))
    what = "PTP" if source.kind == "ptp" else "MUE"
    target = Path(data_dir) / FOLDER / name
    existing = _peek_quarter(target, fmt) if target.is_file() else None
    shipped = _peek_quarter(shipped_path(FOLDER, name), fmt)
    for have, where in ((existing, str(target)), (shipped, "the shipped table")):
        if have is not None and source.quarter < have:
            raise NcciError(f"{source.name}: NCCI {what} quarter {source.quarter.isoformat()} is older than "
                            f"{have.isoformat()} ({where}); not added")
    inputs = [(source.name, source.sha256, source.note)]
    rows = source.rows
    merged_with = 0
    base = target if existing is not None else shipped_path(FOLDER, name)
    if source.kind == "ptp" and (existing if existing is not None else shipped) == source.quarter:
        # Another part of the same quarter (or the same file again): add its rows to the table.
        try:
            _, old_inputs, old_rows = _table_rows(base, fmt)
        except UnicodeDecodeError:
            raise NcciError(f"{base}: not UTF-8 text") from None
        others = [i for i in old_inputs if i[0] != source.name]
        rows = sorted(set(old_rows).union(rows), key=_ptp_key)
        merged_with = len(others)
        inputs = sorted(others + inputs)
    data = render(rows, source.quarter, inputs)
    try:
        write_bytes_atomic(target, data)
    except OSError as exc:
        raise NcciError(f"{target}: cannot write: {exc.strerror or exc}") from None
    reset()
    q = source.quarter.isoformat()
    also = f" (merged with the quarter's {merged_with} earlier file{'s' if merged_with != 1 else ''})" if merged_with else ""
    if source.kind == "ptp":
        return f"{PTP_TITLE}, quarter {q}: {_active(rows, source.quarter):,} active pairs{also} -> {target}"
    return f"{MUE_TITLE}, quarter {q}: {len(rows):,} codes -> {target}"
