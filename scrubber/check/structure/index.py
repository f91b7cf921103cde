"""The index of structural errors of one input, by transaction set and position, and the pass
that builds it (:func:`validate_structure`).

:func:`validate_structure` re-serialises the input (:mod:`.normalize`) and runs a validator on it:
the compiled one (:mod:`.compiled`, the default), or pyx12 itself (:mod:`.pyx12run`, when asked, or
when the compiled validator hands the input over: :class:`~.tables.Unsupported`). Each error
reported (:class:`~.rawerror.RawError`) goes through :class:`IndexBuilder` as it is found: dropped
when the scrubber reports the problem itself (:data:`DUPLICATES`, an empty segment), classified
(:func:`~.structural_error.classify`), placed in its transaction set (file order) with its
position (ST = 1) and the position that decides which claim it belongs to (``attach``: an error
about something *missing* is placed on the segment before the one where it was noticed), and kept
once. Envelope errors outside any transaction set go to :attr:`StructureIndex.envelope`.

Memory: the errors and one small record per transaction set, never the segments.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from pathlib import Path

from scrubber.check.structure.compiled import Unsupported, run_compiled
from scrubber.check.structure.normalize import NormalizedStream, StreamState, TxSpan, normalized
from scrubber.check.structure.rawerror import RawError, TooManyErrors
from scrubber.check.structure.structural_error import StructuralError, classify, strip_values
from scrubber.limits import Limits

__all__ = ["DUPLICATES", "TxErrors", "StructureIndex", "IndexBuilder", "build_index", "validate_structure"]

# pyx12 envelope errors the scrubber already reports (EN101/EN102 warnings: its outputs carry
# recounted trailers) or declares unusable (EN006 truncated): not repeated as SX findings.
DUPLICATES = {("isa", "001"), ("isa", "021"), ("isa", "023"), ("isa", "024"), ("gs", "3"), ("gs", "4"),
              ("gs", "5"), ("st", "2"), ("st", "3"), ("st", "4")}


@dataclass
class TxErrors:
    """One transaction set's span (lines, envelope) and its errors."""

    span: TxSpan
    errors: list[StructuralError] = field(default_factory=list)


@dataclass
class StructureIndex:
    """The structural errors of one input, by transaction set (file order) and position."""

    transactions: list[TxErrors]
    envelope: list[StructuralError]  # interchange / group level (tx is None)
    incomplete: str | None = None  # why pyx12 could not validate everything (a crash), or None
    incomplete_at: StructuralError | None = None
    state: StreamState | None = None  # envelope bookkeeping of the normalised stream
    validator: str = ""  # which validator produced it: "compiled" or "pyx12"

    def errors_of(self, ordinal: int) -> list[StructuralError]:
        if ordinal >= len(self.transactions):
            return []
        tx = self.transactions[ordinal]
        out = list(tx.errors)
        out += [e for e in self.envelope if e.isa == tx.span.isa_ordinal and (e.gs is None or e.gs == tx.span.gs_ordinal)]
        return out

    def count(self) -> int:
        return sum(len(t.errors) for t in self.transactions) + len(self.envelope)


def validate_structure(path: str | Path, limits: Limits | None = None,
                       validator: str = "compiled") -> StructureIndex:
    """Run the structural pass over ``path`` (see the module docstring); ``limits``: the reader's
    limits of the claim pass (``scrubber.limits.Limits``), so both passes read the same segments.

    ``validator``: "compiled" (:mod:`.compiled`, pyx12's map compiled; it hands the input to pyx12
    itself when it cannot give pyx12's answer, e.g. a 4010 interchange) or "pyx12"."""
    if validator == "compiled":
        stream = normalized(path, limits)
        builder = IndexBuilder(stream, limits)
        try:
            run_compiled(stream.lines(), builder.add)
        except Unsupported:
            if getattr(stream.error, "rule", None) == "EN013":
                # The reader stopped at a safety limit (the claim pass stops there too: the input
                # is unusable): pyx12 would only hold the whole input in memory to say so again.
                index = builder.finish(None)
                index.validator = "compiled"
                return index
        else:
            index = builder.finish(None)
            index.validator = "compiled"
            return index
    from scrubber.check.structure.pyx12run import run_pyx12  # pyx12 itself is imported only when it runs

    stream = normalized(path, limits)
    raw_errors, exc, _logs = run_pyx12(stream)
    index = build_index(stream, raw_errors, exc, limits)
    index.validator = "pyx12"
    return index


