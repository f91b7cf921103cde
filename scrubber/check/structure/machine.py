"""The segment/loop state machine: which map node each segment is, and the loop errors on the way.

pyx12's ``map_walker.walk_tree``: from the map node of the previous segment, find the node of the
next one, searching the current loop from the current position, then each enclosing loop, and
entering the loops whose first segment it is; on the way, note the required segments and loops
passed over (missing, IK304 3), a segment or loop used more often than the map allows (IK304 5,
4), one marked not used (IK304 2), or one found nowhere (IK304 1). The counters are pyx12's
``NodeCounter`` (path -> count, reset below a loop each time the loop is entered again).

:class:`Walker` does it in two steps, so that it is cheap on a large file: the search depends only
on the start node and the segment's id and qualifier values, so it is done once and remembered as
a small program (``_search`` -> ``_program``); each segment then runs its program against the
counters (:meth:`Walker.walk`). The validator's loop inlines the commonest program ("required
things passed, all present, then the segment found": :data:`SEG_FOUND`).
"""

from __future__ import annotations

from bisect import bisect_left
from functools import lru_cache
from typing import Any

from scrubber.check.structure.caches import KEY_MAX
from scrubber.check.structure.elements import NO_ERRORS, Seg, matches
from scrubber.check.structure.tables import Loop, SegNode, Unsupported

__all__ = ["Walker", "SEG_FOUND", "QUAL_FIRST"]

# The operations of a program: a required segment passed, a segment found, a loop entered, a
# required loop passed, the segment found nowhere.
_MISS_SEG, SEG_FOUND, _LOOP_ENTER, _MISS_LOOP, _NOT_FOUND = range(5)
QUAL_FIRST = ((1, None),)  # qualifier places of most segments: element 01


