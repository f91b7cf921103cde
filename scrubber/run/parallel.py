"""``--jobs N``: several inputs in parallel, and one large input split at transaction-set boundaries.

Splitting one file: a byte scan (regular expressions over a memory map: no segment objects) finds
each interchange, group and transaction set (ST..SE). Consecutive transaction sets of one group
are cut into units of similar size; each unit becomes a small interchange of its own (the
original ISA and GS, the unit's ST..SE bytes unchanged, a GE and IEA counted for the unit) that
a worker process scrubs with the ordinary pipeline. The parent stitches the units' clean and
rejected 837s back into the original envelopes (SE01 as the workers counted it, GE01 and IEA01
recounted), the reports into one report, and checks the original GE and IEA trailers itself, so
the outputs are the same as a single-process run's.

A file that is not regular enough for the byte scan (inconsistent line breaks, empty segments,
an unterminated last segment, envelopes out of order, a segment between two envelopes outside a
transaction set, a UTF-8 byte-order mark, more interchanges and groups than a layout holds, more
envelopes than ``[limits] envelopes``) or whose units are not all usable (or whose top-level
findings pass ``[limits] file_findings``) is scrubbed in one process instead: the split is an optimisation, never a
different result.

Where the units run is a *runner*: :class:`LocalRunner` (a pool of forked processes, ``--jobs``)
or the Dask runner of :mod:`scrubber.run.cluster` (``--cluster``); both run the same unit
functions (:func:`scrub_unit`, :func:`scrub_whole`) and the join here is the same for both.

Claims compared across the file (PE001, PE002): each worker writes, per claim, its keyed
fingerprint and CLM01 key (under a key the parent gives all workers) and whether it was
accepted; the parent reads the units in order and, when a claim of one unit repeats a claim
accepted in an earlier unit (which its worker could not see), scrubs the file in one process
instead. With a state folder the workers only look up the claims already sent (PE003); the
parent records the accepted claims once the clean file is complete.
"""

from __future__ import annotations

import json
import mmap
import os
import re
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from scrubber.config import Config
from scrubber.check.engine import Engine
from scrubber.x12.model import EnvelopeProblem, check_control, check_count
from scrubber.report.outcome import FileOutcome
from scrubber.atomic import AllOrNothing, AtomicFile, OutputError, TempDir, describe, private_file
from scrubber.report.names import CLEAN, REJECTED, REPORT, output_stem
from scrubber.codesets.coverage import code_sets_used
from scrubber.run.pipeline import file_digest, scrub_file, trailer_findings
from scrubber.x12.reader import ISA_LENGTH, Delimiters, Segment, UnusableInput, detect_delimiters
from scrubber.report.jsonreport import copy_range, finding_from_json, join_reports, read_report_lines, report_head
from scrubber.report.sink import Sink
from scrubber.report.text import TextReport
from scrubber.rules.payer._common import FileLedger, Where
from scrubber.run.state import SentClaims

_MAX_PLANNED = 10_000  # interchanges and groups in one layout at most (a split of more is read by one process)
SPLIT_MIN_BYTES = 4 << 20  # smaller files are not worth the processes' start-up
AUTO_MAX_JOBS = 8  # --jobs auto: at most this many processes (each holds its own ~70 MB)


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity mask, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def auto_jobs(files: list[Path]) -> int:
    """``--jobs auto``: one process per usable CPU (at most AUTO_MAX_JOBS) when the inputs come
    to at least SPLIT_MIN_BYTES together; a single process for smaller work, where starting
    workers would cost more than it saves."""
    total = 0
    for f in files:
        try:
            total += f.stat().st_size
        except OSError:
            pass
    if total < SPLIT_MIN_BYTES:
        return 1
    return max(1, min(usable_cpus(), AUTO_MAX_JOBS))


@dataclass
class GroupPlan:
    gs: Segment
    blocks: list[tuple[int, int]] = field(default_factory=list)  # byte ranges of ST..SE (with terminators)
    ge: Segment | None = None


@dataclass
class InterchangePlan:
    isa: Segment
    delims: Delimiters
    groups: list[GroupPlan] = field(default_factory=list)
    iea: Segment | None = None


_WINDOW = 2 << 20  # bytes of a memory map scanned between two releases of its pages


