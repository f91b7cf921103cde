"""Build (or extend) the ICD-10-CM table from the CMS ICD-10-CM order files.

Used by ``scrubber codesets add`` and by ``tools/build_icd10cm.py`` (the rebuild script).

The inputs are the CMS "order" files (``icd10cm_order_YYYY.txt``, optionally gzipped), one per
fiscal year (October release), fixed width: cols 1-5 order number, 7-13 code without dot,
col 15 1=billable/0=header, 17-76 short title, 78- long title.

The output is ONE gzip (mtime 0, no file name, so it is byte-for-byte reproducible) of a UTF-8 text
file: a ``#`` header block (source, input files with sha256, fiscal years, effective dates), then one
line per code, sorted by code::

    CODE<TAB>EXISTS_MASK<TAB>BILLABLE_MASK<TAB>SHORT_TITLE

Masks are lower-case hex bitmasks over the header's ``fiscal_years`` list (bit 0 = first year);
the title is the short title from the newest year the code exists in. ``add`` re-reads the table,
merges the new year and writes it again; the result is identical to a full rebuild from a folder
holding the same input files. Standard library only.
"""

from __future__ import annotations

import datetime
import gzip
import hashlib
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from scrubber.errors import ScrubberError

__all__ = ["BuildError", "Table", "add", "build", "read_order_file", "read_table", "render_table", "write_table"]

FORMAT = "icd10cm-table 1"
SOURCE = "CMS ICD-10-CM order files (October releases), https://www.cms.gov/medicare/coding-billing/icd-10-codes"
_NAME_RE = re.compile(r"icd10cm[_-]order[_-](\d{4})(?:[^0-9].*)?\.txt(?:\.gz)?$", re.IGNORECASE)
_CODE_RE = re.compile(r"[A-Z][0-9A-Z]{2,6}")
_BODY_RE = re.compile(r"([A-Z][0-9A-Z]{2,6})\t([0-9a-f]+)\t([0-9a-f]+)\t([^\t]*)")


class BuildError(ScrubberError):
    """A code-set input or table that cannot be used: ``str(exc)`` is one line."""


@dataclass
class InputFile:
    fiscal_year: int
    name: str
    sha256: str


@dataclass
class Table:
    """In-memory form: code -> {fy: billable}; titles from the newest release each code exists in.

    ``inputs``/``years`` hold the October releases (one per fiscal year); ``april``/``april_years``
    the April updates, each of which applies from April 1 of its fiscal year.
    """

    inputs: dict[int, InputFile] = field(default_factory=dict)
    years: dict[str, dict[int, bool]] = field(default_factory=dict)
    titles: dict[str, tuple[float, str]] = field(default_factory=dict)  # code -> (release rank, title)
    april: dict[int, InputFile] = field(default_factory=dict)
    april_years: dict[str, dict[int, bool]] = field(default_factory=dict)

    def add_year(self, fy: int, entries: dict[str, tuple[bool, str]], src: InputFile) -> None:
        if fy in self.inputs:
            raise BuildError(f"fiscal year {fy} is already in the table (from {self.inputs[fy].name})")
        self.inputs[fy] = src
        self._merge(self.years, fy, float(fy), entries)

    def add_april(self, fy: int, entries: dict[str, tuple[bool, str]], src: InputFile) -> None:
        if fy in self.april:
            raise BuildError(f"the April update of fiscal year {fy} is already in the table (from {self.april[fy].name})")
        if fy not in self.inputs:
            raise BuildError(f"an April update of FY{fy} needs the October release of FY{fy} in the table first")
        self.april[fy] = src
        self._merge(self.april_years, fy, fy + 0.5, entries)

    def _merge(self, years: dict[str, dict[int, bool]], fy: int, rank: float, entries: dict[str, tuple[bool, str]]) -> None:
        for code, (billable, title) in entries.items():
            years.setdefault(code, {})[fy] = billable
            old = self.titles.get(code)
            if old is None or rank > old[0]:
                self.titles[code] = (rank, title)

    def newest(self) -> tuple[int, bool]:
        """(fiscal year, is April) of the newest release in the table."""
        fy = max(self.inputs)
        return (fy, True) if fy in self.april else (fy, False)

    def release(self, fy: int, april: bool = False) -> dict[str, tuple[bool, str]]:
        """One release's codes as ``{code: (billable, title)}`` (titles: the newest known)."""
        years = self.april_years if april else self.years
        return {code: (y[fy], self.titles[code][1]) for code, y in years.items() if fy in y}


