"""``NAME.277ca.edi``: the claim acknowledgment (277CA, 005010X214) a payer would send.

One 277 transaction set for the input. Its levels, as 005010X214 builds them:
- 2000A information source (the payer: the input's 1000B receiver), TRN, received/processed dates;
- 2000B information receiver (the submitter: the input's 1000A), STC ``A1:19`` with the total
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
run to a small spool of its own, since its 2000C carries the run's total), and the header with the
totals is written at ``finish``. Nothing is written for an unusable input. Like the clean and
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
from scrubber.report.ack999 import clean, isa_segment
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
    def __init__(self, path: Path, as_of: date, mode: int = 0o600):
        self.path = path
        self.as_of = as_of
        self.mode = mode
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
        self._isa: list[str] | None = None
        self._gs: list[str] | None = None
        self._submitter = self._receiver = None

    def start(self, outcome: FileOutcome) -> None:
        self._spool = tempfile.TemporaryFile("w+", encoding="latin-1")

    # ---------------------------------------------------------------------------------------
    def claim(self, result: ClaimOutcome) -> None:
        claim = result.claim
        tx = claim.transaction
        if self._isa is None:
            self._isa = list(tx.interchange.isa.elements)
            self._gs = list(tx.group.gs.elements)
            for seg in tx.header:
                if seg.id == "NM1" and seg.el(1) == "41" and self._submitter is None:
                    self._submitter = seg
                elif seg.id == "NM1" and seg.el(1) == "40" and self._receiver is None:
                    self._receiver = seg
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
    def finish(self, outcome: FileOutcome) -> None:
        if outcome.status == "unusable" or self._isa is None:
            self.discard()
            return
        self._flush_run()
        now = datetime.now()
        isa = [v.strip() for v in self._isa] + [""] * 17
        gs = list(self._gs or []) + [""] * 9
        control = "000000001"
        day = f"{self.as_of:%Y%m%d}"
        head = [isa_segment(["00", "", "00", "", isa[7] or "ZZ", isa[8] or "RECEIVER", isa[5] or "ZZ",
                             isa[6] or "SENDER", f"{self.as_of:%y%m%d}", f"{now:%H%M}", "^", "00501", control, "0",
                             isa[15] if isa[15] in ("P", "T") else "P", ":"]),
                f"GS*HN*{clean(gs[3], 15) or 'RECEIVER'}*{clean(gs[2], 15) or 'SENDER'}*{day}*{now:%H%M}*1*X*005010X214"]
        body = ["ST*277*0001*005010X214", f"BHT*0085*08*{clean(outcome.sha256[:30], 30) or '1'}*{day}*{now:%H%M}*TH"]
        rec = self._receiver
        body += ["HL*1**20*1",
                 f"NM1*PR*2*{clean(rec.el(3), 60) if rec is not None else 'PAYER'}*****46*"
                 f"{clean(rec.el(9), 80) if rec is not None else 'PAYER'}",
                 "TRN*1*1", f"DTP*050*D8*{day}", f"DTP*009*D8*{day}"]
        sub = self._submitter
        total = self.accepted_amount + self.rejected_amount
        body += ["HL*2*1*21*1",
                 f"NM1*41*2*{clean(sub.el(3), 60) if sub is not None else 'SUBMITTER'}*****46*"
                 f"{clean(sub.el(9), 80) if sub is not None else 'SUBMITTER'}",
                 "TRN*2*1", f"STC*A1:19*{day}*WQ*{_fmt(total)}"]
        if self.accepted:
            body.append(f"QTY*90*{self.accepted}")
        if self.rejected:
            body.append(f"QTY*AA*{self.rejected}")
        if self.accepted:
            body.append(f"AMT*YU*{_fmt(self.accepted_amount)}")
        if self.rejected:
            body.append(f"AMT*YY*{_fmt(self.rejected_amount)}")
        count = len(body)
        with AtomicFile(self.path, "w", self.mode, encoding="latin-1", newline="") as out:
            for s in head + body:
                out.write(s + "~\n")
            self._spool.seek(0)
            for line in self._spool:
                out.write(line)
                count += 1
            count += 1  # SE
            out.write(f"SE*{count}*0001~\nGE*1*1~\nIEA*1*{control}~\n")
        self._spool.close()
        self._spool = None

    def discard(self) -> None:
        if self._run is not None:
            self._run.close()
            self._run = None
        if self._spool is not None:
            self._spool.close()
            self._spool = None
