"""pyx12's 837P map compiled into tables: plain slotted nodes with everything the validator needs.

pyx12 ships its maps as XML (``837.5010.X222.A1.xml`` for the 837P transaction set,
``x12.control.00501.xml`` for the envelope, ``dataele.xml`` for the data elements' types and
lengths, ``codes.xml`` for the external code lists). :func:`compiled_maps` reads them with lxml
once per process and turns each map into a tree of nodes:

- :class:`Root` and :class:`Loop`: children in position order (``positions``, for a bisect), the
  first child, the repeat count; :attr:`Root.index` finds any node by its path
  (``/ISA_LOOP/GS_LOOP/ST_LOOP/...``), the paths pyx12 builds;
- :class:`SegNode`: its elements in sequence order, its syntax rules, its qualifier (the element,
  its place and its code set, so that ``REF*G1`` finds its node with one set lookup), and two
  slots filled while validating: ``cache`` (segment text -> errors, see :mod:`.caches`) and
  ``fast`` (the generated check of :mod:`.fastpath`);
- :class:`EleNode` and :class:`CompNode`: an element's data type, lengths, code set, regular
  expression and place (IK401); a composite's components.

:func:`qualifier_positions` tells, per segment id, which element places decide its node (the key
under which :mod:`.machine` remembers its walks). Nothing here reads input data.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib.resources import files as _res_files
from typing import Any

__all__ = ["Unsupported", "Node", "Root", "Loop", "SegNode", "EleNode", "CompNode",
           "compiled_map", "compiled_maps", "qualifier_positions", "MAP_837P", "CONTROL_00501"]

MAXINT = 2147483647
MAP_837P = "837.5010.X222.A1.xml"
CONTROL_00501 = "x12.control.00501.xml"


class Unsupported(Exception):
    """The compiled validator cannot give pyx12's answer for this input: run pyx12."""


class Node:
    """A loop or segment of a map (or its root), with its full path, the id of its enclosing loop
    (``loop_id``) and the key pyx12 compares nodes by (``key``: id and parent id)."""

    __slots__ = ("id", "name", "usage", "parent", "pos", "path", "loop_id", "key", "kind")


class Root(Node):
    """A whole map: its top-level children, its interchange version (``icvn``) and every node by
    its path (``index``)."""

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
    """A loop: its children in position order, its first child and first segment, its repeat."""

    __slots__ = ("children", "positions", "first", "first_seg", "max_repeat")

    def __init__(self) -> None:
        self.kind = "loop"


class SegNode(Node):
    """A map segment: elements, syntax rules, qualifier (``qual``, its place ``qual_idx``/``qual_sub``
    and codes ``match_values``), and the validator's ``cache`` and generated check ``fast``."""

    __slots__ = ("max_repeat", "elements", "syntax", "qual", "match_values", "qual_idx",
                 "qual_sub", "has_composite", "e5", "cache", "fast")

    def __init__(self) -> None:
        self.kind = "seg"


class EleNode:
    """A simple element of a map segment (or a composite's component), its data element's type and
    lengths from ``dataele.xml`` resolved."""

    __slots__ = ("id", "refdes", "name", "usage", "seq", "data_ele", "data_type", "min_len", "max_len",
                 "codes", "code_list", "external", "ext_set", "regex", "res", "parent_composite",
                 "composite_usage", "numeric", "textual", "ele_pos", "fast_type", "is_composite", "good")

    def __init__(self) -> None:
        self.is_composite = False
        self.good: set[str] = set()  # values seen to pass every check (bounded)


class CompNode:
    """A composite element of a map segment, with its components (:class:`EleNode`)."""

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


def _segment(parent: Node, elem: Any, dataele: dict, ext: dict) -> SegNode:
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
    s.fast = None  # generated on first use (fastpath.generate)
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


def _loop(parent: Node, elem: Any, dataele: dict, ext: dict) -> Loop:
    n = Loop()
    _head(n, parent, elem, "repeat")
    _fill(n, elem, dataele, ext)
    return n


def _fill(node: Any, elem: Any, dataele: dict, ext: dict) -> None:
    pos_map: dict[int, list] = {}
    for e in elem.findall("loop"):
        child = _loop(node, e, dataele, ext)
        pos_map.setdefault(child.pos, []).append(child)
    for e in elem.findall("segment"):
        child = _segment(node, e, dataele, ext)
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
    _fill(root, tree, dataele, ext)
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
    """The control (envelope) map and the 837P map, compiled (cached per process)."""
    return compiled_map(CONTROL_00501), compiled_map(MAP_837P)


@lru_cache(maxsize=1)
def qualifier_positions() -> dict[str, tuple]:
    """For each segment id of the two maps, the element places (index, component) that decide
    which map node it is."""
    out: dict[str, set] = {}
    for root in compiled_maps():
        for node in root.index.values():
            if isinstance(node, SegNode):
                places = out.setdefault(node.id, set())
                if node.qual is not None:
                    places.add((node.qual_idx, node.qual_sub))
    return {k: tuple(sorted(v, key=lambda p: (p[0], p[1] or 0))) for k, v in out.items()}