def is_order_file(path: Path) -> bool:
    """Named as a CMS order file (``icd10cm_order_YYYY.txt``, or ``.txt.gz``)."""
    return bool(_NAME_RE.search(path.name))


def fiscal_year_from_name(path: Path) -> int:
    m = _NAME_RE.search(path.name)
    if not m:
        raise BuildError(f"{path}: cannot tell the fiscal year from the file name; pass --fy YEAR")
    return int(m.group(1))


def read_order_file(path: Path) -> tuple[dict[str, tuple[bool, str]], str]:
    """Parse one CMS order file -> ({code: (billable, short title)}, sha256 of the file)."""
    raw = path.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BuildError(f"{path}: not UTF-8/ASCII text ({exc})") from None
    entries: dict[str, tuple[bool, str]] = {}
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        code = line[6:13].strip()
        flag = line[14:15]
        if (
            len(line) < 17
            or not line[:5].isdigit()
            or line[5] != " "
            or line[13] != " "
            or line[15] != " "
            or flag not in ("0", "1")
            or not _CODE_RE.fullmatch(code)
        ):
            raise BuildError(f"{path}:{lineno}: not an ICD-10-CM order-file line: {line[:40]!r}")
        title = line[16:76].strip()  # fixed-width padding (two FY titles also start with a space)
        if "\t" in title:
            raise BuildError(f"{path}:{lineno}: tab in the short title of {code}")
        if code in entries:
            raise BuildError(f"{path}:{lineno}: code {code} appears twice")
        entries[code] = (flag == "1", title)
    if not entries:
        raise BuildError(f"{path}: no codes found")
    return entries, digest


def read_table(path: Path) -> Table:
    """Re-read a table written by write_table (for --add)."""
    if not path.is_file():
        raise BuildError(f"{path}: no such table to add to (build it first, or pass --out)")
    try:
        text = gzip.decompress(path.read_bytes()).decode("utf-8")
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise BuildError(f"{path}: not a gzipped UTF-8 table ({exc})") from None
    table = Table()
    fys: list[int] | None = None
    aprils: list[int] = []
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for lineno, line in enumerate(lines, 1):
        if line.startswith("#"):
            key, _, value = line[1:].strip().partition(":")
            value = value.strip()
            if key == "fiscal_years":
                fys = [int(y) for y in value.split()]
            elif key == "april":
                aprils = [int(y) for y in value.split()]
            elif key == "input":
                # input: FY NAME sha256=HEX  (FY-04 for an April update)
                parts = value.split()
                if len(parts) != 3 or not parts[2].startswith("sha256=") or not re.fullmatch(r"\d{4}(-04)?", parts[0]):
                    raise BuildError(f"{path}:{lineno}: bad input line")
                fy = int(parts[0][:4])
                src = InputFile(fy, parts[1], parts[2][len("sha256=") :])
                (table.april if parts[0].endswith("-04") else table.inputs)[fy] = src
            continue
        if fys is None:
            raise BuildError(f"{path}:{lineno}: code line before the fiscal_years header")
        m = _BODY_RE.fullmatch(line)
        if not m:
            raise BuildError(f"{path}:{lineno}: malformed line {line[:40]!r}")
        code, ex, bi, title = m.groups()
        ex_mask, bi_mask = int(ex, 16), int(bi, 16)
        years = {fy: bool(bi_mask >> i & 1) for i, fy in enumerate(fys) if ex_mask >> i & 1}
        n = len(fys)
        april = {fy: bool(bi_mask >> (n + i) & 1) for i, fy in enumerate(aprils) if ex_mask >> (n + i) & 1}
        if years:
            table.years[code] = years
        if april:
            table.april_years[code] = april
        ranks = [float(y) for y in years] + [y + 0.5 for y in april]
        if not ranks:
            raise BuildError(f"{path}:{lineno}: code {code} is in no release")
        table.titles[code] = (max(ranks), title)
    if fys is None or sorted(table.inputs) != fys or sorted(table.april) != aprils:
        raise BuildError(f"{path}: header fiscal_years/april and input lines disagree")
    return table


def effective_range(fys: list[int]) -> tuple[datetime.date, datetime.date]:
    return datetime.date(fys[0] - 1, 10, 1), datetime.date(fys[-1], 9, 30)


