"""Report writers, each with the lifecycle start -> claim (many) -> finish, so reports stream.

``JsonReport`` writes ``NAME.report.json`` in the contract's schema (x12-scrubber/report@1):
claims are spooled to a temporary file one line each as they come, and the report is assembled
at the end, one claim per line inside the ``claims`` array. ``TextReport`` prints the summary
and, for each rejected claim, its id and reasons.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import IO

from ..findings import Finding
from ..outcome import ClaimOutcome, FileOutcome

SCHEMA = "x12-scrubber/report@1"


def _dump(obj: object) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(", ", ": "))


class JsonReport:
    def __init__(self, path: Path, as_of: str, mode: int = 0o600):
        self.path = path
        self.as_of = as_of
        self.mode = mode
        self._spool: IO[str] | None = None

    def start(self) -> None:
        self._spool = tempfile.TemporaryFile("w+", encoding="utf-8")

    def claim(self, outcome: ClaimOutcome) -> None:
        self._spool.write(_dump(outcome.to_json()))
        self._spool.write("\n")

    def finish(self, outcome: FileOutcome, reject_all: Finding | None = None) -> Path:
        """Assemble the report. ``reject_all``: a finding that rejects every claim (unusable input)."""
        tmp = self.path.with_name(f".{self.path.name}.part")
        head = {
            "schema": SCHEMA,
            "input": {"name": outcome.name, "sha256": outcome.sha256, "bytes": outcome.size},
            "as_of": self.as_of,
            "status": outcome.status,
            "outputs": {
                "clean": Path(outcome.outputs["clean"]).name if outcome.outputs["clean"] else None,
                "rejected": Path(outcome.outputs["rejected"]).name if outcome.outputs["rejected"] else None,
            },
            "code_sets": outcome.code_sets,
            "summary": outcome.summary(),
            "findings": [f.to_json() for f in outcome.findings],
        }
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, self.mode)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write("{\n")
            for key, value in head.items():
                out.write(f"  {json.dumps(key)}: {_dump(value)},\n")
            out.write('  "claims": [')
            first = True
            for line in self._claim_lines(reject_all):
                out.write("\n    " if first else ",\n    ")
                out.write(line)
                first = False
            out.write("\n  ]\n}\n" if not first else "]\n}\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, self.path)
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


class TextReport:
    """The text summary for standard output."""

    def __init__(self, stream: IO[str], limit_per_claim: int = 5):
        self.stream = stream
        self.limit = limit_per_claim
        self._spool: IO[str] | None = None

    def start(self, outcome: FileOutcome | None = None) -> None:
        self._spool = tempfile.SpooledTemporaryFile(1 << 20, "w+", encoding="utf-8")

    def claim(self, outcome: ClaimOutcome) -> None:
        if outcome.status != "rejected":
            return
        claim = outcome.claim
        errors = [f for f in outcome.findings if f.severity == "error"]
        self._spool.write(
            f"  REJECTED {claim.claim_id}  (ISA13 {claim.interchange_control}, GS06 {claim.group_control}, "
            f"ST02 {claim.transaction_control}, charge {claim.charge})\n"
        )
        for f in errors[: self.limit]:
            self._spool.write(f"    {f.rule} {f.where()}: {f.message}\n")
        if len(errors) > self.limit:
            self._spool.write(f"    ... and {len(errors) - self.limit} more errors (see the report)\n")

    def finish(self, outcome: FileOutcome) -> None:
        w = self.stream.write
        w(f"{outcome.name}: {outcome.status.upper()}\n")
        if outcome.unusable:
            w(f"  unusable: {outcome.unusable}\n")
        w(
            f"  claims {outcome.claims}, accepted {outcome.accepted}, rejected {outcome.rejected} "
            f"({outcome.errors} errors, {outcome.warnings} warnings)\n"
        )
        if outcome.by_rule:
            top = ", ".join(f"{rule} x{n}" for rule, n in outcome.by_rule.most_common(5))
            w(f"  top rules: {top}\n")
        for f in outcome.findings:
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
