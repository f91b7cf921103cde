"""The state folder (``scrubber scrub --state DIR``, or the watcher's out dir): ``DIR/state.sqlite``
and ``DIR/fingerprint.key``, and in it the claims already sent (duplicates across files, PE003).

``sent_batches`` has one row per input whose clean file was completed (its source: the watcher's
job, or a ``scrub`` run; the input's name; the as-of date it was sent on). ``sent_claims`` has
one row per claim fingerprint (a keyed hash, never patient data: see
:mod:`scrubber.rules.payer._common`) with the batch that sent it last. Other parts of the
scrubber keep their own tables in the same database (the watcher's ``files``, ``interchanges``).

Safety: WAL, a 30 s busy timeout, short transactions. A claim is recorded only once its clean
file is complete, in one ``BEGIN IMMEDIATE`` transaction per input (:meth:`SentClaims.commit`): a
kill before the commit records nothing (the input is scrubbed again and its outputs replaced);
a kill after it leaves the records of a complete clean file, and a new attempt of the same
source (the watcher's job) does not find its own claims. Two inputs scrubbed at the same time
(the watcher's workers) can both accept a claim the other also holds: the commit of the second
finds the claim recorded by the first since its scrub began, and the caller scrubs that input
again before its outputs are published (the watcher does; ``scrub`` publishes as it goes and
records as is).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from scrubber.errors import ScrubberError
from scrubber.rules.payer._common import FileLedger

STATE_FILE = "state.sqlite"
KEY_FILE = "fingerprint.key"
DEFAULT_DUPLICATE_DAYS = 60

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sent_batches (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    source TEXT NOT NULL,              -- the watcher's job id, or a scrub run's own id
    input TEXT NOT NULL,               -- the input's file name (never patient data)
    sent_on TEXT NOT NULL,             -- the as-of date of the scrub (YYYY-MM-DD)
    recorded_at TEXT NOT NULL,
    claims INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS sent_claims (
    fingerprint TEXT PRIMARY KEY,      -- HMAC-SHA256 of the claim under DIR/fingerprint.key
    sent_on TEXT NOT NULL,
    batch INTEGER NOT NULL REFERENCES sent_batches (seq)
);
CREATE INDEX IF NOT EXISTS sent_claims_sent_on ON sent_claims (sent_on);
"""


class StateError(ScrubberError):
    """The state folder cannot be used: one line for the user (exit status 2)."""

    def __init__(self, message: str):
        super().__init__(message, 2)


def _key(folder: Path) -> bytes:
    """The folder's fingerprint key, made (32 random bytes, owner-only) on first use."""
    path = folder / KEY_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        try:
            tmp = os.urandom(32)
            os.write(fd, tmp.hex().encode("ascii") + b"\n")
            os.fsync(fd)
        finally:
            os.close(fd)
    for _ in range(50):  # another process may be writing it this very moment
        text = path.read_text(encoding="ascii").strip()
        if len(text) == 64:
            try:
                return bytes.fromhex(text)
            except ValueError:
                break
        import time

        time.sleep(0.02)
    raise StateError(f"{path} is not a fingerprint key (64 hex digits); remove it to start a new one")


class SentClaims:
    """The claims already sent, in ``folder/state.sqlite``: a lookup for PE003 and the commit of an
    input's accepted claims."""

    def __init__(self, folder: str | Path, as_of: date, days: int = DEFAULT_DUPLICATE_DAYS):
        self.folder = Path(folder)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            self.key = _key(self.folder)
            self.db = sqlite3.connect(str(self.folder / STATE_FILE), timeout=30, isolation_level=None)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")
            self.db.executescript(_SCHEMA)
        except (OSError, UnicodeDecodeError) as exc:
            raise StateError(f"cannot use the state folder {self.folder}: {getattr(exc, 'strerror', None) or exc}") from None
        except sqlite3.Error as exc:
            raise StateError(f"cannot open the state database {self.folder / STATE_FILE}: {exc}") from None
        self.as_of = as_of
        self.days = days
        self.cutoff = (as_of - timedelta(days=days)).isoformat()

    def close(self) -> None:
        self.db.close()

    def mark(self) -> int:
        """The newest batch now: a commit checks only the batches recorded after it."""
        return self.db.execute("SELECT COALESCE(MAX(seq), 0) FROM sent_batches").fetchone()[0]

    def lookup(self, source: str) -> Callable[[str], tuple[str, str] | None]:
        """fingerprint -> (date sent, input name) of a claim sent within the window by another
        source, or None."""
        query = ("SELECT c.sent_on, b.input FROM sent_claims c JOIN sent_batches b ON b.seq = c.batch"
                 " WHERE c.fingerprint = ? AND c.sent_on >= ? AND b.source != ?")
        db, cutoff = self.db, self.cutoff

        def sent_before(digest: str) -> tuple[str, str] | None:
            row = db.execute(query, (digest, cutoff, source)).fetchone()
            return (row[0], row[1]) if row else None

        return sent_before

    def commit(self, ledger: FileLedger, source: str, input_name: str, mark: int,
               publish: Callable[[], None] | None = None, check: bool = True) -> int:
        """Record the accepted claims of ``ledger`` as sent by ``source`` in one transaction, after
        ``publish()`` (which puts the outputs in place) inside it; return 0. With ``check``, first
        look for a claim of the ledger to which PE003 applied and that another source recorded
        after ``mark``: then nothing is published or recorded and the number of such claims is
        returned (the caller scrubs the input again)."""
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            if check:
                clash = 0
                query = ("SELECT 1 FROM sent_claims c JOIN sent_batches b ON b.seq = c.batch WHERE c.fingerprint = ?"
                         " AND b.seq > ? AND b.source != ? AND c.sent_on >= ?")
                for digest, checked, _ in ledger.accepted_digests():
                    if checked and db.execute(query, (digest, mark, source, self.cutoff)).fetchone():
                        clash += 1
                if clash:
                    db.execute("ROLLBACK")
                    return clash
            if publish is not None:
                publish()
            now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            sent_on = self.as_of.isoformat()
            seq = db.execute(
                "INSERT INTO sent_batches (source, input, sent_on, recorded_at, claims) VALUES (?, ?, ?, ?, ?)",
                (source, input_name, sent_on, now, ledger.count),
            ).lastrowid
            db.executemany(
                "INSERT INTO sent_claims (fingerprint, sent_on, batch) VALUES (?, ?, ?) ON CONFLICT (fingerprint)"
                " DO UPDATE SET sent_on = excluded.sent_on, batch = excluded.batch",
                ((digest, sent_on, seq) for digest, _, _ in ledger.accepted_digests()),
            )
            db.execute("DELETE FROM sent_claims WHERE sent_on < ?", (self.cutoff,))
            db.execute("COMMIT")
            return 0
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise


def new_source() -> str:
    """An id for one ``scrubber scrub`` run (a submission of its own)."""
    return f"scrub-{datetime.now(timezone.utc):%Y%m%dT%H%M%S}-{os.getpid()}-{os.urandom(4).hex()}"


def duplicate_days(options: dict) -> int:
    value = options.get("duplicate_days", DEFAULT_DUPLICATE_DAYS)
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else DEFAULT_DUPLICATE_DAYS
