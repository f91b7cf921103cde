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


# --- one reply per interchange, control numbers, TA1, ISA12 ------------------------------------------

def _scrub_acks(src: Path, out: Path, *extra: str):
    return run_cli("scrub", src, "--out-dir", out, "--as-of", "2025-06-01", "--format", "json", *extra)


def _interchanges(path: Path) -> list[list[list[str]]]:
    out, cur = [], []
    for s in segments(path):
        if s[0] == "ISA":
            cur = [s]
            out.append(cur)
        else:
            cur.append(s)
    return out


def test_one_reply_interchange_per_input_interchange_addressed_back(tmp_path):
    """Two senders in one file: each gets its own 999 and 277CA interchange, sender and receiver
    swapped, with distinct control numbers; 277CA 2200B TRN02 is the 837's BHT03."""
    text = fixture("multi.837").read_text(encoding="ascii")
    # the second interchange (ISA13 000000102) from another sender
    cut = text.index("ISA*", 10)
    tail = text[cut:].replace("*ZZ*SENDER01       *", "*ZZ*OTHERSENDER   *", 1).replace("GS*HC*SENDER01*", "GS*HC*OTHERSENDER*")
    src = tmp_path / "two.837"
    src.write_text(text[:cut] + tail, encoding="ascii")
    result = _scrub_acks(src, tmp_path / "out", "--ack", "999", "--ack", "277ca")
    assert result.returncode == 1, result.stderr
    for name in ("two.999", "two.277ca.edi"):
        ics = _interchanges(tmp_path / "out" / name)
        assert len(ics) == 2
        assert [ic[0][8].strip() for ic in ics] == ["SENDER01", "OTHERSENDER"]  # ISA08: back to the sender
        assert [ic[1][3] for ic in ics] == ["SENDER01", "OTHERSENDER"]  # GS03
        assert all(ic[0][6].strip() == "RECEIVER01" for ic in ics)
        controls = [ic[0][13] for ic in ics]
        assert len(set(controls)) == 2 and all(ic[-1] == ["IEA", "1", ic[0][13]] for ic in ics)
    isa13s = {ic[0][13] for n in ("two.999", "two.277ca.edi") for ic in _interchanges(tmp_path / "out" / n)}
    assert len(isa13s) == 4  # never one number for all
    segs = segments(tmp_path / "out" / "two.277ca.edi")
    bht = [s[3] for s in segs if s[0] == "BHT"]
    assert len(bht) == 7 and len(set(bht)) == 7  # one 277 per 837 transaction set, BHT03 its batch
    submitter_trn = [segs[i + 2] for i, s in enumerate(segs) if s[0] == "HL" and len(s) > 3 and s[3] == "21"]
    assert [t[2] for t in submitter_trn] == bht and all(t[1] == "2" for t in submitter_trn)
    for path in (tmp_path / "out" / "two.999", tmp_path / "out" / "two.277ca.edi"):
        assert pyx12_errors(path) == [], format_errors(pyx12_errors(path))


def test_state_counters_give_fresh_numbers_across_runs(tmp_path):
    state = tmp_path / "state"
    seen = []
    for run in range(2):
        out = tmp_path / f"out{run}"
        # (the same claims again: PE003 would reject them as already sent; the counters are the point here)
        result = _scrub_acks(fixture("sample.837"), out, "--ack", "999", "--ack", "277ca", "--state", state,
                             "--control-numbers", "new", "--ignore", "PE003")
        assert result.returncode == 1, result.stderr
        for name in ("sample.999", "sample.277ca.edi", "sample.clean.837", "sample.rejected.837"):
            [ic] = _interchanges(out / name)
            gs = next(s for s in ic if s[0] == "GS")
            st = next(s for s in ic if s[0] == "ST")
            seen.append((ic[0][13], gs[6], st[2]))
            assert ic[-1][2] == ic[0][13] and next(s for s in ic if s[0] == "GE")[2] == gs[6]
            assert next(s for s in ic if s[0] == "SE")[2] == st[2]
    assert len({s[0] for s in seen}) == 8 and len({s[1] for s in seen}) == 8  # 8 files, 8 numbers
    assert (state / "state.sqlite").is_file()
    import sqlite3

    with sqlite3.connect(state / "state.sqlite") as db:
        assert dict(db.execute("SELECT name, value FROM control_numbers"))["ISA13"] == 8
    # keep (the default): the 837s keep the input's numbers
    kept = _scrub_acks(fixture("sample.837"), tmp_path / "kept", "--state", state, "--ignore", "PE003")
    assert kept.returncode == 1
    assert _interchanges(tmp_path / "kept" / "sample.clean.837")[0][0][13] == fixture("sample.837").read_text()[90:99]
    bad = run_cli("scrub", fixture("sample.837"), "--out-dir", tmp_path / "x", "--control-numbers", "new")
    assert bad.returncode == 2 and "--state" in bad.stderr and "Traceback" not in bad.stderr