class _Pages:
    """Drops the pages of a read-only memory map that a scan has passed from this process's
    resident set (``madvise(MADV_DONTNEED)``), so that scanning a large file does not count the
    whole file as the process's memory. The page cache keeps them; a later look faults them in."""

    def __init__(self, data):
        self.data = data
        self.done = 0  # released below this offset

    def passed(self, offset: int) -> None:
        if offset - self.done < _WINDOW:
            return
        upto = offset - offset % mmap.PAGESIZE
        try:
            self.data.madvise(mmap.MADV_DONTNEED, self.done, upto - self.done)
        except (AttributeError, OSError, ValueError):  # not a memory map, or no madvise here
            pass
        self.done = upto

    def finditer(self, pattern: re.Pattern, start: int):
        """``pattern.finditer`` (a pattern that looks at most 8 bytes ahead) over data[start:], a
        window at a time, each window's pages released after it: a long stretch with no match
        (one huge transaction set) is not held resident."""
        size = len(self.data)
        at = start
        while at < size:
            stop = min(size, at + _WINDOW)
            for m in pattern.finditer(self.data, at, min(size, stop + 8)):
                if m.start() >= stop:
                    break
                yield m
            at = stop
            self.passed(at)

    def search(self, pattern: re.Pattern, start: int, end: int) -> bool:
        """Does ``pattern`` (which looks at most 8 bytes ahead) match in data[start:end]? Scanned
        a window at a time, each window's pages released after it."""
        self.done = min(self.done, start - start % mmap.PAGESIZE)
        at = start
        while at < end:
            stop = min(end, at + _WINDOW)
            m = pattern.search(self.data, at, min(end, stop + 8))
            if m is not None and m.start() < stop:
                return True
            at = stop
            self.passed(at)
        return False


def _segment_at(data, start: int, delims: Delimiters) -> tuple[Segment, int]:
    end = data.find(delims.segment.encode("latin-1"), start)
    if end < 0:
        raise ValueError("unterminated")
    seg = Segment(bytes(data[start:end]).decode("latin-1"), start, delims)
    return seg, end + 1 + len(delims.suffix)


def plan(path: Path, max_envelopes: int = 1 << 62) -> list[InterchangePlan] | None:
    """The envelope layout of a regular file, or None when it must be read segment by segment
    (also when it has more than ``max_envelopes`` ISA, GS and ST: the layout is held in memory)."""
    with open(path, "rb") as fh:
        try:
            data = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        except ValueError:  # empty file
            return None
    try:
        return _plan(data, max_envelopes)
    except (ValueError, UnusableInput, IndexError):
        return None
    finally:
        data.close()


def _plan(data, max_envelopes: int = 1 << 62) -> list[InterchangePlan] | None:
    pages = _Pages(data)
    envelopes = planned = 0
    plans: list[InterchangePlan] = []
    pos = 0
    size = len(data)
    while True:
        while pos < size and data[pos:pos + 1] in (b"\r", b"\n", b" ", b"\t"):
            pos += 1
        if pos >= size:
            break
        if data[pos:pos + 3] != b"ISA":
            return None
        head = bytes(data[pos:pos + 600]).decode("latin-1")
        delims = detect_delimiters(head)
        if len(head.split(delims.segment, 1)[0]) + 1 != ISA_LENGTH:
            return None
        term = delims.segment.encode("latin-1")
        sep = term + delims.suffix.encode("latin-1")
        elem = re.escape(delims.element.encode("latin-1"))
        isa, pos = _segment_at(data, pos, delims)
        current = InterchangePlan(isa, delims)
        envelopes += 1
        planned += 1
        if planned > _MAX_PLANNED:
            return None  # each interchange's and group's plan holds segments: so many are read by one process
        pattern = re.compile(re.escape(sep) + rb"(ST|SE|GS|GE|IEA)" + elem)
        group: GroupPlan | None = None
        st_start = None
        # Outside a transaction set every segment is an envelope segment: each one found must
        # start where the one before it ended (anything between them, a stray segment, is seen
        # by the single-process reader: then the file is read segment by segment).
        expect = pos
        # The segment after the ISA is a GS: match from the ISA's own terminator on.
        for m in pages.finditer(pattern, pos - len(sep)):
            kind = m.group(1)
            start = m.start(1)
            pages.passed(start)
            if kind != b"SE":
                if expect is not None and start != expect:
                    return None
                expect = None
                if kind in (b"GS", b"ST"):
                    envelopes += 1
                    if envelopes > max_envelopes:
                        return None
            if kind == b"GS":
                if group is not None or st_start is not None:
                    return None
                seg, expect = _segment_at(data, start, delims)
                group = GroupPlan(seg)
                planned += 1
                if planned > _MAX_PLANNED:
                    return None
            elif kind == b"ST":
                if group is None or st_start is not None:
                    return None
                st_start = start
            elif kind == b"SE":
                if st_start is None:
                    return None
                _, end = _segment_at(data, start, delims)
                group.blocks.append((st_start, end))
                st_start = None
                expect = end
            elif kind == b"GE":
                if group is None or st_start is not None:
                    return None
                group.ge, expect = _segment_at(data, start, delims)
                current.groups.append(group)
                group = None
            else:  # IEA
                if group is not None or st_start is not None:
                    return None
                current.iea, pos = _segment_at(data, start, delims)
                break
        if current.iea is None or envelopes > max_envelopes:
            return None
        # Regular means: every terminator followed by the same line break, no empty segment.
        region = (current.isa.offset, pos)
        if delims.suffix and pages.search(re.compile(re.escape(term) + rb"(?!" + re.escape(sep[len(term):]) + rb")"), *region):
            return None
        if pages.search(re.compile(re.escape(sep + term) + b"|" + re.escape(sep + sep)), *region):
            return None
        plans.append(current)
    return plans or None


