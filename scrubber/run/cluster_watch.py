"""``scrubber watch INBOX --cluster ADDRESS``: the watcher's jobs on a Dask cluster.

:class:`ClusterDispatcher` stands in for :class:`scrubber.run.dispatch.Dispatcher` (the same
methods); the watcher itself, its crash-safe state (``OUT/state.sqlite``, written by the watcher
alone, on its own host) and its steps are unchanged. Each job runs in a thread of the watcher:

- a large input (over :data:`scrubber.run.parallel.SPLIT_MIN_BYTES`, regular enough to split)
  is split here, its units run as Dask tasks and are joined here, into the job's staging folder
  (:func:`scrubber.run.dispatch.scrub_job` with a ``split``);
- any other input is one Dask task: :func:`scrubber.run.dispatch.scrub_job` itself, on a worker
  (staging folder, outputs renamed into place; INBOX and OUT on the shared file system).

A worker lost mid-file has its tasks rerun by the scheduler (a rerun stages into a folder of its
own); the job's future only ends once, so the watcher records it once. A task that keeps killing
its workers (``KilledWorker``, e.g. over the memory limit) fails its job: the input goes to
``error/`` as ``failed``. When the scheduler cannot be reached (at start, or lost mid-run), the
dispatcher has no room: files stay in INBOX, the jobs in flight stay in ``OUT/work/`` and run
again (:class:`~scrubber.run.dispatch.JobDeferred`), and it tries again after 1, 2, 4 ... 60
seconds. With ``--once`` it gives up after :data:`ONCE_GIVE_UP` failed tries (exit status 1: the
work area is redone at the next start).
"""

from __future__ import annotations

import os
import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from datetime import date
from pathlib import Path

from scrubber.config import Config
from scrubber.errors import ScrubberError
from scrubber.logs import get_logger
from scrubber.run import cluster, parallel
from scrubber.run.state import SentClaims, duplicate_days
from scrubber.run.dispatch import JobDeferred, scrub_job
from scrubber.run.jobstore import Job
from scrubber.run.outdir import LOGGER, WatchError

BACKOFF_FIRST = 1.0
BACKOFF_MAX = 60.0
ONCE_GIVE_UP = 6  # --once: failed tries (1+2+4+8+16+32 s) before the watcher stops with exit status 1
CONNECT_TIMEOUT = 5.0  # seconds for one try (SCRUBBER_CLUSTER_TIMEOUT when set)

log = get_logger(LOGGER)


