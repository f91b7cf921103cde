"""Structural conformance over the public corpus in ../shared/corpus (skipped where absent).

1. ``imsweb__x12-parser/EXPECTED_STRUCTURE.tsv``: each structural problem imsweb's own suite
   expects must be among the scrubber's findings at that loop and segment. How a row matches
   (``_matches``):
   - ``segment`` + "unidentifiable segment": an SX003 (segment not expected) in that loop;
   - a segment id + "required segment missing": SX001 with that loop and segment;
   - a segment id + "segment repeats too many times": SX004 with that loop and segment;
   - a segment id + "segment out of position": pyx12 reports a segment out of order as missing
     where it should be (SX001) and not expected where it is (SX003): either, that loop and segment;
   - a loop id + "loop repeats too many times" / "required loop missing": SX005 / SX002 whose
     ``loop`` is the parent loop and whose ``value`` is the loop id;
   - an element (NM102, CLM05) + "required element/composite missing": SX006 in that loop with
     that element;
   - ``ISA`` + "separators cannot be read; fatal": the scrubber reads an ISA whose fixed-width
     fields are not padded by counting its elements, so ``x12_bad_first_line`` (105-character ISA)
     gets EN103 on the ISA instead of a fatal error; ``x12_no_isa_line`` is unusable (EN002, "does
     not begin with an ISA segment"). Either counts: a finding on segment ISA or an unusable
     finding naming the ISA;
   - ``-`` + "no structural problem": no loop/segment structure finding (SX001-SX005).
2. Files the sources call valid (status ``valid``): their structural findings must be exactly the
   ones documented in ``KNOWN`` below. Each is a real problem of the file (checked by hand), so
   the scrubber keeps reporting it; anything else is a regression.
3. Every 837P 5010 of the corpus is scrubbed (with the structural pass, the default) by
   ``tests/test_corpus.py::test_every_837p_5010_runs_without_crash``; here: pyx12 never gives up
   on one (no SX099) and none is an internal error.
"""

from __future__ import annotations

import csv

import pytest

from conftest import CORPUS, need_corpus, scrub

IMSWEB = "imsweb__x12-parser"


def _rows(name: str) -> list[dict]:
    path = CORPUS / name
    if not path.is_file():
        return []
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


INDEX = _rows("INDEX.tsv")
EXPECTED = _rows(f"{IMSWEB}/EXPECTED_STRUCTURE.tsv")
P5010 = [r for r in INDEX if r["transaction_type"].startswith("837P 5010")]
# The two large imsweb files repeat x12_valid.txt's claims thousands of times (same findings);
# test_corpus.py scrubs them with the structural pass.
LARGE = ("x12_many_claims.txt", "x12_multiple_transactions.txt")
VALID = [r for r in P5010 if r["status"] == "valid" and not r["local_name"].endswith(LARGE)]

_CACHE: dict[str, dict] = {}


def scrubbed_report(local_name: str, tmp_path_factory) -> dict:
    if local_name not in _CACHE:
        out = tmp_path_factory.mktemp("conformance")
        _, report = scrub(CORPUS / local_name, out)
        _CACHE[local_name] = report
    return _CACHE[local_name]


def all_findings(report: dict) -> list[dict]:
    found = list(report["findings"])
    for claim in report["claims"]:
        found += claim["findings"]
    return found


