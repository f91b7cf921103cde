"""Runs the claim rules over one claim and decides its status.

Per claim the engine makes one :class:`~scrubber.rules.facts.ClaimFacts`, asks each distinct
``concerns`` fact once, runs the rules it did not rule out, and passes their findings through
the decision point (:class:`~scrubber.check.decide.DecisionEngine`) when the configuration
changes any severity.

The cross-claim rules (PE001-PE003) read the claims met before in the same input from the
engine's ledger (:class:`~scrubber.rules.payer._common.FileLedger`): the pipeline opens one per
input (:meth:`Engine.open_ledger`), tells the engine each claim's status (:meth:`Engine.settle`)
and closes it at the end (:meth:`Engine.close_ledger`).
"""

from __future__ import annotations

import os
from datetime import date

import structlog

from scrubber.check.decide import DecisionEngine
from scrubber.config import Config
from scrubber.errors import ScrubberError
from scrubber.findings import Finding
from scrubber.limits import Limits
from scrubber.rules import REGISTRY, Context, claim_rules
from scrubber.rules.facts import GATE_BITS, GATE_GROUPS, ClaimFacts, fact
from scrubber.rules.payer._common import REPLACES, FileLedger, frequency_code
from scrubber.x12.model import Claim

log = structlog.get_logger("scrubber")


def rule_failed(claim: Claim, code: str, exc: Exception) -> Finding:
    """The EN011 finding for a claim on which rule ``code`` raised ``exc``: at the claim's CLM,
    always an error (a claim not fully checked is not submitted). It names the exception's type
    only: an exception's message can quote the claim."""
    error = type(exc).__name__
    log.error("rule failed on a claim", rule=code, error=error)
    message = f"internal error in rule {code} ({error}); the claim was not fully checked; please report it"
    return Finding.at("EN011", "error", message, claim.clm, "CLM01")


_SORT_KEY = Finding.sort_key


