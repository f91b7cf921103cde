"""Every claim rule, failing and passing, over the base claim in memory (tests/rule_cases/<CODE>.toml);
the structural rules end to end on their fixture (tests/rule_cases/structure.toml)."""

from __future__ import annotations

import importlib.util
import sys
import textwrap
from dataclasses import replace
import tomllib

import pytest

from conftest import claims_by_id
from rulecases import CASES_DIR, Case, CaseError, all_cases, apply_edit, base_lines, check_claims, load_cases, run_case
from scrubber.rules import REGISTRY, claim_rules

CASES = all_cases()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_rule_case(case):
    run_case(case)


def test_every_claim_rule_has_both_cases():
    covered = {(c.code, c.expect) for c in CASES}
    for rule in claim_rules():
        assert (rule.code, "fail") in covered, f"{rule.code} has no failing case (tests/rule_cases/{rule.code}.toml)"
        assert (rule.code, "pass") in covered, f"{rule.code} has no passing case (tests/rule_cases/{rule.code}.toml)"


def test_every_case_file_is_a_claim_rule():
    codes = {rule.code for rule in claim_rules()}
    for path in CASES_DIR.glob("*.toml"):
        assert path.stem in codes or path.name == "structure.toml", f"{path.name} names no claim rule"


def test_every_rule_is_documented():
    for code, rule in REGISTRY.items():
        docs = rule.docs()
        assert rule.summary and rule.name, code
        if rule.scope == "claim":
            for heading in ("## What it does", "## Why is this bad", "## Example", "## Use instead"):
                assert heading in docs, f"{code} docs lack {heading}"


def test_the_base_claim_is_clean_and_every_line_unique():
    lines = base_lines()
    assert len(set(lines)) == len(lines), "every base line must be unique, so that any can be edited"
    claims, findings = check_claims(Case("DP002", "base", "pass", {}))
    assert len(claims) == 1 and claims[0].claim_id == "CASE-1" and len(claims[0].lines) == 2
    assert findings == []


# --- the edits fail loudly ---------------------------------------------------------------------------


def test_edit_replaces_adds_and_drops():
    lines = ["A*1", "B*1", "C*1", "D*1"]
    edit = """
    - B*1
    + B*2
    + B*3
    = C*1
    + CC*1
    - D*1~
    """
    assert apply_edit(lines, edit) == ["A*1", "B*2", "B*3", "C*1", "CC*1"]


@pytest.mark.parametrize(
    "edit, message",
    [
        ("- NOPE*1", "matches 0 lines"),
        ("- DTP*472", "matches 0 lines"),  # a prefix is not the line
        ("= X*1\n+ Y*1", "matches 2 lines"),
        ("+ LX*3", "follows no"),
        ("- HI*ABK:M5450*ABF:M546\n= HI*ABK:M5450*ABF:M546", "edited twice"),
        ("* HI*ABK:M5450*ABF:M546", "does not begin with"),
    ],
)
def test_edit_that_does_not_match_one_line_fails(edit, message):
    lines = base_lines() + ["X*1", "X*1"]
    with pytest.raises(CaseError, match=message):
        apply_edit(lines, edit, "case")


def test_case_file_errors(tmp_path):
    bad = tmp_path / "DP002.toml"
    bad.write_text('[[case]]\nname = "x"\nexpect = "fail"\nelemnt = "SV107-2"\n', encoding="utf-8")
    with pytest.raises(CaseError, match="unknown keys"):
        load_cases(bad)
    bad.write_text('[[case]]\nname = "x"\nexpect = "fail"\n[[case]]\nname = "x"\nexpect = "pass"\n', encoding="utf-8")
    with pytest.raises(CaseError, match="used twice"):
        load_cases(bad)
    wrong = tmp_path / "pointers.toml"
    wrong.write_text("", encoding="utf-8")
    with pytest.raises(CaseError, match="named after its rule code"):
        load_cases(wrong)


def test_a_wrong_expectation_fails():
    (case,) = [c for c in CASES if c.id == "DP002-fail"]
    with pytest.raises(AssertionError):
        run_case(replace(case, data={**case.data, "value": "9"}))
    with pytest.raises(AssertionError, match="expected a DP002 finding"):
        run_case(replace(case, data={k: v for k, v in case.data.items() if k != "edit"}))


# --- a new claim rule is one rule file and one case file ---------------------------------------------

RULE_MODULE = '''
from scrubber.rules import Rule


class ChargeOverLimit(Rule):
    """A claim charge over 1000.

    ## What it does
    Flags CLM02 over 1000.
    """

    code = "ZZ999"
    name = "charge-over-limit"
    summary = "claim charge over 1000"

    def check(self, claim, facts):
        if float(claim.clm.el(2) or 0) > 1000:
            yield self.finding(claim.clm, "charge over 1000", element="CLM02", value=claim.clm.el(2))
'''

CASE_FILE = """
[[case]]
name = "fail"
expect = "fail"
element = "CLM02"
value = "1500"
edit = '''
- CLM*CASE-1*150***11:B:1*Y*A*Y*Y
+ CLM*CASE-1*1500***11:B:1*Y*A*Y*Y
'''

[[case]]
name = "pass"
expect = "pass"
clean = true
"""


def test_a_new_rule_is_one_rule_file_and_one_case_file(tmp_path):
    (tmp_path / "rule").mkdir()
    (tmp_path / "cases").mkdir()
    module_path = tmp_path / "rule" / "ZZ999_charge_over_limit.py"
    module_path.write_text(textwrap.dedent(RULE_MODULE), encoding="utf-8")
    (tmp_path / "cases" / "ZZ999.toml").write_text(CASE_FILE, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("zz999_charge_over_limit", module_path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)  # the class registers itself on definition
        assert "ZZ999" in REGISTRY
        cases = all_cases(tmp_path / "cases")
        assert [c.id for c in cases] == ["ZZ999-fail", "ZZ999-pass"]
        for case in cases:
            run_case(case)
    finally:
        REGISTRY.pop("ZZ999", None)
        sys.modules.pop("zz999_charge_over_limit", None)
    assert "ZZ999" not in REGISTRY


# --- the structural rules, end to end (the structural pass runs in the pipeline) -----------------------

STRUCTURE = tomllib.loads((CASES_DIR / "structure.toml").read_text(encoding="utf-8"))["case"]


@pytest.mark.parametrize("case", STRUCTURE, ids=[f"{c['rule']}-{c['claim']}" for c in STRUCTURE])
def test_structure_case(case, scrubbed):
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
        assert f["segment"] and f["loop"] and isinstance(f["position"], int) and f["message"]
    else:
        assert not mine, mine
        if case.get("clean"):
            assert claim["status"] == "accepted" and claim["findings"] == [], claim["findings"]