# --- workers -----------------------------------------------------------------------------------

_ENGINE: dict = {}
ENGINES_BUILT = [0]  # engines this process has built (one per configuration and as-of date)
UNITS_DONE = [0]  # units and whole inputs this process has scrubbed


def worker_engine(config: Config, as_of: date) -> Engine:
    """This process's engine for ``config`` and ``as_of``: built once, kept for the next units."""
    key = (repr(config), as_of)  # one engine (and its loaded maps) per worker process
    if key not in _ENGINE:
        _ENGINE.clear()
        _ENGINE[key] = Engine(config, as_of)
        ENGINES_BUILT[0] += 1
    return _ENGINE[key]



def warm(config: Config, as_of: date, structure: bool | None = None) -> Engine:
    """Build this process's engine and load its tables (and the compiled 837P map when the
    structural pass runs) before the workers start: forked workers inherit them instead of each
    loading its own (the ICD-10-CM table alone takes about 0.1 s)."""
    engine = worker_engine(config, as_of)
    from scrubber.codesets.backpain import MapError, preload

    try:
        engine.context.icd10cm  # noqa: B018 - loads the table into the engine's maps
        preload(engine)
    except (MapError, OSError, ValueError):  # reported by the worker that needs the map, as without --jobs
        pass
    if any(getattr(rule, "uses_ncci", False) for rule in engine.rules):
        from scrubber.codesets.ncci import NcciError, load_ncci

        try:
            load_ncci()  # cached in this process: forked workers inherit the tables
        except NcciError:  # the rules report it (not_checked), as without --jobs
            pass
    if structure is not False and config.options.get("structure_validator", "compiled") == "compiled":
        try:
            from scrubber.check.structure import compiled_maps

            compiled_maps()
        except Exception:  # noqa: BLE001 - the worker meets the same problem and falls back to pyx12
            pass
    return engine


@contextmanager
def _pool(jobs: int):
    """A process pool whose forked workers find the parent's objects frozen (``gc.freeze``): their
    collector does not write to the inherited objects, which would copy the pages. The parent's
    objects are unfrozen when the pool is done."""
    import gc
    from concurrent.futures import ProcessPoolExecutor  # (here: most runs only ask auto_jobs)

    gc.collect()
    gc.freeze()
    try:
        pool = ProcessPoolExecutor(max_workers=jobs, initializer=_worker_signals)
        try:
            yield pool
        except GeneratorExit:  # a runner's generator closed by its reader, every result taken: a normal end
            pool.shutdown(wait=True)
            raise
        except BaseException:  # Ctrl-C or an error: the workers are ended, not waited for
            _end_workers(pool)
            raise
        pool.shutdown(wait=True)
    finally:
        gc.unfreeze()


def _worker_signals() -> None:
    """In each worker: Ctrl-C is the parent's to handle (no traceback from every worker); SIGTERM
    (sent by the parent when it stops) unwinds the worker, so that the sinks drop their partial files."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _stop_worker)


def _stop_worker(signum, frame) -> None:
    raise SystemExit(128 + signum)


def _end_workers(pool) -> None:
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for p in processes:
        try:
            p.terminate()
        except (OSError, ValueError, AttributeError):
            pass
    for p in processes:
        try:
            p.join(10)
        except (OSError, ValueError, AssertionError):
            pass


class LocalRunner:
    """``--jobs N``: the units in a pool of ``jobs`` forked processes that inherit this process's
    warmed engine and tables."""

    def __init__(self, jobs: int):
        self.jobs = jobs

    def prepare(self, config: Config, as_of: date, structure: bool | None) -> None:
        warm(config, as_of, structure)

    def unordered(self, fn, jobs: list):
        """Yield (index, result) as each job finishes; a job's exception is raised here."""
        from concurrent.futures import as_completed

        with _pool(self.jobs) as pool:
            pending = {pool.submit(fn, job): i for i, job in enumerate(jobs)}
            for done in as_completed(pending):
                yield pending[done], done.result()

    def ordered(self, fn, jobs: list):
        """Yield each job's result in the order of ``jobs``."""
        with _pool(self.jobs) as pool:
            yield from pool.map(fn, jobs)


