"""The NCCI rules NC001-NC003 on the CMS practitioner tables of maps/ncci/, and their loader.

* real 837 claims (written with tools/make_fixtures.py's builders, dates of service in November
  2026, as of 2026-12-01) against the shipped quarter 2024-07-01: PTP pairs with modifier indicator
  0 and 1, the bypass modifiers (25 on E/M), a deleted edit, MUEs per date of service and value 0;
  no not_checked finding for dates after the quarter, and every message names the quarter and its age;
* ``add_file``: a CMS PTP text file and a CMS MUE CSV (title lines before the header row) go to
  the data folder, which ``load_ncci`` then prefers; older quarters, files without rows and
  malformed rows are refused with one line; a broken table gives one-line not_checked findings;
* ``tools/build_ncci.py`` reproduces the shipped tables (skipped where ../shared is absent).
"""

from __future__ import annotations

import datetime
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, SHARED, claims_by_id, scrub

from scrubber import mapsdir
from scrubber.codesets import ncci
from scrubber.codesets.ncci import NcciError, add_file, describe, load_ncci

sys.path.insert(0, str(ROOT / "tools"))
import make_fixtures as mf  # noqa: E402

AS_OF = datetime.date(2026, 12, 1)
DOS = "20261110"
NCCI_SRC = SHARED / "codesets" / "ncci"
BUILD = ROOT / "tools" / "build_ncci.py"
L = mf.Line


def write_claims(path: Path, claims: list[mf.Claim]) -> Path:
    """An 837P file holding ``claims`` (one subscriber, commercial payer)."""
    bp = mf.BillingProvider(**mf.BP_ONE, subscribers=[mf.Subscriber(mf.person(61), claims=claims)])
    st = mf.transaction_segments("0001", [bp])
    mf.write_837(path, [(mf.interchange("000000611", [mf.group("611", [st])], mf.STD_LF), mf.STD_LF)])
    return path


def C(clm_id: str, dx: list[str], lines: list[mf.Line]) -> mf.Claim:
    return mf.Claim(clm_id, dx, lines)


CLAIMS = [
    C("TRACTION", ["M5450"], [L("97012", "40", "1", dos=DOS), L("97140", "40", "1", dos=DOS)]),
    C("TRACTION-59", ["M5450"], [L("97012", "40", "1", dos=DOS), L("97140", "40", "1", dos=DOS, modifiers=("59",))]),
    C("ACTIVITIES", ["M5450"], [L("97530", "50", "1", dos=DOS), L("97140", "40", "1", dos=DOS)]),
    C("EVAL", ["M9903", "M5450"], [L("98940", "45", "1", dos="20261115"), L("97161", "120", "2", dos="20261115")]),
    C("EVAL-XS", ["M9903", "M5450"], [L("98940", "45", "1", dos=DOS), L("97161", "120", "2", dos=DOS, modifiers=("XS",))]),
    C("EVAL-DATES", ["M9903", "M5450"], [L("98940", "45", "1", dos=DOS), L("97161", "120", "2", dos="20261111")]),
    C("EM", ["M9903", "M5450"], [L("98940", "45", "1", dos=DOS), L("99213", "100", "2", dos=DOS)]),
    C("EM-25", ["M9903", "M5450"], [L("98940", "45", "1", dos=DOS), L("99213", "100", "2", dos=DOS, modifiers=("25",))]),
    C("EM-59-ONLY-ON-COL1", ["M9903", "M5450"],
      [L("98940", "45", "1", dos=DOS, modifiers=("25",)), L("99213", "100", "2", dos=DOS)]),
    C("MUE-8", ["M5450"], [L("97110", "320", "1", dos=DOS, units="8")]),
    C("MUE-6", ["M5450"], [L("97110", "240", "1", dos=DOS, units="6")]),
    C("MUE-SPLIT", ["M5450"], [L("97110", "160", "1", dos=DOS, units="4"), L("97110", "160", "1", dos=DOS, units="4")]),
    C("MUE-TWO-DATES", ["M5450"], [L("97110", "160", "1", dos=DOS, units="4"), L("97110", "160", "1", dos="20261111", units="4")]),
    C("MUE-ZERO", ["M9903"], [L("98943", "40", "1", dos=DOS)]),
    C("ONE-LINE", ["M5450"], [L("99213", "100", "1", dos=DOS)]),
]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ncci")
    path = write_claims(tmp / "ncci_cases.837", CLAIMS)
    _, rep = scrub(path, tmp / "out", as_of=AS_OF)
    return claims_by_id(rep)


