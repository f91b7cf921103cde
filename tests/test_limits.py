"""Safety limits ([limits] in scrubber.toml): each limit's clear error, and bounded cost."""

from __future__ import annotations

import json
import time

import pytest

from conftest import fixture, run_cli, problem_lines


def scrub_with(tmp_path, data: bytes, limits: str):
    path = tmp_path / "in.837"
    path.write_bytes(data)
    cfg = tmp_path / "scrubber.toml"
    cfg.write_text(f"[limits]\n{limits}\n")
    result = run_cli("scrub", path, "--out-dir", tmp_path / "out", "--config", cfg, "--as-of", "2025-06-01")
    report = json.loads((tmp_path / "out" / "in.report.json").read_text())
    return result, report


def assert_unusable(result, report, rule, words):
    assert result.returncode == 2, result.stdout
    assert "Traceback" not in result.stderr and len(problem_lines(result.stderr)) == 1
    assert words in result.stderr
    assert report["status"] == "unusable" and report["findings"][-1]["rule"] == rule


def test_file_size_limit(tmp_path):
    data = fixture("sample.837").read_bytes()
    result, report = scrub_with(tmp_path, data, f"file_bytes = {len(data) - 1}")
    assert_unusable(result, report, "EN012", "larger than the limit")


def test_segment_length_limit(tmp_path):
    data = fixture("sample.837").read_bytes().replace(b"NM1*85*2*", b"NM1*85*2*" + b"X" * 3000, 1)
    result, report = scrub_with(tmp_path, data, "segment_bytes = 2000")
    assert_unusable(result, report, "EN004", "longer than 2000 bytes")


def test_elements_per_segment_limit(tmp_path):
    data = fixture("sample.837").read_bytes().replace(b"N3*", b"N3*" + b"A*" * 300, 1)
    result, report = scrub_with(tmp_path, data, "elements_per_segment = 100")
    assert_unusable(result, report, "EN013", "more than 100 elements")


def test_empty_segments_limit(tmp_path):
    data = fixture("sample.837").read_bytes()
    at = data.index(b"\nBHT") + 1
    data = data[:at] + b"~" * 50 + data[at:]
    result, report = scrub_with(tmp_path, data, "empty_segments = 10")
    assert_unusable(result, report, "EN013", "empty segments")
    # Below the limit, the empty segments are passed over with warnings.
    result, report = scrub_with(tmp_path, data, "empty_segments = 100")
    assert result.returncode == 1 and any(f["rule"] == "EN104" for f in report["findings"])
    assert sum(f["rule"] == "EN104" for f in report["findings"]) <= 21, "notes are capped"


def test_claim_segments_limit(tmp_path):
    data = fixture("limits.837").read_bytes()
    result, report = scrub_with(tmp_path, data, "claim_segments = 60")
    assert_unusable(result, report, "EN013", "more than 60 segments")


@pytest.mark.parametrize("text,words", [
    ("files = 3", "unknown limit"),
    ("lines_per_claim = 0", "at least 1"),
    ("lines_per_claim = 'ten'", "whole number"),
])
def test_bad_limits_config(tmp_path, text, words):
    cfg = tmp_path / "scrubber.toml"
    cfg.write_text(f"[limits]\n{text}\n")
    result = run_cli("scrub", fixture("sample.837"), "--out-dir", tmp_path, "--config", cfg)
    assert result.returncode == 2 and words in result.stderr and "Traceback" not in result.stderr


def test_hostile_input_bounded(tmp_path):
    """No terminator in 20 MB; 5 million empty segments: a quick, clear refusal, not a hang."""
    isa = fixture("clean_single.837").read_bytes()[:106]
    cases = {
        "noterm.837": isa + b"GS*HC*" + b"X" * (20 << 20),
        "empties.837": isa + b"~" * (5 << 20),
    }
    for name, data in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        start = time.perf_counter()
        result = run_cli("scrub", path, "--out-dir", tmp_path / "out")
        elapsed = time.perf_counter() - start
        assert result.returncode == 2, (name, result.stderr)
        assert "Traceback" not in result.stderr
        assert elapsed < 30, (name, elapsed)


@pytest.mark.parametrize("text,words", [
    ("timely_filing_days = 'soon'", "whole number"),
    ("timely_filing_days = 0", "at least 1"),
    ("filing = 3", "unknown option"),
])
def test_bad_options_config(tmp_path, text, words):
    cfg = tmp_path / "scrubber.toml"
    cfg.write_text(f"[options]\n{text}\n")
    result = run_cli("scrub", fixture("sample.837"), "--out-dir", tmp_path, "--config", cfg)
    assert result.returncode == 2 and words in result.stderr and "Traceback" not in result.stderr
