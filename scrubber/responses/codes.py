"""Short explanations of response codes, from ``maps/x12/ack_codes.toml`` (the project's own
paraphrases; a code without one is shown alone)."""

from __future__ import annotations

import tomllib
from functools import lru_cache

from scrubber.errors import ScrubberError
from scrubber.mapsdir import map_path, on_change

FILE = ("x12", "ack_codes.toml")


@lru_cache(maxsize=1)
def table() -> dict[str, dict[str, str]]:
    path = map_path(*FILE)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ScrubberError(f"{path}: cannot read the response code map ({exc})") from None
    return {k: {str(c): str(t) for c, t in v.items()} for k, v in data.items() if isinstance(v, dict)}


on_change(table.cache_clear)


def text(kind: str, code: str) -> str:
    """The explanation of ``code`` in table ``kind`` (``carc``, ``ik304`` ...), ``""`` if none."""
    return table().get(kind, {}).get(code.strip(), "")


def stc_text(code: str) -> str:
    """``A7:477`` -> "rejected: information not valid; the diagnosis pointer of a service line"."""
    category, _, status = code.partition(":")
    status = status.split(":")[0]
    parts = [p for p in (text("stc_category", category), text("stc_status", status) if status else "") if p]
    return "; ".join(parts)


def cas_text(group: str, reason: str) -> str:
    parts = [p for p in (text("cas_group", group), text("carc", reason)) if p]
    return "; ".join(parts)
