"""``NAME.999``: the implementation acknowledgment (005010X231A1) a payer's front door would send.

One 999 transaction set per functional group of the input (AK1 = its GS06 and GS08), one AK2 per
837 transaction set, with an IK3 (segment: id, position, loop, IK304 code) and IK4 (element:
position, data element number, IK403 code, the bad value for code values only) for each
structural error of severity ``error`` (the SX findings, after the configuration), and IK5: ``A``
accepted or ``R`` rejected (IK502 5, "one or more segments in error"). AK9 says whether the group
was accepted (A), partially accepted (P) or rejected (R). Content errors (SNIP 3-7) are not in a
999; they are in the 277CA (``--ack 277ca``).

It is a sink of the pipeline, but everything it needs is in the structural index (errors, one
small record per transaction set), so it writes at ``finish`` only. No
999 is written for an unusable input (a payer would answer it with a TA1), or when the structural
pass did not run (``--no-structure``). Envelope: the input's first ISA and GS with sender and
receiver swapped; element separator ``*``, component ``:``, repetition ``^``, terminator ``~``
and a line break.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

from scrubber.atomic import write_text_atomic
from scrubber.report.outcome import FileOutcome
from scrubber.report.sink import Sink

IK3_CODES = {"1", "2", "3", "4", "5", "6", "7", "8", "I4", "I6", "I7", "I8", "I9"}
IK4_CODES = {"1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "12", "13", "I10", "I11", "I12", "I13", "I6", "I9"}
IK5_CODES = {"1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "15", "16", "17", "18", "19", "23",
             "24", "25", "26", "27", "I5", "I6"}
_ISA_WIDTHS = (2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1)


def isa_segment(values: list[str]) -> str:
    return "ISA*" + "*".join(v[:w].ljust(w) for v, w in zip(values, _ISA_WIDTHS))


def clean(value: str, limit: int = 60) -> str:
    """A value safe to write with ``* : ^ ~`` delimiters."""
    return re.sub(r"[*:^~\r\n]", " ", value or "").strip()[:limit]


class Ack999(Sink):
    def __init__(self, path: Path, structure, as_of: date, mode: int = 0o600):
        self.path = path
        self.structure = structure  # scrubber.check.structure.StructurePass
        self.as_of = as_of
        self.mode = mode

    def finish(self, outcome: FileOutcome) -> None:
        index = self.structure.index if self.structure is not None else None
        if outcome.status == "unusable" or index is None or not index.transactions:
            return
        text = "".join(s + "~\n" for s in self.segments(index))
        write_text_atomic(self.path, text, self.mode, encoding="ascii", errors="replace", newline="")

    # ---------------------------------------------------------------------------------------
    def errors(self, index, ordinal: int) -> list:
        severity = self.structure.engine.decisions.severity
        out = [e for e in index.errors_of(ordinal) if severity(e.rule) == "error"]
        return sorted(out, key=lambda e: (e.position if e.position is not None else 0))

    def segments(self, index) -> list[str]:
        state = index.state
        first_isa = (state.first_isa if state else None) or []
        first_gs = (state.first_gs if state else None) or []
        now = datetime.now()
        isa = [first_isa[i].strip() if len(first_isa) > i else "" for i in range(17)]
        gs = [first_gs[i] if len(first_gs) > i else "" for i in range(9)]
        control = "000000001"
        out = [isa_segment(["00", "", "00", "", isa[7] or "ZZ", isa[8] or "RECEIVER", isa[5] or "ZZ",
                            isa[6] or "SENDER", self.as_of.strftime("%y%m%d"), now.strftime("%H%M"), "^", "00501",
                            control, "0", isa[15] if isa[15] in ("P", "T") else "P", ":"])]
        out.append(f"GS*FA*{clean(gs[3], 15) or 'RECEIVER'}*{clean(gs[2], 15) or 'SENDER'}*"
                   f"{self.as_of.strftime('%Y%m%d')}*{now.strftime('%H%M')}*1*X*005010X231A1")
        groups: dict[tuple[int, int], list] = {}
        for tx in index.transactions:
            groups.setdefault((tx.span.isa_ordinal, tx.span.gs_ordinal), []).append(tx)
        n_st = 0
        for txs in groups.values():
            n_st += 1
            body = [f"ST*999*{n_st:04d}*005010X231A1"]
            first = txs[0].span
            body.append(f"AK1*HC*{clean(first.gs06, 9) or '0'}*{clean(first.gs08, 12) or '005010X222A1'}")
            accepted = 0
            for tx in txs:
                span = tx.span
                body.append(f"AK2*837*{clean(span.st02, 9) or '0'}" + (f"*{clean(span.version, 35)}" if span.version else ""))
                errors = self.errors(index, span.ordinal)
                ik5 = set()
                last_ik3 = None
                for e in errors:
                    lines = self._ik3(e)
                    if lines and lines[0] == last_ik3:  # one IK3 per segment in error, its IK4s under it
                        lines = lines[1:]
                    elif lines:
                        last_ik3 = lines[0]
                    body.extend(lines)
                    if e.ik5 and e.ik5 in IK5_CODES:
                        ik5.add(e.ik5)
                if errors:
                    codes = sorted(ik5 | {"5"} if any(e.position is not None for e in errors) else ik5 or {"5"})[:5]
                    body.append("IK5*R*" + "*".join(codes))
                else:
                    accepted += 1
                    body.append("IK5*A")
            status = "A" if accepted == len(txs) else "R" if accepted == 0 else "P"
            body.append(f"AK9*{status}*{len(txs)}*{len(txs)}*{accepted}")
            body.append(f"SE*{len(body) + 1}*{n_st:04d}")
            out.extend(body)
        out.append(f"GE*{n_st}*1")
        out.append(f"IEA*1*{control}")
        return out

    def _ik3(self, e) -> list[str]:
        if e.position is None:
            return []  # an envelope error: only its IK5 code
        seg = clean(e.segment or "", 3)
        if len(seg) < 2:
            seg = (seg + "ZZ")[:2] if seg else "ZZ"
        code = e.ik3 if e.ik3 in IK3_CODES else "8"
        # IK303 (loop identifier, AN 1-4) is only for LS/LE loops, which an 837P does not use.
        lines = [f"IK3*{seg}*{e.position}**{code}"]
        if e.ik4 and e.ik4 in IK4_CODES:
            pos = e.ik4_pos or _element_position(e.element)
            if pos:
                value = ""
                if e.ik4 == "7" and e.value:
                    value = clean(e.value, 30)
                ref = e.ik4_ref or ""
                lines.append(f"IK4*{pos}*{ref}*{e.ik4}" + (f"*{value}" if value else ""))
        return lines


def _element_position(ref: str | None) -> str | None:
    """``SV107-1`` -> ``7:1``; ``CLM05`` -> ``5``."""
    if not ref:
        return None
    m = re.fullmatch(r"[A-Z][A-Z0-9]{1,2}(\d{2})(?:-(\d{1,2}))?", ref)
    if not m:
        return None
    return f"{int(m.group(1))}" + (f":{int(m.group(2))}" if m.group(2) else "")
