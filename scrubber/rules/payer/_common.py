"""What the payer front-end rules (PE) share: the claim's frequency code and payer claim number,
its keyed fingerprint, and the memory of the claims already met in the file (:class:`FileLedger`).

A fingerprint is an HMAC-SHA256, under a key of the run (or of the state folder), of what makes
two claims the same claim: the billing provider's NPI, the subscriber and patient as sent, CLM01,
the dates of service and the service lines (procedure, modifiers, charge, units, date), but not
the frequency code (a replacement is the same claim again). Only the digest is kept: no patient
data is stored, logged or reported.

The ledger is the one piece of cross-claim state: the pipeline opens one per input
(``Context.ledger``), tells it each accepted claim (:meth:`FileLedger.accepted`), and reads back
the accepted claims' fingerprints once the clean file is complete (the state store records them).
It holds the newest accepted claims in dictionaries and moves them, a few thousand at a time, to
a temporary SQLite table, so its memory does not grow with the number of claims of a file.
"""

from __future__ import annotations

import hmac
import os
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from typing import NamedTuple

from scrubber.rules.facts import ClaimFacts, claim_fact
from scrubber.x12.model import Claim, parse_date_period

#: CLM05-3 claim frequency codes an 837P claim may carry, with a short meaning of our own.
FREQUENCY_OK = {"1": "original claim", "7": "replacement of an earlier claim", "8": "void of an earlier claim"}
#: The other codes of the claim frequency code list, paraphrased: they belong to institutional
#: billing patterns (interim bills, late charges) or are not claim frequencies at all.
FREQUENCY_OTHER = {
    "0": "a claim on which no payment is expected (an institutional code)",
    "2": "the first bill of an interim series (an institutional code)",
    "3": "a continuing bill of an interim series (an institutional code)",
    "4": "the last bill of an interim series (an institutional code)",
    "5": "late charges only (an institutional code)",
    "6": "an adjustment of an earlier claim (institutional; 7 replaces a professional claim)",
    "9": "a final bill of an episode (an institutional code)",
}
REPLACES = ("7", "8")  # frequency codes that refer to an earlier claim of the payer


class Where(NamedTuple):
    """Where a claim stood: ISA13, ST02, the CLM's position in its transaction set, CLM01."""

    interchange: str
    transaction: str
    position: int
    claim_id: str

    def text(self) -> str:
        return f"interchange {self.interchange}, transaction set {self.transaction}, CLM at position {self.position}"


def frequency_code(claim: Claim) -> str:
    """CLM05-3 as sent ('' when absent)."""
    return claim.clm.comp(5, 3)



def _node_ids(node) -> list[str]:
    out = []
    if node is None:
        return out
    for seg in node.segments:
        sid = seg.id
        if sid == "NM1":
            elements = seg.elements
            if len(elements) > 1 and elements[1] in ("IL", "QC", "85"):
                out.append("|".join(elements[1:10]))
        elif sid == "DMG":
            out.append("|".join(seg.elements[1:4]))
    return out


# The last billing provider level and its NPI (NM109 of its NM1*85): its claims come one after the
# other (one level kept, not every level met; one tuple, safe for threads side by side).
_LAST_BILLING: tuple = (None, "")


def _billing_npi(node) -> str:
    global _LAST_BILLING
    last = _LAST_BILLING
    if last[0] is node:
        return last[1]
    npi = ""
    for seg in node.segments:
        if seg.id == "NM1" and seg.el(1) == "85":
            npi = seg.el(9)
            break
    _LAST_BILLING = (node, npi)
    return npi


