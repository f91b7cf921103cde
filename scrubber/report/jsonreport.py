"""Report writers, each with the lifecycle start -> claim (many) -> finish, so reports stream.

``JsonReport`` writes ``NAME.report.json`` in the contract's schema (x12-scrubber/report@1):
claims are spooled to a temporary file one line each as they come, and the report is assembled
at the end, one claim per line inside the ``claims`` array. ``TextReport`` prints the summary
and, for each rejected claim, its id and reasons.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import IO

from scrubber.findings import Ack, Finding
from scrubber.report.outcome import ClaimOutcome, FileOutcome

SCHEMA = "x12-scrubber/report@1"


# One encoder for the run (json.dumps with options builds a new one per call).
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": "))


def _dump(obj: object) -> str:
    return _ENCODER.encode(obj)


class JsonReport:
    def __init__(self, path: Path, as_of: str, mode: int = 0o600):
        self.path = path
        self.as_of = as_of
        self.mode = mode
        self._spool: IO[str] | None = None

    def start(self) -> None:
        self._spool = tempfile.TemporaryFile("w+", encoding="utf-8")

    def claim(self, outcome: ClaimOutcome) -> None:
        self._spool.write(_dump(outcome.to_json()) + "\n")

    def finish(self, outcome: FileOutcome, reject_all: Finding | None = None) -> Path:
        """Assemble the report. ``reject_all``: a finding that rejects every claim (unusable input)."""
        write_report(self.path, report_head(outcome, self.as_of), self._claim_lines(reject_all), self.mode)
        self._spool.close()
        return self.path

    def _claim_lines(self, reject_all: Finding | None) -> Iterable[str]:
        self._spool.seek(0)
        for line in self._spool:
            line = line.rstrip("\n")
            if reject_all is not None:
                claim = json.loads(line)
                claim["status"] = "rejected"
                claim["findings"].append(reject_all.to_json())
                line = _dump(claim)
            yield line

    def discard(self) -> None:
        if self._spool is not None:
            self._spool.close()


def report_head(outcome: FileOutcome, as_of: str) -> dict:
    """Every key of the report but ``claims``, in the contract's order."""
    return {
        "schema": SCHEMA,
        "input": {"name": outcome.name, "sha256": outcome.sha256, "bytes": outcome.size},
        "as_of": as_of,
        "status": outcome.status,
        "outputs": {
            "clean": Path(outcome.outputs["clean"]).name if outcome.outputs["clean"] else None,
            "rejected": Path(outcome.outputs["rejected"]).name if outcome.outputs["rejected"] else None,
        },
        "code_sets": outcome.code_sets,
        "summary": outcome.summary(),
        "findings": [f.to_json() if isinstance(f, Finding) else f for f in outcome.findings],
    }


_CLAIMS_KEY = b'\n  "claims": ['
_CLAIMS_END = b"\n  ]\n}\n"


class _ReportFile:
    """A report being written (see :func:`write_report`): the head on entry; then each call of
    :meth:`claims` opens a run of claim lines (joined by ``,\n    `` in the file); the end on
    exit, under a temporary name renamed when complete."""

    def __init__(self, path: Path, head: dict, mode: int):
        self.path, self.head, self.mode = path, head, mode
        self.first = True

    def __enter__(self):
        self.tmp = self.path.with_name(f".{self.path.name}.part")
        self.out = os.fdopen(os.open(self.tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, self.mode), "wb")
        self.out.write(b"{\n")
        for key, value in self.head.items():
            self.out.write(f"  {json.dumps(key)}: {_dump(value)},\n".encode("utf-8"))
        self.out.write(b'  "claims": [')
        return self

    def claims(self):
        """The file, after the separator before a run of claim lines (write the run to it)."""
        self.out.write(b"\n    " if self.first else b",\n    ")
        self.first = False
        return self.out

    def __exit__(self, kind, exc, tb) -> None:
        with self.out:
            if kind is None:
                self.out.write(b"]\n}\n" if self.first else _CLAIMS_END)
                self.out.flush()
                os.fsync(self.out.fileno())
        if kind is None:
            os.replace(self.tmp, self.path)


def write_report(path: Path, head: dict, claim_lines: Iterable[str], mode: int = 0o600) -> None:
    """Write a report: each head key on its own line, then one claim (a JSON line) per line."""
    with _ReportFile(path, head, mode) as report:
        for line in claim_lines:
            report.claims().write(line.encode("utf-8"))


def _claims_span(path: Path) -> tuple[int, int] | None:
    """In a report written by :func:`write_report`: the byte range of its claim lines (from the
    first claim's ``{`` to the last claim's ``}``), or None when it has no claim."""
    import mmap

    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
            at = data.find(_CLAIMS_KEY)
            if at < 0:
                raise ValueError(f"{path}: not a report (no claims key)")
            at += len(_CLAIMS_KEY)
            if data[at:at + 1] == b"]":
                return None
            if data[at:at + 5] != b"\n    " or data[size - len(_CLAIMS_END):] != _CLAIMS_END:
                raise ValueError(f"{path}: not a report written by write_report")
            return at + 5, size - len(_CLAIMS_END)


