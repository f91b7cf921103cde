"""Outcomes: what the scrub decided for each claim and for the whole input."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from scrubber.findings import Finding, cut_summary
from scrubber.x12.model import Claim


@dataclass(slots=True)
class ClaimOutcome:
    claim: Claim
    findings: list[Finding]
    status: str  # accepted | rejected

    def to_json(self) -> dict:
        claim = self.claim
        tx = claim.transaction
        return {
            "claim_id": claim.claim_id,
            "status": self.status,
            "interchange": tx.interchange.control,  # claim.interchange_control, group_control ...
            "group": tx.group.control,
            "transaction": tx.control,
            "charge": claim.charge,
            "service_lines": len([line for line in claim.lines if line.sv1 is not None]),
            "findings": [f.to_json() for f in self.findings],
        }


@dataclass
class FileOutcome:
    name: str
    sha256: str = ""
    size: int = 0
    status: str = "clean"  # clean | rejections | unusable
    claims: int = 0
    accepted: int = 0
    rejected: int = 0
    errors: int = 0
    warnings: int = 0
    not_checked: int = 0  # findings of severity not_checked (a check that could not run)
    not_checked_claims: int = 0  # claims with at least one
    not_checked_by_rule: Counter = field(default_factory=Counter)
    findings: list[Finding] = field(default_factory=list)  # interchange, group, transaction level
    by_rule: Counter = field(default_factory=Counter)
    by_rule_severity: Counter = field(default_factory=Counter)  # (rule, severity as found) -> findings
    warned: int = 0  # accepted claims with at least one warning
    unusable: str | None = None  # the one-line reason
    fatal: Finding | None = None  # the finding that made the input unusable (also the last of ``findings``)
    not_submitted: Finding | None = None  # unusable: the finding that rejects each claim read before
    outputs: dict[str, str | None] = field(default_factory=lambda: {"clean": None, "rejected": None})
    code_sets: dict[str, list[str]] = field(default_factory=dict)
    report_path: str | None = None
    output_notes: list[str] = field(default_factory=list)  # an output asked for and not written, and why
    max_findings: int = 1 << 62  # top-level findings listed ([limits] file_findings); the rest summarised
    left_out: Counter = field(default_factory=Counter)  # (rule, severity) -> top-level findings not listed

    def add(self, findings: list[Finding]) -> None:
        """Count top-level ``findings`` and list them, up to ``max_findings`` (the rest are
        counted in ``left_out``, for one summary finding at the end: :meth:`close_findings`)."""
        self.count(findings)
        room = self.max_findings - len(self.findings)
        if room >= len(findings):
            self.findings.extend(findings)
            return
        if room > 0:
            self.findings.extend(findings[:room])
            findings = findings[room:]
        for f in findings:
            self.left_out[(f.rule, f.severity)] += 1

    def close_findings(self) -> None:
        """The summary finding of the top-level findings not listed (EN106), if any."""
        if self.left_out:
            summary = cut_summary(dict(self.left_out), self.max_findings, "file_findings",
                                  "findings of the interchanges, groups and transaction sets")
            self.findings.append(summary)
            self.by_rule[summary.rule] += 1
            self.left_out = Counter()

    def count(self, findings: list[Finding], claim: bool = False) -> None:
        """Count findings (of one claim when ``claim``: then a claim with a check not run is counted too)."""
        unchecked = False
        warned = False
        for f in findings:
            if f.severity == "error":
                self.errors += 1
            elif f.severity == "warning":
                self.warnings += 1
                warned = True
            elif f.severity == "not_checked":
                self.not_checked += 1
                self.not_checked_by_rule[f.rule] += 1
                unchecked = True
            self.by_rule[f.rule] += 1
            self.by_rule_severity[(f.rule, f.severity)] += 1
        if claim and unchecked:
            self.not_checked_claims += 1
        if claim and warned and not any(f.severity == "error" for f in findings):
            self.warned += 1

    def make_unusable(self, fatal: Finding, not_submitted: Finding | None) -> None:
        """The input proved unusable (``fatal``): none of its claims is submitted (each claim
        already read is rejected, with ``not_submitted`` in the report)."""
        self.status = "unusable"
        self.unusable = fatal.message
        self.fatal = fatal
        self.not_submitted = not_submitted
        self.findings.append(fatal)
        self.count([fatal])
        self.rejected = self.claims
        self.accepted = 0
        self.warned = 0

    @property
    def exit_code(self) -> int:
        return {"clean": 0, "rejections": 1}.get(self.status, 2)

    def summary(self) -> dict:
        return {
            "claims": self.claims,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "errors": self.errors,
            "warnings": self.warnings,
            "not_checked": self.not_checked_claims,
        }
