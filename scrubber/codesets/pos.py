"""CMS Place of Service codes (``maps/pos/place_of_service.tsv``, see ``maps/pos/SOURCE.md``).

Standard library only (plus :mod:`scrubber.mapsdir`).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from scrubber.mapsdir import map_path

TABLE_NAME = "place_of_service.tsv"
_FORMAT = "pos-table 1"


@dataclass(frozen=True, slots=True)
class PlaceOfService:
    code: str
    effective_from: datetime.date | None  # None: in use before the oldest date checked
    name: str


@dataclass(frozen=True)
class PosTable:
    codes: dict[str, PlaceOfService]
    source: str
    as_of: str
    path: Path | None = None
    #: The codes valid on any date (no effective date): the common case, answered without the date.
    always: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "always", frozenset(c for c, e in self.codes.items() if e.effective_from is None))

    def get(self, code: str) -> PlaceOfService | None:
        return self.codes.get(code)

    def __len__(self) -> int:
        return len(self.codes)


def load_pos(path: Path | None = None) -> PosTable:
    """Load the place of service list (default: the shipped one, cached). ``ValueError`` names a bad line."""
    if path is None:
        return _load_default()
    return _load(Path(path))


@lru_cache(maxsize=1)
def _load_default() -> PosTable:
    return _load(map_path("pos", TABLE_NAME))


def _load(path: Path) -> PosTable:
    header: dict[str, str] = {}
    codes: dict[str, PlaceOfService] = {}
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.startswith("#"):
            key, _, value = line[1:].partition(":")
            header.setdefault(key.strip(), value.strip())
            continue
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) != 3 or len(parts[0]) != 2 or not parts[0].isdigit() or parts[0] in codes:
            raise ValueError(f"{path}:{lineno}: malformed place of service line {line[:40]!r}")
        try:
            since = datetime.date.fromisoformat(parts[1]) if parts[1] else None
        except ValueError:
            raise ValueError(f"{path}:{lineno}: bad effective date {parts[1]!r}") from None
        codes[parts[0]] = PlaceOfService(parts[0], since, parts[2])
    if header.get("format") != _FORMAT or not codes:
        raise ValueError(f"{path}: not a place of service table ('# format: {_FORMAT}' header and codes expected)")
    return PosTable(codes, header.get("source", ""), header.get("as_of", ""), path)
