"""The compiled validator's caches and their budget, bounded for the whole process.

Two caches make a repeated segment cheap (most segments of a large file repeat: ``DTP*472*D8*...``
with a handful of dates, ``SV1`` with a few hundred codes):

- per map segment (:attr:`.tables.SegNode.cache`): a segment's text -> its errors (segment
  errors are a pure function of the text and the node), texts of at most :data:`TEXT_MAX`
  characters, :data:`SEGMENTS_MAX` texts in all;
- per map element (:attr:`.tables.EleNode.good`): values seen to pass every check, of at most
  :data:`KEY_MAX` characters (a 300,000-character element must not be kept 10,000 times),
  :data:`VALUES_MAX` values in all.

:data:`USED` counts what they hold; :func:`clear_full` empties them all at the start of a run when
one is full, so memory stays a few MB at most whatever the input.
"""

from __future__ import annotations

from scrubber.check.structure.tables import Root, SegNode

__all__ = ["SEGMENTS_MAX", "VALUES_MAX", "TEXT_MAX", "KEY_MAX", "USED", "clear_full"]

SEGMENTS_MAX = 10_000
VALUES_MAX = 20_000
TEXT_MAX = 200  # longer segment texts are not remembered
KEY_MAX = 60  # nor longer values (nor walks keyed by longer qualifier values, see machine.py)
USED = {"segments": 0, "values": 0}


def clear_full(*roots: Root) -> None:
    """Empty every cache of the maps ``roots`` if one of the budgets is spent."""
    if USED["segments"] < SEGMENTS_MAX and USED["values"] < VALUES_MAX:
        return
    for root in roots:
        for node in root.index.values():
            if isinstance(node, SegNode):
                node.cache.clear()
                for child in node.elements or ():
                    for e in (child.children if child.is_composite else (child,)):
                        e.good.clear()
    USED["segments"] = USED["values"] = 0
