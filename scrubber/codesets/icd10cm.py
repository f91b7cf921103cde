"""ICD-10-CM code table by fiscal year: does a code exist, is it billable, what is its short title.

The data is ``maps/icd10cm/icd10cm.tsv.gz``, built from the CMS ICD-10-CM order files by
``tools/build_icd10cm.py`` (see ``maps/icd10cm/SOURCE.md``). Its header names the fiscal years it
covers, so nothing here hard-codes years. Fiscal year YYYY covers dates of service from
October 1 of YYYY-1 to September 30 of YYYY. A table may also hold the April update of a fiscal
year (``# april:`` header): dates of service from April 1 of that fiscal year are then checked
against the update, earlier ones against the October release.

Standard library only (plus :mod:`scrubber.mapsdir`).
"""

from __future__ import annotations

import datetime
import gzip
import operator
import re
import zlib
from bisect import bisect_left
from dataclasses import dataclass
from functools import lru_cache
from itertools import islice
from pathlib import Path

from scrubber.mapsdir import on_change, overlay_path, shipped_path

__all__ = ["CodeStatus", "Icd10cm", "load_icd10cm", "format_code", "normalize_code", "TABLE_NAME", "default_table_path"]

TABLE_NAME = "icd10cm.tsv.gz"
_FORMAT = "icd10cm-table 1"

# One well-formed code line (used to name the first bad line; loading checks with _CODES_RE).
_LINE = r"[A-Z][0-9A-Z]{2,6}\t[0-9a-f]{1,16}\t[0-9a-f]{1,16}\t[^\t\n\r]*"
_LINE_RE = re.compile(_LINE)
# The start of every code line, found right after its newline: one match per well-formed line.
_CODES_RE = re.compile(r"\n([A-Z][0-9A-Z]{2,6})\t[0-9a-f]{1,16}\t[0-9a-f]{1,16}\t")
_MASKS_RE = re.compile(r"\n[A-Z][0-9A-Z]{2,6}\t([0-9a-f]{1,16}\t[0-9a-f]{1,16})\t")


@dataclass(frozen=True, slots=True)
class CodeStatus:
    code: str  # without dot, upper case, e.g. "M5450"
    fiscal_year: int  # e.g. 2026
    exists: bool  # in that year's file at all
    billable: bool  # valid for submission that year
    title: str  # short title ('' if unknown)


def normalize_code(code: str) -> str:
    """``" m54.50 "`` -> ``"M5450"``: strip, drop dots, upper-case."""
    return code.strip().replace(".", "").upper()


def format_code(code: str) -> str:
    """``"M5450"`` -> ``"M54.50"``, ``"A00"`` -> ``"A00"`` (dot after the 3rd character when longer)."""
    c = normalize_code(code)
    return f"{c[:3]}.{c[3:]}" if len(c) > 3 else c


