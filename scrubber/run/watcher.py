"""The watched drop folder: ``scrubber watch INBOX --out-dir OUT``.

An upstream system drops 837 files into INBOX; each one is scrubbed and its outputs land in
folders under OUT that downstream systems read (:mod:`scrubber.run.outdir` lists them). The
service loop here ties together the drop folder (:mod:`scrubber.run.inbox`), the state
(:mod:`scrubber.run.jobstore`) and the worker processes (:mod:`scrubber.run.dispatch`).

The steps for one input, each idempotent, in this order (a kill -9 between any two loses nothing):

1. claim: open the name once (no link followed, no FIFO blocking) and check on that descriptor
   (a regular file, as it settled, not open for writing elsewhere); ``mkdir OUT/work/JOB``,
   ``rename INBOX/NAME -> OUT/work/JOB/NAME`` and check the entry moved is the file opened
   (:meth:`scrubber.run.inbox.Inbox.claim`);
2. hash; an input that is not to be scrubbed (unreadable, a name too long for its outputs, not a
   regular file) goes to ``OUT/error/`` with its reason; a content already seen (same sha256, an
   earlier input) is not scrubbed again: it goes to ``OUT/error/`` with the reason "duplicate of ...";
3. a worker process scrubs it and renames each output into ``clean/``, ``rejected/``,
   ``reports/`` (the report last), unless the input changed while it was scrubbed; the parent
   hashes it again: a changed input has its outputs withdrawn and is scrubbed again once settled;
4. the parent records the outcome in the state database (only the parent writes it);
5. the input is renamed into ``archive/`` (or ``error/``, after its reason file), and the job
   folder removed.

On start, every job folder left in ``OUT/work/`` is processed again from step 2 (the same name,
so the same output names); a job that was interrupted 3 times goes to ``error/``, and so does
anything there that is not a regular file (moved, never opened); a job whose input is gone is
closed as ``failed``, never left ``processing``.
"""

from __future__ import annotations

import errno
import fcntl
import os
import shutil
import signal
import sqlite3
import stat
import threading
import time
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from scrubber.config import Config, today
from scrubber.logs import get_logger
from scrubber.run.dispatch import Dispatcher, JobDeferred
from scrubber.atomic import clean_stale
from scrubber.run.health import Heartbeat
from scrubber.run.inbox import Inbox, NotRegular, digest_regular, ignore_sigio, kind_of
from scrubber.run.jobstore import Job, State
from scrubber.run.outdir import FOLDERS, LOCK_FILE, LOGGER, STATE_FILE, WatchError, utcnow

MAX_ATTEMPTS = 3
MAX_CHANGES = 3  # times an input may change while it is scrubbed before it goes to error/
SETTINGS_KEYS = {"inbox", "out_dir", "settle", "rescan", "workers", "formats", "output_mode"}
WATCH_FORMATS = ("html", "csv", "999", "277ca")  # [watch] formats: outputs besides the 837s and the report
DEFAULT_SETTLE = 5.0
DEFAULT_RESCAN = 30.0

log = get_logger(LOGGER)


# --- settings ---------------------------------------------------------------------------------

@dataclass
class WatchSettings:
    inbox: Path
    out_dir: Path
    settle: float = DEFAULT_SETTLE
    rescan: float = DEFAULT_RESCAN
    workers: int = 1
    once: bool = False
    as_of: date | None = None
    cluster: str | None = None  # a Dask scheduler's address: the jobs run there (scrubber.run.cluster_watch)
    formats: tuple[str, ...] = ()  # also NAME.report.html / .csv in reports/, NAME.999 / .277ca.edi in acks/
    output_mode: int = 0o600  # of every output; "0640" lets a submitter group read them


