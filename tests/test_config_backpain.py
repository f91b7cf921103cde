"""Configuring the back-pain rules (scrubber.toml): severities, payer overrides, `scrubber rules`."""

from __future__ import annotations

import json

from conftest import claims_by_id, fixture, run_cli


def _scrub(tmp_path, config_text: str | None, name: str = "o"):
    args = ["scrub", fixture("backpain.837"), "--out-dir", tmp_path / name, "--as-of", "2025-06-01", "--format", "json"]
    if config_text is not None:
        cfg = tmp_path / f"{name}.toml"
        cfg.write_text(config_text)
        args += ["--config", cfg]
    result = run_cli(*args)
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, claims_by_id(json.loads(result.stdout))


def _finding(claim: dict, rule: str) -> dict:
    return next(f for f in claim["findings"] if f["rule"] == rule)


def test_config_turns_a_warning_into_an_error_and_back(tmp_path):
    _, default = _scrub(tmp_path, None, "d")
    assert _finding(default["BP003-FAIL"], "BP003")["severity"] == "warning"
    assert default["BP003-FAIL"]["status"] == "accepted"

    _, strict = _scrub(tmp_path, '[rules.severity]\nBP003 = "error"\n', "e")
    assert _finding(strict["BP003-FAIL"], "BP003")["severity"] == "error"
    assert strict["BP003-FAIL"]["status"] == "rejected"
    assert strict["BP003-PASS"]["status"] == "accepted"  # only the failing claim moves

    _, back = _scrub(tmp_path, '[rules.severity]\nBP003 = "warning"\n', "w")
    assert _finding(back["BP003-FAIL"], "BP003")["severity"] == "warning"
    assert back["BP003-FAIL"]["status"] == "accepted"


def test_config_turns_the_medicare_error_into_a_warning(tmp_path):
    code, claims = _scrub(tmp_path, '[rules.severity]\nPX002 = "warning"\nPX = "warning"\n')
    assert _finding(claims["PX002-FAIL"], "PX002")["severity"] == "warning"
    assert claims["PX002-FAIL"]["status"] == "accepted"
    # No claim is rejected for PX any more; what is left are the NCCI errors (CMS tables).
    rejected = sorted(cid for cid, c in claims.items() if c["status"] == "rejected")
    assert rejected == ["NC001-FAIL", "NC001-FAIL-EVAL", "NC003-FAIL", "NC003-FAIL-SPLIT"]
    assert code == 1


def test_prefix_severity_covers_the_family(tmp_path):
    _, claims = _scrub(tmp_path, '[rules.severity]\nNC = "error"\n')
    for claim_id, rule in (("NC001-FAIL", "NC001"), ("NC002-FAIL", "NC002"), ("NC003-FAIL", "NC003"), ("NC004-FAIL", "NC004")):
        assert _finding(claims[claim_id], rule)["severity"] == "error", claim_id
        assert claims[claim_id]["status"] == "rejected"


def test_payer_override_applies_to_that_payer_only(tmp_path):
    _, claims = _scrub(tmp_path, '[payers.PAYER02.rules.severity]\nPX001 = "error"\nBP003 = "error"\n')
    # PAYER02's copies are rejected ...
    assert claims["PX001-FAIL-P2"]["status"] == "rejected"
    assert _finding(claims["PX001-FAIL-P2"], "PX001")["severity"] == "error"
    assert claims["BP003-FAIL-P2"]["status"] == "rejected"
    # ... the same faults under PAYER01 stay warnings.
    assert claims["PX001-FAIL"]["status"] == "accepted"
    assert _finding(claims["PX001-FAIL"], "PX001")["severity"] == "warning"
    assert claims["BP003-FAIL"]["status"] == "accepted"


def test_payer_ignore_turns_the_rule_off_for_that_payer(tmp_path):
    _, claims = _scrub(tmp_path, '[payers.PAYER09.rules]\nignore = ["PX002"]\n')
    assert claims["PX002-FAIL"]["status"] == "accepted"
    assert not [f for f in claims["PX002-FAIL"]["findings"] if f["rule"] == "PX002"]
    # Other payers still get PX001.
    assert _finding(claims["PX001-FAIL"], "PX001")


def test_rules_command_shows_the_effective_severity(tmp_path):
    cfg = tmp_path / "scrubber.toml"
    cfg.write_text('[rules.severity]\nBP003 = "error"\nPX002 = "warning"\n[rules]\nignore = ["NC004"]\n')
    result = run_cli("rules", "--config", cfg)
    assert result.returncode == 0, result.stderr
    rows = {line.split()[0]: line.split() for line in result.stdout.splitlines()[1:] if line.strip()}
    assert rows["BP003"][2] == "error"
    assert rows["PX002"][2] == "warning"
    assert rows["NC004"][2] == "off"
    assert rows["BP001"][2] == "warning"  # untouched: the default
    default = run_cli("rules")
    rows = {line.split()[0]: line.split() for line in default.stdout.splitlines()[1:] if line.strip()}
    assert rows["BP003"][2] == "warning" and rows["PX002"][2] == "error" and rows["NC001"][2] == "error"


def test_explain_prints_docs_with_source_and_map_sources():
    result = run_cli("rules", "--explain", "BP003")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for text in ("## What it does", "## Why is this bad", "Source: ICD-10-CM tabular FY2026",
                 "maps/backpain/excludes1.toml", "simple-icd-10-cm", "lumbago with sciatica (M54.4-)",
                 "effective 2024-10-01..2027-09-30", "CMS FY2027 tabular XML", "FY2025 is assumed unchanged"):
        assert text in out, text
    result = run_cli("rules", "--explain", "px002")
    assert result.returncode == 0, result.stderr
    assert "CMS Pub. 100-04" in result.stdout and "maps/backpain/procedures.toml" in result.stdout
    result = run_cli("rules", "--explain", "NC001")
    assert result.returncode == 0, result.stderr
    for text in ("## What it does", "Source: CMS Medicare NCCI PTP edits, practitioner services",
                 "maps/ncci/ptp_practitioner.tsv", "quarter 2024-07-01", "ptp_practitioner_2024-07-01_backpain.tsv",
                 "maps/ncci/modifiers.toml", "no end date"):
        assert text in result.stdout, text
    result = run_cli("rules", "--explain", "NC003")
    assert result.returncode == 0, result.stderr
    for text in ("maps/ncci/mue_practitioner.tsv", "quarter 2024-07-01", "MAI"):
        assert text in result.stdout, text
