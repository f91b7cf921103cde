"""A progress bar on standard error for large inputs, as a sink (start / claim / finish).

The bar covers the whole scrub of an input: its first half is the structural pass (which reads
the file before the claims are checked; :meth:`Progress.structure` follows the position of the
file it reads, from ``/proc/self/fdinfo`` where there is one), its second half the claim pass,
driven by the byte offset of each claim's CLM segment and updated at most every ``every``
claims, so the hot path pays one integer test per claim. Under ``--jobs`` (:class:`BytesProgress`)
the bar advances as the workers finish their parts and is redrawn every second meanwhile, with
an estimate from the bytes done so far. :func:`progress_for` returns ``None`` (no bar) when
standard error is not a terminal or the file is small.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from contextlib import contextmanager
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


def read_position(path: Path) -> int | None:
    """How far this process has read ``path`` (the largest position of a descriptor open on it),
    from ``/proc/self/fdinfo``; None where that cannot be known."""
    try:
        target = os.path.realpath(path)
        best = None
        for fd in os.listdir("/proc/self/fd"):
            try:
                if os.readlink(f"/proc/self/fd/{fd}") != target:
                    continue
                with open(f"/proc/self/fdinfo/{fd}") as info:
                    for line in info:
                        if line.startswith("pos:"):
                            pos = int(line.split()[1])
                            best = pos if best is None else max(best, pos)
                            break
            except (OSError, ValueError):
                continue
        return best
    except OSError:
        return None


class Progress(Sink):
    """The bar of one input: 2 x its size, the structural pass then the claim pass."""

    def __init__(self, name: str, size: int, stream: IO[str] | None = None, every: int = 200,
                 path: Path | None = None):
        self.name = name
        self.size = size
        self.path = path
        self.stream = stream or sys.stderr
        self.every = every
        self._n = 0
        self._done = 0
        self._bar = None
        self._base = 0  # where the claim pass starts on the bar (after the structural pass)
        self._lock = threading.Lock()

    def _open(self) -> None:
        if self._bar is None:
            self._bar = _open_bar(self.name, 2 * self.size, self.stream)

    def _to(self, pos: int) -> None:
        with self._lock:
            if self._bar is not None and pos > self._done:
                self._bar.update(pos - self._done)
                self._done = pos

    @contextmanager
    def structure(self, path: Path | None = None):
        """Around the structural pass: the first half of the bar follows the reading of the file."""
        path = path or self.path
        self._open()
        self._bar.label = f"{self.name} (structure)"
        stop = threading.Event()

        def follow() -> None:
            while not stop.wait(0.25):
                pos = read_position(path) if path is not None else None
                if pos is not None:
                    self._to(min(pos, self.size))
                else:
                    with self._lock:
                        if self._bar is not None:
                            self._bar.render_progress()

        ticker = threading.Thread(target=follow, name="progress", daemon=True)
        ticker.start()
        try:
            yield self
        finally:
            stop.set()
            ticker.join()
            self._to(self.size)
            if self._bar is not None:
                self._bar.label = f"{self.name} (claims)"

    def start(self, outcome: FileOutcome) -> None:
        self._open()
        self._base = self._done if self._done else 0
        if self._base:
            self._bar.label = f"{self.name} (claims)"

    def claim(self, result: ClaimOutcome) -> None:
        self._n += 1
        if self._n % self.every:
            return
        offset = self._base + result.claim.clm.offset
        if offset > self._done:
            self._bar.update(offset - self._done)
            self._done = offset

    def finish(self, outcome: FileOutcome) -> None:
        if self._bar is not None:
            if 2 * self.size > self._done:
                self._bar.update(2 * self.size - self._done)
                self._done = 2 * self.size
            self._bar.__exit__(None, None, None)
            self._bar = None


class BytesProgress:
    """A bar over work done in other processes (``--jobs``): advanced by the bytes of each unit or
    input as it finishes, since the workers cannot draw on this terminal themselves."""

    def __init__(self, label: str, size: int, stream: IO[str] | None = None, tick: float = 1.0):
        self.label, self.size = label, size
        self.stream = stream or sys.stderr
        self.tick = tick
        self._bar = None
        self._done = 0
        self._closed = False
        self._started = time.monotonic()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        self._hidden = False  # cleared for other output: not redrawn until the next advance

    def start(self) -> None:
        """Draw the bar now (at 0) and redraw it every ``tick`` seconds until :meth:`finish`: the
        workers report only when a part is done."""
        with self._lock:
            if self._bar is None and not self._closed:
                self._bar = _open_bar(self.label, self.size, self.stream)
                self._bar.render_progress()
        if self._ticker is None:
            self._ticker = threading.Thread(target=self._redraw, name="progress", daemon=True)
            self._ticker.start()

    def _redraw(self) -> None:
        while not self._stop.wait(self.tick):
            with self._lock:
                if self._bar is None or self._closed or self._hidden:
                    continue
                elapsed = time.monotonic() - self._started
                if self._done:
                    left = elapsed * (self.size - self._done) / self._done
                    self._bar.label = f"{self.label} ({elapsed:.0f}s, about {left:.0f}s left)"
                else:
                    self._bar.label = f"{self.label} ({elapsed:.0f}s)"
                self._bar.render_progress()

    def advance(self, nbytes: int) -> None:
        with self._lock:
            if self._closed:
                return
            if self._bar is None:
                self._bar = _open_bar(self.label, self.size, self.stream)
            nbytes = max(0, min(nbytes, self.size - self._done))
            self._hidden = False
            if nbytes:
                self._bar.update(nbytes)
                self._done += nbytes

    def clear(self) -> None:
        """Erase the bar's line before other output goes to the terminal (it is drawn again on the
        next advance)."""
        with self._lock:
            if self._bar is not None and not self._closed:
                self._hidden = True
                self.stream.write("\r\033[K")
                self.stream.flush()

    def finish(self) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
        if self._closed:
            return
        self.advance(self.size - self._done)
        with self._lock:
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
    return Progress(path.name, size, stream, path=Path(path)) if size >= min_bytes else None
