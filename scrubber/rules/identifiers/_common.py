"""What the identifier rules share: the NPI check digit (also for the tests and tools)."""

from __future__ import annotations

_NPIS: dict[str, bool] = {}  # the same few NPIs on every claim of a file: a bounded cache


def luhn_npi_ok(npi: str) -> bool:
    """NPI check digit: Luhn over the prefix 80840 + the first 9 digits (CMS NPI standard)."""
    known = _NPIS.get(npi)
    if known is None:
        if len(_NPIS) >= 4096:
            _NPIS.clear()
        known = _NPIS[npi] = _luhn_npi(npi)
    return known


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
