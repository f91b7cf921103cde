"""Writing a file whole or not at all: a temporary file beside it, flushed to disk, then renamed.

Readers of the target see the old file or the new one, never a part. The temporary file is named
``.NAME.XXXXXXXX.part`` (hidden, unique, and a name the inbox watcher never takes; NAME is cut
short when the whole would pass the file system's limit on a name), is created readable by its
owner only, and is locked (``flock``) by its writer for as long as it exists: on any failure it is
removed and the old file stays; one left by a process that was killed (no lock held) is removed by
:func:`clean_stale` at the next start. Every file the scrubber writes goes through here:
:func:`write_bytes_atomic` / :func:`write_text_atomic` for contents in hand, :class:`AtomicFile`
for writers that stream.

:class:`AllOrNothing` makes the files of one input a unit: if the block raises (one of its files
cannot be written, say), each file it put in place is taken back and the file it replaced
returns; the folder holds the complete new set or the old one.
:class:`OutputError` is a write that failed (a full disk, a read-only or unwritable folder, a file
size limit): one line for the user, exit status 2.
"""

from __future__ import annotations

import contextvars
import errno
import fcntl
import os
import re
import secrets
import shutil
import stat
import time
from pathlib import Path
from typing import IO

from scrubber.errors import ScrubberError

TEMP_SUFFIX = ".part"
NAME_MAX = 255  # bytes in a file name, where the file system does not say
STALE_AFTER = 60.0  # seconds: a temporary folder without its lock file is left alone this long
TEMP_NAME = re.compile(r"\..+\.[0-9a-f]{8}\.part")
TEMP_DIR_PREFIX = ".scrub-"
DIR_LOCK = "lock"

# errno values that say the writing failed (never the reading of an input)
WRITE_ERRNOS = frozenset(e for e in (errno.ENOSPC, getattr(errno, "EDQUOT", None), errno.EROFS, errno.EFBIG)
                         if e is not None)

_group: contextvars.ContextVar[AllOrNothing | None] = contextvars.ContextVar("scrubber_atomic_group", default=None)


class OutputError(ScrubberError, OSError):
    """An output could not be written (one line; exit status 2). Also an :class:`OSError`, with the
    ``errno`` of the failed call, so that code which handles write failures as OS errors still does."""

    def __init__(self, message: str, err: int | None = None, reason: str | None = None):
        ScrubberError.__init__(self, message)
        self.errno = err
        self.strerror = message
        self.reason = reason or message  # the cause alone: "No space left on device (ENOSPC)"

    def __reduce__(self):  # across processes with its errno and reason (a worker's error)
        return (type(self), (str(self), self.errno, self.reason))

    @classmethod
    def of(cls, what: str, exc: BaseException) -> OutputError:
        """``what: cause`` for the failed call ``exc``."""
        reason = describe(exc)
        return cls(f"{what}: {reason}", getattr(exc, "errno", None), reason)

    def __str__(self) -> str:  # the message alone (not OSError's "[Errno N] ...")
        text = str(self.args[0]) if self.args else ""
        return " ".join(part.strip() for part in text.splitlines() if part.strip())


def describe(exc: BaseException) -> str:
    """A short reason for a failed write: ``No space left on device (ENOSPC)``."""
    if isinstance(exc, OutputError):
        return exc.reason
    if isinstance(exc, OSError) and exc.errno:
        code = errno.errorcode.get(exc.errno, str(exc.errno))
        return f"{exc.strerror or os.strerror(exc.errno)} ({code})"
    return type(exc).__name__


def is_write_fault(exc: BaseException) -> bool:
    """Does ``exc`` say that writing failed (a full disk, a read-only file system, a size limit)?"""
    return isinstance(exc, OutputError) or (isinstance(exc, OSError) and exc.errno in WRITE_ERRNOS)


def name_max(folder: str | Path) -> int:
    """The longest file name (in bytes) the file system of ``folder`` takes."""
    try:
        return int(os.pathconf(folder, "PC_NAME_MAX"))
    except (OSError, ValueError, TypeError):
        return NAME_MAX


def name_bytes(name: str) -> int:
    return len(os.fsencode(name))


def fit_name(name: str, limit: int) -> str:
    """``name`` cut (from the end, whole characters) to at most ``limit`` bytes."""
    while name and name_bytes(name) > limit:
        name = name[:-1]
    return name


def _lock(fd: int) -> None:
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