def render_table(table: Table) -> bytes:
    fys = sorted(table.inputs)
    if not fys:
        raise BuildError("no fiscal years to write")
    start, end = effective_range(fys)
    gaps = sorted(set(range(fys[0], fys[-1] + 1)) - set(fys))
    bit = {fy: 1 << i for i, fy in enumerate(fys)}
    aprils = sorted(table.april)
    april_bit = {fy: 1 << (len(fys) + i) for i, fy in enumerate(aprils)}
    out = io.StringIO()
    w = out.write
    w(f"# format: {FORMAT}\n")
    w(f"# source: {SOURCE}\n")
    w(f"# fiscal_years: {' '.join(map(str, fys))}\n")
    w(f"# effective: {start.isoformat()} to {end.isoformat()} (dates of service; FY YYYY = YYYY-1-10-01 .. YYYY-09-30)\n")
    if gaps:
        w(f"# missing_years: {' '.join(map(str, gaps))}\n")
    if aprils:
        w(f"# april: {' '.join(map(str, aprils))}\n")
        w("# note: October releases, and the April updates of the fiscal years listed in 'april' (each in force "
          "from April 1 of its fiscal year, after the fiscal_years bits)\n")
    else:
        w("# note: October releases only; April mid-year updates are not included\n")
    for fy in fys:
        src = table.inputs[fy]
        w(f"# input: {fy} {src.name} sha256={src.sha256}\n")
    for fy in aprils:
        src = table.april[fy]
        w(f"# input: {fy}-04 {src.name} sha256={src.sha256}\n")
    w("# columns: code (no dot), exists mask (hex), billable mask (hex), short title (newest year); bit i = fiscal_years[i]\n")
    codes = sorted(set(table.years) | set(table.april_years))
    w(f"# codes: {len(codes)}\n")
    for code in codes:
        ex = bi = 0
        for fy, billable in table.years.get(code, {}).items():
            ex |= bit[fy]
            if billable:
                bi |= bit[fy]
        for fy, billable in table.april_years.get(code, {}).items():
            ex |= april_bit[fy]
            if billable:
                bi |= april_bit[fy]
        w(f"{code}\t{ex:x}\t{bi:x}\t{table.titles[code][1]}\n")
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=9, mtime=0) as gz:
        gz.write(out.getvalue().encode("utf-8"))
    return buf.getvalue()


def write_table(table: Table, out: Path) -> int:
    from scrubber.atomic import write_bytes_atomic

    data = render_table(table)
    write_bytes_atomic(out, data)
    return len(data)


def find_inputs(src: Path) -> dict[int, Path]:
    if not src.is_dir():
        raise BuildError(f"{src}: no such folder")
    found: dict[int, Path] = {}
    for p in sorted(src.iterdir()):
        if not p.is_file() or not _NAME_RE.search(p.name):
            continue
        fy = fiscal_year_from_name(p)
        if fy in found:
            raise BuildError(f"two inputs for fiscal year {fy}: {found[fy].name} and {p.name}")
        found[fy] = p
    if not found:
        raise BuildError(f"{src}: no icd10cm_order_YYYY.txt[.gz] files")
    return found


def build(src: Path) -> Table:
    table = Table()
    for fy, path in sorted(find_inputs(src).items()):
        entries, digest = read_order_file(path)
        table.add_year(fy, entries, InputFile(fy, path.name, digest))
    return table


def add(table_path: Path, order_file: Path, fy: int | None = None) -> Table:
    table = read_table(table_path)
    fy = fy if fy is not None else fiscal_year_from_name(order_file)
    entries, digest = read_order_file(order_file)
    table.add_year(fy, entries, InputFile(fy, order_file.name, digest))
    return table


# --- CMS order addenda -----------------------------------------------------------------------------
# ``icd10cm_order_addenda_YYYY.txt`` (and the April updates' addenda): one line per change,
#     Add:         1 C7831   Short title (60 columns)  Long title
#     Delete:      1 S23420A ...
#     Revise from: 1 L02232  old titles
#     Revise to:   1 L02232  new titles
# (a 13-column prefix, then flag, code and titles in the order file's layout shifted by 8), then a
# summary of both years' counts ("74719 codes in icd10cm_order_2026.txt", "23524 headers in ...",
# additions, deletions, revisions). A header that becomes billable (or the reverse) is a Delete and
# an Add of the same code.