class Icd10cm:
    """ICD-10-CM codes by fiscal year. Build with :func:`load_icd10cm`.

    Internally the table's code lines are kept as one sorted list of strings
    (``CODE\tEXISTS_HEX\tBILLABLE_HEX\tTITLE``, bit i of a mask = ``fiscal_years[i]``) and looked up by
    bisection: because a tab sorts before every code character, the lines sort exactly like
    their codes. Masks and titles are parsed per lookup, which keeps loading fast and small.
    """

    __slots__ = ("fiscal_years", "april", "source", "effective", "path", "_bit", "_april_bit", "_lines")

    def __init__(self, fiscal_years: tuple[int, ...], source: str, lines: list[str], path: Path | None = None,
                 april: tuple[int, ...] = ()) -> None:
        self.fiscal_years = fiscal_years
        self.april = april  # fiscal years whose April update is loaded
        self.source = source
        self.path = path
        self.effective = (datetime.date(fiscal_years[0] - 1, 10, 1), datetime.date(fiscal_years[-1], 9, 30))
        self._bit = {fy: 1 << i for i, fy in enumerate(fiscal_years)}
        n = len(fiscal_years)
        self._april_bit = {fy: 1 << (n + i) for i, fy in enumerate(april)}
        self._lines = lines

    @property
    def releases(self) -> list[str]:
        """The loaded releases, oldest first: ``FY2026``, ``FY2027``, ``FY2027-04`` (an April update)."""
        out = [f"FY{fy}" for fy in self.fiscal_years]
        for fy in self.april:
            out.insert(out.index(f"FY{fy}") + 1, f"FY{fy}-04")
        return out

    def release_of(self, d: datetime.date) -> int | tuple[int, int]:
        """The release a date of service is checked against: its fiscal year, or ``(fy, 4)`` when the
        table holds that year's April update and the date is from April 1 on."""
        fy = d.year + 1 if d.month >= 10 else d.year
        if fy in self._april_bit and 4 <= d.month <= 9:
            return (fy, 4)
        return fy

    @staticmethod
    def release_label(release: int | tuple[int, int]) -> str:
        """``2027`` -> ``FY2027``; ``(2027, 4)`` -> ``FY2027 April update``."""
        if isinstance(release, tuple):
            return f"FY{release[0]} April update"
        return f"FY{release}"

    # --- dates ---------------------------------------------------------------------------------

    @staticmethod
    def fiscal_year_of(d: datetime.date) -> int:
        """Fiscal year of a date of service: Oct 1 of YYYY-1 .. Sep 30 of YYYY is FY YYYY."""
        return d.year + 1 if d.month >= 10 else d.year

    def covers(self, d: datetime.date) -> bool:
        """Is the fiscal year of ``d`` in the loaded table?"""
        return self.fiscal_year_of(d) in self._bit

    def _fy(self, d_or_fy: datetime.date | int | tuple[int, int]) -> int:
        if isinstance(d_or_fy, datetime.date):  # datetime.datetime is a date too
            return self.fiscal_year_of(d_or_fy)
        if isinstance(d_or_fy, int) and not isinstance(d_or_fy, bool):
            return d_or_fy
        if isinstance(d_or_fy, tuple):
            return d_or_fy[0]
        raise TypeError(f"expected a date or a fiscal year (int), got {type(d_or_fy).__name__}")

    def _bit_of(self, d_or_fy: datetime.date | int | tuple[int, int]) -> int:
        """The mask bit of the release a date (or fiscal year, or ``(fy, 4)``) is checked against."""
        if isinstance(d_or_fy, datetime.date):
            d_or_fy = self.release_of(d_or_fy)
        if isinstance(d_or_fy, tuple):
            return self._april_bit.get(d_or_fy[0], 0)
        return self._bit.get(self._fy(d_or_fy), 0)

    # --- lookups -------------------------------------------------------------------------------

    def _row(self, code: str) -> tuple[str, int, int, str] | None:
        c = normalize_code(code)
        if not c.isalnum():
            return None
        key = c + "\t"
        lines = self._lines
        i = bisect_left(lines, key)
        if i < len(lines) and lines[i].startswith(key):
            _, ex, bi, title = lines[i].split("\t")
            return c, int(ex, 16), int(bi, 16), title
        return None

    def status(self, code: str, d_or_fy: datetime.date | int) -> CodeStatus:
        """Status of ``code`` (dot optional, any case) in the fiscal year of a date, or a given FY.

        A fiscal year outside the table gives ``exists=False, billable=False`` (check
        :meth:`covers` first to tell "not loaded" from "not a code").
        """
        fy = self._fy(d_or_fy)
        row = self._row(code)
        if row is None:
            return CodeStatus(normalize_code(code), fy, False, False, "")
        c, ex, bi, title = row
        bit = self._bit_of(d_or_fy)
        return CodeStatus(c, fy, bool(ex & bit), bool(bi & bit), title)

    def billable_children(self, code: str, fy: int | tuple[int, int] | datetime.date, limit: int = 20) -> list[str]:
        """Billable codes starting with ``code`` (itself excluded) in fiscal year ``fy`` (or a release or
        date), sorted, at most ``limit``."""
        prefix = normalize_code(code)
        bit = self._bit_of(fy)
        out: list[str] = []
        if not prefix.isalnum() or not bit or limit <= 0:
            return out
        lines = self._lines
        n = len(lines)
        i = bisect_left(lines, prefix + "\t")
        while i < n and lines[i].startswith(prefix):
            child, _, bi, _ = lines[i].split("\t")
            if child != prefix and int(bi, 16) & bit:
                out.append(child)
                if len(out) >= limit:
                    break
            i += 1
        return out

    def years_of(self, code: str, april: bool = False) -> list[tuple[int, bool]]:
        """``[(fy, billable), ...]`` for each loaded fiscal year in which ``code`` exists (in the October
        releases; with ``april``, in the loaded April updates)."""
        row = self._row(code)
        if row is None:
            return []
        _, ex, bi, _ = row
        bits = self._april_bit if april else self._bit
        return [(fy, bool(bi & b)) for fy, b in bits.items() if ex & b]

    def title(self, code: str) -> str:
        """Short title from the newest fiscal year the code exists in ('' if unknown)."""
        row = self._row(code)
        return "" if row is None else row[3]

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and self._row(code) is not None

    def __len__(self) -> int:
        return len(self._lines)

    def __repr__(self) -> str:
        return f"<Icd10cm {len(self)} codes {self.releases[0]}..{self.releases[-1]}>"


