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
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import IO

import structlog

from scrubber.atomic import AllOrNothing, OutputError, describe, is_write_fault
from scrubber.codesets.coverage import code_sets_used
from scrubber.check.engine import Engine, claim_status
from scrubber.check.structure import StructurePass
from scrubber.findings import Finding, cap_findings
from scrubber.report.edi import EdiWriter
from scrubber.report.jsonreport import JsonReport
from scrubber.report.names import CLEAN, REJECTED, REPORT, output_names, output_stem
from scrubber.report.outcome import ClaimOutcome, FileOutcome
from scrubber.report.progress import Progress
from scrubber.report.sink import Sink, overriding
from scrubber.report.text import TextReport
from scrubber.run.state import SentClaims
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


# (claim rule, structural code) pairs that describe one problem: a line without a diagnosis
# pointer is DP001 for the rule and SX006 "required composite SV107 missing" for the guide.
SAYS_THE_SAME = {("DP001", "SX006")}


def said_once(structural: list[Finding], findings: list[Finding]) -> list[Finding]:
    """The structural findings less those that a claim rule of :data:`SAYS_THE_SAME` already makes
    about the same element of the same segment, at the same severity (the claim rule's finding,
    which says what to change, is kept). The 999 still reports the structural error: it reads the
    structural pass itself."""
    taken: dict = {}
    for f in findings:
        if f.position is not None and f.element:
            for rule, code in SAYS_THE_SAME:
                if f.rule == rule:
                    taken[(code, f.position, f.element.partition("-")[0])] = f.severity
    if not taken:
        return structural
    return [f for f in structural
            if not (f.position is not None and f.element
                    and taken.get((f.rule, f.position, f.element.partition("-")[0])) == f.severity)]


def trailer_findings(problems: list, engine: Engine) -> list[Finding]:
    """The findings of envelope trailer problems (SE, GE, IEA counts and controls), as decided."""
    make = engine.decisions.finding
    found = (make(p.rule, p.message, p.segment, p.element, p.value) for p in problems)
    return [f for f in found if f is not None]


def file_sinks(out_dir: Path, stem: str, as_of: date, numbers=None) -> list[Sink]:
    """The outputs every scrub writes into ``out_dir``: NAME.clean.837, NAME.rejected.837 and
    NAME.report.json (last: it names the other two). ``numbers``: fresh control numbers for the
    837s (``--control-numbers new``; :mod:`scrubber.report.controls`), else the input's are kept."""
    return [
        EdiWriter(out_dir / f"{stem}.{CLEAN}", "clean", numbers=numbers),
        EdiWriter(out_dir / f"{stem}.{REJECTED}", "rejected", numbers=numbers),
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
    numbers=None,
    new_controls: bool = False,
    text_options: dict | None = None,
    state: SentClaims | None = None,
    source: str | None = None,
    publish: Callable[[], None] | None = None,
    ledger_key: bytes | None = None,
    sent_before: Callable[[str], tuple[str, str] | None] | None = None,
) -> FileOutcome:
    """Scrub one input into ``out_dir`` (NAME.report.json, NAME.clean.837, NAME.rejected.837), or,
    with ``out_dir`` None, into ``sinks`` only (no file written).

    ``sinks`` get every event after the file sinks (see :mod:`scrubber.report.sink`); ``text_out``
    is a shortcut for the text summary on that stream. ``structure``: run the structural pass
    (pyx12, SX rules) first; ``acks``: "999", "277ca" and/or "ta1" to write NAME.999 /
    NAME.277ca.edi / NAME.ta1. ``numbers``: where control numbers come from (the state folder's
    counter, :mod:`scrubber.run.counters`; this run's count when None): the acknowledgments'
    always, the clean and rejected 837s' with ``new_controls``. The outputs of one input are put
    in place together, or none of them (an :class:`~scrubber.atomic.OutputError` says why).

    ``state`` (:class:`~scrubber.run.state.SentClaims`): the claims already sent (PE003), as
    ``source`` (the watcher's job, or the scrub run); the accepted claims are recorded there once
    the outputs are complete. ``publish``: puts the outputs in place (the watcher's renames), run
    inside the state's commit; then an input that clashes with claims another worker recorded
    meanwhile is scrubbed again (the sinks must allow it). ``ledger_key`` and ``sent_before``
    without a state: the fingerprints' key and the lookup of claims already sent, nothing
    recorded (``--jobs`` gives its workers the parent's; the parent records)."""
    path = Path(path)
    tries = 3 if state is not None and publish is not None else 1
    for attempt in range(1, tries + 1):
        mark = state.mark() if state is not None else 0
        if state is not None:
            ledger = engine.open_ledger(state.key, state.lookup(source or ""))
        else:
            ledger = engine.open_ledger(ledger_key, sent_before)
        try:
            outcome = _written(path, out_dir, engine, text_out, sinks, structure, acks, numbers, new_controls,
                               text_options)
            if state is not None and ledger is not None and outcome.fatal is None and out_dir is not None:
                clash = state.commit(ledger, source or "", path.name, mark, publish, check=attempt < tries)
                if clash:
                    log.info("claims sent meanwhile by another input; scrubbing again", file=path.name, claims=clash)
                    for name in output_names(output_stem(path)):  # this attempt's outputs, not yet published
                        (Path(out_dir) / name).unlink(missing_ok=True)
                    continue
            elif publish is not None:
                publish()
            return outcome
        finally:
            engine.close_ledger()
    raise AssertionError("unreachable")  # pragma: no cover - the last attempt does not check


