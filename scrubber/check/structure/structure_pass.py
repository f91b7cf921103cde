"""The structural side of one scrub: the index built before the claim pass, handed out during it.

:class:`StructurePass` runs :func:`~.index.validate_structure` on the input before the claim pass
(unless ``--no-structure``, or the input is too large for the claim pass too) and keeps why it
failed, if it did (SX099: the claim pass runs all the same). The claim pass then asks it, for each
transaction set in file order (:meth:`StructurePass.transaction`), for a
:class:`TransactionStructure`, which hands out that transaction's findings:

- transaction-level findings (:meth:`~TransactionStructure.top_findings`): errors in the header
  (ST, BHT, 1000A, 1000B), on SE, or in the envelope (ISA, GS, their trailers), and the version
  label (SX090). They go once into the report's top-level ``findings``, and each reject every claim
  of the transaction with a finding pointing at them, as a payer's 999 would;
- claim findings (:meth:`~TransactionStructure.claim_findings`): errors whose position falls inside
  a claim's own segments (2300, 2400 ...) or inside the billing provider, subscriber or patient
  loops it carries (2000A/2000B/2000C);
- leftovers (:meth:`~TransactionStructure.leftover_findings`): errors that fell in no claim (a
  subscriber loop with no claim), for the top level.

Every finding goes through the engine's decision point (``engine.decisions.finding``), so
``[rules]`` settings apply to SX codes as to any rule.
"""

from __future__ import annotations

import bisect
from pathlib import Path
from typing import TYPE_CHECKING

from scrubber.check.structure.index import StructureIndex, validate_structure
from scrubber.check.structure.normalize import RELABELLED
from scrubber.check.structure.rawerror import TooManyErrors
from scrubber.check.structure.structural_error import ENVELOPE_IDS, StructuralError
from scrubber.findings import Finding

if TYPE_CHECKING:
    from scrubber.check.engine import Engine
    from scrubber.x12.model import Claim, Transaction

__all__ = ["StructurePass", "TransactionStructure"]


class StructurePass:
    """The structural side of one scrub: built before the claim pass, consulted during it.

    ``validate=False`` (``--no-structure``) skips pyx12; version labels are still checked.
    """

    def __init__(self, engine: Engine, path: str | Path | None = None, validate: bool = True):
        self.engine = engine
        self.index: StructureIndex | None = None
        self.failed: str | None = None  # why the validation stopped, when it did
        self.over_limit: str | None = None  # too many structural errors: the input is unusable (EN013)
        limits = getattr(engine, "limits", None)
        if validate and path is not None and limits is not None:
            try:  # an input the claim pass refuses for its size (EN012) is not validated either
                if Path(path).stat().st_size > getattr(limits, "file_bytes", 1 << 62):
                    validate = False
            except OSError:
                validate = False  # unreadable: the claim pass reports it
        if validate and path is not None:
            try:
                options = getattr(getattr(engine, "config", None), "options", None) or {}
                self.index = validate_structure(path, limits, options.get("structure_validator", "compiled"))
            except TooManyErrors as exc:
                self.over_limit = str(exc)
            except Exception as exc:  # noqa: BLE001 - the claim pass must still run
                self.failed = f"{type(exc).__name__}: {exc}"
                note = StructuralError("SX099", f"structural validation failed ({self.failed[:160]})", None, None, None)
                self.index = StructureIndex([], [], self.failed, note)
        self._ordinal = -1
        self.current: TransactionStructure | None = None

    def transaction(self, tx: Transaction) -> TransactionStructure:
        """Call on each Transaction event, in file order."""
        self._ordinal += 1
        errors = self.index.errors_of(self._ordinal) if self.index is not None else []
        extra = []
        if self.index is not None and self.index.incomplete_at is not None:
            at = self.index.incomplete_at
            if at.tx == self._ordinal or (at.tx is None and self._ordinal == 0):
                extra.append(at)
        self.current = TransactionStructure(self, tx, errors, extra)
        return self.current

    def finding(self, err: StructuralError, severity: str | None = None, message: str | None = None,
                payer: str = "") -> Finding | None:
        return self.engine.decisions.finding(
            err.rule, message or err.message, None, err.element, err.value, payer=payer, severity=severity,
            ack="error", loop=err.loop, segment=err.segment, position=err.position)