class Walker:
    """pyx12's ``walk_tree``, in two steps.

    Which map node a segment leads to, and which loops and segments the walk passes on the way,
    depend only on the node it starts from and on the segment's id and qualifier values (the
    counters only decide which errors are raised). So the search (:meth:`_search`) is a pure
    function that returns a small program of operations, remembered per (start node, segment id,
    qualifier values); :meth:`walk` runs the program against the counters: "a required segment
    was passed", "a required loop was passed", "segment found", "loop entered", "not found".
    """

    __slots__ = ("counts", "missing", "pending", "programs", "qual_pos", "by_parent", "subs")

    def __init__(self, qual_pos: dict[str, tuple]) -> None:
        self.counts: dict[str, int] = {}  # pyx12's NodeCounter: path -> count (bounded by the map)
        self.by_parent: dict[str, list] = {}  # the counted paths, by the path they are directly under
        self.subs: dict[str, set] = {}  # path -> the paths directly under it that have counts below
        self.missing: list = []
        self.pending: list = []
        self.programs: dict = {}
        self.qual_pos = qual_pos

    def reset_to(self, path: str) -> None:
        """NodeCounter.reset_to_node: forget the counts of every path below ``path``."""
        by_parent, subs = self.by_parent, self.subs
        pop = self.counts.pop
        stack = [path]
        while stack:
            p = stack.pop()
            found = by_parent.pop(p, None)
            if found:
                for k in found:
                    pop(k, None)
            below = subs.pop(p, None)
            if below:
                stack.extend(below)

    def inc(self, path: str) -> int:
        counts = self.counts
        n = counts.get(path, 0) + 1
        counts[path] = n
        if n == 1:
            self.register(path)
        return n

    def register(self, path: str) -> None:
        """Index a newly counted path under its parent (for :meth:`reset_to`)."""
        parent = _parent_path(path)
        found = self.by_parent.get(parent)
        if found is not None:
            found.append(path)
            return
        self.by_parent[parent] = [path]
        subs = self.subs
        q = parent
        while q:  # link the parent up to an ancestor already linked (or the top)
            up = _parent_path(q)
            linked = subs.get(up)
            if linked is None:
                subs[up] = {q}
                q = up
                continue
            linked.add(q)
            break

    def force(self, loop_path: str, seg_path: str) -> None:
        self.reset_to(loop_path)
        self.inc(loop_path)
        self.inc(seg_path)

    # A pending error: (code, text, line, map_node or None, seg id of its data)
    def walk(self, node: Any, seg: Seg, line: int) -> tuple[Any, list]:
        sid = seg.id
        places = self.qual_pos.get(sid, ())
        if places == QUAL_FIRST:  # most segments: the qualifier is element 01 (raw: a finer key, never a wrong one)
            els = seg.els
            key = (node, sid, els[0] if els else None)
        else:
            els = seg.els
            n = len(els)
            key = (node, sid, *[els[i - 1] if i <= n else None for i, _ in places])
        found = self.programs.get(key)
        if found is None:
            found = self._search(node, seg)
            if all(v is None or len(v) <= KEY_MAX for v in key[2:]):  # long values: not remembered
                if len(self.programs) > 20000:
                    self.programs.clear()
                self.programs[key] = found
        ops, result, checks, last = found
        counts = self.counts
        if last is not None:  # the common shapes: required things passed (all present), then one step
            for path in checks:
                if path not in counts:
                    break
            else:
                kind, child = last[0], last[1]
                if kind == SEG_FOUND:
                    path = child.path
                    n = counts.get(path, 0) + 1
                    counts[path] = n
                    if n == 1:
                        self.register(path)
                    self.missing = []
                    if n > child.max_repeat:
                        self.pending = [("5", f"Segment {sid} exceeded max count.  Found {n}, should have {child.max_repeat}",
                                         line, child, sid)]
                        return result, self.pending
                    self.pending = NO_ERRORS
                    return result, NO_ERRORS
                # _LOOP_ENTER of a loop used R or S
                self.missing = []
                self.pending = []
                self._check_loop_usage(child, seg, line)
                first = last[2]
                path = first.path
                n = counts.get(path, 0) + 1
                counts[path] = n
                if n == 1:
                    self.register(path)
                return result, self.pending
        self.missing = missing = []
        self.pending = []
        for op in ops:
            kind = op[0]
            if kind == SEG_FOUND:
                child = op[1]
                self.inc(child.path)
                self._check_seg_usage(child, seg, line)
                if self.missing:
                    ckey = child.key
                    self.missing = [m for m in self.missing if m[0].key != ckey]
                    self._flush(child.pos)
            elif kind == _MISS_SEG:
                child = op[1]
                if counts.get(child.path, 0) < 1:
                    missing.append((child, "3", f'Mandatory segment "{child.name}" ({child.id}) missing', line))
            elif kind == _LOOP_ENTER:
                loop, first = op[1], op[2]
                self._check_loop_usage(loop, seg, line)
                self.inc(first.path)
                self._flush()
            elif kind == _MISS_LOOP:
                loop, first = op[1], op[2]
                if counts.get(loop.path, 0) < 1:
                    self.missing.append((first, "3", f'Mandatory loop "{loop.name}" ({loop.id}) missing', line))
            else:  # _NOT_FOUND
                start = op[1]
                seg_str = seg.formatted() if sid == "HL" else f"{sid}*{seg.get_value(1)}"
                self.pending.append(("1", f"Segment {seg_str} not found.  Started at {start.path}", line, start, sid))
            missing = self.missing
        return result, self.pending

    # ---- the search: no counters, no errors; a program and the node found
    def _search(self, start: Any, seg: Seg) -> tuple[tuple, Any]:
        ops: list = []
        node_pos = start.pos
        node = start if start.kind in ("loop", "root") else _parent_loop(start)
        while True:
            found = self._scan(node, node_pos, seg, ops)
            if found is not None:
                return _program(ops, start, found[0])
            if node.kind == "root":
                ops.append((_NOT_FOUND, start))
                return _program(ops, start, None)
            node_pos = node.pos
            node = _parent_loop(node)

    def _scan(self, node: Any, node_pos: int, seg: Seg, ops: list) -> tuple | None:
        sid = seg.id
        positions = node.positions
        lo = bisect_left(positions, node_pos)
        for child in node.children[lo:]:
            if child.kind == "seg":
                if child.id == sid and matches(child, seg):
                    if node.kind == "loop" and self._is_loop_match(node, seg, ops):
                        return (self._goto(node, seg, ops),)
                    ops.append((SEG_FOUND, child))
                    return (child,)
                if child.usage == "R":
                    ops.append((_MISS_SEG, child))
            elif self._is_loop_match(child, seg, ops):
                return (self._goto(child, seg, ops),)
        return None

    def _is_loop_match(self, loop: Loop, seg: Seg, ops: list) -> bool:
        if not loop.children:
            return False
        first = loop.first
        if first.kind == "loop":
            return any(c.kind == "loop" and self._is_loop_match(c, seg, ops) for c in loop.children)
        if first.id == seg.id and matches(first, seg):
            return True
        if loop.usage == "R":
            ops.append((_MISS_LOOP, loop, first))
        return False

    def _goto(self, loop: Loop, seg: Seg, ops: list) -> Any:
        first = loop.first_seg
        if first is not None and first.id == seg.id and matches(first, seg):
            ops.append((_LOOP_ENTER, loop, first))
            return first
        for child in loop.children:
            if child.kind != "loop":
                continue
            found = self._goto(child, seg, ops)
            if found is not None:
                return found
        return None

    # ---- the counters' side
    def _check_seg_usage(self, node: SegNode, seg: Seg, line: int) -> None:
        usage = node.usage
        if usage == "N":
            self.pending.append(("2", f"Segment {node.id} found but marked as not used", line, None, None))
        elif usage == "R" or usage == "S":
            count = self.counts.get(node.path, 0)
            if count > node.max_repeat:
                self.pending.append(("5", f"Segment {seg.id} exceeded max count.  Found {count}, should have {node.max_repeat}",
                                     line, node, seg.id))
        else:
            raise Unsupported(f"segment usage {usage!r}")

    def _flush(self, cur_pos: int | None = None) -> None:
        if not self.missing:
            return
        keep = []
        for m in self.missing:
            if m[0].pos != cur_pos:
                self.pending.append((m[1], m[2], m[3], m[0], m[0].id))
            else:
                keep.append(m)
        self.missing = keep

    def _check_loop_usage(self, loop: Loop, seg: Seg, line: int) -> None:
        usage = loop.usage
        if usage == "N":
            self.pending.append(("2", f"Loop {loop.id} found but marked as not used", line, None, None))
        elif usage in ("R", "S"):
            self.reset_to(loop.path)
            n = self.inc(loop.path)
            if n > loop.max_repeat:
                self.pending.append(("4", f"Loop {loop.id} exceeded max count.  Found {n}, should have {loop.max_repeat}",
                                     line, loop, seg.id))
        else:
            raise Unsupported(f"loop usage {usage!r}")


