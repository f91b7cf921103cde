"""`scrubber codesets` (what is loaded) and `scrubber codesets add FILE` (next year's CMS order file)."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

from conftest import ROOT, run_cli
from scrubber.codesets.icd10cm import load_icd10cm
from scrubber.mapsdir import map_path

SHIPPED = map_path("icd10cm", "icd10cm.tsv.gz")


def order_file(path: Path, rows: list[tuple[str, bool, str]]) -> Path:
    """A CMS order file (fixed width, CRLF) with ``rows`` of (code, billable, short title)."""
    text = "".join(f"{i:05d} {c:<7} {int(b)} {t:<60} {t}\r\n" for i, (c, b, t) in enumerate(rows, 1))
    path.write_text(text, encoding="ascii", newline="")
    return path


def test_codesets_shows_what_is_loaded():
    result = run_cli("codesets")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    icd = load_icd10cm()
    assert f"{len(icd)} codes, FY2016-FY2027 (12 fiscal years)" in out
    assert "dates of service 2015-10-01 to 2027-09-30" in out
    assert "FY2016:  91737 codes,  69823 billable" in out  # CMS: 69,823 billable codes in FY2016
    for fy in range(2016, 2028):
        assert f"FY{fy}:" in out
    assert "cms.gov" in out and "place of service codes: 52 codes" in out


def test_codesets_add_a_year(tmp_path):
    table = tmp_path / "icd10cm.tsv.gz"
    shutil.copyfile(SHIPPED, table)
    shipped_sha = hashlib.sha256(SHIPPED.read_bytes()).hexdigest()
    fy2028 = order_file(tmp_path / "icd10cm_order_2028.txt", [
        ("M545", False, "Low back pain"),
        ("M5450", True, "Low back pain, unspecified"),
        ("M5452", True, "Made-up low back pain"),
    ])
    result = run_cli("codesets", "add", fy2028, "--table", table)
    assert result.returncode == 0, result.stderr
    assert "added FY2028" in result.stdout and "FY2016-FY2028" in result.stdout
    assert hashlib.sha256(SHIPPED.read_bytes()).hexdigest() == shipped_sha  # shipped table untouched
    icd = load_icd10cm(table)
    assert icd.fiscal_years[-1] == 2028 and icd.covers(date(2028, 9, 30))
    assert icd.status("M5452", date(2027, 10, 1)).billable
    shown = run_cli("codesets", "--table", table)
    assert shown.returncode == 0 and "FY2016-FY2028 (13 fiscal years)" in shown.stdout

    # Same bytes as the build script's --add (one implementation, two entry points).
    other = tmp_path / "other.tsv.gz"
    shutil.copyfile(SHIPPED, other)
    r = subprocess.run([sys.executable, str(ROOT / "tools" / "build_icd10cm.py"), "--add", fy2028, "--out", other],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert other.read_bytes() == table.read_bytes()

    again = run_cli("codesets", "add", fy2028, "--table", table)  # the same year twice is refused
    assert again.returncode == 2 and "2028" in again.stderr
    assert len(again.stderr.strip().splitlines()) == 1 and "Traceback" not in again.stderr


def test_codesets_add_bad_inputs(tmp_path):
    table = tmp_path / "icd10cm.tsv.gz"
    shutil.copyfile(SHIPPED, table)
    before = table.read_bytes()
    unnamed = order_file(tmp_path / "codes.txt", [("A00", False, "Cholera")])
    junk = tmp_path / "icd10cm_order_2028.txt"
    junk.write_text("this is not an order file\n")
    for args, needle in (
        ([tmp_path / "missing.txt", "--table", table], "no such file"),
        ([unnamed, "--table", table], "--fy"),  # no year in the name
        ([junk, "--table", table], "not an ICD-10-CM order-file line"),
        ([unnamed, "--fy", "2028", "--table", tmp_path / "none.tsv.gz"], "no such table"),
    ):
        result = run_cli("codesets", "add", *args)
        assert result.returncode == 2, (args, result.stdout)
        assert needle in result.stderr, (needle, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert table.read_bytes() == before
    bad_table = run_cli("codesets", "--table", tmp_path / "none.tsv.gz")
    assert bad_table.returncode == 2 and "Traceback" not in bad_table.stderr
