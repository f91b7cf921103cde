"""What an 837P value is worth, read the same way by the shared claim facts and by the rules: an X12
R amount, a charge, a unit count, an NPI's check digit, the shape of a procedure code.

Each is a pure function of the text as sent; the answers are memoised (bounded), since the same
few values come back on claim after claim.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from functools import lru_cache

_AMOUNT_RE = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)")


@lru_cache(maxsize=4096)  # amounts repeat across claims
def amount(text: str) -> Decimal | None:
    """An X12 R amount as a Decimal (never a float), None when it is not a plain decimal number."""
    if not _AMOUNT_RE.fullmatch(text):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
        return None


# amount text -> (its value, a valid charge: a number not negative), and -> a positive number
# (the same few amounts on many lines: bounded caches).
CHARGES: dict[str, tuple[Decimal | None, bool]] = {}
UNITS: dict[str, bool] = {}
_LIMIT = 4096


def charge_of(text: str) -> tuple[Decimal | None, bool]:
    """An amount as a charge: ``(its value or None, a number not negative)``."""
    known = CHARGES.get(text)
    if known is None:
        value = amount(text)
        if len(CHARGES) >= _LIMIT:
            CHARGES.clear()
        known = CHARGES[text] = (value, value is not None and not value < 0)
    return known


CENTS: dict[str, int | None] = {}


def cents_of(text: str) -> int | None:
    """An amount in whole cents (``"45.5"`` -> 4550), None when it is not a number or has a
    fraction of a cent (then only its Decimal value says it exactly)."""
    try:
        return CENTS[text]
    except KeyError:
        pass
    value = amount(text)
    found = None
    if value is not None:
        scaled = value * 100
        if scaled == scaled.to_integral_value():
            found = int(scaled)
    if len(CENTS) >= _LIMIT:
        CENTS.clear()
    CENTS[text] = found
    return found


def units_ok(text: str) -> bool:
    """A unit count (SV104) is a positive number."""
    known = UNITS.get(text)
    if known is None:
        value = amount(text)
        if len(UNITS) >= _LIMIT:
            UNITS.clear()
        known = UNITS[text] = value is not None and value > 0
    return known


@lru_cache(maxsize=4096)  # the same few NPIs on every claim of a file
def luhn_npi_ok(npi: str) -> bool:
    """NPI check digit: Luhn over the prefix 80840 + the first 9 digits (CMS NPI standard)."""
    if len(npi) != 10 or not npi.isdigit() or not npi.isascii():
        return False
    total = 0
    for i, ch in enumerate(reversed("80840" + npi[:9])):
        n = int(ch)
        if i % 2 == 0:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return (10 - total % 10) % 10 == int(npi[9])


_CPT_RE = re.compile(r"\d{4}[0-9FTU]")  # CPT category I (5 digits), II (F), III (T), PLA (U)
_HCPCS_RE = re.compile(r"[A-Z]\d{4}")  # HCPCS level II


@lru_cache(maxsize=4096)
def procedure_shape_ok(code: str) -> bool:
    """A procedure code is a CPT or HCPCS level II code in shape."""
    return bool(_CPT_RE.fullmatch(code) or _HCPCS_RE.fullmatch(code))


#: SV101-1 procedure code qualifiers (ID003).
PROCEDURE_QUALIFIERS = {"HC": "HCPCS/CPT", "ER": "jurisdiction specific", "IV": "HIEC", "WK": "ABC codes"}
#: SV103 unit bases of an 837P line (ID005): units and minutes.
UNIT_BASES = frozenset(("UN", "MJ"))