def claim_identity(claim: Claim) -> bytes:
    """The bytes a fingerprint is made of (see the module docstring); never stored."""
    billing = claim.billing
    parts = ["npi", _billing_npi(billing) if billing is not None else "", "sub", *_node_ids(claim.subscriber),
             "pat", *_node_ids(claim.patient), "clm", claim.claim_id]
    # Each line's date of service: its first DTP*472 (as ServiceLine.service_date reads it).
    line_dos: dict[int, str] = {}
    for seg, number in claim.dated:
        elements = seg.elements
        if len(elements) > 1 and elements[1] == "472":
            if number == 0:
                parts += ["dos", seg.el(3)]
            elif number not in line_dos:
                start = parse_date_period(seg.el(2), seg.el(3))[0]
                line_dos[number] = str(start) if start is not None else ""
    get = line_dos.get
    for line in claim.lines:  # (SV101 as its components: the same claim with other delimiters is the same)
        sv1 = line.sv1
        if sv1 is None:
            parts += ["line", "", "", "", get(line.number, "")]
        else:
            elements = sv1.elements
            n = len(elements)
            parts += ["line", "\x1e".join(line.sv101), elements[2] if n > 2 else "", elements[4] if n > 4 else "",
                      get(line.number, "")]
    return "\x1f".join(parts).encode("utf-8", "replace")


def claim_id_key(claim: Claim) -> bytes:
    return b"clm01\x1f" + claim.claim_id.encode("utf-8", "replace")


@claim_fact
def claim_digest(facts: ClaimFacts) -> str:
    """The claim's keyed fingerprint under the ledger's key ('' without a ledger)."""
    ledger = facts.context.ledger
    return ledger.digest_of(facts.claim) if ledger is not None else ""


FILTER_BITS = 1 << 23  # the spilled keys' filter: 1 MB, whatever the number of claims
_MASK = FILTER_BITS - 1


def _short(k: str) -> int:
    """A key's first 60 bits, as the table's integer key (the full key is compared on a hit)."""
    return int(k[:15], 16)


