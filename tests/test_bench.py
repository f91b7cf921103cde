"""The benchmark scripts run (they are not timed tests: this only keeps them working)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from conftest import fixture

BENCH = Path(__file__).resolve().parents[1] / "bench"


def test_phases_prints_every_phase_and_its_ceiling():
    r = subprocess.run([sys.executable, str(BENCH / "phases.py"), str(fixture("multi.837")), "--repeat", "1",
                        "--pyx12-seconds", "10"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    for phase in ("read", "model", "rules", "scrub --no-structure", "structure pass"):
        assert re.search(rf"^{re.escape(phase)} +[0-9.]+ s +[0-9.]+ MB/s +ceiling +[0-9.]+x pyx12$", r.stdout, re.M), r.stdout
    assert re.search(r"^pyx12 x12n_document +10\.00 s", r.stdout, re.M)


def test_run_compares_runs_on_a_generated_file(tmp_path):
    r = subprocess.run([sys.executable, str(BENCH / "run.py"), "--claims", "40", "--skip-pyx12",
                        "--variant=--no-structure"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert re.search(r"^file: bench_40\.837, [0-9.]+ MB, 40 claims", r.stdout, re.M), r.stdout
    assert re.search(r"^scrubber +[0-9.]+ s .* MB peak +[0-9.]+ MB with workers$", r.stdout, re.M), r.stdout
    assert re.search(r"^scrubber --no-structure +[0-9.]+ s .* MB peak +[0-9.]+ MB with workers$", r.stdout, re.M), r.stdout


def test_phases_compares_a_baseline_revision_in_the_same_run():
    """--baseline REV: that revision's own phases and this tree's, side by side with their ratios."""
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                          cwd=BENCH.parent)
    assert head.returncode == 0, "the tests run in a git clone of the project"
    r = subprocess.run([sys.executable, str(BENCH / "phases.py"), str(fixture("multi.837")), "--repeat", "1",
                        "--rounds", "1", "--baseline", "HEAD"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert re.search(rf"^phase +old {head.stdout.strip()} +new ", r.stdout, re.M), r.stdout
    for phase in ("read", "model", "rules", "scrub --no-structure", "structure pass"):
        assert re.search(rf"^{re.escape(phase)} +[0-9.]+ s +[0-9.]+ s +([0-9.]+|-)$", r.stdout, re.M), r.stdout
    assert re.search(r"^rules alone +[0-9.]+ s +[0-9.]+ s", r.stdout, re.M), r.stdout


def test_phases_refuses_an_unknown_baseline():
    r = subprocess.run([sys.executable, str(BENCH / "phases.py"), str(fixture("multi.837")),
                        "--baseline", "no-such-revision-here"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "not a revision" in r.stderr and "Traceback" not in r.stderr
