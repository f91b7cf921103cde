"""The watcher's worker processes: :func:`scrub_job` scrubs one claimed input in a worker, and
the parent's :class:`Dispatcher` holds the pool, the jobs in flight and the queue of jobs to run
first (recovered from the work area, or run again alone after a worker died).

A worker scrubs into ``OUT/work/JOB/.stageN/`` (``scrub_file`` writes temp names and renames),
then fsyncs and renames each output into ``clean/``, ``rejected/``, ``reports/`` (the report
last: its presence says the outputs are complete); an output of an earlier attempt that this one
did not produce is removed. Only the parent writes the ``files`` table of the state; a worker
records its input's accepted claims (``sent_claims``, :mod:`scrubber.run.state`) in the
transaction that renames its outputs into place. With ``--cluster`` the same :func:`scrub_job`
runs as a Dask task instead (:class:`scrubber.run.cluster_watch.ClusterDispatcher`), or here with
a large input's units on the cluster (its ``split``).
"""

from __future__ import annotations

import multiprocessing
import os
import stat
import shutil
import signal
import sys
import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor
from concurrent.futures import wait as wait_futures
from concurrent.futures.process import BrokenProcessPool
from datetime import date
from pathlib import Path

from scrubber.config import Config
from scrubber.logs import configure_logging
from scrubber.run.jobstore import Job
from scrubber.run.outdir import OUTPUTS, fsync_dir, fsync_file
from scrubber.report.names import ACK277CA, ACK999, CSV, HTML, output_stem
from scrubber.report.sink import Sink
from scrubber.run.pipeline import file_digest, scrub_file
from scrubber.run.counters import StateCounters
from scrubber.run.state import SentClaims, duplicate_days
from scrubber.x12.reader import detect_delimiters

# --- worker side ------------------------------------------------------------------------------

_worker_config: Config | None = None


def _init_worker(config: Config, json_lines: bool, parent: int) -> None:
    """Worker process setup: Ctrl-C (SIGINT to the whole process group) is for the parent, which
    stops after the files in progress; a worker dies with its parent.

    SIGTERM keeps its default: multiprocessing terminates the workers of a broken pool with it.
    A worker killed by a SIGTERM sent to the whole group only means its file is done again.
    """
    global _worker_config
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:  # Linux: SIGKILL this worker when the watcher dies (kill -9), so no orphan keeps writing
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        if os.getppid() != parent:  # the watcher died before the line above took effect
            os._exit(1)
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        pass
    _worker_config = config
    configure_logging(json_lines=json_lines)


def _engine(as_of: str, config: Config | None = None):
    """This process's engine (built once; on a Dask worker, by the plugin that warmed it)."""
    from scrubber.run.parallel import worker_engine

    return worker_engine(config if config is not None else _worker_config, date.fromisoformat(as_of))


class InputChanged(Exception):
    """The stored input changed while it was scrubbed (a writer still at it): nothing is published."""


class JobDeferred(Exception):
    """The job could not run now (the cluster is unreachable): it stays in the work area and is
    run again when the dispatcher can run jobs again; not an attempt of its own."""


class _Interchanges(Sink):
    """A sink that collects the (ISA06, ISA13) of the interchanges with claims."""

    def __init__(self) -> None:
        self.pairs: list[tuple[str, str]] = []

    def add(self, sender: str, control: str) -> None:
        pair = (sender.strip(), control.strip())
        if pair[1] and pair not in self.pairs:
            self.pairs.append(pair)

    def head(self, path: Path) -> None:
        """The first ISA, read from the head of the file (also for an input found unusable later)."""
        try:
            with open(path, "rb") as fh:
                text = fh.read(1024).decode("latin-1")
            at = len(text) - len(text.lstrip("\ufeff\xef\xbb\xbf\r\n\t "))
            delims = detect_delimiters(text, at)
            fields = text[at:].split(delims.element)
            if len(fields) > 13 and len(fields[13].strip()) <= 9 and fields[13].strip().isdigit():
                self.add(fields[6][:15], fields[13])
        except Exception:  # noqa: BLE001 - not an X12 head: the scrub says why
            pass

    def claim(self, result) -> None:
        ic = result.claim.transaction.interchange
        self.add(ic.isa.el(6), ic.control)