class UnitFailed(Exception):
    """A unit's task failed where it ran (it raised, or the workers running it were killed): the
    input it belongs to is reported as not scrubbed (EN011), naming the unit."""

    def __init__(self, where: str, error: str):
        super().__init__(f"{where}: {error}")
        self.where = where
        self.error = error


def _write_unit(job: dict, unit: Path) -> None:
    """The unit's interchange (original ISA and GS, its ST..SE bytes, a GE and IEA counted for it),
    written under a temporary name and renamed: a task run again never reads a half-written unit."""
    d: Delimiters = job["delims"]
    sep = d.segment + d.suffix
    e = d.element
    file = AtomicFile(unit, "wb", 0o600)  # a copy of claims: 0600
    out = file.open()
    try:
        with open(job["path"], "rb") as src:
            out.write((job["isa"] + sep + job["gs"] + sep).encode("latin-1"))
            for start, end in job["blocks"]:
                copy_range(src, start, end, out)  # a megabyte at a time: a block may be very large
        out.write(f"GE{e}{len(job['blocks'])}{e}{job['gs06']}{sep}IEA{e}1{e}{job['isa13']}{sep}".encode("latin-1"))
    except BaseException:
        file.discard()
        raise
    file.commit()


def scrub_unit(job: dict) -> dict:
    """Scrub one unit (a list of ST..SE byte ranges of one group) as an interchange of its own."""
    unit = Path(job["dir"]) / f"u{job['index']:05d}.837"
    _write_unit(job, unit)
    engine = worker_engine(job["config"], job["as_of"])
    kwargs = {"structure": job["structure"]} if job["structure"] is not None else {}
    digests = Path(job["dir"]) / f"d{job['index']:05d}.jsonl"
    store = SentClaims(job["state_dir"], job["as_of"], job["days"]) if job.get("state_dir") else None
    try:
        with open(digests, "w", encoding="utf-8") as fh:
            outcome = scrub_file(unit, Path(job["dir"]) / f"out{job['index']:05d}", engine,
                                 sinks=[_Digests(engine, fh)], ledger_key=job["ledger_key"],
                                 sent_before=store.lookup(job["source"]) if store is not None else None, **kwargs)
    finally:
        if store is not None:
            store.close()
    UNITS_DONE[0] += 1
    fatal = outcome.fatal.rule if outcome.fatal else None
    return {
        "index": job["index"], "report": outcome.report_path, "clean": outcome.outputs["clean"],
        "rejected": outcome.outputs["rejected"], "fatal": fatal, "digests": str(digests),
        "tally": _tally(outcome.report_path, Path(job["dir"]) / f"t{job['index']:05d}.txt" if job["text"] else None,
                        job.get("text_options")),
    }


class _Digests(Sink):
    """Writes each claim's fingerprint, CLM01 key, status and place (one JSON array a line), as the
    engine's ledger noted them, for the parent's checks across units."""

    def __init__(self, engine: Engine, fh):
        self.engine, self.fh = engine, fh

    def claim(self, result) -> None:
        ledger = self.engine.context.ledger
        if ledger is not None and ledger.last is not None:
            digest, id_key, accepted, checked, where = ledger.last
            self.fh.write(json.dumps([digest, id_key, accepted, checked, *where]) + "\n")


def _units_repeat(ledger: FileLedger, results: list, check: bool = True) -> bool:
    """Read the units' claims in order into ``ledger`` (the accepted ones); with ``check``, True (and
    stop) when a claim of one unit repeats, by fingerprint or CLM01, a claim accepted in an earlier
    unit. Each unit's file is read twice (checked, then added), so memory holds no unit whole."""
    for r in results:
        if check:
            with open(r["digests"], encoding="utf-8") as fh:
                for line in fh:
                    digest, id_key = json.loads(line)[:2]
                    if ledger.first_with_digest(digest) is not None or ledger.first_with_id_key(id_key) is not None:
                        return True
        with open(r["digests"], encoding="utf-8") as fh:
            for line in fh:
                digest, id_key, accepted, checked, *where = json.loads(line)
                if accepted:
                    ledger.add(digest, id_key, Where(*where), checked)
    return False


