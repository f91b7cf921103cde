"""Which values of a segment may identify a person, decided by the segment, not by the position.

A shifted or swapped element (an NM1 of a person without NM102, NM108 and NM109 swapped, DMG02
and DMG03 swapped, an address in N402) puts a name, a member id, a birth date or an address where
a code is expected. So in a segment that can carry a person's data (:func:`personal`: NM1 of a
subscriber, a patient or any individual, or an NM1 whose qualifiers do not say; N3, N4, DMG, PER,
PAT, NTE; REF with a person qualifier, or one whose qualifier is not a code), a value is shown
only when it is one of its element's code values in the 837P map (``NM1*IL*1``, ``MI``, ``D8``),
and never in N3/N4 (addresses) and after DMG01 (birth date, gender). Everything else is hidden
(:func:`hidden_indexes`) or described by its shape only (:func:`shape`: "a 9-character value").

The structural findings (SX008 quotes an invalid code value) never quote a value of such a
segment; ``scrubber explain`` and the HTML report mask what :func:`hidden_indexes` names.
"""

from __future__ import annotations

from functools import lru_cache

__all__ = ["PERSON_SEGMENTS", "PERSON_ENTITIES", "PERSON_REF_QUALIFIERS", "damaged", "element_codes",
           "element_shapes", "hidden_indexes", "personal", "shape"]

#: Segments that can carry a person's data (whoever the map says they belong to).
PERSON_SEGMENTS = frozenset({"NM1", "N3", "N4", "DMG", "REF", "PER", "PAT", "NTE"})
PERSON_ENTITIES = frozenset({"IL", "QC"})  # NM101: insured/subscriber, patient
# REF01 qualifiers whose REF02 identifies a person: SSN, member id, policy number, Medicare
# HICN, patient account number, medical record number, client number, P&C claim number, case number.
PERSON_REF_QUALIFIERS = frozenset({"SY", "1W", "IG", "F6", "EJ", "EA", "23", "Y4", "3H"})
PERSON_LOOPS = frozenset({"2010BA", "2010CA", "2330A"})  # subscriber, patient, other subscriber names
_ALL = frozenset(range(1, 100))
_ALWAYS = {"N3": _ALL, "N4": _ALL, "DMG": _ALL - {1}, "NTE": frozenset({2})}


@lru_cache(maxsize=1)
def element_codes() -> dict[tuple[str, int], frozenset[str]]:
    """(segment id, element index) -> the code values the 837P map allows there (union over the
    map's segments of that id); simple elements of :data:`PERSON_SEGMENTS` only."""
    from scrubber.check.structure.tables import MAP_837P, SegNode, compiled_map

    out: dict[tuple[str, int], set[str]] = {}
    for node in compiled_map(MAP_837P).index.values():
        if isinstance(node, SegNode) and node.id in PERSON_SEGMENTS:
            for i, ele in enumerate(node.elements or (), start=1):
                if not getattr(ele, "is_composite", False) and getattr(ele, "codes", None):
                    out.setdefault((node.id, i), set()).update(ele.codes)
    return {k: frozenset(v) for k, v in out.items()}


def _is_code(sid: str, index: int, value: str) -> bool:
    return value in element_codes().get((sid, index), ())


#: The envelope segments (outside the 837P map), with their number of elements.
_ENVELOPE_SIZES = {"ISA": 16, "IEA": 2, "GS": 8, "GE": 2, "ST": 3, "SE": 2}


