"""The rules: one module a rule code, each class registered by its definition.

``rules/<family>/<CODE>_<name>.py`` holds every line of one claim rule's logic; a family's shared
plumbing is in its ``_common.py``; the facts several families share about a claim are in
:mod:`scrubber.rules.facts`. Codes raised outside the claim rules (by the reader, the claim model,
the structural pass) are documented in the catalogue modules ``envelope`` and ``structure``,
each code naming where it is raised. Every module of the package is imported once here, in name
order, and :data:`REGISTRY` lists every code in code order.

To add a claim rule: write ``rules/<family>/<CODE>_<name>.py`` (a class with ``code``, ``name``,
``summary`` and a docstring with What it does / Why is this bad / Example / Use instead /
References) and its cases ``tests/rule_cases/<CODE>.toml``; then ``python tools/make_docs.py``.

This package may import ``scrubber.x12``, ``scrubber.codesets`` and the foundation modules;
never ``check``, ``report``, ``run`` or ``cli``.
"""

from __future__ import annotations

import importlib
import pkgutil

from scrubber.rules.base import REGISTRY, Context, Rule


def _load() -> None:
    for info in sorted(pkgutil.walk_packages(__path__, f"{__name__}."), key=lambda m: m.name):
        if info.name.rsplit(".", 1)[-1] in ("base", "facts"):
            continue
        importlib.import_module(info.name)
    ordered = sorted(REGISTRY.items())
    REGISTRY.clear()
    REGISTRY.update(ordered)


_load()


def claim_rules() -> list[type[Rule]]:
    return [rule for rule in REGISTRY.values() if rule.scope == "claim"]


__all__ = ["REGISTRY", "Context", "Rule", "claim_rules"]