def settings_from(section: dict, base: Path | None, **given) -> WatchSettings:
    """Merge the config file's ``[watch]`` table with the command line (which wins).

    Relative folders in the config file are taken relative to the config file's folder.
    """
    unknown = set(section) - SETTINGS_KEYS
    if unknown:
        raise WatchError(f"[watch]: unknown key {sorted(unknown)[0]!r} ({', '.join(sorted(SETTINGS_KEYS))})")
    values: dict = {}
    for key in ("inbox", "out_dir"):
        value = section.get(key)
        if value is not None:
            if not isinstance(value, str) or not value:
                raise WatchError(f"[watch].{key}: must be a folder name")
            path = Path(value).expanduser()
            values[key] = path if path.is_absolute() or base is None else base / path
    for key in ("settle", "rescan"):
        value = section.get(key)
        if value is not None:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise WatchError(f"[watch].{key}: must be a number of seconds, 0 or more")
            values[key] = float(value)
    if "workers" in section:
        value = section["workers"]
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 64:
            raise WatchError("[watch].workers: must be a whole number from 1 to 64")
        values["workers"] = value
    if "formats" in section:
        value = section["formats"]
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v.lower() in WATCH_FORMATS for v in value):
            raise WatchError(f"[watch].formats: must be a list of {', '.join(WATCH_FORMATS)}")
        values["formats"] = tuple(dict.fromkeys(v.lower() for v in value))
    if "output_mode" in section:
        value = section["output_mode"]
        mode = None
        if isinstance(value, str) and value.strip().isdigit():
            try:
                mode = int(value.strip(), 8)
            except ValueError:
                mode = None
        if mode is None or mode & ~0o640 or not mode & 0o600 == 0o600:
            raise WatchError('[watch].output_mode: must be an octal mode string from "0600" to "0640" (owner '
                             'read-write, group read at most), such as "0640"')
        values["output_mode"] = mode
    for key, value in given.items():
        if value is not None:
            values[key] = value
    if values.get("inbox") is None:
        raise WatchError("no inbox: give INBOX or set inbox in the [watch] section of the config")
    if values.get("out_dir") is None:
        raise WatchError("no out dir: give --out-dir or set out_dir in the [watch] section of the config")
    if values.get("rescan", DEFAULT_RESCAN) <= 0:
        values["rescan"] = DEFAULT_RESCAN
    return WatchSettings(**values)


# --- the service loop -------------------------------------------------------------------------

