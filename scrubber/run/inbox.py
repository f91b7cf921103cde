"""The drop folder: finding the files dropped into INBOX, taking each once it is stable, claiming
it into the work area, and filing it away at the end (into ``archive/``, or quarantined into
``error/`` beside its reason file).

Finding files: watchdog events wake the loop; a periodic rescan of INBOX is the safety net for
missed events. Names starting with ``.`` and ending in ``.tmp`` or ``.part`` are never taken. A
file is taken once its size and modification time have been stable for ``settle`` seconds, or at
once when it arrived by a rename from such a temporary name (the writer's "I am done").

Claiming: the file is opened once (``O_NOFOLLOW | O_NONBLOCK``: a symbolic link is not followed,
a FIFO or device does not block) and checked on that descriptor: a regular file, the size and
time it settled with, no other process holding it open for writing (a read lease, where the
kernel grants one). Then ``mkdir OUT/work/JOB``, ``rename INBOX/NAME -> OUT/work/JOB/NAME`` (atomic
on one filesystem; across filesystems: a copy made from the descriptor, fsynced, renamed, then the
original unlinked), and the entry moved is checked to be the very file opened. Whatever is not a
regular file is never opened for reading nor moved: it stays in INBOX, said once in the log. When
a name is already taken in OUT (the same file name dropped again with other content), the input is
stored as ``NAME-2.EXT`` (``-3`` ...) and its outputs follow that name. A name too long for the
names derived from it (``NAME.report.json``, ``NAME.EXT.reason.json`` ...) is stored under a
shortened name and goes to ``error/`` unscrubbed, with the reason.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import queue
import shutil
import signal
import stat
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from scrubber.atomic import AtomicFile, fit_name, name_bytes, name_max, write_text_atomic
from scrubber.logs import get_logger
from scrubber.run.jobstore import Job
from scrubber.run.outdir import LOGGER, OUTPUTS, fsync_dir, fsync_file, output_names
from scrubber.report.names import output_stem

TEMP_SUFFIXES = (".tmp", ".part")
REASON_SCHEMA = "x12-scrubber/watch-reason@1"
REASON_SUFFIX = ".reason.json"
NAME_MARGIN = 8  # bytes kept free in a stored name for a -N suffix
SHORT_NAME = 200  # bytes: the shortened name of an input whose name is too long
OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
_F_SETLEASE = getattr(fcntl, "F_SETLEASE", None)

log = get_logger(LOGGER)


class NotRegular(OSError):
    """The entry is not a regular file (a symbolic link, FIFO, socket, device or folder)."""

    def __init__(self, kind: str):
        super().__init__(errno.EINVAL, f"not a regular file ({kind})")
        self.kind = kind


def kind_of(mode: int) -> str:
    """What a file mode is, in one word: ``symlink``, ``fifo``, ``socket``, ``device``, ``folder``."""
    if stat.S_ISLNK(mode):
        return "symlink"
    if stat.S_ISFIFO(mode):
        return "fifo"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    if stat.S_ISDIR(mode):
        return "folder"
    return "regular" if stat.S_ISREG(mode) else "other"


def open_regular(path: Path) -> tuple[int, os.stat_result]:
    """Open ``path`` for reading only if it is a regular file, without following a link or blocking
    on a FIFO or device; the descriptor and its ``fstat``. Raises :class:`NotRegular`, or the
    OSError of the open (ELOOP, a link, becomes NotRegular)."""
    try:
        fd = os.open(path, OPEN_FLAGS)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise NotRegular("symlink") from None
        raise
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise NotRegular(kind_of(st.st_mode))
    except BaseException:
        os.close(fd)
        raise
    return fd, st


def digest_regular(path: Path) -> tuple[str, int, os.stat_result]:
    """sha256 and size of the regular file at ``path`` (never a link, FIFO or device), and its stat."""
    fd, st = open_regular(path)
    h = hashlib.sha256()
    size = 0
    try:
        while chunk := os.read(fd, 1 << 20):
            h.update(chunk)
            size += len(chunk)
    finally:
        os.close(fd)
    return h.hexdigest(), size, st


def written_elsewhere(fd: int) -> bool | None:
    """Does another process hold the file of ``fd`` (opened read-only) open for writing? Asked with
    a read lease, which the kernel refuses while anyone has the file open for writing; None when it
    cannot tell (not Linux, not the file's owner without CAP_LEASE, a file system without leases,
    or SIGIO not ignored: a lease broken while held would send it)."""
    if _F_SETLEASE is None or signal.getsignal(signal.SIGIO) != signal.SIG_IGN:
        return None
    try:
        fcntl.fcntl(fd, _F_SETLEASE, fcntl.F_RDLCK)
    except OSError as exc:
        return True if exc.errno in (errno.EAGAIN, errno.EBUSY) else None
    try:
        fcntl.fcntl(fd, _F_SETLEASE, fcntl.F_UNLCK)
    except OSError:
        pass
    return False


def ignore_sigio() -> None:
    """Let :func:`written_elsewhere` take its leases (main thread only; a no-op elsewhere)."""
    try:
        signal.signal(signal.SIGIO, signal.SIG_IGN)
    except (ValueError, OSError, AttributeError):
        pass


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
        self.settled: dict[str, tuple[int, int]] = {}  # ready name -> (size, mtime_ns) it settled with
        self.passed: dict[str, tuple] = {}  # names not taken, until their file changes (said once)
        self.busy: dict[str, tuple] = {}  # names still open for writing when they settled (said once)
        self.observer = None
        self.same_fs = True
        self._once_names: set[str] | None = None
        self._counter = 0
        self.name_max = 255

    @property
    def pending(self) -> bool:
        """Files seen and not yet claimed."""
        return bool(self.candidates or self.ready)

    def check_filesystems(self) -> None:
        """Claims are renames when INBOX and OUT share a filesystem, else copies."""
        self.same_fs = os.stat(self.path).st_dev == os.stat(self.out / "work").st_dev
        self.name_max = min(name_max(self.out / folder) for folder in ("error", "reports", "clean", "rejected"))
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
            self.observer = None

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
        except OSError:  # gone (or a name the file system refuses)
            self.candidates.pop(name, None)
            return
        if not stat.S_ISREG(st.st_mode):  # regular files only (no folders, links, fifos)
            if name in self.candidates:  # a file seen settling was replaced: said once
                self.pass_over(name, st, "not a regular file: left in the inbox", reason=kind_of(st.st_mode))
            return
        if name in self.passed:
            if self.passed[name] == _key(st):
                return
            del self.passed[name]
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
            except OSError:
                del self.candidates[name]
                continue
            if not stat.S_ISREG(st.st_mode):
                self.pass_over(name, st, "not a regular file: left in the inbox", reason=kind_of(st.st_mode))
                continue
            if (cand.size, cand.mtime_ns) != (st.st_size, st.st_mtime_ns):
                self.candidates[name] = Candidate(st.st_size, st.st_mtime_ns, now)
                continue
            quiet = max(now - cand.since, wall - st.st_mtime_ns / 1e9 if st.st_mtime_ns / 1e9 <= wall else 0)
            if quiet >= self.settle:
                self.make_ready(name)

    def make_ready(self, name: str) -> None:
        cand = self.candidates.pop(name, None)
        if cand is not None:
            self.settled[name] = (cand.size, cand.mtime_ns)
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
        paths = [self.out / "archive" / stored, error / stored, error / f"{stored}{REASON_SUFFIX}"]
        paths += [self.out / folder / fname for folder, fname in output_names(stored)]
        return not any(os.path.lexists(p) for p in paths)

    def fits(self, name: str) -> bool:
        """Do the names derived from a stored input ``name`` fit in a file name (with room for -N)?"""
        longest = max(name_bytes(name) + len(REASON_SUFFIX),
                      max(name_bytes(f"{output_stem(name)}.{suffix}") for suffix, _ in OUTPUTS))
        return longest + NAME_MARGIN <= self.name_max

    def too_long(self, name: str) -> str | None:
        """Why an input dropped as ``name`` is not scrubbed (its name is too long), or None."""
        if self.fits(name):
            return None
        ext = len(name) - len(output_stem(name))
        most = min(self.name_max - len(REASON_SUFFIX), self.name_max - len(".rejected.837") + ext) - NAME_MARGIN
        return (f"the file name is {name_bytes(name)} bytes long: the names of its outputs would pass the "
                f"{self.name_max}-byte limit of a file name; not scrubbed (rename it to at most {most} bytes "
                "and drop it again)")

    def short_name(self, name: str) -> str:
        """A name for an input whose own name is too long: cut, with a digest of the whole name."""
        stem = output_stem(name)
        ext = fit_name(name[len(stem):], 16)
        tag = "~" + hashlib.sha256(os.fsencode(name)).hexdigest()[:8]
        return fit_name(stem, SHORT_NAME - name_bytes(tag) - name_bytes(ext)) + tag + ext

    def pass_over(self, name: str, st: os.stat_result | None, event: str, **fields) -> None:
        """Leave ``name`` in INBOX: said once in the log, until its file changes."""
        self.candidates.pop(name, None)
        if st is not None:
            self.passed[name] = _key(st)
        log.warning(event, file=name, **fields)

    def claim(self, name: str, as_of: str) -> Job | None:
        """Move INBOX/NAME into a work folder of its own; None when it is not taken now (gone, not
        a regular file, changed since it settled, still open for writing, or cannot be moved)."""
        src = self.path / name
        settled = self.settled.pop(name, None)
        fd = None
        try:
            try:
                fd, st = open_regular(src)
            except NotRegular as exc:
                self.pass_over(name, _lstat(src), "not a regular file: left in the inbox", reason=exc.kind)
                return None
            except FileNotFoundError:
                return None
            except OSError as exc:
                if exc.errno not in (errno.EACCES, errno.EPERM):
                    log.error("cannot open a file", file=name, error=type(exc).__name__)
                    return None
                st = _lstat(src)  # unreadable: claimed all the same, to go to error/ with its reason
                if st is None or not stat.S_ISREG(st.st_mode):
                    return None
            if settled is not None and settled != (st.st_size, st.st_mtime_ns):
                self.observe(name)  # it changed after it settled: it settles again
                return None
            if fd is not None and written_elsewhere(fd):  # a writer that paused longer than --settle
                self.candidates[name] = Candidate(st.st_size, st.st_mtime_ns, time.monotonic())
                if self.busy.get(name) != _key(st):
                    log.info("still open for writing: waiting", file=name)
                self.busy[name] = _key(st)
                return None
            self.busy.pop(name, None)
            refused = None
            stored_as = name
            reason = self.too_long(name)
            if reason is not None:
                stored_as = self.short_name(name)
                refused = ("failed", None, reason)
            stored = self._stored_name(stored_as)
            job_id = self._job_id()
            job_dir = self.out / "work" / job_id
            job_dir.mkdir()
            dst = job_dir / stored
            copied = not self.same_fs
            try:
                if self.same_fs:
                    os.rename(src, dst)
                else:
                    self._copy_claim(src, dst, fd, st)
            except FileNotFoundError:  # taken by someone else, or deleted meanwhile
                shutil.rmtree(job_dir, ignore_errors=True)
                return None
            except OSError as exc:
                if exc.errno != errno.EXDEV:
                    shutil.rmtree(job_dir, ignore_errors=True)
                    log.error("cannot claim a file", file=name, error=type(exc).__name__)
                    return None
                self.same_fs, copied = False, True
                try:
                    self._copy_claim(src, dst, fd, st)
                except OSError as exc2:
                    shutil.rmtree(job_dir, ignore_errors=True)
                    self.pass_over(name, st, "cannot copy a file from the inbox", error=type(exc2).__name__)
                    return None
            moved = _lstat(dst)
            if moved is not None and copied and stat.S_ISREG(moved.st_mode):
                st = moved  # the copy made from the descriptor opened
            elif moved is None or not os.path.samestat(moved, st):  # swapped between the open and the rename
                what = kind_of(moved.st_mode) if moved is not None else "nothing"
                refused = ("failed", None, f"it was replaced (by a {what}) while it was being claimed; not scrubbed")
            fsync_dir(job_dir)
            fsync_dir(self.out / "work")
            self.hold(stored)
            job = Job(job_id, job_dir, stored, name, as_of)
            job.refused = refused
            job.identity = (st.st_dev, st.st_ino)
            return job
        finally:
            if fd is not None:
                os.close(fd)

    @staticmethod
    def _copy_claim(src: Path, dst: Path, fd: int | None, st: os.stat_result) -> None:
        """Across file systems: a copy made from the descriptor opened (never a new open of the
        name), fsynced and put in place, then the original unlinked if it is still that file."""
        if fd is None:
            raise PermissionError(errno.EACCES, "cannot read it")
        copy = AtomicFile(dst, "wb", mode=None)
        with copy as out:
            os.lseek(fd, 0, os.SEEK_SET)
            while chunk := os.read(fd, 1 << 20):
                out.write(chunk)
            out.flush()
            os.chmod(copy.tmp, stat.S_IMODE(st.st_mode))
            os.utime(copy.tmp, ns=(st.st_atime_ns, st.st_mtime_ns))
        fsync_dir(dst.parent)
        now = _lstat(src)
        if now is not None and os.path.samestat(now, st):
            os.unlink(src)

    def hold(self, stored: str) -> None:
        """The output names of ``stored`` are taken while it is in the work area."""
        self.active_stems.add(output_stem(stored))

    # -- filing away
    def quarantine(self, job: Job, doc: dict) -> None:
        """Write ``error/NAME.reason.json`` (``doc`` with the schema), before the input follows it."""
        write_text_atomic(self.out / "error" / f"{job.stored}{REASON_SUFFIX}",
                          json.dumps({"schema": REASON_SCHEMA, **doc}, indent=2) + "\n", mode=None)

    def file_away(self, job: Job, folder: str) -> None:
        """Move the input into ``archive/`` or ``error/``."""
        if os.path.lexists(job.path):  # (a link or FIFO is moved as it is, never followed)
            os.replace(job.path, self.out / folder / job.stored)
        fsync_dir(self.out / folder)

    def done(self, job: Job) -> None:
        """Remove the job's work folder; its output names are free again."""
        shutil.rmtree(job.dir, ignore_errors=True)
        self.active_stems.discard(output_stem(job.stored))


def _key(st: os.stat_result) -> tuple:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_mode)


def _lstat(path: Path) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except OSError:
        return None
