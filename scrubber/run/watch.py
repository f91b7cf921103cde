"""The watched drop folder: ``scrubber watch INBOX --out-dir OUT``.

An upstream system drops 837 files into INBOX; each one is scrubbed and its outputs land in
folders under OUT that downstream systems read::

    OUT/clean/     NAME.clean.837      accepted claims (absent when none)
    OUT/rejected/  NAME.rejected.837   rejected claims (absent when none)
    OUT/reports/   NAME.report.json    the contract's report, for every scrubbed input
    OUT/archive/   NAME.EXT            the input, once its outputs are in place
    OUT/error/     NAME.EXT            an input that could not be scrubbed (unusable, duplicate,
                   NAME.EXT.reason.json  the scrubber failed) beside why (no patient data)
    OUT/work/      JOB/NAME.EXT        inputs being scrubbed (claimed by atomic rename)
    OUT/state.sqlite                   one row per input: name, size, sha256, ISA13s, times, outcome
    OUT/watch.lock                     held while a watcher runs (one watcher per OUT)

Finding files: watchdog events wake the loop; a periodic rescan of INBOX is the safety net for
missed events. Names starting with ``.`` and ending in ``.tmp`` or ``.part`` are never taken. A
file is taken once its size and modification time have been stable for ``settle`` seconds, or at
once when it arrived by a rename from such a temporary name (the writer's "I am done").

The steps for one input, each idempotent, in this order (a kill -9 between any two loses nothing):

1. claim: ``mkdir OUT/work/JOB``, ``rename INBOX/NAME -> OUT/work/JOB/NAME`` (atomic on one
   filesystem; across filesystems: copy, fsync, rename, then unlink the original);
2. hash; a content already seen (same sha256, an earlier input) is not scrubbed again: it goes to
   ``OUT/error/`` with the reason "duplicate of ...";
3. a worker process scrubs it into ``OUT/work/JOB/.stageN/`` (``scrub_file`` writes temp names
   and renames), then fsyncs and renames each output into ``clean/``, ``rejected/``, ``reports/``
   (the report last); an output of an earlier attempt that this one did not produce is removed;
4. the parent records the outcome in the state database (only the parent writes it);
5. the input is renamed into ``archive/`` (or ``error/``, after its reason file), and the job
   folder removed.

On start, every job folder left in ``OUT/work/`` is processed again from step 2 (the same name,
so the same output names); a job that was interrupted 3 times goes to ``error/``. Outputs only
ever appear under their final names by rename, so nothing half-written is visible there.

The output names of an input are those of the contract (``NAME.report.json`` ...); when a name is
already taken in OUT (the same file name dropped again with other content), the input is stored
as ``NAME-2.EXT`` (``-3`` ...) and its outputs follow that name.
"""

from __future__ import annotations

import errno
import fcntl
import json
import multiprocessing
import os
import queue
import shutil
import signal
import sqlite3
import sys
import threading
import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor
from concurrent.futures import wait as wait_futures
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

from scrubber.atomic import AtomicFile, write_text_atomic
from scrubber.config import Config
from scrubber.errors import ScrubberError
from scrubber.logs import configure_logging, get_logger
from scrubber.report.names import output_stem
from scrubber.report.sink import Sink
from scrubber.run.pipeline import file_digest, scrub_file
from scrubber.x12.reader import detect_delimiters

TEMP_SUFFIXES = (".tmp", ".part")
FOLDERS = ("clean", "rejected", "reports", "archive", "error", "work")
STATE_FILE = "state.sqlite"
LOCK_FILE = "watch.lock"
MAX_ATTEMPTS = 3
REASON_SCHEMA = "x12-scrubber/watch-reason@1"
SETTINGS_KEYS = {"inbox", "out_dir", "settle", "rescan", "workers"}
DEFAULT_SETTLE = 5.0
DEFAULT_RESCAN = 30.0
OUTCOMES = ("processing", "clean", "rejections", "unusable", "failed", "duplicate")

log = get_logger("scrubber.run.watch")


class WatchError(ScrubberError):
    """The watcher cannot start (exit code 2) or must stop (1): one line for the operator."""

    def __init__(self, message: str, code: int = 2):
        super().__init__(message, code)

    @property
    def code(self) -> int:
        """The exit status (the same as ``exit_code``)."""
        return self.exit_code


