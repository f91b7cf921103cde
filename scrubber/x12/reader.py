"""Streaming X12 segment reader.

Reads any X12 interchange file one segment at a time: delimiters come from each ISA (element,
component, repetition, segment terminator), segments may or may not be followed by line breaks
(LF, CRLF, CR), a UTF-8 byte-order mark is skipped, and a file may hold many interchanges, each
with its own delimiters.

The file is decoded as Latin-1, a one-to-one mapping of bytes to characters, so that character
offsets are byte offsets and every segment can be written back byte for byte.

Only one chunk of the file (and the current segment) is held in memory at a time.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from itertools import accumulate, chain, islice, repeat
from operator import add
from os import PathLike
from pathlib import Path
from typing import BinaryIO

from scrubber.limits import Limits

CHUNK = 1 << 20
#: The envelope segments (interchange, functional group and transaction set headers and trailers).
ENVELOPE_IDS = frozenset(("ISA", "GS", "ST", "SE", "GE", "IEA"))
ISA_LENGTH = 106  # ISA with its terminator, as the standard fixes it
DEFAULTS = Limits()  # the input limits when none are configured (scrubber.limits)
DEFAULT_MAX_SEGMENT = DEFAULTS.segment_bytes  # a longer segment is not X12 ([limits] segment_bytes)
_BLANKS = "\r\n\t "


class UnusableInput(Exception):
    """The input cannot be scrubbed at all. ``rule`` names the file-level rule (EN...)."""

    def __init__(self, rule: str, message: str, offset: int | None = None, segment: str | None = None):
        super().__init__(message)
        self.rule = rule
        self.message = message
        self.offset = offset
        self.segment = segment


@dataclass(frozen=True, slots=True)
class Delimiters:
    element: str
    component: str
    repetition: str | None
    segment: str
    suffix: str  # what follows each segment terminator in the source: "", "\n", "\r\n" or "\r"

    def describe(self) -> str:
        suffix = {"": "no line breaks", "\n": "LF", "\r\n": "CRLF", "\r": "CR"}.get(self.suffix, repr(self.suffix))
        term = {"\n": "newline", "\r": "CR"}.get(self.segment, self.segment)
        return f"element {self.element!r}, component {self.component!r}, repetition {self.repetition or '-'!r}, terminator {term!r}, {suffix}"


class Segment:
    """One segment: its text without terminator, its elements, and where it stands.

    ``position`` is the segment's position in its transaction set (ST = 1), as a 999 reports it;
    ``None`` for envelope segments outside a transaction set. ``offset`` is the byte offset of its
    first character in the file. ``loop`` is set by the claim model (``"2300"``, ``"2400"`` ...).
    """

    __slots__ = ("id", "raw", "elements", "offset", "position", "loop", "delims")

    def __init__(self, raw: str, offset: int, delims: Delimiters):
        self.raw = raw
        # Split at once: the claim rules read most segments, and one C-level split is cheaper
        # than a split on first use behind a __getattr__ fallback.
        self.elements = elements = raw.split(delims.element)
        self.id = elements[0]
        self.offset = offset
        self.position: int | None = None
        self.loop: str = ""
        self.delims = delims

    def el(self, index: int) -> str:
        """Element ``index`` (1-based, as in ``CLM01``); ``""`` when absent."""
        try:
            return self.elements[index]
        except IndexError:
            return ""

    def comp(self, index: int, component: int) -> str:
        """Component ``component`` (1-based) of composite element ``index``; ``""`` when absent."""
        try:
            value = self.elements[index]
        except IndexError:
            return ""
        if not value:
            return ""
        try:
            return value.split(self.delims.component)[component - 1]
        except IndexError:
            return ""

    def components(self, index: int) -> list[str]:
        try:
            value = self.elements[index]
        except IndexError:
            return []
        return value.split(self.delims.component) if value else []

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"<Segment {self.raw[:60]!r} pos={self.position} loop={self.loop}>"


def detect_delimiters(text: str, at: int = 0) -> Delimiters:
    """Delimiters of the ISA segment starting at ``text[at]``.

    The ISA is fixed width (106 characters with its terminator); a non-standard ISA whose
    elements were not padded is still read by counting its 16 element separators.
    """
    if not text.startswith("ISA", at) or len(text) < at + 4:
        raise UnusableInput("EN002", "not an X12 file: it does not begin with an ISA segment", at)
    element = text[at + 3]
    if element.isalnum() or element in _BLANKS:
        raise UnusableInput("EN003", f"ISA segment is malformed: {element!r} cannot be an element separator", at, "ISA")
    # ISA16 (one character) and the terminator follow the 16th element separator. Counting
    # them reads a fixed-width ISA and one whose elements were not padded alike.
    pos = at + 3
    for _ in range(15):
        pos = text.find(element, pos + 1)
        if pos < 0 or pos - at > 400:
            raise UnusableInput("EN003", "ISA segment is malformed: it does not have 16 elements", at, "ISA")
    if pos + 2 >= len(text):
        raise UnusableInput("EN003", "ISA segment is malformed: it ends before its terminator", at, "ISA")
    component = text[pos + 1]
    segment = text[pos + 2]
    fields = text[at:pos].split(element)
    isa11 = fields[11] if len(fields) > 11 else ""
    end = pos + 3
    if segment == element or component == element or segment == component or segment.isalnum() or component.isalnum() and component != "U":
        raise UnusableInput("EN003", "ISA segment is malformed: its delimiters are not usable", at, "ISA")
    repetition = isa11 if len(isa11) == 1 and not isa11.isalnum() and isa11 not in (element, component, segment) else None
    suffix = ""
    if segment not in "\r\n":
        if text.startswith("\r\n", end):
            suffix = "\r\n"
        elif end < len(text) and text[end] in "\r\n":
            suffix = text[end]
    elif segment == "\r" and text.startswith("\n", end):
        suffix = "\n"
    return Delimiters(element, component, repetition, segment, suffix)


def _check_encoding(head: bytes) -> int:
    """Reject encodings that are not X12 bytes; return how many BOM bytes to skip."""
    # A BOM, or ASCII text in UTF-16 (every other byte NUL, the others not): not NUL bytes alone.
    le = len(head) > 3 and head[1:4:2] == b"\x00\x00" and b"\x00" not in head[0:4:2]
    be = len(head) > 3 and head[0:4:2] == b"\x00\x00" and b"\x00" not in head[1:4:2]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or le or be:
        raise UnusableInput("EN005", "unreadable: the file is UTF-16 encoded; an 837 must be ASCII or UTF-8", 0)
    if head.startswith(b"\xef\xbb\xbf"):
        return 3
    return 0


def _check_nul(data: bytes, base: int) -> None:
    at = data.find(b"\x00")
    if at >= 0:
        raise UnusableInput("EN005", f"unreadable: a NUL byte at byte {base + at}; this is not an X12 text file", base + at)


class ReaderNote:
    """Something the reader corrected or passed over (an empty segment, a last segment with no
    terminator); the pipeline reports each as a warning."""

    __slots__ = ("rule", "offset", "message")

    def __init__(self, rule: str, offset: int, message: str):
        self.rule, self.offset, self.message = rule, offset, message


def read_segments(
    source: str | Path | bytes | BinaryIO,
    max_segment: int = DEFAULT_MAX_SEGMENT,
    notes: list[ReaderNote] | None = None,
    max_elements: int = DEFAULTS.elements_per_segment,
    max_empty: int = DEFAULTS.empty_segments,
    max_components: int = DEFAULTS.components_per_element,
) -> Iterator[Segment]:
    """Yield the segments of an X12 input in order, without holding a file in memory.

    ``source`` is a path, the input's bytes, or a binary file object open for reading (read from
    where it stands, left open). Raises :class:`UnusableInput` for input that cannot be read as
    X12 at all: an empty input, one that does not begin with an ISA, unreadable bytes, a segment
    that never ends, a segment with more than ``max_elements`` elements or an element with more
    than ``max_components`` components (EN013). Empty segments are skipped and a last segment without terminator is kept;
    each is noted in ``notes``.

    The segments come in short runs made together (the reader's loop is resumed once a run, not once
    a segment); a run never reaches past a segment the reader looks at alone, so an input stops being
    read, a note is taken and an error is raised at the same segment as when they come one by one.
    """
    return chain.from_iterable(_runs(source, max_segment, notes, max_elements, max_empty, max_components))


def _runs(source, max_segment: int, notes: list[ReaderNote] | None, max_elements: int, max_empty: int,
          max_components: int) -> Iterator[list[Segment]]:
    if isinstance(source, (bytes, bytearray, memoryview)):
        fh: BinaryIO = io.BytesIO(source)
    elif isinstance(source, (str, PathLike)):
        fh = open(source, "rb")
    else:
        fh = source
    with fh if fh is not source else nullcontext(fh):
        head = fh.read(CHUNK)
        skip = _check_encoding(head)
        _check_nul(head, 0)
        base = 0
        while not head[skip:].strip():  # blanks only so far: the input is empty only if nothing follows
            base += len(head)
            head, skip = fh.read(CHUNK), 0
            if not head:
                raise UnusableInput("EN001", "empty file: no X12 content", 0)
            _check_nul(head, base)
        yield from _segments(
            fh, head.decode("latin-1"), skip, max_segment, notes if notes is not None else [], max_elements, max_empty,
            max_components, base,
        )


_NOTED = 20  # notes of one kind kept in full; past that they are counted
_RUN = 64  # segments made together, in the usual batch (see read_segments)


def _segments(
    fh, buf: str, pos: int, max_segment: int, notes: list[ReaderNote], max_elements: int, max_empty: int,
    max_components: int = DEFAULTS.components_per_element, base: int = 0,
) -> Iterator[list[Segment]]:
    """Split the buffer a chunk at a time (str.split in C), re-reading delimiters at each ISA, and
    yield the segments in runs: one at a time where each is looked at, ``_RUN`` at a time in the
    usual batch. ``base``: the file offset of ``buf[0]``."""
    eof = False
    delims: Delimiters | None = None
    blanks = _BLANKS
    new = Segment
    empties = 0

    def empty(offset: int) -> None:
        nonlocal empties
        empties += 1
        if empties <= _NOTED:
            notes.append(ReaderNote("EN104", offset, f"an empty segment at byte {offset} was passed over"))
        elif empties == _NOTED + 1:
            notes.append(ReaderNote("EN104", offset, f"more empty segments from byte {offset} on were passed over"))
        elif empties > max_empty:
            raise UnusableInput("EN013", f"more than {max_empty} empty segments: this is not a usable X12 file", offset)

    def refill() -> bool:
        nonlocal buf, base, pos, eof
        if eof:
            return False
        chunk = fh.read(CHUNK)
        if not chunk:
            eof = True
            return False
        _check_nul(chunk, base + len(buf))
        buf = buf[pos:] + chunk.decode("latin-1")
        base += pos
        pos = 0
        return True


    while True:
        # At the start of an interchange: skip blanks, read the ISA's delimiters.
        while True:
            n = len(buf)
            while pos < n and buf[pos] in blanks:
                pos += 1
            if n - pos >= 512 or not refill():
                break
        if pos >= len(buf):
            return
        if not buf.startswith("ISA", pos):
            if delims is None:
                raise UnusableInput("EN002", "not an X12 file: it does not begin with an ISA segment", base + pos)
            # Not an ISA after an IEA: read on with the last delimiters; the model reports it.
        else:
            delims = detect_delimiters(buf, pos)
        term, element, component = delims.segment, delims.element, delims.component
        # Segments no longer than this cannot go past the element or component limits unlooked at.
        small = min(max_elements, max_components)
        iea_mark = term + delims.suffix + "IEA"

        # Split complete segments until an IEA (the next ISA may change the delimiters).
        after_iea = False
        while not after_iea:
            last = buf.rfind(term, pos)
            if last < 0:
                if len(buf) - pos > max_segment:
                    raise UnusableInput("EN004", f"a segment at byte {base + pos} is longer than {max_segment} bytes", base + pos)
                if refill():
                    continue
                tail = buf[pos:].lstrip(blanks)
                if not tail:
                    return
                offset = base + len(buf) - len(tail)
                notes.append(ReaderNote("EN105", offset, f"the last segment ({tail[:3]!r} at byte {offset}) has no terminator"))
                yield [new(tail, offset, delims)]
                return
            # Stop the batch before an IEA (split at a terminator: the same segments come out), so
            # that the batch before it can take the regular split.
            cut = buf.find(iea_mark, pos, last)
            if cut > pos:
                last = cut
            cur = pos
            check_length = last - pos > max_segment  # only a batch this long can hold such a segment
            batch = buf[pos:last]
            # The usual batch (each terminator followed by the same line break, no empty, blank-led,
            # long or IEA segment after the first) is split on terminator + line break, and all but
            # its first segment are made without a look at each (see _regular_split).
            pieces = _regular_split(batch, delims, min(small, max_segment) if check_length else small)
            if pieces is None:
                raws, step = batch.split(term), 1
            else:
                raws, step = pieces[:1], len(term) + len(delims.suffix)
            for raw in raws:
                offset = base + cur
                size = len(raw)
                cur += size + step
                if raw and raw[0] in blanks:
                    raw = raw.lstrip(blanks)
                    offset += size - len(raw)
                    if not raw:
                        empty(offset)
                        continue
                elif not raw:
                    empty(offset)
                    continue
                if check_length and size > max_segment:
                    raise UnusableInput("EN004", f"a segment at byte {offset} is longer than {max_segment} bytes", offset)
                if size > small:
                    if raw.count(element) >= max_elements:
                        raise UnusableInput(
                            "EN013", f"a segment at byte {offset} has more than {max_elements} elements", offset, raw[:3]
                        )
                    if raw.count(component) >= max_components:
                        _check_components(raw, element, component, max_components, offset)
                seg = new(raw, offset, delims)
                yield [seg]
                if seg.id == "IEA":
                    after_iea = True
                    pos = cur - step + 1  # just past its terminator
                    break
            else:
                if pieces is not None and len(pieces) > 1:
                    rest = islice(pieces, 1, None)
                    offsets = accumulate(map(add, map(len, islice(pieces, 1, None)), repeat(step)), initial=base + cur)
                    made = map(new, rest, offsets, repeat(delims))
                    while True:
                        run = list(islice(made, _RUN))
                        if not run:
                            break
                        yield run
                pos = last + 1


def _check_components(raw: str, element: str, component: str, limit: int, offset: int) -> None:
    for index, value in enumerate(raw.split(element)):
        if value.count(component) >= limit:
            sid = raw.split(element, 1)[0][:3]
            raise UnusableInput(
                "EN013", f"element {sid}{index:02d} of the segment at byte {offset} has more than {limit} components",
                offset, sid,
            )


def _regular_split(batch: str, delims: Delimiters, limit: int) -> list[str] | None:
    """``batch`` split on terminator + line break, when every segment but the first is regular:
    every terminator is followed by the same line break (``delims.suffix``, maybe none), and no
    segment after the first is empty, begins with a blank, is an IEA or is longer than ``limit``
    minus the line break. Otherwise None (the caller looks at each segment)."""
    term, suffix = delims.segment, delims.suffix
    sep = term + suffix
    if batch.endswith(sep):
        return None
    pieces = batch.split(sep)
    if suffix and batch.count(term) != len(pieces) - 1:
        return None  # a terminator without the line break after it
    if len(pieces) < 2:
        return pieces
    # The smallest segment after the first begins past a space: none is empty (a terminator after a
    # terminator) or begins with a blank (or another control character: looked at one by one too).
    if min(islice(pieces, 1, None))[:1] <= " ":
        return None
    # The caller ends a batch before its first IEA: one can only be the second segment, after an
    # empty first one.
    if pieces[1].startswith("IEA"):
        return None
    if max(map(len, islice(pieces, 1, None))) + len(suffix) > limit:
        return None
    return pieces