def _program(ops: list | tuple, start: Any, result: Any) -> tuple:
    """(operations, node found, checks, last step) for :meth:`Walker.walk`.

    "Required segment passed" for the segment the walk starts from is left out: the walk found it
    (or it was forced), so it is counted and can raise nothing. When the program is a run of
    "required segment/loop passed" followed by one "segment found" (used R or S) or "loop entered"
    (used R or S), ``checks`` are the paths that must already be counted for the run to raise
    nothing, and ``last`` is that final step; otherwise ``last`` is None."""
    if start.kind == "seg":
        ops = [op for op in ops if not (op[0] == _MISS_SEG and op[1] is start)]
    ops = tuple(ops)
    checks: tuple = ()
    last = None
    if ops and ops[-1][0] in (SEG_FOUND, _LOOP_ENTER) and ops[-1][1].usage in ("R", "S") \
            and all(op[0] in (_MISS_SEG, _MISS_LOOP) for op in ops[:-1]):
        last = ops[-1]
        checks = tuple(op[1].path for op in ops[:-1])
    return ops, result, checks, last


@lru_cache(maxsize=8192)
def _parent_path(path: str) -> str:
    return path.rpartition("/")[0]


def _parent_loop(node: Any) -> Any:
    if node.kind == "root":
        return node
    p = node.parent
    while not (p.kind == "loop" or p.kind == "root"):
        p = p.parent
    return p