def _written(path: Path, out_dir, engine: Engine, text_out, sinks, structure, acks, numbers, new_controls: bool,
             text_options: dict | None) -> FileOutcome:
    """:func:`_scrub_file`, its outputs put in place together or none of them."""
    if out_dir is None:
        return _scrub_file(path, None, engine, text_out, sinks, structure, acks, numbers, new_controls, text_options)
    out_dir = Path(out_dir)
    try:
        with AllOrNothing():
            return _scrub_file(path, out_dir, engine, text_out, sinks, structure, acks, numbers, new_controls,
                               text_options)
    except OSError as exc:  # (an OutputError too; reading the input fails inside, as EN005)
        if isinstance(exc, BrokenPipeError):
            raise
        reason = describe(exc)
        raise OutputError(f"{path.name}: cannot write its outputs into {out_dir}: {reason}; "
                          "none of them was put in place", exc.errno, reason) from None


def _scrub_file(path: Path, out_dir: Path | None, engine: Engine, text_out, sinks, structure, acks, numbers,
                new_controls: bool, text_options: dict | None) -> FileOutcome:
    as_of = engine.context.as_of
    every: list[Sink] = []
    if out_dir is not None:
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError.of(f"cannot create {out_dir}", exc) from None
        every.extend(file_sinks(out_dir, output_stem(path), as_of, numbers if new_controls else None))
    elif acks:
        raise ValueError("acknowledgments are files: they need an out dir")
    every.extend(sinks)
    if text_out is not None:
        every.append(TextReport(text_out, **(text_options or {})))
    # The structural pass: a separate pass over the file, before the claim pass (a progress bar,
    # if any, draws its first half meanwhile).
    bar = next((s for s in every if isinstance(s, Progress)), None)
    if bar is not None and structure:
        with bar.structure(path):
            sx = StructurePass(engine, path, validate=structure)
    else:
        sx = StructurePass(engine, path, validate=structure)
    if acks:
        from scrubber.report.acks import ack_writers

        every.extend(ack_writers(acks, out_dir, output_stem(path), sx, as_of, numbers))
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
        settle = engine.settle
        for event in walk(segments, limits=limits):
            kind = type(event)
            if kind is Claim:
                findings = check(event)
                if sx_tx is not None:  # structural errors in the claim's loops or its transaction's header
                    extra = sx_tx.claim_findings(event)
                    if extra and findings:
                        extra = said_once(extra, findings)
                    if extra:  # (the engine's findings come sorted)
                        findings = sorted(findings + extra, key=Finding.sort_key)
                status = claim_status(findings)
                settle(event, status)
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
        if is_write_fault(exc):  # an output could not be written: not a problem of the input
            _discard(on_discard)
            raise
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
    try:
        for finish in overriding(sinks, "finish"):
            finish(outcome)
    except OSError as exc:  # writing an output failed: none of them is left (AllOrNothing)
        _discard(on_discard)
        if isinstance(exc, BrokenPipeError) or is_write_fault(exc):
            raise
        raise OutputError.of("cannot write", exc) from None
    return outcome


def _discard(hooks: list) -> None:
    for hook in hooks:
        try:
            hook()
        except Exception:  # noqa: BLE001 - the other sinks still drop theirs
            log.error("discard failed", sink=type(getattr(hook, "__self__", hook)).__name__)
