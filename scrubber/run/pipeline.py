"""One input through the whole flow: reader -> claim model -> rules -> outcome -> writers.

``scrub_file`` streams: one claim (with the loops it belongs to) is in memory at a time; the
clean and rejected 837s and the report are written as claims come, under temporary names, and
put in place at the end. An input found unusable on the way (truncated, not an 837P ...) leaves
no clean or rejected file: none of its claims reaches a clean file.
"""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path
from collections.abc import Sequence
from typing import IO, Protocol

import structlog

from scrubber.check.engine import Engine, claim_status
from scrubber.findings import Finding
from scrubber.x12.model import Claim, Group, GroupEnd, Interchange, InterchangeEnd, Transaction, TransactionEnd, walk
from scrubber.report.outcome import ClaimOutcome, FileOutcome
from scrubber.x12.reader import DEFAULT_MAX_SEGMENT, ReaderNote, UnusableInput, read_segments
from scrubber.check.structure import StructurePass
from scrubber.report.edi import EdiWriter
from scrubber.report.jsonreport import JsonReport, TextReport

log = structlog.get_logger("scrubber")


class Formatter(Protocol):
    """A report format that streams: start, then one call per claim, then finish (flake8-style)."""

    def start(self, outcome: FileOutcome) -> None: ...

    def claim(self, result: ClaimOutcome) -> None: ...

    def finish(self, outcome: FileOutcome) -> None: ...


def output_stem(input_path: str | Path) -> str:
    """NAME for the outputs: the input's file name without directories or its last extension."""
    name = Path(str(input_path)).name
    stem = name.rsplit(".", 1)[0] if "." in name.strip(".") else name
    return stem or "input"


def output_names(stem: str) -> list[str]:
    """Every file name the scrub of an input with this NAME may write into the out dir."""
    return [f"{stem}.{suffix}" for suffix in (
        "report.json", "clean.837", "rejected.837", "report.html", "report.csv", "999", "277ca.edi")]


def file_digest(path: Path) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


def code_sets_used(as_of=None) -> dict:
    """The report's ``code_sets`` (see :mod:`scrubber.codesets.coverage`)."""
    from scrubber.codesets.coverage import code_sets_used as used

    return used(as_of)


def _add_trailer_findings(outcome: FileOutcome, problems: list, engine: Engine) -> None:
    if problems:
        found = trailer_findings(problems, engine)
        outcome.findings.extend(found)
        outcome.count(found)


def _add_reader_notes(outcome: FileOutcome, notes: list[ReaderNote], engine: Engine) -> None:
    make = engine.decisions.finding
    found = [f for f in (make(n.rule, n.message, ack=False, offset=n.offset) for n in notes) if f is not None]
    outcome.findings.extend(found)
    outcome.count(found)


def trailer_findings(problems: list, engine: Engine) -> list[Finding]:
    make = engine.decisions.finding
    found = (make(p.rule, p.message, p.segment, p.element, p.value) for p in problems)
    return [f for f in found if f is not None]


