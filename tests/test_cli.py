"""The command line of ../shared/CONTRACT.md: options, formats, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import fixture, run_cli


def test_scrub_sample_text_summary(tmp_path):
    result = run_cli("scrub", fixture("sample.837"), "--out-dir", tmp_path, "--as-of", "2025-06-01")
    assert result.returncode == 1
    out = result.stdout
    assert "claims 5, accepted 3, rejected 2" in out
    assert "REJECTED SAMPLE-BADPTR" in out and "REJECTED SAMPLE-NOPTR" in out
    assert "DP002" in out and "DP001" in out and "rules: DP001 error x1, DP002 error x1" in out
    assert "SAMPLE-OK-1" not in out
    # No personal values in the text output (names, member ids from the fixture).
    assert "TESTPATIENT" not in out and "ZZM" not in out
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "sample.clean.837", "sample.rejected.837", "sample.report.json"]


def test_readme_demo_scrub_shows_its_own_errors_only(tmp_path):
    """The README's first command scrubs fixtures/edi/demo.837 (the sample's claims, dated November
    2026): scrubbed in the months after, only the two pointer errors; no claim is past timely
    filing. The summary the README shows is the one printed."""
    import re

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    assert "scrubber scrub fixtures/edi/demo.837 --out-dir out" in readme
    for as_of in ("2026-12-01", "2027-06-30"):
        out = tmp_path / as_of
        result = run_cli("scrub", fixture("demo.837"), "--out-dir", out, "--as-of", as_of, "--format", "json")
        assert result.returncode == 1, result.stderr
        report = json.loads(result.stdout)
        rules = sorted(f["rule"] for c in report["claims"] for f in c["findings"])
        assert rules == ["DP001", "DP002"], rules
        assert sorted(p.name for p in out.iterdir()) == ["demo.clean.837", "demo.rejected.837", "demo.report.json"]
    text = run_cli("scrub", fixture("demo.837"), "--out-dir", "out", "--as-of", "2026-12-01", cwd=tmp_path)
    shown = re.search(r"```\n(demo\.837: REJECTIONS\n.*?)```", readme, re.S).group(1)
    assert text.stdout == shown


def test_clean_file_exits_zero_and_writes_no_rejected(tmp_path):
    result = run_cli("scrub", fixture("clean_single.837"), "--out-dir", tmp_path, "--as-of", "2025-06-01")
    assert result.returncode == 0, result.stdout
    assert (tmp_path / "clean_single.clean.837").exists()
    assert not (tmp_path / "clean_single.rejected.837").exists()
    report = json.loads((tmp_path / "clean_single.report.json").read_text())
    assert report["status"] == "clean" and report["outputs"]["rejected"] is None


def test_json_format_is_the_report(tmp_path):
    result = run_cli("scrub", fixture("sample.837"), "--out-dir", tmp_path, "--as-of", "2025-06-01", "--format", "json")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report == json.loads((tmp_path / "sample.report.json").read_text())
    assert report["schema"] == "x12-scrubber/report@1"
    assert report["as_of"] == "2025-06-01"
    assert set(report) == {"schema", "input", "as_of", "status", "outputs", "code_sets", "summary", "findings", "claims"}
    assert report["input"]["name"] == "sample.837" and len(report["input"]["sha256"]) == 64
    assert report["input"]["bytes"] == fixture("sample.837").stat().st_size
    # 2 errors: DP002 and DP001 (pyx12's 837P map also requires SV107, which SAMPLE-NOPTR lacks: the
    # structural SX006 says the same as DP001 at the same element, so the claim carries DP001 alone)
    assert report["summary"] == {"claims": 5, "accepted": 3, "rejected": 2, "errors": 2, "warnings": 0, "not_checked": 0}
    claim = next(c for c in report["claims"] if c["claim_id"] == "SAMPLE-BADPTR")
    assert set(claim) == {"claim_id", "status", "interchange", "group", "transaction", "charge", "service_lines", "findings"}
    f = claim["findings"][0]
    assert set(f) == {"rule", "severity", "message", "loop", "segment", "position", "element", "value", "ack"}
    assert (f["rule"], f["loop"], f["segment"], f["element"], f["value"]) == ("DP002", "2400", "SV1", "SV107-2", "3")
    assert f["ack"] == {"category": "A7", "status": "477"}


def test_position_counts_from_st(tmp_path):
    """`position` is the segment's position in its transaction set, ST being 1."""
    result = run_cli("scrub", fixture("sample.837"), "--out-dir", tmp_path, "--as-of", "2025-06-01", "--format", "json")
    report = json.loads(result.stdout)
    f = next(c for c in report["claims"] if c["claim_id"] == "SAMPLE-BADPTR")["findings"][0]
    text = fixture("sample.837").read_text()
    segs = [s.strip() for s in text.split("~") if s.strip()]
    st = next(i for i, s in enumerate(segs) if s.startswith("ST*"))
    assert segs[st + f["position"] - 1].startswith("SV1*") and "1:3" in segs[st + f["position"] - 1]


