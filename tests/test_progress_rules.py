"""The progress bar on standard error, and `scrubber rules` as a table."""

from __future__ import annotations

import io
import re
from datetime import date

from conftest import fixture, run_cli, problem_lines

from scrubber.config import Config
from scrubber.check.engine import Engine
from scrubber.run.pipeline import scrub_file
from scrubber.rules import REGISTRY
from scrubber.report.progress import MIN_BYTES, Progress, progress_for


class FakeTty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_no_bar_when_not_a_terminal_or_small(tmp_path):
    big = tmp_path / "big.837"
    big.write_bytes(b"x" * (MIN_BYTES + 1))
    assert progress_for(big, io.StringIO()) is None, "not a terminal: silent"
    assert progress_for(fixture("multi.837"), FakeTty()) is None, "a small file: no bar"
    assert isinstance(progress_for(big, FakeTty()), Progress)


def test_bar_follows_the_bytes_read(tmp_path):
    tty = FakeTty()
    path = fixture("multi.837")
    bar = Progress(path.name, path.stat().st_size, tty, every=2)
    outcome = scrub_file(path, tmp_path, Engine(None, date(2025, 6, 1)), sinks=[bar])
    assert outcome.claims == 14
    out = tty.getvalue()
    assert "multi.837" in out and "100%" in out
    import re

    between = {int(p) for p in re.findall(r"(\d+)%", out)} - {0, 100}
    assert between, f"no intermediate update: {out!r}"
    assert bar._done == 2 * path.stat().st_size  # the structural pass, then the claim pass


def test_scrub_piped_stderr_stays_quiet(tmp_path):
    r = run_cli("scrub", fixture("multi.837"), "--out-dir", tmp_path, "--as-of", "2025-06-01")
    assert problem_lines(r.stderr) == []  # no bar (the code-set warning, if any, is one line)
    assert "\r" not in r.stderr and len(r.stderr.splitlines()) <= 1


def test_rules_table_has_scope_and_ack_and_wraps():
    from scrubber.cli.rules import rules_table

    lines = rules_table(REGISTRY, Config(), width=110)
    assert lines[0].split() == ["CODE", "NAME", "SEVERITY", "SCOPE", "ACK", "SUMMARY"]
    body = lines[1:]
    dp002 = next(line for line in body if line.startswith("DP002"))
    assert " claim " in dp002 and "A7:477" in dp002
    en006 = next(line for line in body if line.startswith("EN006"))
    assert re.search(r" file +A|\bfile\b", en006)
    # wrapped: continuation lines start with blanks and nothing runs past the width
    # (unless a rule name alone is longer)
    assert any(line.startswith(" ") for line in body)
    indent = len(lines[0]) - len("SUMMARY")
    assert all(len(line) <= max(110, indent + 30) for line in body)
    unwrapped = rules_table(REGISTRY, Config(), width=None)
    assert len(unwrapped) == len(REGISTRY) + 1


def test_rules_command():
    r = run_cli("rules")
    assert r.returncode == 0
    assert "SCOPE" in r.stdout.splitlines()[0]
    r = run_cli("rules", "--explain", "DP002")
    assert r.returncode == 0 and "What it does" in r.stdout