class ClusterDispatcher:
    """Jobs in flight on the Dask cluster at ``address`` (see the module docstring)."""

    def __init__(self, address: str, config: Config, workers: int, out: Path, once: bool = False):
        self.address = address
        self.config = config
        self.workers = workers
        self.out = Path(out)
        self.once = once
        self.client = None
        self.runner: cluster.ClusterRunner | None = None
        self.slots = workers
        self.threads = ThreadPoolExecutor(max_workers=64, thread_name_prefix="cluster-job")
        self.in_flight: dict[Future, Job] = {}
        self.queue: deque[Job] = deque()
        self.backoff = BACKOFF_FIRST
        self.next_try = 0.0
        self.failures = 0

    # -- the connection
    def _usable(self) -> bool:
        if self.client is not None:
            if getattr(self.client, "status", "running") in ("running", "connecting"):
                return True
            log.warning("lost the cluster; retrying", cluster=self.address)
            self._drop_client()
        now = time.monotonic()
        if now < self.next_try:
            return False
        timeout = cluster.connect_timeout() if os.environ.get(cluster.ENV_TIMEOUT) else CONNECT_TIMEOUT
        try:
            client = cluster.connect(self.address, timeout=timeout)
        except ScrubberError as exc:
            self._failed(str(exc))
            return False
        try:
            workers = cluster.check_workers(client, [], self.out, timeout=timeout)
        except ScrubberError as exc:
            cluster.close(client)
            self._failed(str(exc))
            return False
        self.client = client
        self.runner = cluster.ClusterRunner(client)
        threads = sum(w.get("nthreads", 1) for w in workers.values())
        self.slots = max(self.workers, threads)
        self.backoff, self.failures = BACKOFF_FIRST, 0
        log.info("cluster connected", cluster=self.address, workers=len(workers), threads=threads)
        return True

    def _failed(self, problem: str) -> None:
        self.failures += 1
        if self.once and self.failures >= ONCE_GIVE_UP:
            raise WatchError(f"{problem}; gave up after {self.failures} tries (--once); "
                             "the files stay in the inbox and the work area", 1)
        log.warning("cluster not usable; files stay in the inbox", cluster=self.address, problem=problem[:400],
                    retry_in=self.backoff)
        self.next_try = time.monotonic() + self.backoff
        self.backoff = min(self.backoff * 2, BACKOFF_MAX)

    def _drop_client(self) -> None:
        if self.client is not None:
            cluster.close(self.client)
        self.client = None
        self.runner = None
        self.next_try = time.monotonic() + self.backoff

    # -- the Dispatcher interface
    def has_room(self) -> bool:
        if not self._usable():
            return False
        if len(self.in_flight) >= self.slots or any(j.exclusive for j in self.in_flight.values()):
            return False
        return not (self.queue and self.queue[0].exclusive and self.in_flight)

    def submit(self, job: Job, out: Path, attempt: int) -> None:
        job.started = time.monotonic()
        spec = {"dir": os.path.abspath(job.dir), "file": job.stored, "out": os.path.abspath(out), "as_of": job.as_of,
                "attempt": attempt, "config": self.config, **getattr(self, "extras", {})}
        self.in_flight[self.threads.submit(self._run, spec, self.runner)] = job

    def _run(self, spec: dict, runner: cluster.ClusterRunner) -> dict:
        """In a thread of the watcher: the job's units on the cluster, or the job as one task."""
        try:
            as_of = date.fromisoformat(spec["as_of"])
            runner.prepare(self.config, as_of, None)
            src = Path(spec["dir"]) / spec["file"]
            if src.stat().st_size >= parallel.SPLIT_MIN_BYTES:
                def split(path, staging, pairs):
                    # The claims already sent (PE003) are looked up by the units' workers in the
                    # out dir's state; this job's accepted claims are recorded there once joined.
                    state = SentClaims(Path(spec["out"]), as_of, duplicate_days(self.config.options))
                    try:
                        return parallel.scrub_split(path, staging, self.config, as_of, max(2, runner.threads),
                                                    runner=runner, interchanges=pairs, state=state,
                                                    source=os.path.basename(spec["dir"]))
                    finally:
                        state.close()

                try:
                    result = scrub_job(spec, split=split)
                except parallel.UnitFailed as exc:
                    raise RuntimeError(f"{exc.error} in {exc.where}") from None
                if result is not None:
                    return result
            fut = runner.client.submit(scrub_job, spec, key=f"scrub-job-{os.path.basename(spec['dir'])}-{spec['attempt']}",
                                       pure=False)
            outcome = runner.outcome_of(fut)
            if isinstance(outcome, BaseException):
                raise outcome
            return outcome
        except cluster.ClusterError as exc:
            raise JobDeferred(str(exc)) from None

    def finished(self, timeout: float) -> set[Future]:
        done, _ = wait_futures(list(self.in_flight), timeout=timeout, return_when=FIRST_COMPLETED)
        return done

    def take(self, fut: Future) -> Job:
        return self.in_flight.pop(fut)

    def defer(self, job: Job, problem: str) -> None:
        """The cluster went away under ``job``: it stays in the work area and runs again first."""
        log.warning("cluster lost during a file; it runs again when the cluster is back", file=job.stored, job=job.id,
                    cluster=self.address)
        self.queue.appendleft(job)
        if self.client is not None:
            self._drop_client()
            self._failed(problem)

    def drop_pool(self) -> None:
        pass  # no local pool: the scheduler reruns a lost worker's tasks

    def retry_alone(self, job: Job) -> None:
        job.exclusive = True
        self.queue.appendleft(job)

    def shutdown(self) -> None:
        self.threads.shutdown(wait=True, cancel_futures=True)
        if self.client is not None:
            cluster.close(self.client)
            self.client = None
