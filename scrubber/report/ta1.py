"""``NAME.ta1``: the interchange acknowledgment (TA1) a payer's front door would send.

One reply interchange per interchange of the input, addressed back to its sender, holding one
TA1: TA101/TA102/TA103 the input's ISA13, ISA09 and ISA10, TA104 ``A`` (accepted) or ``R``
(rejected) and TA105 the note code (``000`` none; ``001`` IEA02 is not ISA13; ``017`` ISA12 not
00501; ``021`` IEA01 is not the number of groups; ``023`` the file ends before the IEA;
``024`` the content is not valid (a segment outside its envelope); ``025`` ISA13 used twice in
the file), the first problem found, as pyx12's TA1 answers. IEA01 is 0 (no functional group).

``--ack ta1`` writes a TA1 for every interchange; with ``--ack 999`` alone (``only_problems``)
a TA1 is written for the interchanges that asked for one (ISA14 = 1) or whose envelope has an
error. An unusable input whose interchange was read is answered too (truncated: ``023``), since
no 999 answers it.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from scrubber.atomic import write_text_atomic
from scrubber.report.ack999 import EnvelopeLog, clean, reply_isa
from scrubber.report.controls import RunNumbers, isa13
from scrubber.report.outcome import FileOutcome
from scrubber.report.sink import Sink

# The unusable input's rule -> TA105, when the interchange itself is what is wrong.
FATAL_NOTES = {"EN006": "023", "EN009": "024", "EN003": "024"}


class AckTA1(Sink):
    def __init__(self, path: Path, as_of: date, envelopes: EnvelopeLog, only_problems: bool = False,
                 mode: int = 0o600, numbers=None):
        self.path = path
        self.as_of = as_of
        self.log = envelopes
        self.only_problems = only_problems
        self.mode = mode
        self.numbers = numbers if numbers is not None else RunNumbers()

    def notes(self, outcome: FileOutcome) -> list[tuple[object, str]]:
        out = []
        seen: set[str] = set()
        last = len(self.log.interchanges) - 1
        for i, ic in enumerate(self.log.interchanges):
            note = self.log.interchange_note(ic)
            if ic.control.strip() in seen and note == "000":
                note = "025"
            seen.add(ic.control.strip())
            if i == last and outcome.status == "unusable" and outcome.fatal is not None and note == "000":
                note = FATAL_NOTES.get(outcome.fatal.rule, "000")
            out.append((ic, note))
        return out

    def finish(self, outcome: FileOutcome) -> None:
        lines: list[str] = []
        now = datetime.now()
        for ic, note in self.notes(outcome):
            if self.only_problems and note == "000" and not ic.ack_requested:
                continue
            isa = ic.isa + [""] * 17
            control = isa13(self.numbers.next("ISA13"))
            lines.append(reply_isa(ic.isa, control, self.as_of, now))
            lines.append(f"TA1*{clean(isa[13], 9)}*{clean(isa[9], 6)}*{clean(isa[10], 4)}*"
                         f"{'A' if note == '000' else 'R'}*{note}")
            lines.append(f"IEA*0*{control}")
        if lines:
            write_text_atomic(self.path, "".join(s + "~\n" for s in lines), self.mode, encoding="ascii",
                              errors="replace", newline="")