# --- loading ---------------------------------------------------------------------------------------


def _bad(path: Path, lineno: int, why: str) -> ValueError:
    return ValueError(f"{path}:{lineno}: malformed ICD-10-CM table: {why}")


def _first_bad_line(lines: list[str], first_lineno: int) -> tuple[int, str]:
    for k, line in enumerate(lines):
        if not _LINE_RE.fullmatch(line):
            return first_lineno + k, line
    return first_lineno, lines[0]  # pragma: no cover - the fast checks and _LINE_RE agree


def _parse(path: Path, text: str) -> Icd10cm:
    # Header: '# key: value' lines at the top.
    header: dict[str, str] = {}
    pos = 0
    nhead = 0
    while text.startswith("#", pos):
        end = text.find("\n", pos)
        if end < 0:
            end = len(text)
        nhead += 1
        key, _, value = text[pos + 1 : end].strip().partition(":")
        header.setdefault(key.strip(), value.strip())
        pos = end + 1
    if header.get("format") != _FORMAT:
        raise _bad(path, 1, f"expected a '# format: {_FORMAT}' header first, got {header.get('format')!r}")
    try:
        fiscal_years = tuple(int(y) for y in header["fiscal_years"].split())
    except (KeyError, ValueError):
        raise _bad(path, nhead, "missing or unreadable '# fiscal_years:' header") from None
    if not fiscal_years or list(fiscal_years) != sorted(set(fiscal_years)):
        raise _bad(path, nhead, "'# fiscal_years:' must list distinct years in ascending order")
    try:
        april = tuple(int(y) for y in header.get("april", "").split())
    except ValueError:
        raise _bad(path, nhead, "unreadable '# april:' header") from None
    if list(april) != sorted(set(april)) or not set(april) <= set(fiscal_years):
        raise _bad(path, nhead, "'# april:' must list distinct fiscal years of '# fiscal_years:' in ascending order")
    source = header.get("source", "")
    if "effective" in header:
        source = f"{source}; FY{fiscal_years[0]}-FY{fiscal_years[-1]}, {header['effective'].split(' (')[0]}"

    lines = text.split("\n")
    del lines[:nhead]
    if lines and lines[-1] == "":
        lines.pop()
    first = nhead + 1  # line number of lines[0]
    if not lines:
        raise _bad(path, first, "no codes")
    # Syntax, in C: every line must start CODE<TAB>HEX<TAB>HEX<TAB> (one match per line, each
    # found right after a newline) and hold exactly three tabs; no carriage returns.
    cr = text.find("\r")
    if cr >= 0:
        raise _bad(path, text.count("\n", 0, cr) + 1, "carriage return (the table uses \\n line ends)")
    # (Two single-group passes: lists of strings, no tuples, so the cyclic GC stays out of it.)
    codes = _CODES_RE.findall(text, pos - 1)
    if len(codes) != len(lines) or text.count("\t", pos) != 3 * len(lines):
        lineno, line = _first_bad_line(lines, first)
        raise _bad(path, lineno, f"expected CODE<TAB>EXISTS_HEX<TAB>BILLABLE_HEX<TAB>TITLE, got {line[:60]!r}")
    masks = _MASKS_RE.findall(text, pos - 1)  # same matches as _CODES_RE, so one per line
    # Sorted, no duplicates (then the lines sort like their codes, which the lookups rely on).
    if not all(map(operator.lt, codes, islice(codes, 1, None))):
        k = next(k for k in range(1, len(codes)) if not codes[k - 1] < codes[k])
        raise _bad(path, first + k, f"codes not sorted or duplicated ({codes[k - 1]} then {codes[k]})")
    # Masks: only a few dozen distinct pairs; check each once.
    full = (1 << (len(fiscal_years) + len(april))) - 1
    for pair in set(masks):
        ex, bi = (int(x, 16) for x in pair.split("\t"))
        if not ex or ex > full or bi & ~ex:
            k = masks.index(pair)
            raise _bad(path, first + k, f"bad masks for {codes[k]} ({pair!r}): exists must be non-zero, "
                       f"within {len(fiscal_years) + len(april)} releases, and include every billable year")
    return Icd10cm(fiscal_years, source, lines, path, april)


