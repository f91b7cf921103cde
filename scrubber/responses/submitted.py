"""What the scrub of the submitted 837P says of each claim, collected as it streams by.

:class:`SubmittedClaims` is a sink of the scrub (:mod:`scrubber.report.sink`): for each claim it
keeps a small record (control numbers, charge, predicted status and rules, the CLM and SV1
positions, the procedures of its lines) and, for the positions a 999 points at
(``wanted``), the segment found there: its id, loop and the value of the element named (a
personal value is masked). Memory grows with the claims' records, never with their segments.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from scrubber.report.explain import MASK, masked_indexes
from scrubber.report.outcome import ClaimOutcome, FileOutcome
from scrubber.report.sink import Sink


@dataclass(slots=True)
class SubmittedLine:
    number: int
    procedure: str
    modifiers: list[str]
    position: int | None  # the SV1's
    charge: str
    control: str  # REF*6R, the line item control number


@dataclass(slots=True)
class SubmittedClaim:
    index: int  # order in the file
    claim_id: str
    interchange: str
    group: str
    transaction: str
    charge: str
    position: int | None  # the CLM's
    last_position: int | None
    predicted: str  # accepted | rejected
    rules: list[str]  # rules of severity error
    warnings: list[str]
    lines: list[SubmittedLine] = field(default_factory=list)
    found: dict = field(default_factory=dict)  # position -> Located, for the wanted positions


@dataclass(slots=True)
class Located:
    segment: str
    loop: str
    elements: list[str]  # masked where personal
    component: str


class SubmittedClaims(Sink):
    """Collects :class:`SubmittedClaim` records; ``wanted`` maps (GS06, ST02) to the positions
    whose segments are wanted (the 999's IK3s)."""

    def __init__(self, wanted: dict[tuple[str, str], set[int]] | None = None):
        self.wanted = wanted or {}
        self.claims: list[SubmittedClaim] = []
        self.header: dict[tuple[str, str], dict[int, Located]] = {}  # segments of the header wanted
        self.interchanges: set[str] = set()
        self.transactions: set[tuple[str, str]] = set()
        self.groups: set[str] = set()
        self.outcome: FileOutcome | None = None

    def transaction(self, event) -> None:
        key = (event.group.control, event.control)
        self.transactions.add(key)
        self.groups.add(event.group.control)
        self.interchanges.add(event.interchange.control)
        want = self.wanted.get(key)
        if want:
            found = self.header.setdefault(key, {})
            for seg in [event.st, *event.header]:
                if seg.position in want:
                    found[seg.position] = _located(seg)

    def claim(self, result: ClaimOutcome) -> None:
        claim = result.claim
        tx = claim.transaction
        key = (tx.group.control, tx.control)
        errors = sorted({f.rule for f in result.findings if f.severity == "error"})
        warnings = sorted({f.rule for f in result.findings if f.severity == "warning"})
        record = SubmittedClaim(
            len(self.claims), claim.claim_id, tx.interchange.control, tx.group.control, tx.control, claim.charge,
            claim.clm.position, claim.segments[-1].position if claim.segments else claim.clm.position,
            result.status, errors, warnings,
        )
        for line in claim.lines:
            control = next((s.el(2) for s in line.segments if s.id == "REF" and s.el(1) == "6R"), "")
            record.lines.append(SubmittedLine(line.number, line.procedure, line.modifiers,
                                              line.sv1.position if line.sv1 is not None else None,
                                              line.sv1.el(2) if line.sv1 is not None else "", control))
        want = self.wanted.get(key)
        if want:
            for node in (claim.billing, claim.subscriber, claim.patient):
                segs = node.segments if node is not None else ()
                for seg in segs:
                    if seg.position in want:
                        record.found[seg.position] = _located(seg)
            for seg in [claim.clm, *claim.segments]:
                if seg.position in want:
                    record.found[seg.position] = _located(seg)
        self.claims.append(record)

    def finish(self, outcome: FileOutcome) -> None:
        self.outcome = outcome


def _located(seg) -> Located:
    hide = masked_indexes(seg)
    values = [v if i == 0 or i not in hide or not v else MASK for i, v in enumerate(seg.elements)]
    return Located(seg.id, seg.loop or "", values, seg.delims.component)
