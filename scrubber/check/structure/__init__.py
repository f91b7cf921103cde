"""Structural validation (SNIP levels 1-2) of 837P transaction sets against the 005010X222A1 guide.

A separate pass over the input, before the claim pass: the scrubber's segments are re-serialised
(:mod:`.normalize`) and validated against pyx12's 837P map, compiled (:mod:`.compiled`, the
default) or by pyx12 itself (:mod:`.pyx12run`, ``[options] structure_validator = "pyx12"``, and
the fallback for what the compiled validator does not cover); each error (both report pyx12's
errors, :class:`.pyx12run.RawError`) becomes a :class:`StructuralError` with its rule
(SX001-SX020), the transaction set it is in, its position (ST = 1), loop, segment and element, and
the codes a 999 would carry (IK304 / IK403). The errors are indexed by transaction set (in file
order) and position (:class:`IndexBuilder`, one error at a time as the validator finds it).

Why a separate pass rather than checking segments as the claims stream by: a payer's 999 rejects
a whole transaction set (or group) for an error found at its end (SE01 count, a missing trailer,
a GE error), and the claim pass writes each claim's outcome as it reads it, so those errors must
be known before the transaction's first claim. Both passes stream; memory holds only errors.

The claim pass asks the index, per transaction set (:meth:`StructurePass.transaction`), for:
- transaction-level findings: errors in the header (ST, BHT, 1000A, 1000B), on SE, or in the
  envelope (ISA, GS, their trailers). They go once into the report's top-level ``findings`` and
  reject every claim of the transaction with a finding pointing at them, as a payer's 999 would;
- claim findings: errors whose position falls inside a claim's own segments (2300, 2400 ...) or
  inside the billing provider, subscriber or patient loops it carries (2000A/2000B/2000C). An
  error that reports something *missing* is placed on the segment before the one where pyx12
  noticed it (pyx12 notices a missing 2400 loop at the next HL).

Memory holds the errors (and one small record per transaction set), never the segments: it
grows with the number of errors, not with the number of claims.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from scrubber.findings import Ack, Finding
from scrubber.x12.reader import DEFAULT_MAX_SEGMENT
from scrubber.check.structure.normalize import RELABELLED, NormalizedStream, StreamState, TxSpan, normalized
from scrubber.check.structure.compiled import Unsupported, run_compiled
from scrubber.check.structure.rawerror import RawError

if TYPE_CHECKING:
    from scrubber.check.engine import Engine
    from scrubber.x12.model import Claim, Transaction

__all__ = ["StructuralError", "StructureIndex", "StructurePass", "validate_structure", "classify"]

ENVELOPE_IDS = {"ISA", "GS", "ST", "SE", "GE", "IEA"}
# pyx12 envelope errors the scrubber already reports (EN101/EN102 warnings: its outputs carry
# recounted trailers) or declares unusable (EN006 truncated): not repeated as SX findings.
_DUPLICATES = {("isa", "001"), ("isa", "021"), ("isa", "023"), ("isa", "024"), ("gs", "3"), ("gs", "4"),
               ("gs", "5"), ("st", "2"), ("st", "3"), ("st", "4")}


@dataclass(slots=True)
class StructuralError:
    rule: str
    message: str
    loop: str | None
    segment: str | None
    position: int | None  # position in the transaction set (ST = 1), as a 999 reports it
    element: str | None = None
    value: str | None = None  # only code values (never names, ids, dates)
    ik3: str | None = None  # IK304 code
    ik4: str | None = None  # IK403 code
    ik4_pos: str | None = None  # IK401 ("7:1")
    ik4_ref: str | None = None  # IK402 (data element number)
    ik5: str | None = None  # IK502 for transaction-level envelope errors
    attach: int | None = None  # the position used to find the claim it belongs to
    tx: int | None = None  # transaction ordinal (file order), None for envelope-level
    isa: int | None = None  # interchange ordinal
    gs: int | None = None  # group ordinal
    pyx12_code: str = ""
    level: str = ""

    def where(self) -> str:
        parts = [p for p in (self.loop, self.segment) if p]
        if self.position is not None:
            parts.append(f"#{self.position}")
        if self.element:
            parts.append(self.element)
        return " ".join(parts)


_NUMS = re.compile(r"=\s*(\d+)\s*([<>])\s*(\d+)")
_REF = re.compile(r"\(([A-Z][A-Z0-9]{1,2}\d{2}(?:-\d{1,2})?)\)")
_LOOP_MAX = re.compile(r"Loop (\w+) exceeded max count")
_NOT_FOUND = re.compile(r"Started at (\S+)")


def _ref(ref: str) -> str:
    m = re.fullmatch(r"([A-Z][A-Z0-9]{1,2}\d{2})(?:-(\d{1,2}))?", ref)
    if not m:
        return ref
    return m.group(1) + (f"-{int(m.group(2))}" if m.group(2) else "")


def classify(raw: RawError) -> StructuralError | None:
    """pyx12's error as the scrubber's structural error (without its place in the file)."""
    code, msg, seg, loop = raw.code, raw.message, raw.seg_id, raw.loop
    name = raw.name or ""
    if raw.level in ("isa", "gs", "st"):
        text = {"isa": "interchange", "gs": "functional group", "st": "transaction set"}[raw.level]
        return StructuralError("SX020", f"{text} envelope error: {msg} (pyx12 {raw.level.upper()} code {code})",
                               raw.level.upper(), seg or raw.level.upper(), None, ik5=code if raw.level == "st" else None)
    if raw.level == "ele":
        ref = raw.element or seg
        what = f"{ref} ({name})" if name else f"{ref}"
        if seg in ENVELOPE_IDS or (ref or "")[:-2] in ENVELOPE_IDS or (ref or "")[:3] in ENVELOPE_IDS:
            env = seg if seg in ENVELOPE_IDS else next((r for r in (ref[:3], ref[:2]) if r in ENVELOPE_IDS), None)
            return StructuralError("SX020", f"envelope element {what} is not valid (pyx12 element code {code})",
                                   env, env, None, ref, ik4=code)
        if code in ("1", "2", "I9"):
            rule, text = "SX006", f"required element {what} is missing"
        elif code in ("4", "5"):
            m = _NUMS.search(msg)
            size = f" ({m.group(1)} characters, {'at least' if m.group(2) == '<' else 'at most'} {m.group(3)})" if m else ""
            rule, text = "SX007", f"element {what} is too {'short' if code == '4' else 'long'}{size}"
        elif code in ("7", "I6"):
            rule, text = "SX008", f"{raw.value!r} is not a valid code for {what}"
        elif code in ("8", "9"):
            rule, text = "SX009", f"element {what} is not a valid {'date' if code == '8' else 'time'}"
        elif code in ("6", "I12"):
            rule, text = "SX010", f"element {what} holds a character its data type does not allow"
        else:
            rule, text = "SX011", f"element {what}: {_strip_values(msg)}"
        value = raw.value if rule == "SX008" and raw.value and len(raw.value) <= 30 else None
        return StructuralError(rule, f"{text} (999 IK403 {code})", loop, seg, None, ref, value,
                               ik3="8", ik4=code, ik4_pos=raw.ele_pos, ik4_ref=raw.ele_ref_num)
    if raw.level != "seg":
        return None
    if code == "3":
        if raw.missing_loop or "Mandatory loop" in msg:
            missing = raw.missing_loop or _paren(msg)
            return StructuralError("SX002", f"required loop {missing} ({name}) is missing from loop {loop} (999 IK304 3)",
                                   loop, seg, None, value=missing, ik3="3")
        missing = seg or _paren(msg)
        return StructuralError("SX001", f"required segment {missing} ({name}) is missing from loop {loop} (999 IK304 3)",
                               loop, missing, None, ik3="3")
    if code in ("1", "2", "6", "7", "I4", "I9"):
        m = _NOT_FOUND.search(msg)
        if m:
            parts = [p for p in m.group(1).split("/") if p]
            loops = [p for p in parts[:-1] if not p.endswith("_LOOP") and p not in ("DETAIL",)]
            loop = loops[-1] if loops else loop
        sid = _seg_of(msg) or (seg if seg and "Segment identifier" not in msg else "")
        kind = {"1": "is not recognised here", "2": "is not expected here", "6": "is not in the transaction set",
                "7": "is out of sequence"}.get(code, "is not used by the guide")
        if "Segment identifier" in msg:
            kind = "has an invalid segment identifier"
        return StructuralError("SX003", f"segment {sid or '(with no id)'} {kind} (loop {loop}) (999 IK304 {code})",
                               loop, sid or None, None, ik3=code)
    if code == "5":
        return StructuralError("SX004", f"segment {seg} repeats more often than the guide allows in loop {loop} (999 IK304 5)",
                               loop, seg, None, ik3="5")
    if code == "4":
        m = _LOOP_MAX.search(msg)
        which = m.group(1) if m else (loop or "")
        first = raw.data_id or (seg if seg and not seg[:1].isdigit() else None)
        return StructuralError("SX005", f"loop {which} repeats more often than the guide allows (999 IK304 4)",
                               _parent_loop(which, loop), first, None, value=which, ik3="4")
    if code in ("HL1", "HL2", "LX"):
        text = {
            "HL1": "HL01 does not number the hierarchical levels 1, 2, 3 ... in order",
            "HL2": "HL02 names a parent that is not an open hierarchical level",
            "LX": "LX01 does not number the claim's service lines 1, 2, 3 ... in order",
        }[code]
        return StructuralError("SX012", f"{text} (pyx12 {code}; 999 IK304 8)", loop, seg or code[:2], None,
                               "HL01" if code == "HL1" else "HL02" if code == "HL2" else "LX01", ik3="8")
    # code 8 and pyx12's SEG1: element problems seen at segment level
    if "Mandatory composite" in msg:
        ref = _paren(msg)
        return StructuralError("SX006", f"required composite {ref} is missing (999 IK304 8, IK403 1)",
                               loop, seg, None, _ref(ref) if ref else None, ik3="8", ik4="1")
    if "Too many sub-elements" in msg:
        ref = _paren(msg)
        return StructuralError("SX011", f"composite {ref} has more components than the guide allows (999 IK403 13)",
                               loop, seg, None, _ref(ref) if ref else None, ik3="8", ik4="13")
    if "Too many elements" in msg:
        m = re.search(r"Has (\d+), should have (\d+)", msg)
        element = f"{seg}{int(m.group(2)) + 1:02d}" if m and seg else None
        return StructuralError("SX011", f"segment {seg} has more elements than the guide allows (999 IK403 3)",
                               loop, seg, None, element, ik3="8", ik4="3")
    if code == "SEG1":
        return StructuralError("SX011", f"segment {seg} ends with empty elements (trailing separators) (999 IK304 8)",
                               loop, seg, None, ik3="8")
    return StructuralError("SX011", f"segment {seg}: {_strip_values(msg)} (999 IK304 8)", loop, seg, None, ik3="8")


def _paren(msg: str) -> str:
    found = re.findall(r"\(([A-Z0-9]{2,6}(?:-\d{2})?)\)", msg)
    return found[-1] if found else ""


def _seg_of(msg: str) -> str:
    """The segment id pyx12's text names ("Segment NM31*IL not found", 'Segment identifier "Nd4"')."""
    m = re.search(r'Segment identifier "([^"]*)"', msg) or re.search(r"Segment (\S*?)(?:\*|\s+not found)", msg)
    return (m.group(1) if m else "")[:6]


