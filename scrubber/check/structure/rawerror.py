"""One structural error as pyx12 reports it (both validators report these records).

Kept apart from :mod:`.pyx12run` so that the compiled validator does not import pyx12.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class RawError:
    """One error as pyx12 reported it (before it becomes a finding)."""

    level: str  # isa | gs | st | seg | ele
    code: str  # pyx12's code: IK304 / IK403 / TA1 / AK9-IK5 style, or HL1/HL2/LX/SEG1
    message: str  # pyx12's text (may quote data: never shown to users as is)
    line: int | None  # line of the normalised stream (1-based segment ordinal in the file)
    seg_id: str | None = None  # the segment concerned (the missing one for "missing" errors)
    loop: str | None = None  # map loop id (the loop it is missing from, for "missing" errors)
    missing_loop: str | None = None  # for "Mandatory loop ... missing": the missing loop id
    element: str | None = None  # "SV107-1", "NM102"
    ele_ref_num: str | None = None  # X12 data element number ("1328")
    ele_pos: str | None = None  # IK401 form "7:1"
    name: str | None = None  # the map's name of the element or segment
    value: str | None = None  # offending value (kept internal; only code values are shown)
    data_id: str | None = None  # id of the segment pyx12 was reading when it reported the error


class TooManyErrors(Exception):
    """More structural errors than ``[limits] structure_errors``: the pass stops (the input is
    unusable, EN013); ``str(exc)`` is one line."""