class Watcher:
    """One watcher over INBOX and OUT: until stopped (SIGTERM, SIGINT), or with ``once`` until the
    files in INBOX at start are done."""

    def __init__(self, settings: WatchSettings, config: Config, json_lines: bool = True):
        self.settings = settings
        self.config = config
        self.wake = threading.Event()
        self.inbox = Inbox(settings.inbox, settings.out_dir, settings.settle, settings.once, self.wake)
        self.out = self.inbox.out
        if settings.cluster:
            from scrubber.run.cluster_watch import ClusterDispatcher

            self.dispatch = ClusterDispatcher(settings.cluster, config, settings.workers, settings.out_dir, settings.once)
        else:
            self.dispatch = Dispatcher(config, settings.workers, json_lines)
        self.dispatch.extras = {"formats": list(settings.formats), "mode": settings.output_mode}
        self.stopping = False
        self.state: State | None = None
        self._lock_fd: int | None = None
        self.processed = 0
        self.settling: dict[str, tuple[Job, int, int, float]] = {}  # changed while scrubbed: (job, size, mtime, since)

    # -- setup and teardown
    def _setup(self) -> None:
        if not self.inbox.path.is_dir():
            raise WatchError(f"inbox {self.inbox.path} is not a folder")
        try:
            for name in FOLDERS + (("acks",) if {"999", "277ca"} & set(self.settings.formats) else ()):
                (self.out / name).mkdir(parents=True, exist_ok=True)
                if self.settings.output_mode & 0o040 and name in ("clean", "rejected", "reports", "acks"):
                    os.chmod(self.out / name, 0o750)  # a submitter group reads the outputs there
            self._lock_fd = os.open(self.out / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            hint = ""
            if isinstance(exc, PermissionError):  # e.g. a container's first run on a root-owned host folder
                hint = (f" (the watcher runs as uid {os.getuid()}, gid {os.getgid()}: give it the folder, "
                        f"e.g. chown -R {os.getuid()}:{os.getgid()} on the host)")
            raise WatchError(f"cannot create the out dir {self.out}: {exc.strerror or exc}{hint}") from None
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise WatchError(f"another `scrubber watch` is already using {self.out}") from None
        os.ftruncate(self._lock_fd, 0)
        os.write(self._lock_fd, f"{os.getpid()}\n".encode())
        try:
            self.state = State(self.out / STATE_FILE)
        except sqlite3.Error as exc:
            raise WatchError(f"cannot open the state database {self.out / STATE_FILE}: {exc}") from None
        self.inbox.check_filesystems()
        for name in ("error", "clean", "rejected", "reports", "archive"):
            clean_stale(self.out / name)  # temporary files a killed watcher left

    def _teardown(self) -> None:
        self.inbox.stop_observer()
        self.dispatch.shutdown()
        if self.state is not None:
            self.state.close()
        if self._lock_fd is not None:
            os.close(self._lock_fd)

    def _on_signal(self, signum, frame) -> None:
        # No logging here: the handler may run while the main thread holds the log stream's lock.
        self.stopping = True
        self.wake.set()

    # -- the loop
    def run(self) -> int:
        self._setup()
        try:
            previous = {s: signal.signal(s, self._on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
        except ValueError:  # not the main thread (tests calling run() in a thread)
            previous = {}
        if previous:
            ignore_sigio()  # (the claim's lease probe)
        try:
            log.info("watcher started", inbox=str(self.inbox.path), out_dir=str(self.out),
                     workers=self.settings.workers, settle=self.settings.settle,
                     mode="once" if self.settings.once else "watch",
                     **({"cluster": self.settings.cluster} if self.settings.cluster else {}))
            self._recover()
            if not self.settings.once:
                self.inbox.start_observer()
            self.inbox.scan(initial=True)
            self.heartbeat = Heartbeat(self.out)
            self.heartbeat.ready()
            try:
                self._loop()
                self.inbox.stop_observer()  # (its thread may say something as it stops: before the last line)
            finally:
                self.heartbeat.stopping()
            log.info("watcher stopped", files=self.processed)
            return 0
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)
            self._teardown()

    def _loop(self) -> None:
        s = self.settings
        inbox, dispatch = self.inbox, self.dispatch
        check_every = max(0.05, min(s.settle / 4, 1.0))
        next_check = 0.0
        next_rescan = time.monotonic() + s.rescan
        announced = False
        while True:
            started = [j.started for j in dispatch.in_flight.values() if j.started]
            # (the oldest file in progress, as wall-clock time, for `scrubber status --health`)
            self.heartbeat.beat(time.time() - (time.monotonic() - min(started)) if started else None)
            if self.stopping and not announced:
                log.info("stopping after the current files", pending=len(dispatch.in_flight))
                announced = True
            if self.stopping and not dispatch.in_flight:
                return
            now = time.monotonic()
            changed = inbox.drain_events()
            if not self.stopping and not s.once and now >= next_rescan:
                inbox.scan()
                next_rescan = now + s.rescan
            if (inbox.candidates or self.settling) and (changed or now >= next_check):
                inbox.check_candidates()
                self._check_settling()
                next_check = now + check_every
            if not self.stopping:
                self._dispatch()
            if s.once and not (inbox.pending or dispatch.queue or dispatch.in_flight or self.settling):
                return
            busy = inbox.pending or dispatch.queue or self.settling
            timeout = 0.05 if busy else min(1.0, max(0.05, next_rescan - time.monotonic()))
            if dispatch.in_flight:
                for fut in dispatch.finished(timeout):
                    self._finish(fut)
            else:
                self.wake.wait(timeout)
            self.wake.clear()

    def _as_of(self) -> str:
        return (self.settings.as_of or today(self.config)).isoformat()  # today in [options] timezone

    def _recover(self) -> None:
        """Requeue every job a crash left in the work area; clear what is left of finished ones."""
        work = self.out / "work"
        count = 0
        for job_dir in sorted(work.iterdir()):
            if job_dir.is_symlink() or not job_dir.is_dir():
                continue
            entries = [p for p in job_dir.iterdir() if not p.name.startswith(".")]
            row = self.state.row(job_dir.name)
            if not entries:  # the input already reached archive/ or error/
                if row is not None and row["location"] is None:
                    for folder in ("archive", "error"):
                        if os.path.lexists(self.out / folder / row["stored_name"]):
                            self.state.moved(job_dir.name, f"{folder}/{row['stored_name']}")
                            break
                    else:
                        if row["outcome"] == "processing":  # never left: say so rather than wait for ever
                            self.state.finished(job_dir.name, outcome="failed",
                                                reason="the input was not found in the work area after a restart")
                shutil.rmtree(job_dir, ignore_errors=True)
                continue
            stored = entries[0].name
            as_of = self._as_of()
            if row is None:
                self.state.claimed(job_dir.name, stored, stored, as_of)
                row = self.state.row(job_dir.name)
            job = Job(job_dir.name, job_dir, stored, row["name"], row["as_of"] or as_of)
            self.inbox.hold(stored)
            count += 1
            mode = os.lstat(entries[0]).st_mode
            if not stat.S_ISREG(mode):
                job.refused = ("failed", None, f"not a regular file ({kind_of(mode)}); not scrubbed")
            elif self.inbox.too_long(row["name"]) and stored != row["name"]:
                job.refused = ("failed", None, self.inbox.too_long(row["name"]))
            if job.refused is None and row["attempts"] >= MAX_ATTEMPTS:
                reason = f"the watcher was stopped {row['attempts']} times while scrubbing it"
                job.refused = ("failed", None, reason)
            if job.refused is not None:
                self._prepare(job)  # concluded there
                continue
            log.info("recovered from the work area", file=stored, job=job.id, attempts=row["attempts"])
            self.dispatch.queue.append(job)
        if count:
            log.info("work area recovered", recovered=count)

    # -- running jobs
    def _dispatch(self) -> None:
        """Start jobs while there is room: the queued ones first, then the inbox's ready files."""
        while not self.stopping and self.dispatch.has_room():
            if self.dispatch.queue:
                job = self.dispatch.queue.popleft()
            elif self.inbox.ready:
                name = self.inbox.next_ready()
                as_of = self._as_of()
                job = self.inbox.claim(name, as_of)
                if job is None:
                    continue
                self.state.claimed(job.id, name, job.stored, as_of)
            else:
                return
            if not self._prepare(job):
                continue
            self.dispatch.submit(job, self.out, self.state.started(job.id))

    def _prepare(self, job: Job) -> bool:
        """Hash the claimed input; one that is not to be scrubbed (not a regular file, unreadable,
        a name too long, a content seen before) is concluded here."""
        if job.refused is None:
            try:
                job.sha256, job.size, st = digest_regular(job.path)
                if job.identity is not None and (st.st_dev, st.st_ino) != job.identity:
                    raise NotRegular("another file")
            except NotRegular as exc:
                job.refused = ("failed", None, f"not a regular file ({exc.kind}); not scrubbed")
            except OSError as exc:
                if exc.errno in (errno.EACCES, errno.EPERM):
                    job.refused = ("unusable", "EN005", "unreadable: the watcher may not read it (permission denied)")
                else:
                    job.refused = ("failed", None, f"cannot be read ({type(exc).__name__}: {exc.strerror or 'error'})")
        if job.refused is not None:
            outcome, rule, reason = job.refused
            if not job.sha256:
                try:  # for the record, where it can be read
                    job.sha256, job.size, _ = digest_regular(job.path)
                except OSError:
                    try:
                        job.size = os.lstat(job.path).st_size
                    except OSError:
                        job.size = 0
            self.state.hashed(job.id, job.size, job.sha256 or None)
            self._conclude(job, outcome, reason=reason, rule=rule, result=None)
            return False
        self.state.hashed(job.id, job.size, job.sha256)
        original = self.state.original_of(job.id, job.sha256)
        if original is None:
            return True
        reason = f"duplicate of {original}: the same content (sha256) was already processed"
        self._conclude(job, "duplicate", reason=reason, rule=None, result=None, duplicate_of=original)
        return False

    def _finish(self, fut: Future) -> None:
        job = self.dispatch.take(fut)
        try:
            result = fut.result()
        except BrokenProcessPool:
            self._pool_broken(job)
            return
        except JobDeferred as exc:  # the cluster went away: the job stays in work/ and runs again
            self.dispatch.defer(job, str(exc))
            return
        except OSError as exc:
            if exc.errno == errno.ENAMETOOLONG:  # this file's names, not the out dir: it goes to error/
                self._conclude(job, "failed", reason="a name derived from the file name is too long for the file system",
                               rule=None, result=None, error=type(exc).__name__)
                return
            raise WatchError(f"cannot write the outputs of {job.stored} under {self.out}: {exc.strerror or exc}; "
                             "the input stays in the work area and is scrubbed again at the next start", 1) from None
        except Exception as exc:  # noqa: BLE001 - a scrubber bug: the input goes to error/
            self._conclude(job, "failed", reason=f"the scrubber failed ({type(exc).__name__}); please report it",
                           rule=None, result=None, error=type(exc).__name__)
            return
        if self._changed(job, result):
            return
        self._conclude(job, result["status"], reason=result["reason"], rule=result["rule"], result=result)

    def _changed(self, job: Job, result: dict) -> bool:
        """Did the stored input change while it was scrubbed (a writer still at it)? Then its outputs
        are withdrawn and it is scrubbed again once it has settled in the work area."""
        try:
            now, size, st = digest_regular(job.path)
        except OSError:
            now, size, st = None, 0, None
        scrubbed = result.get("sha256") or job.sha256
        if now == job.sha256 and scrubbed == job.sha256 and not result.get("changed"):
            return False
        for folder, name in result["outputs"].items():
            (self.out / folder / name).unlink(missing_ok=True)
        job.changes += 1
        log.warning("file changed while it was scrubbed", file=job.stored, job=job.id, attempts=job.changes)
        if st is None or job.changes >= MAX_CHANGES:
            self._conclude(job, "failed", reason="the file kept changing while it was scrubbed (a writer still "
                           "writing it?); not scrubbed", rule=None, result=None)
            return True
        self.settling[job.id] = (job, st.st_size, st.st_mtime_ns, time.monotonic())
        return True

    def _check_settling(self) -> None:
        """Queue again each changed input whose size and time have been stable for --settle."""
        now = time.monotonic()
        for job_id in list(self.settling):
            job, size, mtime, since = self.settling[job_id]
            try:
                st = os.lstat(job.path)
            except OSError:
                st = None
            if st is None or (st.st_size, st.st_mtime_ns) != (size, mtime):
                if st is None:
                    del self.settling[job_id]
                    job.refused = ("failed", None, "the input disappeared from the work area")
                    self._prepare(job)
                else:
                    self.settling[job_id] = (job, st.st_size, st.st_mtime_ns, now)
                continue
            if now - since >= self.settings.settle:
                del self.settling[job_id]
                self.dispatch.queue.append(job)

    def _pool_broken(self, job: Job) -> None:
        self.dispatch.drop_pool()
        if self.stopping:  # e.g. SIGTERM to the whole process group: the job stays in work/ for next start
            log.info("left in the work area for the next start", file=job.stored, job=job.id)
        elif job.exclusive:
            self._conclude(job, "failed", reason="the scrubber process died while scrubbing it (alone)",
                           rule=None, result=None, error="BrokenProcessPool")
        else:  # one of the jobs in flight killed the worker: run each again alone to find which
            log.warning("a worker process died; scrubbing its files again one at a time", file=job.stored, job=job.id)
            self.dispatch.retry_alone(job)

    # -- concluding
    def _conclude(self, job: Job, outcome: str, *, reason: str | None, rule: str | None, result: dict | None,
                  duplicate_of: str | None = None, error: str | None = None) -> None:
        warnings: list[str] = []
        seen = []
        if result is not None:
            seen = self.state.interchanges(job.id, [tuple(p) for p in result["interchanges"]])
            for sender, control, previous in seen:
                warnings.append(
                    f"interchange control number {control} from sender {sender} was already seen in {previous}")
        fields = {"outcome": outcome, "reason": reason, "rule": rule, "warnings": warnings,
                  "duplicate_of": duplicate_of}
        if result is not None:
            fields.update(claims=result["claims"], accepted=result["accepted"], rejected=result["rejected"],
                          duration=round(result["duration"], 3))
        self.state.finished(job.id, **fields)
        to_error = outcome in ("unusable", "failed", "duplicate")
        folder = "error" if to_error else "archive"
        if to_error:
            report = None
            if result is not None and "reports" in result["outputs"]:
                report = f"reports/{result['outputs']['reports']}"
            self.inbox.quarantine(job, {
                "file": job.stored,
                "dropped_as": job.dropped_as,
                "sha256": job.sha256,
                "bytes": job.size,
                "outcome": outcome,
                "rule": rule,
                "reason": reason,
                "duplicate_of": duplicate_of,
                "report": report,
                "warnings": warnings,
                "time": utcnow(),
            })
        self.inbox.file_away(job, folder)
        self.state.moved(job.id, f"{folder}/{job.stored}")
        self.inbox.done(job)
        self.processed += 1
        self._log_outcome(job, outcome, rule, result, duplicate_of, error)
        for sender, control, previous in seen:
            log.warning("interchange control number seen before", file=job.stored, sender=sender, control=control,
                        previous=previous)

    def _log_outcome(self, job, outcome, rule, result, duplicate_of, error) -> None:
        common = {"file": job.stored, "outcome": outcome}
        if job.sha256:
            common["sha256"] = job.sha256
        if job.dropped_as != job.stored:
            common["dropped_as"] = job.dropped_as
        counts = {"claims": 0, "accepted": 0, "rejected": 0, "duration": 0.0}
        if result is not None:
            counts = {k: result[k] for k in ("claims", "accepted", "rejected", "duration")}
        if outcome in ("clean", "rejections"):
            log.info("file scrubbed", **common, **counts)
        elif outcome == "unusable":
            log.warning("file unusable", **common, **counts, rule=rule,
                        reason=f"unusable:{rule}" if rule else "unusable")
        elif outcome == "duplicate":
            log.warning("file duplicate", **common, **counts, duplicate_of=duplicate_of)
        else:
            log.error("file failed", **common, **counts, error=error or "unknown")


def run_watch(settings: WatchSettings, config: Config, json_lines: bool = True) -> int:
    return Watcher(settings, config, json_lines=json_lines).run()