def _strip_values(msg: str) -> str:
    """pyx12's text without the data it quotes."""
    msg = re.sub(r'"[^"]*"\s*\(', "(", msg)
    msg = re.sub(r"\(([^)]*)\)", lambda m: m.group(0) if _REF.fullmatch(m.group(0)) or m.group(1).isupper() and len(m.group(1)) <= 8 else "(...)", msg)
    return msg.rstrip(".")


def _parent_loop(loop_id: str, fallback: str | None) -> str | None:
    parents = {"2010AA": "2000A", "2010AB": "2000A", "2010AC": "2000A", "2010BA": "2000B", "2010BB": "2000B",
               "2010CA": "2000C", "2300": "2000B", "2400": "2300", "2000B": "2000A", "2000C": "2000B"}
    if loop_id.startswith("231") or loop_id.startswith("232"):
        return "2300"
    if loop_id.startswith("233"):
        return "2320"
    if loop_id.startswith("24") and loop_id != "2400":
        return "2400"
    return parents.get(loop_id, fallback)


# -------------------------------------------------------------------------------------------
@dataclass
class TxErrors:
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


def validate_structure(path: str | Path, max_segment: int = DEFAULT_MAX_SEGMENT, limits=None,
                       validator: str = "compiled") -> StructureIndex:
    """Run the structural pass over ``path`` (see the module docstring); ``limits``: the reader's
    limits of the claim pass (``scrubber.limits.Limits``), so both passes read the same segments.

    ``validator``: "compiled" (:mod:`.compiled`, pyx12's map compiled; it hands the input to pyx12
    itself when it cannot give pyx12's answer, e.g. a 4010 interchange) or "pyx12"."""
    if validator == "compiled":
        stream = normalized(path, max_segment, limits)
        builder = IndexBuilder(stream)
        try:
            run_compiled(stream.lines(), builder.add)
        except Unsupported:
            pass
        else:
            index = builder.finish(None)
            index.validator = "compiled"
            return index
    from scrubber.check.structure.pyx12run import run_pyx12  # pyx12 itself is imported only when it runs

    stream = normalized(path, max_segment, limits)
    raw_errors, exc, _logs = run_pyx12(stream)
    index = build_index(stream, raw_errors, exc)
    index.validator = "pyx12"
    return index


