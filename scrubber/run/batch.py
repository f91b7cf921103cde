"""The inputs of one ``scrubber scrub``: each through the pipeline in this process, or with
``--jobs`` several inputs over worker processes, or one large input split at transaction sets
(:mod:`scrubber.run.parallel`); the text summaries or the JSON reports on standard output, the
progress bars on standard error, and the exit status of the whole run (the highest).
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import IO

from scrubber.check.engine import Engine
from scrubber.codesets.backpain import preload as preload_backpain_maps
from scrubber.config import Config
from scrubber.report.analyst import AnalystOutputs
from scrubber.report.progress import bytes_progress_for
from scrubber.run import parallel
from scrubber.report.names import output_names, output_stem
from scrubber.run.pipeline import scrub_file
from scrubber.run.state import SentClaims, duplicate_days, new_source

SPLIT_FORMATS = ("text", "json")  # the formats --jobs can produce (csv, html: one process)


def output_clash(files: Sequence[Path], out_dir: Path) -> str | None:
    """Why ``files`` cannot be scrubbed together into ``out_dir`` (two inputs with the same output
    names, or an output that would overwrite an input), or None."""
    stems: dict[str, Path] = {}
    for f in files:
        stem = output_stem(f)
        if stem in stems:
            return f"{stems[stem]} and {f} would write the same outputs ({stem}.*); scrub them in separate calls"
        stems[stem] = f
    inputs = {f.resolve() for f in files}
    for stem, f in stems.items():
        for output in output_names(stem):
            if (out_dir / output).resolve() in inputs:
                return f"scrubbing {f} would overwrite the input {out_dir / output}; choose another --out-dir"
    return None


class _Run:
    """What the inputs come to: the exit status (the highest) and the reports, in input order."""

    def __init__(self, say: Callable[[str], None]):
        self.say = say
        self.worst = 0
        self.reports: list[Path] = []

    def missing(self, f: Path) -> None:
        self.say(f"{f}: no such file")
        self.worst = 2

    def done(self, f: Path, result) -> None:
        """``result``: a FileOutcome, or a parallel FileResult (unusable, report_path, exit_code)."""
        if result.unusable:
            self.say(f"{f}: unusable: {result.unusable}")
        if result.report_path:
            self.reports.append(Path(result.report_path))
        self.worst = max(self.worst, result.exit_code)


def _say(message: str) -> None:
    print(f"scrubber: {message}", file=sys.stderr, flush=True)


def scrub_batch(
    files: Sequence[Path], out_dir: Path, config: Config, as_of: date, *, fmt: str = "text", structure: bool = True,
    acks: Sequence[str] = (), jobs: int | str = "auto", say: Callable[[str], None] = _say, stdout: IO[str] | None = None,
    state_dir: Path | None = None,
) -> int:
    """Scrub ``files`` into ``out_dir`` (which exists); return the exit status of the run.

    ``say`` gets the lines for standard error (an input missing or unusable, out-of-date code
    sets); ``jobs``: a number of processes or "auto" (see :func:`scrubber.run.parallel.auto_jobs`);
    they serve the text and json formats without ``acks`` only. A malformed back-pain map
    (:class:`~scrubber.codesets.backpain.MapError`) stops the run before any output.

    ``state_dir``: the state folder (:mod:`scrubber.run.state`): claims already sent are held back
    (PE003) and the accepted ones recorded, each input once its outputs are complete. With it,
    several inputs are scrubbed one after the other (a later input sees the claims of an earlier
    one, as in a single process); one large input may still be split."""
    out = stdout or sys.stdout
    analyst = AnalystOutputs(fmt, out_dir, as_of, len(files))  # csv, html, progress
    engine = Engine(config, as_of)
    preload_backpain_maps(engine)
    from scrubber.codesets.coverage import warning_line

    stale = warning_line(as_of)  # a table that does not cover the as-of date: said on every run
    if stale:
        say(stale)
    run = _Run(say)
    existing = [f for f in files if f.exists()]
    can_split = fmt in SPLIT_FORMATS and not acks and bool(existing)
    if jobs == "auto":
        jobs = parallel.auto_jobs(existing) if can_split else 1
    state = SentClaims(state_dir, as_of, duplicate_days(config.options)) if state_dir is not None else None
    source = new_source()
    try:
        here = list(files)  # the inputs scrubbed in this process
        if jobs > 1 and can_split and state is None:
            for f in files:
                if not f.exists():
                    run.missing(f)
            here = _in_processes(existing, out_dir, config, as_of, jobs, fmt, structure, run, out)
        for f in here:
            if not f.exists():
                run.missing(f)
                continue
            if jobs > 1 and can_split:  # (with a state folder: one input at a time, each maybe split)
                outcome = parallel.scrub_split(f, out_dir, config, as_of, jobs, text_out=out if fmt == "text" else None,
                                               structure=structure, progress=bytes_progress_for(f.name, f.stat().st_size),
                                               state=state, source=source)
                if outcome is not None:
                    run.done(f, outcome)
                    continue
            outcome = scrub_file(f, out_dir, engine, text_out=out if fmt == "text" else None,
                                 sinks=analyst.sinks(f), structure=structure, acks=acks, state=state, source=source)
            run.done(f, outcome)
    finally:
        if state is not None:
            state.close()
    if fmt == "json":
        print_reports(run.reports, out)
    return run.worst


def _in_processes(existing: list[Path], out_dir: Path, config: Config, as_of: date, jobs: int, fmt: str,
                  structure: bool, run: _Run, out: IO[str]) -> list[Path]:
    """``--jobs``: one input split at transaction sets, or several over the processes; the inputs
    left for this process (one that cannot be split)."""
    if len(existing) == 1:
        f = existing[0]
        outcome = parallel.scrub_split(f, out_dir, config, as_of, jobs, text_out=out if fmt == "text" else None,
                                       structure=structure, progress=bytes_progress_for(f.name, f.stat().st_size))
        if outcome is None:
            return [f]
        run.done(f, outcome)
        return []
    bar = bytes_progress_for(f"{len(existing)} files", sum(f.stat().st_size for f in existing))
    for result in parallel.scrub_parallel(existing, out_dir, config, as_of, jobs, fmt == "text", structure,
                                          progress=bar):
        if bar is not None:
            bar.clear()
        if result.text_file is not None:  # the text summaries in input order
            with open(result.text_file, encoding="utf-8") as text:
                shutil.copyfileobj(text, out)
        out.flush()
        run.done(result.path, result)
    if bar is not None:
        bar.finish()
    return []


def print_reports(reports: list[Path], out: IO[str]) -> None:
    """``--format json``: the report of the one input, or a JSON array of the reports."""
    if len(reports) != 1:
        out.write("[\n")
    for i, path in enumerate(reports):
        if i:
            out.write(",\n")
        with open(path, encoding="utf-8") as fh:
            shutil.copyfileobj(fh, out)
    if len(reports) != 1:
        out.write("]\n")
    out.flush()