def nc(claim: dict, rule: str | None = None) -> list[dict]:
    return [f for f in claim["findings"] if f["rule"].startswith("NC") and (rule is None or f["rule"] == rule)]


# --- the shipped tables, through the API ------------------------------------------------------------


def test_shipped_tables():
    n = load_ncci()
    assert load_ncci() is n  # cached
    assert n.ptp_quarter == n.mue_quarter == datetime.date(2024, 7, 1)
    assert "CMS" in n.ptp_source and "PTP" in n.ptp_source and "\n" not in n.ptp_source
    assert "CMS" in n.mue_source and "MUE" in n.mue_source
    assert n.ptp_path.name == "ptp_practitioner.tsv" and n.mue_path.name == "mue_practitioner.tsv"
    assert n.ptp_rows == 345 and n.ptp_active == 221 and n.mue_rows == 56
    # 97012 is column 1 of 97140 (not the other way round); 97140/97530 was deleted on 2019-12-31.
    [row] = n.ptp_pair("97012", "97140")
    assert (row.modifier_indicator, row.deletion, row.rationale) == (1, None, "Mutually exclusive procedures")
    assert n.ptp_pair("97140", "97012") == []
    [old] = n.ptp_pair("97140", "97530")
    assert old.deletion == datetime.date(2019, 12, 31) and not old.applies(datetime.date(2026, 11, 10))
    assert old.applies(datetime.date(2019, 12, 31))
    assert n.ptp_pair("97530", "97140") == []
    assert n.ptp_edit("98940", "97161", datetime.date(2026, 11, 10)) == (0, "Standards of medical/surgical practice")
    assert n.ptp_edit("98942", "99215", datetime.date(2026, 11, 10))[0] == 1
    assert n.ptp_edit("98940", "97112", None)[0] == 1
    assert {r.column1 for r in n.ptp_for("97161")} >= {"98940", "98941", "98942"}
    # Indicator 9 rows are not edits: left out.
    assert all(r.modifier_indicator in (0, 1) for code in ("97161", "72052", "99213") for r in n.ptp_for(code))
    assert (n.mue("97110").value, n.mue("97110").mai) == (6, 3)
    assert [n.mue(c).value for c in ("97140", "97530", "97112", "98940", "97161")] == [6, 6, 4, 1, 1]
    assert n.mue("98943").value == 0 and n.mue("A0001") is None
    assert n.bypass.for_code("97140") == {"59", "XE", "XS", "XP", "XU"}
    assert n.bypass.for_code("99213") == {"25", "59", "XE", "XS", "XP", "XU"}
    assert "25" not in n.bypass.for_code("99201") and "25" in n.bypass.for_code("99499")


def test_quarter_age():
    q = datetime.date(2024, 7, 1)
    assert ncci.quarter_age(q, AS_OF) == 9
    assert ncci.quarter_note("PTP", q, AS_OF) == "(NCCI PTP quarter 2024-07-01, 9 quarters old)"
    assert ncci.quarter_note("MUE", q, datetime.date(2024, 9, 30)) == "(NCCI MUE quarter 2024-07-01)"
    assert ncci.quarter_note("MUE", q, datetime.date(2024, 10, 1)) == "(NCCI MUE quarter 2024-07-01, 1 quarter old)"
    assert ncci.quarter_age(q, datetime.date(2024, 1, 1)) == 0  # a claim before the quarter: no age


def test_describe_names_each_table():
    lines = describe()
    text = "\n".join(lines)
    assert "quarter 2024-07-01" in text and "345 edits" in text and "56 codes" in text
    assert "ptp_practitioner.tsv" in text and "mue_practitioner.tsv" in text
    assert all("\n" not in line for line in lines)


# --- the rules on real claims ----------------------------------------------------------------------


def test_indicator_1_flags_the_column_2_line_only(report):
    [f] = nc(report["TRACTION"])
    assert (f["rule"], f["severity"], f["element"], f["value"]) == ("NC002", "warning", "SV101-3", "97140")
    assert "Service line 2 (97140)" in f["message"] and "with 97012" in f["message"]
    assert report["TRACTION"]["status"] == "accepted"
    assert nc(report["TRACTION-59"]) == []  # 59 on the column-2 line


