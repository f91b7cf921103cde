"""Bad input: one clear line on stderr, exit 2, a report with status unusable, no clean file."""

from __future__ import annotations

import json

import pytest

from conftest import fixture, run_cli, problem_lines

BAD = {
    "bad_empty.837": "EN001",
    "bad_not_x12.837": "EN002",
    "bad_truncated.837": "EN006",
    "bad_837i.837": "EN007",
    "bad_utf16.837": "EN005",
    "bad_binary.837": "EN005",
    "bad_4010.837": "EN007",
}


@pytest.mark.parametrize("name,rule", sorted(BAD.items()))
def test_bad_input_is_unusable(name, rule, tmp_path):
    result = run_cli("scrub", fixture(name), "--out-dir", tmp_path, "--as-of", "2025-06-01")
    assert result.returncode == 2, result.stderr
    lines = problem_lines(result.stderr)
    assert len(lines) == 1 and "unusable" in lines[0] and name in lines[0], result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    stem = name.rsplit(".", 1)[0]
    report = json.loads((tmp_path / f"{stem}.report.json").read_text())
    assert report["status"] == "unusable"
    assert report["outputs"] == {"clean": None, "rejected": None}
    assert [f["rule"] for f in report["findings"]][-1] == rule
    assert report["summary"]["accepted"] == 0
    assert not (tmp_path / f"{stem}.clean.837").exists()
    assert not (tmp_path / f"{stem}.rejected.837").exists()
    assert not list(tmp_path.glob(".*")), "temporary files left behind"


def test_truncated_interchange_reaches_no_clean_file(tmp_path):
    """The claims read before the cut are listed, rejected, and none is written out."""
    result = run_cli("scrub", fixture("bad_truncated.837"), "--out-dir", tmp_path, "--as-of", "2025-06-01")
    assert result.returncode == 2
    report = json.loads((tmp_path / "bad_truncated.report.json").read_text())
    assert report["summary"]["claims"] >= 1
    for claim in report["claims"]:
        assert claim["status"] == "rejected"
        assert claim["findings"][-1]["rule"] == "EN006"
    assert list(tmp_path.iterdir()) == [tmp_path / "bad_truncated.report.json"]


def test_truncated_after_a_complete_interchange(tmp_path):
    """A second interchange cut short makes the whole input unusable, the first one included."""
    good = fixture("clean_single.837").read_bytes()
    cut = fixture("bad_truncated.837").read_bytes()
    path = tmp_path / "two.837"
    path.write_bytes(good + b"\n" + cut)
    out = tmp_path / "out"
    result = run_cli("scrub", path, "--out-dir", out, "--as-of", "2025-06-01")
    assert result.returncode == 2
    assert not (out / "two.clean.837").exists()


def test_no_terminator_at_all(tmp_path):
    """A segment that never ends (no terminator) is refused with a clear line, not read forever."""
    isa = fixture("clean_single.837").read_bytes()[:106]
    path = tmp_path / "noterm.837"
    path.write_bytes(isa + b"GS*HC*" + b"X" * (3 << 20))
    result = run_cli("scrub", path, "--out-dir", tmp_path / "o")
    assert result.returncode == 2
    assert "longer than" in result.stderr and "Traceback" not in result.stderr


def test_missing_input_file(tmp_path):
    result = run_cli("scrub", tmp_path / "nope.837", "--out-dir", tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and result.stderr.strip()
