"""Values made safe for where analysts read them: spreadsheets and terminals.

An 837 carries whatever the sender put in it; a claim id (CLM01) or any other value quoted in a
finding reaches the CSV report, the text summary and ``scrubber explain``:

- :func:`csv_cell`: a cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
  return is a formula to Excel, LibreOffice and Google Sheets (``=HYPERLINK(...)``); it is
  written with a leading ``'`` so that it stays text (OWASP, "CSV injection"), its control
  characters escaped as below (the CSV also goes to standard output);
- :func:`visible`: control characters (C0, DEL, C1: ESC and OSC sequences that would move the
  cursor, retitle the window or hide text on a terminal) are written as visible escapes
  (``\\x1b``), as Python's ``repr`` writes them; a backslash is left as it is.
"""

from __future__ import annotations

import re

__all__ = ["csv_cell", "visible"]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


CELL_MAX = 32_000  # characters a CSV cell keeps (spreadsheets hold 32,767 in a cell)


def csv_cell(value: str) -> str:
    """``value`` as a CSV cell a spreadsheet shows as text (never evaluates as a formula), its
    control characters as visible escapes (the CSV also goes to standard output)."""
    if value and value.startswith(_FORMULA_START):
        value = "'" + value
    value = visible(value)
    if len(value) > CELL_MAX:  # a spreadsheet's cell limit (and the csv module's field limit)
        value = f"{value[:CELL_MAX]}... ({len(value) - CELL_MAX} more characters; see the JSON report)"
    return value


def _escape(m: re.Match) -> str:
    return f"\\x{ord(m.group(0)):02x}"


def visible(text: str) -> str:
    """``text`` with every control character written as a visible escape (``\\x1b``)."""
    if not text or not _CONTROL.search(text):
        return text
    return _CONTROL.sub(_escape, text)