def _tally(report_path: str | None, text_path: Path | None = None, text_options: dict | None = None) -> dict | None:
    """The unit's claims counted from its report, in the worker, so that the parent copies the
    claim lines without decoding them; with ``text_path``, the text summary's rejected-claim
    lines are rendered there too."""
    import json

    if not report_path:
        return None
    tally = {"claims": 0, "accepted": 0, "rejected": 0, "errors": 0, "warnings": 0, "by_rule": {},
             "not_checked_claims": 0, "not_checked_by_rule": {}, "text": None, "by_rule_severity": {}, "warned": 0}
    by_rule = tally["by_rule"]
    unchecked = tally["not_checked_by_rule"]
    text = None
    if text_path is not None:
        text = TextReport(None, **(text_options or {}))
        text.start()
    _, lines = read_report_lines(Path(report_path))
    for line in lines:
        claim = json.loads(line)
        tally["claims"] += 1
        if claim["status"] == "accepted":
            tally["accepted"] += 1
            if any(f["severity"] == "warning" for f in claim["findings"]):
                tally["warned"] += 1
            if text is not None:
                text.claim_json(claim)
        else:
            tally["rejected"] += 1
            if text is not None:
                text.claim_json(claim)
        seen_unchecked = False
        for f in claim["findings"]:
            by_rule[f["rule"]] = by_rule.get(f["rule"], 0) + 1
            key = f"{f['rule']}:{f['severity']}"
            tally["by_rule_severity"][key] = tally["by_rule_severity"].get(key, 0) + 1
            if f["severity"] == "error":
                tally["errors"] += 1
            elif f["severity"] == "warning":
                tally["warnings"] += 1
            elif f["severity"] == "not_checked":
                unchecked[f["rule"]] = unchecked.get(f["rule"], 0) + 1
                seen_unchecked = True
        if seen_unchecked:
            tally["not_checked_claims"] += 1
    if text is not None:
        with private_file(text_path, "w", "utf-8") as fh:
            text.rendered_to(fh)
        tally["text"] = str(text_path)
    return tally