class AtomicFile:
    """A file written under a temporary name and put in place by :meth:`commit`.

    ``open_mode`` is ``"w"`` (text: ``encoding``, ``errors`` and ``newline`` as for :func:`open`)
    or ``"wb"``; ``mode`` is the permission bits the file gets (whatever the umask; None: the
    usual ``0o666`` less the umask, as :func:`open` would make it). The file is
    created on :meth:`open` (folders created), so a writer can make it only when it has something
    to write. As a context manager: opened on entry, committed on a normal exit, discarded when
    the block raises. Opened inside an :class:`AllOrNothing` block, it is taken back if the block
    fails.
    """

    __slots__ = ("path", "open_mode", "mode", "encoding", "errors", "newline", "tmp", "fh", "group")

    def __init__(self, path: str | Path, open_mode: str = "w", mode: int | None = 0o600, encoding: str | None = "utf-8",
                 errors: str | None = None, newline: str | None = None):
        if open_mode not in ("w", "wb"):
            raise ValueError(f"open_mode must be 'w' or 'wb', not {open_mode!r}")
        self.path = Path(path)
        self.open_mode = open_mode
        self.mode = mode
        self.encoding = encoding if open_mode == "w" else None
        self.errors = errors if open_mode == "w" else None
        self.newline = newline if open_mode == "w" else None
        self.tmp: str | None = None
        self.fh: IO | None = None
        self.group: AllOrNothing | None = None

    def open(self) -> IO:
        """Create the temporary file and return it open for writing."""
        if self.fh is not None:
            return self.fh
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = self._create()
        except OSError as exc:
            raise OutputError.of(f"cannot create a file in {self.path.parent}", exc) from None
        try:
            if self.mode is not None:
                os.fchmod(fd, self.mode)  # the bits asked for, whatever the umask
            self.fh = os.fdopen(fd, self.open_mode, encoding=self.encoding, errors=self.errors, newline=self.newline)
        except BaseException:
            os.close(fd)
            self._remove()
            raise
        self.group = _group.get()
        if self.group is not None:
            self.group.opened.append(self)
        return self.fh

    def _temp_name(self) -> str:
        token = f".{secrets.token_hex(4)}{TEMP_SUFFIX}"
        limit = name_max(self.path.parent) - name_bytes(token) - 1
        return f".{fit_name(self.path.name, limit)}{token}"

    def _create(self) -> int:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)
        while True:
            tmp = str(self.path.parent / self._temp_name())
            try:
                fd = os.open(tmp, flags, 0o600 if self.mode is not None else 0o666)
            except FileExistsError:
                continue
            try:
                _lock(fd)  # held while the file exists: clean_stale leaves it alone
                same = os.path.samestat(os.fstat(fd), os.lstat(tmp))
            except OSError:
                same = False
            if same:
                self.tmp = tmp
                return fd
            os.close(fd)  # removed between its creation and the lock: make another

    def flush(self) -> None:
        """Write the file through to the disk (still under its temporary name)."""
        fh = self.open()
        fh.flush()
        os.fsync(fh.fileno())

    def commit(self) -> Path:
        """Flush the file to disk and rename it to its name; returns the path. Inside an
        :class:`AllOrNothing` block, the file it replaces is kept aside until the block ends."""
        try:
            self.flush()
        except BaseException as exc:
            self.discard()
            if isinstance(exc, OSError) and not isinstance(exc, OutputError):
                raise OutputError.of(f"cannot write {self.path}", exc) from None
            raise
        if self.group is None or not self.group.active:
            return self.put_in_place()
        aside = self.group.keep_aside(self.path)
        try:
            self.put_in_place()
        except BaseException:
            if aside is not None:
                _unlink(aside)
            raise
        self.group.placed.append((self.path, aside))
        return self.path

    def put_in_place(self) -> Path:
        """Rename the flushed temporary file to its name (then close it)."""
        try:
            os.replace(self.tmp, self.path)
        except OSError as exc:
            self.discard()
            raise OutputError.of(f"cannot write {self.path}", exc) from None
        self.tmp = None
        fh, self.fh = self.fh, None
        try:
            fh.close()
        except OSError:
            pass
        return self.path

    def discard(self) -> None:
        """Close and remove the temporary file (nothing is put in place); safe to call twice."""
        fh, self.fh = self.fh, None
        self._remove()
        if fh is not None:
            try:
                fh.close()
            except OSError:
                pass

    def _remove(self) -> None:
        tmp, self.tmp = self.tmp, None
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass

    def __enter__(self) -> IO:
        return self.open()

    def __exit__(self, kind, exc, tb) -> None:
        if kind is None:
            self.commit()
        else:
            self.discard()


