"""The structural pass: pyx12 fed the scrubber's segments, findings placed on claims."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import CORPUS, claims_by_id, fixture, run_cli, scrub, problem_lines
from pyx12check import pyx12_errors
from scrubber.config import parse_config
from scrubber.check.engine import known_codes
from scrubber.check.structure import validate_structure
from scrubber.check.structure.normalize import normalized

SX_LOOP_RULES = {"SX001", "SX002", "SX003", "SX004", "SX005"}


def sx(findings: list[dict]) -> list[dict]:
    return [f for f in findings if f["rule"].startswith("SX")]


def write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode("latin-1") if isinstance(data, str) else data)
    return path


CLEAN = fixture("clean_single.837").read_text(encoding="ascii")


# --- what the fixtures expected clean say -------------------------------------------------------
@pytest.mark.parametrize("name,bad", [
    ("sample.837", {"SAMPLE-BADPTR", "SAMPLE-NOPTR"}),
    ("clean_single.837", set()),
    ("multi.837", {"MULTI-4", "MULTI-11"}),
    ("delims_pipe.837", {"DLM-PIPE-BAD"}),
    ("delims_tilde.837", {"DLM-TILDE-BAD"}),
    ("delims_newline.837", {"DLM-NEWLINE-BAD"}),
    ("delims_cr.837", {"DLM-CR-BAD"}),
    ("delims_bom.837", {"DLM-BOM-BAD"}),
    ("pointers.837", {"DP001-FAIL", "DP003-FAIL", "DP003-FAIL-13", "DP003-FAIL-0", "DP006-FAIL", "DP007-FAIL",
                      "DP004-FAIL"}),
])
def test_clean_fixtures_have_no_structural_findings(name, bad, scrubbed):
    _, report, _ = scrubbed(name)
    assert not sx(report["findings"])
    for claim in report["claims"]:
        found = sx(claim["findings"])
        if claim["claim_id"] in bad:
            continue
        assert not found, (claim["claim_id"], found)


def test_structural_findings_sit_where_the_content_rules_point(scrubbed):
    """Positions are the scrubber's: pyx12 reads one line per segment of the input."""
    _, report, _ = scrubbed("sample.837")
    claim = claims_by_id(report)["SAMPLE-NOPTR"]
    dp001 = next(f for f in claim["findings"] if f["rule"] == "DP001")
    # DP001 and SX006 say the same there: the claim carries DP001 only; with DP001 off, SX006 shows
    assert not any(f["rule"] == "SX006" for f in claim["findings"])
    _, alone, _ = scrubbed("sample.837", config={"rules": {"ignore": ["DP001"]}})
    sx006 = next(f for f in claims_by_id(alone)["SAMPLE-NOPTR"]["findings"] if f["rule"] == "SX006")
    assert (sx006["loop"], sx006["segment"], sx006["position"], sx006["element"]) == ("2400", "SV1", dp001["position"], "SV107")
    assert "IK403 1" in sx006["message"] and sx006["ack"] == {"category": "A6", "status": "21"}
    _, report, _ = scrubbed("pointers.837")
    claims = claims_by_id(report)
    for cid in ("DP003-FAIL", "DP003-FAIL-13", "DP003-FAIL-0"):
        dp = next(f for f in claims[cid]["findings"] if f["rule"] == "DP003")
        sx008 = next(f for f in claims[cid]["findings"] if f["rule"] == "SX008")
        assert sx008["position"] == dp["position"] and sx008["element"] == "SV107-1"
    # pyx12 notices the missing 2400 at the next HL: the error belongs to the claim before it.
    assert any(f["rule"] == "SX002" and f["value"] == "2400" for f in claims["DP007-FAIL"]["findings"])
    assert claims["DP007-PASS"]["status"] == "accepted" and not sx(claims["DP007-PASS"]["findings"])


def test_pyx12_crash_on_five_pointers_is_a_finding_and_validation_goes_on(scrubbed):
    """pyx12 4.0 raises IndexError on SV107 1:2:3:4:5; the scrubber reports it and reads on."""
    _, report, _ = scrubbed("structure.837")
    claims = claims_by_id(report)
    sx011 = [f for f in claims["SX011-FAIL"]["findings"] if f["rule"] == "SX011"]
    assert sx011 and sx011[0]["element"] == "SV107" and "IK403 13" in sx011[0]["message"]
    assert any(f["rule"] == "SX012" for f in claims["SX012-FAIL"]["findings"])  # the claim after it
    everything = report["findings"] + [f for c in report["claims"] for f in c["findings"]]
    assert not any(f["rule"] == "SX099" for f in everything)


