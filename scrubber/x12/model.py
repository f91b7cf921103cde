"""The claim model: 837P loops built from the segment stream, one claim at a time.

:func:`walk` turns the segment stream of :mod:`scrubber.x12.reader` into a stream of events:
``Interchange``, ``Group``, ``Transaction`` when an envelope opens, ``Claim`` when a claim (2300
with its 2400 lines) is complete, and ``TransactionEnd``/``GroupEnd``/``InterchangeEnd`` with
their trailers. A claim holds references to its billing provider (2000A), subscriber (2000B) and
optional patient (2000C) loops; those are shared by the claims under them, never copied, so memory
stays bounded by one claim and its hierarchy, whatever the file's size.

Envelope problems that make the input unusable (not an 837P, truncated, segments outside an
envelope) raise :class:`scrubber.x12.reader.UnusableInput`; problems with trailers that the outputs
recompute anyway (counts, control numbers) become warnings on the trailer events.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

from scrubber.x12.reader import DEFAULTS, ISA_LENGTH, Delimiters, Segment, UnusableInput

ACCEPTED_VERSIONS = {"005010X222A1", "005010X222", "005010X222A2"}

# NM101 entity codes that open a subloop, by the loop they are in.
_NM1_2010 = {"85": "2010AA", "87": "2010AB", "PE": "2010AC", "IL": "2010BA", "PR": "2010BB", "QC": "2010CA"}
_NM1_2310 = {"DN": "2310A", "P3": "2310A", "82": "2310B", "77": "2310C", "DQ": "2310D", "PW": "2310E", "45": "2310F"}
_NM1_2330 = {"IL": "2330A", "PR": "2330B", "DN": "2330C", "P3": "2330C", "82": "2330D", "77": "2330E", "DQ": "2330F", "85": "2330G"}
_NM1_2420 = {"82": "2420A", "QB": "2420B", "77": "2420C", "DQ": "2420D", "DK": "2420E", "DN": "2420F", "PW": "2420G", "45": "2420H"}
_HL_LOOPS = {"20": "2000A", "22": "2000B", "23": "2000C"}
_BOUNDARY = frozenset({"SE", "HL", "CLM", "ST", "GE", "IEA", "ISA", "GS"})  # end a claim
_LOOP_OPENERS = frozenset({"LX", "NM1", "SBR", "LIN", "SVD", "LQ", "SV1", "SV5", "SV2", "SV3"})
DIAGNOSIS_QUALIFIERS = {"ABK", "ABF", "BK", "BF", "APR", "PR", "ABJ", "BJ", "APR", "ADD", "DR"}
_NON_DIAGNOSIS_HI = {"BP", "BO", "BG", "BBQ", "BBR", "BE", "BH", "BI", "BQ", "TC"}


@dataclass(slots=True)
class Interchange:
    isa: Segment
    delims: Delimiters
    control: str  # ISA13
    groups: int = 0
    findings: list = field(default_factory=list)  # warnings about the ISA itself


@dataclass(slots=True)
class Group:
    gs: Segment
    control: str  # GS06
    version: str  # GS08
    transactions: int = 0


@dataclass(slots=True)
class Transaction:
    st: Segment
    control: str  # ST02
    interchange: Interchange
    group: Group
    header: list[Segment] = field(default_factory=list)  # BHT, 1000A, 1000B
    claims: int = 0
    findings: list = field(default_factory=list)  # transaction-level findings (filled by checks)


@dataclass(slots=True)
class HLNode:
    """One hierarchical level (2000A, 2000B or 2000C) with its own segments (HL first)."""

    level: str  # HL03: 20, 22, 23
    hl_id: str
    parent_id: str
    segments: list[Segment]
    parent: HLNode | None = None
    # The level's first SBR, PAT and DMG, noted by the walk as it meets them (the claim checks
    # read them for every claim).
    sbr: Segment | None = None
    pat: Segment | None = None
    dmg: Segment | None = None

    @property
    def loop(self) -> str:
        return _HL_LOOPS.get(self.level, "2000")

    @property
    def payer_id(self) -> str:
        for seg in self.segments:
            if seg.id == "NM1" and seg.el(1) == "PR":
                return seg.el(9)
        return ""

    def first(self, seg_id: str, qualifier: str | None = None) -> Segment | None:
        for seg in self.segments:
            if seg.id == seg_id and (qualifier is None or seg.el(1) == qualifier):
                return seg
        return None


@dataclass(slots=True)
class Diagnosis:
    position: int  # 1-12 over the claim's diagnosis HI segments
    qualifier: str  # ABK, ABF, BK, BF ...
    code: str  # as sent (no dot expected)
    segment: Segment
    element: int  # index of the composite in its HI segment (HI01 = 1)

    @property
    def ref(self) -> str:
        return f"HI{self.element:02d}-2"


@dataclass(slots=True)
class ServiceLine:
    number: int  # 1-based order within the claim (LX01 as sent may differ)
    lx: Segment
    segments: list[Segment]
    sv1: Segment | None = None
    # Read from the line's SV1 by the model when it meets it (see ``set_sv1``), since the rules
    # ask for them again and again; empty without an SV1.
    # (Empty until the SV1 comes: a line is made at every LX, and most lines' SV1 follows.) Tuples,
    # shared by the lines that send the same SV1: never modified.
    sv101: tuple[str, ...] = ()  # SV101 components as sent (qualifier, code, modifiers)
    procedure: str = ""  # SV101-2
    pointers: tuple[str, ...] = ()  # SV107 components as sent (empty when absent)

    def set_sv1(self, seg: Segment) -> None:
        self.sv1 = seg
        found = _SV1_PARTS.get(seg.raw)
        if found is None or found[0] is not seg.delims:
            found = _sv1_parts(seg)
        _, self.sv101, self.procedure, self.pointers = found

    @property
    def modifiers(self) -> list[str]:
        return [m for m in self.sv101[2:6] if m]

    _dates: tuple | None = None  # (start, end) of the line's first DTP*472, (None, None) without one

    @property
    def service_date(self) -> date | None:
        """The line's date of service (DTP*472 in 2400, the start of a range); parsed once."""
        if self._dates is None:
            found = (None, None)
            for seg in self.segments:
                if seg.id == "DTP" and seg.el(1) == "472":
                    found = parse_date_period(seg.el(2), seg.el(3))
                    break
            self._dates = found
        return self._dates[0]


