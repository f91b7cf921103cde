"""One input through the whole flow: reader -> claim model -> rules -> outcome -> sinks.

:func:`scrub` streams: one claim (with the loops it belongs to) is in memory at a time, and each
event goes to the sinks (:class:`scrubber.report.sink.Sink`) as it comes. :func:`scrub_file`
adds the file sinks of an out dir: the clean and rejected 837s and the report, written as claims
come under temporary names and put in place at the end (and the 999 / 277CA when asked for);
with no out dir it writes no file at all (``scrubber explain``). An input found unusable on the
way (truncated, not an 837P ...) leaves no clean or rejected file: none of its claims reaches a
clean file; the finding that made it unusable is ``FileOutcome.fatal``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import IO

import structlog

from scrubber.codesets.coverage import code_sets_used
from scrubber.check.engine import Engine, claim_status
from scrubber.check.structure import StructurePass
from scrubber.findings import Finding, cap_findings
from scrubber.report.edi import EdiWriter
from scrubber.report.jsonreport import JsonReport
from scrubber.report.names import CLEAN, REJECTED, REPORT, output_stem
from scrubber.report.outcome import ClaimOutcome, FileOutcome
from scrubber.report.sink import Sink, overriding
from scrubber.report.text import TextReport
from scrubber.x12.model import Claim, Group, GroupEnd, Interchange, InterchangeEnd, Transaction, TransactionEnd, walk
from scrubber.x12.reader import DEFAULT_MAX_SEGMENT, ReaderNote, UnusableInput, read_segments

log = structlog.get_logger("scrubber")


def file_digest(path: Path) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size



def _add_trailer_findings(outcome: FileOutcome, problems: list, engine: Engine) -> None:
    if problems:
        outcome.add(trailer_findings(problems, engine))


def _add_reader_notes(outcome: FileOutcome, notes: list[ReaderNote], engine: Engine) -> None:
    make = engine.decisions.finding
    found = [f for f in (make(n.rule, n.message, ack=False, offset=n.offset) for n in notes) if f is not None]
    outcome.add(found)


def trailer_findings(problems: list, engine: Engine) -> list[Finding]:
    """The findings of envelope trailer problems (SE, GE, IEA counts and controls), as decided."""
    make = engine.decisions.finding
    found = (make(p.rule, p.message, p.segment, p.element, p.value) for p in problems)
    return [f for f in found if f is not None]


def file_sinks(out_dir: Path, stem: str, as_of: date) -> list[Sink]:
    """The outputs every scrub writes into ``out_dir``: NAME.clean.837, NAME.rejected.837 and
    NAME.report.json (last: it names the other two)."""
    return [
        EdiWriter(out_dir / f"{stem}.{CLEAN}", "clean"),
        EdiWriter(out_dir / f"{stem}.{REJECTED}", "rejected"),
        JsonReport(out_dir / f"{stem}.{REPORT}", as_of.isoformat()),
    ]


def scrub_file(
    path: str | Path,
    out_dir: str | Path | None,
    engine: Engine,
    text_out: IO[str] | None = None,
    sinks: Sequence[Sink] = (),
    structure: bool = True,
    acks: Sequence[str] = (),
) -> FileOutcome:
    """Scrub one input into ``out_dir`` (NAME.report.json, NAME.clean.837, NAME.rejected.837), or,
    with ``out_dir`` None, into ``sinks`` only (no file written).

    ``sinks`` get every event after the file sinks (see :mod:`scrubber.report.sink`); ``text_out``
    is a shortcut for the text summary on that stream. ``structure``: run the structural pass
    (pyx12, SX rules) first; ``acks``: "999" and/or "277ca" to write NAME.999 / NAME.277ca.edi."""
    path = Path(path)
    as_of = engine.context.as_of
    every: list[Sink] = []
    if out_dir is not None:
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        every.extend(file_sinks(out_dir, output_stem(path), as_of))
    elif acks:
        raise ValueError("acknowledgments are files: they need an out dir")
    every.extend(sinks)
    if text_out is not None:
        every.append(TextReport(text_out))
    # The structural pass: a separate pass over the file, before the claim pass.
    sx = StructurePass(engine, path, validate=structure)
    if acks:
        from scrubber.report.acks import ack_writers

        every.extend(ack_writers(acks, out_dir, output_stem(path), sx, as_of))
    return scrub(path, engine, every, sx)


def scrub(path: Path, engine: Engine, sinks: Sequence[Sink], structure: StructurePass) -> FileOutcome:
    """reader -> claim model -> rules (and the structural findings of ``structure``) -> ``sinks``,
    each event to each sink that takes it, in order. Every finding is made by the engine's
    decision point (``engine.decisions``)."""
    outcome = FileOutcome(name=path.name, max_findings=engine.limits.file_findings)
    claim_cap = engine.limits.claim_findings
    sx = structure
    sx_tx = None
    for start in overriding(sinks, "start"):
        start(outcome)
    on_claim = overriding(sinks, "claim")
    on_interchange, on_interchange_end = overriding(sinks, "interchange"), overriding(sinks, "interchange_end")
    on_group, on_group_end = overriding(sinks, "group"), overriding(sinks, "group_end")
    on_transaction, on_transaction_end = overriding(sinks, "transaction"), overriding(sinks, "transaction_end")
    on_discard = overriding(sinks, "discard")
    fatal: Finding | None = None
    notes: list[ReaderNote] = []
    try:
        limits = engine.limits
        if path.stat().st_size > limits.file_bytes:
            raise UnusableInput("EN012", f"the file is larger than the limit of {limits.file_bytes} bytes ([limits] file_bytes)")
        outcome.sha256, outcome.size = file_digest(path)
        outcome.code_sets = code_sets_used(engine.context.as_of)
        if getattr(sx, "over_limit", None):
            raise UnusableInput("EN013", sx.over_limit)
        segments = read_segments(
            path, max_segment=min(DEFAULT_MAX_SEGMENT, limits.segment_bytes), notes=notes,
            max_elements=limits.elements_per_segment, max_empty=limits.empty_segments,
            max_components=limits.components_per_element,
        )
        check = engine.check
        for event in walk(segments, limits=limits):
            kind = type(event)
            if kind is Claim:
                findings = check(event)
                if sx_tx is not None:  # structural errors in the claim's loops or its transaction's header
                    extra = sx_tx.claim_findings(event)
                    if extra:  # (the engine's findings come sorted)
                        findings = sorted(findings + extra, key=Finding.sort_key)
                status = claim_status(findings)
                outcome.claims += 1
                outcome.count(findings, claim=True)
                if len(findings) > claim_cap:  # listed up to the limit, the rest summarised (EN106)
                    findings = cap_findings(findings, claim_cap)
                result = ClaimOutcome(event, findings, status)
                if status == "accepted":
                    outcome.accepted += 1
                else:
                    outcome.rejected += 1
                for hook in on_claim:
                    hook(result)
            elif kind is Transaction:
                for hook in on_transaction:
                    hook(event)
                sx_tx = sx.transaction(event)
            elif kind is TransactionEnd:
                for hook in on_transaction_end:
                    hook(event)
                _add_trailer_findings(outcome, event.findings, engine)
                if sx_tx is not None:  # transaction-level structural findings, once, at the top level
                    outcome.add(sx_tx.top_findings() + sx_tx.leftover_findings())
                    sx_tx = None
            elif kind is Group:
                for hook in on_group:
                    hook(event)
            elif kind is GroupEnd:
                for hook in on_group_end:
                    hook(event)
                _add_trailer_findings(outcome, event.findings, engine)
            elif kind is Interchange:
                for hook in on_interchange:
                    hook(event)
                _add_trailer_findings(outcome, event.findings, engine)
            elif kind is InterchangeEnd:
                for hook in on_interchange_end:
                    hook(event)
                _add_trailer_findings(outcome, event.findings, engine)
        if outcome.claims == 0:
            raise UnusableInput("EN010", "no claims: the file holds no 837P claim (CLM) to scrub")
    except UnusableInput as exc:
        fatal = engine.decisions.must(exc.rule, exc.message, segment=exc.segment)
    except BrokenPipeError:
        _discard(on_discard)
        raise  # standard output was closed (`| head`): not a problem of the input
    except OSError as exc:
        fatal = engine.decisions.must("EN005", f"unreadable: {exc.strerror or exc}")
    except Exception as exc:  # noqa: BLE001 - a bug must not lose the input or print a traceback
        log.error("internal error", file=path.name, error=type(exc).__name__)
        fatal = engine.decisions.must("EN011", f"internal error while scrubbing ({type(exc).__name__}); please report it")
    except BaseException:  # interrupted: no partial file is left
        _discard(on_discard)
        raise

    _add_reader_notes(outcome, notes, engine)
    outcome.close_findings()
    if fatal is not None:
        not_submitted = None
        if outcome.claims:
            not_submitted = engine.decisions.must(fatal.rule, f"not submitted: the input is unusable ({fatal.message})")
        outcome.make_unusable(fatal, not_submitted)
        _discard(on_discard)
    else:
        outcome.status = "rejections" if outcome.rejected else "clean"
    for finish in overriding(sinks, "finish"):
        finish(outcome)
    return outcome


def _discard(hooks: list) -> None:
    for hook in hooks:
        try:
            hook()
        except Exception:  # noqa: BLE001 - the other sinks still drop theirs
            log.error("discard failed", sink=type(getattr(hook, "__self__", hook)).__name__)
