"""``NAME.999``: the implementation acknowledgment (005010X231A1) a payer's front door would send.

One 999 interchange per interchange of the input, addressed back to its sender (the input's
ISA06/ISA08 and GS02/GS03 swapped), one 999 transaction set per functional group (AK1 = its GS06
and GS08), one AK2 per 837 transaction set:

- IK3 (segment id, position, IK304) for each segment in error, one per distinct code, as pyx12's
  own 999 writes them; an element error is IK3 code 8 followed by its IK4 (element position, data
  element number, IK403, the bad value for code values only); IK3 code 8 always comes with an IK4
  naming the element (``HL01``, ``HL02``, ``LX01`` for the numbering errors);
- IK5: ``A``, or ``R`` with its codes: 5 (segments in error), 4 (SE01 is not the segment count),
  3 (SE02 is not ST02), 23 (ST02 used twice in the group), and those of ST/SE element errors;
- AK9: ``A``, ``P`` or ``R``, AK902 the received GE01, AK903 the sets received, AK904 those
  accepted, and AK905...: 4 (GE02 is not GS06), 5 (GE01 is not the number of sets), 6 (GS06 used
  twice in the interchange, as pyx12 reports it); a group with such an error is rejected.

The errors are the structural pass's of severity ``error`` (SX rules, after the configuration);
the envelope counts and controls are checked here, from the pipeline's envelope events. Content
errors (SNIP 3-7) are not in a 999; they are in the 277CA. Control numbers (ISA13, GS06, ST02)
come from ``numbers`` (:mod:`scrubber.report.controls`). An interchange whose ISA12 is not 00501
cannot be answered by a 005010 999: it is left out, and said so in ``outcome.output_notes``
(standard error and the report's ``outputs``). No 999 is written for an unusable input (a TA1
answers it, ``--ack ta1``) or when the structural pass did not run.
Delimiters ``* : ^ ~`` and a line break.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from scrubber.atomic import write_text_atomic
from scrubber.report.controls import RunNumbers, isa13, st02
from scrubber.report.outcome import FileOutcome
from scrubber.report.sink import Sink

IK3_CODES = {"1", "2", "3", "4", "5", "6", "7", "8", "I4", "I6", "I7", "I8", "I9"}
IK4_CODES = {"1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "12", "13", "I10", "I11", "I12", "I13", "I6", "I9"}
IK5_CODES = {"1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "15", "16", "17", "18", "19", "23",
             "24", "25", "26", "27", "I5", "I6"}
# The numbering elements of SX012 (HL01, HL02, LX01): position and data element number for the IK4.
# IK403 I12 (the value does not follow the guide's pattern: 1, 2, 3 ... in order, or a known parent).
NUMBERING = {"HL01": ("1", "628"), "HL02": ("2", "734"), "LX01": ("1", "554")}
NUMBERING_IK403 = "I12"
_ISA_WIDTHS = (2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1)
VERSION = "00501"


def isa_segment(values: list[str]) -> str:
    return "ISA*" + "*".join(v[:w].ljust(w) for v, w in zip(values, _ISA_WIDTHS))


def clean(value: str, limit: int = 60) -> str:
    """A value safe to write with ``* : ^ ~`` delimiters."""
    return re.sub(r"[*:^~\r\n]", " ", value or "").strip()[:limit]


def reply_isa(isa: list[str], control: str, when: date, now: datetime) -> str:
    """An ISA answering ``isa`` (its elements, ``[0]`` = "ISA"): sender and receiver swapped."""
    isa = [v.strip() for v in isa] + [""] * 17
    return isa_segment(["00", "", "00", "", isa[7] or "ZZ", isa[8] or "RECEIVER", isa[5] or "ZZ", isa[6] or "SENDER",
                        when.strftime("%y%m%d"), now.strftime("%H%M"), "^", VERSION, control, "0",
                        isa[15] if isa[15] in ("P", "T") else "P", ":"])


@dataclass
class SetSeen:
    ordinal: int
    st01: str
    st02: str
    version: str
    counted: int | None = None  # segments ST..SE as read
    se01: str | None = None
    se02: str | None = None
    duplicate: bool = False


@dataclass
class GroupSeen:
    gs: list[str]
    gs06: str
    gs08: str
    sets: list[SetSeen] = field(default_factory=list)
    ge01: str | None = None
    ge02: str | None = None
    duplicate: bool = False


@dataclass
class InterchangeSeen:
    isa: list[str]
    control: str
    groups: list[GroupSeen] = field(default_factory=list)
    iea01: str | None = None
    iea02: str | None = None

    @property
    def version(self) -> str:
        return self.isa[12].strip() if len(self.isa) > 12 else ""

    @property
    def ack_requested(self) -> bool:
        return len(self.isa) > 14 and self.isa[14].strip() == "1"


class EnvelopeLog(Sink):
    """The envelopes of the input as the pipeline reads them (a few fields per interchange, group
    and transaction set), shared by the acknowledgments."""

    def __init__(self) -> None:
        self.interchanges: list[InterchangeSeen] = []
        self._tx = 0

    def interchange(self, event) -> None:
        self.interchanges.append(InterchangeSeen(list(event.isa.elements), event.control))

    def group(self, event) -> None:
        if not self.interchanges:
            return
        ic = self.interchanges[-1]
        seen = any(g.gs06 == event.control for g in ic.groups)
        ic.groups.append(GroupSeen(list(event.gs.elements), event.control, event.version, duplicate=seen))

    def transaction(self, event) -> None:
        if not self.interchanges or not self.interchanges[-1].groups:
            return
        group = self.interchanges[-1].groups[-1]
        st = event.st
        seen = any(s.st02 == event.control for s in group.sets)
        group.sets.append(SetSeen(self._tx, st.el(1), event.control, st.el(3), duplicate=seen))
        self._tx += 1

    def transaction_end(self, event) -> None:
        if self.interchanges and self.interchanges[-1].groups and self.interchanges[-1].groups[-1].sets:
            s = self.interchanges[-1].groups[-1].sets[-1]
            s.counted = event.segment_count
            if event.se is not None:
                s.se01, s.se02 = event.se.el(1), event.se.el(2)

    def group_end(self, event) -> None:
        if self.interchanges and self.interchanges[-1].groups:
            g = self.interchanges[-1].groups[-1]
            g.ge01, g.ge02 = event.ge.el(1), event.ge.el(2)

    def interchange_end(self, event) -> None:
        if self.interchanges:
            ic = self.interchanges[-1]
            ic.iea01, ic.iea02 = event.iea.el(1), event.iea.el(2)

    # --- what is wrong with an envelope ------------------------------------------------
    @staticmethod
    def set_codes(s: SetSeen) -> list[str]:
        codes = []
        if s.se02 is not None and s.se02 != s.st02:
            codes.append("3")
        if s.se01 is not None and s.counted is not None and s.se01.strip() != str(s.counted):
            codes.append("4")
        if s.duplicate:
            codes.append("23")
        return codes

    @staticmethod
    def group_codes(g: GroupSeen) -> list[str]:
        codes = []
        if g.ge02 is not None and g.ge02 != g.gs06:
            codes.append("4")
        if g.ge01 is not None and g.ge01.strip() != str(len(g.sets)):
            codes.append("5")
        if g.duplicate:
            codes.append("6")
        return codes

    @staticmethod
    def interchange_note(ic: InterchangeSeen) -> str:
        """TA105 for the interchange ("000": no problem), the first problem found."""
        if ic.iea02 is not None and ic.iea02.strip() != ic.control.strip():
            return "001"
        if ic.version != VERSION:
            return "017" if ic.version else "003"
        if ic.iea01 is not None and ic.iea01.strip() != str(len(ic.groups)):
            return "021"
        return "000"


class Ack999(Sink):
    def __init__(self, path: Path, structure, as_of: date, mode: int = 0o600, numbers=None,
                 envelopes: EnvelopeLog | None = None):
        self.path = path
        self.structure = structure  # scrubber.check.structure.StructurePass
        self.as_of = as_of
        self.mode = mode
        self.numbers = numbers if numbers is not None else RunNumbers()
        self.log = envelopes or EnvelopeLog()
        self._own_log = envelopes is None
        self._outcome: FileOutcome | None = None

    # The envelope events go to the log when it is this sink's own.
    def start(self, outcome: FileOutcome) -> None:
        self._outcome = outcome

    def interchange(self, event) -> None:
        if self._own_log:
            self.log.interchange(event)
        version = event.isa.el(12).strip()
        if version != VERSION and self._outcome is not None:
            self._outcome.output_notes.append(
                f"no 999 for interchange {event.control}: its ISA12 is {version or '(empty)'}, and a 999 "
                f"(005010X231A1) answers ISA12 {VERSION} only")

    def group(self, event) -> None:
        if self._own_log:
            self.log.group(event)

    def transaction(self, event) -> None:
        if self._own_log:
            self.log.transaction(event)

    def transaction_end(self, event) -> None:
        if self._own_log:
            self.log.transaction_end(event)

    def group_end(self, event) -> None:
        if self._own_log:
            self.log.group_end(event)

    def interchange_end(self, event) -> None:
        if self._own_log:
            self.log.interchange_end(event)

    def finish(self, outcome: FileOutcome) -> None:
        index = self.structure.index if self.structure is not None else None
        if outcome.status == "unusable" or index is None or not index.transactions:
            return
        out: list[str] = []
        for ic in self.log.interchanges:
            if ic.version == VERSION and ic.groups:
                out.extend(self.interchange_segments(index, ic))
        if not out:
            return
        text = "".join(s + "~\n" for s in out)
        write_text_atomic(self.path, text, self.mode, encoding="ascii", errors="replace", newline="")

    # ---------------------------------------------------------------------------------------
    def errors(self, index, ordinal: int) -> list:
        severity = self.structure.engine.decisions.severity
        out = [e for e in index.errors_of(ordinal) if severity(e.rule) == "error"]
        return sorted(out, key=lambda e: (e.position if e.position is not None else 0))

    def interchange_segments(self, index, ic: InterchangeSeen) -> list[str]:
        now = datetime.now()
        control = isa13(self.numbers.next("ISA13"))
        gs06 = str(self.numbers.next("GS06"))
        first = ic.groups[0].gs + [""] * 9
        out = [reply_isa(ic.isa, control, self.as_of, now),
               f"GS*FA*{clean(first[3], 15) or 'RECEIVER'}*{clean(first[2], 15) or 'SENDER'}*"
               f"{self.as_of.strftime('%Y%m%d')}*{now.strftime('%H%M')}*{gs06}*X*005010X231A1"]
        for g in ic.groups:
            out.extend(self.group_set(index, g))
        out.append(f"GE*{len(ic.groups)}*{gs06}")
        out.append(f"IEA*1*{control}")
        return out

    def group_set(self, index, g: GroupSeen) -> list[str]:
        number = st02(self.numbers.next("ST02"))
        body = [f"ST*999*{number}*005010X231A1",
                f"AK1*HC*{clean(g.gs06, 9) or '0'}*{clean(g.gs08, 12) or '005010X222A1'}"]
        accepted = 0
        group_codes = self.log.group_codes(g)
        for s in g.sets:
            body.append(f"AK2*{clean(s.st01, 3) or '837'}*{clean(s.st02, 9) or '0'}"
                        + (f"*{clean(s.version, 35)}" if s.version else ""))
            errors = self.errors(index, s.ordinal) if s.ordinal < len(index.transactions) else []
            codes = set(self.log.set_codes(s))
            # an envelope error (ST/SE, GS/GE, ISA/IEA level) is an IK5 or AK9 code, not an IK3
            envelope = [e for e in errors if e.position is None or e.level in ("st", "gs", "isa")]
            segment_lines = self._ik3s([e for e in errors if e not in envelope], s.counted)
            body.extend(segment_lines)
            if segment_lines:
                codes.add("5")
            for e in envelope:
                if e.ik5 and e.ik5 in IK5_CODES:
                    codes.add(e.ik5)
                elif e.level == "gs" and e.pyx12_code:
                    if e.pyx12_code not in group_codes:
                        group_codes.append(e.pyx12_code)
            if any(not e.ik5 and e.level not in ("gs", "isa") for e in envelope) and not codes:
                codes.add("5")
            if codes:
                body.append("IK5*R*" + "*".join(sorted(codes)[:5]))
            else:
                accepted += 1
                body.append("IK5*A")
        group_codes = sorted(set(group_codes))
        received = len(g.sets)
        if group_codes:
            status = "R"
        else:
            status = "A" if accepted == received else "R" if accepted == 0 else "P"
        ge01 = g.ge01.strip() if g.ge01 is not None and g.ge01.strip().isdigit() else str(received)
        body.append(f"AK9*{status}*{ge01}*{received}*{accepted}" + "".join(f"*{c}" for c in group_codes[:5]))
        body.append(f"SE*{len(body) + 1}*{number}")
        return body

    def _ik3s(self, errors: list, se_position: int | None = None) -> list[str]:
        """IK3/IK4 lines, one group per segment position (in order): the segment's own codes,
        then IK3 code 8 with the IK4 of each element error. A segment or loop found missing at
        the SE is reported at the segment before it, as pyx12's 999 does; a segment with no id
        (or an id the guide does not know) is named as it came, never with an id of ours."""
        by_place: dict[tuple[int, str], list] = {}
        for e in errors:
            position = e.position
            if se_position is not None and position == se_position and e.rule in ("SX001", "SX002") and position > 1:
                position -= 1
            seg = "" if e.rule == "SX003" and not e.segment else clean(e.segment or "", 4)
            by_place.setdefault((position, seg), []).append(e)
        lines: list[str] = []
        for (position, seg), errs in sorted(by_place.items(), key=lambda kv: kv[0][0]):
            head = f"IK3*{seg}*{position}*"
            own: list[str] = []
            elements: list[str] = []
            for e in errs:
                ik4 = self._ik4(e)
                if ik4:
                    if ik4 not in elements:
                        elements.append(ik4)
                    continue
                code = e.ik3 if e.ik3 in IK3_CODES else "8"
                if code not in own:
                    own.append(code)
            lines.extend(f"{head}*{c}" for c in own if c != "8")
            if elements or "8" in own:
                lines.append(f"{head}*8")  # (with no element to name only when none is known)
                lines.extend(elements)
        return lines

    def _ik4(self, e) -> str | None:
        if e.ik4 and e.ik4 in IK4_CODES:
            pos = e.ik4_pos or _element_position(e.element)
            if not pos:
                return None
            value = clean(e.value, 30) if e.ik4 == "7" and e.value else ""
            return f"IK4*{pos}*{e.ik4_ref or ''}*{e.ik4}" + (f"*{value}" if value else "")
        if e.rule == "SX012" and e.element in NUMBERING:
            pos, ref = NUMBERING[e.element]
            return f"IK4*{pos}*{ref}*{NUMBERING_IK403}"
        return None


def _element_position(ref: str | None) -> str | None:
    """``SV107-1`` -> ``7:1``; ``CLM05`` -> ``5``."""
    if not ref:
        return None
    m = re.fullmatch(r"[A-Z][A-Z0-9]{1,2}(\d{2})(?:-(\d{1,2}))?", ref)
    if not m:
        return None
    return f"{int(m.group(1))}" + (f":{int(m.group(2))}" if m.group(2) else "")