_ADDENDA_NAME_RE = re.compile(r"addenda", re.IGNORECASE)
_ADDENDA_OPS = {"Add:": "add", "Delete:": "delete", "Revise from:": "from", "Revise to:": "to"}
_COUNT_RE = re.compile(r"^\s*(\d+)\s+(codes|headers)\s+in\s+(\S+)\s*$")
_CHANGE_RE = re.compile(r"^\s*(\d+)\s+(additions|deletions|revisions)\s*$")
_YEAR_RE = re.compile(r"(?<!\d)(20\d\d)(?!\d)")


@dataclass
class Addenda:
    path: Path
    sha256: str
    fiscal_year: int
    april: bool
    ops: list[tuple[int, str, bool, str, str]]  # (line, op, billable, code, short title)
    before: dict[str, int]  # {"codes": n, "headers": n} of the year the addenda starts from
    after: dict[str, int]  # the same for the year it gives
    changes: dict[tuple[str, str], int]  # (codes|headers, additions|deletions|revisions) -> n
    years: tuple[int | None, int | None]  # (from, to) fiscal years named by the summary


def is_addenda(path: Path) -> bool:
    """A CMS order addenda file (by its name, else by its first non-blank line)."""
    if _ADDENDA_NAME_RE.search(path.name):
        return True
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError:
        return False
    if head[:2] == b"\x1f\x8b":
        try:
            head = gzip.decompress(path.read_bytes())[:4096]
        except (OSError, EOFError):
            return False
    first = next((ln for ln in head.decode("latin-1").splitlines() if ln.strip()), "")
    return any(first.startswith(op) for op in _ADDENDA_OPS)