def test_header_error_rejects_every_claim_of_its_transaction_only(scrubbed):
    _, report, _ = scrubbed("structure.837")
    claims = claims_by_id(report)
    top = [f for f in report["findings"] if f["rule"] == "SX001"]
    assert len(top) == 1 and (top[0]["loop"], top[0]["segment"], top[0]["position"]) == ("1000A", "PER", 4)
    for cid in ("SX-HEADER-1", "SX-HEADER-2"):
        claim = claims[cid]
        assert claim["status"] == "rejected" and claim["transaction"] == "0002"
        [f] = sx(claim["findings"])
        assert f["rule"] == "SX001" and "transaction set 0002 is rejected" in f["message"] and f["position"] == 4
    assert claims["SX-PASS"]["status"] == "accepted" and claims["SX-PASS"]["findings"] == []


def test_envelope_error_rejects_the_group(scrubbed):
    _, report, _ = scrubbed("structure.837")
    claims = claims_by_id(report)
    top = [f for f in report["findings"] if f["rule"] == "SX020"]
    assert len(top) == 1 and top[0]["element"] == "GS05" and top[0]["segment"] == "GS"
    [f] = sx(claims["SX020-FAIL"]["findings"])
    assert f["rule"] == "SX020" and f["ack"] == {"category": "A3", "status": "21"}
    assert claims["SX020-FAIL"]["interchange"] == "000000502"


def test_messages_carry_no_data_values(scrubbed):
    """pyx12 quotes values (a date could be a birth date): the findings do not, except code values."""
    _, report, _ = scrubbed("structure.837")
    claims = claims_by_id(report)
    sx009 = next(f for f in claims["SX009-FAIL"]["findings"] if f["rule"] == "SX009")
    assert "20251340" not in sx009["message"] and sx009["value"] is None
    sx007 = next(f for f in claims["SX007-FAIL"]["findings"] if f["rule"] == "SX007")
    assert "GGGG" not in sx007["message"] and "51 characters, at most 50" in sx007["message"]
    sx008 = next(f for f in claims["SX008-FAIL"]["findings"] if f["rule"] == "SX008")
    assert sx008["value"] == "A"


def test_no_structure_option_skips_the_pass(tmp_path):
    out = run_cli("scrub", fixture("structure.837"), "--out-dir", tmp_path, "--as-of", "2025-06-01",
                  "--format", "json", "--no-structure")
    report = json.loads(out.stdout)
    assert not sx(report["findings"]) and not any(sx(c["findings"]) for c in report["claims"])
    assert claims_by_id(report)["SX001-FAIL"]["status"] == "accepted"
    on = run_cli("scrub", fixture("structure.837"), "--out-dir", tmp_path / "on", "--as-of", "2025-06-01",
                 "--format", "json")
    assert claims_by_id(json.loads(on.stdout))["SX001-FAIL"]["status"] == "rejected"


def test_configuration_applies_to_structural_rules(tmp_path):
    config = parse_config({"rules": {"ignore": ["SX006"], "severity": {"SX001": "warning"}}}, known_codes())
    _, report = scrub(fixture("structure.837"), tmp_path, config=config)
    claims = claims_by_id(report)
    assert not any(f["rule"] == "SX006" for f in claims["SX006-FAIL"]["findings"])
    assert claims["SX-HEADER-1"]["status"] == "accepted"
    assert [f["severity"] for f in claims["SX-HEADER-1"]["findings"]] == ["warning"]


def test_version_labels(scrubbed):
    _, report, _ = scrubbed("structure_a2.837")
    [warn] = [f for f in report["findings"] if f["rule"] == "SX090"]
    assert warn["severity"] == "warning" and warn["value"] == "005010X222A2" and warn["element"] == "ST03"
    assert report["claims"][0]["status"] == "accepted", report["claims"][0]["findings"]  # validated as A1
    _, report, _ = scrubbed("clean_single.837")
    assert not any(f["rule"] == "SX090" for f in report["findings"])


def test_version_label_005010X222_in_the_corpus(tmp_path):
    path = CORPUS / "Inteligenz__X12Parser" / (
        "tests__OopFactory.X12.Tests.Unit__Parsing___SampleEdiFiles__INS___837P___5010__Example2_Encounter.txt")
    if not path.is_file():
        pytest.skip(f"../shared/corpus is absent ({path})")
    _, report = scrub(path, tmp_path)
    assert [f["value"] for f in report["findings"] if f["rule"] == "SX090"] == ["005010X222"]


def test_837i_labelled_837p_in_gs08_is_unusable(tmp_path):
    path = write(tmp_path, "mixed.837", CLEAN.replace("ST*837*0001*005010X222A1", "ST*837*0001*005010X223A2"))
    assert "GS*HC" in CLEAN and "005010X222A1~" in CLEAN.split("ST*", 1)[0]  # GS08 stays 005010X222A1
    out = run_cli("scrub", path, "--out-dir", tmp_path / "o")
    assert out.returncode == 2 and "837I" in out.stderr and len(problem_lines(out.stderr)) == 1
    report = json.loads((tmp_path / "o" / "mixed.report.json").read_text())
    assert report["findings"][-1]["rule"] == "EN007"


