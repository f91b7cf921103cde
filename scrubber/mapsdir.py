"""Where the rule and code-set data (the top-level ``maps/`` folder) lives.

In a source checkout the data sits in ``maps/`` beside the package; an installed package carries
the same folder as ``scrubber/maps`` (see ``[tool.setuptools]`` in pyproject.toml). Only data
lives there, never code.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

_MARKER = "MAPS.md"


@lru_cache(maxsize=1)
def maps_dir() -> Path:
    here = Path(__file__).resolve().parent
    for candidate in (here / "maps", here.parent / "maps"):
        if (candidate / _MARKER).is_file():
            return candidate
    raise FileNotFoundError(
        "the scrubber's data folder (maps/) is missing from this installation; reinstall the package"
    )


def map_path(*parts: str) -> Path:
    """Path of one file under ``maps/``."""
    return maps_dir().joinpath(*parts)
