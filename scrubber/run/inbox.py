"""The drop folder: finding the files dropped into INBOX, taking each once it is stable, claiming
it into the work area, and filing it away at the end (into ``archive/``, or quarantined into
``error/`` beside its reason file).

Finding files: watchdog events wake the loop; a periodic rescan of INBOX is the safety net for
missed events. Names starting with ``.`` and ending in ``.tmp`` or ``.part`` are never taken. A
file is taken once its size and modification time have been stable for ``settle`` seconds, or at
once when it arrived by a rename from such a temporary name (the writer's "I am done").

Claiming: ``mkdir OUT/work/JOB``, ``rename INBOX/NAME -> OUT/work/JOB/NAME`` (atomic on one
filesystem; across filesystems: copy, fsync, rename, then unlink the original). When a name is
already taken in OUT (the same file name dropped again with other content), the input is stored
as ``NAME-2.EXT`` (``-3`` ...) and its outputs follow that name.
"""

from __future__ import annotations

import errno
import json
import os
import queue
import shutil
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from scrubber.atomic import AtomicFile, write_text_atomic
from scrubber.logs import get_logger
from scrubber.run.jobstore import Job
from scrubber.run.outdir import LOGGER, fsync_dir, fsync_file, output_names
from scrubber.report.names import output_stem

TEMP_SUFFIXES = (".tmp", ".part")
REASON_SCHEMA = "x12-scrubber/watch-reason@1"

log = get_logger(LOGGER)


def ignored(name: str) -> bool:
    """Names the watcher never takes: dotfiles and the temporary names of writers."""
    return name.startswith(".") or name.lower().endswith(TEMP_SUFFIXES)


@dataclass
class Candidate:
    """A file seen in INBOX, not yet stable."""

    size: int
    mtime_ns: int
    since: float  # monotonic time the (size, mtime) was first seen


