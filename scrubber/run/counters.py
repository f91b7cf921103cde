"""Control-number counters in the state folder: ``DIR/state.sqlite``, table ``control_numbers``.

Every acknowledgment the scrubber writes (999, 277CA, TA1) takes a fresh ISA13, GS06 and ST02
from here, and so do the clean and rejected 837s with ``--control-numbers new``; numbers go on
from one run to the next, so that no two files the scrubber sends carry the same ISA13. One row
per counter (``ISA13``, ``GS06``, ``ST02``) with the last number given; a number is taken in one
``BEGIN IMMEDIATE`` transaction, so several scrubs (or the watcher's workers) sharing a state
folder never get the same one. After 999999999 a counter starts again at 1.

The table lives beside the state's other tables (the watcher's files, the claims already sent);
this module touches its own table only.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from scrubber.errors import ScrubberError
from scrubber.report.controls import LIMITS

STATE_FILE = "state.sqlite"
TABLE = "control_numbers"


class StateCounters:
    """``next(name)``: the next number of counter ``name`` in ``state_dir/state.sqlite``."""

    def __init__(self, state_dir: str | Path):
        self.dir = Path(state_dir)
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.dir / STATE_FILE, timeout=30, isolation_level=None)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} (name TEXT PRIMARY KEY, value INTEGER NOT NULL)")
        except (OSError, sqlite3.Error) as exc:
            raise ScrubberError(f"cannot use the state folder {self.dir}: {exc}") from None

    def next(self, name: str) -> int:
        limit = LIMITS.get(name, 999_999_999)
        try:
            self.db.execute("BEGIN IMMEDIATE")
            row = self.db.execute(f"SELECT value FROM {TABLE} WHERE name = ?", (name,)).fetchone()
            value = (row[0] if row else 0) % limit + 1
            self.db.execute(f"INSERT INTO {TABLE} (name, value) VALUES (?, ?) "
                            "ON CONFLICT(name) DO UPDATE SET value = excluded.value", (name, value))
            self.db.execute("COMMIT")
        except sqlite3.Error as exc:
            try:
                self.db.execute("ROLLBACK")
            except sqlite3.Error:
                pass
            raise ScrubberError(f"cannot take a control number from {self.dir / STATE_FILE}: {exc}") from None
        return value

    def peek(self) -> dict[str, int]:
        return dict(self.db.execute(f"SELECT name, value FROM {TABLE}").fetchall())

    def close(self) -> None:
        self.db.close()