def join_reports(path: Path, head: dict, parts: Iterable[Path], mode: int = 0o600) -> None:
    """Write a report with ``head`` and the claims of ``parts`` (reports written by
    :func:`write_report`), in order, copied as bytes: the same bytes as :func:`write_report` given
    all their claim lines."""
    with _ReportFile(path, head, mode) as report:
        for part in parts:
            span = _claims_span(part)
            if span is not None:
                with open(part, "rb") as src:
                    copy_range(src, span[0], span[1], report.claims())


def copy_range(src: IO[bytes], start: int, end: int, out: IO[bytes]) -> None:
    """Copy bytes ``start`` to ``end`` of ``src`` to ``out``, a megabyte at a time."""
    src.seek(start)
    left = end - start
    while left > 0:
        piece = src.read(min(left, 1 << 20))
        if not piece:
            raise ValueError(f"{getattr(src, 'name', 'a file')}: shorter than it was")
        out.write(piece)
        left -= len(piece)


def read_report_lines(path: Path) -> tuple[dict, Iterable[str]]:
    """Read a report written by :func:`write_report`: its head, and its claim lines as they come."""
    fh = open(path, encoding="utf-8")
    head: dict = {}
    for line in fh:
        line = line.rstrip("\n")
        if line.startswith('  "claims": ['):
            break
        if line.startswith('  "'):
            key, _, value = line[2:].rstrip(",").partition(": ")
            head[json.loads(key)] = json.loads(value)

    def claims() -> Iterable[str]:
        with fh:
            for line in fh:
                if line.startswith("    {"):
                    yield line.strip().rstrip(",")

    return head, claims()


class TextReport:
    """The text summary for standard output."""

    def __init__(self, stream: IO[str], limit_per_claim: int = 5):
        self.stream = stream
        self.limit = limit_per_claim
        self._spool: IO[str] | None = None

    def start(self, outcome: FileOutcome | None = None) -> None:
        self._spool = tempfile.SpooledTemporaryFile(1 << 20, "w+", encoding="utf-8")

    def claim(self, outcome: ClaimOutcome) -> None:
        if outcome.status == "rejected":
            self.claim_json(outcome.to_json())

    def claim_json(self, claim: dict) -> None:
        """The rejected-claim lines, from the claim's report entry (also used by --jobs)."""
        if claim["status"] != "rejected":
            return
        errors = [f for f in claim["findings"] if f["severity"] == "error"]
        self._spool.write(
            f"  REJECTED {claim['claim_id']}  (ISA13 {claim['interchange']}, GS06 {claim['group']}, "
            f"ST02 {claim['transaction']}, charge {claim['charge']})\n"
        )
        for f in errors[: self.limit]:
            self._spool.write(f"    {f['rule']} {finding_from_json(f).where()}: {f['message']}\n")
        if len(errors) > self.limit:
            self._spool.write(f"    ... and {len(errors) - self.limit} more errors (see the report)\n")

    def add_rendered(self, fh: IO[str]) -> None:
        """Rejected-claim lines rendered by another TextReport (a ``--jobs`` worker's), in order."""
        shutil.copyfileobj(fh, self._spool)

    def rendered_to(self, fh: IO[str]) -> None:
        """Write the rejected-claim lines rendered so far to ``fh`` (a ``--jobs`` worker's part)."""
        self._spool.seek(0)
        shutil.copyfileobj(self._spool, fh)
        self._spool.close()

    def finish(self, outcome: FileOutcome) -> None:
        w = self.stream.write
        w(f"{outcome.name}: {outcome.status.upper()}\n")
        if outcome.unusable:
            w(f"  unusable: {outcome.unusable}\n")
        w(
            f"  claims {outcome.claims}, accepted {outcome.accepted}, rejected {outcome.rejected} "
            f"({outcome.errors} errors, {outcome.warnings} warnings)\n"
        )
        if outcome.not_checked:
            # Checks that did not run (a date outside the loaded code sets ...): never hidden
            # behind "0 warnings".
            ranked = sorted(outcome.not_checked_by_rule.items(), key=lambda item: (-item[1], item[0]))
            w(f"  not checked: {outcome.not_checked_claims} claim{'s' if outcome.not_checked_claims != 1 else ''}; "
              + ", ".join(f"{rule} x{n}" for rule, n in ranked) + "\n")
        if outcome.by_rule:
            ranked = sorted(outcome.by_rule.items(), key=lambda item: (-item[1], item[0]))[:5]
            top = ", ".join(f"{rule} x{n}" for rule, n in ranked)
            w(f"  top rules: {top}\n")
        for f in outcome.findings:
            f = f if isinstance(f, Finding) else finding_from_json(f)
            w(f"  {f.severity.upper()} {f.rule} {f.where()}: {f.message}\n")
        self._spool.seek(0)
        for line in self._spool:
            w(line)
        self._spool.close()
        outputs = [f"{k}: {v}" for k, v in (("clean", outcome.outputs["clean"]), ("rejected", outcome.outputs["rejected"]), ("report", outcome.report_path)) if v]
        if outputs:
            w("  " + "  ".join(outputs) + "\n")

    def discard(self) -> None:
        if self._spool is not None:
            self._spool.close()


def finding_from_json(data: dict) -> Finding:
    ack = data.get("ack")
    return Finding(
        data["rule"], data["severity"], data["message"], data.get("loop"), data.get("segment"),
        data.get("position"), data.get("element"), data.get("value"),
        Ack(ack["category"], ack["status"]) if ack else None,
    )
