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

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

CHUNK = 1 << 20
ISA_LENGTH = 106  # ISA with its terminator, as the standard fixes it
DEFAULT_MAX_SEGMENT = 1 << 20  # a segment longer than this is not X12 (issue 9 makes it configurable)
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

    def __init__(self, raw: str, elements: list[str], offset: int, delims: Delimiters):
        self.raw = raw
        self.elements = elements
        self.id = elements[0]
        self.offset = offset
        self.position: int | None = None
        self.loop: str = ""
        self.delims = delims

    def el(self, index: int) -> str:
        """Element ``index`` (1-based, as in ``CLM01``); ``""`` when absent."""
        elements = self.elements
        return elements[index] if index < len(elements) else ""

    def comp(self, index: int, component: int) -> str:
        """Component ``component`` (1-based) of composite element ``index``; ``""`` when absent."""
        value = self.el(index)
        if not value:
            return ""
        parts = value.split(self.delims.component)
        return parts[component - 1] if component <= len(parts) else ""

    def components(self, index: int) -> list[str]:
        value = self.el(index)
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
    if segment == element or component == element or segment.isalnum() or component.isalnum() and component != "U":
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
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or (len(head) > 3 and head[1:4:2] == b"\x00\x00"):
        raise UnusableInput("EN005", "unreadable: the file is UTF-16 encoded; an 837 must be ASCII or UTF-8", 0)
    if head.startswith(b"\xef\xbb\xbf"):
        return 3
    return 0


def read_segments(path: str | Path, max_segment: int = DEFAULT_MAX_SEGMENT) -> Iterator[Segment]:
    """Yield the segments of an X12 file in order, without holding the file in memory.

    Raises :class:`UnusableInput` for input that cannot be read as X12 at all: an empty file, one
    that does not begin with an ISA, unreadable bytes, a segment that never ends.
    """
    with open(path, "rb") as fh:
        head = fh.read(CHUNK)
        if not head.strip():
            raise UnusableInput("EN001", "empty file: no X12 content", 0)
        skip = _check_encoding(head)
        yield from _segments(fh, head.decode("latin-1"), skip, max_segment)


def _segments(fh, buf: str, pos: int, max_segment: int) -> Iterator[Segment]:
    base = 0  # file offset of buf[0]
    eof = False
    delims: Delimiters | None = None
    term = element = ""
    expect_isa = True
    blanks = _BLANKS

    while True:
        n = len(buf)
        # Skip line breaks and indentation between segments.
        while pos < n and buf[pos] in blanks and buf[pos] != term:
            pos += 1
        if pos >= n or (expect_isa and not eof and n - pos < ISA_LENGTH + 2):
            if not eof:
                chunk = fh.read(CHUNK)
                if chunk:
                    buf = buf[pos:] + chunk.decode("latin-1")
                    base += pos
                    pos = 0
                    continue
                eof = True
            if pos >= n:
                return
        if expect_isa:
            if buf.startswith("ISA", pos):
                delims = detect_delimiters(buf, pos)
                term, element = delims.segment, delims.element
                expect_isa = False
            elif delims is None:
                raise UnusableInput("EN002", "not an X12 file: it does not begin with an ISA segment", base + pos)
        end = buf.find(term, pos)
        if end < 0:
            if n - pos > max_segment:
                raise UnusableInput("EN004", f"a segment at byte {base + pos} is longer than {max_segment} bytes", base + pos)
            if not eof:
                chunk = fh.read(CHUNK)
                if chunk:
                    buf = buf[pos:] + chunk.decode("latin-1")
                    base += pos
                    pos = 0
                else:
                    eof = True
                continue
            end = n  # the last segment has no terminator: keep it, the model flags it
        elif end - pos > max_segment:
            raise UnusableInput("EN004", f"a segment at byte {base + pos} is longer than {max_segment} bytes", base + pos)
        raw = buf[pos:end]
        if "\x00" in raw:
            raise UnusableInput("EN005", f"unreadable: NUL bytes at byte {base + pos}; this is not an X12 text file", base + pos)
        seg = Segment(raw, raw.split(element), base + pos, delims)  # type: ignore[arg-type]
        if seg.id == "IEA":
            expect_isa = True  # the next interchange may use other delimiters
        pos = end + 1
        yield seg


def segment_text(seg: Segment) -> str:
    """The segment as it came in, with its terminator and line break."""
    d = seg.delims
    return seg.raw + d.segment + d.suffix