def build_index(stream: NormalizedStream, raw_errors: list[RawError], exc: BaseException | None) -> StructureIndex:
    """The index of a finished run (pyx12's): every error at once."""
    builder = IndexBuilder(stream)
    builder.close_spans()
    for raw in raw_errors:
        builder.add(raw)
    return builder.finish(exc)


class IndexBuilder:
    """Turns raw errors into the index one at a time, as a validator reports them while the stream
    is read (the compiled validator's errors are never all held as raw records)."""

    def __init__(self, stream: NormalizedStream):
        self.stream = stream
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
        if (raw.level, raw.code) in _DUPLICATES:
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
            index.incomplete = f"structural validation stopped early (pyx12 {type(exc).__name__}: {_strip_values(str(exc))[:120]})"
            where = StructuralError("SX099", index.incomplete, None, None, None)
            if line is not None and starts:
                i = bisect.bisect_right(starts, line) - 1
                if i >= 0:
                    where.tx = spans[i].ordinal
                    where.position = line - spans[i].st_line + 1
                    where.attach = None
            index.incomplete_at = where
        return index


# -------------------------------------------------------------------------------------------
class StructurePass:
    """The structural side of one scrub: built before the claim pass, consulted during it.

    ``validate=False`` (``--no-structure``) skips pyx12; version labels are still checked.
    """

    def __init__(self, engine: Engine, path: str | Path | None = None, validate: bool = True,
                 max_segment: int = DEFAULT_MAX_SEGMENT):
        self.engine = engine
        self.index: StructureIndex | None = None
        self.failed: str | None = None  # why the validation stopped, when it did
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
                self.index = validate_structure(path, max_segment, limits,
                                                options.get("structure_validator", "compiled"))
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