@lru_cache(maxsize=1)
def element_shapes() -> tuple[dict[str, int], dict[tuple[str, int], tuple[frozenset[str], int, bool]]]:
    """What the 837P map allows, by segment id (union over the map's segments of that id):
    ``sizes`` (segment id -> its most elements) and ``shapes`` ((segment id, element index) ->
    (its code values, its longest length, used at all)); simple elements only."""
    from scrubber.check.structure.tables import MAP_837P, SegNode, compiled_map

    sizes: dict[str, int] = dict(_ENVELOPE_SIZES)
    codes: dict[tuple[str, int], set[str]] = {}
    longest: dict[tuple[str, int], int] = {}
    used: dict[tuple[str, int], bool] = {}
    for node in compiled_map(MAP_837P).index.values():
        if not isinstance(node, SegNode):
            continue
        elements = node.elements or ()
        sizes[node.id] = max(sizes.get(node.id, 0), len(elements))
        for i, ele in enumerate(elements, start=1):
            key = (node.id, i)
            used[key] = used.get(key, False) or getattr(ele, "usage", "") != "N"
            if getattr(ele, "is_composite", False):
                longest[key] = max(longest.get(key, 0), 1 << 20)  # (components: not judged by length)
                continue
            codes.setdefault(key, set()).update(getattr(ele, "codes", None) or ())
            longest[key] = max(longest.get(key, 0), getattr(ele, "max_len", 0) or 0)
    shapes = {k: (frozenset(codes.get(k, ())), longest.get(k, 0), used[k]) for k in used}
    return sizes, shapes


def damaged(sid: str, elements: list[str]) -> bool:
    """Whether a segment is not what its id says, so that its values may be anyone's: an id the
    837P does not have (a mangled one), more elements than the id allows (two segments run
    together when a terminator was lost), or a value where the map has no element in use, a coded
    element holding something that is not one of its codes, or a value longer than its element
    allows (a shifted or swapped element)."""
    sizes, shapes = element_shapes()
    size = sizes.get(sid)
    if size is None or len(elements) - 1 > size:
        return True
    for i in range(1, len(elements)):
        value = elements[i]
        if not value:
            continue
        shape_ = shapes.get((sid, i))
        if shape_ is None:
            continue  # (an envelope segment: no element shapes kept)
        codes, longest, used = shape_
        if not used or (codes and value not in codes) or (longest and len(value) > longest):
            return True
    return False


def personal(sid: str, elements: list[str], loop: str = "") -> bool:
    """Whether a segment (its id, its elements with ``[0]`` the id, the loop it is in) can carry a
    person's data."""
    if sid not in PERSON_SEGMENTS:
        return damaged(sid, elements)
    if sid == "NM1":
        nm101 = elements[1] if len(elements) > 1 else ""
        nm102 = elements[2] if len(elements) > 2 else ""
        # An organisation says so (NM102 = 2) with a known entity code, outside the person loops.
        return not (nm102 == "2" and _is_code("NM1", 1, nm101) and nm101 not in PERSON_ENTITIES
                    and loop not in PERSON_LOOPS)
    if sid == "REF":
        ref01 = elements[1] if len(elements) > 1 else ""
        return ref01 in PERSON_REF_QUALIFIERS or not _is_code("REF", 1, ref01) or loop in PERSON_LOOPS
    return True


def hidden_indexes(sid: str, elements: list[str], loop: str = "") -> frozenset[int]:
    """The element indexes (1-based) of a segment whose values are never shown: in a segment
    that can carry a person's data, every value that is not one of its element's code values
    (and every N3/N4 element, DMG02 on, NTE02)."""
    if not personal(sid, elements, loop):
        return frozenset()
    hide = set(_ALWAYS.get(sid, ()))
    if sid in PERSON_SEGMENTS:
        for i in range(1, len(elements)):
            value = elements[i]
            if value and i not in hide and not _is_code(sid, i, value):
                hide.add(i)
    else:  # a damaged segment (see damaged()): only the values that are codes where they stand
        shapes = element_shapes()[1]
        for i in range(1, len(elements)):
            value = elements[i]
            if value and value not in shapes.get((sid, i), (frozenset(),))[0]:
                hide.add(i)
    return frozenset(hide)


def shape(value: str | None) -> str:
    """A value described without its content: "an empty value", "a 9-character value"."""
    if not value:
        return "an empty value"
    n = len(value)
    return f"{'an' if str(n)[0] == '8' or n in (11, 18) else 'a'} {n}-character value"