def build_index(stream: NormalizedStream, raw_errors: list[RawError], exc: BaseException | None,
                limits: Limits | None = None) -> StructureIndex:
    """The index of a finished run (pyx12's): every error at once."""
    builder = IndexBuilder(stream, limits)
    builder.close_spans()
    for raw in raw_errors:
        builder.add(raw)
    return builder.finish(exc)


class IndexBuilder:
    """Turns raw errors into the index one at a time, as a validator reports them while the stream
    is read (the compiled validator's errors are never all held as raw records)."""

    def __init__(self, stream: NormalizedStream, limits: Limits | None = None):
        self.stream = stream
        #: errors held at most ([limits] structure_errors); one more raises TooManyErrors
        self.max_errors = getattr(limits, "structure_errors", None) or Limits().structure_errors
        self.kept = 0
        self.state: StreamState = stream.state
        self.index = StructureIndex([], [], state=self.state)
        self.starts: list[int] = []
        self.env_lines: list[int] = []
        self.seen: set[tuple] = set()
        self.file_line: int | None = None  # line of the validator's own failure, if any

    def close_spans(self) -> None:
        for span in self.state.transactions:  # a transaction with no SE runs to the end of what was read
            if span.se_line is None:
                span.se_line = self.state.lines

    def _sync(self) -> None:
        spans, txs = self.state.transactions, self.index.transactions
        while len(txs) < len(spans):
            span = spans[len(txs)]
            txs.append(TxErrors(span))
            self.starts.append(span.st_line)
        env, lines = self.state.envelope, self.env_lines
        while len(lines) < len(env):
            lines.append(env[len(lines)].line)

    def add(self, raw: RawError) -> None:
        if raw.level == "file":
            self.file_line = raw.line
            return
        if (raw.level, raw.code) in DUPLICATES:
            return
        state = self.state
        line = raw.line
        if line is not None and line in state.placeholders:
            return  # an empty segment: reported by the reader's own rule
        err = classify(raw)
        if err is None:
            return
        self._sync()
        spans, starts, env_lines, index = state.transactions, self.starts, self.env_lines, self.index
        err.pyx12_code, err.level = raw.code, raw.level
        span = None
        if line is not None:
            i = bisect.bisect_right(starts, line) - 1
            if i >= 0 and spans[i].st_line <= line <= (spans[i].se_line or line):
                span = spans[i]
        if span is not None and raw.level not in ("isa", "gs"):
            err.tx, err.isa, err.gs = span.ordinal, span.isa_ordinal, span.gs_ordinal
            err.position = line - span.st_line + 1
            err.attach = err.position - 1 if err.rule in ("SX001", "SX002") and err.position > 1 else err.position
            if raw.level == "st":
                err.attach = None  # the transaction as a whole
        else:
            j = bisect.bisect_right(env_lines, line) - 1 if line is not None else -1
            env = state.envelope[j] if j >= 0 else None
            if env is None:
                return
            err.isa = env.isa_ordinal
            err.gs = env.gs_ordinal if raw.level != "isa" and env.seg_id in ("GS", "GE") else None
            if raw.level == "st" or (raw.level == "ele" and raw.seg_id in ("ST", "SE")):
                # an ST-level error outside the spans (no SE): the last transaction of the group
                k = bisect.bisect_right(starts, line) - 1 if line is not None else -1
                if k >= 0:
                    err.tx = spans[k].ordinal
                    err.gs = spans[k].gs_ordinal
        key = (err.tx, err.isa, err.gs, err.rule, err.position, err.segment, err.element,
               None if err.rule == "SX003" else err.message)  # one SX003 per unexpected segment
        if key in self.seen:
            return
        self.seen.add(key)
        self.kept += 1
        if self.kept > self.max_errors:
            raise TooManyErrors(f"more than {self.max_errors} structural errors in the file ([limits] structure_errors)")
        if err.tx is not None:
            index.transactions[err.tx].errors.append(err)
        else:
            index.envelope.append(err)

    def finish(self, exc: BaseException | None) -> StructureIndex:
        self.close_spans()
        self._sync()
        self.seen = set()
        index, spans, starts = self.index, self.state.transactions, self.starts
        if exc is not None and self.stream.error is None:
            # pyx12 gave up: what follows its last line was not validated.
            line = self.file_line
            index.incomplete = f"structural validation stopped early (pyx12 {type(exc).__name__}: {strip_values(str(exc))[:120]})"
            where = StructuralError("SX099", index.incomplete, None, None, None)
            if line is not None and starts:
                i = bisect.bisect_right(starts, line) - 1
                if i >= 0:
                    where.tx = spans[i].ordinal
                    where.position = line - spans[i].st_line + 1
                    where.attach = None
            index.incomplete_at = where
        return index

