"""The scrubber's segments re-serialised for pyx12: what pyx12 reads is what the scrubber reads.

pyx12 has gaps the scrubber's reader does not: it opens files as ASCII (and crashes on other
bytes), stops at an empty segment (``~~``), drops a last segment with no terminator, keeps the
first ISA's delimiters for every interchange, and needs an ISA of exactly 106 characters. So it
is never given the input file: :class:`NormalizedStream` is a text stream built lazily from
:func:`scrubber.x12.reader.read_segments`, one segment per line with the standard delimiters
``* : ^ ~`` and a line break, and one line per segment of the input, so that pyx12's line number
and segment count (ST = 1) are the scrubber's. Each ISA is rewritten to its fixed width.

What the rewriting changes (each an input problem the scrubber reports itself, so pyx12's view
of it is not needed):
- an empty segment becomes the placeholder ``ZZZ`` (its line is remembered, and pyx12's errors
  there are dropped);
- GS08/ST03 ``005010X222`` and ``005010X222A2`` are given to pyx12 as ``005010X222A1``, its only
  837P 5010 map (the label itself is reported by SX090);
- characters ``* : ^ ~`` that are data in the input (not its delimiters) become ``?``.

The stream keeps only the envelope bookkeeping (one small record per transaction set); memory does
not grow with the number of segments. :meth:`NormalizedStream.lines` gives the same segments one
text at a time, for the compiled validator.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, field

from scrubber.limits import Limits
from scrubber.x12.reader import DEFAULT_MAX_SEGMENT, ENVELOPE_IDS, Segment, UnusableInput, read_segments

PLACEHOLDER = "ZZZ"
VERSION_FOR_PYX12 = "005010X222A1"
RELABELLED = {"005010X222", "005010X222A2"}
ISA_WIDTHS = (2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1)
_STANDARD = "*:^~"


@dataclass(slots=True)
class TxSpan:
    """One transaction set as the stream wrote it: its lines and its envelope."""

    ordinal: int  # 0-based, in file order
    isa_ordinal: int
    gs_ordinal: int
    isa13: str
    gs06: str
    st02: str
    st_line: int
    se_line: int | None = None
    version: str = ""  # ST03 as sent
    gs08: str = ""  # GS08 as sent


@dataclass(slots=True)
class EnvelopeLine:
    line: int
    seg_id: str  # ISA, GS, GE, IEA
    isa_ordinal: int
    gs_ordinal: int | None
    isa13: str
    gs06: str | None


@dataclass
class StreamState:
    transactions: list[TxSpan] = field(default_factory=list)
    envelope: list[EnvelopeLine] = field(default_factory=list)
    placeholders: set[int] = field(default_factory=set)
    lines: int = 0
    first_isa: list[str] | None = None  # the first ISA's elements (for the acknowledgments' envelope)
    first_gs: list[str] | None = None


class NormalizedStream(io.TextIOBase):
    """A read-only text stream of the input's segments, re-serialised (see the module docstring)."""

    def __init__(self, segments: Iterator[Segment]):
        super().__init__()
        self._segments = segments
        self._buf = ""
        self._done = False
        self.state = StreamState()
        self.error: BaseException | None = None  # an exception of the reader (UnusableInput ...)
        self._table: dict[int, str] = {}
        self._identity = False  # the input's delimiters are the standard ones: nothing to translate
        self._delims = None
        self._isa = -1
        self._gs = -1
        self._isa13 = ""
        self._gs06: str | None = None
        self._gs08 = ""
        self._tx: TxSpan | None = None

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> str:
        want = size if size is not None and size >= 0 else 1 << 62
        parts = [self._buf]
        have = len(self._buf)
        while have < want and not self._done:
            try:
                seg = next(self._segments)
            except StopIteration:
                self._done = True
                break
            except Exception as exc:  # the reader gave up: pyx12 sees the end of the file
                self.error = exc
                self._done = True
                break
            text = self._line(seg) + "~\n"
            parts.append(text)
            have += len(text)
        data = "".join(parts)
        if want >= len(data):
            self._buf = ""
            return data
        self._buf = data[want:]
        return data[:want]

    def lines(self) -> Iterator[str]:
        """The same stream one segment text at a time (no terminator, no line break), for the
        compiled validator; the bookkeeping is the same as :meth:`read`'s."""
        if self._done:
            return
        st = self.state
        line_of = self._line
        try:
            for seg in self._segments:
                raw = seg.raw
                if seg.delims is self._delims and seg.id not in ENVELOPE_IDS and raw.strip():
                    st.lines += 1  # an ordinary segment: _line's last branch, inlined
                    yield raw if self._identity else raw.translate(self._table)
                else:
                    yield line_of(seg)
        except Exception as exc:  # the reader gave up: the validator sees the end of the file
            self.error = exc
        self._done = True

    # -------------------------------------------------------------------------------------
    def _line(self, seg: Segment) -> str:
        st = self.state
        st.lines += 1
        line = st.lines
        sid = seg.id
        if seg.delims is not self._delims:
            self._set_table(seg)
        if sid == "ISA":
            text = self._isa_text(seg)
            self._isa += 1
            self._gs = -1
            self._isa13 = seg.el(13).strip()
            if st.first_isa is None:
                st.first_isa = list(seg.elements)
            self._gs06 = None
            st.envelope.append(EnvelopeLine(line, "ISA", self._isa, None, self._isa13, None))
        elif not seg.raw.strip():  # an empty segment (the reader may pass them over itself)
            text = PLACEHOLDER
            st.placeholders.add(line)
            sid = PLACEHOLDER
        else:
            text = seg.raw if self._identity else seg.raw.translate(self._table)
            if sid == "GS":
                self._gs += 1
                self._gs06 = seg.el(6)
                self._gs08 = seg.el(8)
                if st.first_gs is None:
                    st.first_gs = list(seg.elements)
                st.envelope.append(EnvelopeLine(line, "GS", self._isa, self._gs, self._isa13, self._gs06))
                version = seg.el(8)
                if version in RELABELLED and len(seg.elements) > 8:
                    text = _replace(seg, 8, VERSION_FOR_PYX12, self._table)
            elif sid == "ST":
                self._tx = TxSpan(len(st.transactions), self._isa, max(self._gs, 0), self._isa13,
                                  self._gs06 or "", seg.el(2), line, version=seg.el(3), gs08=self._gs08)
                st.transactions.append(self._tx)
                if seg.el(3) in RELABELLED:
                    text = _replace(seg, 3, VERSION_FOR_PYX12, self._table)
            elif sid == "SE":
                if self._tx is not None:
                    self._tx.se_line = line
                    self._tx = None
            elif sid in ("GE", "IEA"):
                if self._tx is not None:  # no SE: the transaction ends here for the index
                    self._tx.se_line = line - 1
                    self._tx = None
                st.envelope.append(EnvelopeLine(line, sid, self._isa, self._gs if sid == "GE" else None,
                                                self._isa13, self._gs06 if sid == "GE" else None))
        return text

    def _set_table(self, seg: Segment) -> None:
        d = seg.delims
        self._delims = d
        table = {}
        originals = {d.element: "*", d.component: ":"}
        if d.repetition:
            originals[d.repetition] = "^"
        for ch in _STANDARD:
            if ch not in originals:
                table[ord(ch)] = "?"
        for ch, std in originals.items():
            table[ord(ch)] = std
        self._table = table
        # '~' is the terminator, so never in a segment's text: the table changes nothing then
        self._identity = d.segment == "~" and all(chr(k) == v for k, v in table.items() if k != ord("~"))

    def _isa_text(self, seg: Segment) -> str:
        values = [e.translate(self._table) for e in seg.elements[1:17]]
        values += [""] * (16 - len(values))
        out = []
        for i, (value, width) in enumerate(zip(values, ISA_WIDTHS), start=1):
            if i == 11:
                value = "^"
            elif i == 16:
                value = ":"
            out.append(value[:width].ljust(width))
        return "ISA*" + "*".join(out)