def test_several_inputs_highest_exit_and_json_array(tmp_path):
    result = run_cli("scrub", fixture("clean_single.837"), fixture("sample.837"), fixture("bad_empty.837"),
                     "--out-dir", tmp_path, "--as-of", "2025-06-01", "--format", "json")
    assert result.returncode == 2
    reports = json.loads(result.stdout)
    assert [r["status"] for r in reports] == ["clean", "rejections", "unusable"]


def test_usage_errors_exit_two(tmp_path):
    for args in (["scrub", fixture("sample.837"), "--as-of", "2025-13-01"],
                 ["scrub", fixture("sample.837"), "--format", "xml"],
                 ["scrub"],
                 ["scrub", fixture("sample.837"), "--config", tmp_path / "missing.toml"]):
        result = run_cli(*args, "--out-dir", tmp_path) if args != ["scrub"] else run_cli(*args)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr


def test_same_output_names_refused(tmp_path):
    a = tmp_path / "a.837"
    b = tmp_path / "a.edi"
    a.write_bytes(fixture("clean_single.837").read_bytes())
    b.write_bytes(fixture("clean_single.837").read_bytes())
    result = run_cli("scrub", a, b, "--out-dir", tmp_path / "o")
    assert result.returncode == 2 and "same outputs" in result.stderr


def test_config_changes_severity(tmp_path):
    cfg = tmp_path / "scrubber.toml"
    # SX006: the structural finding on SAMPLE-NOPTR's missing SV107 (pyx12's map requires it)
    cfg.write_text('[rules.severity]\nDP002 = "warning"\nDP001 = "warning"\nSX006 = "warning"\n')
    result = run_cli("scrub", fixture("sample.837"), "--out-dir", tmp_path / "o", "--as-of", "2025-06-01",
                     "--config", cfg, "--format", "json")
    assert result.returncode == 0, result.stdout[:500]
    report = json.loads(result.stdout)
    assert report["summary"]["rejected"] == 0 and report["summary"]["warnings"] == 2  # DP001 (SX006 the same), DP002
    bad = tmp_path / "bad.toml"
    bad.write_text('[rules]\nignore = ["ZZ9"]\n')
    result = run_cli("scrub", fixture("sample.837"), "--out-dir", tmp_path / "o", "--config", bad)
    assert result.returncode == 2 and "matches no rule" in result.stderr


def test_config_payer_override_applies_to_that_payer_only(tmp_path):
    cfg = tmp_path / "scrubber.toml"
    cfg.write_text('[payers.PAYER01.rules]\nignore = ["DP002"]\n')
    result = run_cli("scrub", fixture("multi.837"), "--out-dir", tmp_path / "o", "--as-of", "2025-06-01",
                     "--config", cfg, "--format", "json")
    report = json.loads(result.stdout)
    default = json.loads(run_cli("scrub", fixture("multi.837"), "--out-dir", tmp_path / "d",
                                 "--as-of", "2025-06-01", "--format", "json").stdout)
    from scrubber.x12.model import Claim, walk
    from scrubber.x12.reader import read_segments

    payer = {e.claim_id: e.payer_id for e in walk(read_segments(fixture("multi.837"))) if isinstance(e, Claim)}
    rejected_before = {c["claim_id"] for c in default["claims"] if c["status"] == "rejected"}
    rejected_after = {c["claim_id"] for c in report["claims"] if c["status"] == "rejected"}
    assert rejected_before == {"MULTI-4", "MULTI-11"}
    assert {payer[c] for c in rejected_before} >= {"PAYER01"}, "the fixture must exercise the override"
    assert rejected_after == {c for c in rejected_before if payer[c] != "PAYER01"}


def test_rules_listing_and_explain():
    result = run_cli("rules")
    assert result.returncode == 0
    for code in ("DP001", "DP002", "DP007", "EN006"):
        assert code in result.stdout
    result = run_cli("rules", "--explain", "dp002")
    assert result.returncode == 0
    assert "What it does" in result.stdout and "A7:477" in result.stdout
    assert run_cli("rules", "--explain", "XX999").returncode == 2


def test_python_dash_m_and_version():
    result = run_cli("--version")
    assert result.returncode == 0 and "scrubber" in result.stdout


def test_outputs_never_overwrite_an_input(tmp_path):
    """An input named like another input's output is refused before anything is written."""
    a = tmp_path / "a.837"
    victim = tmp_path / "a.clean.837"
    a.write_bytes(fixture("clean_single.837").read_bytes())
    victim.write_bytes(fixture("sample.837").read_bytes())
    before = victim.read_bytes()
    result = run_cli("scrub", a, victim, "--out-dir", tmp_path)
    assert result.returncode == 2 and "overwrite the input" in result.stderr
    assert victim.read_bytes() == before


