"""Writing a file whole or not at all: a temporary file beside it, flushed to disk, then renamed.

Readers of the target see the old file or the new one, never a part. The temporary file is named
``.NAME.XXXXXXXX.part`` (hidden, unique, and a name the inbox watcher never takes); on any failure
it is removed and the old file stays. Every file the scrubber writes goes through here:
:func:`write_bytes_atomic` / :func:`write_text_atomic` for contents in hand, :class:`AtomicFile`
for writers that stream.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import IO

TEMP_SUFFIX = ".part"


class AtomicFile:
    """A file written under a temporary name and put in place by :meth:`commit`.

    ``open_mode`` is ``"w"`` (text: ``encoding``, ``errors`` and ``newline`` as for :func:`open`)
    or ``"wb"``; ``mode`` is the permission bits the file gets (whatever the umask; None: the
    usual ``0o666`` less the umask, as :func:`open` would make it). The file is
    created on :meth:`open` (folders created), so a writer can make it only when it has something
    to write. As a context manager: opened on entry, committed on a normal exit, discarded when
    the block raises.
    """

    __slots__ = ("path", "open_mode", "mode", "encoding", "errors", "newline", "tmp", "fh")

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

    def open(self) -> IO:
        """Create the temporary file and return it open for writing."""
        if self.fh is not None:
            return self.fh
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = self._create()
        try:
            if self.mode is not None:
                os.fchmod(fd, self.mode)  # the bits asked for, whatever the umask
            self.fh = os.fdopen(fd, self.open_mode, encoding=self.encoding, errors=self.errors, newline=self.newline)
        except BaseException:
            os.close(fd)
            self._remove()
            raise
        return self.fh

    def _create(self) -> int:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
        while True:
            tmp = str(self.path.parent / f".{self.path.name}.{secrets.token_hex(4)}{TEMP_SUFFIX}")
            try:
                fd = os.open(tmp, flags, 0o600 if self.mode is not None else 0o666)
            except FileExistsError:
                continue
            self.tmp = tmp
            return fd

    def commit(self) -> Path:
        """Flush the file to disk and rename it to its name; returns the path."""
        fh = self.open()
        try:
            fh.flush()
            os.fsync(fh.fileno())
            fh.close()
            self.fh = None
            os.replace(self.tmp, self.path)
        except BaseException:
            self.discard()
            raise
        self.tmp = None
        return self.path

    def discard(self) -> None:
        """Close and remove the temporary file (nothing is put in place); safe to call twice."""
        fh, self.fh = self.fh, None
        if fh is not None:
            try:
                fh.close()
            except OSError:
                pass
        self._remove()

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