# An SV1 as sent -> (delimiters, SV101 components, SV101-2, SV107 components): a pure function of
# its text and delimiters; the same few come back line after line (bounded).
_SV1_PARTS: dict[str, tuple] = {}


def _sv1_parts(seg: Segment) -> tuple:
    elements = seg.elements
    n = len(elements)
    component = seg.delims.component
    value = elements[1] if n > 1 else ""
    sv101 = tuple(value.split(component)) if value else ()
    value = elements[7] if n > 7 else ""
    pointers = tuple(value.split(component)) if value else ()
    if len(_SV1_PARTS) >= 4096:
        _SV1_PARTS.clear()
    found = _SV1_PARTS[seg.raw] = (seg.delims, sv101, sv101[1] if len(sv101) > 1 else "", pointers)
    return found


@dataclass(slots=True, init=False)
class Claim:
    """A 2300 claim with its 2400 service lines and the hierarchy it belongs to."""

    clm: Segment
    segments: list[Segment]  # every segment of the claim, CLM first, in order
    transaction: Transaction
    billing: HLNode | None
    subscriber: HLNode | None
    patient: HLNode | None
    lines: list[ServiceLine] = field(default_factory=list)
    diagnoses: list[Diagnosis] = field(default_factory=list)
    hi_segments: list[Segment] = field(default_factory=list)  # the diagnosis HI segments
    number: int = 0  # 1-based order of the claim within its transaction set
    # The claim's DTP segments in order, each with the number of the service line it is in
    # (0: claim level, before the first LX); noted by the walk so rules need not scan for them.
    dated: list[tuple[Segment, int]] = field(default_factory=list)
    # No segment but CLM, HI, DTP, LX and SV1 (no REF, NM1, NTE ...): noted by the walk, so that
    # the claim checks need not scan for those on most claims.
    plain: bool = True

    def __init__(self, clm: Segment, segments: list[Segment], transaction: Transaction, billing: HLNode | None,
                 subscriber: HLNode | None, patient: HLNode | None, lines: list[ServiceLine] | None = None,
                 diagnoses: list[Diagnosis] | None = None, hi_segments: list[Segment] | None = None, number: int = 0,
                 dated: list[tuple[Segment, int]] | None = None, plain: bool = True):
        # (Written out: the generated one tests each of the four lists against its default factory.)
        self.clm, self.segments, self.transaction = clm, segments, transaction
        self.billing, self.subscriber, self.patient = billing, subscriber, patient
        self.lines = [] if lines is None else lines
        self.diagnoses = [] if diagnoses is None else diagnoses
        self.hi_segments = [] if hi_segments is None else hi_segments
        self.number = number
        self.dated = [] if dated is None else dated
        self.plain = plain

    @property
    def claim_id(self) -> str:
        return self.clm.el(1)

    @property
    def charge(self) -> str:
        return self.clm.el(2)

    @property
    def interchange_control(self) -> str:
        return self.transaction.interchange.control

    @property
    def group_control(self) -> str:
        return self.transaction.group.control

    @property
    def transaction_control(self) -> str:
        return self.transaction.control

    @property
    def payer_id(self) -> str:
        return self.subscriber.payer_id if self.subscriber is not None else ""

    def claim_dates(self) -> tuple[date | None, date | None]:
        """The claim-level service period (DTP*472 in 2300), if any."""
        for seg in self.segments:
            if seg.id == "DTP" and seg.el(1) == "472" and seg.loop == "2300":
                return parse_date_period(seg.el(2), seg.el(3))
        return None, None


