"""Conformance over the public corpus in ../shared/corpus (skipped where it is absent)."""

from __future__ import annotations

import csv
import json

import pytest

from conftest import CORPUS, claims_by_id, need_corpus, run_cli, scrub, problem_lines


def corpus_rows() -> list[dict]:
    index = CORPUS / "INDEX.tsv"
    if not index.is_file():
        return []
    with open(index, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


ROWS = corpus_rows()
P5010 = [r for r in ROWS if r["transaction_type"].startswith("837P 5010")]


def test_corpus_present_or_skipped():
    need_corpus()
    assert len(P5010) >= 20, "the corpus lists its 837P 5010 files"


@pytest.mark.parametrize("row", P5010 or [None], ids=[r["local_name"].split("/")[-1][:60] for r in P5010] or ["absent"])
def test_every_837p_5010_runs_without_crash(row, tmp_path):
    need_corpus()
    path = CORPUS / row["local_name"]
    result = run_cli("scrub", path, "--out-dir", tmp_path, "--as-of", "2025-06-01", "--format", "json")
    assert result.returncode in (0, 1, 2), result.stderr
    assert "Traceback" not in result.stderr
    report = json.loads(result.stdout)
    assert not any(f["rule"] == "EN011" for f in report["findings"]), report["findings"]
    if result.returncode == 2:
        assert len(problem_lines(result.stderr)) == 1
    if row["status"] == "valid" and int(row["CLM_count"] or 0) > 0:
        # Files their sources call valid are read: every claim is seen.
        assert report["status"] != "unusable", report["findings"]
        assert report["summary"]["claims"] == int(row["CLM_count"])


def test_pointers_past_the_last_diagnosis_are_rejected(tmp_path):
    """imsweb's x12_valid.txt: SV107 points past the diagnoses (HI composites split by '*')."""
    need_corpus()
    path = CORPUS / "imsweb__x12-parser" / "src__test__resources__837_5010__x12_valid.txt"
    _, report = scrub(path, tmp_path)
    claims = claims_by_id(report)
    assert set(claims) == {"A37YH556", "A37YH667"}
    for claim in claims.values():
        assert claim["status"] == "rejected"
        pointer = [f for f in claim["findings"] if f["rule"] == "DP002"]
        assert pointer and all(f["segment"] == "SV1" and f["element"].startswith("SV107-") for f in pointer)


def test_medicaid_sample_without_hi_is_rejected(tmp_path):
    need_corpus()
    path = CORPUS / "Inteligenz__X12Parser" / (
        "tests__OopFactory.X12.Tests.Unit__Parsing___SampleEdiFiles__INS___837P___5010__MedicaidExample.txt")
    _, report = scrub(path, tmp_path)
    assert report["summary"]["claims"] == 5 and report["summary"]["rejected"] == 5
    for claim in report["claims"]:
        assert {"DP006", "DP001"} & {f["rule"] for f in claim["findings"]}


def test_other_transactions_are_unusable(tmp_path):
    need_corpus()
    for row in ROWS:
        kind = row["transaction_type"]
        if kind.startswith(("837I", "837D", "999", "277")) and row["status"] != "oracle":
            result = run_cli("scrub", CORPUS / row["local_name"], "--out-dir", tmp_path)
            assert result.returncode == 2, row["local_name"]
            assert len(problem_lines(result.stderr)) == 1 and "Traceback" not in result.stderr
