"""The compiled structural validator: pyx12's 837P map, read once with lxml, validated in one pass.

pyx12 validates a segment by walking object trees with path strings and counters keyed by
parsed path objects; about 4 ms per claim. This module reads the same XML maps pyx12 ships
(``837.5010.X222.A1.xml``, ``x12.control.00501.xml``, ``dataele.xml``, ``codes.xml``) with lxml
once per process and compiles them into plain slotted nodes with everything the validator needs
precomputed: each loop's children in position order, each segment's qualifier (the element, its
place and its code set, so that ``REF*G1`` finds its node with one set lookup), each element's
data type, lengths, code set and a fast-path check.

The validator then follows pyx12's algorithm step by step (``x12n_document`` -> ``X12Reader`` ->
``walk_tree.walk_errors`` -> ``segment_if.is_valid_errors`` -> ``element_if.is_valid_errors`` and
the recording error handler of :mod:`.pyx12run`) and reports the same :class:`~.pyx12run.RawError`
records: same level, code, line, segment, loop, element and text. The differential tests
(``tests/test_compiled_structure.py``) hold it to that on the corpus and on mutated fixtures.

What it does not handle, it hands back: a map other than the 837P 5010 one (a 4010 interchange,
another transaction type), a data element or code list the map does not define, or any
exception. :func:`run_compiled` then raises :class:`Unsupported` and the caller runs pyx12 itself
on the same input, so the result is never a guess.

Memory: the counters are bounded by the map (they are reset on each loop entry); pending errors
are per segment; only the recorded errors accumulate.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from functools import lru_cache
from importlib.resources import files as _res_files
from typing import Any

from scrubber.check.structure.rawerror import RawError

__all__ = ["Unsupported", "compiled_maps", "run_compiled"]

MAXINT = 2147483647
ENVELOPE = frozenset(("ISA", "GS", "ST", "SE", "GE", "IEA"))
_READER_SPECIAL = frozenset(("ISA", "GS", "ST", "HL", "CLM", "LX"))  # X12Reader._parse_segment's cases
_ODD_START = frozenset(("", "\n", "\r", " "))
MAP_837P = "837.5010.X222.A1.xml"
CONTROL_00501 = "x12.control.00501.xml"


# Memory of the caches, bounded for the whole process (a few MB at most): segment texts with
# their errors, and element values known to pass. Full caches are emptied at the next run.
_CACHE_MAX = 10_000
_GOOD_MAX = 20_000
_TEXT_MAX = 200  # longer segment texts are not remembered
_KEY_MAX = 60  # nor longer values (a 300,000-character element must not be kept 10,000 times)
_USED = {"segments": 0, "values": 0}


def _NO_FAST(els: list) -> bool:  # a map segment with no generated check
    return False


class Unsupported(Exception):
    """The compiled validator cannot give pyx12's answer for this input: run pyx12."""


# ------------------------------------------------------------------------------------------
# Compiled map nodes
class Node:
    __slots__ = ("id", "name", "usage", "parent", "pos", "path", "loop_id", "key", "kind")

    def is_loop(self) -> bool:
        return self.kind == "loop"


class Root(Node):
    __slots__ = ("children", "positions", "first", "icvn", "index")

    def __init__(self) -> None:
        self.id = None
        self.name = None
        self.usage = None
        self.parent = None
        self.pos = 0
        self.path = "/"
        self.loop_id = None
        self.key = (None, None)
        self.kind = "root"
        self.children: list[Node] = []
        self.positions: list[int] = []
        self.first: Node | None = None
        self.icvn: str | None = None
        self.index: dict[str, Node] = {}


class Loop(Node):
    __slots__ = ("children", "positions", "first", "first_seg", "max_repeat")

    def __init__(self) -> None:
        self.kind = "loop"


class SegNode(Node):
    __slots__ = ("max_repeat", "elements", "syntax", "qual", "match_values", "qual_idx",
                 "qual_sub", "has_composite", "e5", "cache", "fast")

    def __init__(self) -> None:
        self.kind = "seg"


class EleNode:
    __slots__ = ("id", "refdes", "name", "usage", "seq", "data_ele", "data_type", "min_len", "max_len",
                 "codes", "code_list", "external", "ext_set", "regex", "res", "parent_composite",
                 "composite_usage", "numeric", "textual", "ele_pos", "fast_type", "is_composite", "good")

    def __init__(self) -> None:
        self.is_composite = False
        self.good: set[str] = set()  # values seen to pass every check (bounded)


class CompNode:
    __slots__ = ("id", "refdes", "name", "usage", "seq", "data_ele", "children", "is_composite")

    def __init__(self) -> None:
        self.is_composite = True


def _text(elem: Any, name: str) -> str | None:
    v = elem.get(name)
    if v:
        return v
    child = elem.find(name)
    return child.text if child is not None else None


def _open_map(name: str) -> Any:
    from lxml import etree

    with _res_files("pyx12").joinpath("map", name).open("rb") as fh:
        return etree.parse(fh, etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True))


@lru_cache(maxsize=1)
def _data_elements() -> dict[str, tuple[str | None, int, int, str | None]]:
    out = {}
    for e in _open_map("dataele.xml").getroot().iter("data_ele"):
        out[e.get("ele_num")] = (e.get("data_type"), int(e.get("min_len")), int(e.get("max_len")), e.get("name"))
    return out


@lru_cache(maxsize=1)
def _external_codes() -> dict[str, frozenset]:
    out = {}
    for cs in _open_map("codes.xml").getroot().iter("codeset"):
        out[cs.findtext("id")] = frozenset(c.text for c in cs.iterfind("version/code"))
    return out


_BAD_E5 = re.compile(r"""[^A-Z0-9!"&'()*+,\-\./:;?= a-z%~@\[\]_{}\\|<>^`#$]""", re.S | re.ASCII)
_BAD_E = re.compile(r"""[^A-Z0-9!"&'()*+,\-\./:;?= a-z%~@\[\]_{}\\|<>#$]""", re.S | re.ASCII)
_REC_N = re.compile(r"^-?[0-9]+", re.S | re.ASCII)
_REC_R = re.compile(r"^-?[0-9]*(\.[0-9]+)?", re.S | re.ASCII)
_NON_DIGIT = re.compile(r"[^0-9]+", re.S | re.ASCII)
_FULL_N = re.compile(r"-?[0-9]+", re.ASCII)
_FULL_R = re.compile(r"-?[0-9]*(?:\.[0-9]+)?", re.ASCII)