@dataclass(slots=True)
class TransactionEnd:
    transaction: Transaction
    se: Segment | None
    segment_count: int  # counted ST..SE inclusive
    findings: list = field(default_factory=list)


@dataclass(slots=True)
class GroupEnd:
    group: Group
    ge: Segment
    findings: list = field(default_factory=list)


@dataclass(slots=True)
class InterchangeEnd:
    interchange: Interchange
    iea: Segment
    findings: list = field(default_factory=list)


_DATES: dict[str, date | None] = {}


def parse_date(value: str) -> date | None:
    """CCYYMMDD -> date; None when it is not a date. Cached (bounded): a file repeats few dates."""
    try:
        return _DATES[value]
    except KeyError:
        pass
    parsed = None
    if len(value) == 8 and value.isdigit():
        try:
            parsed = date(int(value[:4]), int(value[4:6]), int(value[6:]))
        except ValueError:
            parsed = None
    if len(_DATES) >= 4096:
        _DATES.clear()
    _DATES[value] = parsed
    return parsed


def parse_date_period(fmt: str, value: str) -> tuple[date | None, date | None]:
    if fmt == "RD8" and "-" in value:
        start, _, end = value.partition("-")
        return parse_date(start), parse_date(end)
    d = parse_date(value)
    return d, d


class EnvelopeProblem:
    """A problem with a trailer that the outputs correct (kept as data; findings are made later)."""

    __slots__ = ("rule", "segment", "element", "value", "expected", "message")

    def __init__(self, rule: str, segment: Segment, element: str, value: str, expected: str, message: str):
        self.rule, self.segment, self.element = rule, segment, element
        self.value, self.expected, self.message = value, expected, message


_PARENT_LEVELS = frozenset({("22", "20"), ("23", "22")})  # (level, its parent's level) of an 837P
_OPENERS = frozenset({"ISA", "GS", "ST"})
_NOTED = frozenset({"SBR", "PAT", "DMG"})  # the segments an HL level notes (HLNode.sbr, .pat, .dmg)
_RECENT_PARENTS = 64  # billing provider and subscriber HLs kept (each) as possible parents