def ignored(name: str) -> bool:
    """Names the watcher never takes: dotfiles and the temporary names of writers."""
    return name.startswith(".") or name.lower().endswith(TEMP_SUFFIXES)


def _utcnow() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


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


# --- state ------------------------------------------------------------------------------------

_SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    job TEXT NOT NULL UNIQUE,          -- the work folder's name
    name TEXT NOT NULL,                -- as dropped into the inbox
    stored_name TEXT NOT NULL,         -- in archive/ or error/ (NAME-2.EXT when NAME was taken)
    size INTEGER,
    sha256 TEXT,
    as_of TEXT,
    claimed_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    outcome TEXT NOT NULL DEFAULT 'processing',  -- processing clean rejections unusable failed duplicate
    claims INTEGER,
    accepted INTEGER,
    rejected INTEGER,
    rule TEXT,                         -- the EN rule of an unusable input
    reason TEXT,                       -- one line, never patient data
    duplicate_of TEXT,
    warnings TEXT,                     -- JSON list of sentences (e.g. ISA13 seen before)
    duration REAL,
    location TEXT                      -- archive/NAME or error/NAME once moved
);
CREATE INDEX IF NOT EXISTS files_sha256 ON files (sha256);
CREATE INDEX IF NOT EXISTS files_finished ON files (finished_at);
CREATE TABLE IF NOT EXISTS interchanges (
    job TEXT NOT NULL,
    sender TEXT NOT NULL,              -- ISA06
    control TEXT NOT NULL,             -- ISA13
    PRIMARY KEY (job, sender, control)
);
CREATE INDEX IF NOT EXISTS interchanges_control ON interchanges (sender, control);
"""


class State:
    """The SQLite state (WAL). Written by the watcher's parent process only."""

    def __init__(self, path: Path, create: bool = True):
        if not create and not path.is_file():
            raise WatchError(f"no state database at {path}: has `scrubber watch` run with this out dir?")
        self.path = path
        self.db = sqlite3.connect(str(path), timeout=30, isolation_level=None)
        self.db.row_factory = sqlite3.Row
        if create:
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")
            self.db.executescript(_SCHEMA)

    def close(self) -> None:
        self.db.close()

    def row(self, job: str) -> sqlite3.Row | None:
        return self.db.execute("SELECT * FROM files WHERE job = ?", (job,)).fetchone()

    def claimed(self, job: str, name: str, stored: str, as_of: str | None) -> None:
        self.db.execute(
            "INSERT INTO files (job, name, stored_name, as_of, claimed_at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT(job) DO NOTHING",
            (job, name, stored, as_of, _utcnow()),
        )

    def hashed(self, job: str, size: int, sha256: str) -> None:
        self.db.execute("UPDATE files SET size = ?, sha256 = ? WHERE job = ?", (size, sha256, job))

    def original_of(self, job: str, sha256: str) -> str | None:
        """The stored name of an earlier input with the same content (not failed, not a duplicate)."""
        row = self.db.execute(
            "SELECT stored_name FROM files WHERE sha256 = ? AND job != ?"
            " AND seq < (SELECT seq FROM files WHERE job = ?) AND outcome NOT IN ('failed', 'duplicate')"
            " ORDER BY seq LIMIT 1",
            (sha256, job, job),
        ).fetchone()
        return row["stored_name"] if row else None

    def started(self, job: str) -> int:
        self.db.execute(
            "UPDATE files SET attempts = attempts + 1, started_at = ?, outcome = 'processing' WHERE job = ?",
            (_utcnow(), job),
        )
        return self.row(job)["attempts"]

    def interchanges(self, job: str, pairs: list[tuple[str, str]]) -> list[tuple[str, str, str]]:
        """Record this input's (ISA06, ISA13) pairs; return those seen before in another input."""
        seen = []
        with self.db:
            for sender, control in pairs:
                prev = self.db.execute(
                    "SELECT f.stored_name FROM interchanges i JOIN files f ON f.job = i.job"
                    " WHERE i.sender = ? AND i.control = ? AND i.job != ? ORDER BY f.seq LIMIT 1",
                    (sender, control, job),
                ).fetchone()
                if prev:
                    seen.append((sender, control, prev["stored_name"]))
                self.db.execute(
                    "INSERT OR IGNORE INTO interchanges (job, sender, control) VALUES (?, ?, ?)",
                    (job, sender, control),
                )
        return seen

    def finished(self, job: str, **fields) -> None:
        fields.setdefault("finished_at", _utcnow())
        if "warnings" in fields:
            fields["warnings"] = json.dumps(fields["warnings"]) if fields["warnings"] else None
        cols = ", ".join(f"{k} = ?" for k in fields)
        self.db.execute(f"UPDATE files SET {cols} WHERE job = ?", (*fields.values(), job))

    def moved(self, job: str, location: str) -> None:
        self.db.execute("UPDATE files SET location = ? WHERE job = ?", (location, job))


