"""A rule's gate (``concerns``) is a necessary condition of its findings: run ungated on every claim
of the fixtures, the rule cases and the corpus, a rule finds nothing on a claim where its gate is
closed. And the gates close on the usual claim: on the benchmark's claims most rules are skipped.
"""

from __future__ import annotations

import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

from conftest import AS_OF, CORPUS, FIXTURES
from rulecases import all_cases, case_bytes, engine_for
from scrubber.check.engine import Engine
from scrubber.config import parse_config
from scrubber.check.engine import known_codes
from scrubber.errors import ScrubberError
from scrubber.rules import Rule
from scrubber.rules.facts import GATE_BITS, GATES, ClaimFacts
from scrubber.x12.model import Claim, walk
from scrubber.x12.reader import UnusableInput, read_segments

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from gen837 import generate  # noqa: E402


def claims_of(data) -> list[Claim]:
    try:
        return [e for e in walk(read_segments(data)) if type(e) is Claim]
    except (UnusableInput, ScrubberError):
        return []


def inputs(tmp: Path):
    """(name, bytes, engine) for every fixture, every rule case, every corpus file and a generated
    file of the benchmark's kind (repeated lines, pointer faults, several payers)."""
    plain = Engine(as_of=AS_OF)
    generated = tmp / "generated.837"
    generate(generated, 600, per_st=200, bad=0.3, seed=5)
    yield generated.name, generated.read_bytes(), plain
    for path in sorted(FIXTURES.glob("*.837")):
        yield path.name, path.read_bytes(), plain
    for case in all_cases():
        as_of = case.data.get("as_of", AS_OF)
        try:
            data = case_bytes(case)
        except AssertionError:
            continue
        yield case.id, data, engine_for(case.data.get("config"), as_of)
    if CORPUS.is_dir():
        for path in sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.suffix not in (".md", ".tsv")):
            yield str(path.relative_to(CORPUS)), path.read_bytes(), plain
    # Dates around the as-of date and the filing limit, and a timely-filing limit set.
    dated = (FIXTURES / "sample.837").read_bytes()
    for days in (-1, 0, 1, 364, 365, 366, 800):
        yield f"as-of +{days}", dated, Engine(as_of=date(2025, 3, 10) + timedelta(days=days))
    config = parse_config({"options": {"timely_filing_days": 30}}, known_codes())
    yield "timely_filing_days 30", dated, Engine(config, as_of=date(2025, 6, 1))


def run_ungated(rule, claim, facts):
    try:
        return list(rule.check(claim, facts) or ())
    except ScrubberError:
        return []


def test_every_gate_is_a_necessary_condition(tmp_path):
    named = {rule.concerns for rule in Engine(as_of=AS_OF).rules} - {None}
    closed = {name: 0 for name in named}
    wrong = []
    claims = 0
    for name, data, engine in inputs(tmp_path):
        for claim in claims_of(data):
            claims += 1
            facts = ClaimFacts(claim, engine.context)
            for rule in engine.rules:
                gate = rule.concerns
                if gate is None or getattr(facts, gate):
                    continue
                closed[gate] = closed.get(gate, 0) + 1
                found = run_ungated(rule, claim, ClaimFacts(claim, engine.context))
                if found:
                    wrong.append(f"{name} {claim.claim_id}: {rule.code} found {found[0].message!r} with {gate} closed")
    assert claims > 200
    assert not wrong, "\n".join(wrong[:20])
    # Every gate a rule names was closed somewhere (else this test did not look at it).
    assert [g for g, n in closed.items() if n == 0] == []


def test_the_engine_skips_most_rules_on_a_usual_claim():
    engine = Engine(as_of=AS_OF)
    [claim] = claims_of((FIXTURES / "clean_single.837").read_bytes())
    facts = ClaimFacts(claim, engine.context)
    open_gates = [g for g in GATES if getattr(facts, g)]
    ran = [r.code for r in engine.rules if r.concerns is None or getattr(facts, r.concerns)]
    assert set(open_gates) <= {"has_lines", "has_diagnoses", "multi_procedure_dates"}, open_gates
    assert len(ran) < len(engine.rules) / 3, ran
    assert engine.check(claim) == []


def test_a_rule_naming_an_unknown_gate_is_refused():
    class Ungated(Rule, register=False):
        code = "ZZ902"
        concerns = "no_such_gate"

        def check(self, claim, facts):
            return ()

    from scrubber.check import engine as engine_module

    original = engine_module.claim_rules
    engine_module.claim_rules = lambda: [*original(), Ungated]
    try:
        with pytest.raises(ValueError, match="no_such_gate"):
            Engine(as_of=AS_OF)
    finally:
        engine_module.claim_rules = original


def test_the_gate_bits_are_distinct():
    from scrubber.rules import facts

    assert len(set(GATE_BITS.values())) == len(GATES)
    assert all(bin(bit).count("1") == 1 for bit in GATE_BITS.values())
    # The back-pain gates read as bits of one fact are the bits HiReading sets.
    bits = {"backpain_in_scope": facts.IN_SCOPE, "backpain_unspecified": facts.UNSPECIFIED,
            "backpain_symptom_first": facts.SYMPTOM, "backpain_excludes1": facts.EXCLUDES1_OWNER}
    assert {gate: bit for gate, (_, bit) in facts.GATE_GROUPS.items()} == bits
    # The line checks' flags are the bits of the gates they open.
    assert facts.BAD_CHARGE == GATE_BITS["charge_invalid"] and facts.BAD_BASIS == GATE_BITS["unit_basis"]
