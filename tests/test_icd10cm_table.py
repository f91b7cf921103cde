"""The shipped ICD-10-CM table (maps/icd10cm/) and its loader (scrubber.codesets.icd10cm)."""

from __future__ import annotations

import gzip
import hashlib
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from scrubber.codesets.icd10cm import CodeStatus, Icd10cm, format_code, load_icd10cm
from scrubber.mapsdir import map_path

REPO = Path(__file__).resolve().parents[1]
BUILD = REPO / "tools" / "build_icd10cm.py"
SHARED_SRC = REPO.parent / "shared" / "codesets" / "icd10cm"
SHIPPED = map_path("icd10cm", "icd10cm.tsv.gz")


@pytest.fixture(scope="module")
def icd() -> Icd10cm:
    return load_icd10cm()


def run_build(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(BUILD), *map(str, args)], capture_output=True, text=True, cwd=REPO)


def order_line(n: int, code: str, billable: bool, short: str, long: str | None = None) -> str:
    """One fixed-width line of a CMS order file."""
    return f"{n:05d} {code:<7} {int(billable)} {short:<60} {long or short}\r\n"


def write_order_file(path: Path, rows: list[tuple[str, bool, str]]) -> Path:
    text = "".join(order_line(i, c, b, t) for i, (c, b, t) in enumerate(rows, 1))
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(text.encode("ascii"), mtime=0))
    else:
        path.write_text(text, encoding="ascii", newline="")
    return path


# --- the shipped table, through the API ---------------------------------------------------------


def test_shipped_table_header(icd: Icd10cm) -> None:
    assert icd.fiscal_years == tuple(range(2016, 2028))
    assert icd.effective == (date(2015, 10, 1), date(2027, 9, 30))
    assert "CMS" in icd.source and "ICD-10-CM" in icd.source
    assert len(icd) > 90_000
    assert load_icd10cm() is icd  # default load is cached


def test_m545_fy2022_split(icd: Icd10cm) -> None:
    before = icd.status("M54.5", date(2021, 9, 30))
    assert before == CodeStatus("M545", 2021, True, True, "Low back pain")
    after = icd.status("m54.5 ", date(2021, 10, 1))
    assert (after.fiscal_year, after.exists, after.billable) == (2022, True, False)
    assert icd.billable_children("M545", 2022) == ["M5450", "M5451", "M5459"]
    assert icd.billable_children("M54.5", 2021) == []
    assert icd.billable_children("M545", 2022, limit=2) == ["M5450", "M5451"]


def test_m5450_is_new_in_fy2022(icd: Icd10cm) -> None:
    old = icd.status("M54.50", date(2021, 9, 30))
    assert (old.exists, old.billable) == (False, False)
    new = icd.status("M54.50", date(2021, 10, 1))
    assert (new.exists, new.billable) == (True, True)
    assert new.title == "Low back pain, unspecified"
    assert icd.years_of("M5450") == [(fy, True) for fy in range(2022, 2028)]
    assert icd.years_of("M545") == [(fy, fy <= 2021) for fy in range(2016, 2028)]


def test_m791_fy2019_split(icd: Icd10cm) -> None:
    assert icd.status("M79.1", date(2018, 9, 30)).billable
    after = icd.status("M79.1", date(2018, 10, 1))
    assert (after.fiscal_year, after.exists, after.billable) == (2019, True, False)
    assert icd.billable_children("M791", 2019) == ["M7910", "M7911", "M7912", "M7918"]


def test_unknown_code(icd: Icd10cm) -> None:
    for bogus in ("ZZZ999", "M54.5X9Q", "", "M54\t7ff", "12345"):
        s = icd.status(bogus, 2026)
        assert (s.exists, s.billable, s.title) == (False, False, "")
        assert icd.years_of(bogus) == []
        assert icd.title(bogus) == ""
        assert bogus not in icd
    assert icd.billable_children("", 2026) == []


