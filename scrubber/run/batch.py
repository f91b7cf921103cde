"""The inputs of one ``scrubber scrub``: each through the pipeline in this process, or with
``--jobs`` several inputs over worker processes, or one large input split at transaction sets
(:mod:`scrubber.run.parallel`), or the same units on a Dask cluster with ``--cluster``
(:mod:`scrubber.run.cluster`); the text summaries or the JSON reports on standard output, the
progress bars on standard error, and the exit status of the whole run (the highest).
"""

from __future__ import annotations

import os
import shutil
import signal
import stat
import sys
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import IO

from scrubber.atomic import clean_stale, name_bytes, name_max
from scrubber.check.engine import Engine
from scrubber.codesets.backpain import preload as preload_backpain_maps
from scrubber.config import Config
from scrubber.report.analyst import AnalystOutputs
from scrubber.report.ci import CI_FORMATS, CiOutput
from scrubber.report.progress import bytes_progress_for
from scrubber.run import parallel
from scrubber.report.names import SUFFIXES, output_names, output_stem
from scrubber.run.pipeline import scrub_file
from scrubber.report.text import TextReport
from scrubber.run.state import SentClaims, duplicate_days, new_source

SPLIT_FORMATS = ("text", "json")  # the formats --jobs can produce (csv, html, junit ...: one process)


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


def input_problem(f: Path, out_dir: Path) -> str | None:
    """Why ``f`` cannot be scrubbed into ``out_dir`` at all (one line), or None: it does not exist,
    it is not a regular file (a folder, a FIFO, a device: reading it could block or never end), or
    its name is too long for the names of its outputs."""
    try:
        st = f.stat()
    except FileNotFoundError:
        return f"{f}: no such file"
    except OSError as exc:
        return f"{f}: cannot be read: {exc.strerror or type(exc).__name__}"
    if not stat.S_ISREG(st.st_mode):
        return f"{f}: not a regular file (a folder, FIFO, socket or device); give the file itself"
    folder = next((p for p in (out_dir, *out_dir.parents) if p.is_dir()), Path("."))
    limit = name_max(folder)
    stem = output_stem(f)
    longest = max((f"{stem}.{suffix}" for suffix in SUFFIXES), key=name_bytes)
    if name_bytes(longest) > limit:
        most = limit - name_bytes(longest) + name_bytes(f.name)
        return (f"{f}: the file name is too long for its outputs: {stem[:12]}...{longest[len(stem):]} would be "
                f"{name_bytes(longest)} bytes, over the {limit} a file name may have; rename it to at most {most} bytes")
    return None


@contextmanager
def stopping_cleanly():
    """SIGTERM and SIGHUP end the command as an exception would, so that no temporary file is left
    behind (each writer removes its own on the way out); exit status 128 + the signal. In a forked
    worker process the signal keeps its usual effect."""
    owner = os.getpid()

    def handler(signum, frame):
        if os.getpid() != owner:
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        raise SystemExit(128 + signum)

    previous = {}
    for sig in (signal.SIGTERM, signal.SIGHUP):
        try:
            previous[sig] = signal.signal(sig, handler)
        except (ValueError, OSError):  # not the main thread
            pass
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


class _Run:
    """What the inputs come to: the exit status (the highest) and the reports, in input order."""

    def __init__(self, say: Callable[[str], None]):
        self.say = say
        self.worst = 0
        self.warned = False  # a warning found (--fail-on warning)
        self.reports: list[Path] = []

    def refused(self, message: str) -> None:
        self.say(message)
        self.worst = 2

    def done(self, f: Path, result) -> None:
        """``result``: a FileOutcome, or a parallel FileResult (unusable, report_path, exit_code)."""
        if result.unusable:
            self.say(f"{f}: unusable: {result.unusable}")
        for note in getattr(result, "output_notes", ()):
            self.say(f"{f}: {note}")
        if result.report_path:
            self.reports.append(Path(result.report_path))
        self.worst = max(self.worst, result.exit_code)
        warnings = getattr(result, "warnings", None)
        if warnings is None and result.report_path:  # a --jobs worker's result: its report says
            warnings = _report_warnings(Path(result.report_path))
        if warnings:
            self.warned = True


