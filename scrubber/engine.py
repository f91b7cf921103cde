"""Runs the claim rules over one claim and decides its status."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import structlog

from .config import Config
from .errors import ScrubberError
from .findings import Finding
from .limits import Limits
from .model import Claim
from .rules import REGISTRY, Context, claim_rules

log = structlog.get_logger("scrubber")


def rule_failed(claim: Claim, code: str, exc: Exception) -> Finding:
    """The EN011 finding for a claim on which rule ``code`` raised ``exc``: at the claim's CLM,
    always an error (a claim not fully checked is not submitted). It names the exception's type
    only: an exception's message can quote the claim."""
    error = type(exc).__name__
    log.error("rule failed on a claim", rule=code, error=error)
    message = f"internal error in rule {code} ({error}); the claim was not fully checked; please report it"
    return Finding.at("EN011", "error", message, claim.clm, "CLM01")


class Engine:
    def __init__(self, config: Config | None = None, as_of: date | None = None):
        self.config = config or Config()
        self.limits = Limits.from_config(self.config.limits)
        self.context = Context(as_of=as_of or date.today(), options=dict(self.config.options), limits=self.limits)
        self.rules = [cls() for cls in claim_rules() if self.config.maybe_enabled(cls.code)]
        self._payer_specific = bool(self.config.payers)
        self._checks = [(rule.code, rule.check) for rule in self.rules]

    def check(self, claim: Claim) -> list[Finding]:
        """The findings of every enabled rule on ``claim``, sorted.

        A rule that raises (a bug) costs only this claim: the rule's findings are dropped, the
        claim gets one EN011 error instead, and the other rules still run. A ScrubberError (a
        malformed map or table, the same for every claim) is not a rule's bug: it goes up, and
        the input is held as unusable."""
        findings: list[Finding] = []
        config = self.config
        context = self.context
        if self._payer_specific:
            payer = claim.payer_id
            checks = [(code, check) for code, check in self._checks if config.enabled(code, payer)]
        else:
            payer = ""
            checks = self._checks
        if not (config.rules.severity or config.payers):
            # No severity set in the configuration: findings keep the rules' own severities.
            extend = findings.extend
            for code, check in checks:
                mark = len(findings)
                try:
                    extend(check(claim, context))
                except ScrubberError:  # a malformed map or table: every claim would meet it
                    raise
                except Exception as exc:  # noqa: BLE001 - a rule's bug must not cost the other claims
                    del findings[mark:]
                    findings.append(rule_failed(claim, code, exc))
        else:
            append = findings.append
            for code, check in checks:
                mark = len(findings)
                try:
                    for finding in check(claim, context):
                        severity = config.severity(finding.rule, finding.severity, payer)
                        if severity != finding.severity:
                            finding = replace(finding, severity=severity)
                        append(finding)
                except ScrubberError:
                    raise
                except Exception as exc:  # noqa: BLE001 - a rule's bug must not cost the other claims
                    del findings[mark:]
                    append(rule_failed(claim, code, exc))
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