class Inbox:
    """INBOX as the watcher sees it: the files seen (``candidates``), those stable enough to take
    (``ready``, in order), and the names the claimed inputs hold under OUT."""

    def __init__(self, inbox: Path, out: Path, settle: float, once: bool, wake: threading.Event):
        # absolute, so that the paths of file events compare with it
        self.path = Path(os.path.abspath(inbox))
        self.out = Path(os.path.abspath(out))
        self.settle = settle
        self.once = once
        self.wake = wake  # set on every file event
        self.events: queue.SimpleQueue = queue.SimpleQueue()
        self.candidates: dict[str, Candidate] = {}
        self.ready: deque[str] = deque()
        self.ready_set: set[str] = set()
        self.active_stems: set[str] = set()  # output stems of the inputs in the work area
        self.observer = None
        self.same_fs = True
        self._once_names: set[str] | None = None
        self._counter = 0

    @property
    def pending(self) -> bool:
        """Files seen and not yet claimed."""
        return bool(self.candidates or self.ready)

    def check_filesystems(self) -> None:
        """Claims are renames when INBOX and OUT share a filesystem, else copies."""
        self.same_fs = os.stat(self.path).st_dev == os.stat(self.out / "work").st_dev
        if not self.same_fs:
            log.warning("inbox and out dir are on different filesystems: inputs are copied, not renamed",
                        inbox=str(self.path), out_dir=str(self.out))

    # -- finding files
    def start_observer(self) -> None:
        from watchdog.events import FileSystemEventHandler
        from watchdog.observers import Observer

        inbox = self

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event) -> None:
                if event.is_directory or event.event_type in ("opened", "closed_no_write", "deleted"):
                    return
                inbox.events.put((event.event_type, event.src_path, getattr(event, "dest_path", "") or ""))
                inbox.wake.set()

        self.observer = Observer()
        self.observer.schedule(Handler(), str(self.path), recursive=False)
        self.observer.daemon = True
        self.observer.start()

    def stop_observer(self) -> None:
        if self.observer is not None:
            self.observer.stop()
            self.observer.join(timeout=5)

    def drain_events(self) -> bool:
        """Take in the file events since the last call; whether there were any."""
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
                if dest_path is not None and dest_path.parent == self.path:
                    from_temp = src_path.parent == self.path and ignored(src_path.name)
                    self.observe(dest_path.name, renamed_from_temp=from_temp)
            elif src_path.parent == self.path:
                self.observe(src_path.name)

    def scan(self, initial: bool = False) -> None:
        """Look at every file in INBOX (with ``once``, the first scan fixes the files to take)."""
        try:
            names = [e.name for e in os.scandir(self.path)]
        except OSError as exc:
            log.error("cannot read the inbox", inbox=str(self.path), error=type(exc).__name__)
            return
        if initial and self.once:
            self._once_names = {n for n in names if not ignored(n)}
        for name in names:
            self.observe(name)

    def observe(self, name: str, renamed_from_temp: bool = False) -> None:
        if ignored(name) or name in self.ready_set:
            return
        if self._once_names is not None and name not in self._once_names:
            return
        try:
            st = os.lstat(self.path / name)
        except FileNotFoundError:
            self.candidates.pop(name, None)
            return
        if not (st.st_mode & 0o170000 == 0o100000):  # regular files only (no folders, links, fifos)
            return
        cand = self.candidates.get(name)
        if cand is None or (cand.size, cand.mtime_ns) != (st.st_size, st.st_mtime_ns):
            self.candidates[name] = Candidate(st.st_size, st.st_mtime_ns, time.monotonic())
        if renamed_from_temp:
            self.make_ready(name)

    def check_candidates(self) -> None:
        """Make ready every file whose size and time have not changed for ``settle`` seconds."""
        now = time.monotonic()
        wall = time.time()
        for name in list(self.candidates):
            cand = self.candidates[name]
            try:
                st = os.lstat(self.path / name)
            except FileNotFoundError:
                del self.candidates[name]
                continue
            if (cand.size, cand.mtime_ns) != (st.st_size, st.st_mtime_ns):
                self.candidates[name] = Candidate(st.st_size, st.st_mtime_ns, now)
                continue
            quiet = max(now - cand.since, wall - st.st_mtime_ns / 1e9 if st.st_mtime_ns / 1e9 <= wall else 0)
            if quiet >= self.settle:
                self.make_ready(name)

    def make_ready(self, name: str) -> None:
        self.candidates.pop(name, None)
        if name not in self.ready_set:
            self.ready.append(name)
            self.ready_set.add(name)

    def next_ready(self) -> str:
        """The oldest ready name (there must be one)."""
        name = self.ready.popleft()
        self.ready_set.discard(name)
        return name

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

    def claim(self, name: str, as_of: str) -> Job | None:
        """Move INBOX/NAME into a work folder of its own; None when it is gone (or cannot be moved)."""
        src = self.path / name
        if not src.exists():
            return None
        stored = self._stored_name(name)
        job_id = self._job_id()
        job_dir = self.out / "work" / job_id
        job_dir.mkdir()
        dst = job_dir / stored
        try:
            if self.same_fs:
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
            self.same_fs = False
            self._copy_claim(src, dst)
        fsync_dir(job_dir)
        fsync_dir(self.out / "work")
        self.hold(stored)
        return Job(job_id, job_dir, stored, name, as_of)

    @staticmethod
    def _copy_claim(src: Path, dst: Path) -> None:
        copy = AtomicFile(dst, "wb", mode=None)
        with copy as out, open(src, "rb") as fh:
            shutil.copyfileobj(fh, out)
            out.flush()
            shutil.copystat(src, copy.tmp)  # as shutil.copy2 does: the input's mode and times
        fsync_dir(dst.parent)
        os.unlink(src)

    def hold(self, stored: str) -> None:
        """The output names of ``stored`` are taken while it is in the work area."""
        self.active_stems.add(output_stem(stored))

    # -- filing away
    def quarantine(self, job: Job, doc: dict) -> None:
        """Write ``error/NAME.reason.json`` (``doc`` with the schema), before the input follows it."""
        write_text_atomic(self.out / "error" / f"{job.stored}.reason.json",
                          json.dumps({"schema": REASON_SCHEMA, **doc}, indent=2) + "\n", mode=None)

    def file_away(self, job: Job, folder: str) -> None:
        """Move the input into ``archive/`` or ``error/``."""
        if job.path.exists():
            os.replace(job.path, self.out / folder / job.stored)
        fsync_dir(self.out / folder)

    def done(self, job: Job) -> None:
        """Remove the job's work folder; its output names are free again."""
        shutil.rmtree(job.dir, ignore_errors=True)
        self.active_stems.discard(output_stem(job.stored))
