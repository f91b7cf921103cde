"""The watcher's job and state store: a claimed input (:class:`Job`) and ``OUT/state.sqlite``, one
row per input (name, size, sha256, ISA13s, times, outcome), written by the watcher's parent process
only; ``scrubber status`` reads it (:func:`status_lines`).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from scrubber.run.outdir import STATE_FILE, WatchError, utcnow

OUTCOMES = ("processing", "clean", "rejections", "unusable", "failed", "duplicate")


@dataclass
class Job:
    """One claimed input: its work folder ``OUT/work/ID/`` and the name it is stored under."""

    id: str
    dir: Path
    stored: str  # the input's name in work/, archive/ or error/
    dropped_as: str
    as_of: str
    sha256: str = ""
    size: int = 0
    exclusive: bool = False  # run alone: it was in flight when a worker process died
    started: float = 0.0
    refused: tuple[str, str | None, str] | None = None  # (outcome, rule, reason): not scrubbed
    identity: tuple[int, int] | None = None  # (st_dev, st_ino) of the file claimed
    changes: int = 0  # times it changed while it was scrubbed

    @property
    def path(self) -> Path:
        return self.dir / self.stored


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
            (job, name, stored, as_of, utcnow()),
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
            (utcnow(), job),
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
        fields.setdefault("finished_at", utcnow())
        if "warnings" in fields:
            fields["warnings"] = json.dumps(fields["warnings"]) if fields["warnings"] else None
        cols = ", ".join(f"{k} = ?" for k in fields)
        self.db.execute(f"UPDATE files SET {cols} WHERE job = ?", (*fields.values(), job))

    def moved(self, job: str, location: str) -> None:
        self.db.execute("UPDATE files SET location = ? WHERE job = ?", (location, job))


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
