"""Our 999 against pyx12's own 999, and our acknowledgments validated with pyx12's 999 and 277
maps, on a representative subset of the fixtures and the corpus (``tools/ack_diff.py`` runs the
same over every file; pyx12 is too slow for all of them in the suite).

The subset: envelope errors (codes_envelope: SE01 and GE02 wrong), element and segment errors of
every kind (codes, sample, structure_a2), a partially accepted group (limits), HL numbering
(fixtures made by tools/fixtures_structure.py), several interchanges and groups (multi), another
delimiter set (delims_pipe), and corpus files of other origins. Each difference from pyx12 must
have its reason (``ack_diff.reason``); the reasons met are checked to be the expected ones."""

from __future__ import annotations

import sys

import pytest

from conftest import CORPUS, FIXTURES, ROOT, need_corpus
from pyx12check import format_errors, pyx12_errors

sys.path.insert(0, str(ROOT / "tools"))
import ack_diff  # noqa: E402

FIXTURE_SUBSET = {
    "codes_envelope.837": set(),
    "sample.837": {"a required element missing"},
    "codes.837": {"too many elements"},
    "limits.837": {"some sets accepted"},
    "multi.837": set(),
    "delims_pipe.837": set(),
    "bad_4010.837": {"a 004010 input"},
    "pointers.837": {"pyx12 4.0 raised"},
}
CORPUS_SUBSET = [
    "imsweb__x12-parser/src__test__resources__837_5010__x12_complex.txt",
    "imsweb__x12-parser/src__test__resources__837_5010__x12_bad_segment_identifier.txt",
    "imsweb__x12-parser/src__test__resources__837_5010__x12_missing_required_loops_mult_repeats.txt",
    "imsweb__x12-parser/src__test__resources__837_5010__x12_multiple_st.txt",
    "xlate__staedi/src__test__resources__x12__sample837-HL-nested.edi",
]


def _check(path, expected: set[str] | None, tmp_path):
    bad, known, ours = ack_diff.compare(path, tmp_path)
    assert bad == [], "differences from pyx12's 999 with no reason:\n" + "\n".join(bad)
    if expected is not None:
        met = {k for k in expected if any(k in line for line in known)}
        assert met == expected, known
    for kind, ack in ours.items():
        errors, _as_sent = ack_diff.invalid_as_sent(pyx12_errors(ack))
        assert errors == [], f"our {kind} for {path.name}:\n{format_errors(errors)}"
    return known


@pytest.mark.parametrize("name", sorted(FIXTURE_SUBSET))
def test_fixture_999_equals_pyx12s(name, tmp_path):
    _check(FIXTURES / name, FIXTURE_SUBSET[name], tmp_path)


@pytest.mark.parametrize("name", CORPUS_SUBSET)
def test_corpus_999_equals_pyx12s(name, tmp_path):
    need_corpus()
    path = CORPUS / name
    if not path.is_file():
        pytest.fail(f"{name} is not in the corpus any more: pick another representative file")
    _check(path, None, tmp_path)


def test_envelope_errors_as_pyx12_reports_them(tmp_path):
    """codes_envelope.837: SE01 is not the count and GE02 is not GS06: IK5 R 4, AK9 R with AK905 4."""
    _, _, ours = ack_diff.compare(FIXTURES / "codes_envelope.837", tmp_path)
    segs = [s.split("*") for s in ours["999"].read_text(encoding="ascii").split("~\n") if s]
    assert ["IK5", "R", "4"] in segs
    [ak9] = [s for s in segs if s[0] == "AK9"]
    assert ak9[:2] == ["AK9", "R"] and ak9[5:] == ["4"]
