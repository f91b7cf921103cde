"""The clean and rejected 837s: valid 837P, envelopes recounted, untouched segments byte for byte."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import claims_by_id, fixture, scrub
from pyx12check import pyx12_errors
from scrubber.x12.reader import read_segments

MULTI_CLAIM = ["sample.837", "multi.837", "delims_pipe.837", "delims_tilde.837", "delims_newline.837",
               "delims_cr.837", "delims_bom.837", "pointers.837"]
# pyx12 4.0 cannot read every delimiter style and crashes on some claims (see fixtures/edi/README.md);
# for those files the same claims are checked through the other files.
PYX12_READS = ["sample.837", "multi.837", "delims_pipe.837", "delims_cr.837", "delims_tilde.837", "delims_newline.837"]


def segments(path: Path):
    return list(read_segments(path))


def envelope_check(path: Path) -> None:
    """Recount the file's envelopes and HL tree the way a payer's translator would."""
    segs = segments(path)
    isa = gs = st = None
    n_gs = n_st = n_seg = 0
    hl_ids: set[str] = set()
    for seg in segs:
        sid = seg.id
        if sid == "ISA":
            isa, n_gs = seg, 0
        elif sid == "GS":
            gs, n_st = seg, 0
        elif sid == "ST":
            st, n_seg, hl_ids, expected_hl = seg, 0, set(), 1
        if st is not None:
            n_seg += 1
        if sid == "HL":
            assert seg.el(1) == str(expected_hl), f"HL01 {seg.el(1)} where {expected_hl} was due"
            expected_hl += 1
            parent = seg.el(2)
            assert parent == "" or parent in hl_ids, f"HL02 {parent} names no earlier HL"
            hl_ids.add(seg.el(1))
        elif sid == "SE":
            assert seg.el(1) == str(n_seg), f"SE01 {seg.el(1)} != {n_seg}"
            assert seg.el(2) == st.el(2)
            st = None
            n_st += 1
        elif sid == "GE":
            assert seg.el(1) == str(n_st) and seg.el(2) == gs.el(6)
            n_gs += 1
        elif sid == "IEA":
            assert seg.el(1) == str(n_gs) and seg.el(2) == isa.el(13)


@pytest.mark.parametrize("name", MULTI_CLAIM)
def test_outputs_split_claims_and_recount(name, scrubbed):
    outcome, report, out = scrubbed(name)
    claims = claims_by_id(report)
    accepted = {c for c, v in claims.items() if v["status"] == "accepted"}
    rejected = set(claims) - accepted
    assert accepted and rejected, "each multi-claim fixture has both kinds"
    clean, rej = out / report["outputs"]["clean"], out / report["outputs"]["rejected"]
    for path, expected in ((clean, accepted), (rej, rejected)):
        ids = [s.el(1) for s in segments(path) if s.id == "CLM"]
        assert sorted(ids) == sorted(expected)
        envelope_check(path)


@pytest.mark.parametrize("name", MULTI_CLAIM)
def test_untouched_segments_byte_for_byte(name, scrubbed):
    _, report, out = scrubbed(name)
    src = fixture(name).read_bytes()
    source_segments = {s.raw for s in segments(fixture(name))}
    for kind in ("clean", "rejected"):
        path = out / report["outputs"][kind]
        data = path.read_bytes()
        first = segments(path)[0]
        original = segments(fixture(name))[0]
        # Delimiters and line style kept.
        assert first.delims == original.delims
        for seg in segments(path):
            if seg.id in ("HL", "SE", "GE", "IEA"):
                continue
            assert seg.raw in source_segments, f"{kind}: {seg.raw!r} is not in the input"
            assert seg.raw.encode("latin-1") in src
        assert not data.startswith(b"\xef\xbb\xbf") or src.startswith(b"\xef\xbb\xbf")


@pytest.mark.parametrize("name", PYX12_READS)
def test_clean_output_validates_with_pyx12(name, scrubbed):
    _, report, out = scrubbed(name)
    clean = out / report["outputs"]["clean"]
    errors = pyx12_errors(clean)
    assert errors == [], errors[:3]


@pytest.mark.parametrize("name", MULTI_CLAIM)
def test_rescrubbing_clean_output_rejects_nothing(name, scrubbed, tmp_path):
    _, report, out = scrubbed(name)
    outcome, again = scrub(out / report["outputs"]["clean"], tmp_path)
    assert outcome.status == "clean" and outcome.exit_code == 0
    assert again["summary"]["rejected"] == 0
    assert again["summary"]["claims"] == report["summary"]["accepted"]
    assert again["outputs"]["rejected"] is None
    # Trailers were recounted, so no envelope warnings either.
    assert again["findings"] == []


def test_patient_loop_hierarchy_rebuilt(scrubbed):
    """A kept dependent (2000C) keeps its subscriber with HL04 = 1; a subscriber left alone gets 0."""
    _, report, out = scrubbed("multi.837")
    for kind in ("clean", "rejected"):
        segs = segments(out / report["outputs"][kind])
        by_id = {}
        for i, seg in enumerate(segs):
            if seg.id == "HL":
                by_id[seg.el(1)] = seg
                nxt = next((s for s in segs[i + 1:] if s.id in ("HL", "SE")), None)
                has_child = nxt is not None and nxt.id == "HL" and nxt.el(2) == seg.el(1)
                if seg.el(3) == "22":
                    assert seg.el(4) == ("1" if has_child else "0"), seg.raw
                    assert by_id[seg.el(2)].el(3) == "20"
                elif seg.el(3) == "23":
                    assert by_id[seg.el(2)].el(3) == "22" and seg.el(4) == "0"


def test_outputs_are_owner_only(scrubbed):
    _, report, out = scrubbed("sample.837")
    for name in (report["outputs"]["clean"], report["outputs"]["rejected"]):
        assert (out / name).stat().st_mode & 0o077 == 0
    assert not list(out.glob(".*.part")), "no temporary file left behind"
