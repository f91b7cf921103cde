"""The rule registry: every rule by its stable code.

To add a rule: write its class (a docstring with What it does / Why is this bad / Example /
Use instead / References), add it to its module's ``RULES`` and, for a new module, import the
module below. Give it failing and passing fixture cases in ``tests/rule_cases.toml``.
"""

from __future__ import annotations

from . import envelope, pointers
from .base import Context, Rule

_MODULES = (envelope, pointers)

REGISTRY: dict[str, type[Rule]] = {}
for _module in _MODULES:
    for _rule in _module.RULES:
        if _rule.code in REGISTRY:  # pragma: no cover - a programming error
            raise RuntimeError(f"duplicate rule code {_rule.code}")
        REGISTRY[_rule.code] = _rule


def claim_rules() -> list[type[Rule]]:
    return [rule for rule in REGISTRY.values() if rule.scope == "claim"]


__all__ = ["REGISTRY", "Context", "Rule", "claim_rules"]