def load_icd10cm(path: Path | None = None) -> Icd10cm:
    """Load the ICD-10-CM table (default: the shipped one, loaded once and cached).

    Raises ``ValueError`` naming the file (and line) when the table is malformed.
    """
    if path is None:
        return _load_default()
    return _load(Path(path))


def default_table_path() -> Path:
    """The table a run uses: the data folder's (written by ``scrubber codesets add``) unless the shipped
    one holds a newer release (after an upgrade), so that neither an update nor an upgrade is lost."""
    shipped = shipped_path("icd10cm", TABLE_NAME)
    mine = overlay_path("icd10cm", TABLE_NAME)
    if mine is None:
        return shipped
    try:
        if _newest_release(shipped) > _newest_release(mine):
            return shipped
    except (OSError, ValueError, EOFError, zlib.error):
        pass  # a broken copy in the data folder is reported when it is loaded
    return mine


def _newest_release(path: Path) -> tuple[int, int]:
    """(newest fiscal year, 1 if it has its April update) from a table's header lines."""
    with open(path, "rb") as fh:
        gzipped = fh.read(2) == b"\x1f\x8b"
    opener = gzip.open if gzipped else open
    fys: list[int] = []
    aprils: list[int] = []
    with opener(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            if not line.startswith("#"):
                break
            key, _, value = line[1:].strip().partition(":")
            if key.strip() == "fiscal_years":
                fys = [int(y) for y in value.split()]
            elif key.strip() == "april":
                aprils = [int(y) for y in value.split()]
    if not fys:
        raise ValueError(f"{path}: no fiscal_years header")
    return (fys[-1], int(fys[-1] in aprils))


@lru_cache(maxsize=1)
def _load_default() -> Icd10cm:
    return _load(default_table_path())


on_change(_load_default.cache_clear)


def _load(path: Path) -> Icd10cm:
    raw = path.read_bytes()
    try:
        text = (gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw).decode("utf-8")
    except (OSError, EOFError, zlib.error, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: unreadable ICD-10-CM table ({exc})") from None
    return _parse(path, text)
