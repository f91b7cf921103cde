"""``NAME.277ca.edi``: the claim acknowledgment (277CA, 005010X214) a payer would send.

One 277 transaction set per 837 transaction set of the input, in one reply interchange per input
interchange, addressed back to its sender (the input's ISA06/ISA08 and GS02/GS03 swapped); ISA13,
GS06 and ST02 from ``numbers`` (:mod:`scrubber.report.controls`). Its levels, as 005010X214
builds them:
- 2000A information source (the payer: the input's 1000B receiver), TRN, received/processed dates;
- 2000B information receiver (the submitter: the input's 1000A), TRN02 the 837's BHT03 (the
  submitter's batch), STC ``A1:19`` with the total
  charge, QTY 90/AA (accepted/rejected claims) and AMT YU/YY (accepted/rejected charges);
- 2000C one per run of claims of the same billing provider (2010AA NM1*85), STC ``A1:19:85``
  with the provider's total;
- 2000D one per claim: the patient (2010CA, or the subscriber 2010BA; NM1*QC with the
  subscriber's member id), TRN*2 with CLM01, STC with the claim status and CLM02, DTP*472.

Claim status (STC01-1:STC01-2): an accepted claim gets ``A2:20`` (acknowledgment / acceptance into
the adjudication system: accepted for processing) with action code WQ; a rejected claim gets the
ack of its first error finding that carries one (the rule's ``ack``, e.g. DP002 ``A7:477``,
SX001 ``A6:21``), up to two more distinct ones in STC10/STC11, and action code U.

A sink: each claim is written as it comes to a spool (a provider's
run to a small spool of its own, since its 2000C carries the run's total), and each transaction
set with its totals is written at the 837's SE. Nothing is written for an unusable input. Like the clean and
rejected 837s, the file carries the patients' names and member ids (it is EDI output for the
submitter, as a payer's 277CA is); reports and logs never do.
"""

from __future__ import annotations

import tempfile
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO

from scrubber.atomic import AtomicFile
from scrubber.report.outcome import ClaimOutcome, FileOutcome
from scrubber.report.ack999 import clean, reply_isa
from scrubber.report.controls import RunNumbers, isa13, st02
from scrubber.report.sink import Sink

ACCEPTED = "A2:20"
DEFAULT_REJECT = "A7:21"


def _amount(value: str) -> Decimal:
    try:
        return Decimal(value or "0")
    except InvalidOperation:
        return Decimal(0)


def _fmt(amount: Decimal) -> str:
    text = format(amount.normalize(), "f") if amount else "0"
    return text


