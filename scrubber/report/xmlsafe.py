"""Text made safe for an XML or HTML document (the HTML page, JUnit, SARIF).

An input may carry any byte in an element (a BEL in CLM05-1, a VT before GS); XML 1.0 forbids
most control characters, and lxml refuses them. :func:`xml_text` shows each such character as its
Unicode control picture (U+2400 block: BEL as U+2407), so that nothing is dropped silently and the
document is always well formed: a report never changes a verdict or stops a run.
"""

from __future__ import annotations

import re

_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def _picture(m: re.Match) -> str:
    c = ord(m.group())
    if c < 0x20:
        return chr(0x2400 + c)
    if c == 0x7F:
        return "\u2421"
    return "\ufffd"


def xml_text(text: str) -> str:
    """``text`` with every character XML 1.0 does not allow replaced by a visible stand-in."""
    if text.isprintable() or not _BAD.search(text):
        return text
    return _BAD.sub(_picture, text)


def xml_any(value):
    """:func:`xml_text` for a string, anything else unchanged."""
    return xml_text(value) if isinstance(value, str) else value