class Engine:
    def __init__(self, config: Config | None = None, as_of: date | None = None):
        self.config = config = config or Config()
        self.decisions = DecisionEngine(config)
        self.limits = Limits.from_config(config.limits)
        self.context = Context(as_of=as_of or date.today(), options=dict(config.options), limits=self.limits)
        self.rules = [cls() for cls in claim_rules() if self.decisions.maybe_enabled(cls.code)]
        # The rules grouped by the gate that says whether a claim concerns them (None: every claim).
        # A gate of the claim pass is a bit of ``facts.gates``; another gate (a fact that reads a
        # code table) gets a bit of its own past those, and is asked of every claim.
        groups: dict[str | None, list] = {}
        for rule in self.rules:
            groups.setdefault(rule.concerns, []).append((rule.code, rule.check))
        self._always = groups.pop(None, [])
        self._pass_mask = 0
        lazy = []
        grouped: dict[str, list[tuple[int, int]]] = {}  # fact -> [(its bit, the engine's bit)]
        self._groups: list[tuple[int, list]] = []
        for gate, checks in groups.items():
            bit = GATE_BITS.get(gate)
            if bit is not None:
                self._pass_mask |= bit
            else:
                if not isinstance(getattr(ClaimFacts, gate, None), fact):
                    raise ValueError(f"rule {checks[0][0]} concerns {gate!r}, which is not a fact of a claim")
                bit = 1 << (len(GATE_BITS) + len(lazy) + sum(map(len, grouped.values())))
                if gate in GATE_GROUPS:
                    name, own = GATE_GROUPS[gate]
                    grouped.setdefault(name, []).append((own, bit))
                else:
                    lazy.append((gate, bit))
            self._groups.append((bit, checks))
        # (Each asked through its function, not the attribute: one call less a gate and a claim.)
        self._lazy = tuple((gate, ClaimFacts.__dict__[gate].fn, bit) for gate, bit in lazy)
        # A grouped fact's value -> the engine's bits it opens (a few values; made on first sight).
        self._grouped = tuple((name, ClaimFacts.__dict__[name].fn, tuple(bits), {}) for name, bits in grouped.items())
        self._plans: dict[int, list] = {}  # the open gates -> the checks to run (a few combinations)
        codes = {rule.code for rule in self.rules}
        self.cross_claim = bool(codes & {"PE001", "PE002", "PE003"})  # a rule that reads the ledger
        self.in_file_checks = bool(codes & {"PE001", "PE002"})  # a rule that compares claims of one input
        self.run_key = os.urandom(32)  # the fingerprints' key when no state folder gives one

    # The claims met before in the same input ------------------------------------------------------
    def open_ledger(self, key: bytes | None = None, sent_before=None, memory_bound: int = 20000) -> FileLedger | None:
        """A fresh ledger for the next input (None when no rule reads it and no state folder records
        it). ``key``: the fingerprints' HMAC key (the state folder's, or the run's); ``sent_before``:
        the state store's lookup for PE003."""
        self.close_ledger()
        if not self.cross_claim and sent_before is None and key is None:
            return None
        ledger = FileLedger(key or self.run_key, sent_before, memory_bound)
        self.context.ledger = ledger
        return ledger

    def settle(self, claim: Claim, status: str) -> None:
        """``claim`` ended ``status``: the ledger remembers it when accepted."""
        ledger = self.context.ledger
        if ledger is None:
            return
        digest = ledger.digest_of(claim)
        checked = False
        if ledger.sent_before is not None and frequency_code(claim) not in REPLACES:
            checked = self.decisions.enabled("PE003", claim.payer_id if self.decisions.payer_specific else "")
        ledger.settle(claim, digest, status == "accepted", checked)

    def close_ledger(self) -> None:
        ledger = self.context.ledger
        if ledger is not None:
            ledger.close()
            self.context.ledger = None

    def check(self, claim: Claim) -> list[Finding]:
        """The findings of every enabled rule on ``claim``, sorted.

        A rule that raises (a bug) costs only this claim: the rule's findings are dropped, the
        claim gets one EN011 error instead, and the other rules still run. A ScrubberError (a
        malformed map or table, the same for every claim) is not a rule's bug: it goes up, and
        the input is held as unusable."""
        facts = ClaimFacts(claim, self.context)
        decisions = self.decisions
        findings: list[Finding] = []
        try:
            key = facts.open_gates() & self._pass_mask
            known = facts.__dict__  # (a fact asked is kept there, as its attribute: see facts.fact)
            for gate, fn, bit in self._lazy:
                value = known[gate] = fn(facts)
                if value:
                    key |= bit
            for name, fn, bits, opened in self._grouped:
                value = known[name] = fn(facts)
                if value:
                    found = opened.get(value)
                    if found is None:
                        found = opened[value] = sum(bit for own, bit in bits if value & own)
                    key |= found
        except ScrubberError:
            raise
        except Exception:  # noqa: BLE001 - a fact's bug: every rule runs, and those that read it fail alone
            key = -1
        checks = self._plans.get(key)
        if checks is None:
            checks = list(self._always)
            for bit, gated in self._groups:
                if key & bit:
                    checks.extend(gated)
            self._plans[key] = checks
        payer = ""
        if decisions.payer_specific:
            payer = claim.payer_id
            enabled = decisions.enabled
            checks = [(code, check) for code, check in checks if enabled(code, payer)]
        for code, check in checks:
            try:
                out = check(claim, facts)
                if out:
                    if type(out) is not list:
                        out = list(out)  # (a rule that yields: all of its findings, or none)
                    findings.extend(out)
            except ScrubberError:  # a malformed map or table: every claim would meet it
                raise
            except Exception as exc:  # noqa: BLE001 - a rule's bug must not cost the other claims
                findings.append(rule_failed(claim, code, exc))
        if not findings:
            return findings
        if decisions.overrides:
            decided = decisions.decided
            findings = [f for f in (f if f.rule == "EN011" else decided(f, payer) for f in findings) if f is not None]
        if len(findings) > 1:
            findings.sort(key=_SORT_KEY)
        return findings


def claim_status(findings: list[Finding]) -> str:
    for f in findings:
        if f.severity == "error":
            return "rejected"
    return "accepted"


def known_codes() -> set[str]:
    return set(REGISTRY)