def _report_warnings(path: Path) -> int:
    from scrubber.report.jsonreport import read_report_lines

    try:
        head, _ = read_report_lines(path)
        return int(head.get("summary", {}).get("warnings", 0))
    except (OSError, ValueError):
        return 0


def _say(message: str) -> None:
    print(f"scrubber: {message}", file=sys.stderr, flush=True)


def scrub_batch(
    files: Sequence[Path], out_dir: Path, config: Config, as_of: date, *, fmt: str = "text", structure: bool = True,
    acks: Sequence[str] = (), jobs: int | str = "auto", say: Callable[[str], None] = _say, stdout: IO[str] | None = None,
    state_dir: Path | None = None, control_numbers: str = "keep", cluster: str | None = None, verbose: bool = False,
    text_options: dict | None = None, fail_on: str = "error",
) -> int:
    """Scrub ``files`` into ``out_dir`` (which exists); return the exit status of the run.

    ``say`` gets the lines for standard error (an input missing or unusable, out-of-date code
    sets); ``jobs``: a number of processes or "auto" (see :func:`scrubber.run.parallel.auto_jobs`);
    they serve the text and json formats without ``acks`` only. ``cluster``: the address of a
    Dask scheduler that runs the same units instead (the same formats; a
    :class:`~scrubber.run.cluster.ClusterError` when it cannot be used, before any output);
    ``verbose`` says the dashboard's address. ``text_options``: the text summary's
    (:class:`~scrubber.report.text.TextReport`); ``fail_on="warning"``: a run whose claims are all
    accepted but that found a warning exits 1. A malformed back-pain map
    (:class:`~scrubber.codesets.backpain.MapError`) stops the run before any output.

    ``state_dir``: the state folder (:mod:`scrubber.run.state`, :mod:`scrubber.run.counters`):
    claims already sent are held back (PE003) and the accepted ones recorded, each input once its
    outputs are complete. With it, several inputs are scrubbed one after the other (a later input
    sees the claims of an earlier one, as in a single process); one large input may still be split."""
    with stopping_cleanly():
        clean_stale(out_dir)  # what a killed earlier run left in the out dir
        return _scrub_batch(files, out_dir, config, as_of, fmt, structure, acks, jobs, say, stdout, state_dir,
                            control_numbers, cluster, verbose, text_options, fail_on)


def _scrub_batch(files, out_dir, config, as_of, fmt, structure, acks, jobs, say, stdout, state_dir,
                 control_numbers, cluster, verbose, text_options, fail_on) -> int:
    out = stdout or sys.stdout
    analyst = AnalystOutputs(fmt, out_dir, as_of, len(files))  # csv, html, progress
    ci = None
    if fmt in CI_FORMATS:
        ci = CiOutput(fmt, out)
        ci.begin()
    engine = Engine(config, as_of)
    preload_backpain_maps(engine)
    from scrubber.codesets.coverage import warning_line

    stale = warning_line(as_of)  # a table that does not cover the as-of date: said on every run
    if stale:
        say(stale)
    run = _Run(say)
    numbers = None  # control numbers: the state folder's counter, else this run's count (acks only)
    if state_dir is not None:
        from scrubber.run.counters import StateCounters

        numbers = StateCounters(state_dir)
    elif acks:
        from scrubber.report.controls import RunNumbers

        numbers = RunNumbers()
    new_controls = control_numbers == "new"
    problems = {f: input_problem(f, out_dir) for f in files}
    existing = [f for f in files if problems[f] is None]
    can_split = fmt in SPLIT_FORMATS and not acks and not new_controls and bool(existing)
    if cluster and (not can_split or state_dir is not None):
        if existing:
            say(f"--cluster runs the text and json formats without --ack, --state or --control-numbers new; "
                f"scrubbing here (--format {fmt}{', --ack' if acks else ''}{', --state' if state_dir else ''})")
        cluster = None
    state = SentClaims(state_dir, as_of, duplicate_days(config.options)) if state_dir is not None else None
    source = new_source()
    try:
        here = list(files)  # the inputs scrubbed in this process
        if cluster:
            for f in files:
                if problems[f] is not None:
                    run.refused(problems[f])
            here = _on_cluster(cluster, existing, out_dir, config, as_of, fmt, structure, run, out, say, verbose,
                               text_options)
        else:
            if jobs == "auto":
                jobs = parallel.auto_jobs(existing) if can_split else 1
            if jobs > 1 and can_split and state is None:
                for f in files:
                    if problems[f] is not None:
                        run.refused(problems[f])
                here = _in_processes(existing, out_dir, config, as_of, jobs, fmt, structure, run, out, text_options)
        for f in here:
            problem = problems[f]
            if problem is not None:
                run.refused(problem)
                continue
            if state is not None and isinstance(jobs, int) and jobs > 1 and can_split:
                # (with a state folder: one input at a time, each maybe split)
                outcome = parallel.scrub_split(f, out_dir, config, as_of, jobs, text_out=out if fmt == "text" else None,
                                               structure=structure, progress=bytes_progress_for(f.name, f.stat().st_size),
                                               state=state, source=source, text_options=text_options)
                if outcome is not None:
                    run.done(f, outcome)
                    continue
            sinks = analyst.sinks(f) + ([ci.sink(f)] if ci is not None else [])
            outcome = scrub_file(f, out_dir, engine, text_out=out if fmt == "text" else None,
                                 sinks=sinks, structure=structure, acks=acks, numbers=numbers,
                                 new_controls=new_controls, text_options=text_options, state=state, source=source)
            run.done(f, outcome)
    finally:
        if state is not None:
            state.close()
    if fmt == "json":
        print_reports(run.reports, out)
    if ci is not None:
        ci.end()
    if fail_on == "warning" and run.warned and run.worst == 0:
        return 1
    return run.worst