# ------------------------------------------------------------------------------------------
def _matches(row: dict, findings: list[dict], report: dict) -> bool:
    loop, what, problem = row["loop"], row["what"], row["problem"]
    if what == "-":
        return not any(f["rule"] in ("SX001", "SX002", "SX003", "SX004", "SX005") for f in findings)
    if loop == "ISA":
        return any(f["segment"] == "ISA" and f["rule"].startswith("EN") for f in findings) or (
            report["status"] == "unusable" and any(f["rule"] in ("EN002", "EN003") and "ISA" in f["message"]
                                                   for f in report["findings"]))
    if what == "segment":
        return any(f["rule"] == "SX003" and f["loop"] == loop for f in findings)
    if "loop" in problem:
        rule = "SX005" if "repeats" in problem else "SX002"
        return any(f["rule"] == rule and f["loop"] == loop and f["value"] == what for f in findings)
    if "element" in problem or "composite" in problem:
        return any(f["rule"] == "SX006" and f["loop"] == loop and f["element"] == what for f in findings)
    rules = {"required segment missing": ("SX001",), "segment repeats too many times": ("SX004",),
             "segment out of position": ("SX001", "SX003")}[problem]
    return any(f["rule"] in rules and f["loop"] == loop and f["segment"] == what for f in findings)


@pytest.mark.parametrize("row", EXPECTED or [None],
                         ids=[f"{r['file'][36:-4]}-{r['loop']}-{r['what']}" for r in EXPECTED] or ["absent"])
def test_expected_structure_is_found(row, tmp_path_factory):
    need_corpus()
    if row is None:
        pytest.skip("EXPECTED_STRUCTURE.tsv is absent")
    report = scrubbed_report(f"{IMSWEB}/{row['file']}", tmp_path_factory)
    findings = all_findings(report)
    summary = sorted({(f["rule"], f["loop"], f["segment"], f["element"], f["value"]) for f in findings
                      if f["rule"].startswith(("SX", "EN"))}, key=str)
    assert _matches(row, findings, report), f"{row} not found in {summary}"


def test_expected_counts_of_repeated_problems(tmp_path_factory):
    """'4 unidentifiable segments' in 2300 and 2400 missing in 2300 iterations 2 and 5."""
    need_corpus()
    name = f"{IMSWEB}/src__test__resources__837_5010__x12_missing_required_loops_mult_repeats.txt"
    if not (CORPUS / name).is_file():
        pytest.skip(f"{name} is absent")
    report = scrubbed_report(name, tmp_path_factory)
    found = all_findings(report)
    unexpected = {f["position"] for f in found if f["rule"] == "SX003" and f["loop"] == "2300"}
    missing = {f["position"] for f in found if f["rule"] == "SX002" and f["value"] == "2400"}
    assert len(unexpected) == 4 and len(missing) == 2