def _element(parent_composite: CompNode | None, elem: Any, dataele: dict, ext: dict) -> EleNode:
    n = EleNode()
    n.id = n.refdes = elem.get("xid")
    n.data_ele = _text(elem, "data_ele")
    n.usage = _text(elem, "usage")
    n.name = _text(elem, "name")
    n.seq = int(_text(elem, "seq"))
    res = elem.findtext("regex")
    n.res = res
    n.regex = re.compile(res, re.S) if res else None
    codes = []
    n.external = None
    v = elem.find("valid_codes")
    if v is not None:
        n.external = v.get("external")
        codes = [c.text for c in v.findall("code")]
    n.code_list = codes
    n.codes = frozenset(codes)
    if n.external is not None and n.external not in ext:
        n.ext_set = None  # undefined external list: pyx12 raises; we hand over
    else:
        n.ext_set = ext.get(n.external) if n.external else None
    found = dataele.get(n.data_ele) if n.data_ele else None
    if found is None:
        n.data_type, n.min_len, n.max_len = None, -1, -1  # pyx12 raises at validation time
    else:
        n.data_type, n.min_len, n.max_len = found[0], found[1], found[2]
    dt = n.data_type or ""
    n.numeric = dt == "R" or dt[:1] == "N"
    n.textual = dt in ("AN", "ID")
    n.parent_composite = parent_composite
    n.composite_usage = parent_composite.usage if parent_composite is not None else None
    n.ele_pos = f"{parent_composite.seq}:{n.seq}" if parent_composite is not None else f"{n.seq}"
    n.fast_type = dt
    return n


def _composite(elem: Any, dataele: dict, ext: dict) -> CompNode:
    c = CompNode()
    c.id = elem.get("xid")
    c.refdes = elem.findtext("refdes") or c.id
    c.data_ele = _text(elem, "data_ele")
    c.usage = _text(elem, "usage")
    c.seq = int(_text(elem, "seq"))
    c.name = _text(elem, "name")
    c.children = [_element(c, e, dataele, ext) for e in elem.findall("element")]
    return c


def _head(node: Node, parent: Node, elem: Any, repeat: str) -> None:
    """What loops and segments share: id, name, usage, position, parent, repeat count."""
    node.id = elem.get("xid")
    node.name = _text(elem, "name")
    node.usage = _text(elem, "usage")
    node.pos = int(_text(elem, "pos"))
    node.parent = parent
    node.path = node.id  # made absolute (and qualified, for segments) later
    value = _text(elem, repeat)
    node.max_repeat = MAXINT if value is None or value in ("&gt;1", ">1") else int(value)


