"""Runs the claim rules over one claim and decides its status."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from .config import Config
from .findings import Finding
from .limits import Limits
from .model import Claim
from .rules import REGISTRY, Context, claim_rules


class Engine:
    def __init__(self, config: Config | None = None, as_of: date | None = None):
        self.config = config or Config()
        self.limits = Limits.from_config(self.config.limits)
        self.context = Context(as_of=as_of or date.today(), options=dict(self.config.options), limits=self.limits)
        self.rules = [cls() for cls in claim_rules() if self.config.maybe_enabled(cls.code)]
        self._payer_specific = bool(self.config.payers)
        self._checks = [(rule.code, rule.check) for rule in self.rules]
        self._plain_checks = [check for _, check in self._checks]

    def check(self, claim: Claim) -> list[Finding]:
        findings: list[Finding] = []
        config = self.config
        context = self.context
        if self._payer_specific:
            payer = claim.payer_id
            checks = [check for code, check in self._checks if config.enabled(code, payer)]
        else:
            payer = ""
            checks = self._plain_checks
        if not (config.rules.severity or config.payers):
            # No severity set in the configuration: findings keep the rules' own severities.
            extend = findings.extend
            for check in checks:
                extend(check(claim, context))
        else:
            for check in checks:
                for finding in check(claim, context):
                    severity = config.severity(finding.rule, finding.severity, payer)
                    if severity != finding.severity:
                        finding = replace(finding, severity=severity)
                    findings.append(finding)
        if len(findings) > 1:
            findings.sort(key=Finding.sort_key)
        return findings

    def file_severity(self, code: str, default: str) -> str:
        return self.config.severity(code, default)


def claim_status(findings: list[Finding]) -> str:
    for f in findings:
        if f.severity == "error":
            return "rejected"
    return "accepted"


def known_codes() -> set[str]:
    return set(REGISTRY)