# --- worker side ------------------------------------------------------------------------------

_worker_config: Config | None = None
_engines: dict = {}


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


def _engine(as_of: str):
    from scrubber.check.engine import Engine

    if as_of not in _engines:
        _engines.clear()
        _engines[as_of] = Engine(_worker_config, date.fromisoformat(as_of))
    return _engines[as_of]


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


OUTPUTS = (("clean.837", "clean"), ("rejected.837", "rejected"), ("report.json", "reports"))


def output_names(stored_name: str) -> list[tuple[str, str]]:
    """(folder, file name) of the outputs an input stored as ``stored_name`` can have."""
    stem = output_stem(stored_name)
    return [(folder, f"{stem}.{suffix}") for suffix, folder in OUTPUTS]


def scrub_job(spec: dict) -> dict:
    """Worker: scrub one claimed input into its staging folder, then rename the outputs into place."""
    t0 = time.monotonic()
    job_dir = Path(spec["dir"])
    out = Path(spec["out"])
    src = job_dir / spec["file"]
    for old in job_dir.iterdir():
        if old.name.startswith(".stage") and old.is_dir():
            shutil.rmtree(old, ignore_errors=True)
    staging = job_dir / f".stage{spec['attempt']}"
    staging.mkdir()
    collector = _Interchanges()
    collector.head(src)
    outcome = scrub_file(src, staging, _engine(spec["as_of"]), sinks=[collector])
    stem = output_stem(spec["file"])
    produced = {}
    for suffix, folder in OUTPUTS:  # the report last: its presence says the outputs are complete
        name = f"{stem}.{suffix}"
        made, dst = staging / name, out / folder / name
        if made.exists():
            _fsync_file(made)
            os.replace(made, dst)
            produced[folder] = name
        else:
            dst.unlink(missing_ok=True)  # left by an interrupted earlier attempt of this job
    for folder in ("clean", "rejected", "reports"):
        _fsync_dir(out / folder)
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
        "duration": time.monotonic() - t0,
    }


# --- the watcher (parent) ---------------------------------------------------------------------

@dataclass
class Job:
    id: str
    dir: Path
    stored: str  # the input's name in work/, archive/ or error/
    dropped_as: str
    as_of: str
    sha256: str = ""
    size: int = 0
    exclusive: bool = False  # run alone: it was in flight when a worker process died
    started: float = 0.0

    @property
    def path(self) -> Path:
        return self.dir / self.stored


@dataclass
class _Candidate:
    size: int
    mtime_ns: int
    since: float  # monotonic time the (size, mtime) was first seen
    ready: bool = False


