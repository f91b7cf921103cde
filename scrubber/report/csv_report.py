"""``--format csv``: one row per finding, what analysts open in a spreadsheet.

Columns (:data:`COLUMNS`): file, claim_id, status, rule, severity, loop, segment, position,
element, value, message, ack (the 277CA ``category:status``). Interchange, group and
transaction findings come last for each file, with an empty claim_id and the file's status
(``clean``, ``rejections``, ``unusable``). Written with the csv module (RFC 4180 quoting: a value
with a comma, a quote or a line break is quoted, quotes doubled), UTF-8, ``\\r\\n`` line ends.

A sink that streams: rows go to a temporary spool as claims come and are written at ``finish``
(so that the claims of an input found unusable on the way are written as rejected), to
``NAME.report.csv`` and, when given, to a stream (standard output).
"""

from __future__ import annotations

import csv
import shutil
import tempfile
from pathlib import Path
from typing import IO

from scrubber.atomic import AtomicFile
from scrubber.findings import Finding
from scrubber.report.outcome import ClaimOutcome, FileOutcome
from scrubber.report.safe import csv_cell
from scrubber.report.sink import Sink

COLUMNS = ("file", "claim_id", "status", "rule", "severity", "loop", "segment", "position",
           "element", "value", "message", "ack")


def header_line() -> str:
    return ",".join(COLUMNS) + "\r\n"


def _row(file: str, claim_id: str, status: str, f: Finding) -> list[str]:
    row = [
        file, claim_id, status, f.rule, f.severity, f.loop or "", f.segment or "",
        "" if f.position is None else str(f.position), f.element or "",
        "" if f.value is None else f.value, f.message, str(f.ack) if f.ack else "",
    ]
    return [csv_cell(cell) for cell in row]  # no cell a spreadsheet would evaluate


class CsvReport(Sink):
    """Writing ``NAME.report.csv`` (with its header row) and
    echoing the rows to ``stream`` (without header: the caller writes one for all inputs)."""

    def __init__(self, path: Path | None, stream: IO[str] | None = None, mode: int = 0o600):
        self.path = Path(path) if path is not None else None
        self.stream = stream
        self.mode = mode
        self._spool: IO[str] | None = None
        self._writer = None
        self._name = ""

    def start(self, outcome: FileOutcome) -> None:
        self._name = outcome.name
        self._spool = tempfile.TemporaryFile("w+", encoding="utf-8", newline="")
        self._writer = csv.writer(self._spool, lineterminator="\r\n")

    def claim(self, result: ClaimOutcome) -> None:
        cid = result.claim.claim_id
        for f in result.findings:
            self._writer.writerow(_row(self._name, cid, result.status, f))

    def finish(self, outcome: FileOutcome) -> None:
        for f in outcome.findings:
            self._writer.writerow(_row(outcome.name, "", outcome.status, f))
        unusable = outcome.status == "unusable"
        targets: list[IO[str]] = []
        file = None
        if self.path is not None:
            file = AtomicFile(self.path, "w", self.mode, encoding="utf-8", newline="")
            out = file.open()
            out.write(header_line())
            targets.append(out)
        if self.stream is not None:
            targets.append(self.stream)
        try:
            if unusable:
                # claims seen before the input proved unusable are not submitted: rejected
                for target in targets:
                    w = csv.writer(target, lineterminator="\r\n")
                    self._spool.seek(0)
                    for row in csv.reader(self._spool):
                        if row[1]:
                            row[2] = "rejected"
                        w.writerow(row)
            else:
                for target in targets:
                    self._spool.seek(0)
                    shutil.copyfileobj(self._spool, target)
        except BaseException:
            if file is not None:
                file.discard()
            raise
        if file is not None:
            file.commit()
        if self.stream is not None:
            self.stream.flush()
        self._spool.close()
