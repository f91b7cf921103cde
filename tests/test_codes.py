"""Diagnosis codes and claim data beyond the rule cases: FY boundaries, code sets in the report, privacy of birth dates,
envelope balancing (EN101/EN102), timely-filing option, NPI check digit, fixtures up to date."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date

import pytest

from conftest import ROOT, claims_by_id, fixture, make_fixtures, run_cli, scrub, write_837
from scrubber.x12.reader import read_segments
from scrubber.rules.identifiers._common import luhn_npi_ok


def rules_of(claim: dict) -> set[str]:
    return {f["rule"] for f in claim["findings"]}


@pytest.mark.parametrize("name, as_of, claim, dx_rule", [
    # M54.5: billable to 2021-09-30 (FY2021), a header from 2021-10-01 (FY2022).
    ("codes_fy2022.837", date(2022, 3, 1), "FY-M545-20210930", None),
    ("codes_fy2022.837", date(2022, 3, 1), "FY-M545-20211001", "DX102"),
    # M54.50: new in FY2022.
    ("codes_fy2022.837", date(2022, 3, 1), "FY-M5450-20210930", "DX103"),
    ("codes_fy2022.837", date(2022, 3, 1), "FY-M5450-20211001", None),
    # M79.1: billable to 2018-09-30 (FY2018), a header from 2018-10-01 (FY2019).
    ("codes_fy2019.837", date(2019, 3, 1), "FY-M791-20180930", None),
    ("codes_fy2019.837", date(2019, 3, 1), "FY-M791-20181001", "DX102"),
])
def test_fiscal_year_boundaries(tmp_path, name, as_of, claim, dx_rule):
    _, report = scrub(fixture(name), tmp_path, as_of=as_of)
    c = claims_by_id(report)[claim]
    dx = {r for r in rules_of(c) if r.startswith("DX")}
    if dx_rule is None:
        assert dx == set() and c["status"] == "accepted", c["findings"]
    else:
        assert dx == {dx_rule} and c["status"] == "rejected", c["findings"]


def test_header_message_names_billable_children(scrubbed):
    _, report, _ = scrubbed("codes_fy2019.837", date(2019, 3, 1))
    f = next(f for f in claims_by_id(report)["FY-M791-20181001"]["findings"] if f["rule"] == "DX102")
    assert "M79.10, M79.11, M79.12, M79.18" in f["message"] and "FY2019" in f["message"]
    _, report, _ = scrubbed("codes_fy2022.837", date(2022, 3, 1))
    claim = claims_by_id(report)["FY-M545-SPLIT"]
    found = [f for f in claim["findings"] if f["rule"] == "DX102"]
    assert len(found) == 1  # line 1 (2021-09-30) is fine, line 2 (2021-10-01) is not
    assert "M54.50, M54.51, M54.59" in found[0]["message"] and "2021-10-01" in found[0]["message"]


def test_date_past_newest_year_is_checked_against_it_and_says_so(scrubbed):
    _, report, _ = scrubbed("codes_outside.837", date(2027, 11, 1))
    claims = claims_by_id(report)
    late = [f for f in claims["DX110-FAIL-LATE"]["findings"] if f["rule"] == "DX110"]
    assert len(late) == 1 and late[0]["severity"] == "not_checked"
    assert "FY2028" in late[0]["message"] and "FY2027" in late[0]["message"]
    assert claims["DX110-FAIL-LATE"]["status"] == "accepted"  # not_checked does not reject
    # ... and the newest year still catches what it can.
    assert {"DX110", "DX102"} <= rules_of(claims["DX110-LATE-M545"])
    early = next(f for f in claims["DX110-FAIL-EARLY"]["findings"] if f["rule"] == "DX110")
    assert early["severity"] == "not_checked" and "2015-10-01" in early["message"]
    assert "DX110" not in rules_of(claims["DX110-PASS"])


def test_place_of_service_effective_dates(tmp_path):
    """POS 02 is effective 2017-01-01 and 66 2024-08-01 (maps/pos/SOURCE.md): ID006 on a date of
    service before that, in CLM05-1 or SV105, and none from that day on."""
    mf = make_fixtures()
    L = mf.Line

    def claim(clm_id, pos, dos, line_pos=""):
        return mf.Claim(clm_id, ["M546"], [L("99213", "100", "1", dos=dos, pos=line_pos)], pos=pos)

    claims = [
        claim("POS02-20161231", "02", "20161231"),
        claim("POS02-20170101", "02", "20170101"),
        claim("POS66-20240731", "66", "20240731"),
        claim("POS66-20240801", "66", "20240801"),
        claim("POS66-SV105-20240731", "11", "20240731", line_pos="66"),
        claim("POS66-SV105-20240801", "11", "20240801", line_pos="66"),
    ]
    path = write_837(tmp_path / "pos.837", [mf.Subscriber(mf.person(74), claims=claims)], isa13="000000910")
    _, report = scrub(path, tmp_path / "out")
    found = {cid: [f for f in c["findings"] if f["rule"] == "ID006"] for cid, c in claims_by_id(report).items()}
    for cid, element, since in (("POS02-20161231", "CLM05-1", "2017-01-01"), ("POS66-20240731", "CLM05-1", "2024-08-01"),
                                ("POS66-SV105-20240731", "SV105", "2024-08-01")):
        assert len(found[cid]) == 1, (cid, found[cid])
        f = found[cid][0]
        assert f["element"] == element and f["severity"] == "error" and f"valid from {since}" in f["message"], f
    for cid in ("POS02-20170101", "POS66-20240801", "POS66-SV105-20240801"):
        assert found[cid] == [], (cid, found[cid])
    rejected = {c["claim_id"] for c in report["claims"] if c["status"] == "rejected"}
    assert rejected == {"POS02-20161231", "POS66-20240731", "POS66-SV105-20240731"}


def test_report_names_the_code_sets(scrubbed):
    _, report, _ = scrubbed("codes.837")
    assert report["code_sets"]["icd10cm"] == [f"FY{y}" for y in range(2016, 2028)]


def test_birth_date_never_in_findings(scrubbed):
    """DT004 compares with DMG02 (2010CA here) but never shows it."""
    _, report, _ = scrubbed("codes.837")
    claim = claims_by_id(report)["DT004-FAIL"]
    assert claim["status"] == "rejected"
    text = json.dumps(report)
    for birth in ("20250320", "2025-03-20", "03/20/2025"):
        assert birth not in text


def test_envelope_counts_warn_and_outputs_recount(tmp_path):
    """SNIP 3 envelope balancing is EN101/EN102 (scrubber/rules/envelope.py): warnings, recounted outputs."""
    outcome, report = scrub(fixture("codes_envelope.837"), tmp_path)
    by_rule = {f["rule"]: f for f in report["findings"]}
    assert by_rule["EN101"]["severity"] == "warning" and by_rule["EN101"]["element"] == "SE01"
    assert by_rule["EN101"]["value"] == "99"
    assert by_rule["EN102"]["element"] == "GE02" and by_rule["EN102"]["value"] == "7"
    assert report["status"] == "clean" and report["summary"]["accepted"] == 1
    segs = list(read_segments(tmp_path / "codes_envelope.clean.837"))
    st = next(i for i, s in enumerate(segs) if s.id == "ST")
    se = next(s for s in segs if s.id == "SE")
    ge = next(s for s in segs if s.id == "GE")
    gs = next(s for s in segs if s.id == "GS")
    assert se.el(1) == str(segs.index(se) - st + 1) != "99"
    assert ge.el(2) == gs.el(6) == "1"
    again = scrub(tmp_path / "codes_envelope.clean.837", tmp_path / "again")[1]
    assert again["findings"] == [] and again["summary"]["warnings"] == 0


def test_timely_filing_limit_is_an_option(tmp_path):
    cfg = tmp_path / "scrubber.toml"
    cfg.write_text("[options]\ntimely_filing_days = 60\n")
    result = run_cli("scrub", fixture("clean_single.837"), "--out-dir", tmp_path / "o", "--as-of", "2025-06-01",
                     "--config", cfg, "--format", "json")
    assert result.returncode == 0, result.stderr  # a warning by default
    claim = json.loads(result.stdout)["claims"][0]
    tf = [f for f in claim["findings"] if f["rule"] == "TF001"]
    assert tf and tf[0]["severity"] == "warning" and "limit of 60 days" in tf[0]["message"]
    cfg.write_text('[options]\ntimely_filing_days = 60\n[rules.severity]\nTF001 = "error"\n')
    result = run_cli("scrub", fixture("clean_single.837"), "--out-dir", tmp_path / "o", "--as-of", "2025-06-01",
                     "--config", cfg, "--format", "json")
    assert result.returncode == 1
    default = run_cli("scrub", fixture("clean_single.837"), "--out-dir", tmp_path / "d", "--as-of", "2025-06-01",
                      "--format", "json")
    assert default.returncode == 0 and json.loads(default.stdout)["claims"][0]["findings"] == []


def test_npi_check_digit():
    assert luhn_npi_ok("1234567893")  # the CMS example
    assert not luhn_npi_ok("1234567890")
    assert not luhn_npi_ok("123456789") and not luhn_npi_ok("12345678a3") and not luhn_npi_ok("")


def test_place_of_service_table_is_data_with_a_source():
    from scrubber.codesets.pos import load_pos

    table = load_pos()
    assert table.get("11").name == "Office" and table.get("35") is None
    assert table.get("10").effective_from == date(2022, 1, 1)
    assert "cms.gov" in table.source and table.as_of.startswith("2025")


def test_codes_fixtures_are_up_to_date():
    r = subprocess.run([sys.executable, str(ROOT / "tools" / "fixtures_codes.py"), "--check"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
