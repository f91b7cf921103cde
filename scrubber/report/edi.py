"""Writes a subset of the claims of an 837P as a valid 837P (the clean and the rejected files).

Envelopes (ISA, GS, ST and the transaction header) are written lazily, when the first claim that
needs them arrives, so an envelope with no kept claim is left out. Each kept claim brings its own
billing provider (2000A), subscriber (2000B) and patient (2000C) loops, written once per run of
claims that share them; HL numbers and parents are renumbered, HL04 recomputed, and SE01, GE01
and IEA01 recounted. Every other segment is written byte for byte as it came in, with the
delimiters and line breaks of its interchange.

A sink: ``EdiWriter(path, "clean")`` keeps the accepted claims, ``EdiWriter(path, "rejected")``
the rejected ones, and records the file in ``outcome.outputs`` under that name. The output goes
to a temporary name beside the target (:class:`scrubber.atomic.AtomicFile`) and is renamed when
complete; with no claim written, or an input found unusable, nothing is left behind.
"""

from __future__ import annotations

from pathlib import Path

from scrubber.atomic import AtomicFile
from scrubber.report.outcome import ClaimOutcome, FileOutcome
from scrubber.report.sink import Sink
from scrubber.x12.model import Group, HLNode, Interchange, Transaction
from scrubber.x12.reader import Segment

KEEPS = {"clean": "accepted", "rejected": "rejected"}  # output -> the status of the claims it keeps


class EdiWriter(Sink):
    def __init__(self, path: Path, output: str, mode: int = 0o600, numbers=None):
        if output not in KEEPS:
            raise ValueError(f"unknown 837 output {output!r}; use clean or rejected")
        self.path = Path(path)
        self.output = output
        self.keeps = KEEPS[output]
        self.mode = mode
        # ``--control-numbers new``: fresh ISA13/GS06/ST02 from ``numbers`` (scrubber.report.controls)
        self.numbers = numbers
        self._controls = ["", "", ""]  # the ISA13, GS06, ST02 written
        self.file = AtomicFile(self.path, "w", mode, encoding="latin-1", newline="")
        self.fh = None
        self.claims = 0
        self._isa: Interchange | None = None
        self._gs: Group | None = None
        self._tx: Transaction | None = None
        self._open_isa = self._open_gs = self._open_tx = False
        self._groups = self._transactions = self._segments = 0
        self._hl = 0
        self._bp: HLNode | None = None
        self._bp_id = ""
        self._sub: HLNode | None = None
        self._sub_id = ""
        self._sub_child = False
        self._pat: HLNode | None = None

    # --- envelope events ---------------------------------------------------------------
    def interchange(self, isa: Interchange) -> None:
        self._isa = isa
        self._open_isa = False
        self._groups = 0

    def group(self, gs: Group) -> None:
        self._gs = gs
        self._open_gs = False
        self._transactions = 0

    def transaction(self, tx: Transaction) -> None:
        self._tx = tx
        self._open_tx = False

    def transaction_end(self, event=None) -> None:
        if self._open_tx:
            tx = self._tx
            self._segments += 1
            e = tx.st.delims.element
            self._write(f"SE{e}{self._segments}{e}{self._controls[2] or tx.control}", tx.st)
            self._transactions += 1
            self._open_tx = False
        self._tx = None

    def group_end(self, event=None) -> None:
        if self._open_gs:
            e = self._gs.gs.delims.element
            self._write(f"GE{e}{self._transactions}{e}{self._controls[1] or self._gs.control}", self._gs.gs)
            self._groups += 1
            self._open_gs = False
        self._gs = None

    def interchange_end(self, event=None) -> None:
        if self._open_isa:
            isa = self._isa
            e = isa.delims.element
            self._write(f"IEA{e}{self._groups}{e}{self._controls[0] or isa.isa.el(13)}", isa.isa)
            self._open_isa = False
        self._isa = None

    # --- claims ------------------------------------------------------------------------
    def claim(self, result: ClaimOutcome) -> None:
        if result.status != self.keeps:
            return
        claim = result.claim
        self._open_envelopes()
        billing, subscriber, patient = claim.billing, claim.subscriber, claim.patient
        new_billing = False
        if billing is not None and billing is not self._bp:
            self._bp_id = self._hl_segment(billing, "", "1")
            self._bp = billing
            self._sub = self._pat = None
            new_billing = True
        if subscriber is not None:
            child = patient is not None
            if new_billing or subscriber is not self._sub or child != self._sub_child:
                self._sub_id = self._hl_segment(subscriber, self._bp_id, "1" if child else "0")
                self._sub, self._sub_child, self._pat = subscriber, child, None
            if patient is not None and patient is not self._pat:
                self._hl_segment(patient, self._sub_id, "0")
                self._pat = patient
        # A claim's segments share its interchange's delimiters: one write for all of them.
        segments = claim.segments
        d = segments[0].delims
        end = d.segment + d.suffix
        self.fh.write(end.join([seg.raw for seg in segments]) + end)
        self._segments += len(segments)
        self.claims += 1

    def _open_envelopes(self) -> None:
        if self.fh is None:
            self.fh = self.file.open()
        if not self._open_isa:
            self._write_seg(self._isa.isa, 13, "ISA13")
            self._open_isa = True
        if not self._open_gs:
            self._write_seg(self._gs.gs, 6, "GS06")
            self._open_gs = True
        if not self._open_tx:
            tx = self._tx
            self._write_seg(tx.st, 2, "ST02")
            for seg in tx.header:
                self._write_seg(seg)
            self._segments = 1 + len(tx.header)
            self._open_tx = True
            self._hl = 0
            self._bp = self._sub = self._pat = None
            self._sub_child = False

    def _hl_segment(self, node: HLNode, parent: str, child: str) -> str:
        self._hl += 1
        hl = node.segments[0]
        d = hl.delims
        elements = list(hl.elements)
        while len(elements) < 5:
            elements.append("")
        elements[1], elements[2], elements[4] = str(self._hl), parent, child
        # The renumbered HL, then the loop's other segments as they came (one write).
        end = d.segment + d.suffix
        segments = node.segments
        texts = [d.element.join(elements)]
        texts.extend(seg.raw for seg in segments[1:])
        self.fh.write(end.join(texts) + end)
        self._segments += len(segments)
        return str(self._hl)

    def _write_seg(self, seg: Segment, control: int = 0, name: str = "") -> None:
        d = seg.delims
        if self.numbers is None or not name:
            self.fh.write(seg.raw + d.segment + d.suffix)
            return
        n = self.numbers.next(name)
        value = f"{n:09d}" if name == "ISA13" else f"{n:04d}" if name == "ST02" else str(n)
        self._controls[("ISA13", "GS06", "ST02").index(name)] = value
        elements = list(seg.elements)
        while len(elements) <= control:
            elements.append("")
        elements[control] = value
        self.fh.write(d.element.join(elements) + d.segment + d.suffix)

    def _write(self, text: str, like: Segment) -> None:
        d = like.delims
        self.fh.write(text + d.segment + d.suffix)

    # --- lifecycle ---------------------------------------------------------------------
    def finish(self, outcome: FileOutcome) -> None:
        """Put the file in place when a claim was written (and the input is usable)."""
        if self.fh is not None and self.claims and outcome.status != "unusable":
            self.fh = None
            outcome.outputs[self.output] = str(self.file.commit())
        else:
            self.discard()

    def discard(self) -> None:
        self.fh = None
        self.file.discard()
