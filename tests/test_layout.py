"""The layout of the rules: every code in the source is registered, one claim rule a file named after
its code and name, every code raised outside the claim rules says where it is raised."""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

import pytest

import scrubber
from scrubber.rules import REGISTRY, claim_rules

PACKAGE = Path(scrubber.__file__).resolve().parent
CODE = re.compile(r"\b(DP|DX|LM|BL|DT|TF|ID|BP|PX|NC|PE|EN|SX)\d{3}\b")
FAMILIES = {
    "DP": "pointers", "DX": "diagnosis", "LM": "limits", "BL": "balancing", "DT": "dates", "TF": "dates",
    "ID": "identifiers", "BP": "backpain", "PX": "procedures", "NC": "ncci",
    "PE": "payer",
}


def test_every_code_in_the_source_is_registered():
    unknown = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for match in CODE.finditer(line):
                if match.group(0) not in REGISTRY:
                    unknown.setdefault(match.group(0), f"{path.relative_to(PACKAGE.parent)}:{n}")
    assert not unknown, f"codes used but not registered: {unknown}"


def expected_file(rule) -> Path:
    family = FAMILIES[rule.code[:2]]
    return PACKAGE / "rules" / family / f"{rule.code}_{rule.name.replace('-', '_')}.py"


@pytest.mark.parametrize("rule", claim_rules(), ids=lambda r: r.code)
def test_claim_rule_lives_in_its_own_file(rule):
    where = Path(inspect.getsourcefile(rule)).resolve()
    want = expected_file(rule)
    assert where == want, (
        f"{rule.code} ({rule.__qualname__}) is defined in {where.relative_to(PACKAGE.parent)}, "
        f"expected {want.relative_to(PACKAGE.parent)}"
    )


def test_one_claim_rule_a_file():
    by_file: dict[str, list[str]] = {}
    for rule in claim_rules():
        by_file.setdefault(inspect.getsourcefile(rule), []).append(rule.code)
    shared = {path: codes for path, codes in by_file.items() if len(codes) > 1}
    assert not shared, f"files defining several claim rules: {shared}"


CATALOGUE = [rule for rule in REGISTRY.values() if rule.scope != "claim"]


@pytest.mark.parametrize("rule", CATALOGUE, ids=lambda r: r.code)
def test_catalogue_code_names_where_it_is_raised(rule):
    modules = [name.strip() for name in rule.raised_in.split(",") if name.strip()]
    assert modules, f"{rule.code} ({rule.scope}) has no raised_in"
    sources = []
    for name in modules:
        assert name.startswith("scrubber."), (rule.code, name)
        sources.append(inspect.getsource(importlib.import_module(name)))
    assert any(rule.code in text for text in sources), f"{rule.code}: none of {modules} mentions it"
