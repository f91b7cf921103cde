"""``NAME.report.json``, the report in the contract's schema (x12-scrubber/report@1), as a sink.

Claims are spooled to a temporary file one line each as they come, and the report is assembled
at ``finish``, one claim per line inside the ``claims`` array (:func:`write_report`); reports
written that way can be read back line by line (:func:`read_report_lines`) and joined as bytes
(:func:`join_reports`, for ``--jobs``). The text summary is :mod:`scrubber.report.text`.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import IO

from scrubber.atomic import AtomicFile
from scrubber.findings import Ack, Finding
from scrubber.report.outcome import ClaimOutcome, FileOutcome
from scrubber.report.sink import Sink

SCHEMA = "x12-scrubber/report@1"


# One encoder for the run (json.dumps with options builds a new one per call).
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": "))


def _dump(obj: object) -> str:
    return _ENCODER.encode(obj)


class JsonReport(Sink):
    """Writes the report and records it as ``outcome.report_path``. For an input found unusable the
    report is written all the same, each claim read before rejected (``outcome.not_submitted``)."""

    def __init__(self, path: Path, as_of: str, mode: int = 0o600):
        self.path = Path(path)
        self.as_of = as_of
        self.mode = mode
        self._spool: IO[str] | None = None

    def start(self, outcome: FileOutcome | None = None) -> None:
        self._spool = tempfile.TemporaryFile("w+", encoding="utf-8")

    def claim(self, result: ClaimOutcome) -> None:
        self._spool.write(_dump(result.to_json()) + "\n")

    def finish(self, outcome: FileOutcome) -> None:
        write_report(self.path, report_head(outcome, self.as_of), self._claim_lines(outcome.not_submitted), self.mode)
        self._spool.close()
        outcome.report_path = str(self.path)

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
            **({"not_written": list(outcome.output_notes)} if outcome.output_notes else {}),
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
        self.file = AtomicFile(self.path, "wb", self.mode)
        self.out = self.file.open()
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
        if kind is None:
            self.out.write(b"]\n}\n" if self.first else _CLAIMS_END)
            self.file.commit()
        else:
            self.file.discard()


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


def finding_from_json(data: dict) -> Finding:
    ack = data.get("ack")
    return Finding(
        data["rule"], data["severity"], data["message"], data.get("loop"), data.get("segment"),
        data.get("position"), data.get("element"), data.get("value"),
        Ack(ack["category"], ack["status"]) if ack else None,
    )
