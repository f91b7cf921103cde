"""The analyst outputs of ``scrubber scrub``: ``--format csv`` / ``--format html`` and the progress bar.

``AnalystOutputs(fmt, out_dir, as_of, n_inputs).sinks(path)`` gives the sinks for one input (see
:class:`scrubber.report.sink.Sink`):

- csv: ``NAME.report.csv`` in the out dir, and the rows on standard output (one header row for
  all inputs);
- html: ``NAME.report.html`` in the out dir, and one line per input with its path on standard
  output (the page of a large file is megabytes: a terminal is no place for it);
- a progress bar on standard error for inputs over 4 MB when standard error is a terminal.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import IO

from scrubber.report.names import CSV, HTML, output_stem
from scrubber.report.outcome import FileOutcome
from scrubber.report.progress import progress_for
from scrubber.report.sink import Sink

# csv_report and html (lxml) are imported when their format is asked for: most runs need neither.


class _PrintPath(Sink):
    """The path of an input's page, on standard output once it is written."""

    def __init__(self, path: Path, stream: IO[str]):
        self.path, self.stream = path, stream

    def finish(self, outcome: FileOutcome) -> None:
        self.stream.write(f"{self.path}\n")
        self.stream.flush()


class AnalystOutputs:
    def __init__(self, fmt: str, out_dir: Path, as_of: date, n_inputs: int, stdout: IO[str] | None = None,
                 stderr: IO[str] | None = None):
        self.fmt = fmt
        self.out_dir = Path(out_dir)
        self.as_of = as_of
        self.n_inputs = n_inputs
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr
        self._header_done = False

    def sinks(self, path: Path) -> list[Sink]:
        stem = output_stem(path)
        out: list[Sink] = []
        bar = progress_for(Path(path), self.stderr)
        if bar is not None:
            out.append(bar)
        if self.fmt == "csv":
            from scrubber.report.csv_report import CsvReport, header_line

            if not self._header_done:
                self.stdout.write(header_line())
                self._header_done = True
            out.append(CsvReport(self.out_dir / f"{stem}.{CSV}", self.stdout))
        elif self.fmt == "html":
            from scrubber.report.html import HtmlReport

            target = self.out_dir / f"{stem}.{HTML}"
            out.append(HtmlReport(target, self.as_of))
            out.append(_PrintPath(target, self.stdout))
        return out