def scrub_file(
    path: str | Path,
    out_dir: str | Path,
    engine: Engine,
    text_out: IO[str] | None = None,
    formatters: Sequence[Formatter] = (),
    structure: bool = True,
    acks: Sequence[str] = (),
) -> FileOutcome:
    """Scrub one input. ``formatters`` get start(outcome) -> claim(ClaimOutcome)... -> finish(outcome);
    ``text_out`` is a shortcut for the text summary formatter on that stream.
    ``structure``: run the structural pass (pyx12, SX rules) first; ``acks``: "999" and/or "277ca"
    to write NAME.999 / NAME.277ca.edi."""
    path = Path(path)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = output_stem(path)
    outcome = FileOutcome(name=path.name)
    report = JsonReport(out_dir / f"{stem}.report.json", engine.context.as_of.isoformat())
    formatters = list(formatters)
    if text_out is not None:
        formatters.append(TextReport(text_out))
    clean = EdiWriter(out_dir / f"{stem}.clean.837")
    rejected = EdiWriter(out_dir / f"{stem}.rejected.837")
    writers = (clean, rejected)
    # The structural pass (a separate pass over the file, before the claim pass) and
    # the acknowledgment writers, which are formatters (start/claim/finish).
    sx = StructurePass(engine, path, validate=structure)
    sx_tx = None
    if acks:
        from scrubber.report.acks import ack_writers

        formatters.extend(ack_writers(acks, out_dir, stem, sx, engine.context.as_of))
    report.start()
    for fmt in formatters:
        fmt.start(outcome)
    fatal: Finding | None = None
    notes: list[ReaderNote] = []
    try:
        limits = engine.limits
        if path.stat().st_size > limits.file_bytes:
            raise UnusableInput("EN012", f"the file is larger than the limit of {limits.file_bytes} bytes ([limits] file_bytes)")
        outcome.sha256, outcome.size = file_digest(path)
        outcome.code_sets = code_sets_used(engine.context.as_of)
        segments = read_segments(
            path, max_segment=min(DEFAULT_MAX_SEGMENT, limits.segment_bytes), notes=notes,
            max_elements=limits.elements_per_segment, max_empty=limits.empty_segments,
        )
        for event in walk(segments, max_claim_segments=limits.claim_segments):
            kind = type(event)
            if kind is Claim:
                findings = engine.check(event)
                if sx_tx is not None:  # structural errors in the claim's loops or its transaction's header
                    extra = sx_tx.claim_findings(event)
                    if extra:  # (the engine's findings come sorted)
                        findings = sorted(findings + extra, key=Finding.sort_key)
                status = claim_status(findings)
                result = ClaimOutcome(event, findings, status)
                outcome.claims += 1
                outcome.count(findings, claim=True)
                if status == "accepted":
                    outcome.accepted += 1
                    clean.claim(event)
                else:
                    outcome.rejected += 1
                    rejected.claim(event)
                report.claim(result)
                for fmt in formatters:
                    fmt.claim(result)
            elif kind is Transaction:
                for w in writers:
                    w.transaction(event)
                sx_tx = sx.transaction(event)
            elif kind is TransactionEnd:
                for w in writers:
                    w.transaction_end()
                _add_trailer_findings(outcome, event.findings, engine)
                if sx_tx is not None:  # transaction-level structural findings, once, at the top level
                    found = sx_tx.top_findings() + sx_tx.leftover_findings()
                    outcome.findings.extend(found)
                    outcome.count(found)
                    sx_tx = None
            elif kind is Group:
                for w in writers:
                    w.group(event)
            elif kind is GroupEnd:
                for w in writers:
                    w.group_end()
                _add_trailer_findings(outcome, event.findings, engine)
            elif kind is Interchange:
                for w in writers:
                    w.interchange(event)
                _add_trailer_findings(outcome, event.findings, engine)
            elif kind is InterchangeEnd:
                for w in writers:
                    w.interchange_end()
                _add_trailer_findings(outcome, event.findings, engine)
        if outcome.claims == 0:
            raise UnusableInput("EN010", "no claims: the file holds no 837P claim (CLM) to scrub")
    except UnusableInput as exc:
        fatal = engine.decisions.must(exc.rule, exc.message, segment=exc.segment)
    except BrokenPipeError:
        raise  # standard output was closed (`| head`): not a problem of the input
    except OSError as exc:
        fatal = engine.decisions.must("EN005", f"unreadable: {exc.strerror or exc}")
    except Exception as exc:  # noqa: BLE001 - a bug must not lose the input or print a traceback
        log.error("internal error", file=path.name, error=type(exc).__name__)
        fatal = engine.decisions.must("EN011", f"internal error while scrubbing ({type(exc).__name__}); please report it")

    _add_reader_notes(outcome, notes, engine)
    if fatal is not None:
        outcome.status = "unusable"
        outcome.unusable = fatal.message
        outcome.findings.append(fatal)
        outcome.count([fatal])
        outcome.rejected = outcome.claims
        outcome.accepted = 0
        for w in writers:
            w.discard()
    else:
        outcome.outputs["clean"] = _name(clean.close(keep=True))
        outcome.outputs["rejected"] = _name(rejected.close(keep=True))
        outcome.status = "rejections" if outcome.rejected else "clean"
    reject_all = None
    if fatal is not None and outcome.claims:
        reject_all = engine.decisions.must(fatal.rule, f"not submitted: the input is unusable ({fatal.message})")
    outcome.report_path = str(report.finish(outcome, reject_all))
    for fmt in formatters:
        fmt.finish(outcome)
    return outcome


def _name(path: Path | None) -> str | None:
    return str(path) if path else None


def today() -> date:
    return date.today()