def scrub_job(spec: dict, split=None) -> dict | None:
    """Worker: scrub one claimed input into its staging folder, then rename the outputs into place.

    ``spec["config"]``, when present, is the configuration (a Dask worker has no initializer);
    ``split(src, staging, pairs)``, when given, scrubs the input's units elsewhere and returns its
    FileOutcome (``pairs`` receives the interchanges' (ISA06, ISA13)), or None when the input
    cannot be split: then nothing is done here and None is returned."""
    t0 = time.monotonic()
    job_dir = Path(spec["dir"])
    out = Path(spec["out"])
    src = job_dir / spec["file"]
    if not stat.S_ISREG(os.lstat(src).st_mode):  # the parent checked it; never read anything else
        raise ValueError("not a regular file")
    for old in job_dir.iterdir():
        if old.name.startswith(".stage") and old.is_dir():
            shutil.rmtree(old, ignore_errors=True)
    staging = job_dir / f".stage{spec['attempt']}-{os.getpid()}-{time.monotonic_ns() % 10**9}"  # (a rerun: its own)
    staging.mkdir()
    collector = _Interchanges()
    stem = output_stem(spec["file"])
    formats = spec.get("formats") or ()
    mode = spec.get("mode", 0o600)
    acks: tuple = ()
    produced: dict = {}
    before = file_digest(src)[0]  # what is scrubbed must still be what is stored when it is published

    def publish() -> None:
        """Rename the outputs into place (the report last: its presence says they are complete);
        :class:`InputChanged` instead when the stored input changed meanwhile (a writer still at it)."""
        if file_digest(src)[0] != before:
            raise InputChanged()
        produced.clear()
        extra = [(HTML, "reports"), (CSV, "reports"), (ACK999, "acks"), (ACK277CA, "acks")]
        for suffix, folder in extra + list(OUTPUTS):
            name = f"{stem}.{suffix}"
            made, dst = staging / name, out / folder / name
            if made.exists():
                if mode != 0o600:
                    os.chmod(made, mode)
                fsync_file(made)
                os.replace(made, dst)
                if (suffix, folder) in OUTPUTS:  # (the extra formats are not part of the state)
                    produced[folder] = name
            else:
                dst.unlink(missing_ok=True)  # left by an interrupted earlier attempt of this job
        for folder in ("clean", "rejected", "reports") + (("acks",) if acks else ()):
            fsync_dir(out / folder)

    try:
        if split is not None:  # (the cluster's units: the report formats of [watch] are not made there)
            pairs: list = []
            outcome = split(src, staging, pairs)
            if outcome is None:
                shutil.rmtree(staging, ignore_errors=True)
                return None
            collector.head(src)
            for pair in pairs:
                collector.add(*pair)
            publish()
        else:
            collector.head(src)
            engine = _engine(spec["as_of"], spec.get("config"))
            sinks = [collector]
            if "html" in formats:
                from scrubber.report.html import HtmlReport

                sinks.append(HtmlReport(staging / f"{stem}.{HTML}", engine.context.as_of, mode=mode))
            if "csv" in formats:
                from scrubber.report.csv_report import CsvReport

                sinks.append(CsvReport(staging / f"{stem}.{CSV}", None, mode=mode))
            acks = tuple(f for f in formats if f in ("999", "277ca"))
            # The claims already sent (PE003) are in the out dir's state database; this job's accepted
            # claims are recorded there in the same transaction that publishes its outputs.
            state = SentClaims(out, engine.context.as_of, duplicate_days(engine.config.options))
            numbers = StateCounters(out) if acks else None  # the acks' control numbers: the state's counter
            try:
                outcome = scrub_file(src, staging, engine, sinks=sinks, acks=acks, state=state, source=job_dir.name,
                                     publish=publish, numbers=numbers)
            finally:
                state.close()
                if numbers is not None:
                    numbers.close()
    except InputChanged:  # publish nothing: the parent scrubs it again once it settles
        shutil.rmtree(staging, ignore_errors=True)
        return {"status": "changed", "claims": 0, "accepted": 0, "rejected": 0, "errors": 0, "warnings": 0,
                "rule": None, "reason": None, "interchanges": [], "outputs": {}, "sha256": "",
                "changed": True, "duration": time.monotonic() - t0}
    shutil.rmtree(staging, ignore_errors=True)
    rule = reason = None
    if outcome.unusable:
        rule = outcome.fatal.rule if outcome.fatal else None
        reason = outcome.unusable
        if rule == "EN011":  # an internal error: its message may quote the input; keep the type only
            reason = "internal error while scrubbing; please report it"
    return {
        "status": outcome.status,
        "claims": outcome.claims,
        "accepted": outcome.accepted,
        "rejected": outcome.rejected,
        "errors": outcome.errors,
        "warnings": outcome.warnings,
        "rule": rule,
        "reason": reason,
        "interchanges": collector.pairs,
        "outputs": produced,
        "sha256": outcome.sha256,
        "duration": time.monotonic() - t0,
    }