class Ack277CA(Sink):
    def __init__(self, path: Path, as_of: date, mode: int = 0o600, numbers=None):
        self.path = path
        self.as_of = as_of
        self.mode = mode
        self.numbers = numbers if numbers is not None else RunNumbers()
        self.file = AtomicFile(self.path, "w", mode, encoding="latin-1", newline="")
        self.fh: IO[str] | None = None
        self._isa: list[str] | None = None
        self._isa_control = ""
        self._gs06 = ""
        self._sets = 0  # 277 sets written in the current reply interchange
        self.written = 0
        self._reset_set()

    def _reset_set(self) -> None:
        self._spool: IO[str] | None = None
        self._run: IO[str] | None = None
        self._run_key: tuple | None = None
        self._run_nm1 = ""
        self._run_hl = 0
        self._run_total = Decimal(0)
        self._hl = 2
        self.accepted = self.rejected = 0
        self.accepted_amount = Decimal(0)
        self.rejected_amount = Decimal(0)
        self._tx = None
        self._submitter = self._receiver = None
        self._batch = ""

    # --- envelopes -----------------------------------------------------------------------
    def interchange(self, event) -> None:
        self._close_interchange()
        self._isa = list(event.isa.elements)

    def transaction(self, event) -> None:
        self._reset_set()
        self._tx = event

    def _read_header(self, event) -> None:
        """The submitter, receiver and batch id of the set (its header is complete at its first claim)."""
        for seg in event.header:
            if seg.id == "BHT" and not self._batch:
                self._batch = seg.el(3)
            elif seg.id == "NM1" and seg.el(1) == "41" and self._submitter is None:
                self._submitter = seg
            elif seg.id == "NM1" and seg.el(1) == "40" and self._receiver is None:
                self._receiver = seg

    def transaction_end(self, event) -> None:
        if self._spool is not None:
            self._write_set()
        self._reset_set()

    def interchange_end(self, event) -> None:
        self._close_interchange()

    # ---------------------------------------------------------------------------------------
    def claim(self, result: ClaimOutcome) -> None:
        claim = result.claim
        if self._spool is None:
            if self._tx is None:
                self.transaction(claim.transaction)
            self._read_header(claim.transaction)
            self._spool = tempfile.TemporaryFile("w+", encoding="latin-1")
        billing = claim.billing
        nm85 = billing.first("NM1", "85") if billing is not None else None
        key = (id(billing), nm85.raw if nm85 is not None else "")
        if key != self._run_key:
            self._flush_run()
            self._run_key = key
            self._hl += 1
            self._run_hl = self._hl
            self._run_nm1 = self._provider_nm1(nm85)
            self._run = tempfile.SpooledTemporaryFile(1 << 20, "w+", encoding="latin-1")
            self._run_total = Decimal(0)
        charge = _amount(claim.charge)
        self._run_total += charge
        if result.status == "accepted":
            self.accepted += 1
            self.accepted_amount += charge
            statuses, action = [ACCEPTED], "WQ"
        else:
            self.rejected += 1
            self.rejected_amount += charge
            statuses, action = self._statuses(result), "U"
        self._hl += 1
        w = self._run.write
        w(f"HL*{self._hl}*{self._run_hl}*PT~\n")
        w(self._patient_nm1(claim) + "~\n")
        w(f"TRN*2*{clean(claim.claim_id, 50) or 'UNKNOWN'}~\n")
        stc = f"STC*{statuses[0]}*{self.as_of:%Y%m%d}*{action}*{_fmt(charge)}"
        if len(statuses) > 1:
            stc += "******" + "*".join(statuses[1:3])
        w(stc + "~\n")
        w(self._service_dates(claim) + "~\n")
    def _statuses(self, result: ClaimOutcome) -> list[str]:
        out: list[str] = []
        for f in result.findings:
            if f.severity != "error" or f.ack is None:
                continue
            code = f"{clean(f.ack.category, 2)}:{clean(f.ack.status, 5)}"
            if code not in out:
                out.append(code)
        return out[:3] or [DEFAULT_REJECT]

    def _provider_nm1(self, nm85) -> str:
        if nm85 is None:
            return "NM1*85*2*UNKNOWN*****XX*0000000000"
        kind = nm85.el(2) if nm85.el(2) in ("1", "2") else "2"
        name = [clean(nm85.el(i), 60) for i in (3, 4, 5)]
        qual = nm85.el(8) if nm85.el(8) in ("FI", "SV", "XX") else "XX"
        ident = clean(nm85.el(9), 80) or "0000000000"
        return f"NM1*85*{kind}*{name[0] or 'UNKNOWN'}*{name[1]}*{name[2]}***{qual}*{ident}"

    def _patient_nm1(self, claim) -> str:
        sub = claim.subscriber.first("NM1", "IL") if claim.subscriber is not None else None
        pat = claim.patient.first("NM1", "QC") if claim.patient is not None else None
        who = pat or sub
        last = clean(who.el(3), 60) if who is not None else ""
        first = clean(who.el(4), 35) if who is not None else ""
        member = clean(sub.el(9), 80) if sub is not None else ""
        return f"NM1*QC*1*{last or 'UNKNOWN'}*{first}****MI*{member or 'UNKNOWN'}"

    def _service_dates(self, claim) -> str:
        start, end = claim.claim_dates()
        if start is None:
            dates = [d for d in (line.service_date for line in claim.lines) if d is not None]
            if dates:
                start, end = min(dates), max(dates)
        if start is None:
            start = end = self.as_of
        end = end or start
        if start == end:
            return f"DTP*472*D8*{start:%Y%m%d}"
        return f"DTP*472*RD8*{start:%Y%m%d}-{end:%Y%m%d}"

    def _flush_run(self) -> None:
        if self._run is None:
            return
        w = self._spool.write
        w(f"HL*{self._run_hl}*2*19*1~\n")
        w(self._run_nm1 + "~\n")
        w(f"TRN*1*{self._run_hl:04d}~\n")
        w(f"STC*A1:19:85**WQ*{_fmt(self._run_total)}~\n")
        self._run.seek(0)
        for line in self._run:
            w(line)
        self._run.close()
        self._run = None

    # ---------------------------------------------------------------------------------------
    def _open_interchange(self) -> None:
        now = datetime.now()
        if self.fh is None:
            self.fh = self.file.open()
        isa = self._isa or (list(self._tx.interchange.isa.elements) if self._tx is not None else [])
        gs = (list(self._tx.group.gs.elements) if self._tx is not None else []) + [""] * 9
        self._isa_control = isa13(self.numbers.next("ISA13"))
        self._gs06 = str(self.numbers.next("GS06"))
        self.fh.write(reply_isa(isa, self._isa_control, self.as_of, now) + "~\n")
        self.fh.write(f"GS*HN*{clean(gs[3], 15) or 'RECEIVER'}*{clean(gs[2], 15) or 'SENDER'}*{self.as_of:%Y%m%d}*"
                      f"{now:%H%M}*{self._gs06}*X*005010X214~\n")
        self._sets = 0

    def _close_interchange(self) -> None:
        if self._sets and self.fh is not None:
            self.fh.write(f"GE*{self._sets}*{self._gs06}~\nIEA*1*{self._isa_control}~\n")
        self._sets = 0

    def _write_set(self) -> None:
        self._flush_run()
        if not self._sets:
            self._open_interchange()
        now = datetime.now()
        day = f"{self.as_of:%Y%m%d}"
        number = st02(self.numbers.next("ST02"))
        trace = clean(self._batch, 50) or "1"
        body = [f"ST*277*{number}*005010X214", f"BHT*0085*08*{trace[:30]}*{day}*{now:%H%M}*TH"]
        rec = self._receiver
        body += ["HL*1**20*1",
                 f"NM1*PR*2*{clean(rec.el(3), 60) if rec is not None else 'PAYER'}*****46*"
                 f"{clean(rec.el(9), 80) if rec is not None else 'PAYER'}",
                 f"TRN*1*{trace}", f"DTP*050*D8*{day}", f"DTP*009*D8*{day}"]
        sub = self._submitter
        total = self.accepted_amount + self.rejected_amount
        body += ["HL*2*1*21*1",
                 f"NM1*41*2*{clean(sub.el(3), 60) if sub is not None else 'SUBMITTER'}*****46*"
                 f"{clean(sub.el(9), 80) if sub is not None else 'SUBMITTER'}",
                 f"TRN*2*{trace}", f"STC*A1:19*{day}*WQ*{_fmt(total)}"]
        if self.accepted:
            body.append(f"QTY*90*{self.accepted}")
        if self.rejected:
            body.append(f"QTY*AA*{self.rejected}")
        if self.accepted:
            body.append(f"AMT*YU*{_fmt(self.accepted_amount)}")
        if self.rejected:
            body.append(f"AMT*YY*{_fmt(self.rejected_amount)}")
        count = len(body)
        out = self.fh
        for s in body:
            out.write(s + "~\n")
        self._spool.seek(0)
        for line in self._spool:
            out.write(line)
            count += 1
        count += 1  # SE
        out.write(f"SE*{count}*{number}~\n")
        self._spool.close()
        self._spool = None
        self._sets += 1
        self.written += 1

    def finish(self, outcome: FileOutcome) -> None:
        if outcome.status == "unusable":
            self.discard()
            return
        if self._spool is not None:  # a transaction set with no SE event (cannot happen on a usable input)
            self._write_set()
        self._close_interchange()
        if not self.written:
            self.discard()
            return
        self.fh = None
        self.file.commit()

    def discard(self) -> None:
        if self._run is not None:
            self._run.close()
            self._run = None
        if self._spool is not None:
            self._spool.close()
            self._spool = None
        self.fh = None
        self.file.discard()
