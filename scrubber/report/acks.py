"""The acknowledgment sinks for ``scrubber scrub --ack 999 --ack 277ca --ack ta1``."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from pathlib import Path

from scrubber.report.ack277ca import Ack277CA
from scrubber.report.ack999 import Ack999, EnvelopeLog
from scrubber.report.controls import RunNumbers
from scrubber.report.names import ACK277CA, ACK999, ACKTA1
from scrubber.report.ta1 import AckTA1

KINDS = ("999", "277ca", "ta1")


def ack_writers(kinds: Iterable[str], out_dir: Path, stem: str, structure, as_of: date, numbers=None) -> list:
    """The envelope log (first), then ``NAME.999`` (from the structural pass), ``NAME.277ca.edi``
    and ``NAME.ta1`` writers, as asked; ``numbers`` gives their control numbers
    (:mod:`scrubber.report.controls`; this run's count when None). With ``999`` and no ``ta1``,
    a TA1 is written only for an interchange that asks for one (ISA14 = 1) or has an envelope error."""
    numbers = numbers if numbers is not None else RunNumbers()
    asked = list(dict.fromkeys(k.lower() for k in kinds))
    for kind in asked:
        if kind not in KINDS:
            raise ValueError(f"unknown acknowledgment {kind!r}; use 999, 277ca or ta1")
    log = EnvelopeLog()
    out: list = [log]
    for kind in asked:
        if kind == "999":
            out.append(Ack999(Path(out_dir) / f"{stem}.{ACK999}", structure, as_of, numbers=numbers, envelopes=log))
        elif kind == "277ca":
            out.append(Ack277CA(Path(out_dir) / f"{stem}.{ACK277CA}", as_of, numbers=numbers))
    if "ta1" in asked or "999" in asked:
        out.append(AckTA1(Path(out_dir) / f"{stem}.{ACKTA1}", as_of, log, only_problems="ta1" not in asked,
                          numbers=numbers))
    return out