def scrub_split(
    path: Path, out_dir: Path, config: Config, as_of: date, jobs: int, text_out=None, structure: bool | None = None,
    progress=None, runner=None, interchanges: list | None = None, text_options: dict | None = None,
    state: SentClaims | None = None, source: str = "",
) -> FileOutcome | None:
    """Scrub one large file with ``jobs`` processes; None when the file must be scrubbed in one.

    ``progress`` (a :class:`~scrubber.report.progress.BytesProgress` or None) advances by each
    unit's bytes as its worker finishes. ``runner``: where the units run (default: a
    :class:`LocalRunner` of ``jobs`` processes; ``jobs`` then sizes the units). A unit whose task
    failed raises :class:`UnitFailed`. ``interchanges`` (a list, or None) receives the
    (ISA06, ISA13) of each interchange whose units hold claims. ``state``, ``source``: the claims
    already sent, looked up by the workers; the accepted claims are recorded there once the clean
    file is complete."""
    if jobs < 2 or path.stat().st_size < SPLIT_MIN_BYTES:
        return None
    # Over [limits] envelopes: no layout (it would be held in memory); the single-process
    # reader says so (EN013).
    layout = plan(path, worker_engine(config, as_of).limits.envelopes)
    if layout is None:
        return None
    total = sum(end - start for i in layout for g in i.groups for start, end in g.blocks)
    target = max(total // (jobs * 4), 1 << 20)
    units = []  # (interchange index, group index, blocks)
    for ii, inter in enumerate(layout):
        for gi, grp in enumerate(inter.groups):
            chunk, size = [], 0
            for block in grp.blocks:
                chunk.append(block)
                size += block[1] - block[0]
                if size >= target:
                    units.append((ii, gi, chunk))
                    chunk, size = [], 0
            if chunk or not grp.blocks:
                units.append((ii, gi, chunk))
    if any(not blocks for _, _, blocks in units):
        return None  # a group with no transaction set: leave it to the single-process reader

    out_dir.mkdir(parents=True, exist_ok=True)
    with TempDir(os.path.abspath(out_dir)) as work:  # 0700, locked; removed on exit (absolute: for any worker)
        key = state.key if state is not None else os.urandom(32)
        job_list = []
        for index, (ii, gi, blocks) in enumerate(units):
            inter, grp = layout[ii], layout[ii].groups[gi]
            job_list.append({
                "index": index, "path": os.path.abspath(path), "dir": str(work), "delims": inter.delims,
                "isa": inter.isa.raw, "gs": grp.gs.raw, "isa13": inter.isa.el(13), "gs06": grp.gs.el(6),
                "blocks": blocks, "config": config, "as_of": as_of, "structure": structure,
                "text": text_out is not None, "text_options": text_options, "ledger_key": key, "source": source,
                "state_dir": str(state.folder) if state is not None else None,
                "days": state.days if state is not None else 0,
            })
        runner = runner or LocalRunner(jobs)
        runner.prepare(config, as_of, structure)
        results: list = [None] * len(job_list)
        if progress is not None:
            progress.start()  # drawn from now on, redrawn while the workers run
        try:
            for i, result in runner.unordered(scrub_unit, job_list):
                if isinstance(result, OSError):
                    raise result
                if isinstance(result, BaseException):
                    blocks = units[i][2]
                    where = (f"unit {i + 1} of {len(units)} (bytes {blocks[0][0]}-{blocks[-1][1]}, "
                             f"{len(blocks)} transaction sets)")
                    raise UnitFailed(where, type(result).__name__)
                results[i] = result
                if progress is not None:
                    progress.advance(sum(end - start for start, end in units[i][2]))
        except OSError as exc:  # the units' copies or outputs in the out dir could not be written
            if isinstance(exc, BrokenPipeError):
                raise
            reason = describe(exc)
            raise OutputError(f"{path.name}: cannot write into {out_dir}: {reason}; none of its outputs was put "
                              "in place", exc.errno, reason) from None
        if progress is not None:
            progress.finish()  # (before the merge writes the text summary to the same terminal)
        if any(r["fatal"] not in (None, "EN010") for r in results):
            return None
        if interchanges is not None:
            for index, (ii, _, _) in enumerate(units):
                tally = results[index]["tally"]
                pair = (layout[ii].isa.el(6).strip(), layout[ii].isa.el(13).strip())
                if tally is not None and tally["claims"] and pair[1] and pair not in interchanges:
                    interchanges.append(pair)
        engine = worker_engine(config, as_of)
        ledger = None
        if engine.in_file_checks or state is not None:
            ledger = FileLedger(key)
        try:
            if ledger is not None and _units_repeat(ledger, results, check=engine.in_file_checks):
                return None  # a claim repeats one of an earlier unit: one process sees them in order
            try:
                with AllOrNothing():  # the stitched outputs are put in place together, or none
                    outcome = _merge(path, out_dir, layout, units, results, config, as_of, text_out, text_options)
            except OSError as exc:
                if isinstance(exc, BrokenPipeError):
                    raise
                reason = describe(exc)
                raise OutputError(f"{path.name}: cannot write its outputs into {out_dir}: {reason}; "
                                  "none of them was put in place", exc.errno, reason) from None
            if outcome is not None and state is not None:
                state.commit(ledger, source, path.name, 0, check=False)
            return outcome
        finally:
            if ledger is not None:
                ledger.close()


# --- merging -----------------------------------------------------------------------------------

def _merge(path, out_dir, layout, units, results, config, as_of, text_out, text_options=None) -> FileOutcome | None:
    engine = worker_engine(config, as_of)
    stem = output_stem(path)
    outcome = FileOutcome(name=path.name)
    outcome.sha256, outcome.size = file_digest(path)
    outcome.code_sets = code_sets_used(as_of)
    text = TextReport(text_out, **(text_options or {})) if text_out is not None else None
    if text:
        text.start(outcome)
    heads = {}
    for r in results:
        head, _ = read_report_lines(Path(r["report"]))
        heads[r["index"]] = head

    # The top-level findings in the order a single pass makes them.
    for ii, inter in enumerate(layout):
        first_of_interchange = True
        for gi, grp in enumerate(inter.groups):
            first_of_group = True
            for index, (uii, ugi, _) in enumerate(units):
                if (uii, ugi) != (ii, gi):
                    continue
                for f in heads[index]["findings"]:
                    if f["rule"] == "EN010":
                        continue
                    if f.get("loop") == "ISA" and not first_of_interchange:
                        continue
                    if f.get("loop") == "GS" and not first_of_group:
                        continue
                    outcome.findings.append(finding_from_json(f))
                first_of_interchange = first_of_group = False
            problems: list[EnvelopeProblem] = []
            check_count(problems, grp.ge, 1, len(grp.blocks), "GE01", "transaction sets in the group")
            check_control(problems, grp.ge, 2, grp.gs.el(6), "GE02", "GS06")
            outcome.findings.extend(trailer_findings(_locate(problems, "GE"), engine))
        problems = []
        check_count(problems, inter.iea, 1, len(inter.groups), "IEA01", "functional groups in the interchange")
        check_control(problems, inter.iea, 2, inter.isa.el(13).strip(), "IEA02", "ISA13")
        outcome.findings.extend(trailer_findings(_locate(problems, "IEA"), engine))
    if len(outcome.findings) > engine.limits.file_findings or any(f.rule == "EN106" for f in outcome.findings):
        return None  # top-level findings past [limits] file_findings: summarised by one process
    outcome.count(outcome.findings)

    # Claims, in order: counted by the workers; their report lines and rendered text copied as bytes.
    for r in results:
        tally = r["tally"]
        if tally is None:
            continue
        outcome.claims += tally["claims"]
        outcome.accepted += tally["accepted"]
        outcome.rejected += tally["rejected"]
        outcome.errors += tally["errors"]
        outcome.warnings += tally["warnings"]
        for rule, n in tally["by_rule"].items():
            outcome.by_rule[rule] += n
        for key, n in tally["by_rule_severity"].items():
            outcome.by_rule_severity[tuple(key.split(":", 1))] += n
        outcome.warned += tally["warned"]
        outcome.not_checked_claims += tally["not_checked_claims"]
        for rule, n in tally["not_checked_by_rule"].items():
            outcome.not_checked += n
            outcome.not_checked_by_rule[rule] += n
    if outcome.claims == 0:
        return None
    if text:
        for r in results:
            if r["tally"] is not None and r["tally"]["text"]:
                with open(r["tally"]["text"], encoding="utf-8") as fh:
                    text.add_rendered(fh)
    outcome.outputs["clean"] = _stitch(out_dir / f"{stem}.{CLEAN}", layout, units, results, "clean")
    outcome.outputs["rejected"] = _stitch(out_dir / f"{stem}.{REJECTED}", layout, units, results, "rejected")
    outcome.status = "rejections" if outcome.rejected else "clean"
    report_path = out_dir / f"{stem}.{REPORT}"
    join_reports(report_path, report_head(outcome, as_of.isoformat()),
                 [Path(r["report"]) for r in results if r["tally"] is not None])
    outcome.report_path = str(report_path)
    if text:
        text.finish(outcome)
    return outcome


def _locate(problems: list[EnvelopeProblem], loop: str) -> list[EnvelopeProblem]:
    for p in problems:
        p.segment.loop = loop
    return problems


def _transaction_span(fh, sep: str, e: str) -> tuple[int, int, int] | None:
    """In a unit's clean or rejected 837 (one ISA and GS, written by the scrubber with the input's
    delimiters): the byte range from its first ST to the end of its last SE, and the number of
    transaction sets in it. A byte search: a terminator never occurs inside data."""
    try:
        data = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    except ValueError:  # an empty file
        return None
    with data:
        st = (sep + "ST" + e).encode("latin-1")
        first = data.find(st)
        end = data.rfind((sep + "GE" + e).encode("latin-1"))
        if first < 0 or end < first:
            return None
        pages = _Pages(data)
        count, at = 0, first
        while 0 <= at < end:
            count += 1
            pages.passed(at)
            at = data.find(st, at + 1, end)
        return first + len(sep), end + len(sep), count


def _stitch(target: Path, layout, units, results, kind: str) -> str | None:
    """Put the units' ST..SE blocks of one kind back into the original envelopes."""
    written = 0
    file = AtomicFile(target, "wb", 0o600)
    out = file.open()
    try:
        def put(text: str) -> None:
            out.write(text.encode("latin-1"))

        for ii, inter in enumerate(layout):
            d = inter.delims
            sep = d.segment + d.suffix
            e = d.element
            groups_written = 0
            isa_open = False
            for gi, grp in enumerate(inter.groups):
                transactions = 0
                for index, (uii, ugi, _) in enumerate(units):
                    if (uii, ugi) != (ii, gi) or not results[index][kind]:
                        continue
                    with open(results[index][kind], "rb") as fh:
                        found = _transaction_span(fh, sep, e)
                        if found is None:
                            continue
                        start, end, count = found
                        if not isa_open:
                            put(inter.isa.raw + sep)
                            isa_open = True
                        if transactions == 0:
                            put(grp.gs.raw + sep)
                        transactions += count
                        copy_range(fh, start, end, out)  # the unit's ST..SE blocks, as written
                if transactions:
                    put(f"GE{e}{transactions}{e}{grp.gs.el(6)}{sep}")
                    groups_written += 1
            if isa_open:
                put(f"IEA{e}{groups_written}{e}{inter.isa.el(13)}{sep}")
                written += 1
    except BaseException:
        file.discard()
        raise
    if written:
        file.commit()
        return str(target)
    file.discard()
    return None


# --- several inputs ----------------------------------------------------------------------------

@dataclass
class FileResult:
    path: Path
    exit_code: int
    unusable: str | None
    report_path: str | None
    text_file: Path | None  # the text summary, written to a file so no process holds it in memory


class _ShownPaths(Sink):
    """Puts the outputs' paths back in the form the caller gave the out dir (relative to its
    folder, say), before the text summary prints them: a worker writes under absolute paths."""

    def __init__(self, shown: str):
        self.shown = Path(shown)

    def finish(self, outcome: FileOutcome) -> None:
        for kind, written in outcome.outputs.items():
            if written:
                outcome.outputs[kind] = str(self.shown / Path(written).name)
        if outcome.report_path:
            outcome.report_path = str(self.shown / Path(outcome.report_path).name)


def scrub_whole(job: dict) -> FileResult:
    """Scrub one whole input (a worker's task for several inputs). The paths of the job are
    absolute (any worker may run it); the result's paths are in the form of ``job["shown"]``."""
    engine = worker_engine(job["config"], job["as_of"])
    kwargs = {"structure": job["structure"]} if job["structure"] is not None else {}
    text_file = job["text_file"]
    sinks = [_ShownPaths(job["shown"])] if job.get("shown") is not None else []
    try:
        with private_file(text_file, "w", "utf-8") if text_file is not None else nullcontext() as text_out:
            outcome = scrub_file(job["path"], job["out_dir"], engine, text_out=text_out, sinks=sinks,
                                 text_options=job.get("text_options"), **kwargs)
    except OSError as exc:  # an OutputError already names the input and the out dir
        if isinstance(exc, (OutputError, BrokenPipeError)):
            raise
        raise OutputError.of(f"{Path(job['path']).name}: cannot write into {job['out_dir']}", exc) from None
    UNITS_DONE[0] += 1
    return FileResult(job["path"], outcome.exit_code, outcome.unusable, outcome.report_path, text_file)


def failed_report(path: Path, out_dir: Path, config: Config, as_of: date, message: str) -> FileOutcome:
    """The report of an input whose task failed where it ran (see :class:`UnitFailed`): unusable
    with an EN011 finding, no clean or rejected file (none of its claims is submitted)."""
    from scrubber.report.jsonreport import JsonReport

    engine = worker_engine(config, as_of)
    outcome = FileOutcome(name=path.name)
    try:
        outcome.sha256, outcome.size = file_digest(path)
    except OSError:
        pass
    outcome.code_sets = code_sets_used(as_of)
    out_dir.mkdir(parents=True, exist_ok=True)
    report = JsonReport(out_dir / f"{output_stem(path)}.{REPORT}", as_of.isoformat())
    report.start(outcome)
    outcome.make_unusable(engine.decisions.must("EN011", message), None)
    report.finish(outcome)
    return outcome


def scrub_parallel(files: list[Path], out_dir: Path, config: Config, as_of: date, jobs: int, text: bool,
                   structure: bool | None = None, progress=None, runner=None, text_options: dict | None = None):
    """Yield a FileResult per input, in input order, the inputs spread over ``jobs`` processes
    (one large input is split with :func:`scrub_split` instead). ``progress`` (or None) advances
    by the bytes of each input done. With ``text``, each result's ``text_file`` holds the text
    summary; it is removed when the next result is asked for (read it before). ``runner``: where
    the inputs run (default: a :class:`LocalRunner` of ``jobs`` processes); an input whose task
    failed gets the EN011 report of :func:`failed_report`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with TempDir(os.path.abspath(out_dir), ".scrub-text-") as texts:
        jobs_list = [{"path": Path(os.path.abspath(f)), "out_dir": Path(os.path.abspath(out_dir)), "shown": str(out_dir),
                      "config": config, "as_of": as_of, "text_file": texts / f"{i}.txt" if text else None,
                      "structure": structure, "text_options": text_options}
                     for i, f in enumerate(files)]
        runner = runner or LocalRunner(jobs)
        runner.prepare(config, as_of, structure)
        if progress is not None:
            progress.start()
        previous = None
        for f, result in zip(files, runner.ordered(scrub_whole, jobs_list)):
            if isinstance(result, OSError):
                raise result
            if isinstance(result, BaseException):
                message = (f"internal error while scrubbing ({type(result).__name__} where the input ran); "
                           "please report it")
                outcome = failed_report(f, out_dir, config, as_of, message)
                text_file = None
                if text:
                    text_file = texts / f"failed-{f.name}.txt"
                    with private_file(text_file, "w", "utf-8") as fh:
                        report = TextReport(fh, **(text_options or {}))
                        report.start(outcome)
                        report.finish(outcome)
                result = FileResult(f, outcome.exit_code, outcome.unusable, outcome.report_path, text_file)
            result.path = f  # (the input as given)
            if previous is not None:
                previous.unlink(missing_ok=True)
            if progress is not None:
                try:
                    progress.advance(f.stat().st_size)
                except OSError:
                    pass
            previous = result.text_file
            yield result
