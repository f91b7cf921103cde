"""--jobs: the outputs of a split or parallel run are those of a single-process run."""

from __future__ import annotations

import filecmp
import json
import io
import sys
from datetime import date
from pathlib import Path

import pytest

from conftest import fixture, run_cli
from scrubber.run import parallel
from scrubber.config import Config
from scrubber.check.engine import Engine
from scrubber.run.pipeline import scrub_file

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from gen837 import generate  # noqa: E402

AS_OF = date(2025, 6, 1)
OUTPUTS = ("clean.837", "rejected.837", "report.json")


def same_outputs(a: Path, b: Path, stem: str) -> None:
    for suffix in OUTPUTS:
        x, y = a / f"{stem}.{suffix}", b / f"{stem}.{suffix}"
        assert x.exists() == y.exists(), suffix
        if x.exists():
            assert filecmp.cmp(x, y, shallow=False), f"{stem}.{suffix} differs"


@pytest.mark.parametrize("name", ["multi.837", "sample.837", "delims_pipe.837", "delims_newline.837"])
def test_split_equals_single_process(name, tmp_path, monkeypatch):
    """Several interchanges, groups and transaction sets, split one set per unit."""
    monkeypatch.setattr(parallel, "SPLIT_MIN_BYTES", 0)
    src = fixture(name)
    single_text, split_text = io.StringIO(), io.StringIO()
    scrub_file(src, tmp_path / "one", Engine(Config(), AS_OF), text_out=single_text)
    outcome = parallel.scrub_split(src, tmp_path / "two", Config(), AS_OF, jobs=2, text_out=split_text)
    assert outcome is not None, "the fixture is regular: it must be split"
    same_outputs(tmp_path / "one", tmp_path / "two", src.stem)
    assert single_text.getvalue().replace(str(tmp_path / "one"), "D") == split_text.getvalue().replace(str(tmp_path / "two"), "D")


@pytest.mark.parametrize("style", ["crlf", "nobreak", "pipe", "std"])
def test_split_equals_single_process_every_style(style, tmp_path, monkeypatch):
    """Generated files in each delimiter style, with faulty claims and the structural pass:
    the units' clean and rejected blocks are stitched back byte for byte."""
    monkeypatch.setattr(parallel, "SPLIT_MIN_BYTES", 0)
    src = tmp_path / f"{style}.837"
    generate(src, 400, per_st=40, style=style, bad=0.3, seed=11)
    scrub_file(src, tmp_path / "one", Engine(Config(), AS_OF))
    assert parallel.scrub_split(src, tmp_path / "two", Config(), AS_OF, jobs=2) is not None
    same_outputs(tmp_path / "one", tmp_path / "two", src.stem)


@pytest.mark.parametrize("name", ["delims_bom.837", "bad_truncated.837", "clean_single.837"])
def test_irregular_or_small_files_are_not_split(name, tmp_path, monkeypatch):
    monkeypatch.setattr(parallel, "SPLIT_MIN_BYTES", 0)
    if name == "clean_single.837":
        monkeypatch.setattr(parallel, "SPLIT_MIN_BYTES", 1 << 30)
    assert parallel.scrub_split(fixture(name), tmp_path, Config(), AS_OF, jobs=2) is None


def test_mixed_line_breaks_are_not_split(tmp_path, monkeypatch):
    monkeypatch.setattr(parallel, "SPLIT_MIN_BYTES", 0)
    data = fixture("multi.837").read_bytes()
    path = tmp_path / "mixed.837"
    path.write_bytes(data.replace(b"~\r\nLX", b"~LX", 1))
    assert parallel.plan(path) is None


