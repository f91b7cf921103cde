"""Every output of ``scrubber scrub`` on every fixture and corpus file, byte for byte as stored in
tests/golden/ (see tests/golden/README.md; ``python tools/make_golden.py`` rewrites them)."""

from __future__ import annotations

import sys

import pytest

from conftest import ROOT, need_corpus

sys.path.insert(0, str(ROOT / "tools"))
import make_golden as mg  # noqa: E402

FIXTURE_CASES = mg.stored_cases("fixtures")
CORPUS_CASES = mg.stored_cases("corpus")


def _check(case: mg.Case, tmp_path) -> None:
    work = tmp_path / "work"
    code, got = mg.scrub(case, work)
    problems = mg.differences(mg.stored(case), code, got)
    if problems:
        pytest.fail(
            f"{case.id} (as of {case.as_of}): the outputs differ from tests/golden/{case.id}/ "
            f"(this run's outputs are in {work / 'out'}):\n  " + "\n  ".join(problems)
            + "\nA deliberate change of behaviour: run python tools/make_golden.py and commit the new copies with it.",
            pytrace=False,
        )


def test_golden_copies_exist():
    assert len(FIXTURE_CASES) >= 20 and CORPUS_CASES, "tests/golden/*/MANIFEST.tsv missing: run python tools/make_golden.py"


def test_every_fixture_has_a_golden_copy():
    now = {(c.name, c.as_of) for c in mg.fixture_cases()}
    stored = {(c.name, c.as_of) for c in FIXTURE_CASES}
    assert now == stored, (f"fixtures without a golden copy (or another as-of date): {sorted(now - stored)}; "
                           f"golden copies of no fixture: {sorted(stored - now)}; run python tools/make_golden.py")


def test_every_corpus_file_has_a_golden_copy():
    need_corpus()
    now = {(c.name, c.as_of) for c in mg.corpus_cases()}
    stored = {(c.name, c.as_of) for c in CORPUS_CASES}
    assert now == stored, (f"corpus files without a golden copy: {sorted(now - stored)}; "
                           f"golden copies of no corpus file: {sorted(stored - now)}; run python tools/make_golden.py")


@pytest.mark.parametrize("case", FIXTURE_CASES, ids=[c.name for c in FIXTURE_CASES])
def test_fixture_outputs_unchanged(case, tmp_path):
    _check(case, tmp_path)


@pytest.mark.parametrize("case", CORPUS_CASES, ids=[c.name for c in CORPUS_CASES])
def test_corpus_outputs_unchanged(case, tmp_path):
    need_corpus()
    _check(case, tmp_path)


def test_ack_time_of_day_is_normalised():
    """The one thing normalised: the acknowledgments' clock time (ISA10, GS05, BHT05)."""
    isa = ("ISA*00*          *00*          *ZZ*RECEIVER01     *ZZ*SENDER01       *250601*1437*^*00501*"
           "000000001*0*T*:~\n")
    ack = (isa + "GS*HN*R*S*20250601*1437*1*X*005010X214~\nBHT*0085*08*abc*20250601*1437*TH~\n"
           "STC*A1:19*20250601*WQ*1437~\n").encode()
    got = mg.normalise("x.277ca.edi", ack).decode()
    assert got.splitlines() == [
        isa.replace("*1437*", "*HHMM*").rstrip("\n"), "GS*HN*R*S*20250601*HHMM*1*X*005010X214~",
        "BHT*0085*08*abc*20250601*HHMM*TH~", "STC*A1:19*20250601*WQ*1437~"]
    assert len(got.splitlines()[0]) == 106
    assert mg.normalise("x.999", ack) == got.encode()
    assert mg.normalise("x.report.json", ack) == ack and mg.normalise("x.clean.837", ack) == ack


def test_a_difference_names_the_output_and_its_first_differing_line():
    case = mg.Case("fixtures", "x.837", "2025-06-01")
    want = mg.Golden(case, 1, {"x.txt": b"a\nb\nc\n", "x.999": b"ISA\n", "x.report.json": mg.Digest.of(b"{}")})
    got = {"x.txt": b"a\nB\nc\n", "x.report.json": b"{ }", "x.clean.837": b""}
    problems = mg.differences(want, 2, got)
    assert problems[0] == "exit status 2, stored 1"
    assert "x.999: stored but not written now" in problems
    assert "x.clean.837: written now but not stored" in problems
    assert any(p.startswith("x.report.json: sha256 ") for p in problems)
    line = next(p for p in problems if p.startswith("x.txt"))
    assert line.splitlines() == ["x.txt: line 2 differs (6 bytes stored, 6 now)", "    stored: b\\n", "    now:    B\\n"]
    assert mg.differences(want, 1, {"x.txt": b"a\nb\nc\n", "x.999": b"ISA\n", "x.report.json": b"{}"}) == []
