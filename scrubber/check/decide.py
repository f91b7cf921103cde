"""The one decision point for every finding: is its rule on, and how severe is it, for a payer.

The rules say what they found and where, with their default severity; the configuration
(``[rules]`` and ``[payers.ID.rules]``) decides whether the finding is reported and at which
severity. Every path that makes a finding asks here: the claim rules (through the engine), the
reader's notes, the envelope trailers, the structural pass and the acknowledgment writers.
Decisions are cached per (code, payer, default severity): a run asks a few hundred distinct
questions, whatever the number of claims.
"""

from __future__ import annotations

from scrubber.config import Config
from scrubber.findings import Ack, Finding
from scrubber.rules import REGISTRY
from scrubber.x12.reader import Segment

_OFF = object()  # cached "the rule is off"


class DecisionEngine:
    """``enabled(code, payer)`` and ``severity(code, payer, default)``, cached (as flake8's)."""

    def __init__(self, config: Config | None = None):
        self.config = config = config or Config()
        #: Whether any decision depends on the payer (a [payers.ID] table is configured).
        self.payer_specific = bool(config.payers)
        #: Whether any severity differs from a rule's own (no [severity] table and no payer table:
        #: findings keep the severity their rule gave them, and need no decision one by one).
        self.overrides = bool(config.rules.severity or config.payers)
        self._cache: dict[tuple[str, str, str | None], object] = {}

    def payer(self, claim) -> str:
        """The payer id decisions for ``claim`` depend on ("" when none does)."""
        return claim.payer_id if self.payer_specific else ""

    def _decide(self, code: str, payer: str, default: str | None) -> object:
        key = (code, payer, default)
        found = self._cache.get(key)
        if found is None:
            config = self.config
            if not config.enabled(code, payer):
                found = _OFF
            else:
                if default is None:
                    rule = REGISTRY.get(code)
                    default = rule.severity if rule is not None else "error"
                found = config.severity(code, default, payer)
            self._cache[key] = found
        return found

    def enabled(self, code: str, payer: str = "") -> bool:
        return self._decide(code, payer, None) is not _OFF

    def maybe_enabled(self, code: str) -> bool:
        """Whether the rule is on for some payer (so that the engine must run it)."""
        return self.config.maybe_enabled(code)

    def severity(self, code: str, payer: str = "", default: str | None = None) -> str | None:
        """The severity of a finding of rule ``code`` whose rule said ``default`` (the rule's own
        severity when None), or None when the rule is off for ``payer``."""
        found = self._decide(code, payer, default)
        return None if found is _OFF else found  # type: ignore[return-value]

    def decided(self, finding: Finding, payer: str = "") -> Finding | None:
        """``finding`` at the configured severity, or None when its rule is off."""
        found = self._decide(finding.rule, payer, finding.severity)
        if found is _OFF:
            return None
        if found != finding.severity:
            return finding.replace_severity(found)  # type: ignore[arg-type]
        return finding

    def finding(
        self,
        code: str,
        message: str,
        seg: Segment | None = None,
        element: str | None = None,
        value: str | None = None,
        *,
        payer: str = "",
        severity: str | None = None,
        ack: bool | str = True,
        offset: int | None = None,
        loop: str | None = None,
        segment: str | None = None,
        position: int | None = None,
    ) -> Finding | None:
        """A finding of rule ``code`` as configured, or None when the rule is off.

        ``severity`` forces the severity (the configuration is not asked about it); ``ack``: True
        for the rule's 277CA code, "error" for it on errors only, False for none, or a code.
        The place is ``seg`` (a segment), else ``loop``/``segment``/``position``/``offset``."""
        rule = REGISTRY.get(code)
        if severity is None:
            severity = self.severity(code, payer)
            if severity is None:
                return None
        elif not self.enabled(code, payer):
            return None
        if ack is True:
            parsed = Ack.parse(rule.ack) if rule is not None else None
        elif ack == "error":
            parsed = Ack.parse(rule.ack) if rule is not None and severity == "error" else None
        elif ack:
            parsed = Ack.parse(ack)  # type: ignore[arg-type]
        else:
            parsed = None
        if seg is not None:
            return Finding.at(code, severity, message, seg, element, value, parsed)
        return Finding(code, severity, message, loop, segment, position, element, value, parsed, offset)

    def must(self, code: str, message: str, segment: str | None = None, offset: int | None = None) -> Finding:
        """The finding that makes an input unusable: always an error, whatever the configuration
        (an input that cannot be read cannot be let through by a setting)."""
        return Finding(code, "error", message, segment=segment, offset=offset)
