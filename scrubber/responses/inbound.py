"""Reading payer responses: TA1, 999 (005010X231A1), 277CA (005010X214) and 835 (005010X221A1).

Any delimiters (each ISA's, through :func:`scrubber.x12.reader.read_segments`), any mix of these
in one file, many interchanges a file. What is read is only what ties an answer to a submitted
claim and explains it: control numbers, statuses, codes, positions, claim ids, amounts and
procedures; names and member ids are not kept.

A file that is not X12, is truncated (an ST without SE, a GS without GE, an ISA without IEA) or
holds a transaction set that is not one of these responses raises :class:`UnusableInput`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from scrubber.x12.reader import Segment, UnusableInput, read_segments

KINDS = ("TA1", "999", "277CA", "835")  # in the order of the chain: a later answer decides


def amount(value: str) -> Decimal | None:
    try:
        return Decimal(value) if value.strip() else None
    except InvalidOperation:
        return None


@dataclass(slots=True)
class TA1Answer:
    isa13: str  # TA101: the interchange answered
    status: str  # TA104: A, E or R
    note: str  # TA105


@dataclass(slots=True)
class ElementError:  # IK4
    position: str  # IK401 as sent: "7", "7:1", "7:1:2"
    reference: str  # IK402, the data element number
    code: str  # IK403
    value: str  # IK404 (a bad code value)

    @property
    def element(self) -> int | None:
        head = self.position.split(":")[0] if self.position else ""
        return int(head) if head.isdigit() else None

    @property
    def component(self) -> int | None:
        parts = self.position.split(":")
        return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None


@dataclass(slots=True)
class SegmentError:  # IK3 with its IK4s
    segment: str  # IK301
    position: int | None  # IK302: position in the transaction set, ST = 1
    loop: str  # IK303
    code: str  # IK304
    elements: list[ElementError] = field(default_factory=list)


@dataclass(slots=True)
class SetAnswer:  # AK2 .. IK5
    st01: str
    st02: str
    status: str = ""  # IK501
    codes: list[str] = field(default_factory=list)  # IK502-IK506
    errors: list[SegmentError] = field(default_factory=list)


@dataclass(slots=True)
class GroupAnswer:  # AK1 .. AK9
    gs06: str  # AK102
    version: str  # AK103
    sets: list[SetAnswer] = field(default_factory=list)
    status: str = ""  # AK901
    included: str = ""  # AK902 (the GE01 received)
    received: str = ""
    accepted: str = ""
    codes: list[str] = field(default_factory=list)  # AK905-AK909


@dataclass(slots=True)
class LineAnswer:
    qualifier: str  # SVC01-1
    procedure: str  # SVC01-2
    modifiers: list[str]
    charge: Decimal | None
    paid: Decimal | None  # 835 SVC03 (277CA: SVC03 is also a paid amount, usually 0)
    units: str
    original: str = ""  # SVC06-2: the procedure as submitted when the payer changed it
    control: str = ""  # REF*6R (835) / REF*FJ (277CA): the line item control number
    statuses: list[str] = field(default_factory=list)  # 277CA STC01, STC10, STC11
    adjustments: list[tuple[str, str, Decimal | None]] = field(default_factory=list)  # 835 CAS
    remarks: list[str] = field(default_factory=list)  # 835 LQ*HE


@dataclass(slots=True)
class ClaimAnswer:
    kind: str  # 277CA or 835
    claim_id: str  # 277CA 2200D TRN02, 835 CLP01
    charge: Decimal | None  # 277CA STC04, 835 CLP03
    statuses: list[str] = field(default_factory=list)  # 277CA: STC01/STC10/STC11 of each STC
    status: str = ""  # 835 CLP02
    paid: Decimal | None = None  # 835 CLP04
    payer_claim: str = ""  # 835 CLP07, 277CA REF*1K
    adjustments: list[tuple[str, str, Decimal | None]] = field(default_factory=list)  # 835 claim CAS
    remarks: list[str] = field(default_factory=list)  # 835 MOA/MIA remark codes
    lines: list[LineAnswer] = field(default_factory=list)
    interchange: str = ""  # the response's own ISA13, GS06, ST02 (for messages)
    transaction: str = ""


@dataclass
class ResponseFile:
    name: str
    ta1: list[TA1Answer] = field(default_factory=list)
    groups: list[GroupAnswer] = field(default_factory=list)  # 999
    claims: list[ClaimAnswer] = field(default_factory=list)  # 277CA and 835
    kinds: list[str] = field(default_factory=list)  # in the order met

    def add_kind(self, kind: str) -> None:
        if kind not in self.kinds:
            self.kinds.append(kind)


def _composite(seg: Segment, index: int) -> list[str]:
    return seg.components(index)


def _cas(seg: Segment) -> list[tuple[str, str, Decimal | None]]:
    group = seg.el(1)
    out = []
    for i in range(2, 20, 3):  # CAS02/03, CAS05/06, ... CAS17/18
        reason = seg.el(i)
        if reason:
            out.append((group, reason, amount(seg.el(i + 1))))
    return out


def _svc(seg: Segment) -> LineAnswer:
    parts = _composite(seg, 1)
    original = _composite(seg, 6)
    return LineAnswer(
        qualifier=parts[0] if parts else "",
        procedure=parts[1] if len(parts) > 1 else "",
        modifiers=[m for m in parts[2:6] if m],
        charge=amount(seg.el(2)),
        paid=amount(seg.el(3)),
        units=seg.el(5),
        original=original[1] if len(original) > 1 else "",
    )


def _stc_codes(seg: Segment) -> list[str]:
    out = []
    for index in (1, 10, 11):
        parts = [p for p in _composite(seg, index)[:3]]
        if parts and parts[0]:
            out.append(":".join(p for p in parts[:2] if p) if len(parts) < 3 or not parts[2] else ":".join(parts[:3]))
    return out


def read_response(path: Path) -> ResponseFile:
    """Every answer in the file at ``path``."""
    path = Path(path)
    out = ResponseFile(path.name)
    isa: Segment | None = None
    kind = ""
    group: GroupAnswer | None = None
    answer: SetAnswer | None = None
    ik3: SegmentError | None = None
    claim: ClaimAnswer | None = None
    line: LineAnswer | None = None
    in_gs = in_st = False
    st02 = ""
    ts_count = 0
    for seg in read_segments(path):
        sid = seg.id
        if sid == "ISA":
            if isa is not None:
                raise UnusableInput("EN006", f"truncated: interchange {isa.el(13).strip()} has no IEA before the next ISA", seg.offset, "ISA")
            isa = seg
            continue
        if isa is None:
            raise UnusableInput("EN009", f"segment {sid} outside an interchange (byte {seg.offset})", seg.offset, sid)
        if sid == "IEA":
            if in_gs:
                raise UnusableInput("EN006", "truncated: a functional group has no GE before the IEA", seg.offset, sid)
            isa = None
            continue
        if sid == "TA1":
            out.add_kind("TA1")
            out.ta1.append(TA1Answer(seg.el(1).strip(), seg.el(4).strip(), seg.el(5).strip()))
            continue
        if sid == "GS":
            in_gs = True
            continue
        if sid == "GE":
            if in_st:
                raise UnusableInput("EN006", f"truncated: transaction set {st02} has no SE before the GE", seg.offset, sid)
            in_gs = False
            continue
        if sid == "ST":
            if not in_gs:
                raise UnusableInput("EN009", f"ST outside a functional group (byte {seg.offset})", seg.offset, sid)
            in_st = True
            st02 = seg.el(2)
            ts_count += 1
            st01 = seg.el(1)
            if st01 == "999":
                kind = "999"
            elif st01 == "277":
                kind = "277CA"
            elif st01 == "835":
                kind = "835"
            else:
                raise UnusableInput(
                    "EN007", f"not a payer response: transaction set {st01 or '(none)'} (ST02 {st02}); "
                    "a response is a 999, TA1, 277CA or 835", seg.offset, sid)
            out.add_kind(kind)
            group = answer = ik3 = None
            claim = line = None
            continue
        if sid == "SE":
            if not in_st:
                raise UnusableInput("EN009", f"SE outside a transaction set (byte {seg.offset})", seg.offset, sid)
            in_st = False
            continue
        if not in_st:
            raise UnusableInput("EN009", f"segment {sid} outside a transaction set (byte {seg.offset})", seg.offset, sid)
        if kind == "999":
            if sid == "AK1":
                group = GroupAnswer(seg.el(2), seg.el(3))
                out.groups.append(group)
            elif group is None:
                continue
            elif sid == "AK2":
                answer = SetAnswer(seg.el(1), seg.el(2))
                group.sets.append(answer)
                ik3 = None
            elif sid == "IK3" and answer is not None:
                pos = seg.el(2)
                ik3 = SegmentError(seg.el(1), int(pos) if pos.isdigit() else None, seg.el(3), seg.el(4))
                answer.errors.append(ik3)
            elif sid == "IK4" and answer is not None:
                pos = seg.el(1)
                error = ElementError(pos.replace(seg.delims.component, ":"), seg.el(2), seg.el(3), seg.el(4))
                if ik3 is None:  # an IK4 with no IK3 before it: keep it on an unnamed segment
                    ik3 = SegmentError("", None, "", "8")
                    answer.errors.append(ik3)
                ik3.elements.append(error)
            elif sid == "IK5" and answer is not None:
                answer.status = seg.el(1)
                answer.codes = [seg.el(i) for i in range(2, 7) if seg.el(i)]
                answer = ik3 = None
            elif sid == "AK9":
                group.status, group.included, group.received, group.accepted = seg.el(1), seg.el(2), seg.el(3), seg.el(4)
                group.codes = [seg.el(i) for i in range(5, 10) if seg.el(i)]
        elif kind == "277CA":
            if sid == "HL":
                claim = line = None
                if seg.el(3) in ("PT", "22", "23"):  # the patient (X214), subscriber or dependent (X212)
                    claim = ClaimAnswer("277CA", "", None, interchange=isa.el(13).strip(), transaction=st02)
            elif claim is None:
                continue
            elif sid == "TRN" and seg.el(1) == "2" and not claim.claim_id:
                claim.claim_id = seg.el(2)
                out.claims.append(claim)
            elif sid == "STC":
                codes = _stc_codes(seg)
                if line is not None:
                    line.statuses.extend(codes)
                else:
                    claim.statuses.extend(codes)
                    if claim.charge is None:
                        claim.charge = amount(seg.el(4))
            elif sid == "REF" and line is None and seg.el(1) == "1K":
                claim.payer_claim = seg.el(2)
            elif sid == "REF" and line is not None and seg.el(1) == "FJ":
                line.control = seg.el(2)
            elif sid == "SVC":
                line = _svc(seg)
                claim.lines.append(line)
        elif kind == "835":
            if sid == "CLP":
                claim = ClaimAnswer("835", seg.el(1), amount(seg.el(3)), status=seg.el(2), paid=amount(seg.el(4)),
                                    payer_claim=seg.el(7), interchange=isa.el(13).strip(), transaction=st02)
                out.claims.append(claim)
                line = None
            elif sid in ("LX", "PLB"):
                claim = line = None
            elif claim is None:
                continue
            elif sid == "SVC":
                line = _svc(seg)
                claim.lines.append(line)
            elif sid == "CAS":
                (line.adjustments if line is not None else claim.adjustments).extend(_cas(seg))
            elif sid == "LQ" and line is not None and seg.el(1) == "HE":
                line.remarks.append(seg.el(2))
            elif sid == "REF" and line is not None and seg.el(1) == "6R":
                line.control = seg.el(2)
            elif sid == "MOA" and line is None:
                claim.remarks.extend(seg.el(i) for i in range(3, 8) if seg.el(i))
            elif sid == "MIA" and line is None:
                claim.remarks.extend(seg.el(i) for i in (5, 20, 21, 22, 23) if seg.el(i))
    if in_st or in_gs or isa is not None:
        what = "a transaction set has no SE" if in_st else "a functional group has no GE" if in_gs else "the interchange has no IEA"
        raise UnusableInput("EN006", f"truncated: {what}")
    if not out.kinds:
        raise UnusableInput("EN010", "no response in the file: no TA1, 999, 277CA or 835")
    return out