# ------------------------------------------------------------------------------------------
# Structural findings in files their sources call valid: each checked by hand, each a real problem.
HI_SPLIT = {  # HI*BK*8901*BF*87200: composites split with the element separator (corpus README)
    ("SX006", "2300", "HI01-2"), ("SX006", "2300", "HI02-2"), ("SX006", "2300", "HI03-2"), ("SX006", "2300", "HI04-2"),
    ("SX007", "2300", "HI02-1"), ("SX007", "2300", "HI04-1"), ("SX008", "2300", "HI02-1"), ("SX008", "2300", "HI04-1"),
}
HL_LX = {  # HL*2 twice, HL02 = 3 before any HL 3; the second claim's first line is LX*2
    ("SX012", "2000B", "HL01"), ("SX012", "2000B", "HL02"), ("SX012", "2400", "LX01"),
}
WRONG_COMPONENT = {  # ISA16 is ':' but the data uses '>' (HI*BK>496, SV1*HC>E0570, CLM05 11>B>1)
    ("SX001", "2300", "HI"), ("SX001", "2400", "SV1"), ("SX003", "2300", "HI"), ("SX003", "2400", "SV1"),
    ("SX006", "2300", "CLM05-2"), ("SX006", "2300", "CLM05-3"), ("SX007", "2300", "CLM05-1"), ("SX008", "2300", "CLM05-1"),
}
COB_4010_STYLE = {("SX003", "2320", "DMG"), ("SX011", "2000B", "SBR08")}  # 2320 DMG and SBR08 are 4010, not 5010
KNOWN: dict[str, set] = {
    "x12_valid.txt": HI_SPLIT | HL_LX,
    "x12_valid_different_separators.txt": HI_SPLIT | HL_LX,
    "x12_no_errors.txt": HI_SPLIT | {("SX012", "2000A", "HL01"), ("SX012", "2000B", "HL01")},  # HL*1, HL*2 repeated
    "x12_complex.txt": HI_SPLIT | HL_LX | {
        ("SX001", "2330C", "REF"),  # 2330C REF (other payer referring provider id) is required
        ("SX008", "2310B", "NM108"), ("SX008", "2420D", "NM108"),  # NM108 'X' is not a code
        ("SX008", "2310C", "N402"), ("SX008", "2420C", "N402"),  # state '11'
        ("SX008", "2320", "OI04"),  # OI04 A/C/D are not codes in 5010
        ("SX011", "2440", "FRM"),  # FRM with no answer element (FRM02-05 syntax rule)
        ("SX012", "2000C", "HL01"), ("SX012", "2000C", "HL02"),
    },
    "x12_multiple_gs.txt": HI_SPLIT | HL_LX | {("SX020", "GS", "GS")},  # two groups with GS06 1 in one interchange
    "x12_multiple_isa.txt": HI_SPLIT | HL_LX,
    "x12_multiple_st.txt": HI_SPLIT | HL_LX | {("SX020", "ST", "ST")},  # two ST02 987654 in one group
    "x12_writer_test.txt": {("SX011", "2300", "HI")},  # HI ends with a separator
    "x12_ambiguous_loop.txt": {("SX011", "2300", "HI")},
    "demo.ambulance.example5.837": {("SX006", "2300", "CLM05-2")},  # CLM05 sent as 41::1 (CLM05-2 empty)
    "demo.cob.2ndary.example4.837": WRONG_COMPONENT,
    "demo.example11.837": WRONG_COMPONENT,
    "demo.example12.837": WRONG_COMPONENT,
    "demo.example6.837": WRONG_COMPONENT,
    "demo.example9.837": WRONG_COMPONENT,
    "demo.cob.example3.A.837": {("SX002", "2320", "NM1")},  # 2320 without its 2330B other payer name
    "demo.cob.example4.837": {("SX003", "2320", "AMT")},  # AMT*F5 belongs to 2300, not 2320
    "Example3_COB.txt": COB_4010_STYLE,
    "Example1_2_And_3_Combined.txt": COB_4010_STYLE,
    "ProfessionalClaim1.txt": {
        ("SX003", "2300", "AMT"),  # AMT*F5 after the 2300 REFs (out of the guide's order)
        ("SX008", "2310C", "N402"), ("SX008", "2310C", "NM102"),
    },
}


def _known(local_name: str) -> set:
    for suffix, found in KNOWN.items():
        if local_name.endswith(suffix):
            return found
    return set()


@pytest.mark.parametrize("row", VALID or [None], ids=[r["local_name"].split("/")[-1][-50:] for r in VALID] or ["absent"])
def test_valid_files_have_only_their_documented_structural_findings(row):
    need_corpus()
    from scrubber.check.structure import validate_structure

    index = validate_structure(CORPUS / row["local_name"])
    assert index.incomplete is None, index.incomplete
    errors = [e for tx in index.transactions for e in tx.errors] + index.envelope
    found = {(e.rule, e.loop or "", e.element or e.segment or "") for e in errors}
    assert found == _known(row["local_name"]), sorted(found ^ _known(row["local_name"]))


@pytest.mark.parametrize("row", [r for r in P5010 if not r["local_name"].endswith(LARGE)] or [None],
                         ids=[r["local_name"].split("/")[-1][-50:] for r in P5010 if not r["local_name"].endswith(LARGE)]
                         or ["absent"])
def test_structural_pass_finishes_on_every_837p(row, tmp_path_factory):
    need_corpus()
    report = scrubbed_report(row["local_name"], tmp_path_factory)
    rules = {f["rule"] for f in all_findings(report)}
    assert "SX099" not in rules and "EN011" not in rules, rules