def walk(segments: Iterator[Segment], max_claim_segments: int | None = None, limits=None) -> Iterator[object]:
    """Turn a segment stream into envelope and claim events (see the module docstring).

    ``limits`` (:class:`scrubber.limits.Limits`, the defaults when None) bound what is held: a
    claim longer than ``claim_segments`` segments or ``claim_bytes`` bytes, a billing provider,
    subscriber or patient loop longer than ``loop_segments`` segments, or more than ``envelopes``
    ISA, GS and ST segments in the file make the input unusable (EN013). One claim and the loops
    it belongs to are held in memory at a time, so this bounds memory on hostile input."""
    limits = limits or DEFAULTS
    if max_claim_segments is None:
        max_claim_segments = limits.claim_segments
    max_claim_bytes, max_loop, max_envelopes = limits.claim_bytes, limits.loop_segments, limits.envelopes
    envelopes = 0
    claim_last = claim_end = 0  # the open claim's last allowed position and byte offset (set at its CLM)
    hl_last = 0  # the open HL loop's last allowed position (set at its HL)
    isa: Interchange | None = None
    gs: Group | None = None
    tx: Transaction | None = None
    position = 0
    seg: Segment | None = None  # after the loop: the last segment read

    # Claim assembly state, valid inside a transaction.
    billing = subscriber = patient = None
    current_hl: HLNode | None = None
    recent_billing: dict[str, HLNode] = {}  # the last billing providers (HL 20), oldest first
    recent_subscribers: dict[str, HLNode] = {}  # the last subscribers (HL 22), oldest first
    claim: Claim | None = None
    claim_segments: list[Segment] = []  # claim.segments, kept at hand for the hot path
    line: ServiceLine | None = None
    loop = ""

    def finish_claim() -> Claim | None:
        nonlocal claim, line
        done = claim
        claim = None
        line = None
        return done

    for seg in segments:
        sid = seg.id
        if claim is not None and sid not in _BOUNDARY:  # (a claim is only ever open inside a transaction)
            position += 1
            seg.position = position
            # The hot path: a segment inside a claim (2300, 2400 and their subloops).
            if sid in _LOOP_OPENERS:
                # (an SV1 after the LX keeps the line in 2400, as _claim_loop says)
                loop = "2400" if sid == "LX" or sid == "SV1" and line is not None else _claim_loop(loop, seg)
            seg.loop = loop
            claim_segments.append(seg)
            if position > claim_last or seg.offset > claim_end:  # (one test for both limits)
                if len(claim_segments) > max_claim_segments:
                    raise UnusableInput(
                        "EN013", f"claim {claim.claim_id} has more than {max_claim_segments} segments", seg.offset, sid
                    )
                raise UnusableInput(
                    "EN013", f"claim {claim.claim_id} is larger than {max_claim_bytes} bytes ([limits] claim_bytes)",
                    seg.offset, sid,
                )
            if sid == "LX":
                lines = claim.lines
                line = ServiceLine(len(lines) + 1, seg, [seg])
                lines.append(line)
            elif line is not None:  # (the loop is a 24xx one from the LX to the end of the claim)
                line.segments.append(seg)
                if sid == "SV1":
                    if line.sv1 is None:
                        line.set_sv1(seg)
                elif sid == "DTP":
                    claim.dated.append((seg, line.number))  # (its date is read when asked: see service_date)
                elif sid in ("SV2", "SV3"):
                    raise UnusableInput(
                        "EN007",
                        f"not an 837P: service line segment {sid} (claim {claim.claim_id}) belongs to an "
                        f"{'837I' if sid == 'SV2' else '837D'}",
                        seg.offset,
                        sid,
                    )
                else:
                    claim.plain = False
            elif sid == "DTP":
                claim.dated.append((seg, 0))
            elif sid == "HI" and loop == "2300":
                _add_diagnoses(claim, seg)
            else:
                claim.plain = False
            continue
        if tx is not None:
            position += 1
            seg.position = position
            if current_hl is not None and sid not in _BOUNDARY:
                # A segment of the billing provider, subscriber or patient loop (2000A-2010CA).
                if sid == "NM1":
                    els = seg.elements
                    loop = _NM1_2010.get(els[1] if len(els) > 1 else "", loop)
                elif sid in _NOTED:
                    if sid == "SBR":
                        if current_hl.sbr is None:
                            current_hl.sbr = seg
                    elif sid == "DMG":
                        if current_hl.dmg is None:
                            current_hl.dmg = seg
                    elif current_hl.pat is None:
                        current_hl.pat = seg
                seg.loop = loop
                current_hl.segments.append(seg)
                if position > hl_last:  # ([limits] loop_segments)
                    raise UnusableInput(
                        "EN013", f"the {current_hl.loop} loop of HL {current_hl.hl_id[:20]} has more than {max_loop} "
                        f"segments ([limits] loop_segments)", seg.offset, sid,
                    )
                continue
            if sid == "SE":
                done = finish_claim()
                if done is not None:
                    yield done
                seg.loop = "SE"
                end = TransactionEnd(tx, seg, position)
                check_count(end.findings, seg, 1, position, "SE01", "segments in the transaction set")
                check_control(end.findings, seg, 2, tx.control, "SE02", "ST02")
                gs.transactions += 1  # type: ignore[union-attr]
                yield end
                tx = None
                continue
            if sid in ("ST", "GE", "IEA", "ISA", "GS"):
                raise UnusableInput(
                    "EN006",
                    f"truncated: transaction set {_shown(tx.control)} has no SE trailer before {sid} at byte {seg.offset}",
                    seg.offset,
                    sid,
                )
            # ---- inside a transaction set: 837P loops ----
            if sid == "HL":
                done = finish_claim()
                if done is not None:
                    yield done
                els = seg.elements
                n = len(els)
                node = HLNode(els[3] if n > 3 else "", els[1] if n > 1 else "", els[2] if n > 2 else "", [seg])
                # Only a parent of the level above is kept (a subscriber's billing provider, a
                # patient's subscriber): a chain of levels each the child of the previous one
                # must not keep every loop of the chain alive.
                parent = recent_billing.get(node.parent_id) or recent_subscribers.get(node.parent_id)
                if parent is not None and (node.level, parent.level) in _PARENT_LEVELS:
                    node.parent = parent
                # Only billing providers (20) and subscribers (22) are parents in an 837P, and the
                # levels come depth first: a subscriber follows its billing provider, a patient (23)
                # its subscriber. So only the last few of each are kept as possible parents; keeping
                # them all would hold every subscriber loop of the transaction set in memory.
                # (A repeated HL01: the latest HL with that number is the one found, as always.)
                recent_billing.pop(node.hl_id, None)
                recent_subscribers.pop(node.hl_id, None)
                kept = recent_billing if node.level == "20" else recent_subscribers if node.level == "22" else None
                if kept is not None:
                    if len(kept) >= _RECENT_PARENTS:
                        del kept[next(iter(kept))]
                    kept[node.hl_id] = node
                current_hl = node
                hl_last = position + max_loop - 1  # the loop's last allowed position
                if node.level == "20":
                    billing, subscriber, patient = node, None, None
                elif node.level == "22":
                    subscriber, patient = node, None
                    if node.parent is not None and node.parent.level == "20":
                        billing = node.parent
                elif node.level == "23":
                    patient = node
                    if node.parent is not None and node.parent.level == "22":
                        subscriber = node.parent
                loop = node.loop
                seg.loop = loop
                continue
            if sid == "CLM":
                done = finish_claim()
                if done is not None:
                    yield done
                loop = "2300"
                seg.loop = loop
                current_hl = None
                tx.claims += 1
                claim_segments = [seg]
                # The claim's last allowed position and byte offset ([limits] claim_segments, claim_bytes).
                claim_last = position + max_claim_segments - 1
                claim_end = seg.offset + max_claim_bytes
                claim = Claim(seg, claim_segments, tx, billing, subscriber, patient, number=tx.claims)
                continue
            # Header: BHT, 1000A, 1000B.
            if sid == "NM1":
                loop = {"41": "1000A", "40": "1000B"}.get(seg.el(1), loop)
            seg.loop = loop or "HEADER"
            tx.header.append(seg)
            if len(tx.header) > 1000:
                raise UnusableInput("EN008", "the transaction header has more than 1000 segments before its first HL", seg.offset)
            continue

        # ---- envelope level ----
        if sid in _OPENERS:
            envelopes += 1
            if envelopes > max_envelopes:
                raise UnusableInput(
                    "EN013", f"more than {max_envelopes} interchanges, groups and transaction sets in the file "
                    f"([limits] envelopes)", seg.offset, sid,
                )
        if sid == "ISA":
            if isa is not None:
                raise UnusableInput("EN006", f"truncated: interchange {_shown(isa.control)} has no IEA trailer before the next ISA", seg.offset, "ISA")
            isa = Interchange(seg, seg.delims, seg.el(13).strip())
            _check_isa(seg, isa.findings)
            seg.loop = "ISA"
            yield isa
        elif sid == "IEA":
            if isa is None:
                raise UnusableInput("EN009", f"IEA at byte {seg.offset} without an ISA", seg.offset, "IEA")
            if gs is not None:
                raise UnusableInput("EN006", f"truncated: functional group {_shown(gs.control)} has no GE trailer before IEA", seg.offset, "IEA")
            seg.loop = "IEA"
            end = InterchangeEnd(isa, seg)
            check_count(end.findings, seg, 1, isa.groups, "IEA01", "functional groups in the interchange")
            check_control(end.findings, seg, 2, isa.control, "IEA02", "ISA13")
            yield end
            isa = None
        elif sid == "GS":
            if isa is None:
                raise UnusableInput("EN009", f"GS at byte {seg.offset} outside an interchange", seg.offset, "GS")
            if gs is not None:
                raise UnusableInput("EN006", f"truncated: functional group {_shown(gs.control)} has no GE trailer before the next GS", seg.offset, "GS")
            gs = Group(seg, seg.el(6), seg.el(8))
            seg.loop = "GS"
            yield gs
        elif sid == "GE":
            if gs is None:
                raise UnusableInput("EN009", f"GE at byte {seg.offset} without a GS", seg.offset, "GE")
            seg.loop = "GE"
            end = GroupEnd(gs, seg)
            check_count(end.findings, seg, 1, gs.transactions, "GE01", "transaction sets in the group")
            check_control(end.findings, seg, 2, gs.control, "GE02", "GS06")
            isa.groups += 1  # type: ignore[union-attr]
            yield end
            gs = None
        elif sid == "ST":
            if gs is None:
                raise UnusableInput("EN009", f"ST at byte {seg.offset} outside a functional group", seg.offset, "ST")
            _check_st(seg, gs)
            tx = Transaction(seg, seg.el(2), isa, gs)  # type: ignore[arg-type]
            position = 1
            seg.position = 1
            seg.loop = "ST"
            billing = subscriber = patient = current_hl = None
            recent_billing = {}
            recent_subscribers = {}
            claim = line = None
            loop = "HEADER"
            yield tx
        elif sid == "" and not seg.raw.strip():
            raise UnusableInput("EN009", f"an empty segment at byte {seg.offset} outside a transaction set", seg.offset)
        else:
            where = "after the last IEA" if isa is None else "outside a transaction set"
            raise UnusableInput("EN009", f"segment {sid[:3]!r} at byte {seg.offset} stands {where}", seg.offset, sid[:3])

    if tx is not None or gs is not None or isa is not None:
        what = (
            f"transaction set {_shown(tx.control)} has no SE" if tx is not None
            else f"functional group {_shown(gs.control)} has no GE" if gs is not None
            else f"interchange {_shown(isa.control)} has no IEA"  # type: ignore[union-attr]
        )
        raise UnusableInput("EN006", f"truncated: the file ends before its trailers ({what})", seg.offset if seg else 0)


