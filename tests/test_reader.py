"""The streaming reader: delimiters from each ISA, line styles, BOM, offsets, odd input."""

from __future__ import annotations

import io

import pytest

from conftest import fixture, scrub
from scrubber.x12.model import Claim, walk
from scrubber.x12.reader import CHUNK, ReaderNote, UnusableInput, read_segments

VARIANTS = {
    "delims_pipe.837": ("|", ">", "^", "~", "\r\n"),
    "delims_tilde.837": ("~", "^", None, "_", "\n"),
    "delims_newline.837": ("*", ":", "^", "\n", ""),
    "delims_cr.837": ("*", ":", "^", "~", "\r"),
    "delims_bom.837": ("*", ":", "^", "~", "\r\n"),
    "clean_single.837": ("*", ":", "^", "~", ""),
    "multi.837": ("*", ":", "^", "~", "\r\n"),
}


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_delimiters_and_line_style(name):
    segs = list(read_segments(fixture(name)))
    d = segs[0].delims
    assert (d.element, d.component, d.repetition, d.segment, d.suffix) == VARIANTS[name]
    assert segs[0].id == "ISA" and segs[-1].id == "IEA"
    assert all(s.id.isalnum() and s.id.isupper() and 2 <= len(s.id) <= 3 for s in segs)


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_offsets_point_at_the_segment_bytes(name):
    data = fixture(name).read_bytes()
    for seg in read_segments(fixture(name)):
        raw = seg.raw.encode("latin-1")
        assert data[seg.offset:seg.offset + len(raw)] == raw
        assert data[seg.offset + len(raw):seg.offset + len(raw) + 1] == seg.delims.segment.encode()


def test_positions_count_from_st():
    for event in walk(read_segments(fixture("multi.837"))):
        if isinstance(event, Claim):
            st = event.transaction.st
            assert st.position == 1
            positions = [s.position for s in event.segments]
            assert positions == list(range(positions[0], positions[0] + len(positions)))


def test_interchanges_with_different_delimiters_in_one_file(tmp_path):
    """Each ISA brings its own delimiters; the outputs keep each interchange's own."""
    path = tmp_path / "mixed.837"
    path.write_bytes(fixture("delims_pipe.837").read_bytes() + fixture("delims_tilde.837").read_bytes()
                     + fixture("clean_single.837").read_bytes())
    segs = list(read_segments(path))
    isas = [s for s in segs if s.id == "ISA"]
    assert [s.delims.element for s in isas] == ["|", "~", "*"]
    outcome, report = scrub(path, tmp_path / "out")
    assert report["summary"]["claims"] == 7 and report["summary"]["rejected"] == 2
    clean = list(read_segments(tmp_path / "out" / "mixed.clean.837"))
    assert [s.delims.element for s in clean if s.id == "ISA"] == ["|", "~", "*"]
    assert sum(1 for s in clean if s.id == "CLM") == 5