# --- parent side ------------------------------------------------------------------------------

class Dispatcher:
    """Up to ``workers`` jobs in flight in a pool of spawned worker processes (made on first use,
    made again after a worker died). A job marked ``exclusive`` runs alone."""

    def __init__(self, config: Config, workers: int, json_lines: bool = True):
        self.config = config
        self.workers = workers
        self.json_lines = json_lines
        self.pool: ProcessPoolExecutor | None = None
        self.in_flight: dict[Future, Job] = {}
        self.queue: deque[Job] = deque()  # run before the inbox's ready files
        self.extras: dict = {}  # added to each job's spec: [watch] formats, output mode

    def has_room(self) -> bool:
        """Can another job start now?"""
        if len(self.in_flight) >= self.workers or any(j.exclusive for j in self.in_flight.values()):
            return False
        return not (self.queue and self.queue[0].exclusive and self.in_flight)

    def _ensure_pool(self) -> ProcessPoolExecutor:
        if self.pool is None:
            # After a kill -9 the resource tracker (a helper process of multiprocessing) would print a
            # "leaked semaphore" warning, a line that is not JSON, into the log: it cleans them anyway.
            quiet = "ignore::UserWarning:multiprocessing.resource_tracker"
            if quiet not in sys.warnoptions:
                sys.warnoptions.append(quiet)
            self.pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_worker,
                initargs=(self.config, self.json_lines, os.getpid()),
            )
        return self.pool

    def submit(self, job: Job, out: Path, attempt: int) -> None:
        """Start scrubbing ``job`` (its outputs into the folders of ``out``) in a worker."""
        job.started = time.monotonic()
        spec = {"dir": str(job.dir), "file": job.stored, "out": str(out), "as_of": job.as_of, "attempt": attempt,
                **self.extras}
        try:
            fut = self._ensure_pool().submit(scrub_job, spec)
        except BrokenProcessPool:
            self.pool = None
            fut = self._ensure_pool().submit(scrub_job, spec)
        self.in_flight[fut] = job

    def finished(self, timeout: float) -> set[Future]:
        """Wait up to ``timeout`` seconds for a job in flight to end; the ended ones."""
        done, _ = wait_futures(list(self.in_flight), timeout=timeout, return_when=FIRST_COMPLETED)
        return done

    def take(self, fut: Future) -> Job:
        """The job of an ended future, no longer in flight."""
        return self.in_flight.pop(fut)

    def drop_pool(self) -> None:
        """A worker died: the pool is broken; the next job makes a new one."""
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)
            self.pool = None

    def retry_alone(self, job: Job) -> None:
        job.exclusive = True
        self.queue.appendleft(job)

    def shutdown(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
