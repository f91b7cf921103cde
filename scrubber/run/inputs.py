"""The inputs of ``scrubber scrub``: files as given, the X12 files of a folder (``--recursive``,
``--glob``), and standard input (``-``), copied to a private temporary file named ``stdin.837``
(outputs ``stdin.*``) since the scrub reads its input more than once."""

from __future__ import annotations

import fnmatch
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

from scrubber.report.names import SUFFIXES

STDIN_NAME = "stdin.837"
_OUTPUT_SUFFIXES = tuple(f".{s}" for s in SUFFIXES) + (".ta1", ".tmp", ".part")


def looks_like_x12(path: Path) -> bool:
    """Whether the file starts (after a byte-order mark and blanks) with ``ISA``."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(512)
    except OSError:
        return False
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    return head.lstrip(b" \t\r\n").startswith(b"ISA")


def folder_inputs(folder: Path, recursive: bool = False, globs: Sequence[str] = (),
                  exclude: Path | None = None) -> list[Path]:
    """The X12 files in ``folder``, sorted by path: regular files (no links), not hidden, not an
    output of a scrub, not under ``exclude`` (the out dir); with ``globs``, the names matching one
    of them, else the files that start with ``ISA``."""
    excluded = exclude.resolve() if exclude is not None else None
    found: list[Path] = []
    for root, dirs, names in os.walk(folder):
        root_path = Path(root)
        if excluded is not None and root_path.resolve() == excluded:
            dirs[:] = []
            continue
        dirs[:] = sorted(d for d in dirs if not d.startswith(".")) if recursive else []
        for name in sorted(names):
            path = root_path / name
            if name.startswith(".") or name.endswith(_OUTPUT_SUFFIXES) or path.is_symlink() or not path.is_file():
                continue
            if globs:
                if any(fnmatch.fnmatch(name, g) for g in globs):
                    found.append(path)
            elif looks_like_x12(path):
                found.append(path)
    return found


class Inputs:
    """The expanded inputs of one run; ``close()`` removes the copy of standard input."""

    def __init__(self, given: Sequence[Path], recursive: bool = False, globs: Sequence[str] = (),
                 exclude: Path | None = None, stdin: BinaryIO | None = None):
        self.files: list[Path] = []
        self.empty_folders: list[Path] = []
        self._tmp: str | None = None
        for p in given:
            if str(p) == "-":
                self.files.append(self._copy_stdin(stdin or sys.stdin.buffer))
            elif p.is_dir():
                inside = folder_inputs(p, recursive, globs, exclude)
                if not inside:
                    self.empty_folders.append(p)
                self.files.extend(inside)
            else:
                self.files.append(p)

    def _copy_stdin(self, stream: BinaryIO) -> Path:
        if self._tmp is None:
            self._tmp = tempfile.mkdtemp(prefix="scrubber-stdin-")
        target = Path(self._tmp) / STDIN_NAME
        if target.exists():
            raise ValueError("standard input (-) can be given once")
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            shutil.copyfileobj(stream, out, 1 << 20)
        return target

    def close(self) -> None:
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def __enter__(self) -> Inputs:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


