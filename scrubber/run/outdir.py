"""The watcher's out dir: its folders and files, the durable moves into them, and its error.

::

    OUT/clean/     NAME.clean.837      accepted claims (absent when none)
    OUT/rejected/  NAME.rejected.837   rejected claims (absent when none)
    OUT/reports/   NAME.report.json    the contract's report, for every scrubbed input
    OUT/archive/   NAME.EXT            the input, once its outputs are in place
    OUT/error/     NAME.EXT            an input that could not be scrubbed (unusable, duplicate,
                   NAME.EXT.reason.json  the scrubber failed) beside why (no patient data)
    OUT/work/      JOB/NAME.EXT        inputs being scrubbed (claimed by atomic rename)
    OUT/state.sqlite                   one row per input: name, size, sha256, ISA13s, times, outcome;
                                       the fingerprints of the claims sent (scrubber.run.state)
    OUT/fingerprint.key                their HMAC key (owner-only)
    OUT/watch.lock                     held while a watcher runs (one watcher per OUT)

Outputs only ever appear under their final names by rename, so nothing half-written is visible
there. The output names of an input are those of the contract (``NAME.report.json`` ...).
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

from scrubber.errors import ScrubberError
from scrubber.report.names import output_stem

FOLDERS = ("clean", "rejected", "reports", "archive", "error", "work")
STATE_FILE = "state.sqlite"
LOCK_FILE = "watch.lock"
OUTPUTS = (("clean.837", "clean"), ("rejected.837", "rejected"), ("report.json", "reports"))  # the report last
LOGGER = "scrubber.run.watch"  # the watcher's log lines, whichever module writes them


class WatchError(ScrubberError):
    """The watcher cannot start (exit code 2) or must stop (1): one line for the operator."""

    def __init__(self, message: str, code: int = 2):
        super().__init__(message, code)

    @property
    def code(self) -> int:
        """The exit status (the same as ``exit_code``)."""
        return self.exit_code


def output_names(stored_name: str) -> list[tuple[str, str]]:
    """(folder, file name) of the outputs an input stored as ``stored_name`` can have."""
    stem = output_stem(stored_name)
    return [(folder, f"{stem}.{suffix}") for suffix, folder in OUTPUTS]


def utcnow() -> str:
    """The time stamps of the state and the reason files: UTC, milliseconds, ``Z``."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
