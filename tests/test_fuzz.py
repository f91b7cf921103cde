"""Hostile and broken input: whatever arrives ends in a clear result.

A short budget runs here; `python tools/fuzz.py --seconds 600` runs the long one.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import fuzz  # noqa: E402

from scrubber.check.engine import Engine  # noqa: E402
from scrubber.run.pipeline import scrub_file  # noqa: E402

ENGINE = Engine(None, date(2025, 6, 1))
ISA = (ROOT / "fixtures" / "edi" / "clean_single.837").read_bytes()[:106]


def check(data: bytes, tmp: Path) -> None:
    path = tmp / "in.837"
    path.write_bytes(data)
    outcome = scrub_file(path, tmp / "out", ENGINE, structure=False) if _has_structure() else scrub_file(path, tmp / "out", ENGINE)
    assert outcome.status in ("clean", "rejections", "unusable")
    assert not any(f.rule == "EN011" for f in outcome.findings), [f.message for f in outcome.findings]
    assert Path(outcome.report_path).is_file()


def _has_structure() -> bool:
    import inspect

    return "structure" in inspect.signature(scrub_file).parameters


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=600))
def test_random_bytes(tmp_path_factory, data):
    check(data, tmp_path_factory.mktemp("rb"))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=400))
def test_random_bytes_after_a_valid_isa(tmp_path_factory, data):
    check(ISA + data, tmp_path_factory.mktemp("isa"))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from([b"ISA", b"GS", b"ST", b"HL*1**20*1", b"HL*2*1*22*0", b"CLM*X*10", b"LX*1",
                                 b"SV1*HC:99213*10*UN*1***1", b"HI*ABK:M5450", b"SE*5*1", b"GE*1*1", b"IEA*1*1",
                                 b"", b"NM1*85*2*X", b"SBR*P"]), max_size=40))
def test_random_segment_soup(tmp_path_factory, segs):
    check(ISA + b"~".join(segs) + b"~", tmp_path_factory.mktemp("soup"))


def test_mutation_fuzzer_short_budget():
    """Mutants of every fixture (and the corpus where present): no crash, no hang."""
    stats = fuzz.fuzz(seconds=40, seed=7, structure=False, seeds=fuzz.seed_files(), budget=10.0, max_inputs=1500)
    print(f"\n[fuzz] inputs {stats['inputs']}, crashes {stats['crashes']}, hangs {stats['hangs']}, "
          f"slowest {stats['slowest']:.2f} s, statuses {stats['statuses']}")
    assert stats["inputs"] >= 50
    assert stats["crashes"] == 0 and stats["hangs"] == 0, stats["failures"][:5]


def test_truncation_at_every_segment_boundary(tmp_path):
    data = (ROOT / "fixtures" / "edi" / "sample.837").read_bytes()
    segs = data.split(b"~")
    for cut in range(len(segs)):
        check(b"~".join(segs[:cut]) + (b"~" if cut else b""), tmp_path)


def test_huge_diagnosis_code_is_not_quadratic(tmp_path):
    """Regression (found by tools/fuzz.py): a 300,000-character HI code took minutes in code-prefix
    lookups that sliced every prefix of it; code lookups stop at the 7 characters of ICD-10-CM."""
    import time

    data = (ROOT / "fixtures" / "edi" / "sample.837").read_bytes()
    data = data.replace(b"HI*ABK:", b"HI*ABK:M" + b"9" * 300_000 + b"*ABF:", 1)
    start = time.perf_counter()
    check(data, tmp_path)
    assert time.perf_counter() - start < 15


def test_fuzzer_runs_the_structural_pass_every_format_and_the_acks(tmp_path):
    """fuzz.run_one(..., outputs=True): the structural pass, then text, CSV, HTML, 999 and 277CA
    at once, the verdict compared with a plain run's and the reports scanned for person values."""
    sample = (ROOT / "fixtures" / "edi" / "sample.837").read_bytes()
    cases = [
        sample,
        sample.replace(b"CLM*SAMPLE-OK-1*", b"CLM*=HYPERLINK(\"x\")*", 1),
        sample.replace(b"NM1*IL*1*", b"NM1*IL*", 1),  # a person NM1 with NM102 left out
        sample.replace(b"SV1*HC:99213*100*UN*1***1:2", b"SV1*HC:99213*100*UN*1***" + b":".join([b"1"] * 70), 1),
    ]
    for data in cases:
        status, internal, _ = fuzz.run_one(data, tmp_path, structure=True, outputs=True)
        assert status in ("clean", "rejections", "unusable") and internal is None, (status, internal)
        names = {p.name for p in (tmp_path / "out").iterdir()}
        assert {"fuzz.report.json", "fuzz.report.csv", "fuzz.report.html"} <= names, names
        assert status == "unusable" or {"fuzz.999", "fuzz.277ca.edi"} <= names, names  # (none for an unusable input)
    # The person values of the seed are looked for in the reports: one planted in a message is found.
    (tmp_path / "out" / "fuzz.report.csv").write_text("TESTPATIENT")
    assert fuzz._leaks(sample, tmp_path / "out") == "fuzz.report.csv"