def test_cli_jobs_on_a_large_file(tmp_path):
    """A generated file over the split threshold: --jobs 2 writes the same files as --jobs 1."""
    src = tmp_path / "big.837"
    generate(src, 11_000, per_st=1000, seed=5)
    assert src.stat().st_size > parallel.SPLIT_MIN_BYTES
    one = run_cli("scrub", src, "--out-dir", tmp_path / "one", "--as-of", "2025-06-01", "--no-structure", "-j", "1")
    two = run_cli("scrub", src, "--out-dir", tmp_path / "two", "--as-of", "2025-06-01", "--no-structure", "--jobs", "2")
    assert one.returncode == two.returncode == 1, two.stderr
    same_outputs(tmp_path / "one", tmp_path / "two", "big")
    assert one.stdout.replace(str(tmp_path / "one"), "D") == two.stdout.replace(str(tmp_path / "two"), "D")


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_cli_jobs_several_inputs_in_order(fmt, tmp_path):
    files = [fixture(n) for n in ("sample.837", "multi.837", "bad_empty.837", "clean_single.837")]
    one = run_cli("scrub", *files, "--out-dir", tmp_path / "one", "--as-of", "2025-06-01", "--format", fmt)
    two = run_cli("scrub", *files, "--out-dir", tmp_path / "two", "--as-of", "2025-06-01", "--format", fmt, "-j", "2")
    assert one.returncode == two.returncode == 2
    assert one.stdout.replace(str(tmp_path / "one"), "D") == two.stdout.replace(str(tmp_path / "two"), "D")
    assert sorted(p.name for p in (tmp_path / "two").iterdir()) == sorted(p.name for p in (tmp_path / "one").iterdir())
    assert one.stderr == two.stderr
    for f in files:
        same_outputs(tmp_path / "one", tmp_path / "two", f.stem)


def test_auto_jobs_follows_the_cpus_and_the_input_size(tmp_path, monkeypatch):
    """--jobs auto (the default): one process for small work, one per usable CPU (at most 8) else."""
    small = fixture("sample.837")
    monkeypatch.setattr(parallel, "usable_cpus", lambda: 4)
    assert parallel.auto_jobs([small]) == 1
    assert parallel.auto_jobs([small, tmp_path / "missing.837"]) == 1
    monkeypatch.setattr(parallel, "SPLIT_MIN_BYTES", small.stat().st_size)
    assert parallel.auto_jobs([small]) == 4
    monkeypatch.setattr(parallel, "usable_cpus", lambda: 1)
    assert parallel.auto_jobs([small]) == 1
    monkeypatch.setattr(parallel, "usable_cpus", lambda: 64)
    assert parallel.auto_jobs([small]) == parallel.AUTO_MAX_JOBS == 8


@pytest.mark.parametrize("value, ok", [("auto", True), ("AUTO", True), ("1", True), ("64", True),
                                       ("0", False), ("65", False), ("two", False), ("-1", False)])
def test_jobs_option_values(value, ok, tmp_path):
    r = run_cli("scrub", fixture("clean_single.837"), "--out-dir", tmp_path, "--as-of", "2025-06-01", "--jobs", value)
    if ok:
        assert r.returncode == 0, r.stderr
    else:
        assert r.returncode == 2
        assert "is not 'auto' or a number of processes from 1 to 64" in r.stderr
        assert "Traceback" not in r.stderr
        assert not list(tmp_path.iterdir())


class _Tty(io.StringIO):
    def isatty(self):
        return True


def test_split_draws_a_bar_on_a_terminal(tmp_path, monkeypatch):
    """--jobs on a terminal: the bar advances as units finish and ends at 100%."""
    from scrubber.report.progress import bytes_progress_for

    monkeypatch.setattr(parallel, "SPLIT_MIN_BYTES", 0)
    src = fixture("multi.837")
    assert bytes_progress_for("multi.837", src.stat().st_size, io.StringIO(), min_bytes=0) is None  # not a tty
    stream = _Tty()
    bar = bytes_progress_for("multi.837", src.stat().st_size, stream, min_bytes=0)
    assert parallel.scrub_split(src, tmp_path, Config(), AS_OF, jobs=2, progress=bar) is not None
    assert "multi.837" in stream.getvalue() and "%" in stream.getvalue()
    bar.finish()
    assert "100%" in stream.getvalue()


