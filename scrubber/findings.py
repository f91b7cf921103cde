"""The finding record: what a rule says about a claim, a transaction or a file, and where."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scrubber.x12.reader import Segment

SEVERITIES = ("error", "warning", "info", "not_checked")


ODD_ID = 6  # a segment "id" longer than this is a segment's text (see Finding._name_odd_segment)


def odd_segment_id(segment_id: str) -> str:
    """A segment "id" longer than three characters, named without its content: its first three
    characters and its length (``"SBR... (a 412-character segment id)"``)."""
    return f"{segment_id[:3]}... (a {len(segment_id)}-character segment id)"
SEVERITY_ORDER = {name: i for i, name in enumerate(SEVERITIES)}
_ACKS: dict = {}  # Ack.parse: text -> Ack (immutable, so shared)


@dataclass(frozen=True, slots=True)
class Ack:
    """The 277CA claim status category (STC01-1) and status code (STC01-2) a payer would send."""

    category: str
    status: str

    @classmethod
    def parse(cls, text: str | None) -> Ack | None:
        if not text:
            return None
        known = _ACKS.get(text)  # a few distinct texts (the rules' ack codes): parsed once each
        if known is None or type(known) is not cls:
            category, _, status = text.partition(":")
            known = cls(category, status)
            if len(_ACKS) < 1024:
                _ACKS[text] = known
        return known

    def __str__(self) -> str:
        return f"{self.category}:{self.status}"


@dataclass(slots=True, unsafe_hash=True, init=False)
class Finding:
    """What a rule found and where. A value: compared and hashed by its fields, never changed once
    made (a changed severity is a new finding, see ``replace_severity``). Not a frozen dataclass
    only because a frozen one costs three times as much to make, and claims carry many."""

    rule: str
    severity: str
    message: str
    loop: str | None = None
    segment: str | None = None
    position: int | None = None
    element: str | None = None
    value: str | None = None
    ack: Ack | None = None
    offset: int | None = None  # byte offset of the segment in the input (not in the contract's JSON)

    def __init__(self, rule: str, severity: str, message: str, loop: str | None = None, segment: str | None = None,
                 position: int | None = None, element: str | None = None, value: str | None = None,
                 ack: Ack | None = None, offset: int | None = None) -> None:
        # (Written out, with the check of the segment id in it: findings are made by the thousand.)
        self.rule, self.severity, self.message, self.loop, self.segment = rule, severity, message, loop, segment
        self.position, self.element, self.value, self.ack, self.offset = position, element, value, ack, offset
        if segment is not None and len(segment) > ODD_ID:
            self._name_odd_segment()

    def _name_odd_segment(self) -> None:
        # A segment id is two or three characters (a mangled one such as NM31 a few more). A
        # longer one is a segment whose element separator was not found (a mangled ISA, or
        # segments run together): its "id" is the segment's whole text, which may carry anyone's
        # data. It is named by its first three characters and its length only, in every field
        # and in the message.
        segment = self.segment
        if segment is not None and len(segment) > ODD_ID:
            label = odd_segment_id(segment)
            set_ = object.__setattr__
            set_(self, "segment", segment[:3])
            set_(self, "message", self.message.replace(segment, label))
            if self.element and self.element.startswith(segment):
                set_(self, "element", None)
            if self.value and segment in self.value:
                set_(self, "value", None)

    @classmethod
    def at(
        cls,
        rule: str,
        severity: str,
        message: str,
        seg: Segment | None,
        element: str | None = None,
        value: str | None = None,
        ack: Ack | None = None,
    ) -> Finding:
        if seg is None:
            return cls(rule, severity, message, element=element, value=value, ack=ack)
        return cls(rule, severity, message, seg.loop or None, seg.id, seg.position, element, value, ack, seg.offset)

    def replace_severity(self, severity: str) -> Finding:
        return Finding(self.rule, severity, self.message, self.loop, self.segment, self.position, self.element,
                       self.value, self.ack, self.offset)

    def sort_key(self) -> tuple:
        return (self.position if self.position is not None else -1, SEVERITY_ORDER.get(self.severity, 9), self.rule)

    def where(self) -> str:
        """Where, as an EDI analyst says it: ``2400 SV1 #41 SV107-2``."""
        parts = [p for p in (self.loop, self.segment) if p]
        if self.position is not None:
            parts.append(f"#{self.position}")
        if self.element:
            parts.append(self.element)
        if not parts and self.offset is not None:
            parts.append(f"byte {self.offset}")
        return " ".join(parts)

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "message": self.message,
            "loop": self.loop,
            "segment": self.segment,
            "position": self.position,
            "element": self.element,
            "value": self.value,
            "ack": {"category": self.ack.category, "status": self.ack.status} if self.ack else None,
        }


def cut_summary(left_out: list[Finding] | dict, limit: int, setting: str, what: str) -> Finding:
    """The one finding that stands for the findings left out past a limit (EN106): how many, of
    which rules, and at the severity of the most severe of them, so that the verdict the listed
    findings show is the verdict of them all. ``left_out``: the findings, or counts
    ``{(rule, severity): n}``."""
    if isinstance(left_out, dict):
        counts = dict(left_out)
    else:
        counts = {}
        for f in left_out:
            key = (f.rule, f.severity)
            counts[key] = counts.get(key, 0) + 1
    total = sum(counts.values())
    by_rule: dict[str, int] = {}
    for (rule, _), n in counts.items():
        by_rule[rule] = by_rule.get(rule, 0) + n
    severity = min((sev for _, sev in counts), key=lambda s: SEVERITY_ORDER.get(s, 9), default="info")
    listed = ", ".join(f"{rule} x{n}" for rule, n in sorted(by_rule.items(), key=lambda kv: (-kv[1], kv[0]))[:10])
    message = (f"{total} more {what} not listed (over the limit of {limit}, [limits] {setting}): {listed}"
               f"{', ...' if len(by_rule) > 10 else ''}")
    return Finding("EN106", severity, message)


def cap_findings(findings: list[Finding], limit: int, setting: str = "claim_findings",
                 what: str = "findings of this claim") -> list[Finding]:
    """``findings`` cut to ``limit`` (in their order) plus one summary finding for the rest
    (:func:`cut_summary`); ``findings`` itself when within the limit."""
    if len(findings) <= limit:
        return findings
    return findings[:limit] + [cut_summary(findings[limit:], limit, setting, what)]
