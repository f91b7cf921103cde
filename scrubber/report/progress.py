"""A progress bar on standard error for large inputs, as a sink (start / claim / finish).

Driven by the byte offset of each claim's CLM segment; updated at most every ``every`` claims,
so the hot path pays one integer test per claim. :func:`progress_for` returns ``None`` (no bar)
when standard error is not a terminal or the file is small.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import IO

import click

from scrubber.report.outcome import ClaimOutcome, FileOutcome
from scrubber.report.sink import Sink

MIN_BYTES = 4 << 20  # files over 4 MB get a bar


def _open_bar(label: str, size: int, stream: IO[str]):
    bar = click.progressbar(length=size, label=label, file=stream, show_pos=False, show_percent=True,
                            show_eta=True, width=30)
    bar.__enter__()
    return bar


def _on_terminal(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (OSError, ValueError):
        return False


class Progress(Sink):
    def __init__(self, name: str, size: int, stream: IO[str] | None = None, every: int = 200):
        self.name = name
        self.size = size
        self.stream = stream or sys.stderr
        self.every = every
        self._n = 0
        self._done = 0
        self._bar = None

    def start(self, outcome: FileOutcome) -> None:
        self._bar = _open_bar(self.name, self.size, self.stream)

    def claim(self, result: ClaimOutcome) -> None:
        self._n += 1
        if self._n % self.every:
            return
        offset = result.claim.clm.offset
        if offset > self._done:
            self._bar.update(offset - self._done)
            self._done = offset

    def finish(self, outcome: FileOutcome) -> None:
        if self._bar is not None:
            if self.size > self._done:
                self._bar.update(self.size - self._done)
                self._done = self.size
            self._bar.__exit__(None, None, None)
            self._bar = None


class BytesProgress:
    """A bar over work done in other processes (``--jobs``): advanced by the bytes of each unit or
    input as it finishes, since the workers cannot draw on this terminal themselves."""

    def __init__(self, label: str, size: int, stream: IO[str] | None = None):
        self.label, self.size = label, size
        self.stream = stream or sys.stderr
        self._bar = None
        self._done = 0
        self._closed = False

    def advance(self, nbytes: int) -> None:
        if self._closed:
            return
        if self._bar is None:
            self._bar = _open_bar(self.label, self.size, self.stream)
        nbytes = max(0, min(nbytes, self.size - self._done))
        if nbytes:
            self._bar.update(nbytes)
            self._done += nbytes

    def clear(self) -> None:
        """Erase the bar's line before other output goes to the terminal (it is drawn again on the
        next advance)."""
        if self._bar is not None and not self._closed:
            self.stream.write("\r\033[K")
            self.stream.flush()

    def finish(self) -> None:
        if self._closed:
            return
        self.advance(self.size - self._done)
        self._bar.__exit__(None, None, None)
        self._bar = None
        self._closed = True


def bytes_progress_for(label: str, size: int, stream: IO[str] | None = None,
                       min_bytes: int = MIN_BYTES) -> BytesProgress | None:
    """A :class:`BytesProgress` when ``stream`` is a terminal and the work is over ``min_bytes``."""
    stream = stream or sys.stderr
    return BytesProgress(label, size, stream) if size >= min_bytes and _on_terminal(stream) else None


def progress_for(path: Path, stream: IO[str] | None = None, min_bytes: int = MIN_BYTES) -> Progress | None:
    stream = stream or sys.stderr
    if not _on_terminal(stream):
        return None
    try:
        size = path.stat().st_size
    except OSError:
        return None
    return Progress(path.name, size, stream) if size >= min_bytes else None