class AllOrNothing:
    """The files committed inside the block stay in place only if the block ends normally.

    Each file committed inside the block is put in place at once (a later writer of the block may
    read it), the file it replaces kept aside under a temporary name (a hard link). When the block
    raises, every temporary file of the block is removed and each file it put in place is taken
    back: the one it replaced returns, or the name is free again. The folder ends with a complete
    set of this block's outputs, or with what it held before.
    """

    def __init__(self) -> None:
        self.opened: list[AtomicFile] = []
        self.placed: list[tuple[Path, str | None]] = []  # (path, the replaced file kept aside, or None)
        self.active = False
        self._token = None

    def __enter__(self) -> AllOrNothing:
        self.active = True
        self._token = _group.set(self)
        return self

    def keep_aside(self, path: Path) -> str | None:
        """Before ``path`` is replaced: a hard link to the old file, to put back if the block fails."""
        aside = None
        if os.path.lexists(path):
            limit = name_max(path.parent) - 15
            while aside is None:
                candidate = str(path.parent / f".{fit_name(path.name, limit)}.{secrets.token_hex(4)}{TEMP_SUFFIX}")
                try:
                    os.link(path, candidate, follow_symlinks=False)
                    aside = candidate
                except FileExistsError:
                    continue
                except OSError:  # no room even for a link: the old file cannot be put back
                    break
        return aside

    def __exit__(self, kind, exc, tb) -> None:
        _group.reset(self._token)
        self.active = False
        placed, self.placed = self.placed, []
        if kind is None:
            for _, aside in placed:
                if aside is not None:
                    _unlink(aside)
            self.opened.clear()
            return
        for file in self.opened:
            file.discard()
        self.opened.clear()
        for path, aside in reversed(placed):
            try:
                if aside is not None:
                    os.replace(aside, path)
                else:
                    os.unlink(path)
            except OSError:
                pass


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def write_bytes_atomic(path: str | Path, data: bytes, mode: int | None = 0o644) -> Path:
    """Write ``data`` to ``path`` (folders created), whole or not at all."""
    with AtomicFile(path, "wb", mode) as fh:
        fh.write(data)
    return Path(path)


def write_text_atomic(path: str | Path, text: str, mode: int | None = 0o644, encoding: str = "utf-8",
                      errors: str | None = None, newline: str | None = None) -> Path:
    """Write ``text`` to ``path`` (folders created), whole or not at all."""
    with AtomicFile(path, "w", mode, encoding=encoding, errors=errors, newline=newline) as fh:
        fh.write(text)
    return Path(path)


# --- temporary folders and what killed processes left behind -----------------------------------

class TempDir:
    """A private working folder ``FOLDER/.scrub-XXXXXXXX/`` (mode 0700, its files 0600), locked
    while in use and removed on exit; one left by a killed process is removed by
    :func:`clean_stale`. As a context manager: the folder's path."""

    def __init__(self, folder: str | Path, prefix: str = TEMP_DIR_PREFIX):
        self.folder = Path(folder)
        self.prefix = prefix
        self.path: Path | None = None
        self._fd: int | None = None

    def __enter__(self) -> Path:
        import tempfile

        self.folder.mkdir(parents=True, exist_ok=True)
        try:
            self.path = Path(tempfile.mkdtemp(prefix=self.prefix, dir=self.folder))  # 0700
            self._fd = os.open(self.path / DIR_LOCK, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
            _lock(self._fd)
        except OSError as exc:
            self.__exit__(None, None, None)
            raise OutputError.of(f"cannot create a working folder in {self.folder}", exc) from None
        return self.path

    def __exit__(self, kind, exc, tb) -> None:
        if self.path is not None:
            shutil.rmtree(self.path, ignore_errors=True)
            self.path = None
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def private_file(path: str | Path, open_mode: str = "wb", encoding: str | None = None) -> IO:
    """Open a new working file readable by its owner only (0600, whatever the umask)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
    os.fchmod(fd, 0o600)
    return os.fdopen(fd, open_mode, encoding=encoding)


def _unlocked(path: Path) -> bool | None:
    """Can the lock on ``path`` be taken (nobody writes it)? None when it cannot be opened."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        try:
            _lock(fd)
        except OSError:
            return False
        return True
    finally:
        os.close(fd)


def clean_stale(folder: str | Path) -> int:
    """Remove from ``folder`` the temporary files and working folders that a killed process left
    (``.NAME.XXXXXXXX.part`` and ``.scrub-*/`` whose lock nobody holds); returns how many.

    A writer holds its lock for as long as its file exists, so a file in use is never touched."""
    folder = Path(folder)
    removed = 0
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    now = time.time()
    for entry in entries:
        name = entry.name
        path = folder / name
        try:
            if entry.is_file(follow_symlinks=False) and TEMP_NAME.fullmatch(name):
                if _unlocked(path):
                    os.unlink(path)
                    removed += 1
            elif entry.is_dir(follow_symlinks=False) and name.startswith(TEMP_DIR_PREFIX):
                lock = path / DIR_LOCK
                free = _unlocked(lock)
                if free is None:  # no lock file (yet): only when it has been there a while
                    free = now - entry.stat(follow_symlinks=False).st_mtime > STALE_AFTER
                if free:
                    shutil.rmtree(path, ignore_errors=True)
                    removed += 1
        except OSError:
            continue
    return removed
