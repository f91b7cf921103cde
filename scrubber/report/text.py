"""The text summary on standard output (``--format text``), as a sink.

For each input: its status, the unusable reason, the totals, the checks not run, the count of
findings per rule and severity (as found, after the configuration), the interchange, group and
transaction findings, then each rejected claim with its first errors (``show="warnings"``: also
each accepted claim with warnings), the outputs written, and the totals again (on a large file
the head has scrolled away). ``quiet``: the one summary line; ``verbose``: every finding of each
listed claim. The claim lines are spooled as claims come (they follow the totals); ``--jobs``
workers render them to files that the parent joins in order (:meth:`TextReport.rendered_to`,
:meth:`TextReport.add_rendered`).
"""

from __future__ import annotations

import shutil
import tempfile
from typing import IO

import click

from scrubber.findings import SEVERITY_ORDER, Finding
from scrubber.report.jsonreport import finding_from_json
from scrubber.report.outcome import ClaimOutcome, FileOutcome
from scrubber.report.safe import visible
from scrubber.report.sink import Sink

SHOW = ("rejected", "warnings", "none")  # which claims the summary lists
_COLOURS = {"error": "red", "warning": "yellow", "info": "blue", "not_checked": "blue",
            "CLEAN": "green", "REJECTIONS": "red", "UNUSABLE": "red", "REJECTED": "red", "WARNED": "yellow"}


def totals_line(outcome: FileOutcome) -> str:
    """``claims 5, accepted 3 (1 with warnings), rejected 2 (2 errors, 0 warnings)``."""
    warned = f" ({outcome.warned} with warnings)" if outcome.warned else ""
    return (f"claims {outcome.claims}, accepted {outcome.accepted}{warned}, rejected {outcome.rejected} "
            f"({outcome.errors} errors, {outcome.warnings} warnings)")


class TextReport(Sink):
    """The text summary, written to ``stream`` at ``finish``."""

    def __init__(self, stream: IO[str] | None, limit_per_claim: int = 5, show: str = "rejected",
                 quiet: bool = False, verbose: bool = False, color: bool = False):
        self.stream = stream
        self.limit = None if verbose else limit_per_claim
        self.show = show
        self.quiet = quiet
        self.color = color
        self._spool: IO[str] | None = None

    def _c(self, text: str, key: str | None = None, bold: bool = False) -> str:
        if not self.color:
            return text
        return click.style(text, fg=_COLOURS.get(key or text), bold=bold)

    def start(self, outcome: FileOutcome | None = None) -> None:
        self._spool = tempfile.SpooledTemporaryFile(1 << 20, "w+", encoding="utf-8")

    def claim(self, outcome: ClaimOutcome) -> None:
        if outcome.status == "rejected" or (self.show == "warnings"
                                            and any(f.severity == "warning" for f in outcome.findings)):
            self.claim_json(outcome.to_json())

    def claim_json(self, claim: dict) -> None:
        """The lines of a listed claim, from its report entry (also used by --jobs)."""
        if self.quiet or self.show == "none":
            return
        if claim["status"] == "rejected":
            label, shown = "REJECTED", [f for f in claim["findings"] if f["severity"] == "error"]
            if self.limit is None:  # --verbose: every finding, errors first
                shown = sorted(claim["findings"], key=lambda f: SEVERITY_ORDER.get(f["severity"], 9))
        elif self.show == "warnings":
            label, shown = "WARNED", [f for f in claim["findings"] if f["severity"] == "warning"]
            if not shown:
                return
        else:
            return
        self._spool.write(
            f"  {self._c(label)} {visible(claim['claim_id'])}  (ISA13 {visible(claim['interchange'])}, "
            f"GS06 {visible(claim['group'])}, ST02 {visible(claim['transaction'])}, charge {visible(claim['charge'])})\n"
        )
        limit = len(shown) if self.limit is None else self.limit
        for f in shown[:limit]:
            rule = self._c(f["rule"], f["severity"])
            tag = "" if f["severity"] == "error" or label == "WARNED" else f"{f['severity']} "
            self._spool.write(f"    {rule} {tag}" + visible(f"{finding_from_json(f).where()}: {f['message']}") + "\n")
        if len(shown) > limit:
            kind = "errors" if label == "REJECTED" else "warnings"
            self._spool.write(f"    ... and {len(shown) - limit} more {kind} (see the report)\n")

    def add_rendered(self, fh: IO[str]) -> None:
        """Claim lines rendered by another TextReport (a ``--jobs`` worker's), in order."""
        shutil.copyfileobj(fh, self._spool)

    def rendered_to(self, fh: IO[str]) -> None:
        """Write the claim lines rendered so far to ``fh`` (a ``--jobs`` worker's part)."""
        self._spool.seek(0)
        shutil.copyfileobj(self._spool, fh)
        self._spool.close()

    def finish(self, outcome: FileOutcome) -> None:
        w = self.stream.write
        status = self._c(outcome.status.upper(), bold=True)
        name = visible(outcome.name)
        if self.quiet:
            w(f"{name}: {status}  {totals_line(outcome)}\n")
            self._spool.close()
            return
        w(f"{name}: {status}\n")
        if outcome.unusable:
            w(f"  unusable: {visible(outcome.unusable)}\n")
        w(f"  {totals_line(outcome)}\n")
        if outcome.not_checked:
            # Checks that did not run (a date outside the loaded code sets ...): never hidden
            # behind "0 warnings".
            ranked = sorted(outcome.not_checked_by_rule.items(), key=lambda item: (-item[1], item[0]))
            w(f"  not checked: {outcome.not_checked_claims} claim{'s' if outcome.not_checked_claims != 1 else ''}; "
              + ", ".join(f"{rule} x{n}" for rule, n in ranked) + "\n")
        if outcome.by_rule_severity:
            # Each rule with the severity its findings had (after [rules.severity] and payer overrides).
            ranked = sorted(outcome.by_rule_severity.items(),
                            key=lambda item: (SEVERITY_ORDER.get(item[0][1], 9), -item[1], item[0][0]))
            w("  rules: " + ", ".join(f"{self._c(rule, sev)} {sev} x{n}" for (rule, sev), n in ranked) + "\n")
        for f in outcome.findings:
            f = f if isinstance(f, Finding) else finding_from_json(f)
            w(f"  {self._c(f.severity.upper(), f.severity)} {f.rule} " + visible(f"{f.where()}: {f.message}") + "\n")
        self._spool.seek(0)
        for line in self._spool:
            w(line)
        self._spool.close()
        outputs = [f"{k}: {v}" for k, v in (("clean", outcome.outputs["clean"]), ("rejected", outcome.outputs["rejected"]), ("report", outcome.report_path)) if v]
        if outputs:
            w(visible("  " + "  ".join(outputs)) + "\n")
        w(f"  total: {name}: {status}  {totals_line(outcome)}\n")