def _claim_loop(loop: str, seg: Segment) -> str:
    sid = seg.id
    if sid == "LX":
        return "2400"
    in_lines = loop.startswith("24")
    if sid == "NM1":
        code = seg.el(1)
        if in_lines:
            return _NM1_2420.get(code, loop)
        if loop.startswith("232") or loop.startswith("233"):
            return _NM1_2330.get(code, loop)
        return _NM1_2310.get(code, loop)
    if sid == "SBR" and not in_lines:
        return "2320"
    if in_lines:
        if sid == "LIN":
            return "2410"
        if sid == "SVD":
            return "2430"
        if sid == "LQ":
            return "2440"
        if sid in ("SV1", "SV5", "SV2", "SV3"):
            return "2400"
    return loop


# An HI as sent -> (delimiters, HI01-1, [(element index, qualifier, code)]): a pure function of its
# text and delimiters; the same codes come back claim after claim (bounded).
_HI_PARTS: dict[str, tuple] = {}


def _hi_parts(seg: Segment) -> tuple:
    sep = seg.delims.component
    elements = seg.elements
    parts = []
    for index in range(1, len(elements)):
        value = elements[index]
        if value:
            split = value.split(sep)
            parts.append((index, split[0], split[1] if len(split) > 1 else ""))
        else:
            parts.append((index, "", ""))
    if len(_HI_PARTS) >= 4096:
        _HI_PARTS.clear()
    found = _HI_PARTS[seg.raw] = (seg.delims, parts[0][1] if parts else "", tuple(parts))
    return found


