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

__all__ = ["BuildError", "Table", "add", "build", "read_order_file", "read_table", "render_table", "write_table"]

FORMAT = "icd10cm-table 1"
SOURCE = "CMS ICD-10-CM order files (October releases), https://www.cms.gov/medicare/coding-billing/icd-10-codes"
_NAME_RE = re.compile(r"icd10cm[_-]order[_-](\d{4})(?:[^0-9].*)?\.txt(?:\.gz)?$", re.IGNORECASE)
_CODE_RE = re.compile(r"[A-Z][0-9A-Z]{2,6}")
_BODY_RE = re.compile(r"([A-Z][0-9A-Z]{2,6})\t([0-9a-f]+)\t([0-9a-f]+)\t([^\t]*)")


class BuildError(Exception):
    pass


@dataclass
class InputFile:
    fiscal_year: int
    name: str
    sha256: str


@dataclass
class Table:
    """In-memory form: code -> {fy: billable}; titles from the newest year each code exists in."""

    inputs: dict[int, InputFile] = field(default_factory=dict)
    years: dict[str, dict[int, bool]] = field(default_factory=dict)
    titles: dict[str, tuple[int, str]] = field(default_factory=dict)  # code -> (fy of title, title)

    def add_year(self, fy: int, entries: dict[str, tuple[bool, str]], src: InputFile) -> None:
        if fy in self.inputs:
            raise BuildError(f"fiscal year {fy} is already in the table (from {self.inputs[fy].name})")
        self.inputs[fy] = src
        for code, (billable, title) in entries.items():
            self.years.setdefault(code, {})[fy] = billable
            old = self.titles.get(code)
            if old is None or fy > old[0]:
                self.titles[code] = (fy, title)


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
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for lineno, line in enumerate(lines, 1):
        if line.startswith("#"):
            key, _, value = line[1:].strip().partition(":")
            value = value.strip()
            if key == "fiscal_years":
                fys = [int(y) for y in value.split()]
            elif key == "input":
                # input: FY NAME sha256=HEX
                parts = value.split()
                if len(parts) != 3 or not parts[2].startswith("sha256="):
                    raise BuildError(f"{path}:{lineno}: bad input line")
                fy = int(parts[0])
                table.inputs[fy] = InputFile(fy, parts[1], parts[2][len("sha256=") :])
            continue
        if fys is None:
            raise BuildError(f"{path}:{lineno}: code line before the fiscal_years header")
        m = _BODY_RE.fullmatch(line)
        if not m:
            raise BuildError(f"{path}:{lineno}: malformed line {line[:40]!r}")
        code, ex, bi, title = m.groups()
        ex_mask, bi_mask = int(ex, 16), int(bi, 16)
        years = {fy: bool(bi_mask >> i & 1) for i, fy in enumerate(fys) if ex_mask >> i & 1}
        table.years[code] = years
        table.titles[code] = (max(years), title)
    if fys is None or sorted(table.inputs) != fys:
        raise BuildError(f"{path}: header fiscal_years and input lines disagree")
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
    out = io.StringIO()
    w = out.write
    w(f"# format: {FORMAT}\n")
    w(f"# source: {SOURCE}\n")
    w(f"# fiscal_years: {' '.join(map(str, fys))}\n")
    w(f"# effective: {start.isoformat()} to {end.isoformat()} (dates of service; FY YYYY = YYYY-1-10-01 .. YYYY-09-30)\n")
    if gaps:
        w(f"# missing_years: {' '.join(map(str, gaps))}\n")
    w("# note: October releases only; April mid-year updates are not included\n")
    for fy in fys:
        src = table.inputs[fy]
        w(f"# input: {fy} {src.name} sha256={src.sha256}\n")
    w("# columns: code (no dot), exists mask (hex), billable mask (hex), short title (newest year); bit i = fiscal_years[i]\n")
    w(f"# codes: {len(table.years)}\n")
    for code in sorted(table.years):
        ex = bi = 0
        for fy, billable in table.years[code].items():
            ex |= bit[fy]
            if billable:
                bi |= bit[fy]
        w(f"{code}\t{ex:x}\t{bi:x}\t{table.titles[code][1]}\n")
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=9, mtime=0) as gz:
        gz.write(out.getvalue().encode("utf-8"))
    return buf.getvalue()


def write_table(table: Table, out: Path) -> int:
    data = render_table(table)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(out)
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
