"""The text summary on standard output (``--format text``), as a sink.

For each input: its status, the unusable reason, the counts, the checks not run, the top rules,
the interchange, group and transaction findings, then for each rejected claim its id and its
first errors, and the outputs written. The rejected-claim lines are spooled as claims come (they
follow the totals); ``--jobs`` workers render them to files that the parent joins in order
(:meth:`TextReport.rendered_to`, :meth:`TextReport.add_rendered`).
"""

from __future__ import annotations

import shutil
import tempfile
from typing import IO

from scrubber.findings import Finding
from scrubber.report.jsonreport import finding_from_json
from scrubber.report.outcome import ClaimOutcome, FileOutcome
from scrubber.report.safe import visible
from scrubber.report.sink import Sink


class TextReport(Sink):
    """The text summary, written to ``stream`` at ``finish``."""

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
        self._spool.write(visible(
            f"  REJECTED {claim['claim_id']}  (ISA13 {claim['interchange']}, GS06 {claim['group']}, "
            f"ST02 {claim['transaction']}, charge {claim['charge']})"
        ) + "\n")
        for f in errors[: self.limit]:
            self._spool.write(visible(f"    {f['rule']} {finding_from_json(f).where()}: {f['message']}") + "\n")
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
        w(f"{visible(outcome.name)}: {outcome.status.upper()}\n")
        if outcome.unusable:
            w(f"  unusable: {visible(outcome.unusable)}\n")
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
            w(visible(f"  {f.severity.upper()} {f.rule} {f.where()}: {f.message}") + "\n")
        self._spool.seek(0)
        for line in self._spool:
            w(line)
        self._spool.close()
        outputs = [f"{k}: {v}" for k, v in (("clean", outcome.outputs["clean"]), ("rejected", outcome.outputs["rejected"]), ("report", outcome.report_path)) if v]
        if outputs:
            w(visible("  " + "  ".join(outputs)) + "\n")