def _add_diagnoses(claim: Claim, seg: Segment) -> None:
    found = _HI_PARTS.get(seg.raw)
    if found is None or found[0] is not seg.delims:
        found = _hi_parts(seg)
    first_qualifier = found[1]
    if first_qualifier in _NON_DIAGNOSIS_HI:
        return
    if claim.hi_segments and first_qualifier not in DIAGNOSIS_QUALIFIERS:
        return
    claim.hi_segments.append(seg)
    diagnoses = claim.diagnoses
    start = len(diagnoses) and diagnoses[-1].position
    append = diagnoses.append
    for index, qualifier, code in found[2]:
        append(Diagnosis(start + index, qualifier, code, seg, index))


_PLAIN = re.compile(r"[0-9A-Za-z._-]{1,20}")


def _shown(value: str) -> str:
    """A value quoted in a message: as it is when short and plain (a control number, a version),
    else described by its length (a broken terminator can make one element of the whole file)."""
    if not value or _PLAIN.fullmatch(value):
        return value
    return f"(a {len(value)}-character value)"


def _quoted(value: str) -> str:
    shown = _shown(value)
    return repr(shown) if shown == value else shown


def check_count(findings: list, seg: Segment, index: int, actual: int, element: str, what: str) -> None:
    sent = seg.el(index)
    if sent != str(actual) and sent.lstrip("0") != str(actual):
        findings.append(EnvelopeProblem(
            "EN101", seg, element, sent, str(actual),
            f"{element} says {_shown(sent) or 'nothing'} but there are {actual} {what}; the outputs carry the recounted value",
        ))