class FileLedger:
    """The accepted claims met so far in one input: fingerprint -> where, CLM01 -> where.

    ``sent_before``: a lookup of the state store (fingerprint -> (date sent, input name) within
    the window), or None without a state folder.

    Memory: the newest ``memory_bound`` accepted claims are in dictionaries; when they fill up,
    they move in one transaction to a temporary SQLite table, and a fixed-size bit filter (a
    Bloom filter, 1 MB) over the moved keys says which lookups can skip the table (nearly all:
    most claims are not repeats). So memory stays bounded and lookups stay fast.
    """

    def __init__(self, key: bytes, sent_before: Callable[[str], tuple[str, str] | None] | None = None,
                 memory_bound: int = 20000):
        self.key = key
        self.sent_before = sent_before
        self.memory_bound = max(1, memory_bound)
        self._by_digest: dict[str, tuple[Where, bool]] = {}  # digest -> (where, PE003 applied)
        self._by_id: dict[str, Where] = {}
        self._db: sqlite3.Connection | None = None
        self._dir: str | None = None
        self._filter: bytearray | None = None
        self.count = 0  # accepted claims remembered
        self.last: tuple | None = None  # (digest, CLM01 key, accepted, PE003 applied, Where) of the last claim
        self._memo: tuple | None = None  # (CLM segment, fingerprint) of the claim being checked

    def digest(self, data: bytes) -> str:
        return hmac.digest(self.key, data, "sha256").hex()  # (the one-shot C implementation)

    def digest_of(self, claim: Claim) -> str:
        """The claim's fingerprint, made once per claim (the rules and the pipeline both ask)."""
        memo = self._memo
        if memo is not None and memo[0] is claim.clm:  # (the CLM segment: it holds no loop)
            return memo[1]
        digest = self.digest(claim_identity(claim))
        self._memo = (claim.clm, digest, self.digest(claim_id_key(claim)))
        return digest

    # -- the filter over the keys moved to the table (keys are HMAC hex digests: their digits are
    # uniform, so three slices of them are three independent positions)
    @staticmethod
    def _bits(k: str) -> tuple[int, int, int]:
        v = int(k[16:34], 16)  # 72 bits: three positions of 23 bits
        return v & _MASK, (v >> 23) & _MASK, (v >> 46) & _MASK

    def _lookup(self, kind: int, k: str) -> Where | None:
        f = self._filter
        if f is None:
            return None
        for b in self._bits(k):
            if not f[b >> 3] & (1 << (b & 7)):
                return None
        for row in self._db.execute(f"SELECT k, i, t, p, c FROM seen{kind} WHERE n = ?", (_short(k),)):
            if row[0] == k:
                return Where(*row[1:])
        return None

    # -- lookups
    def first_with_digest(self, digest: str) -> Where | None:
        found = self._by_digest.get(digest)
        if found is not None:
            return found[0]
        return self._lookup(0, digest)

    def first_with_id_key(self, id_key: str) -> Where | None:
        found = self._by_id.get(id_key)
        return found if found is not None else self._lookup(1, id_key)

    def first_with_id(self, claim: Claim) -> Where | None:
        return self.first_with_id_key(self.id_key(claim))

    def id_key(self, claim: Claim) -> str:
        """The keyed hash of the claim's CLM01 (made with its fingerprint, once per claim)."""
        memo = self._memo
        if memo is None or memo[0] is not claim.clm:
            self.digest_of(claim)
            memo = self._memo
        return memo[2]

    # -- recording
    def settle(self, claim: Claim, digest: str, accepted: bool, checked: bool) -> None:
        """``claim`` (fingerprint ``digest``) is done: ``last`` describes it; an accepted one is
        remembered. ``checked``: PE003 applied to it (so the state store's commit re-checks it)."""
        where = Where(claim.interchange_control, claim.transaction_control, claim.clm.position or 0, claim.claim_id)
        id_key = self.id_key(claim)
        self.last = (digest, id_key, accepted, checked, where)
        if accepted:
            self.add(digest, id_key, where, checked)

    def add(self, digest: str, id_key: str, where: Where, checked: bool) -> None:
        """Remember an accepted claim (the first claim with a key keeps it)."""
        if self.first_with_digest(digest) is None:
            self._by_digest[digest] = (where, checked)
        if self.first_with_id_key(id_key) is None:
            self._by_id[id_key] = where
        self.count += 1
        if len(self._by_digest) >= self.memory_bound or len(self._by_id) >= self.memory_bound:
            self._spill()

    def _spill(self) -> None:
        """Move the dictionaries to the table (made on first use) and the filter."""
        if self._db is None:
            self._dir = tempfile.mkdtemp(prefix="scrubber-ledger-")
            self._db = sqlite3.connect(os.path.join(self._dir, "ledger.sqlite"), isolation_level=None)
            self._db.execute("PRAGMA journal_mode=OFF")
            self._db.execute("PRAGMA synchronous=OFF")
            for kind in (0, 1):
                self._db.execute(f"CREATE TABLE seen{kind} (n INTEGER, k TEXT, i TEXT, t TEXT, p INTEGER, c TEXT,"
                                 " checked INTEGER)")
                self._db.execute(f"CREATE INDEX seen{kind}_n ON seen{kind} (n)")
            self._filter = bytearray(FILTER_BITS // 8)
        db, f = self._db, self._filter
        db.execute("BEGIN")
        db.executemany("INSERT INTO seen0 VALUES (?, ?, ?, ?, ?, ?, ?)",
                       ((_short(d), d, *w, int(checked)) for d, (w, checked) in self._by_digest.items()))
        db.executemany("INSERT INTO seen1 VALUES (?, ?, ?, ?, ?, ?, 0)", ((_short(k), k, *w) for k, w in self._by_id.items()))
        db.execute("COMMIT")
        for k in (*self._by_digest, *self._by_id):
            for b in self._bits(k):
                f[b >> 3] |= 1 << (b & 7)
        self._by_digest, self._by_id = {}, {}

    def accepted_digests(self) -> Iterator[tuple[str, bool, Where]]:
        """(fingerprint, PE003 applied, where) of every accepted claim, in no particular order."""
        if self._db is not None:
            for d, i, t, p, c, checked in self._db.execute("SELECT k, i, t, p, c, checked FROM seen0"):
                yield d, bool(checked), Where(i, t, p, c)
        for d, (where, checked) in list(self._by_digest.items()):
            yield d, checked, where

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
        if self._dir is not None:
            import shutil

            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None
        self._filter = None