def test_deleted_edit_gives_no_finding(report):
    assert nc(report["ACTIVITIES"]) == []  # 97140/97530: deleted on 2019-12-31


def test_indicator_0_rejects_the_claim(report):
    claim = report["EVAL"]
    [f] = nc(claim)
    assert (f["rule"], f["severity"], f["element"], f["value"]) == ("NC001", "error", "SV101-2", "97161")
    assert "Service line 2 (97161)" in f["message"] and "2026-11-15" in f["message"]
    assert claim["status"] == "rejected"
    assert [g["rule"] for g in nc(report["EVAL-XS"])] == ["NC001"]  # no modifier bypasses indicator 0
    assert nc(report["EVAL-DATES"]) == []  # different dates


def test_em_line_needs_modifier_25(report):
    [f] = nc(report["EM"])
    assert (f["rule"], f["value"]) == ("NC002", "99213") and "Service line 2 (99213)" in f["message"]
    assert "25" in f["message"]
    assert nc(report["EM-25"]) == []
    # The modifier counts on the column-2 line, not on the column-1 line.
    assert [g["value"] for g in nc(report["EM-59-ONLY-ON-COL1"])] == ["99213"]


def test_mue_per_date_of_service(report):
    [f] = nc(report["MUE-8"])
    assert (f["rule"], f["severity"], f["element"], f["value"]) == ("NC003", "error", "SV104", "8")
    assert "allows 6 per date of service" in f["message"]
    assert report["MUE-8"]["status"] == "rejected"
    assert nc(report["MUE-6"]) == []
    [f] = nc(report["MUE-SPLIT"])  # 4 + 4 units of one date (MAI 3)
    assert f["value"] == "8" and report["MUE-SPLIT"]["status"] == "rejected"
    assert nc(report["MUE-TWO-DATES"]) == []
    [f] = nc(report["MUE-ZERO"])
    assert f["rule"] == "NC003" and "no unit of it is payable" in f["message"]


def test_dates_after_the_quarter_are_checked_against_it(report):
    messages = [f["message"] for claim in report.values() for f in nc(claim)]
    assert len(messages) >= 7
    assert not [f for claim in report.values() for f in nc(claim) if f["severity"] == "not_checked"]
    for m in messages:
        assert ("(NCCI PTP quarter 2024-07-01, 9 quarters old)" in m) or ("(NCCI MUE quarter 2024-07-01, 9 quarters old)" in m), m
    assert nc(report["ONE-LINE"]) == []


def test_the_ncci_rules_are_not_back_pain_only(tmp_path):
    # No back-pain diagnosis at all: the NCCI edits still apply.
    path = write_claims(tmp_path / "other.837", [
        C("KNEE", ["M25561"], [L("98940", "45", "1", dos=DOS), L("97161", "120", "1", dos=DOS)])])
    _, rep = scrub(path, tmp_path / "out", as_of=AS_OF)
    claim = claims_by_id(rep)["KNEE"]
    assert [f["rule"] for f in nc(claim)] == ["NC001"] and claim["status"] == "rejected"


# --- add_file: CMS files into the data folder --------------------------------------------------------

COPYRIGHT = "CPT codes, descriptions and other data only are copyright 2025 American Medical Association. All rights reserved."
PTP_HEADER = ("Column 1\tColumn 2\t*=in existence prior to 1996\tEffective Date\tDeletion Date *=no data\t"
              "Modifier 0=not allowed 1=allowed 9=not applicable\tPTP Edit Rationale")


def cms_ptp(path: Path, rows: list[str], header: str = PTP_HEADER) -> Path:
    """A CMS practitioner PTP text file: title lines, the header row, tab-delimited rows, CRLF."""
    text = "\r\n".join([COPYRIGHT, "Medicare NCCI Practitioner PTP Edits", "", header, *rows]) + "\r\n"
    path.write_bytes(text.encode("cp1252"))
    return path


