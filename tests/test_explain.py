"""`scrubber explain`: a claim as the guide sees it, pointers, diagnosis status, masking."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ROOT, fixture, run_cli

from scrubber.cli.app import cli
from scrubber.report.explain import MASK, element_names, masked_values, parse_ref
from scrubber.x12.reader import read_segments

AS_OF = "2025-06-01"


def personal_values(path: Path) -> set[str]:
    """Names, member ids, birth dates and addresses in a fixture, read with a plain split
    (independently of the masking code)."""
    text = path.read_text(encoding="latin-1")
    values: set[str] = set()
    for raw in text.replace("\r", "").replace("\n", "").split("~"):
        el = raw.split("*")
        sid = el[0]
        if sid == "NM1" and len(el) > 2 and (el[1] in ("IL", "QC") or el[2] == "1"):
            values.update(v for i, v in enumerate(el) if i in (3, 4, 9))
        elif sid in ("N3", "N4"):
            values.update(el[1:])
        elif sid == "DMG" and len(el) > 2:
            values.add(el[2])
    return {v for v in values if len(v) >= 4}


def explain(*args: str) -> subprocess.CompletedProcess:
    return run_cli("explain", *args)


def lines_of(out: str) -> list[str]:
    return out.splitlines()


def test_personal_values_of_fixtures_are_known():
    values = personal_values(fixture("analyst.837"))
    # the helper really finds them (else the masking tests below could not fail)
    assert {"SAMPLEPERSON", "TESTPATIENT", "ZZM00000042", "20110601", "142 SAMPLE ST", "SAMPLETOWN"} <= values


def test_broken_pointer_claim():
    r = explain(fixture("sample.837"), "--claim", "SAMPLE-BADPTR", "--as-of", AS_OF)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "\x1b[" not in out, "plain text when piped"
    lines = lines_of(out)
    assert lines[0].startswith("claim SAMPLE-BADPTR  REJECTED")
    # loops indented: 2000A > 2000B > 2300 > 2400
    indent = {loop: next(len(l) - len(l.lstrip()) for l in lines if l.strip().startswith(loop + "  "))
              for loop in ("2000A", "2000B", "2300", "2400")}
    assert indent["2000A"] < indent["2000B"] < indent["2300"] < indent["2400"]
    # each segment with its position; elements named after the guide
    assert any(re.search(r"#68 CLM\s+CLM\*SAMPLE-BADPTR\*95", l) for l in lines)
    assert any(re.search(r"CLM01\s+Patient Control Number\s+SAMPLE-BADPTR", l) for l in lines)
    assert any(re.search(r"SV107-2\s+Diagnosis Code Pointer\s+3$", l) for l in lines)
    # diagnoses under HI with position, dotted code, title, status
    hi = next(i for i, l in enumerate(lines) if "#69 HI" in l)
    assert re.search(r"HI01-2\s+diagnosis 1\s+ABK\s+M54\.6\s+Pain in thoracic spine\s+billable on 2025-03-14 \(FY2025\)", lines[hi + 1])
    assert re.search(r"HI02-2\s+diagnosis 2\s+ABF\s+M79\.18\s+Myalgia, other site", lines[hi + 2])
    # the second line's pointers, and the finding at the SV1 it concerns (#74), before the next segment
    sv1 = next(i for i, l in enumerate(lines) if "#74 SV1" in l)
    nxt = next(i for i in range(sv1 + 1, len(lines)) if re.search(r"#\d+ ", lines[i]))
    block = "\n".join(lines[sv1:nxt])
    assert "service line 2: procedure 97140" in block
    assert "SV107-1 pointer 1 -> diagnosis 1 M54.6" in block
    assert "SV107-2 pointer 3 -> nothing: the claim has 2 diagnoses" in block
    assert re.search(r"ERROR DP002 SV107-2 = 3: .*\[277CA A7:477\]", block)
    # the first line reaches both diagnoses and carries no finding
    sv1_first = next(i for i, l in enumerate(lines) if "#71 SV1" in l)
    first_block = "\n".join(lines[sv1_first:sv1])
    assert "pointer 2 -> diagnosis 2 M79.18" in first_block and "ERROR" not in first_block


def test_invalid_code_claim_shows_status_from_the_icd_table():
    r = explain(fixture("analyst.837"), "--claim", "ANALYST-M545", "--as-of", AS_OF)
    assert r.returncode == 0, r.stderr
    lines = lines_of(r.stdout)
    hi = next(i for i, l in enumerate(lines) if re.search(r"#\d+ HI\s+HI\*ABK:M545", l))
    assert re.search(r"HI01-2\s+diagnosis 1\s+ABK\s+M54\.5\s+Low back pain\s+NOT BILLABLE on 2025-03-11 \(FY2025\)", lines[hi + 1])
    assert "M54.50, M54.51, M54.59" in lines[hi + 1]
    assert re.search(r"HI02-2\s+diagnosis 2\s+ABF\s+M54\.6 .*billable on 2025-03-11", lines[hi + 2])
    # the service lines that point at it say so too
    assert any("pointer 1 -> diagnosis 1 M54.5 Low back pain  NOT BILLABLE" in l for l in lines)


def test_invalid_code_on_an_old_date_is_billable(tmp_path):
    # M54.5 was billable until FY2021: the status follows the date of service
    old = tmp_path / "old.837"
    old.write_bytes(fixture("analyst.837").read_bytes().replace(b"DTP*472*D8*20250311", b"DTP*472*D8*20200311"))
    r = explain(old, "--claim", "ANALYST-M545", "--as-of", AS_OF)
    assert r.returncode == 0, r.stderr
    assert re.search(r"M54\.5\s+Low back pain\s+billable on 2020-03-11 \(FY2020\)", r.stdout)


def test_no_personal_values_in_explain_output():
    for name in ("analyst.837", "sample.837", "multi.837"):
        path = fixture(name)
        r = explain(path, "--all", "--as-of", AS_OF)
        assert r.returncode == 0, r.stderr
        leaked = sorted(v for v in personal_values(path) if v in r.stdout)
        assert not leaked, f"{name}: personal values shown: {leaked}"
        assert MASK in r.stdout
    # the patient loop is there, masked
    r = explain(fixture("analyst.837"), "--claim", "ANALYST-OK-1", "--as-of", AS_OF)
    assert "2000C" in r.stdout and "2010CA" in r.stdout
    assert re.search(r"NM103\s+Patient Last Name\s+\[masked\]", r.stdout)
    assert re.search(r"DMG02\s+Patient Birth Date\s+\[masked\]", r.stdout)


def test_masking_rules():
    segs = {s.raw: s for s in read_segments(fixture("sample.837"))}
    nm1_il = next(s for s in segs.values() if s.id == "NM1" and s.el(1) == "IL")
    assert masked_values(nm1_il)[1:3] == ["IL", "1"] and masked_values(nm1_il)[3] == MASK
    assert masked_values(nm1_il)[8] == "MI", "the id qualifier stays"
    payer = next(s for s in segs.values() if s.id == "NM1" and s.el(1) == "PR")
    assert masked_values(payer) == payer.elements, "organisations are not masked"
    dmg = next(s for s in segs.values() if s.id == "DMG")
    assert masked_values(dmg)[1] == "D8" and masked_values(dmg)[2] == MASK


def test_listing_and_colour():
    r = explain(fixture("sample.837"), "--as-of", AS_OF)
    assert r.returncode == 0
    for cid, status in (("SAMPLE-OK-1", "accepted"), ("SAMPLE-BADPTR", "rejected"), ("SAMPLE-NOPTR", "rejected")):
        assert re.search(rf"{status}\s+{cid}\b", r.stdout), cid
    coloured = CliRunner().invoke(cli, ["explain", str(fixture("sample.837")), "--claim", "SAMPLE-BADPTR", "--color"])
    assert coloured.exit_code == 0 and "\x1b[" in coloured.output
    plain = CliRunner().invoke(cli, ["explain", str(fixture("sample.837")), "--claim", "SAMPLE-BADPTR"])
    assert plain.exit_code == 0 and "\x1b[" not in plain.output


def test_rejected_only():
    r = explain(fixture("sample.837"), "--rejected", "--as-of", AS_OF)
    assert r.returncode == 0
    heads = [l for l in r.stdout.splitlines() if l.startswith("claim ")]
    assert [h.split()[1] for h in heads] == ["SAMPLE-BADPTR", "SAMPLE-NOPTR"]
    assert "no diagnosis pointer (SV107 absent)" in r.stdout


def test_explain_errors_are_one_line():
    r = explain(fixture("sample.837"), "--claim", "NOPE-1")
    assert r.returncode == 2 and "no claim 'NOPE-1'" in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    r = explain(fixture("bad_truncated.837"), "--claim", "TRUNC-1")
    assert r.returncode == 2 and "unusable: truncated" in r.stderr and "Traceback" not in r.stderr
    r = explain(fixture("bad_not_x12.837"))
    assert r.returncode == 2 and "not an X12 file" in r.stderr
    r = explain(ROOT / "no-such.837")
    assert r.returncode == 2 and "no such file" in r.stderr


def test_element_names_and_refs():
    names = element_names()
    assert names.name("2400", "*", "SV107-2") == "Diagnosis Code Pointer"
    assert names.name("2400", "472", "DTP03") == "Service Date"
    assert names.name("2010BA", "IL", "NM109") == "Subscriber Primary Identifier"
    assert names.loop("2300") == "Claim Information"
    assert parse_ref("SV107-2", "SV1") == (7, 2)
    assert parse_ref("CLM02", "CLM") == (2, None)
    assert parse_ref("HI03-2") == (3, 2)
    assert parse_ref("N301") == (1, None)
    assert parse_ref("ISA") is None


def test_element_map_records_its_source_and_is_up_to_date():
    head = (ROOT / "maps" / "x12" / "837p_elements.tsv").read_text(encoding="utf-8").splitlines()[:6]
    assert any(l.startswith("# source:") and "005010X222A1" in l for l in head)
    assert "x12/" in (ROOT / "maps" / "MAPS.md").read_text(encoding="utf-8")
    pytest.importorskip("pyx12")
    r = subprocess.run([sys.executable, str(ROOT / "tools" / "build_x12_elements.py"), "--check"],
                       capture_output=True, text=True, timeout=120, check=False)
    assert r.returncode == 0, r.stdout + r.stderr


def test_analyst_fixture_is_up_to_date():
    r = subprocess.run([sys.executable, str(ROOT / "tools" / "fixtures_analyst.py"), "--check"],
                       capture_output=True, text=True, timeout=120, check=False)
    assert r.returncode == 0, r.stdout + r.stderr


def test_listing_agrees_with_the_scrub_report(scrubbed):
    # explain runs the scrub's own pipeline: same statuses, same rules per claim
    _, report, _ = scrubbed("sample.837")
    r = explain(fixture("sample.837"), "--as-of", AS_OF)
    assert r.returncode == 0, r.stderr
    listed = {}
    for line in r.stdout.splitlines()[2:]:
        # ISA13, GS06 and ST02 beside the position: a position counts within its transaction set
        m = re.match(r"\s+(\S+)\s+(\S+)\s+(\S+)\s+#\d+\s+(accepted|rejected)\s+(\S+)\s+(.*)$", line)
        if m:
            listed[m.group(5)] = (m.group(1), m.group(2), m.group(3), m.group(4), m.group(6))
    expected = {c["claim_id"]: (c["interchange"], c["group"], c["transaction"], c["status"],
                                ", ".join(sorted({f["rule"] for f in c["findings"]})) or "-")
                for c in report["claims"]}
    assert listed == expected