class TransactionStructure:
    """The structural findings of one transaction set, handed out as its claims come."""

    def __init__(self, owner: StructurePass, tx: Transaction, errors: list[StructuralError],
                 notes: list[StructuralError]):
        self.owner = owner
        self.tx = tx
        self.errors = sorted(errors, key=lambda e: (e.attach if e.attach is not None else -1))
        self.notes = notes  # SX099: not checked past a point
        self._attach = [e.attach if e.attach is not None else -1 for e in self.errors]
        self._split: tuple[list[StructuralError], list[Finding]] | None = None
        self.used: set[int] = set()
        self._level_idx: set[int] = set()

    # The transaction-level part is known once the header is complete (at the first claim).
    def _header(self) -> tuple[list[StructuralError], list[Finding]]:
        if self._split is None:
            tx = self.tx
            header_end = max((s.position or 0 for s in tx.header), default=1)
            span = None
            idx = self.owner.index
            if idx is not None and self.owner._ordinal < len(idx.transactions):
                span = idx.transactions[self.owner._ordinal].span
            se_pos = (span.se_line - span.st_line + 1) if span is not None and span.se_line else None
            level = []
            self._level_idx = set()
            for i, e in enumerate(self.errors):
                if e.attach is None or e.attach <= max(header_end, 1) or (se_pos is not None and e.attach >= se_pos) \
                        or e.tx is None or e.segment in ENVELOPE_IDS and e.rule == "SX020":
                    level.append(e)
                    self._level_idx.add(i)
            top = [f for f in (self.owner.finding(e) for e in level) if f is not None]
            self._split = (level, top)
        return self._split

    def top_findings(self) -> list[Finding]:
        """Findings for the report's top level: transaction-level errors, the version label."""
        found = list(self._header()[1])
        found += self.version_findings()
        for note in self.notes:
            f = self.owner.finding(note)
            if f is not None:
                found.append(f)
        return found

    def version_findings(self) -> list[Finding]:
        version = self.tx.st.el(3) or self.tx.group.version
        if version not in RELABELLED:
            return []
        err = StructuralError(
            "SX090",
            f"transaction set {self.tx.control} is labelled {version}; the HIPAA-adopted 837P guide is "
            f"005010X222A1 (it was validated as such)",
            "ST", "ST", 1, "ST03" if self.tx.st.el(3) else "GS08", version)
        f = self.owner.finding(err)
        return [f] if f is not None else []

    def claim_findings(self, claim: Claim) -> list[Finding]:
        """Structural findings for one claim: those inside its loops, and the transaction's."""
        level, _ = self._header()
        payer = self.owner.engine.decisions.payer(claim)
        out: list[Finding] = []
        for e in level:
            where = e.where() or "the envelope"
            msg = f"transaction set {self.tx.control} is rejected by a structural error at {where}: {e.message}"
            f = self.owner.finding(e, message=msg, payer=payer)
            if f is not None:
                out.append(f)
        if not self.errors:
            return out
        ranges = [(claim.clm.position, claim.segments[-1].position)]
        for node in (claim.billing, claim.subscriber, claim.patient):
            if node is not None and node.segments:
                ranges.append((node.segments[0].position, node.segments[-1].position))
        level_idx = self._level_idx
        for lo, hi in ranges:
            if lo is None or hi is None:
                continue
            i = bisect.bisect_left(self._attach, lo)
            while i < len(self.errors) and self._attach[i] <= hi:
                if i not in level_idx:
                    f = self.owner.finding(self.errors[i], payer=payer)
                    if f is not None:
                        out.append(f)
                    self.used.add(i)
                i += 1
        return out

    def leftover_findings(self) -> list[Finding]:
        """Errors that fell in no claim (e.g. a subscriber loop with no claim): for the top level."""
        level, _ = self._header()
        out = []
        for i, e in enumerate(self.errors):
            if i not in self.used and i not in self._level_idx:
                f = self.owner.finding(e)
                if f is not None:
                    out.append(f)
        return out