def _on_cluster(address: str, existing: list[Path], out_dir: Path, config: Config, as_of: date, fmt: str,
                structure: bool, run: _Run, out: IO[str], say: Callable[[str], None], verbose: bool,
                text_options: dict | None = None) -> list[Path]:
    """``--cluster``: the units of ``--jobs`` as tasks on the Dask cluster at ``address``, joined
    here; nothing left for this process. A ClusterError (unreachable, lost, workers that disagree
    or cannot see the files) ends the run in one line."""
    from scrubber.run import cluster

    client = cluster.connect(address, verbose=verbose)
    try:
        workers = cluster.check_workers(client, existing, out_dir)
        if verbose:
            threads = sum(w.get("nthreads", 1) for w in workers.values())
            say(f"cluster {address}: {len(workers)} workers, {threads} threads; dashboard "
                f"{cluster.dashboard(client) or 'none'}")
        if not existing:
            return []
        runner = cluster.ClusterRunner(client)
        return _in_processes(existing, out_dir, config, as_of, max(2, runner.threads), fmt, structure, run, out,
                             text_options, runner=runner)
    finally:
        cluster.close(client)


def _in_processes(existing: list[Path], out_dir: Path, config: Config, as_of: date, jobs: int, fmt: str,
                  structure: bool, run: _Run, out: IO[str], text_options: dict | None = None,
                  runner=None) -> list[Path]:
    """``--jobs``: one input split at transaction sets, or several over the processes; the inputs
    left for this process (one that cannot be split). With a cluster ``runner``, an input that
    cannot be split is one task of its own, and nothing is left for this process."""
    if len(existing) == 1:
        f = existing[0]
        try:
            outcome = parallel.scrub_split(f, out_dir, config, as_of, jobs, text_out=out if fmt == "text" else None,
                                           structure=structure, progress=bytes_progress_for(f.name, f.stat().st_size),
                                           runner=runner, text_options=text_options)
        except parallel.UnitFailed as exc:
            outcome = parallel.failed_report(
                f, out_dir, config, as_of,
                f"internal error while scrubbing {exc.where} ({exc.error} where it ran); please report it")
            if fmt == "text":
                text = TextReport(out, **(text_options or {}))
                text.start(outcome)
                text.finish(outcome)
        if outcome is not None:
            run.done(f, outcome)
            return []
        if runner is None:
            return [f]
    bar = bytes_progress_for(f"{len(existing)} files", sum(f.stat().st_size for f in existing))
    for result in parallel.scrub_parallel(existing, out_dir, config, as_of, jobs, fmt == "text", structure,
                                          progress=bar, runner=runner, text_options=text_options):
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