def read_addenda(path: Path, fy: int | None = None, april: bool | None = None) -> Addenda:
    """Parse a CMS order addenda file; raise BuildError (one line) when it is not one."""
    raw = path.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise BuildError(f"{path}: not a readable gzip file ({exc})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BuildError(f"{path}: not UTF-8/ASCII text ({exc})") from None
    ops: list[tuple[int, str, bool, str, str]] = []
    before: dict[str, int] = {}
    after: dict[str, int] = {}
    changes: dict[tuple[str, str], int] = {}
    years: list[int | None] = [None, None]
    section = ""
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        op = next((v for k, v in _ADDENDA_OPS.items() if line.startswith(k)), None)
        if op is not None:
            flag, code = line[13:14], line[15:22].strip()
            if len(line) < 23 or line[12] != " " or line[14] != " " or flag not in ("0", "1") or not _CODE_RE.fullmatch(code):
                raise BuildError(f"{path}:{lineno}: not an ICD-10-CM addenda line: {line[:40]!r}")
            ops.append((lineno, op, flag == "1", code, line[23:83].strip()))
            continue
        stripped = line.strip()
        if stripped in ("Headers", "Codes"):
            section = stripped.lower()
            continue
        m = _COUNT_RE.match(line)
        if m:
            n, kind, name = int(m.group(1)), m.group(2), m.group(3)
            target = before if kind not in before else after
            target[kind] = n
            y = _YEAR_RE.search(name)
            slot = 0 if target is before else 1
            if y and years[slot] is None:
                years[slot] = int(y.group(1))
            continue
        m = _CHANGE_RE.match(line)
        if m and section:
            changes.setdefault((section, m.group(2)), int(m.group(1)))
            continue
        if stripped == "of which" or stripped.startswith(("0 revisions", "revisions")) or re.match(r"^\d+\s+revisions to", stripped):
            continue
        raise BuildError(f"{path}:{lineno}: not an ICD-10-CM addenda line: {line[:40]!r}")
    if not ops:
        raise BuildError(f"{path}: no Add:/Delete:/Revise lines; not a CMS order addenda file")
    if set(before) != {"codes", "headers"} or set(after) != {"codes", "headers"}:
        raise BuildError(f"{path}: the summary of code and header counts (\"N codes in ...\", \"N headers in ...\") is "
                         f"missing; the file is incomplete")
    april = bool(re.search(r"april|[-_]04[-_]|apr", path.name, re.IGNORECASE)) if april is None else april
    if fy is None:
        m = _YEAR_RE.search(path.name)
        fy = int(m.group(1)) if m else years[1]
    if fy is None:
        raise BuildError(f"{path}: cannot tell the fiscal year from the file name or its summary; pass --fy YEAR")
    return Addenda(path, digest, fy, april, ops, before, after, changes, (years[0], years[1]))


def _counts(entries: dict[str, tuple[bool, str]]) -> dict[str, int]:
    billable = sum(1 for b, _ in entries.values() if b)
    return {"codes": billable, "headers": len(entries) - billable}


def apply_addenda(table: Table, addenda: Addenda) -> Table:
    """Apply an addenda to the table's newest release, as a new release; refuse unless the counts add up.

    An October addenda of FY YYYY starts from the October release of FY YYYY-1 and gives FY YYYY;
    an April addenda starts from the October release of its own fiscal year and gives its April
    update. The result must have exactly the code and header counts the addenda's summary states
    (and its start the counts it states for the year before), or nothing is changed.
    """
    name = addenda.path.name
    fy = addenda.fiscal_year
    newest = max(table.inputs)
    if addenda.april:
        base_fy = fy
        if fy != newest:
            raise BuildError(f"{name}: an April update of FY{fy} applies to FY{fy}, but the newest fiscal year in the "
                             f"table is FY{newest}")
        if fy in table.april:
            raise BuildError(f"{name}: the April update of FY{fy} is already in the table (from {table.april[fy].name})")
    else:
        base_fy = fy - 1
        if fy in table.inputs:
            raise BuildError(f"{name}: fiscal year {fy} is already in the table (from {table.inputs[fy].name})")
        if base_fy != newest:
            raise BuildError(f"{name}: the FY{fy} addenda applies to FY{base_fy}, but the newest fiscal year in the "
                             f"table is FY{newest}; add the order files up to FY{base_fy} first")
    entries = table.release(base_fy)
    got = _counts(entries)
    if got != addenda.before:
        raise BuildError(f"{name}: the table's FY{base_fy} has {got['codes']} codes and {got['headers']} headers, but the "
                         f"addenda starts from {addenda.before['codes']} codes and {addenda.before['headers']} headers")
    result = dict(entries)
    revising: dict[str, tuple[int, bool]] = {}
    seen: dict[tuple[str, str], int] = {}
    for lineno, op, billable, code, title in addenda.ops:
        kind = "codes" if billable else "headers"
        where = f"{name}:{lineno}"
        if op == "delete":
            if code not in result or result[code][0] != billable:
                raise BuildError(f"{where}: deletes {'billable code' if billable else 'header'} {code}, which "
                                 f"FY{base_fy} does not have as such")
            del result[code]
            seen[(kind, "deletions")] = seen.get((kind, "deletions"), 0) + 1
        elif op == "add":
            if code in result:
                raise BuildError(f"{where}: adds {code}, which is already there")
            result[code] = (billable, title)
            seen[(kind, "additions")] = seen.get((kind, "additions"), 0) + 1
        elif op == "from":
            if code not in result or result[code][0] != billable:
                raise BuildError(f"{where}: revises {code}, which FY{base_fy} does not have as such")
            revising[code] = (lineno, billable)
        else:  # to
            if code not in revising:
                raise BuildError(f"{where}: 'Revise to:' {code} without its 'Revise from:' line")
            del revising[code]
            result[code] = (billable, title)
            seen[(kind, "revisions")] = seen.get((kind, "revisions"), 0) + 1
    if revising:
        code, (lineno, _) = next(iter(revising.items()))
        raise BuildError(f"{name}:{lineno}: 'Revise from:' {code} without its 'Revise to:' line")
    got = _counts(result)
    if got != addenda.after:
        raise BuildError(f"{name}: applied to FY{base_fy} it gives {got['codes']} codes and {got['headers']} headers, "
                         f"but its summary states {addenda.after['codes']} codes and {addenda.after['headers']} headers")
    for key, stated in sorted(addenda.changes.items()):
        if seen.get(key, 0) != stated:
            raise BuildError(f"{name}: it lists {seen.get(key, 0)} {key[0][:-1]} {key[1]}, but its summary states {stated}")
    src = InputFile(fy, name, addenda.sha256)
    if addenda.april:
        table.add_april(fy, result, src)
    else:
        table.add_year(fy, result, src)
    return table


def add_addenda(table_path: Path, addenda_file: Path, fy: int | None = None, april: bool | None = None) -> Table:
    return apply_addenda(read_table(table_path), read_addenda(addenda_file, fy, april))
