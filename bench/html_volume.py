"""Benchmark: the HTML page of a large file, against the former layout, in the same run.

    python bench/html_volume.py [--claims 10000] [--baseline c905464] [--chromium /usr/bin/chromium]

Generates a synthetic file (bench/gen837.py), checks it once (the findings are the same for both
pages), then feeds the same claim outcomes to the current ``HtmlReport`` and to the one of the
baseline commit (``scrubber/report/html.py`` read from git; the default is the commit before the
page was reworked). Printed for each: page bytes, seconds to write it, and, where chromium is
installed, seconds for headless chromium to load and lay it out (``--dump-dom``); then the ratios
baseline / current. Not a timed test: a script people run.
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from gen837 import generate  # noqa: E402

AS_OF = date(2025, 6, 1)


def _baseline_module(commit: str):
    source = subprocess.run(["git", "-C", str(ROOT), "show", f"{commit}:scrubber/report/html.py"],
                            capture_output=True, text=True, check=True).stdout
    spec = importlib.util.spec_from_loader("baseline_html", loader=None)
    module = importlib.util.module_from_spec(spec)
    exec(compile(source, f"{commit}:scrubber/report/html.py", "exec"), module.__dict__)
    return module


def _outcomes(path: Path):
    """The claim outcomes of ``path`` (the structural findings left out: the same for both pages)."""
    from scrubber.check.engine import Engine, claim_status
    from scrubber.report.outcome import ClaimOutcome, FileOutcome
    from scrubber.x12.model import Claim, walk
    from scrubber.x12.reader import read_segments

    engine = Engine(None, AS_OF)
    outcome = FileOutcome(name=path.name)
    results = []
    for event in walk(read_segments(path)):
        if type(event) is Claim:
            findings = engine.check(event)
            status = claim_status(findings)
            outcome.claims += 1
            outcome.count(findings, claim=True)
            if status == "accepted":
                outcome.accepted += 1
            else:
                outcome.rejected += 1
            results.append(ClaimOutcome(event, findings, status))
    outcome.status = "rejections" if outcome.rejected else "clean"
    return outcome, results


def _write(report_class, target: Path, outcome, results) -> float:
    t0 = time.perf_counter()
    page = report_class(target, AS_OF)
    page.start(outcome)
    for r in results:
        page.claim(r)
    page.finish(outcome)
    return time.perf_counter() - t0


def _browser(chromium: str | None, page: Path, profile: Path) -> float | None:
    if not chromium or not Path(chromium).exists():
        return None
    t0 = time.perf_counter()
    subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-dev-shm-usage",
                    f"--user-data-dir={profile}", "--window-size=1280,1000", "--dump-dom", page.resolve().as_uri()],
                   capture_output=True, timeout=600, check=False)
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--claims", type=int, default=10_000)
    ap.add_argument("--baseline", default="c905464", help="git commit of the former page")
    ap.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    args = ap.parse_args(argv)
    from scrubber.report.explain import element_names, load_icd
    from scrubber.report.html import HtmlReport

    load_icd(), element_names()
    with tempfile.TemporaryDirectory(prefix="bench-html-") as tmp:
        tmp = Path(tmp)
        src = tmp / "volume.837"
        generate(src, args.claims, per_st=1000, seed=11)
        outcome, results = _outcomes(src)
        print(f"input: {args.claims} claims, {src.stat().st_size} bytes; {outcome.rejected} rejected, "
              f"{outcome.warned} accepted with warnings, {outcome.warnings} warnings")
        rows = {}
        for label, cls in (("baseline", _baseline_module(args.baseline).HtmlReport), ("current", HtmlReport)):
            target = tmp / f"{label}.html"
            seconds = _write(cls, target, outcome, results)
            shown = _browser(args.chromium, target, tmp / f"profile-{label}")
            rows[label] = (target.stat().st_size, seconds, shown)
            browser = f", chromium {shown:.1f} s" if shown is not None else ""
            print(f"{label:9} ({args.baseline if label == 'baseline' else 'this tree'}): "
                  f"{target.stat().st_size / 1e6:.1f} MB, written in {seconds:.1f} s{browser}")
        (b_size, b_write, b_show), (c_size, c_write, c_show) = rows["baseline"], rows["current"]
        ratios = f"ratio baseline/current: size {b_size / c_size:.1f}x, write {b_write / c_write:.1f}x"
        if b_show and c_show:
            ratios += f", chromium {b_show / c_show:.1f}x"
        print(ratios)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
