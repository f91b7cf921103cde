"""The acknowledgment sinks for ``scrubber scrub --ack 999 --ack 277ca``."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from pathlib import Path

from scrubber.report.ack277ca import Ack277CA
from scrubber.report.ack999 import Ack999
from scrubber.report.names import ACK277CA, ACK999


def ack_writers(kinds: Iterable[str], out_dir: Path, stem: str, structure, as_of: date) -> list:
    """``NAME.999`` (from the structural pass) and/or ``NAME.277ca.edi`` writers."""
    out = []
    for kind in dict.fromkeys(k.lower() for k in kinds):
        if kind == "999":
            out.append(Ack999(Path(out_dir) / f"{stem}.{ACK999}", structure, as_of))
        elif kind == "277ca":
            out.append(Ack277CA(Path(out_dir) / f"{stem}.{ACK277CA}", as_of))
        else:
            raise ValueError(f"unknown acknowledgment {kind!r}; use 999 or 277ca")
    return out
