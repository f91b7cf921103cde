"""What the identifier and balancing rules share: the NPI check digit (also for the tests and
tools), the shape of a procedure code, and one pass over a claim's SV1 segments that says which
of the line checks (BL001, BL002, ID002-ID005) can have something to say on the claim."""

from __future__ import annotations

import re
from functools import lru_cache
from decimal import Decimal

from scrubber.rules.facts import ClaimFacts, claim_fact, amount

@lru_cache(maxsize=4096)  # the same few NPIs on every claim of a file
def luhn_npi_ok(npi: str) -> bool:
    """NPI check digit: Luhn over the prefix 80840 + the first 9 digits (CMS NPI standard)."""
    return _luhn_npi(npi)


def _luhn_npi(npi: str) -> bool:
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
_UNIT_BASES = frozenset(("UN", "MJ"))

# What the line scan finds (bits of :func:`line_scan`'s flags).
BAD_CHARGE = 1  # an SV102 missing, not a number or negative (BL002)
BAD_SHAPE = 2  # an HC procedure code not a CPT or HCPCS level II code in shape (ID002)
BAD_QUALIFIER = 4  # an SV101-1 not HC, ER, IV or WK (ID003)
BAD_UNITS = 8  # an SV104 missing, not a number or not positive (ID004)
BAD_BASIS = 16  # an SV103 not UN or MJ (ID005)

# amount text -> (its value, a valid charge: a number not negative), and -> a positive number
# (the same few amounts on many lines: bounded caches).
_CHARGES: dict[str, tuple[Decimal | None, bool]] = {}
_UNITS: dict[str, bool] = {}
_LIMIT = 4096


def charge_of(text: str) -> tuple[Decimal | None, bool]:
    """An amount as a charge: ``(its value or None, a number not negative)``."""
    return _CHARGES.get(text) or _charge(text)


def _charge(text: str) -> tuple[Decimal | None, bool]:
    value = amount(text)
    if len(_CHARGES) >= _LIMIT:
        _CHARGES.clear()
    known = _CHARGES[text] = (value, value is not None and not value < 0)
    return known


def _units_ok(text: str) -> bool:
    value = amount(text)
    if len(_UNITS) >= _LIMIT:
        _UNITS.clear()
    known = _UNITS[text] = value is not None and value > 0
    return known


@claim_fact
def line_scan(facts: ClaimFacts) -> tuple[int, Decimal | None]:
    """One pass over the claim's lines with an SV1, kept with the claim's facts: ``(flags, sum)``,
    ``flags`` the BAD_* bits of the checks that fail on some line, ``sum`` the SV102 charges added
    as decimals (None when one is not a number)."""
    flags = 0
    line_sum: Decimal | None = Decimal(0)
    charges, units = _CHARGES, _UNITS
    qualifiers, bases = PROCEDURE_QUALIFIERS, _UNIT_BASES
    for line in facts.service_lines:
        elements = line.sv1.elements
        n = len(elements)
        text = elements[2] if n > 2 else ""
        charge = charges.get(text) or _charge(text)
        value = charge[0]
        if value is None:
            line_sum = None
            flags |= BAD_CHARGE
        else:
            if not charge[1]:
                flags |= BAD_CHARGE
            if line_sum is not None:
                line_sum += value
        if (elements[3] if n > 3 else "") not in bases:
            flags |= BAD_BASIS
        text = elements[4] if n > 4 else ""
        ok = units.get(text)
        if not (ok or (ok is None and _units_ok(text))):
            flags |= BAD_UNITS
        sv101 = line.sv101
        q = sv101[0] if sv101 else ""
        if q not in qualifiers:
            flags |= BAD_QUALIFIER
        elif q == "HC":
            code = line.procedure
            if not procedure_shape_ok(code):
                flags |= BAD_SHAPE
    return (flags, line_sum)