def _segment(root: Root, parent: Node, elem: Any, dataele: dict, ext: dict) -> SegNode:
    s = SegNode()
    _head(s, parent, elem, "max_use")
    s.syntax = []
    for syn in elem.findall("syntax"):
        text = syn.text
        if text is None or text[0] not in "PRCLE":
            continue
        s.syntax.append([text[0]] + [int(text[i * 2 + 1:i * 2 + 3]) for i in range(len(text[1:]) // 2)])
    children = {}
    for e in elem.findall("element"):
        children[int(_text(e, "seq"))] = ("e", e)
    for e in elem.findall("composite"):
        children[int(_text(e, "seq"))] = ("c", e)
    s.elements = []
    for seq in sorted(children):
        kind, e = children[seq]
        s.elements.append(_element(None, e, dataele, ext) if kind == "e" else _composite(e, dataele, ext))
    for i, child in enumerate(s.elements):  # pyx12's get_child_node_by_idx would raise
        if child.seq != i + 1:
            s.elements = None  # type: ignore[assignment]
            break
    s.has_composite = any(c.is_composite for c in s.elements or [])
    s.cache = {}
    s.fast = None  # generated on first use (_generate)
    _qualifier(s)
    return s


def _qualifier(s: SegNode) -> None:
    """pyx12's ``segment_if._resolve_unique_key_field(with_qual=False)``, precomputed."""
    els = s.elements or []
    c0 = els[0] if len(els) > 0 else None
    c1 = els[1] if len(els) > 1 else None
    c2 = els[2] if len(els) > 2 else None
    s.qual = None
    s.qual_idx = s.qual_sub = None
    s.match_values = None
    key = None
    if isinstance(c0, EleNode) and c0.data_type == "ID" and c0.usage == "R" and c0.code_list:
        key = (c0, 1, None)
    elif s.id == "ENT" and isinstance(c1, EleNode) and c1.data_type == "ID" and c1.code_list:
        key = (c1, 2, None)
    elif s.id == "CTX" and isinstance(c0, CompNode) and c0.children[0].data_type == "AN" and c0.children[0].code_list:
        key = (c0.children[0], 1, 1)
    elif isinstance(c0, CompNode) and c0.children[0].data_type == "ID" and c0.children[0].code_list:
        key = (c0.children[0], 1, 1)
    elif s.id == "HL" and isinstance(c2, EleNode) and c2.code_list:
        key = (c2, 3, None)
    if key is not None:
        s.qual, s.qual_idx, s.qual_sub = key
        s.match_values = key[0].codes


def _guess_unique_key(s: SegNode) -> EleNode | None:
    els = s.elements or []
    c0 = els[0] if len(els) > 0 else None
    c1 = els[1] if len(els) > 1 else None
    c2 = els[2] if len(els) > 2 else None
    if isinstance(c0, EleNode) and c0.data_type == "ID" and c0.code_list:
        return c0
    if s.id == "ENT" and isinstance(c1, EleNode) and c1.data_type == "ID" and c1.code_list:
        return c1
    if isinstance(c0, CompNode) and c0.children[0].data_type == "ID" and c0.children[0].code_list:
        return c0.children[0]
    if s.id == "HL" and isinstance(c2, EleNode) and c2.code_list:
        return c2
    return None


def _loop(root: Root, parent: Node, elem: Any, dataele: dict, ext: dict) -> Loop:
    n = Loop()
    _head(n, parent, elem, "repeat")
    _fill(root, n, elem, dataele, ext)
    return n


def _fill(root: Root, node: Any, elem: Any, dataele: dict, ext: dict) -> None:
    pos_map: dict[int, list] = {}
    for e in elem.findall("loop"):
        child = _loop(root, node, e, dataele, ext)
        pos_map.setdefault(child.pos, []).append(child)
    for e in elem.findall("segment"):
        child = _segment(root, node, e, dataele, ext)
        pos_map.setdefault(child.pos, []).append(child)
    for pos in sorted(pos_map):
        if len(pos_map[pos]) > 1:
            for child in pos_map[pos]:
                if isinstance(child, SegNode):
                    key = _guess_unique_key(child)
                    if key is not None:
                        child.path = child.path + "[" + (key.code_list[0] or "") + "]"
    node.children = [c for pos in sorted(pos_map) for c in pos_map[pos]]
    node.positions = [c.pos for c in node.children]
    node.first = node.children[0] if node.children else None
    if isinstance(node, Loop):
        node.first_seg = node.first if isinstance(node.first, SegNode) else None


def _finish(root: Root) -> None:
    """Full paths, enclosing loop ids and equality keys (pyx12 compares id and parent id)."""

    def visit(node: Any, parent_path: str) -> None:
        for child in node.children:
            child.path = ("/" if parent_path == "/" else parent_path + "/") + child.path
            p = child.parent
            while p is not None and p.kind != "loop":
                p = p.parent
            child.loop_id = p.id if p is not None else None
            child.key = (child.id, child.parent.id)
            root.index[child.path] = child
            if isinstance(child, Loop):
                visit(child, child.path)

    visit(root, "/")


@lru_cache(maxsize=4)
def compiled_map(name: str) -> Root:
    """One of pyx12's maps, compiled (cached per process)."""
    tree = _open_map(name).getroot()
    root = Root()
    root.id = tree.get("xid")
    dataele, ext = _data_elements(), _external_codes()
    _fill(root, root, tree, dataele, ext)
    _finish(root)
    try:
        isa = root.index["/ISA_LOOP/ISA"]
        root.icvn = isa.elements[11].code_list[0]
    except Exception:  # noqa: BLE001 - as pyx12's _get_icvn
        root.icvn = None
    for node in root.index.values():
        if isinstance(node, SegNode):
            node.e5 = root.icvn == "00501"  # pyx12: the 5010 extended character set
    return root


def compiled_maps() -> tuple[Root, Root]:
    return compiled_map(CONTROL_00501), compiled_map(MAP_837P)


_QUAL_POS: dict[str, tuple] = {}


def _init_qual_pos(*roots: Root) -> dict[str, tuple]:
    _QUAL_POS.update(_qualifier_positions(*roots))
    return _QUAL_POS


# ------------------------------------------------------------------------------------------
# Data segments (pyx12.segment.Segment, as the validator needs it)
def _fmt(value: str) -> str:
    """A composite's value as pyx12 formats it: trailing empty components dropped."""
    return value.rstrip(":") if value.endswith(":") else value


class Seg:
    __slots__ = ("id", "els", "isa")

    def __init__(self, parts: list[str]) -> None:  # the segment's text split at '*'
        self.id = parts[0]
        self.els = parts[1:]  # element strings (components joined by ':')
        self.isa = self.id == "ISA"

    def __len__(self) -> int:
        return len(self.els)

    def get_value(self, idx: int) -> str | None:  # 1-based element
        if idx - 1 >= len(self.els):
            return None
        v = self.els[idx - 1]
        return v if self.isa else _fmt(v)

    def get_sub(self, idx: int, sub: int) -> str | None:
        if idx - 1 >= len(self.els):
            return None
        v = self.els[idx - 1]
        comps = [v] if self.isa else v.split(":")
        if sub - 1 >= len(comps):
            return None
        return comps[sub - 1]

    def format_hl(self) -> str:
        comps = [self._fmt_el(e) for e in self.els]
        i = 0
        for i in range(len(comps) - 1, -1, -1):
            if comps[i] != "":
                break
        return f"{self.id}*{'*'.join(comps[: i + 1])}"

    def _fmt_el(self, e: str) -> str:
        return e if self.isa else _fmt(e)


_SEG_ID = re.compile(r"^[A-Z][A-Z0-9]{1,2}$", re.S)


def _match(node: SegNode, seg: Seg) -> bool:
    if seg.id != node.id:
        return False
    if node.qual is None:
        return True
    if node.qual_sub is None:
        return seg.get_value(node.qual_idx) in node.match_values
    return seg.get_sub(node.qual_idx, node.qual_sub) in node.match_values


def _parent_loop(node: Any) -> Any:
    if node.kind == "root":
        return node
    p = node.parent
    while not (p.kind == "loop" or p.kind == "root"):
        p = p.parent
    return p


# ------------------------------------------------------------------------------------------
# Element validation (pyx12.map_if._element.element_if.is_valid_errors and validation.py)
_CONTROL = [(chr(0x07), "BEL"), (chr(0x09), "HT"), (chr(0x0A), "LF"), (chr(0x0B), "VT"), (chr(0x0C), "FF"),
            (chr(0x0D), "CR"), (chr(0x1C), "FS"), (chr(0x1D), "GS"), (chr(0x1E), "RS"), (chr(0x1F), "US"),
            (chr(0x01), "SOH"), (chr(0x02), "STX"), (chr(0x03), "ETX"), (chr(0x04), "EOT"), (chr(0x05), "ENQ"),
            (chr(0x06), "ACK"), (chr(0x11), "DC1"), (chr(0x12), "DC2"), (chr(0x13), "DC3"), (chr(0x14), "DC4"),
            (chr(0x15), "NAK"), (chr(0x16), "SYN"), (chr(0x17), "ETB")]


def _valid_date(data_type: str, val: str) -> bool:
    if data_type == "D8" and len(val) != 8:
        return False
    if data_type == "D6" and len(val) != 6:
        return False
    m = _NON_DIGIT.search(val)
    if m and m.group(0):
        return False
    if len(val) not in (6, 8, 12):
        return False
    if len(val) == 6:
        val = "20" + val if int(val[0:2]) < 50 else "19" + val
    year, month, day = int(val[0:4]), int(val[4:6]), int(val[6:8])
    if year < 1800 or month < 1 or month > 12:
        return False
    if month in (1, 3, 5, 7, 8, 10, 12):
        if day < 1 or day > 31:
            return False
    elif month in (4, 6, 9, 11):
        if day < 1 or day > 30:
            return False
    elif not year % 4 and not (not year % 100 and year % 400):
        if day < 1 or day > 29:
            return False
    elif day < 1 or day > 28:
        return False
    if len(val) == 12 and not _valid_time(val[8:12]):
        return False
    return True


def _valid_time(val: str) -> bool:
    m = _NON_DIGIT.search(val)
    if m and m.group(0):
        return False
    if val[0:2] > "23" or val[2:4] > "59":
        return False
    if len(val) > 4:
        if len(val) < 6:
            return False
        if val[4:6] > "59":
            return False
        if len(val) > 8:
            return False
    return True


def _valid_type(val: str, data_type: str | None, e5: bool) -> bool:
    """pyx12's ``IsValidDataType`` (charset E)."""
    if not data_type:
        return True
    if data_type[0] == "N":
        m = _REC_N.search(val)
        return bool(m) and m.group(0) == val
    if data_type == "R":
        m = _REC_R.search(val)
        return bool(m) and m.group(0) == val
    if data_type in ("ID", "AN"):
        m = (_BAD_E5 if e5 else _BAD_E).search(val)
        return not (m and m.group(0))
    if data_type == "RD8":
        if "-" in val:
            start, end = val.split("-")  # more than one '-': ValueError, as in pyx12
            return _valid_type(start, "D8", False) and _valid_type(end, "D8", False)
        return False
    if data_type in ("DT", "D8", "D6"):
        return _valid_date(data_type, val)
    if data_type == "TM":
        return _valid_time(val)
    if data_type == "B":
        return True
    return False


# An element error: (code, message, value, refdes, node); node None = segment-level ("8")
def _ele_errors(n: EleNode, comps: list[str] | None, type_list: list | None, e5: bool) -> list:
    if comps is not None and len(comps) > 1:
        return [("6", f'Data element "{n.name}" ({n.refdes}) is an invalid composite', _fmt(":".join(comps)), n.refdes, n)]
    val = comps[0] if comps is not None else ""
    if val == "":
        if n.usage in ("N", "S"):
            return []
        if n.usage == "R" and (n.seq != 1 or n.parent_composite is None or n.composite_usage == "R"):
            return [("1", f'Mandatory data element "{n.name}" ({n.refdes}) is missing', None, n.refdes, n)]
        return []
    if n.usage == "N":
        return [("10", f'Data element "{n.name}" ({n.refdes}) is marked as Not Used', None, n.refdes, n)]
    if n.data_type is None and n.min_len == -1:
        raise Unsupported(f"data element {n.data_ele} is not defined")
    if not type_list and val in n.good:
        return _NONE
    # fast path: a value that passes every check
    dt = n.fast_type
    if not type_list and val[-1] != " ":
        ln = len(val.replace("-", "").replace(".", "")) if n.numeric else len(val)
        if n.min_len <= ln <= n.max_len and (not n.codes and n.external is None or val in n.codes):
            if n.textual:
                ok = _BAD_E5.search(val) is None if e5 else _BAD_E.search(val) is None
            elif dt[:1] == "N":
                ok = _FULL_N.fullmatch(val) is not None
            elif dt == "R":
                ok = _FULL_R.fullmatch(val) is not None
            else:
                ok = False
            if ok and (n.regex is None or n.regex.search(val)):
                if _USED["values"] < _GOOD_MAX and len(val) <= _KEY_MAX:
                    _USED["values"] += 1
                    n.good.add(val)
                return _NONE
    return _slow(n, val, type_list, e5)


def _slow(n: EleNode, val: str, type_list: list | None, e5: bool) -> list:
    errors = []
    dt = n.data_type
    measured = val.replace("-", "").replace(".", "") if dt is not None and (dt == "R" or dt[0] == "N") else val
    ln = len(measured)
    if ln < n.min_len:
        errors.append(("4", f'Data element "{n.name}" ({n.refdes}) is too short: len("{val}") = {ln} < {n.min_len} (min_len)', val, n.refdes, n))
    if ln > n.max_len:
        errors.append(("5", f'Data element "{n.name}" ({n.refdes}) is too long: len("{val}") = {ln} > {n.max_len} (max_len)', val, n.refdes, n))
    for ch, label in _CONTROL:
        if ch in val:
            bad = f"<{label}>"
            errors.append(("6", f'Data element "{n.name}" ({n.refdes}), contains an invalid control character({bad})', bad, n.refdes, n))
            return errors
    if dt in ("AN", "ID") and val[-1] == " " and not len(val.rstrip()) < n.min_len:
        errors.append(("6", f'Data element "{n.name}" ({n.refdes}) has unnecessary trailing spaces. ({val})', val, n.refdes, n))
    if n.codes or n.external is not None:
        ok = val in n.codes
        if not ok and n.external is not None:
            if n.ext_set is None:
                raise Unsupported(f"external code list {n.external} is not defined")
            ok = val in n.ext_set
        if not ok:
            errors.append(("7", f"({val}) is not a valid code for {n.name} ({n.refdes})", val, n.refdes, n))
    if not _valid_type(val, dt, e5):
        if dt in ("RD8", "DT", "D8", "D6"):
            errors.append(("8", f'Data element "{n.name}" ({n.refdes}) contains an invalid date ({val})', val, n.refdes, n))
        elif dt == "TM":
            errors.append(("9", f'Data element "{n.name}" ({n.refdes}) contains an invalid time ({val})', val, n.refdes, n))
        else:
            errors.append(("6", f'Data element "{n.name}" ({n.refdes}) is type {dt}, contains an invalid character({val})', val, n.refdes, n))
    if type_list:
        valid = False
        for t in type_list:
            if t is not None:
                valid |= _valid_type(val, t, False)
        if not valid:
            if "TM" in type_list:
                errors.append(("9", f'Data element "{n.name}" ({n.refdes}) contains an invalid time ({val})', val, n.refdes, n))
            elif any(t in type_list for t in ("RD8", "DT", "D8", "D6")):
                errors.append(("8", f'Data element "{n.name}" ({n.refdes}) contains an invalid date ({val})', val, n.refdes, n))
    if n.regex is not None and not n.regex.search(val):
        errors.append(("7", f'Data element "{n.name}" with a value of ({val}) failed to match the regular expression "{n.res}"', val, n.refdes, n))
    return errors


def _comp_errors(c: CompNode, comps: list[str] | None, e5: bool) -> list:
    empty = comps is None or all(x == "" for x in comps)
    if empty and c.usage in ("N", "S"):
        return []
    if c.usage == "R" and empty:
        return [("1", f'Mandatory composite "{c.name}" ({c.refdes}) is missing', None, c.refdes, None)]
    if comps is None:
        raise Unsupported("composite with no data and an unknown usage")
    if c.usage == "N" and not empty:
        return [("5", f'Composite "{c.name}" ({c.refdes}) is marked as Not Used', None, c.refdes, None)]
    errors = []
    cc = len(c.children)
    if len(comps) > cc:
        errors.append(("3", f'Too many sub-elements in composite "{c.name}" ({c.refdes})', None, c.refdes, None))
    for i in range(min(len(comps), cc)):
        errors += _ele_errors(c.children[i], [comps[i]], None, e5)
    for i in range(min(len(comps), cc), cc):
        errors += _ele_errors(c.children[i], None, None, e5)
    return errors


def _split(value: str, isa: bool) -> list[str]:
    return [value] if isa else value.split(":")


def _seg_errors(node: SegNode, seg: Seg, e5: bool, text: str) -> list:
    """pyx12's ``segment_if.is_valid_errors`` with :mod:`.pyx12run`'s repair of its crash on a
    composite with too many components; a pure function of the segment's text, so remembered per
    node (bounded)."""
    cache = node.cache
    found = cache.get(text)
    if found is not None:
        return found
    fast = node.fast
    if fast is None:
        fast = node.fast = _generate(node) or _NO_FAST
    if fast is not _NO_FAST and not seg.isa and fast(seg.els):
        found = _NONE
    else:
        found = _seg_errors_uncached(node, seg, e5) or _NONE
    if _USED["segments"] < _CACHE_MAX and len(text) <= _TEXT_MAX:
        _USED["segments"] += 1
        cache[text] = found
    return found


def _seg_errors_uncached(node: SegNode, seg: Seg, e5: bool) -> list:
    if node.elements is None:
        raise Unsupported(f"segment {node.id}: element sequence pyx12 cannot index")
    if node.has_composite:
        for i, child in enumerate(node.elements[: len(seg.els)]):
            if child.is_composite and child.usage != "N" and len(_split(seg.els[i], seg.isa)) > len(child.children):
                return _seg_errors_repaired(node, seg, e5)
    return _seg_errors_plain(node, seg, e5)


def _seg_errors_plain(node: SegNode, seg: Seg, e5: bool) -> list:
    errors = []
    els = seg.els
    cc = len(node.elements)
    n = len(els)
    isa = seg.isa
    if n > cc:
        ref = "%02i" % (cc + 1)
        errors.append(("3", f'Too many elements in segment "{node.name}" ({seg.id}). Has {n}, should have {cc}',
                       seg.get_value(cc + 1), ref, None))
    dtype: list = []
    type_list: list = []
    sid = seg.id
    for i in range(min(n, cc)):
        child = node.elements[i]
        raw = els[i]
        if child.is_composite:
            errors += _comp_errors(child, _split(raw, isa), e5)
            continue
        if i == 1 and sid == "DTP":
            v = _fmt(raw)
            if v in ("RD8", "D8", "D6", "DT", "TM"):
                dtype = [v]
        if child.data_ele == "1250":
            type_list.extend(child.code_list)
        comps = [raw] if isa or ":" not in raw else raw.split(":")
        if i == 2 and sid == "DTP":
            errors += _ele_errors(child, comps, dtype, e5)
        elif child.data_ele == "1251" and type_list:
            errors += _ele_errors(child, comps, type_list, e5)
        else:
            errors += _ele_errors(child, comps, None, e5)
    for i in range(min(n, cc), cc):
        child = node.elements[i]
        if child.is_composite:
            errors += _comp_errors(child, None, e5)
        else:
            errors += _ele_errors(child, None, None, e5)
    for syn in node.syntax:
        ok, text = _syntax(seg, syn)
        if not ok:
            errors.append(("10" if syn[0] == "E" else "2", text, None, syn[1], None))
    return errors


def _seg_errors_repaired(node: SegNode, seg: Seg, e5: bool) -> list:
    extra = []
    texts = []
    for i in range(len(seg.els)):
        value = seg.get_value(i + 1) or ""
        child = node.elements[i] if i < len(node.elements) else None
        if child is not None and child.is_composite:
            comps = value.split(":")
            if len(comps) > len(child.children):
                extra.append(("%02d" % (i + 1), child, value))
                value = ":".join(comps[: len(child.children)])
        texts.append(value)
    fixed = Seg([seg.id, *texts])
    errors = _seg_errors_plain(node, fixed, e5)
    for ref, child, value in extra:
        errors.append(("3", f'Too many sub-elements in composite "{child.name}" ({seg.id}{ref})', value, ref, None))
    return errors


# ------------------------------------------------------------------------------------------
# Generated code: per map segment, a check that a segment is certainly error-free
def _value_check(n: EleNode, var: str, env: dict, e5: bool) -> list[str] | None:
    """Source lines that ``return False`` unless the non-empty value ``var`` passes every check
    of element ``n`` (None: no fast check; the exact path decides)."""
    k = len(env)
    if n.codes or n.external is not None:
        pool = set(n.codes) | (set(n.ext_set) if n.external is not None and n.ext_set is not None else set())
        if n.external is not None and n.ext_set is None:
            return None
        ok = {c for c in pool if c and not _slow(n, c, None, e5)}
        env[f"OK{k}"] = frozenset(ok)
        return [f"if {var} not in OK{k}: return False"]
    dt = n.data_type
    lines = []
    if n.numeric:
        lines.append(f"ln = len({var}.replace('-', '').replace('.', ''))")
    else:
        lines.append(f"ln = len({var})")
    lines.append(f"if ln < {n.min_len} or ln > {n.max_len}: return False")
    if dt in ("AN", "ID"):
        env["BAD"] = _BAD_E5 if e5 else _BAD_E
        lines.append(f"if {var}[-1] == ' ' or BAD.search({var}) is not None: return False")
    elif dt and dt[0] == "N":
        env["FULL_N"] = _FULL_N
        lines.append(f"if FULL_N.fullmatch({var}) is None: return False")
    elif dt == "R":
        env["FULL_R"] = _FULL_R
        lines.append(f"if FULL_R.fullmatch({var}) is None: return False")
    elif dt in ("DT", "D8", "D6", "TM"):
        env["_valid_type"] = _valid_type
        lines.append(f"if not _valid_type({var}, {dt!r}, {e5!r}): return False")
    else:
        return None
    if n.regex is not None:
        env[f"RE{k}"] = n.regex
        lines.append(f"if RE{k}.search({var}) is None: return False")
    return lines


def _empty_is_error(n: EleNode) -> bool:
    return n.usage == "R" and (n.seq != 1 or n.parent_composite is None or n.composite_usage == "R")


def _generate(node: SegNode) -> Any:
    """Compile ``node``'s checks into one function ``ok(els) -> bool`` (True: no error at all), or
    None where the exact path must always run (ISA, DTP and date-qualified elements)."""
    els = node.elements
    if els is None or node.id in ("ISA", "DTP") or any(
            (c.data_ele in ("1250", "1251")) for c in els if not c.is_composite):
        return None
    env: dict = {}
    src = ["def ok(els):", " n = len(els)", f" if n > {len(els)}: return False"]
    for i, child in enumerate(els):
        body: list[str] = []
        if child.is_composite:
            cc = len(child.children)
            if child.usage == "N":
                body += ["if v.strip(':'): return False"]
            else:
                body += ["c = v.split(':')", f"if len(c) > {cc}: return False", "if not v.strip(':'):"]
                body += [" return False" if child.usage == "R" else " pass", "else:"]
                for j, sub in enumerate(child.children):
                    inner = [f"if len(c) > {j} and c[{j}]:"]
                    if sub.usage == "N":
                        inner += [" return False"]
                    else:
                        checks = _value_check(sub, f"c[{j}]", env, node.e5)
                        if checks is None:
                            return None
                        inner += [" " + line for line in checks]
                    if _empty_is_error(sub):
                        inner += ["else:", " return False"]
                    body += [" " + line for line in inner]
            missing = ["return False"] if child.usage == "R" else []
        else:
            body += ["if ':' in v: return False", "if v:"]
            if child.usage == "N":
                body += [" return False"]
            else:
                checks = _value_check(child, "v", env, node.e5)
                if checks is None:
                    return None
                body += [" " + line for line in checks]
            if _empty_is_error(child):
                body += ["else:", " return False"]
            missing = ["return False"] if _empty_is_error(child) else []
        src.append(f" if n > {i}:")
        src.append(f"  v = els[{i}]")
        src += ["  " + line for line in body]
        if missing:
            src.append(" else:")
            src += ["  " + line for line in missing]
    for syn in node.syntax:
        code, idx = syn[0], [int(x) for x in syn[1:]]
        if len(syn) < 3 or code not in "PREC L":
            return None
        pres = [f"(n >= {x} and els[{x - 1}].strip(':') != '')" for x in idx]
        if code == "P":
            src.append(f" k = {' + '.join(pres)}")
            src.append(f" if k != 0 and k != {len(idx)}: return False")
        elif code == "R":
            src.append(f" if not ({' or '.join(pres)}): return False")
        elif code == "E":
            src.append(f" if {' + '.join(pres)} > 1: return False")
        elif code == "C":
            src.append(f" if {pres[0]} and {' + '.join(pres[1:])} != {len(idx) - 1}: return False")
        elif code == "L":
            src.append(f" if {pres[0]} and not ({' or '.join(pres[1:])}): return False")
    src.append(" return True")
    exec("\n".join(src), env)  # noqa: S102 - source built above from the map, no input data
    return env["ok"]


def _syntax_ids(seg_id: str, idx: list[int]) -> str:
    out = f"{seg_id}{idx[0]:02d}"
    for i in range(len(idx) - 1):
        out += (" or " if i == len(idx) - 2 else ", ") + f"{seg_id}{idx[i + 1]:02d}"
    return out


def _syntax(seg: Seg, syn: list) -> tuple[bool, str | None]:
    code = syn[0]
    idx = [int(s) for s in syn[1:]]
    label = str(code) + "".join(f"{int(i):02d}" for i in syn[1:])
    if len(syn) < 3:
        return False, f"Syntax string must have at least two comparators {label}"
    n = len(seg.els)

    def present(s: int) -> bool:
        return n >= s and seg.get_value(s) != ""

    if code == "P":
        count = sum(1 for s in idx if present(s))
        if count != 0 and count != len(idx):
            return False, f"Syntax Error ({label}): If any of {_syntax_ids(seg.id, idx)} is present, then all are required"
        return True, None
    if code == "R":
        if not any(present(s) for s in idx):
            return False, f"Syntax Error ({label}): At least one element is required"
        return True, None
    if code == "E":
        if sum(1 for s in idx if present(s)) > 1:
            return False, f"Syntax Error ({label}): At most one of {_syntax_ids(seg.id, idx)} may be present"
        return True, None
    if code == "C":
        if n >= idx[0] and seg.get_value(idx[0]) != "":
            count = sum(1 for s in idx[1:] if present(s))
            if count != len(idx) - 1:
                verb = "are" if len(idx[1:]) > 1 else "is"
                return False, (f"Syntax Error ({label}): If {seg.id}{idx[0]:02d} is present, then "
                               f"{_syntax_ids(seg.id, idx[1:])} {verb} required")
        return True, None
    if code == "L":
        if n > idx[0] - 1 and seg.get_value(idx[0]) != "":
            if not any(present(s) for s in idx[1:]):
                return False, (f"Syntax Error ({label}): If {seg.id}{idx[0]:02d} is present, then at least one of "
                               f"{_syntax_ids(seg.id, idx[1:])} is required")
        return True, None
    return False, f"Syntax Type {label} Not Found"


# ------------------------------------------------------------------------------------------
# The walker (pyx12.map_walker.walk_tree)
class _Walker:
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
            self._register(path)
        return n

    def _register(self, path: str) -> None:
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
        if places == _FIRST:  # most segments: the qualifier is element 01 (raw: a finer key, never a wrong one)
            els = seg.els
            key = (node, sid, els[0] if els else None)
        else:
            els = seg.els
            n = len(els)
            key = (node, sid, *[els[i - 1] if i <= n else None for i, _ in places])
        found = self.programs.get(key)
        if found is None:
            found = self._search(node, seg)
            if all(v is None or len(v) <= _KEY_MAX for v in key[2:]):  # long values: not remembered
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
                if kind == _SEG_FOUND:
                    path = child.path
                    n = counts.get(path, 0) + 1
                    counts[path] = n
                    if n == 1:
                        self._register(path)
                    self.missing = []
                    if n > child.max_repeat:
                        self.pending = [("5", f"Segment {sid} exceeded max count.  Found {n}, should have {child.max_repeat}",
                                         line, child, sid)]
                        return result, self.pending
                    self.pending = _NONE
                    return result, _NONE
                # _LOOP_ENTER of a loop used R or S
                self.missing = []
                self.pending = []
                self._check_loop_usage(child, seg, line)
                first = last[2]
                path = first.path
                n = counts.get(path, 0) + 1
                counts[path] = n
                if n == 1:
                    self._register(path)
                return result, self.pending
        self.missing = missing = []
        self.pending = pending = []
        for op in ops:
            kind = op[0]
            if kind == _SEG_FOUND:
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
                seg_str = seg.format_hl() if sid == "HL" else f"{sid}*{seg.get_value(1)}"
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
                if child.id == sid and _match(child, seg):
                    if node.kind == "loop" and self._is_loop_match(node, seg, ops):
                        return (self._goto(node, seg, ops),)
                    ops.append((_SEG_FOUND, child))
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
        if first.id == seg.id and _match(first, seg):
            return True
        if loop.usage == "R":
            ops.append((_MISS_LOOP, loop, first))
        return False

    def _goto(self, loop: Loop, seg: Seg, ops: list) -> Any:
        first = loop.first_seg
        if first is not None and first.id == seg.id and _match(first, seg):
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


_MISS_SEG, _SEG_FOUND, _LOOP_ENTER, _MISS_LOOP, _NOT_FOUND = range(5)
_FIRST = ((1, None),)
_NONE: tuple = ()  # no pending errors (shared, never appended to)


def _program(ops: list | tuple, start: Any, result: Any) -> tuple:
    """(operations, node found, checks, last step) for :meth:`_Walker.walk`.

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
    if ops and ops[-1][0] in (_SEG_FOUND, _LOOP_ENTER) and ops[-1][1].usage in ("R", "S") \
            and all(op[0] in (_MISS_SEG, _MISS_LOOP) for op in ops[:-1]):
        last = ops[-1]
        checks = tuple(op[1].path for op in ops[:-1])
    return ops, result, checks, last


@lru_cache(maxsize=8192)
def _parent_path(path: str) -> str:
    return path.rpartition("/")[0]


def _qualifier_positions(*roots: Root) -> dict[str, tuple]:
    """For each segment id, the element places that decide which map node it is."""
    out: dict[str, set] = {}
    for root in roots:
        for node in root.index.values():
            if isinstance(node, SegNode):
                places = out.setdefault(node.id, set())
                if node.qual is not None:
                    places.add((node.qual_idx, node.qual_sub))
    return {k: tuple(sorted(v, key=lambda p: (p[0], p[1] or 0))) for k, v in out.items()}


# ------------------------------------------------------------------------------------------
# The reader's own checks (pyx12.x12file.X12Reader) and the recording error handler
def _int(value: str | None) -> int | None:
    try:
        return int(value)  # type: ignore[arg-type]
    except (ValueError, TypeError):
        return None


class _Rec:
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


def run_compiled(lines: Any, sink: Any = None) -> list[RawError]:
    """Validate the normalised segments ``lines`` (an iterable of segment texts, standard
    delimiters, no terminator) as pyx12's ``x12n_document`` would; return its errors, or hand each
    to ``sink`` as it is found (then nothing is kept and the list returned is empty).
    Raises :class:`Unsupported` when pyx12 must be run instead (what was handed to ``sink`` is
    then to be dropped)."""
    try:
        return _run(lines, sink)
    except Unsupported:
        raise
    except Exception as exc:  # noqa: BLE001 - anything unexpected: pyx12 decides
        raise Unsupported(f"{type(exc).__name__}: {exc}") from exc


def _clear_caches(*roots: Root) -> None:
    for root in roots:
        for node in root.index.values():
            if isinstance(node, SegNode):
                node.cache.clear()
                for child in node.elements or ():
                    for e in (child.children if child.is_composite else (child,)):
                        e.good.clear()
    _USED["segments"] = _USED["values"] = 0


def _run(lines: Any, sink: Any = None) -> list[RawError]:
    control, m837 = compiled_maps()
    if _USED["segments"] >= _CACHE_MAX or _USED["values"] >= _GOOD_MAX:
        _clear_caches(control, m837)
    rec = _Rec(sink)
    walker = _Walker(_QUAL_POS or _init_qual_pos(control, m837))
    isa_node = control.index["/ISA_LOOP/ISA"]
    gs_node = m837.index["/ISA_LOOP/GS_LOOP/GS"]
    node: Any = isa_node
    reader_errors: list[tuple] = []  # X12Reader.err_list: popped only where x12n_document pops it
    loops: list[tuple[str, str | None]] = []
    isa_ids: list = []
    gs_ids: list = []
    st_ids: list = []
    gs_count = st_count = hl_count = seg_count = lx_count = 0
    hl_stack: list[int] = []
    check_lx = False
    icvn = None
    first = True
    map_loaded = False

    def handle() -> None:
        nonlocal reader_errors
        errs, reader_errors = reader_errors, []
        for kind, code, text, value, src_line in errs:
            if kind == "seg":
                rec.seg_error(code, text, value, src_line)
            else:
                rec.env(kind, code, text)

    valid_ids: set[str] = set()
    plain_ids: set[str] = set()  # valid ids the reader has nothing special to do for
    walk = walker.walk
    programs, counts, register = walker.programs, walker.counts, walker._register
    first_ids = {k for k, v in walker.qual_pos.items() if v == _FIRST}
    for raw in lines:
        # ---- the common case, inlined: an ordinary segment (same steps as below)
        if raw[:1] not in _ODD_START and raw[-1] != "*" and not first:
            parts = raw.split("*")
            sid = parts[0]
            if sid in plain_ids and raw[len(sid):].strip("*:"):
                seg_count += 1
                line = rec.line = rec.line + 1
                seg = Seg(parts)
                orig_node = node
                # the walker's commonest program, inlined (see _Walker.walk): required things
                # passed, all present, then the segment found within its repeat count
                found = programs.get((node, sid, parts[1] if len(parts) > 1 else None)) if sid in first_ids else None
                last = found[3] if found is not None else None
                if last is not None and last[0] == _SEG_FOUND:
                    for path in found[2]:
                        if path not in counts:
                            break
                    else:
                        child = last[1]
                        path = child.path
                        n = counts.get(path, 0) + 1
                        if n <= child.max_repeat:
                            counts[path] = n
                            if n == 1:
                                register(path)
                            node = found[1]
                            last = True
                if last is not True:
                    node, pending = walk(node, seg, line)
                    for code, text, src_line, map_node, data_id in pending:
                        if map_node is not None:
                            rec.add_seg(map_node, data_id, src_line)
                        rec.seg_error(code, text, None, src_line)
                    if node is None:
                        node = orig_node
                        continue
                rec.seg_map = node
                rec.seg_line = line
                rec.seg_data_id = rec.cur_seg_id = sid
                rec.seg_added = False
                if reader_errors:
                    handle()
                if node.kind != "seg":
                    raise Unsupported("matched a node that is not a segment")
                errs = node.cache.get(raw)
                if errs is None:
                    errs = _seg_errors(node, seg, node.e5, raw)
                for code, text, value, refdes, enode in errs:
                    if enode is None:
                        rec.seg_error("8", text, value)
                    else:
                        rec.ele_error(enode, code, text, value, refdes)
                continue
        line_text = raw.lstrip("\n\r") if raw[:1] in ("\n", "\r") else raw
        if line_text == "":
            break
        if first:
            first = False
            if not line_text.startswith("ISA") or len(line_text) != 105 or line_text[84 + 0:89] != "00501":
                raise Unsupported("not a 5010 interchange pyx12 reads as such")
        # ---- X12Reader.__iter__ and _parse_segment
        cur = rec.line
        if line_text[0] == " ":
            reader_errors.append(("seg", "1", "Segment contains a leading space", None, cur + 1))
            line_text = line_text.lstrip()
        if line_text[-1] == "*":
            reader_errors.append(("seg", "SEG1", "Segment contains trailing element terminators", None, cur + 1))
        seg = Seg(line_text.split("*"))
        sid = seg.id
        if not line_text[len(sid):].strip("*" if sid == "ISA" else "*:"):  # Segment.is_empty()
            reader_errors.append(("seg", "8", f'Segment "{_seg_str(seg)}" is empty', None, cur + 1))
        if sid not in valid_ids:
            if not sid or len(sid) < 2 or len(sid) > 3 or not _SEG_ID.search(sid):
                reader_errors.append(("seg", "1", f'Segment identifier "{sid}" is invalid', None, cur + 1))
            else:
                valid_ids.add(sid)
                if sid not in _READER_SPECIAL and sid not in ENVELOPE:
                    plain_ids.add(sid)
        if sid not in _READER_SPECIAL:
            pass
        elif sid == "ISA":
            if len(seg.els) != 16:
                raise Unsupported("ISA without 16 elements")
            icn = seg.get_value(13)
            if icn in isa_ids:
                reader_errors.append(("isa", "025", f"ISA Interchange Control Number {icn} not unique within file", None, None))
            loops.append(("ISA", icn))
            isa_ids.append(icn)
            gs_count = 0
            gs_ids = []
        elif sid == "GS":
            gcn = seg.get_value(6)
            if gcn in gs_ids:
                reader_errors.append(("gs", "6", f"GS Interchange Control Number {gcn} not unique within file", None, None))
            gs_count += 1
            gs_ids.append(gcn)
            loops.append(("GS", gcn))
            st_count = 0
            st_ids = []
        elif sid == "ST":
            hl_stack = []
            tcn = seg.get_value(2)
            if tcn in st_ids:
                reader_errors.append(("st", "23", f"ST Interchange Control Number {tcn} not unique within file", None, None))
            st_count += 1
            st_ids.append(tcn)
            loops.append(("ST", tcn))
            seg_count = 1
            hl_count = 0
        elif sid == "HL":
            hl_count += 1
            hl01 = seg.get_value(1)
            if hl_count != _int(hl01):
                reader_errors.append(("seg", "HL1", f"My HL count {hl_count:d} does not match your HL count {hl01}", None, None))
            if seg.get_value(2) != "":
                parent = _int(seg.get_value(2))
                if parent not in hl_stack:
                    reader_errors.append(("seg", "HL2", f"HL parent ({parent}) is not a valid parent", None, None))
                while hl_stack and parent != hl_stack[-1]:
                    del hl_stack[-1]
            hl_stack.append(hl_count)
        elif check_lx and sid == "CLM":
            lx_count = 0
        elif check_lx and sid == "LX":
            lx_count += 1
            lx01 = seg.get_value(1)
            if lx01 != f"{lx_count:d}":
                reader_errors.append(("seg", "LX", f"Your 2400/LX01 Service Line Number {lx01} does not match my count of {lx_count:d}", None, None))
        rec.line = cur + 1
        if sid not in ENVELOPE:
            seg_count += 1
        elif sid == "IEA":
            if loops[-1][0] != "ISA":
                reader_errors.append(("isa", "024", f"Unterminated Loop {loops[-1][0]}", None, None))
                del loops[-1]
            if loops[-1][1] != seg.get_value(2):
                reader_errors.append(("isa", "001", f"IEA id={seg.get_value(2)} does not match ISA id={loops[-1][1]}", None, None))
            if _int(seg.get_value(1)) != gs_count:
                reader_errors.append(("isa", "021", f"IEA count for IEA02={seg.get_value(2)} is wrong", None, None))
            del loops[-1]
        elif sid == "GE":
            if loops[-1][0] != "GS":
                reader_errors.append(("gs", "3", f"Unterminated segment {loops[-1][1]}", None, None))
                del loops[-1]
            if loops[-1][1] != seg.get_value(2):
                reader_errors.append(("gs", "4", f"GE id={seg.get_value(2)} does not match GS id={loops[-1][1]}", None, None))
            if _int(seg.get_value(1)) != st_count:
                reader_errors.append(("gs", "5", f"GE count of {seg.get_value(1)} for GE02={seg.get_value(2)} is wrong. I count {st_count}", None, None))
            del loops[-1]
        elif sid == "SE":
            se02 = seg.get_value(2)
            if loops[-1][0] != "ST" or loops[-1][1] != se02:
                reader_errors.append(("st", "3", f"SE id={se02} does not match ST id={loops[-1][1]}", None, None))
            if _int(seg.get_value(1)) != seg_count + 1:
                reader_errors.append(("st", "4", f"SE count of {seg.get_value(1)} for SE02={se02} is wrong. I count {seg_count + 1}", None, None))
            del loops[-1]
        line = rec.line
        # ---- x12n_document
        orig_node = node
        if sid not in ENVELOPE:
            node, pending = walker.walk(node, seg, line)
            for code, text, src_line, map_node, data_id in pending:
                if map_node is not None:
                    rec.add_seg(map_node, data_id, src_line)
                rec.seg_error(code, text, None, src_line)
            if node is None:
                node = orig_node
                continue
            rec.add_seg(node, sid, line)
            if reader_errors:
                handle()
            if node.kind != "seg":
                raise Unsupported("matched a node that is not a segment")
            for code, text, value, refdes, enode in _seg_errors(node, seg, node.e5, line_text):
                if enode is None:
                    rec.seg_error("8", text, value)
                else:
                    rec.ele_error(enode, code, text, value, refdes)
            continue
        if sid == "ISA":
            node = isa_node
            walker.force("/ISA_LOOP", "/ISA_LOOP/ISA")
        elif sid == "GS":
            node = control.index["/ISA_LOOP/GS_LOOP/GS"]
            walker.force("/ISA_LOOP/GS_LOOP", "/ISA_LOOP/GS_LOOP/GS")
        else:
            node, pending = walker.walk(node, seg, line)
            for code, text, src_line, map_node, data_id in pending:
                if map_node is not None:
                    rec.add_seg(map_node, data_id, src_line)
                rec.seg_error(code, text, None, src_line)
        if node is None:
            node = orig_node
            continue
        if sid == "ISA":
            rec.open_loop("isa")
            icvn = seg.get_value(12)
            handle()
        elif sid == "IEA":
            handle()
            rec.close_loop("isa")
        elif sid == "GS":
            if (icvn, seg.get_value(8), seg.get_value(1)) != ("00501", "005010X222A1", "HC"):
                raise Unsupported("a functional group other than 837P 005010X222A1")
            if not map_loaded:
                map_loaded = True
                check_lx = m837.id == "837"
            node = gs_node
            rec.open_loop("gs")
            handle()
        elif sid == "GE":
            handle()
            rec.close_loop("gs")
            try:  # pyx12's err_gs.close: int(GE01); a crash there ends its validation
                int(seg.get_value(1))  # type: ignore[arg-type]
            except (TypeError, ValueError):
                raise Unsupported("GE01 is not a number (pyx12 stops there)") from None
        elif sid == "ST":
            rec.open_loop("st")
            handle()
        elif sid == "SE":
            handle()
            rec.close_loop("st")
        else:
            rec.add_seg(node, sid, line)
            handle()
        if node.kind != "seg":
            raise Unsupported("matched a node that is not a segment")
        for code, text, value, refdes, enode in _seg_errors(node, seg, node.e5, line_text):
            if enode is None:
                rec.seg_error("8", text, value)
            else:
                rec.ele_error(enode, code, text, value, refdes)
    # X12Reader.cleanup
    for kind, cid in loops:
        if kind == "ST":
            reader_errors.append(("st", "2", f'Mandatory segment "Transaction Set Trailer" (SE={cid}) missing', None, None))
        elif kind == "GS":
            reader_errors.append(("gs", "3", f'Mandatory segment "Functional Group Trailer" (GE={cid}) missing', None, None))
        elif kind == "ISA":
            reader_errors.append(("isa", "023", f'Mandatory segment "Interchange Control Trailer" (IEA={cid}) missing', None, None))
    handle()
    return rec.errors


def _seg_str(seg: Seg) -> str:
    """str(pyx12 Segment): its format with the standard terminators."""
    comps = [seg._fmt_el(e) for e in seg.els]
    i = 0
    for i in range(len(comps) - 1, -1, -1):
        if comps[i] != "":
            break
    return f"{seg.id}*{'*'.join(comps[: i + 1])}~"