def test_ta1(tmp_path):
    # --ack ta1: a TA1 for each interchange
    result = _scrub_acks(fixture("multi.837"), tmp_path / "a", "--ack", "ta1")
    assert result.returncode == 1
    ics = _interchanges(tmp_path / "a" / "multi.ta1")
    assert [ic[1][1] for ic in ics] == ["000000101", "000000102"] and all(ic[1][4:6] == ["A", "000"] for ic in ics)
    assert all(ic[-1][:2] == ["IEA", "0"] for ic in ics)
    # with --ack 999 only when ISA14 = 1 or the interchange envelope is wrong (IEA02 not ISA13: 001)
    text = fixture("sample.837").read_text(encoding="ascii")
    isa = text[:106]
    asked = tmp_path / "asked.837"
    asked.write_text(isa[:100] + "1" + isa[101:] + text[106:], encoding="ascii")  # ISA14 = 1
    wrong = tmp_path / "wrong.837"
    wrong.write_text(text.replace("IEA*1*" + isa[90:99], "IEA*1*999999999"), encoding="ascii")
    for src, status, note in ((asked, "A", "000"), (wrong, "R", "001")):
        result = _scrub_acks(src, tmp_path / "b", "--ack", "999")
        [ic] = _interchanges(tmp_path / "b" / f"{src.stem}.ta1")
        assert ic[1][4:6] == [status, note], ic
    _scrub_acks(fixture("sample.837"), tmp_path / "c", "--ack", "999")
    assert not (tmp_path / "c" / "sample.ta1").exists()
    # an unusable (truncated) input: no 999, the TA1 says 023
    result = _scrub_acks(fixture("bad_truncated.837"), tmp_path / "d", "--ack", "999")
    assert result.returncode == 2 and not (tmp_path / "d" / "bad_truncated.999").exists()
    [ic] = _interchanges(tmp_path / "d" / "bad_truncated.ta1")
    assert ic[1][4:6] == ["R", "023"]


def test_no_999_for_isa12_other_than_00501_is_said(tmp_path):
    result = _scrub_acks(fixture("bad_4010.837"), tmp_path, "--ack", "999")
    assert result.returncode == 2
    report = json.loads(result.stdout)
    [note] = report["outputs"]["not_written"]
    assert "ISA12 is 00401" in note and "999" in note
    assert any("ISA12 is 00401" in line for line in problem_lines(result.stderr))
    assert not (tmp_path / "bad_4010.999").exists()


def test_ik3_8_always_names_the_element(acked):
    """An HL or LX numbering error is IK3 8 with the IK4 of HL01/HL02/LX01; no IK3 8 stands alone."""
    _, ack999, _ = acked("structure.837")
    segs = segments(ack999)
    for i, s in enumerate(segs):
        if s[0] == "IK3" and s[4] == "8":
            assert segs[i + 1][0] == "IK4", (s, segs[i + 1])
    assert any(s[0] == "IK4" and s[1:4] in (["1", "628", "I12"], ["2", "734", "I12"], ["1", "554", "I12"]) for s in segs)