@dataclass
class Watcher:
    settings: WatchSettings
    config: Config
    json_lines: bool = True
    candidates: dict = field(default_factory=dict)
    ready: deque = field(default_factory=deque)
    queue: deque = field(default_factory=deque)
    in_flight: dict = field(default_factory=dict)
    active_stems: set = field(default_factory=set)

    def __post_init__(self) -> None:
        # absolute, so that the paths of file events compare with it
        self.inbox = Path(os.path.abspath(self.settings.inbox))
        self.out = Path(os.path.abspath(self.settings.out_dir))
        self.events: queue.SimpleQueue = queue.SimpleQueue()
        self.wake = threading.Event()
        self.stopping = False
        self.pool: ProcessPoolExecutor | None = None
        self.observer = None
        self.state: State | None = None
        self._lock_fd: int | None = None
        self._counter = 0
        self._once_names: set[str] | None = None
        self._same_fs = True
        self.ready_set: set[str] = set()
        self.processed = 0

    # -- setup and teardown
    def _setup(self) -> None:
        if not self.inbox.is_dir():
            raise WatchError(f"inbox {self.inbox} is not a folder")
        try:
            for name in FOLDERS:
                (self.out / name).mkdir(parents=True, exist_ok=True)
            self._lock_fd = os.open(self.out / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise WatchError(f"cannot create the out dir {self.out}: {exc.strerror or exc}") from None
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
        self._same_fs = os.stat(self.inbox).st_dev == os.stat(self.out / "work").st_dev
        if not self._same_fs:
            log.warning("inbox and out dir are on different filesystems: inputs are copied, not renamed",
                        inbox=str(self.inbox), out_dir=str(self.out))

    def _teardown(self) -> None:
        if self.observer is not None:
            self.observer.stop()
            self.observer.join(timeout=5)
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
        if self.state is not None:
            self.state.close()
        if self._lock_fd is not None:
            os.close(self._lock_fd)

    def _start_observer(self) -> None:
        from watchdog.events import FileSystemEventHandler
        from watchdog.observers import Observer

        watcher = self

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event) -> None:
                if event.is_directory or event.event_type in ("opened", "closed_no_write", "deleted"):
                    return
                watcher.events.put((event.event_type, event.src_path, getattr(event, "dest_path", "") or ""))
                watcher.wake.set()

        self.observer = Observer()
        self.observer.schedule(Handler(), str(self.inbox), recursive=False)
        self.observer.daemon = True
        self.observer.start()

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
        try:
            log.info("watcher started", inbox=str(self.inbox), out_dir=str(self.out), workers=self.settings.workers,
                     settle=self.settings.settle, mode="once" if self.settings.once else "watch")
            self._recover()
            if not self.settings.once:
                self._start_observer()
            self._scan(initial=True)
            self._loop()
            log.info("watcher stopped", files=self.processed)
            return 0
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)
            self._teardown()

    def _loop(self) -> None:
        s = self.settings
        check_every = max(0.05, min(s.settle / 4, 1.0))
        next_check = 0.0
        next_rescan = time.monotonic() + s.rescan
        announced = False
        while True:
            if self.stopping and not announced:
                log.info("stopping after the current files", pending=len(self.in_flight))
                announced = True
            if self.stopping and not self.in_flight:
                return
            now = time.monotonic()
            changed = self._drain_events()
            if not self.stopping and not s.once and now >= next_rescan:
                self._scan()
                next_rescan = now + s.rescan
            if self.candidates and (changed or now >= next_check):
                self._check_candidates()
                next_check = now + check_every
            if not self.stopping:
                self._dispatch()
            if s.once and not (self.candidates or self.ready or self.queue or self.in_flight):
                return
            busy = self.candidates or self.ready or self.queue
            timeout = 0.05 if busy else min(1.0, max(0.05, next_rescan - time.monotonic()))
            if self.in_flight:
                done, _ = wait_futures(list(self.in_flight), timeout=timeout, return_when=FIRST_COMPLETED)
                for fut in done:
                    self._finish_future(fut)
            else:
                self.wake.wait(timeout)
            self.wake.clear()

    # -- finding files
    def _drain_events(self) -> bool:
        changed = False
        while True:
            try:
                kind, src, dest = self.events.get_nowait()
            except queue.Empty:
                return changed
            changed = True
            src_path = Path(os.path.abspath(src))
            if kind == "moved":
                dest_path = Path(os.path.abspath(dest)) if dest else None
                if dest_path is not None and dest_path.parent == self.inbox:
                    from_temp = src_path.parent == self.inbox and ignored(src_path.name)
                    self._observe(dest_path.name, renamed_from_temp=from_temp)
            elif src_path.parent == self.inbox:
                self._observe(src_path.name)

    def _scan(self, initial: bool = False) -> None:
        try:
            names = [e.name for e in os.scandir(self.inbox)]
        except OSError as exc:
            log.error("cannot read the inbox", inbox=str(self.inbox), error=type(exc).__name__)
            return
        if initial and self.settings.once:
            self._once_names = {n for n in names if not ignored(n)}
        for name in names:
            self._observe(name)

    def _observe(self, name: str, renamed_from_temp: bool = False) -> None:
        if ignored(name) or name in self.ready_set:
            return
        if self._once_names is not None and name not in self._once_names:
            return
        try:
            st = os.lstat(self.inbox / name)
        except FileNotFoundError:
            self.candidates.pop(name, None)
            return
        if not (st.st_mode & 0o170000 == 0o100000):  # regular files only (no folders, links, fifos)
            return
        cand = self.candidates.get(name)
        if cand is None or (cand.size, cand.mtime_ns) != (st.st_size, st.st_mtime_ns):
            self.candidates[name] = cand = _Candidate(st.st_size, st.st_mtime_ns, time.monotonic())
        if renamed_from_temp:
            self._make_ready(name)

    def _check_candidates(self) -> None:
        now = time.monotonic()
        wall = time.time()
        for name in list(self.candidates):
            cand = self.candidates[name]
            try:
                st = os.lstat(self.inbox / name)
            except FileNotFoundError:
                del self.candidates[name]
                continue
            if (cand.size, cand.mtime_ns) != (st.st_size, st.st_mtime_ns):
                self.candidates[name] = _Candidate(st.st_size, st.st_mtime_ns, now)
                continue
            quiet = max(now - cand.since, wall - st.st_mtime_ns / 1e9 if st.st_mtime_ns / 1e9 <= wall else 0)
            if quiet >= self.settings.settle:
                self._make_ready(name)

    def _make_ready(self, name: str) -> None:
        self.candidates.pop(name, None)
        if name not in self.ready_set:
            self.ready.append(name)
            self.ready_set.add(name)

    # -- claiming
    def _job_id(self) -> str:
        self._counter += 1
        return f"{time.time_ns():020d}-{os.getpid()}-{self._counter:06d}"

    def _stored_name(self, name: str) -> str:
        base, dot, ext = name.rpartition(".")
        if not base:
            base, dot, ext = name, "", ""
        n = 1
        while True:
            candidate = name if n == 1 else f"{base}-{n}{dot}{ext}"
            if self._name_free(candidate):
                return candidate
            n += 1

    def _name_free(self, stored: str) -> bool:
        if output_stem(stored) in self.active_stems:
            return False
        error = self.out / "error"
        paths = [self.out / "archive" / stored, error / stored, error / f"{stored}.reason.json"]
        paths += [self.out / folder / fname for folder, fname in output_names(stored)]
        return not any(p.exists() for p in paths)

    def _claim(self, name: str) -> Job | None:
        src = self.inbox / name
        if not src.exists():
            return None
        stored = self._stored_name(name)
        job_id = self._job_id()
        job_dir = self.out / "work" / job_id
        job_dir.mkdir()
        dst = job_dir / stored
        try:
            if self._same_fs:
                os.rename(src, dst)
            else:
                self._copy_claim(src, dst)
        except FileNotFoundError:  # taken by someone else, or deleted meanwhile
            shutil.rmtree(job_dir, ignore_errors=True)
            return None
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                shutil.rmtree(job_dir, ignore_errors=True)
                log.error("cannot claim a file", file=name, error=type(exc).__name__)
                return None
            self._same_fs = False
            self._copy_claim(src, dst)
        _fsync_dir(job_dir)
        _fsync_dir(self.out / "work")
        as_of = (self.settings.as_of or date.today()).isoformat()
        self.state.claimed(job_id, name, stored, as_of)
        self.active_stems.add(output_stem(stored))
        return Job(job_id, job_dir, stored, name, as_of)

    @staticmethod
    def _copy_claim(src: Path, dst: Path) -> None:
        copy = AtomicFile(dst, "wb", mode=None)
        with copy as out, open(src, "rb") as fh:
            shutil.copyfileobj(fh, out)
            out.flush()
            shutil.copystat(src, copy.tmp)  # as shutil.copy2 does: the input's mode and times
        _fsync_dir(dst.parent)
        os.unlink(src)

    def _recover(self) -> None:
        """Requeue every job a crash left in the work area; clear what is left of finished ones."""
        work = self.out / "work"
        count = 0
        for job_dir in sorted(work.iterdir()):
            if not job_dir.is_dir():
                continue
            inputs = [p for p in job_dir.iterdir() if not p.name.startswith(".") and p.is_file()]
            row = self.state.row(job_dir.name)
            if not inputs:  # the input already reached archive/ or error/
                if row is not None and row["location"] is None and row["outcome"] != "processing":
                    for folder in ("archive", "error"):
                        if (self.out / folder / row["stored_name"]).exists():
                            self.state.moved(job_dir.name, f"{folder}/{row['stored_name']}")
                shutil.rmtree(job_dir, ignore_errors=True)
                continue
            stored = inputs[0].name
            as_of = (self.settings.as_of or date.today()).isoformat()
            if row is None:
                self.state.claimed(job_dir.name, stored, stored, as_of)
                row = self.state.row(job_dir.name)
            job = Job(job_dir.name, job_dir, stored, row["name"], row["as_of"] or as_of)
            self.active_stems.add(output_stem(stored))
            count += 1
            if row["attempts"] >= MAX_ATTEMPTS:
                job.sha256, job.size = file_digest(job.path)
                reason = f"the watcher was stopped {row['attempts']} times while scrubbing it"
                self._conclude(job, "failed", reason=reason,
                               rule=None, result=None)
                continue
            log.info("recovered from the work area", file=stored, job=job.id, attempts=row["attempts"])
            self.queue.append(job)
        if count:
            log.info("work area recovered", recovered=count)

    # -- running jobs
    def _ensure_pool(self) -> ProcessPoolExecutor:
        if self.pool is None:
            # After a kill -9 the resource tracker (a helper process of multiprocessing) would print a
            # "leaked semaphore" warning, a line that is not JSON, into the log: it cleans them anyway.
            quiet = "ignore::UserWarning:multiprocessing.resource_tracker"
            if quiet not in sys.warnoptions:
                sys.warnoptions.append(quiet)
            self.pool = ProcessPoolExecutor(
                max_workers=self.settings.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_worker,
                initargs=(self.config, self.json_lines, os.getpid()),
            )
        return self.pool

    def _dispatch(self) -> None:
        while len(self.in_flight) < self.settings.workers and not self.stopping:
            if any(j.exclusive for j in self.in_flight.values()):
                return
            if self.queue:
                job = self.queue[0]
                if job.exclusive and self.in_flight:
                    return
                self.queue.popleft()
            elif self.ready:
                name = self.ready.popleft()
                self.ready_set.discard(name)
                job = self._claim(name)
                if job is None:
                    continue
            else:
                return
            if not self._prepare(job):
                continue
            attempt = self.state.started(job.id)
            job.started = time.monotonic()
            spec = {"dir": str(job.dir), "file": job.stored, "out": str(self.out), "as_of": job.as_of,
                    "attempt": attempt}
            try:
                fut = self._ensure_pool().submit(scrub_job, spec)
            except BrokenProcessPool:
                self.pool = None
                fut = self._ensure_pool().submit(scrub_job, spec)
            self.in_flight[fut] = job

    def _prepare(self, job: Job) -> bool:
        """Hash the claimed input; a content seen before is concluded as a duplicate here."""
        job.sha256, job.size = file_digest(job.path)
        self.state.hashed(job.id, job.size, job.sha256)
        original = self.state.original_of(job.id, job.sha256)
        if original is None:
            return True
        reason = f"duplicate of {original}: the same content (sha256) was already processed"
        self._conclude(job, "duplicate", reason=reason,
                       rule=None, result=None, duplicate_of=original)
        return False

    def _finish_future(self, fut: Future) -> None:
        job = self.in_flight.pop(fut)
        try:
            result = fut.result()
        except BrokenProcessPool:
            self._pool_broken(job)
            return
        except OSError as exc:
            raise WatchError(f"cannot write the outputs of {job.stored} under {self.out}: {exc.strerror or exc}; "
                             "the input stays in the work area and is scrubbed again at the next start", 1) from None
        except Exception as exc:  # noqa: BLE001 - a scrubber bug: the input goes to error/
            self._conclude(job, "failed", reason=f"the scrubber failed ({type(exc).__name__}); please report it",
                           rule=None, result=None, error=type(exc).__name__)
            return
        self._conclude(job, result["status"], reason=result["reason"], rule=result["rule"], result=result)

    def _pool_broken(self, job: Job) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)
            self.pool = None
        if self.stopping:  # e.g. SIGTERM to the whole process group: the job stays in work/ for next start
            log.info("left in the work area for the next start", file=job.stored, job=job.id)
        elif job.exclusive:
            self._conclude(job, "failed", reason="the scrubber process died while scrubbing it (alone)",
                           rule=None, result=None, error="BrokenProcessPool")
        else:  # one of the jobs in flight killed the worker: run each again alone to find which
            log.warning("a worker process died; scrubbing its files again one at a time", file=job.stored, job=job.id)
            job.exclusive = True
            self.queue.appendleft(job)

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
            doc = {
                "schema": REASON_SCHEMA,
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
                "time": _utcnow(),
            }
            write_text_atomic(self.out / "error" / f"{job.stored}.reason.json", json.dumps(doc, indent=2) + "\n",
                              mode=None)
        if job.path.exists():
            os.replace(job.path, self.out / folder / job.stored)
        _fsync_dir(self.out / folder)
        self.state.moved(job.id, f"{folder}/{job.stored}")
        shutil.rmtree(job.dir, ignore_errors=True)
        self.active_stems.discard(output_stem(job.stored))
        self.processed += 1
        self._log_outcome(job, outcome, rule, result, duplicate_of, error)
        for sender, control, previous in seen:
            log.warning("interchange control number seen before", file=job.stored, sender=sender, control=control,
                        previous=previous)

    def _log_outcome(self, job, outcome, rule, result, duplicate_of, error) -> None:
        common = {"file": job.stored, "sha256": job.sha256, "outcome": outcome}
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


