"""Updating code sets: CMS order addenda (October and April), the data folder laid over maps/,
and the out-of-date warnings of `scrubber codesets` and of every scrub."""

from __future__ import annotations

import gzip
import re
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from conftest import CODESET_WARNING, ROOT, SHARED, fixture, problem_lines, run_cli
from scrubber.codesets.build import BuildError, add_addenda, read_table, render_table
from scrubber.codesets.icd10cm import load_icd10cm
from scrubber.mapsdir import shipped_path

ICD = SHARED / "codesets" / "icd10cm"
ADDENDA_2027 = ICD / "icd10cm_order_addenda_2027.txt"
SHIPPED = shipped_path("icd10cm", "icd10cm.tsv.gz")


def need_icd_sources() -> None:
    if not (ICD / "icd10cm_order_2026.txt.gz").is_file() or not ADDENDA_2027.is_file():
        pytest.skip(f"../shared/codesets/icd10cm is absent ({ICD}): CMS order files and addenda needed")


def body(path: Path) -> list[str]:
    """A table's code lines (its header names its input files, which differ by design)."""
    return [ln for ln in gzip.decompress(path.read_bytes()).decode().split("\n") if ln and not ln.startswith("#")]


@pytest.fixture(scope="module")
def table_2016_2026(tmp_path_factory) -> Path:
    """The ICD-10-CM table built from the CMS order files FY2016-FY2026 (what a user had before FY2027)."""
    need_icd_sources()
    src = tmp_path_factory.mktemp("orders")
    for fy in range(2016, 2027):
        (src / f"icd10cm_order_{fy}.txt.gz").symlink_to(ICD / f"icd10cm_order_{fy}.txt.gz")
    out = src.parent / "icd10cm_2016_2026.tsv.gz"
    r = subprocess.run([sys.executable, str(ROOT / "tools" / "build_icd10cm.py"), "--src", src, "--out", out],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return out


def write_env(tmp_path: Path, data: Path) -> dict:
    import os

    env = dict(os.environ)
    env["SCRUBBER_DATA_DIR"] = str(data)
    return env


# --- October addenda ------------------------------------------------------------------------------


def test_fy2026_plus_fy2027_addenda_is_the_fy2027_order_file(table_2016_2026):
    table = add_addenda(table_2016_2026, ADDENDA_2027)
    assert sorted(table.inputs) == list(range(2016, 2028))
    shipped = read_table(SHIPPED)
    assert table.release(2027) == shipped.release(2027)  # every code, flag and title
    got = [ln for ln in gzip.decompress(render_table(table)).decode().split("\n") if ln and not ln.startswith("#")]
    assert got == body(SHIPPED)
    icd_before = load_icd10cm(table_2016_2026)
    assert icd_before.fiscal_years[-1] == 2026


def test_cli_add_addenda_reproduces_the_shipped_fy2027(table_2016_2026, tmp_path):
    table = tmp_path / "icd10cm.tsv.gz"
    shutil.copyfile(table_2016_2026, table)
    r = run_cli("codesets", "add", ADDENDA_2027, "--table", table)
    assert r.returncode == 0, r.stderr
    assert "added FY2027 from icd10cm_order_addenda_2027.txt" in r.stdout
    assert body(table) == body(SHIPPED)
    icd = load_icd10cm(table)
    assert not icd.status("S23420A", date(2026, 11, 15)).exists  # deleted in FY2027
    assert icd.status("S23420A", date(2026, 9, 15)).billable
    assert icd.status("M67A01", date(2026, 11, 15)).billable  # new in FY2027
    d691 = icd.status("D691", date(2026, 11, 15))
    assert d691.exists and not d691.billable  # a header from FY2027
    # The same addenda again: FY2027 is there already.
    again = run_cli("codesets", "add", ADDENDA_2027, "--table", table)
    assert again.returncode == 2 and "2027 is already in the table" in again.stderr
    assert len(again.stderr.strip().splitlines()) == 1 and "Traceback" not in again.stderr


def _drop_line(text: str, code: str) -> str:
    return "".join(ln for ln in text.splitlines(keepends=True) if not (ln.startswith("Add:") and f" {code} " in ln))


@pytest.mark.parametrize("edit,needle", [
    (lambda t: t.replace("  74879 codes in icd10cm_order_2027.txt", "  74880 codes in icd10cm_order_2027.txt"),
     "gives 74879 codes and 23524 headers, but its summary states 74880 codes"),
    (lambda t: t.replace("  23467 headers in icd10cm_order_2026.txt", "  23466 headers in icd10cm_order_2026.txt"),
     "has 74719 codes and 23467 headers, but the addenda starts from 74719 codes and 23466 headers"),
    (lambda t: _drop_line(t, "M67A01"), "gives 74878 codes and 23524 headers, but its summary states 74879 codes"),
    (lambda t: t.split("\nHeaders\n")[0], "summary of code and header counts"),
], ids=["result-count", "start-count", "line-missing", "no-summary"])
def test_addenda_whose_counts_do_not_add_up_is_refused(table_2016_2026, tmp_path, edit, needle):
    bad = tmp_path / "icd10cm_order_addenda_2027.txt"
    bad.write_text(edit(ADDENDA_2027.read_text(encoding="utf-8")), encoding="utf-8")
    table = tmp_path / "icd10cm.tsv.gz"
    shutil.copyfile(table_2016_2026, table)
    before = table.read_bytes()
    r = run_cli("codesets", "add", bad, "--table", table)
    assert r.returncode == 2, r.stdout
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    assert needle in lines[0], lines[0]
    assert table.read_bytes() == before  # nothing written


def test_addenda_on_the_wrong_year_is_refused():
    need_icd_sources()
    with pytest.raises(BuildError, match="already in the table"):
        add_addenda(SHIPPED, ADDENDA_2027)  # the shipped table has FY2027


# --- April updates --------------------------------------------------------------------------------


def order_file(path: Path, rows: list[tuple[str, bool, str]]) -> Path:
    text = "".join(f"{i:05d} {c:<7} {int(b)} {t:<60} {t}\r\n" for i, (c, b, t) in enumerate(rows, 1))
    path.write_text(text, encoding="ascii", newline="")
    return path


def addenda_file(path: Path, ops: list[tuple[str, bool, str, str]], before: tuple[int, int], after: tuple[int, int],
                 years: tuple[str, str]) -> Path:
    """An addenda in the CMS layout: ops (op, billable, code, title); before/after (codes, headers)."""
    prefix = {"add": "Add:", "delete": "Delete:", "from": "Revise from:", "to": "Revise to:"}
    lines = [f"{prefix[op]:<13}{int(b)} {c:<7} {t:<60} {t}" for op, b, c, t in ops]
    counts = {}
    for op, b, _, _ in ops:
        key = ("codes" if b else "headers", {"add": "additions", "delete": "deletions", "to": "revisions"}.get(op))
        if key[1]:
            counts[key] = counts.get(key, 0) + 1
    lines += ["", "Headers", f"  {before[1]:>5} headers in {years[0]}", f"  {after[1]:>5} headers in {years[1]}"]
    for change in ("additions", "deletions", "revisions"):
        lines.append(f"  {counts.get(('headers', change), 0):>5} {change}")
    lines += ["", "Codes", f"  {before[0]:>5} codes in {years[0]}", f"  {after[0]:>5} codes in {years[1]}"]
    for change in ("additions", "deletions", "revisions"):
        lines.append(f"  {counts.get(('codes', change), 0):>5} {change}")
    path.write_text("\n".join(lines) + "\n", encoding="ascii")
    return path


def test_april_addenda_applies_from_april_first(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    order_file(src / "icd10cm_order_2030.txt", [("A00", False, "Cholera"), ("A000", True, "Cholera 01"),
                                                ("B01", True, "Made-up code")])
    table = tmp_path / "icd10cm.tsv.gz"
    r = subprocess.run([sys.executable, str(ROOT / "tools" / "build_icd10cm.py"), "--src", src, "--out", table],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    april = addenda_file(tmp_path / "icd10cm_order_addenda_april_2030.txt", [
        ("add", True, "A001", "Cholera 02, new in April"),
        ("delete", True, "B01", "Made-up code"),
    ], before=(2, 1), after=(2, 1), years=("icd10cm_order_2030.txt", "icd10cm_order_2030_april.txt"))
    r = run_cli("codesets", "add", april, "--table", table)
    assert r.returncode == 0, r.stderr
    assert "April update" in r.stdout
    icd = load_icd10cm(table)
    assert icd.april == (2030,) and icd.releases == ["FY2030", "FY2030-04"]
    assert not icd.status("A001", date(2030, 3, 31)).exists  # October release until March 31
    assert icd.status("A001", date(2030, 4, 1)).billable
    assert icd.status("B01", date(2030, 3, 31)).billable
    assert not icd.status("B01", date(2030, 4, 1)).exists
    assert icd.billable_children("A00", date(2030, 4, 1)) == ["A000", "A001"]
    assert icd.billable_children("A00", 2030) == ["A000"]
    # Re-read and re-written, the table is the same bytes.
    assert render_table(read_table(table)) == table.read_bytes()
    # A second April update of the same year is refused.
    again = run_cli("codesets", "add", april, "--table", table)
    assert again.returncode == 2 and "April update of FY2030 is already" in again.stderr
    shown = run_cli("codesets", "--table", table, "--as-of", "2030-05-01")
    assert shown.returncode == 0 and "FY2030-04:" in shown.stdout and "April updates FY2030" in shown.stdout


def test_april_update_in_a_scrub(tmp_path):
    """A claim dated after April 1 is checked against the April update, one before it against October."""
    from scrubber.codesets.build import InputFile, write_table
    from scrubber.codesets.icd10cm import TABLE_NAME

    data = tmp_path / "data"
    (data / "icd10cm").mkdir(parents=True)
    table = data / "icd10cm" / TABLE_NAME
    shutil.copyfile(SHIPPED, table)
    fy2027 = read_table(SHIPPED).release(2027)
    new = dict(fy2027)
    new["M5452"] = (True, "Made-up April code")
    t = read_table(SHIPPED)
    t.add_april(2027, new, InputFile(2027, "made-up-april.txt", "0" * 64))
    write_table(t, table)
    env = write_env(tmp_path, data)
    text = fixture("clean_single.837").read_text()
    assert "M5450" in text and "DTP*472*D8*" in text
    for dos, rejected in (("20270315", True), ("20270415", False)):
        f = tmp_path / f"april_{dos}.837"
        body_text = text.replace("M5450", "M5452")
        body_text = re.sub(r"DTP\*472\*D8\*\d{8}", f"DTP*472*D8*{dos}", body_text)
        f.write_text(body_text)
        out = tmp_path / f"o{dos}"
        r = subprocess.run([sys.executable, "-m", "scrubber", "scrub", f, "--out-dir", out, "--as-of", "2027-04-30",
                            "--format", "json", "--no-structure"], capture_output=True, text=True, env=env)
        assert r.returncode == (1 if rejected else 0), (dos, r.stdout[-2000:], r.stderr)
        if rejected:
            assert "DX103" in r.stdout and "2027-04-01" in r.stdout


# --- the data folder ------------------------------------------------------------------------------


def test_codesets_add_writes_the_data_folder_never_the_package(tmp_path):
    need_icd_sources()
    data = tmp_path / "data"
    shipped_before = SHIPPED.read_bytes()
    fy2028 = order_file(tmp_path / "icd10cm_order_2028.txt", [("M545", False, "Low back pain"),
                                                           ("M5450", True, "Low back pain, unspecified")])
    r = run_cli("codesets", "add", fy2028, "--data-dir", data)
    assert r.returncode == 0, r.stderr
    written = data / "icd10cm" / "icd10cm.tsv.gz"
    assert written.is_file() and str(written) in r.stdout
    assert SHIPPED.read_bytes() == shipped_before  # the installed package is never written
    icd = load_icd10cm(written)
    assert icd.fiscal_years[-1] == 2028
    # Every command reads the data folder's table from then on.
    shown = run_cli("codesets", "--data-dir", data, "--as-of", "2027-11-01")
    assert shown.returncode == 0, shown.stderr
    assert "FY2016-FY2028" in shown.stdout and "(data folder)" in shown.stdout
    assert not shown.stdout.splitlines()[0].startswith("WARNING: out of date for 2027-11-01: ICD-10-CM")
    # ... and through the environment variable too.
    env_run = subprocess.run([sys.executable, "-m", "scrubber", "codesets"], capture_output=True, text=True,
                             env=write_env(tmp_path, data))
    assert "FY2016-FY2028" in env_run.stdout


def test_config_data_dir_relative_to_the_config(tmp_path):
    need_icd_sources()
    (tmp_path / "scrubber.toml").write_text('[options]\ndata_dir = "codes"\n')
    fy2028 = order_file(tmp_path / "icd10cm_order_2028.txt", [("A00", False, "Cholera")])
    import os

    env = dict(os.environ)
    env.pop("SCRUBBER_DATA_DIR", None)
    r = subprocess.run([sys.executable, "-m", "scrubber", "codesets", "add", fy2028], capture_output=True, text=True,
                       cwd=tmp_path, env=env)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "codes" / "icd10cm" / "icd10cm.tsv.gz").is_file()


def test_an_upgrade_with_a_newer_shipped_table_wins_over_an_older_copy(tmp_path, monkeypatch):
    """A data-folder table older than the shipped one (the package was upgraded) is not used."""
    from scrubber import mapsdir
    from scrubber.codesets.icd10cm import default_table_path

    data = tmp_path / "data"
    (data / "icd10cm").mkdir(parents=True)
    old = read_table(SHIPPED)
    del old.inputs[2027]
    for code in list(old.years):
        old.years[code].pop(2027, None)
        if not old.years[code]:
            del old.years[code]
            del old.titles[code]
    from scrubber.codesets.build import write_table

    write_table(old, data / "icd10cm" / "icd10cm.tsv.gz")
    monkeypatch.setenv("SCRUBBER_DATA_DIR", str(data))
    mapsdir.set_data_dir(None)
    assert default_table_path() == SHIPPED
    # A copy as new as the shipped one (or newer) is the operator's and wins.
    shutil.copyfile(SHIPPED, data / "icd10cm" / "icd10cm.tsv.gz")
    assert default_table_path() == data / "icd10cm" / "icd10cm.tsv.gz"


# --- out-of-date data is loud ---------------------------------------------------------------------


def test_codesets_first_line_says_what_is_out_of_date():
    late = run_cli("codesets", "--as-of", "2027-11-01")
    assert late.returncode == 0, late.stderr
    first = late.stdout.splitlines()[0]
    assert first.startswith("WARNING: out of date for 2027-11-01:") and "ICD-10-CM ends FY2027" in first


def test_every_scrub_warns_once_when_a_table_does_not_cover_the_date(tmp_path):
    r = run_cli("scrub", fixture("sample.837"), "--out-dir", tmp_path, "--as-of", "2027-11-01")
    warnings = [ln for ln in r.stderr.splitlines() if ln.startswith(CODESET_WARNING)]
    assert len(warnings) == 1 and "ICD-10-CM ends FY2027" in warnings[0], r.stderr
    assert problem_lines(r.stderr) == []


def test_text_summary_counts_the_checks_not_run(tmp_path):
    r = run_cli("scrub", fixture("codes_outside.837"), "--out-dir", tmp_path, "--as-of", "2027-11-01")
    assert "Traceback" not in r.stderr
    line = next(ln for ln in r.stdout.splitlines() if ln.strip().startswith("not checked:"))
    assert "DX110 x" in line and "claims" in line
    import json

    report = json.loads((tmp_path / "codes_outside.report.json").read_text())
    unchecked = sum(1 for c in report["claims"] if any(f["severity"] == "not_checked" for f in c["findings"]))
    assert report["summary"]["not_checked"] == unchecked > 0
    assert f"not checked: {unchecked} claims" in line


# --- NCCI quarters through the command line ------------------------------------------------------


def test_codesets_add_ncci_quarter_into_the_data_folder(tmp_path):
    """A newer CMS PTP and MUE quarter, loaded with `codesets add`, is what `codesets`, the warning
    line, the report's code_sets and the NCCI findings name from then on."""
    from test_ncci import cms_mue, cms_ptp

    data = tmp_path / "data"
    ptp = cms_ptp(tmp_path / "PTP_Practitioner_Eff_10-01-2026_f1.txt", [
        "98940\t97161\t\t20200101\t*\t0\tStandards of medical/surgical practice",
        "97012\t97140\t*\t19960101\t*\t1\tMutually exclusive procedures",
    ])
    mue = cms_mue(tmp_path / "MCR_MUE_PractitionerServices_Eff_10-01-2026.csv", [
        '"97110","6","3 Date of Service Edit: Clinical","Clinical: Data"',
    ])
    for f in (ptp, mue):
        r = run_cli("codesets", "add", f, "--data-dir", data)
        assert r.returncode == 0, r.stderr
        assert "2026-10-01" in r.stdout and str(data) in r.stdout
    assert (data / "ncci").is_dir()
    shown = run_cli("codesets", "--data-dir", data, "--as-of", "2026-12-01")
    assert shown.returncode == 0, shown.stderr
    assert "PTP quarter 2026-10-01 (current)" in shown.stdout and "MUE quarter 2026-10-01 (current)" in shown.stdout
    assert "NCCI" not in shown.stdout.splitlines()[0]  # the first line no longer names NCCI
    # An older quarter than the one loaded is refused: one line, exit 2, nothing changed.
    before = sorted((p.name, p.read_bytes()) for p in (data / "ncci").iterdir())
    old = cms_ptp(tmp_path / "PTP_Practitioner_Eff_07-01-2026_f1.txt", ["97012\t97140\t*\t19960101\t*\t1\tx"])
    r = run_cli("codesets", "add", old, "--data-dir", data)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    assert sorted((p.name, p.read_bytes()) for p in (data / "ncci").iterdir()) == before
    # A file that is neither ICD-10-CM nor NCCI: one line, exit 2.
    junk = tmp_path / "notes.txt"
    junk.write_text("hello\n")
    r = run_cli("codesets", "add", junk, "--data-dir", data)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    # A scrub with that data folder: the report and the findings name the new quarter.
    out = tmp_path / "out"
    r = subprocess.run([sys.executable, "-m", "scrubber", "scrub", fixture("backpain.837"), "--out-dir", out,
                        "--as-of", "2026-12-01", "--format", "json", "--no-structure"],
                       capture_output=True, text=True, env=write_env(tmp_path, data))
    assert r.returncode in (0, 1), r.stderr
    import json

    report = json.loads(r.stdout)
    assert report["code_sets"]["ncci"] == {"ptp": "2026-10-01", "mue": "2026-10-01", "quarters_old": 0}
    assert not any("NCCI" in ln for ln in r.stderr.splitlines())
    messages = [f["message"] for c in report["claims"] for f in c["findings"] if f["rule"] in ("NC001", "NC002", "NC003")]
    assert messages and all("2026-10-01" in m for m in messages), messages[:3]