def cms_mue(path: Path, rows: list[str]) -> Path:
    """A CMS practitioner MUE CSV: quoted title lines, then the header row."""
    text = "\r\n".join([
        f'"{COPYRIGHT}"', '"Medically Unlikely Edits, Practitioner Services, effective October 1, 2026"', "",
        '"HCPCS/CPT Code","Practitioner Services MUE Values","MUE Adjudication Indicator","MUE Rationale"',
        *rows]) + "\r\n"
    path.write_text(text, encoding="utf-8", newline="")
    return path


PTP_ROWS = [
    "97530\t97110\t\t20261001\t*\t1\tMutually exclusive procedures",
    "98940\t97161\t\t20200101\t*\t0\tStandards of medical/surgical practice",
    "98940\t97161\t\t20170101\t20200101\t9\tStandards of medical/surgical practice",
    "97012\t97140\t*\t19960101\t*\t1\tMutually exclusive procedures",
]
MUE_ROWS = [
    '97110,4,"1 Line Edit","Clinical: Data"',
    '97140,6,"3 Date of Service Edit: Clinical","Clinical: Data"',
    '98940,1,"2 Date of Service Edit: Policy","Code Descriptor / CPT Instruction"',
]


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """An empty data folder of its own, chosen the way the CLI does (the cached tables reset)."""
    folder = tmp_path / "data"
    folder.mkdir()
    monkeypatch.setenv(mapsdir.ENV_DATA_DIR, str(folder))
    mapsdir.set_data_dir(folder)  # on_change: the cached tables are forgotten
    yield folder
    mapsdir.set_data_dir(None)
    ncci.reset()


def test_add_cms_files_then_the_data_folder_wins(data_dir, tmp_path):
    assert ncci.reset in mapsdir._listeners
    ptp = cms_ptp(tmp_path / "Medicare_NCCI_PTP_Practitioner_Eff_10-01-2026_f1.txt", PTP_ROWS)
    msg = add_file(ptp, data_dir)
    assert msg == (f"NCCI PTP practitioner edits, quarter 2026-10-01: 3 active pairs -> "
                   f"{data_dir / 'ncci' / 'ptp_practitioner.tsv'}")
    mue = cms_mue(tmp_path / "MCR_MUE_PractitionerServices_Eff_10-01-2026.csv", MUE_ROWS)
    assert add_file(mue, data_dir) == (f"NCCI MUE practitioner services, quarter 2026-10-01: 3 codes -> "
                                       f"{data_dir / 'ncci' / 'mue_practitioner.tsv'}")
    n = load_ncci()
    assert n.ptp_path == data_dir / "ncci" / "ptp_practitioner.tsv" and n.mue_path.parent == data_dir / "ncci"
    assert n.ptp_quarter == n.mue_quarter == datetime.date(2026, 10, 1)
    assert n.ptp_rows == 3 and n.mue_rows == 3  # the indicator-9 row is left out
    [row] = n.ptp_pair("97530", "97110")
    assert row.effective == datetime.date(2026, 10, 1) and row.deletion is None
    assert not row.applies(datetime.date(2026, 9, 30))
    assert (n.mue("97110").value, n.mue("97110").mai) == (4, 1) and n.mue("97530") is None
    assert "Medicare_NCCI_PTP_Practitioner_Eff_10-01-2026_f1.txt" in n.ptp_inputs[0]
    assert any("quarter 2026-10-01" in line for line in describe())

    # The rules read the new quarter (the current one on 2026-12-01: no age in the message).
    path = write_claims(tmp_path / "new.837", [
        C("NEW-PAIR", ["M5450"], [L("97530", "50", "1", dos=DOS), L("97110", "40", "1", dos=DOS)]),
        C("LINE-MUE", ["M5450"], [L("97110", "160", "1", dos=DOS, units="3"), L("97110", "160", "1", dos=DOS, units="3")]),
        C("LINE-MUE-5", ["M5450"], [L("97110", "200", "1", dos=DOS, units="5")]),
    ])
    _, rep = scrub(path, tmp_path / "out", as_of=AS_OF)
    claims = claims_by_id(rep)
    [f] = nc(claims["NEW-PAIR"])
    assert f["rule"] == "NC002" and f["value"] == "97110" and "(NCCI PTP quarter 2026-10-01)" in f["message"]
    assert nc(claims["LINE-MUE"]) == []  # MAI 1: each line's 3 units against 4
    [f] = nc(claims["LINE-MUE-5"])
    assert f["rule"] == "NC003" and "allows 4 per line" in f["message"] and "(NCCI MUE quarter 2026-10-01)" in f["message"]