def _replace(seg: Segment, index: int, value: str, table: dict[int, str]) -> str:
    elements = [e.translate(table) for e in seg.elements]
    elements[index] = value
    return "*".join(elements)


def normalized(path, limits: Limits | None = None) -> NormalizedStream:
    """The stream of ``path``'s segments, read with the claim pass's reader limits when given
    (and its limit of envelopes: the stream ends where the claim pass calls the input unusable)."""
    if limits is None:
        return NormalizedStream(read_segments(path))
    segments = read_segments(path, max_segment=min(DEFAULT_MAX_SEGMENT, limits.segment_bytes),
                             max_elements=limits.elements_per_segment, max_empty=limits.empty_segments,
                             max_components=limits.components_per_element)
    return NormalizedStream(_bounded(segments, limits.envelopes))


def _bounded(segments: Iterator[Segment], max_envelopes: int) -> Iterator[Segment]:
    """``segments``, until more than ``max_envelopes`` ISA, GS and ST (EN013, as the claim model)."""
    count = 0
    for seg in segments:
        if seg.id in _OPENERS:
            count += 1
            if count > max_envelopes:
                raise UnusableInput("EN013", f"more than {max_envelopes} interchanges, groups and transaction sets",
                                    seg.offset, seg.id)
        yield seg


_OPENERS = frozenset(("ISA", "GS", "ST"))