def test_year_outside_table(icd: Icd10cm) -> None:
    s = icd.status("M5450", date(2027, 10, 1))  # FY2028, not loaded
    assert (s.fiscal_year, s.exists, s.billable) == (2028, False, False)
    assert icd.billable_children("M545", 2028) == []


def test_fiscal_years_and_covers(icd: Icd10cm) -> None:
    assert icd.fiscal_year_of(date(2021, 10, 1)) == 2022
    assert icd.fiscal_year_of(date(2021, 9, 30)) == 2021
    assert icd.fiscal_year_of(date(2030, 12, 31)) == 2031
    assert icd.covers(date(2015, 10, 1)) and icd.covers(date(2027, 9, 30))
    assert not icd.covers(date(2015, 9, 30))
    assert not icd.covers(date(2027, 10, 1))  # FY2028
    assert not icd.covers(date(2028, 3, 1))


def test_title(icd: Icd10cm) -> None:
    assert icd.title("a00") == "Cholera"
    assert icd.title("I21") == "Acute myocardial infarction"  # newest title (FY2016/17 had an abbreviation)


def test_format_code() -> None:
    assert format_code("M5450") == "M54.50"
    assert format_code("A00") == "A00"
    assert format_code("a001") == "A00.1"
    assert format_code("S52.521A") == "S52.521A"
    assert format_code(" m545 ") == "M54.5"


# --- build script ------------------------------------------------------------------------------


def test_build_reproduces_shipped_table(tmp_path: Path) -> None:
    if not SHARED_SRC.is_dir():
        pytest.skip(f"../shared/codesets absent: {SHARED_SRC} not found, cannot rebuild the table")
    out = tmp_path / "icd10cm.tsv.gz"
    r = run_build("--src", SHARED_SRC, "--out", out)
    assert r.returncode == 0, r.stderr
    assert out.read_bytes() == SHIPPED.read_bytes(), "rebuilt table differs from maps/icd10cm/icd10cm.tsv.gz"


def test_add_a_year(tmp_path: Path) -> None:
    shipped_sha = hashlib.sha256(SHIPPED.read_bytes()).hexdigest()
    table = tmp_path / "icd10cm.tsv.gz"
    shutil.copyfile(SHIPPED, table)
    fy2028 = write_order_file(
        tmp_path / "icd10cm_order_2028.txt",  # uncompressed, as CMS ships it
        [
            ("M545", False, "Low back pain"),
            ("M5450", True, "Low back pain, unspecified"),
            ("M5451", True, "Vertebrogenic low back pain"),
            ("M5452", True, "Made-up low back pain"),  # new
            ("M5459", True, "Other low back pain, renamed"),
        ],
    )
    r = run_build("--add", fy2028, "--out", table)
    assert r.returncode == 0, r.stderr
    assert hashlib.sha256(SHIPPED.read_bytes()).hexdigest() == shipped_sha  # shipped table untouched

    icd = load_icd10cm(table)
    assert icd.fiscal_years == tuple(range(2016, 2029))
    assert icd.effective[1] == date(2028, 9, 30)
    assert icd.covers(date(2028, 9, 30))
    new = icd.status("M54.52", date(2027, 10, 1))
    assert (new.fiscal_year, new.exists, new.billable, new.title) == (2028, True, True, "Made-up low back pain")
    assert not icd.status("M5452", 2027).exists
    assert icd.billable_children("M545", 2028) == ["M5450", "M5451", "M5452", "M5459"]
    assert icd.title("M5459") == "Other low back pain, renamed"  # title from the newest year
    assert not icd.status("A00", 2028).exists  # absent from the (tiny) FY2028 file
    assert icd.status("A00", 2027).exists
    assert icd.years_of("M5450") == [(fy, True) for fy in range(2022, 2029)]
    assert len(icd) == len(load_icd10cm()) + 1

    again = run_build("--add", fy2028, "--out", table)  # the same year twice is refused
    assert again.returncode != 0 and "2028" in again.stderr