def test_plan_scans_in_windows_with_the_same_result(tmp_path, monkeypatch):
    """The byte scan drops the pages it has passed (so a large file does not count as the process's
    memory), a window at a time: a window boundary anywhere gives the same plan and the same
    irregularities found."""
    src = tmp_path / "big.837"
    generate(src, 300, per_st=40, seed=11, style="crlf")
    whole = parallel.plan(src)
    assert whole is not None
    data = src.read_bytes()
    cut = data.index(b"~\r\nLX", len(data) * 3 // 4)
    bad = tmp_path / "bad.837"
    bad.write_bytes(data[:cut] + b"~LX" + data[cut + 5:])  # one terminator without its line break, late
    assert parallel.plan(bad) is None
    for window in (4096, 8192, 12288):
        monkeypatch.setattr(parallel, "_WINDOW", window)
        windowed = parallel.plan(src)
        assert [(i.isa.raw, [(g.gs.raw, g.blocks, g.ge.raw) for g in i.groups], i.iea.raw) for i in windowed] == \
               [(i.isa.raw, [(g.gs.raw, g.blocks, g.ge.raw) for g in i.groups], i.iea.raw) for i in whole]
        assert parallel.plan(bad) is None


def test_join_reports_copies_claims_as_bytes(tmp_path):
    """Joining unit reports gives the bytes write_report gives for all their claims (parts with
    no claim, one claim, several; and no claim at all)."""
    from scrubber.report.jsonreport import join_reports, write_report

    head = {"schema": "x", "input": {"name": "a\u00e9.837"}, "findings": []}
    parts_lines = [[], ['{"claim_id": "A1"}'], ['{"claim_id": "B1"}', '{"claim_id": "B2", "v": "\u00e9"}'], []]
    parts = []
    for i, lines in enumerate(parts_lines):
        part = tmp_path / f"p{i}.json"
        write_report(part, {"schema": "unit"}, lines)
        parts.append(part)
    for chosen in (parts, parts[:1], parts[1:2], []):
        joined, expected = tmp_path / "joined.json", tmp_path / "expected.json"
        join_reports(joined, head, chosen)
        write_report(expected, head, [line for p in chosen for line in parts_lines[parts.index(p)]])
        assert joined.read_bytes() == expected.read_bytes()


def test_split_with_duplicate_claims(tmp_path, monkeypatch):
    """Claims compared across the file (PE001, PE002): repeats inside a unit are found by its
    worker and the split stands; a claim that repeats one of an earlier unit sends the file to one
    process. Either way the outputs are those of a single-process run."""
    monkeypatch.setattr(parallel, "SPLIT_MIN_BYTES", 0)
    src = fixture("duplicates.837")
    text = src.read_text("latin-1")
    first, second = text.split("IEA*1*000000301~\n")
    within = tmp_path / "within.837"  # the second interchange's DUP-1 is another claim there
    within.write_text(first + "IEA*1*000000301~\n" + second.replace("CLM*DUP-1*", "CLM*DUP-9*"), "latin-1")
    scrub_file(within, tmp_path / "one", Engine(Config(), AS_OF))
    outcome = parallel.scrub_split(within, tmp_path / "two", Config(), AS_OF, jobs=2)
    assert outcome is not None and outcome.rejected == 1, "two units, the repeat inside the first"
    same_outputs(tmp_path / "one", tmp_path / "two", "within")

    assert parallel.scrub_split(src, tmp_path / "three", Config(), AS_OF, jobs=2) is None
    for jobs in ("1", "2"):
        run_cli("scrub", src, "--out-dir", tmp_path / f"cli{jobs}", "--as-of", "2025-06-01", "-j", jobs)
    same_outputs(tmp_path / "cli1", tmp_path / "cli2", "duplicates")


def test_split_with_a_state_folder(tmp_path, monkeypatch):
    """--jobs with --state: the workers look up the claims already sent, the parent records the
    accepted ones once the clean file is stitched; the next run holds them back."""
    from scrubber.run.state import SentClaims

    monkeypatch.setattr(parallel, "SPLIT_MIN_BYTES", 0)
    src = fixture("multi.837")
    state = SentClaims(tmp_path / "state", AS_OF)
    try:
        outcome = parallel.scrub_split(src, tmp_path / "one", Config(), AS_OF, jobs=2, state=state, source="run-1")
        assert outcome is not None and outcome.accepted > 0
        again = parallel.scrub_split(src, tmp_path / "two", Config(), AS_OF, jobs=2, state=state, source="run-2")
        assert again is not None and again.accepted == 0
        report = json.loads((tmp_path / "two" / "multi.report.json").read_text())
        held = [c for c in report["claims"] if any(f["rule"] == "PE003" for f in c["findings"])]
        assert len(held) == outcome.accepted
    finally:
        state.close()
