"""Short meanings of the acknowledgment codes the scrubber's findings carry, for the pages an
analyst reads: the 277CA claim status category (STC01-1) and status code (STC01-2) of ``ack``,
and the 999 segment (IK304) and element (IK403) error codes quoted in structural messages.

The texts are the project's own short paraphrases of what each code says to a biller, not the
code lists' wording (X12 and the code-list maintainers own that).
"""

from __future__ import annotations

import re

CATEGORY = {
    "A3": "returned as unprocessable",
    "A6": "rejected: something required is missing",
    "A7": "rejected: something sent is not valid",
    "A8": "rejected: two values do not fit together",
}

STATUS = {
    "21": "information missing or not valid",
    "178": "the charge amount",
    "187": "the date of service",
    "249": "the place of service",
    "254": "the principal diagnosis",
    "255": "a diagnosis code",
    "400": "the claim does not balance (line charges vs total)",
    "454": "the procedure code",
    "476": "the service units or their basis",
    "477": "the diagnosis pointer of a line",
    "562": "a provider identifier (NPI)",
}

IK304 = {
    "1": "segment id not known",
    "2": "segment not expected here",
    "3": "a required segment is missing",
    "4": "a loop repeats too often",
    "5": "a segment repeats too often",
    "6": "segment not defined in this transaction",
    "7": "segment out of order",
    "8": "the segment has element errors",
}

IK403 = {
    "1": "a required element is missing",
    "2": "an element required by another one is missing",
    "3": "too many elements",
    "4": "value too short",
    "5": "value too long",
    "6": "a character not allowed",
    "7": "code value not valid for the element",
    "8": "date not valid",
    "9": "time not valid",
    "10": "an element that must be absent is present",
    "12": "too many repetitions",
    "13": "too many components",
}

_QUOTED = re.compile(r"\b999 (IK304|IK403) (\d+)")


def ack_meaning(ack: str | None) -> str | None:
    """``A7:477`` -> ``rejected: something sent is not valid - the diagnosis pointer of a line``."""
    if not ack:
        return None
    category, _, status = str(ack).partition(":")
    parts = [p for p in (CATEGORY.get(category), STATUS.get(status)) if p]
    return " \u2013 ".join(parts) if parts else None


def quoted_999_codes(message: str) -> list[tuple[str, str, str]]:
    """The 999 codes a structural message quotes (``... (999 IK403 7)``), with their meanings."""
    out = []
    for kind, code in _QUOTED.findall(message or ""):
        meaning = (IK304 if kind == "IK304" else IK403).get(code)
        if meaning:
            out.append((kind, code, meaning))
    return out
