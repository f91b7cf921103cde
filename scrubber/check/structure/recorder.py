"""The recording error handler: pyx12's errors as :class:`~.rawerror.RawError` records.

pyx12's ``error_handler.err_handler`` builds a tree of errors (interchange, group, transaction,
segment, element) for its 999; :mod:`.pyx12run` records each error as it is reported, with the
map node it concerns. :class:`Recorder` does the same for the compiled validator, without the tree:
it keeps the current segment's map node (for the loop, segment id and name of its errors), hands
each record to a sink as soon as it is made (or keeps them in a list), and raises
:class:`~.tables.Unsupported` where pyx12's handler would crash (a GS with no ISA, an element
error before the first ST ...), so that pyx12 itself gives that answer.
"""

from __future__ import annotations

import re
from typing import Any

from scrubber.check.structure.rawerror import RawError
from scrubber.check.structure.tables import EleNode, Unsupported

__all__ = ["Recorder"]


class Recorder:
    """The recording error handler of :mod:`.pyx12run`, without pyx12's error tree."""

    __slots__ = ("errors", "emit", "line", "seg_map", "seg_line", "seg_data_id", "cur_seg_id", "seen", "seg_added")

    def __init__(self, sink: Any = None) -> None:
        self.errors: list[RawError] = []
        self.emit = sink if sink is not None else self.errors.append
        self.line = 0
        self.seg_map: Any = None
        self.seg_line: int | None = None
        self.seg_data_id: str | None = None
        self.cur_seg_id: str | None = None  # seg_id of the error handler's current segment node
        self.seen = {"isa": False, "gs": False, "st": False}  # the handler's ISA/GS/ST nodes exist
        self.seg_added = True  # pyx12's seg_node_added

    def open_loop(self, level: str) -> None:
        """add_isa_loop / add_gs_loop / add_st_loop (pyx12 crashes on a GS with no ISA ...)."""
        parent = {"isa": None, "gs": "isa", "st": "gs"}[level]
        if parent is not None and not self.seen[parent]:
            raise Unsupported(f"{level.upper()} outside its envelope (pyx12 stops there)")
        self.seen[level] = True
        self.cur_seg_id = None
        self.seg_added = True

    def close_loop(self, level: str) -> None:
        if not self.seen[level]:
            raise Unsupported(f"{level.upper()} trailer with no header (pyx12 stops there)")
        self.cur_seg_id = None
        self.seg_added = True

    def add_seg(self, node: Any, data_id: str | None, line: int) -> None:
        self.seg_map = node
        self.seg_line = line
        self.seg_data_id = data_id
        self.cur_seg_id = data_id
        self.seg_added = False

    def env(self, level: str, code: str, text: str) -> None:
        self.emit(RawError(level, code, text, self.line, level.upper()))
        if not self.seen[level]:
            raise Unsupported(f"{level.upper()} error with no {level.upper()} (pyx12 stops there)")

    def seg_error(self, code: str, text: str, value: str | None = None, src_line: int | None = None) -> None:
        line = src_line if src_line else self.line
        err = RawError("seg", code, text, line, value=value)
        if not self.seg_added and self.seen["st"]:
            self.seg_added = True
        node = self.seg_map if self.seg_line == line else None
        if node is not None:
            err.seg_id = node.id
            err.loop = node.loop_id
            err.name = node.name
            if "Mandatory loop" in text:
                missing = node.parent
                err.missing_loop = missing.id
                err.loop = missing.loop_id
        if self.seg_line == line:
            err.data_id = self.seg_data_id
            if err.seg_id is None:
                err.seg_id = self.seg_data_id
        self.emit(err)

    def ele_error(self, node: EleNode, code: str, text: str, value: str | None, refdes: str | None) -> None:
        line = self.line
        if not self.seg_added:
            if not self.seen["st"]:
                raise Unsupported("element error outside a transaction set (pyx12 stops there)")
            self.seg_added = True
        err = RawError("ele", code, text, line, value=value)
        err.ele_ref_num = node.data_ele
        err.name = node.name
        err.ele_pos = node.ele_pos
        err.seg_id = self.cur_seg_id
        if self.seg_line == line and self.seg_map is not None:
            err.loop = self.seg_map.loop_id
        if refdes:
            err.element = _refdes(str(refdes), err.seg_id)
        self.emit(err)


_REFDES = re.compile(r"([A-Z][A-Z0-9]{1,2})?(\d{2})(?:-(\d{1,2}))?")


def _refdes(refdes: str, seg_id: str | None) -> str:
    m = _REFDES.fullmatch(refdes)
    if not m:
        return refdes
    out = f"{m.group(1) or seg_id or ''}{m.group(2)}"
    if m.group(3):
        out += f"-{int(m.group(3))}"
    return out