def test_segments_across_chunk_boundaries(tmp_path):
    """A file larger than the read chunk is read whole, with exact offsets, segment by segment."""
    one = fixture("multi.837").read_bytes()
    path = tmp_path / "big.837"
    copies = CHUNK // len(one) + 3
    path.write_bytes(one * copies)
    segs = list(read_segments(path))
    assert sum(1 for s in segs if s.id == "CLM") == 14 * copies
    data = path.read_bytes()
    for seg in segs[:: max(1, len(segs) // 500)]:
        assert data[seg.offset:seg.offset + len(seg.raw)] == seg.raw.encode("latin-1")


def test_empty_segment_and_missing_last_terminator_are_noted(tmp_path):
    data = fixture("clean_single.837").read_bytes()
    first_gs = data.index(b"~GS*") + 1
    broken = data[:first_gs] + b"~" + data[first_gs:]
    assert broken.endswith(b"~")
    path = tmp_path / "odd.837"
    path.write_bytes(broken[:-1])
    notes: list[ReaderNote] = []
    segs = list(read_segments(path, notes=notes))
    assert segs[-1].id == "IEA"
    assert [n.rule for n in notes] == ["EN104", "EN105"]
    outcome, report = scrub(path, tmp_path / "out")
    assert report["status"] == "clean"
    assert {f["rule"] for f in report["findings"]} == {"EN104", "EN105"}
    out = (tmp_path / "out" / "odd.clean.837").read_bytes()
    assert b"~~" not in out and out.endswith(b"~")


@pytest.mark.parametrize("data,rule", [
    (b"", "EN001"),
    (b"   \n\n", "EN001"),
    (b"hello, this is not EDI\n", "EN002"),
    (b"\xff\xfeI\x00S\x00A\x00", "EN005"),
    (b"ISA*00*\x00", "EN005"),
    (b"ISA*00*too*short~", "EN003"),
    (b"ISAA00A", "EN003"),
])
def test_unreadable_heads(tmp_path, data, rule):
    path = tmp_path / "x.837"
    path.write_bytes(data)
    with pytest.raises(UnusableInput) as err:
        list(read_segments(path))
    assert err.value.rule == rule and err.value.message


def test_segment_limit(tmp_path):
    isa = fixture("clean_single.837").read_bytes()[:106]
    path = tmp_path / "long.837"
    path.write_bytes(isa + b"GS*" + b"A" * 5000 + b"~")
    with pytest.raises(UnusableInput) as err:
        list(read_segments(path, max_segment=1000))
    assert err.value.rule == "EN004"


def test_bytes_and_binary_files_read_as_the_path():
    path = fixture("multi.837")
    want = [(s.raw, s.offset) for s in read_segments(path)]
    data = path.read_bytes()
    assert [(s.raw, s.offset) for s in read_segments(data)] == want
    assert [(s.raw, s.offset) for s in read_segments(str(path))] == want
    with open(path, "rb") as fh:
        assert [(s.raw, s.offset) for s in read_segments(fh)] == want
        assert not fh.closed  # the caller's file stays open
    assert [(s.raw, s.offset) for s in read_segments(io.BytesIO(data))] == want
    with pytest.raises(UnusableInput) as exc:
        list(read_segments(b""))
    assert exc.value.rule == "EN001"


def _one_by_one(data: bytes, term: str) -> tuple[list[tuple[str, int]], int]:
    """The segments of a one-interchange input read the plain way (split at each terminator, blanks
    before a segment dropped, empty segments passed over): ``([(text, offset)], empty segments)``."""
    text = data.decode("latin-1")
    out, empties, at = [], 0, 0
    for raw in text.split(term):
        start = at
        at += len(raw) + 1
        stripped = raw.lstrip("\r\n\t ")
        if not stripped:
            if start < len(text) and at <= len(text):  # (not the blank tail after the last terminator)
                empties += 1
            continue
        out.append((stripped, start + len(raw) - len(stripped)))
    return out, empties


ODD = {
    "empty": lambda suffix: suffix + "~",  # an empty segment
    "space": lambda suffix: suffix + " ",  # a blank before the next segment
    "tab": lambda suffix: suffix + "\t",
    "line break": lambda suffix: suffix + "\r\n",
    "no line break": lambda suffix: "",  # a terminator without the line break after it
    "control": lambda suffix: suffix + "\x01",  # kept: it begins the next segment
}


@pytest.mark.parametrize("suffix", ["", "\n", "\r\n"])
@pytest.mark.parametrize("odd", sorted(ODD))
def test_runs_of_segments_match_reading_one_by_one(monkeypatch, suffix, odd):
    """Whatever the odd places (an empty segment, a blank or control character before a segment, a
    terminator without its line break, an empty segment before the IEA) and wherever the read
    chunks end, the segments, their offsets and the notes are those of reading the input one
    segment at a time."""
    import random

    from scrubber.x12 import reader

    rng = random.Random(f"{suffix}{odd}")
    base = fixture("clean_single.837").read_bytes().decode("latin-1")
    segments = [s for s in base.replace("\r", "").replace("\n", "").split("~") if s]
    body = segments[:1] + [s for s in segments[1:] if not s.startswith(("ISA", "IEA"))] * 12 + ["IEA*1*000000001"]
    parts = []
    for i, seg in enumerate(body):
        parts.append(seg + "~")
        if i == len(body) - 1:
            break
        parts.append(ODD[odd](suffix) if 0 < i < len(body) - 2 and rng.random() < 0.03 else suffix)
    parts.insert(len(parts) - 1, "~" + suffix)  # an empty segment just before the IEA
    first = ("".join(parts) + suffix).encode("latin-1")
    # Then an interchange with another element separator: the delimiters are read again after the IEA.
    second = fixture("clean_single.837").read_bytes().replace(b"*", b"|")
    data = first + second
    expected, empties = _one_by_one(first, "~")
    expected = [(raw, offset, raw.split("*")[0]) for raw, offset in expected]
    expected += [(raw, len(first) + offset, raw.split("|")[0]) for raw, offset in _one_by_one(second, "~")[0]]
    # Chunks that end in every place of a few segments, and one that ends just before the empty
    # segment before the IEA (the next batch then begins with it).
    before_iea = first.rindex(b"~" + suffix.encode() + b"IEA")
    for chunk in (1 << 20, *range(600, 640), before_iea):
        monkeypatch.setattr(reader, "CHUNK", chunk)
        notes: list[ReaderNote] = []
        got = read_segments(data, notes=notes)
        assert [(s.raw, s.offset, s.id) for s in got] == expected, chunk
        noted = sum(1 for n in notes if n.rule == "EN104")
        assert noted == (empties if empties <= 20 else 21)  # (twenty in full, then one for the rest)