def test_add_merges_the_parts_of_one_quarter(data_dir, tmp_path):
    add_file(cms_ptp(tmp_path / "ptp_Eff_10-01-2026_f1.txt", PTP_ROWS[:1]), data_dir)
    msg = add_file(cms_ptp(tmp_path / "ptp_Eff_10-01-2026_f2.txt", PTP_ROWS[1:]), data_dir)
    assert "3 active pairs (merged with the quarter's 1 earlier file)" in msg
    n = load_ncci()
    assert n.ptp_rows == 3 and len(n.ptp_inputs) == 2
    # A newer quarter replaces the table; then an older one is refused.
    add_file(cms_ptp(tmp_path / "ptp_2027-01-01.txt", PTP_ROWS[:1]), data_dir)
    assert load_ncci().ptp_rows == 1 and load_ncci().ptp_quarter == datetime.date(2027, 1, 1)
    with pytest.raises(NcciError) as err:
        add_file(cms_ptp(tmp_path / "ptp_Eff_10-01-2026_f3.txt", PTP_ROWS), data_dir)
    assert "older" in str(err.value) and "2027-01-01" in str(err.value) and "\n" not in str(err.value)


def test_add_quarter_from_argument_and_two_line_header(data_dir, tmp_path):
    header = "Column1\tColumn2\t*=in existence\tEffective\tDeletion\tModifier\tPTP Edit\r\n\t\tprior to 1996\tDate\tDate *=no data\t0=not allowed 1=allowed 9=not applicable\tRationale"
    src = cms_ptp(tmp_path / "ccipra-f1.txt", PTP_ROWS, header=header)
    with pytest.raises(NcciError, match="cannot tell the quarter"):
        add_file(src, data_dir)
    assert "quarter 2026-10-01" in add_file(src, data_dir, quarter=datetime.date(2026, 10, 1))
    assert load_ncci().ptp_rows == 3


def test_add_refuses_bad_files(data_dir, tmp_path):
    def refused(src: Path, *needles: str) -> str:
        with pytest.raises(NcciError) as err:
            add_file(src, data_dir)
        text = str(err.value)
        assert "\n" not in text and all(n in text for n in needles), text
        return text

    # Older than the shipped quarter (2024-07-01).
    refused(cms_ptp(tmp_path / "ptp_Eff_04-01-2024.txt", PTP_ROWS), "older", "2024-07-01", "shipped")
    refused(cms_mue(tmp_path / "MCR_MUE_PractitionerServices_Eff_01-01-2024.csv", MUE_ROWS), "older")
    # No rows: a header only; a file of indicator-9 rows only.
    refused(cms_ptp(tmp_path / "ptp_Eff_10-01-2026_empty.txt", []), "ptp_Eff_10-01-2026_empty.txt", "no rows")
    refused(cms_mue(tmp_path / "mue_Eff_10-01-2026_empty.csv", []), "no rows")
    refused(cms_ptp(tmp_path / "ptp_Eff_10-01-2026_nine.txt", PTP_ROWS[2:3]), "no PTP edits")
    # Malformed rows, named by file and line (the title lines count: the first row is line 5).
    bad = cms_ptp(tmp_path / "ptp_Eff_10-01-2026_bad.txt", PTP_ROWS[:2] + ["97530\t97112\t\t20261001\t*\tX\tMutually exclusive procedures"])
    refused(bad, "ptp_Eff_10-01-2026_bad.txt line 7", "modifier indicator 'X'")
    refused(cms_ptp(tmp_path / "ptp_Eff_10-01-2026_date.txt", ["97530\t97110\t\t2026-10-01\t*\t1\tx"]), "line 5", "effective date")
    refused(cms_ptp(tmp_path / "ptp_Eff_10-01-2026_short.txt", PTP_ROWS[:1] + ["97530\t97112"]), "line 6", "columns")
    refused(cms_mue(tmp_path / "mue_Eff_10-01-2026_bad.csv", MUE_ROWS + ['97112,four,"3 Date of Service Edit: Clinical",x']),
            "line 8", "MUE value 'four'")
    refused(cms_mue(tmp_path / "mue_Eff_10-01-2026_mai.csv", ['97112,4,"Per line",x']), "line 5", "adjudication indicator")
    refused(cms_mue(tmp_path / "mue_Eff_10-01-2026_twice.csv", MUE_ROWS + [MUE_ROWS[0]]), "code 97110 twice")
    # Not a CMS table at all; a zip; no such file.
    other = tmp_path / "notes_2026-10-01.txt"
    other.write_text("97110\tsome\tother\ttable\n")
    refused(other, "no CMS PTP header")
    (tmp_path / "ptp_2026-10-01.zip").write_bytes(b"PK\x03\x04rest")
    refused(tmp_path / "ptp_2026-10-01.zip", "zip", "unzip")
    refused(tmp_path / "missing_2026-10-01.txt", "no such file")
    assert not (data_dir / "ncci").exists() or not list((data_dir / "ncci").iterdir())  # nothing written


