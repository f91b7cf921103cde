"""Every claim rule, failing and passing, on the fixture files (cases in tests/rule_cases/*.toml)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from conftest import claims_by_id
from scrubber.rules import REGISTRY, claim_rules

CASES = [
    case
    for path in sorted((Path(__file__).parent / "rule_cases").glob("*.toml"))
    for case in tomllib.loads(path.read_text(encoding="utf-8"))["case"]
]


@pytest.mark.parametrize("case", CASES, ids=[f"{c['rule']}-{c['claim']}" for c in CASES])
def test_rule_case(case, scrubbed):
    as_of = case.get("as_of")  # TOML dates load as datetime.date
    _, report, _ = scrubbed(case["file"], as_of, case.get("config"))
    claims = claims_by_id(report)
    assert case["claim"] in claims, f"{case['claim']} not found in {case['file']}"
    claim = claims[case["claim"]]
    mine = [f for f in claim["findings"] if f["rule"] == case["rule"]]
    if case["expect"] == "fail":
        assert mine, f"{case['claim']}: expected {case['rule']}, got {[f['rule'] for f in claim['findings']]}"
        f = mine[0]
        if "severity" in case:
            assert f["severity"] == case["severity"], f
        elif REGISTRY[case["rule"]].severity == "error":
            assert claim["status"] == "rejected"
        for key in ("element", "value"):
            if key in case:
                assert f[key] == case[key], (key, f)
        if "ack" in case:
            assert f"{f['ack']['category']}:{f['ack']['status']}" == case["ack"]
        # Every finding names its place the way an analyst does.
        assert f["segment"] and f["loop"] and isinstance(f["position"], int) and f["message"]
    else:
        assert not mine, mine
        if case.get("clean"):
            assert claim["status"] == "accepted" and claim["findings"] == [], claim["findings"]


def test_every_claim_rule_has_both_cases():
    covered = {(c["rule"], c["expect"]) for c in CASES}
    for rule in claim_rules():
        assert (rule.code, "fail") in covered, f"{rule.code} has no failing case"
        assert (rule.code, "pass") in covered, f"{rule.code} has no passing case"


def test_every_rule_is_documented():
    for code, rule in REGISTRY.items():
        docs = rule.docs()
        assert rule.summary and rule.name, code
        if rule.scope == "claim":
            for heading in ("## What it does", "## Why is this bad", "## Example", "## Use instead"):
                assert heading in docs, f"{code} docs lack {heading}"