# --- status -----------------------------------------------------------------------------------

def status_lines(out_dir: Path, last: int = 10) -> list[str]:
    """What the state database of ``out_dir`` says, as lines for a terminal."""
    state = State(Path(out_dir) / STATE_FILE, create=False)
    try:
        db = state.db
        midnight = datetime.now().astimezone().replace(hour=0, minute=0, second=0, microsecond=0)
        since = midnight.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        lines = [f"State: {state.path}"]
        rows = db.execute(
            "SELECT outcome, COUNT(*) n, COALESCE(SUM(claims), 0) c, COALESCE(SUM(accepted), 0) a,"
            " COALESCE(SUM(rejected), 0) r FROM files WHERE finished_at >= ? GROUP BY outcome", (since,)
        ).fetchall()
        by = {r["outcome"]: r for r in rows}
        files = sum(r["n"] for r in rows)
        parts = ", ".join(f"{by[o]['n']} {o}" for o in OUTCOMES if o in by)
        lines.append(f"Today (since {midnight:%Y-%m-%d %H:%M %Z}): {files} files" + (f" ({parts})" if parts else ""))
        lines.append(
            f"Claims today: {sum(r['c'] for r in rows)}, accepted {sum(r['a'] for r in rows)}, "
            f"rejected {sum(r['r'] for r in rows)}"
        )
        total = db.execute(
            "SELECT COUNT(*) n, COALESCE(SUM(accepted), 0) a, COALESCE(SUM(rejected), 0) r FROM files"
            " WHERE outcome != 'processing'"
        ).fetchone()
        lines.append(f"All time: {total['n']} files, claims accepted {total['a']}, rejected {total['r']}")
        work = db.execute("SELECT COUNT(*) n FROM files WHERE outcome = 'processing'").fetchone()["n"]
        lines.append(f"In the work area: {work}")
        last_errors = db.execute(
            "SELECT finished_at, stored_name, outcome, rule, reason FROM files"
            " WHERE outcome IN ('unusable', 'failed', 'duplicate') ORDER BY finished_at DESC, seq DESC LIMIT ?",
            (last,),
        ).fetchall()
        lines.append(f"Last errors ({len(last_errors)}):" if last_errors else "Last errors: none")
        for r in last_errors:
            rule = f" {r['rule']}" if r["rule"] else ""
            lines.append(f"  {r['finished_at']}  error/{r['stored_name']}  {r['outcome']}{rule}: {r['reason']}")
        flagged = db.execute(
            "SELECT finished_at, stored_name, warnings FROM files WHERE warnings IS NOT NULL"
            " ORDER BY finished_at DESC, seq DESC LIMIT ?", (last,)
        ).fetchall()
        if flagged:
            lines.append(f"Last warnings ({len(flagged)}):")
            for r in flagged:
                for w in json.loads(r["warnings"]):
                    lines.append(f"  {r['finished_at']}  {r['stored_name']}: {w}")
        return lines
    finally:
        state.close()

