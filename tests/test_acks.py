"""``--ack 999`` (validated with pyx12's 999 map) and ``--ack 277ca`` (005010X214: checked here
segment by segment, and with pyx12's 277.5010.X214 map)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from conftest import claims_by_id, fixture, run_cli, problem_lines
from pyx12check import format_errors, pyx12_errors


def segments(path: Path) -> list[list[str]]:
    text = path.read_text(encoding="latin-1")
    return [s.strip().split("*") for s in text.split("~") if s.strip()]


@pytest.fixture(scope="module")
def acked(tmp_path_factory):
    cache = {}

    def get(name: str):
        if name not in cache:
            out = tmp_path_factory.mktemp("ack")
            result = run_cli("scrub", fixture(name), "--out-dir", out, "--as-of", "2025-06-01", "--format", "json",
                             "--ack", "999", "--ack", "277ca")
            assert result.returncode in (0, 1), result.stderr
            stem = name.rsplit(".", 1)[0]
            cache[name] = (json.loads(result.stdout), out / f"{stem}.999", out / f"{stem}.277ca.edi")
        return cache[name]

    return get


@pytest.mark.parametrize("name", ["structure.837", "multi.837", "clean_single.837", "pointers.837", "delims_pipe.837"])
def test_acks_validate_with_pyx12(name, acked):
    _, ack999, ack277 = acked(name)
    for path in (ack999, ack277):
        errors = pyx12_errors(path)
        assert errors == [], format_errors(errors)


def test_999_reports_structural_errors_by_transaction(acked):
    _, ack999, _ = acked("structure.837")
    segs = segments(ack999)
    ids = [s[0] for s in segs]
    assert ids[0] == "ISA" and segs[1][:2] == ["GS", "FA"] and segs[1][8] == "005010X231A1"
    assert ids.count("ST") == 2  # one 999 per functional group of the input
    ak2 = [s[2] for s in segs if s[0] == "AK2"]
    assert ak2 == ["0001", "0002", "0001"]
    assert ["IK3", "N3", "30", "", "3"] in segs  # SX001: 2010AA N3 missing
    assert ["IK3", "REF", "109", "", "5"] in segs  # SX004
    assert ["IK4", "5:3", "1325", "1"] in segs  # SX006: CLM05-3 missing
    assert ["IK4", "5:2", "1332", "7", "A"] in segs  # SX008: the code value is repeated
    assert ["IK3", "PER", "4", "", "3"] in segs  # the header error of ST 0002
    assert [s[:2] for s in segs if s[0] == "IK5"] == [["IK5", "R"]] * 3
    assert [s[:5] for s in segs if s[0] == "AK9"] == [["AK9", "R", "2", "2", "0"], ["AK9", "R", "1", "1", "0"]]
    # no IK4 repeats a value that could identify a person: only code values (IK403 7)
    assert all(len(s) < 5 or s[3] == "7" for s in segs if s[0] == "IK4")


def test_999_accepts_a_clean_input(acked):
    _, ack999, _ = acked("multi.837")
    segs = segments(ack999)
    assert [s[0] for s in segs].count("ST") == 3  # 3 functional groups
    assert all(s[1] == "A" for s in segs if s[0] == "IK5")
    assert [s[1:5] for s in segs if s[0] == "AK9"] == [["A", "3", "3", "3"], ["A", "2", "2", "2"], ["A", "2", "2", "2"]]
    se = [s for s in segs if s[0] == "SE"]
    starts = [i for i, s in enumerate(segs) if s[0] == "ST"]
    for st, s in zip(starts, se):
        end = segs.index(s, st)
        assert int(s[1]) == end - st + 1


def test_277ca_claim_statuses(acked):
    report, _, ack277 = acked("pointers.837")
    segs = segments(ack277)
    assert segs[1][:2] == ["GS", "HN"] and segs[2] == ["ST", "277", "0001", "005010X214"]
    assert segs[3][:3] == ["BHT", "0085", "08"] and segs[3][6] == "TH"
    claims = claims_by_id(report)
    # one 2000D per claim: HL*n*parent*PT, NM1*QC, TRN*2*CLM01, STC, DTP*472
    per_claim = {}
    for i, s in enumerate(segs):
        if s[0] == "TRN" and s[1] == "2" and segs[i - 2][0] == "HL" and segs[i - 2][3] == "PT":
            per_claim[s[2]] = segs[i + 1]
            assert segs[i - 1][:3] == ["NM1", "QC", "1"] and segs[i + 2][:2] == ["DTP", "472"]
    assert set(per_claim) == set(claims)
    for cid, stc in per_claim.items():
        claim = claims[cid]
        assert Decimal(stc[4]) == Decimal(claim["charge"])
        if claim["status"] == "accepted":
            assert stc[1] == "A2:20" and stc[3] == "WQ"
        else:
            first = next(f["ack"] for f in claim["findings"] if f["severity"] == "error" and f["ack"])
            assert stc[1] == f"{first['category']}:{first['status']}" and stc[3] == "U"
    qty = {s[1]: int(s[2]) for s in segs if s[0] == "QTY"}
    assert qty == {"90": report["summary"]["accepted"], "AA": report["summary"]["rejected"]}
    amt = {s[1]: Decimal(s[2]) for s in segs if s[0] == "AMT"}
    assert amt["YU"] == sum(Decimal(c["charge"]) for c in report["claims"] if c["status"] == "accepted")
    assert amt["YY"] == sum(Decimal(c["charge"]) for c in report["claims"] if c["status"] == "rejected")
    se = next(s for s in segs if s[0] == "SE")
    assert int(se[1]) == segs.index(se) - 2 + 1


def test_277ca_hierarchy(acked):
    _, _, ack277 = acked("sample.837")
    segs = segments(ack277)
    hl = {s[1]: s for s in segs if s[0] == "HL"}
    assert hl["1"][3] == "20" and hl["2"][2:4] == ["1", "21"]
    providers = [s for s in hl.values() if s[3] == "19"]
    assert len(providers) == 2 and all(p[2] == "2" for p in providers)  # sample.837 has 2 billing providers
    for s in hl.values():
        if s[3] == "PT":
            assert hl[s[2]][3] == "19"
    # each 2000C's STC04 is the total of its claims
    for p in providers:
        at = segs.index(p)
        stc = next(s for s in segs[at:] if s[0] == "STC")
        assert stc[1] == "A1:19:85"


def test_ack_options(tmp_path):
    bad = run_cli("scrub", fixture("sample.837"), "--out-dir", tmp_path, "--no-structure", "--ack", "999")
    assert bad.returncode == 2 and len(problem_lines(bad.stderr)) == 1 and "Traceback" not in bad.stderr
    ok = run_cli("scrub", fixture("sample.837"), "--out-dir", tmp_path, "--no-structure", "--ack", "277ca")
    assert ok.returncode == 1 and (tmp_path / "sample.277ca.edi").is_file() and not (tmp_path / "sample.999").exists()
    unusable = run_cli("scrub", fixture("bad_truncated.837"), "--out-dir", tmp_path, "--ack", "999", "--ack", "277ca")
    assert unusable.returncode == 2
    assert not list(tmp_path.glob("bad_truncated.999")) and not list(tmp_path.glob("bad_truncated.277ca*"))
    assert not list(tmp_path.glob(".*.part"))