def test_add_equals_full_build(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    write_order_file(src / "icd10cm_order_2030.txt.gz", [("A00", False, "Cholera"), ("A000", True, "Cholera 01")])
    later = write_order_file(
        tmp_path / "icd10cm_order_2031.txt",
        [("A00", False, "Cholera"), ("A000", False, "Cholera 01, split"), ("A0001", True, "New child")],
    )
    stepwise = tmp_path / "stepwise.tsv.gz"
    assert run_build("--src", src, "--out", stepwise).returncode == 0
    r = run_build("--add", later, "--out", stepwise)
    assert r.returncode == 0, r.stderr
    shutil.copyfile(later, src / later.name)
    full = tmp_path / "full.tsv.gz"
    assert run_build("--src", src, "--out", full).returncode == 0
    assert stepwise.read_bytes() == full.read_bytes()

    icd = load_icd10cm(full)
    assert icd.fiscal_years == (2030, 2031)
    assert icd.years_of("A000") == [(2030, True), (2031, False)]
    assert icd.title("A000") == "Cholera 01, split"
    assert icd.billable_children("A000", 2031) == ["A0001"]


# --- malformed tables ---------------------------------------------------------------------------


def _shipped_text() -> str:
    return gzip.decompress(SHIPPED.read_bytes()).decode("utf-8")


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "bad.tsv.gz"
    p.write_bytes(gzip.compress(text.encode("utf-8"), mtime=0))
    return p


def _line_no(text: str, startswith: str) -> int:
    return next(i for i, line in enumerate(text.split("\n"), 1) if line.startswith(startswith))


@pytest.mark.parametrize(
    "old, new, why",
    [
        ("M5450\tfc0\tfc0\t", "M5450\tfc0\t", "missing field"),
        ("M5450\tfc0\tfc0\t", "M5450\tfc0\tfcx\t", "bad hex"),
        ("M5450\tfc0\tfc0\t", "m5450\tfc0\tfc0\t", "lower-case code"),
        ("M5450\tfc0\tfc0\tLow back pain, unspecified", "M5450\tfc0\tfc0\tLow back\tpain", "tab in title"),
        ("M5450\tfc0\tfc0\t", "M5450\tfc0\tfe0\t", "billable in a year it does not exist"),
        ("M5450\tfc0\tfc0\t", "M5450\t1fff\tfc0\t", "mask beyond the fiscal years"),
        ("M5450\tfc0\tfc0\t", "M5440\tfc0\tfc0\t", "out of order"),
        ("M5450\tfc0\tfc0\t", "M545\tfc0\tfc0\t", "duplicate"),
    ],
)
def test_malformed_table_names_line(tmp_path: Path, old: str, new: str, why: str) -> None:
    text = _shipped_text()
    lineno = _line_no(text, old)
    bad = _write(tmp_path, text.replace("\n" + old, "\n" + new, 1))
    with pytest.raises(ValueError) as exc:
        load_icd10cm(bad)
    msg = str(exc.value)
    assert str(bad) in msg, why
    assert f":{lineno}:" in msg, f"{why}: {msg}"


def test_malformed_header_and_file(tmp_path: Path) -> None:
    text = _shipped_text()
    no_years = "\n".join(line for line in text.split("\n") if not line.startswith("# fiscal_years:"))
    with pytest.raises(ValueError, match="fiscal_years"):
        load_icd10cm(_write(tmp_path, no_years))
    with pytest.raises(ValueError, match="format"):
        load_icd10cm(_write(tmp_path, "A00\t1\t0\tCholera\n"))
    blank = text.replace("\nA001\t", "\n\nA001\t", 1)
    with pytest.raises(ValueError, match=rf":{_line_no(text, 'A001') }:"):
        load_icd10cm(_write(tmp_path, blank))
    junk = tmp_path / "junk.tsv.gz"
    junk.write_bytes(b"\x1f\x8b not really gzip")
    with pytest.raises(ValueError, match="junk.tsv.gz"):
        load_icd10cm(junk)