def test_output_names_have_no_path_parts(tmp_path):
    """Outputs are named from the input's file name only: no directories, no escapes."""
    nested = tmp_path / "deep" / "dir"
    nested.mkdir(parents=True)
    src = nested / "..weird name.837"
    src.write_bytes(fixture("clean_single.837").read_bytes())
    out = tmp_path / "out"
    result = run_cli("scrub", src, "--out-dir", out, "--as-of", "2025-06-01")
    assert result.returncode == 0, result.stderr
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*"))
    assert written == ["..weird name.clean.837", "..weird name.report.json"]
    assert not list(tmp_path.glob("*.report.json")) and not list(nested.glob("*.json"))


def test_installed_package_runs_outside_the_checkout(tmp_path):
    """From another folder, `python -m scrubber` is the installed package, with its maps inside."""
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "scrubber", "scrub", str(fixture("sample.837")), "--out-dir", "out",
         "--as-of", "2025-06-01", "--format", "json"],
        capture_output=True, text=True, cwd=tmp_path, timeout=300,
    )
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert report["code_sets"]["icd10cm"][-1] == "FY2027"
    assert (tmp_path / "out" / "sample.clean.837").exists()
    where = subprocess.run([sys.executable, "-c", "import scrubber, scrubber.mapsdir as m; print(m.maps_dir())"],
                           capture_output=True, text=True, cwd=tmp_path)
    assert (Path(where.stdout.strip()) / "backpain" / "timed.toml").is_file()


def test_every_package_and_map_folder_ships():
    """pyproject.toml lists every subpackage of scrubber/ and every folder of maps/."""
    import tomllib

    root = Path(__file__).resolve().parents[1]
    listed = set(tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    code = {".".join(p.parent.relative_to(root).parts) for p in (root / "scrubber").rglob("__init__.py")}
    data = {"scrubber.maps." + p.name for p in (root / "maps").iterdir() if p.is_dir()}
    assert code | data | {"scrubber.maps"} == listed


def test_closed_stdout_is_not_an_unusable_input():
    """`scrubber explain FILE | head`: the reader going away is not reported as a bad input."""
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-m", "scrubber", "explain", str(fixture("multi.837")), "--all",
                             "--as-of", "2025-06-01", "--no-structure"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.read(10)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    proc.wait(timeout=120)
    assert "unusable" not in err and "Traceback" not in err, err


def test_rules_json_lists_every_rule_once(tmp_path):
    from scrubber.rules import REGISTRY

    result = run_cli("rules", "--format", "json")
    assert result.returncode == 0, result.stderr
    listing = json.loads(result.stdout)
    codes = [r["code"] for r in listing]
    assert sorted(codes) == sorted(REGISTRY) and len(codes) == len(set(codes))
    keys = {"code", "name", "summary", "default_severity", "effective_severity", "scope", "ack", "source", "docs"}
    assert all(set(r) == keys for r in listing)
    by_code = {r["code"]: r for r in listing}
    dp002 = by_code["DP002"]
    assert dp002["default_severity"] == dp002["effective_severity"] == "error"
    assert dp002["ack"] == "A7:477" and dp002["scope"] == "claim" and dp002["source"]
    assert "## What it does" in dp002["docs"] and dp002["docs"] == REGISTRY["DP002"].docs()
    assert by_code["EN001"]["ack"] is None and by_code["EN001"]["scope"] == "file"
    assert run_cli("rules").stdout.splitlines()[0].split()[0] == "CODE"  # text stays the default


def test_rules_json_under_a_config(tmp_path):
    cfg = tmp_path / "scrubber.toml"
    cfg.write_text('[rules]\nignore = ["DP005"]\n\n[rules.severity]\nDP004 = "warning"\n')
    result = run_cli("rules", "--format", "json", "--config", cfg)
    assert result.returncode == 0, result.stderr
    by_code = {r["code"]: r for r in json.loads(result.stdout)}
    assert by_code["DP005"]["effective_severity"] == "off" and by_code["DP005"]["default_severity"] == "error"
    assert by_code["DP004"]["effective_severity"] == "warning" and by_code["DP004"]["default_severity"] == "error"
    assert by_code["DP002"]["effective_severity"] == "error"
    one = run_cli("rules", "--format", "json", "--config", cfg, "--explain", "dp004")
    assert one.returncode == 0 and json.loads(one.stdout) == by_code["DP004"]
    text = run_cli("rules", "--config", cfg, "--format", "text").stdout
    assert text == run_cli("rules", "--config", cfg).stdout
    assert next(line for line in text.splitlines() if line.startswith("DP005")).split()[2] == "off"
