"""Which dates each loaded code set covers, and whether it covers the run's date (``--as-of``).

One place for the answer that ``scrubber codesets`` prints in its first line, that every scrub
prints as one warning line on standard error when a table is out of date, and that the report's
``code_sets`` records:

- ICD-10-CM: its fiscal years (dates of service to September 30 of the newest);
- the back-pain maps: each file's ``effective_to``;
- NCCI PTP and MUE: the quarter loaded. NCCI quarters have no end date (each replaces the last),
  so a table is out of date as soon as a newer quarter has begun, and says how many quarters old.

Place of service has no end date to check. Loading is lazy and each table is read once per
process (the loaders cache), so calling this per run costs nothing after the first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, slots=True)
class Coverage:
    key: str  # icd10cm, backpain/groups.toml, ncci_ptp, ncci_mue
    label: str  # what an operator reads: "ICD-10-CM", "NCCI PTP"
    start: date | None
    end: date | None  # None: no end date (NCCI: replaced by the next quarter)
    stale: str | None  # why it does not cover the as-of date, or None


def quarter_age(quarter: date, as_of: date) -> str:
    """``"current"`` or ``"9 quarters old"`` (or ``"newer than the as-of date"``)."""
    from scrubber.codesets.ncci import quarter_age as quarters_old

    if quarter > as_of:
        return "newer than the as-of date"
    n = quarters_old(quarter, as_of)
    return "current" if n == 0 else f"{n} quarter{'s' if n != 1 else ''} old"


def coverage(as_of: date) -> list[Coverage]:
    """Every loaded table's coverage against ``as_of``. A table that cannot be loaded is left out
    (the run that needs it says why)."""
    out: list[Coverage] = []
    try:
        from scrubber.codesets.icd10cm import load_icd10cm

        icd = load_icd10cm()
    except (OSError, ValueError):
        icd = None
    if icd is not None:
        start, end = icd.effective
        stale = None
        if as_of > end:
            stale = (f"ICD-10-CM ends FY{icd.fiscal_years[-1]} ({end.isoformat()}); "
                     f"{as_of.isoformat()} is in FY{icd.fiscal_year_of(as_of)}")
        elif as_of < start:
            stale = f"ICD-10-CM starts {start.isoformat()}"
        out.append(Coverage("icd10cm", "ICD-10-CM", start, end, stale))
    try:
        from scrubber.codesets.backpain import MapError, load_backpain_maps

        maps = load_backpain_maps()
    except (ImportError, MapError, OSError):
        maps = None
    if maps is not None:
        for name, mf in maps.files.items():
            stale = None
            if not mf.covers(as_of):
                stale = f"back-pain map {name} covers {mf.effective_from.isoformat()} to {mf.effective_to.isoformat()}"
            out.append(Coverage(f"backpain/{name}", f"back-pain map {name}", mf.effective_from, mf.effective_to, stale))
    quarters = _ncci_quarters()
    if quarters is not None:
        from scrubber.codesets.ncci import quarter_age as quarters_old

        for key, label, quarter in (("ncci_ptp", "NCCI PTP", quarters[0]), ("ncci_mue", "NCCI MUE", quarters[1])):
            stale = None
            if quarters_old(quarter, as_of) > 0:
                stale = f"{label} quarter {quarter.isoformat()} ({quarter_age(quarter, as_of)})"
            out.append(Coverage(key, label, quarter, None, stale))
    return out


def _ncci_quarters() -> tuple[date, date] | None:
    """The NCCI quarters in use, read from the tables' headers (the tables themselves load when a
    claim needs them); None when a table is missing or broken (the run that loads it says why)."""
    from scrubber.codesets.ncci import NcciError, quarters

    try:
        return quarters()
    except (NcciError, OSError, ValueError):
        return None


def stale_reasons(as_of: date) -> list[str]:
    """Why tables do not cover ``as_of``, one reason per table (the back-pain maps as one)."""
    out: list[str] = []
    maps: list[Coverage] = []
    for c in coverage(as_of):
        if not c.stale:
            continue
        if c.key.startswith("backpain/"):
            maps.append(c)
        else:
            out.append(c.stale)
    if maps:
        names = ", ".join(c.key.split("/", 1)[1] for c in maps)
        if all(c.end is not None and as_of > c.end for c in maps):
            out.append(f"back-pain maps end {min(c.end for c in maps).isoformat()} ({names})")
        else:
            out.append(f"back-pain maps do not cover it ({names})")
    return out


def warning_line(as_of: date) -> str | None:
    """One line for standard error when a table does not cover ``as_of``, else None."""
    reasons = stale_reasons(as_of)
    if not reasons:
        return None
    return (f"warning: code sets out of date for {as_of.isoformat()}: " + "; ".join(reasons)
            + " (scrubber codesets add FILE loads newer CMS files)")


def code_sets_used(as_of: date | None = None) -> dict:
    """The report's ``code_sets``: ICD-10-CM releases, and the NCCI quarters with their age."""
    out: dict = {}
    try:
        from scrubber.codesets.icd10cm import load_icd10cm

        out["icd10cm"] = load_icd10cm().releases
    except (OSError, ValueError):
        pass
    quarters = _ncci_quarters()
    if quarters is not None:
        from scrubber.codesets.ncci import quarter_age as quarters_old

        entry = {"ptp": quarters[0].isoformat(), "mue": quarters[1].isoformat()}
        if as_of is not None:
            entry["quarters_old"] = quarters_old(min(quarters), as_of)
        out["ncci"] = entry
    return out