# --- pyx12's gaps: the scrubber gives pyx12 what it reads itself ---------------------------------
def _with_error(text: str) -> str:
    """The claim's CLM05-2 turned into 'A' (an SX008 pyx12 reports)."""
    return text.replace("*11:B:1*", "*11:A:1*", 1)


def test_latin1_bytes_do_not_stop_the_pass(tmp_path):
    data = _with_error(CLEAN).replace("SAMPLE CLINIC ONE", "SAMPLE CLINIQUE \xc9T\xc9")
    path = write(tmp_path, "latin1.837", data)
    assert pyx12_errors(path)[-1]["level"] == "file"  # pyx12 on the file itself: UnicodeDecodeError
    index = validate_structure(path)
    assert index.incomplete is None
    errors = [(e.rule, e.element) for tx in index.transactions for e in tx.errors]
    # the accented letters are outside X12's character sets: pyx12 now sees them and says so
    assert errors == [("SX010", "NM103"), ("SX008", "CLM05-2")]


def test_second_interchange_with_other_delimiters_is_validated(tmp_path):
    pipe = fixture("delims_pipe.837").read_text(encoding="ascii")
    data = CLEAN + "\n" + pipe.replace("|11>B>1|", "|11>A>1|", 1)
    path = write(tmp_path, "two.837", data)
    index = validate_structure(path)
    assert [len(tx.errors) for tx in index.transactions] == [0, 1]
    assert index.transactions[1].errors[0].rule == "SX008" and index.transactions[1].errors[0].element == "CLM05-2"


def test_isa_not_106_characters_is_read(tmp_path):
    data = _with_error(CLEAN).replace("ISA*00*          *", "ISA*00*    *", 1)
    path = write(tmp_path, "shortisa.837", data)
    assert any(e["code"] == "X12Error" for e in pyx12_errors(path))  # pyx12 refuses the file
    outcome, report = scrub(path, tmp_path / "o")
    assert any(f["rule"] == "EN103" for f in report["findings"])
    assert [f["rule"] for f in sx(report["claims"][0]["findings"])] == ["SX008"]


def test_empty_segment_and_unterminated_last_segment(tmp_path):
    data = _with_error(CLEAN)
    at = data.index("HI*")
    data = data[:at] + "~" + data[at:]  # an empty segment before HI
    data = data.rstrip("\r\n")[:-1]  # no terminator after IEA
    path = write(tmp_path, "gaps.837", data)
    index = validate_structure(path)
    assert index.incomplete is None
    errors = [e for tx in index.transactions for e in tx.errors] + index.envelope
    assert [e.rule for e in errors] == ["SX008"], [(e.rule, e.message) for e in errors]


def test_index_and_stream_memory_is_bounded(tmp_path):
    """The stream keeps one record per transaction, not the segments."""
    body = CLEAN
    path = write(tmp_path, "many.837", body * 300)  # 300 interchanges
    stream = normalized(path)
    while stream.read(1 << 16):
        pass
    assert stream.state.lines > 9000
    assert not hasattr(stream, "ring") and len(stream.state.envelope) == 300 * 4
    assert len(stream.state.transactions) == 300


PROBE = """
import json, resource, sys
from scrubber.check.structure import validate_structure
index = validate_structure(sys.argv[1])
print(json.dumps({"errors": index.count(), "lines": index.state.lines,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def test_structural_pass_memory_is_flat(tmp_path):
    """Four times the claims, (nearly) the same memory: the pass holds errors, not segments."""
    import subprocess
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    from gen837 import generate

    runs = []
    for n in (200, 800):
        path = tmp_path / f"{n}.837"
        generate(path, n, seed=5)
        out = subprocess.run([sys.executable, "-c", PROBE, str(path)], capture_output=True, text=True, timeout=600)
        assert out.returncode == 0, out.stderr
        runs.append(json.loads(out.stdout))
    small, big = runs
    assert big["lines"] > 3 * small["lines"] and big["errors"] > 0
    assert big["peak_mb"] < small["peak_mb"] * 1.15 + 5, runs


def test_structure_fixtures_are_up_to_date():
    import subprocess
    import sys

    tool = Path(__file__).resolve().parents[1] / "tools" / "fixtures_structure.py"
    r = subprocess.run([sys.executable, str(tool), "--check"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr


def test_structure_pass_keeps_why_the_validation_failed(monkeypatch):
    """A validator that raises gives SX099 and the pass remembers why (the claim pass still runs)."""
    import scrubber.check.structure.structure_pass as structure_pass
    from scrubber.check.engine import Engine

    def broken(*args, **kwargs):
        raise RuntimeError("map unreadable")

    monkeypatch.setattr(structure_pass, "validate_structure", broken)
    sx = structure_pass.StructurePass(Engine(), fixture("sample.837"))
    assert sx.failed == "RuntimeError: map unreadable"
    assert sx.index is not None and sx.index.incomplete == sx.failed
    assert sx.index.incomplete_at is not None and sx.index.incomplete_at.rule == "SX099"