def test_add_accepts_the_subset_format(data_dir):
    if not NCCI_SRC.is_dir():
        pytest.skip(f"../shared/codesets/ncci is absent ({NCCI_SRC}): the subset files are needed")
    msg = add_file(NCCI_SRC / "ptp_practitioner_2024-07-01_backpain.tsv", data_dir)
    assert msg.startswith("NCCI PTP practitioner edits, quarter 2024-07-01: 221 active pairs")
    # The same quarter as the shipped table: the same bytes as the shipped one.
    assert (data_dir / "ncci" / "ptp_practitioner.tsv").read_bytes() == (ROOT / "maps" / "ncci" / "ptp_practitioner.tsv").read_bytes()


def test_broken_table_gives_one_line_not_checked(data_dir, tmp_path):
    (data_dir / "ncci").mkdir()
    good = (ROOT / "maps" / "ncci" / "ptp_practitioner.tsv").read_text(encoding="utf-8")
    broken = good.replace("# quarter: 2024-07-01", "# quarter: 2026-10-01").replace("\t1\t*\t*\t", "\tone\t*\t*\t", 1)
    (data_dir / "ncci" / "ptp_practitioner.tsv").write_text(broken, encoding="utf-8")
    with pytest.raises(NcciError) as err:
        load_ncci()
    assert "ptp_practitioner.tsv line" in str(err.value) and "\n" not in str(err.value)
    path = write_claims(tmp_path / "broken.837", [CLAIMS[0]])
    _, rep = scrub(path, tmp_path / "out", as_of=AS_OF)
    found = nc(claims_by_id(rep)["TRACTION"])
    assert {f["rule"] for f in found} == {"NC001", "NC002", "NC003"}
    assert all(f["severity"] == "not_checked" and "malformed PTP row" in f["message"] for f in found)


def test_shipped_table_of_a_newer_quarter_wins_over_an_older_data_folder_copy(data_dir):
    (data_dir / "ncci").mkdir()
    old = (ROOT / "maps" / "ncci" / "ptp_practitioner.tsv").read_text(encoding="utf-8")
    (data_dir / "ncci" / "ptp_practitioner.tsv").write_text(old.replace("# quarter: 2024-07-01", "# quarter: 2024-04-01"),
                                                           encoding="utf-8")
    assert load_ncci().ptp_path == ROOT / "maps" / "ncci" / "ptp_practitioner.tsv"


# --- the build script ----------------------------------------------------------------------------------


def test_build_script_reproduces_the_shipped_tables(tmp_path):
    if not NCCI_SRC.is_dir():
        pytest.skip(f"../shared/codesets/ncci is absent ({NCCI_SRC}): cannot rebuild maps/ncci/")
    result = subprocess.run([sys.executable, str(BUILD), "--out", str(tmp_path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    for name in ("ptp_practitioner.tsv", "mue_practitioner.tsv"):
        assert (tmp_path / name).read_bytes() == (ROOT / "maps" / "ncci" / name).read_bytes(), f"run tools/build_ncci.py ({name})"
    check = subprocess.run([sys.executable, str(BUILD), "--check"], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


def test_build_script_bad_source_is_one_line(tmp_path):
    result = subprocess.run([sys.executable, str(BUILD), "--src", str(tmp_path / "nowhere"), "--out", str(tmp_path)],
                            capture_output=True, text=True)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1 and "no such folder" in result.stderr
