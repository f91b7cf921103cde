"""Control numbers for the files the scrubber writes (ISA13, GS06, ST02 of its acknowledgments,
and of the clean and rejected 837s with ``--control-numbers new``).

A source of numbers is anything with ``next(name) -> int`` (``name``: "ISA13", "GS06", "ST02").
:class:`RunNumbers` counts within one run, from 1 (deterministic: the same input gives the same
files); the state folder's counter (:mod:`scrubber.run.counters`) keeps counting across runs.
"""

from __future__ import annotations

LIMITS = {"ISA13": 999_999_999, "GS06": 999_999_999, "ST02": 999_999_999}


class RunNumbers:
    """Numbers counted in this run only, each name from 1."""

    def __init__(self) -> None:
        self.last: dict[str, int] = {}

    def next(self, name: str) -> int:
        value = self.last.get(name, 0) % LIMITS.get(name, 999_999_999) + 1
        self.last[name] = value
        return value


def isa13(n: int) -> str:
    return f"{n:09d}"


def st02(n: int) -> str:
    return f"{n:04d}"