def check_control(findings: list, seg: Segment, index: int, expected: str, element: str, header: str) -> None:
    sent = seg.el(index).strip()
    if sent != expected:
        findings.append(EnvelopeProblem(
            "EN102", seg, element, sent, expected,
            f"{element} ({_shown(sent) or 'empty'}) does not match {header} ({_shown(expected)}); the outputs carry {header}",
        ))


def _check_isa(seg: Segment, findings: list) -> None:
    if len(seg.elements) != 17:
        raise UnusableInput("EN003", f"ISA segment is malformed: {len(seg.elements) - 1} elements instead of 16", seg.offset, "ISA")
    if len(seg.raw) + 1 != ISA_LENGTH:
        findings.append(EnvelopeProblem(
            "EN103", seg, "ISA", str(len(seg.raw) + 1), str(ISA_LENGTH),
            f"the ISA is {len(seg.raw) + 1} characters with its terminator, not the fixed {ISA_LENGTH}; "
            f"many translators reject such an interchange",
        ))
    version = seg.el(12)
    if version != "00501":
        findings.append(EnvelopeProblem(
            "EN103", seg, "ISA12", version, "00501",
            f"ISA12 (interchange control version) is {_quoted(version)}; 00501 is expected with 005010X222A1",
        ))


def _check_st(seg: Segment, gs: Group) -> None:
    kind = seg.el(1)
    version = seg.el(3) or gs.version
    if kind != "837":
        raise UnusableInput(
            "EN007",
            f"not an 837P: transaction set {_shown(seg.el(2))} is a {_shown(kind) or 'blank'} (ST01), not an 837 claim",
            seg.offset,
            "ST",
        )
    if version.startswith("005010X223"):
        raise UnusableInput("EN007", f"not an 837P: transaction set {_shown(seg.el(2))} is an 837I ({_shown(version)})", seg.offset, "ST")
    if version.startswith("005010X224"):
        raise UnusableInput("EN007", f"not an 837P: transaction set {_shown(seg.el(2))} is an 837D ({_shown(version)})", seg.offset, "ST")
    if version.startswith("004010"):
        raise UnusableInput("EN007", f"unsupported version: transaction set {_shown(seg.el(2))} is 4010 ({_shown(version)}); 005010X222A1 expected", seg.offset, "ST")
    if version not in ACCEPTED_VERSIONS:
        raise UnusableInput(
            "EN007",
            f"not an 837P: transaction set {_shown(seg.el(2))} is labelled {_quoted(version) if version else 'with no version'}; 005010X222A1 expected",
            seg.offset,
            "ST",
        )
