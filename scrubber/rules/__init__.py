"""The rule registry: every rule by its stable code.

Each module of this package that defines ``RULES`` (a list of rule classes) contributes its rules;
modules are read in name order. To add a rule: write its class (a docstring with What it does /
Why is this bad / Example / Use instead / References), append it to its module's ``RULES``, and
give it failing and passing fixture cases in ``tests/rule_cases/<family>.toml``.
"""

from __future__ import annotations

import importlib
import pkgutil

from .base import Context, Rule

REGISTRY: dict[str, type[Rule]] = {}


def _load() -> None:
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_") or info.name == "base":
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for rule in getattr(module, "RULES", ()):
            if rule.code in REGISTRY:  # pragma: no cover - a programming error
                raise RuntimeError(f"duplicate rule code {rule.code} in {info.name}")
            REGISTRY[rule.code] = rule


_load()


def claim_rules() -> list[type[Rule]]:
    return [rule for rule in REGISTRY.values() if rule.scope == "claim"]


__all__ = ["REGISTRY", "Context", "Rule", "claim_rules"]
