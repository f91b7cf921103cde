"""Diagnosis rules: the HI segment's format (DX00x) and ICD-10-CM validity on the date of service (DX1xx).

ICD-10-CM validity is checked against the code set of the fiscal year of each service line's
date (2400 DTP*472, else the claim's 2300 DTP*472), for the diagnoses the line points at and
the principal diagnosis (HI01); a diagnosis no line points at is checked on the claim's first
date of service. Dates outside the loaded fiscal years give a ``not_checked`` finding (DX110),
never a silent pass.
"""

from __future__ import annotations

from collections.abc import Iterator
import datetime
from datetime import date

from ..codesets.icd10cm import format_code
from ..findings import Finding
from ..model import Claim
from ..reader import Segment
from ._facts import claim_dates
from .base import Context, Rule

ICD10_START = date(2015, 10, 1)  # ICD-10-CM replaced ICD-9-CM for dates of service from this day
_ICD10_QUALIFIERS = ("ABK", "ABF")
_ICD9_QUALIFIERS = ("BK", "BF")
_QUALIFIERS = {"ABK", "ABF", "BK", "BF", "APR", "PR", "ABJ", "BJ", "ADD", "DR"}
_MAX_CODES = 12


# --- the HI segment, read once per claim --------------------------------------------------------


class _Entry:
    """One diagnosis composite as sent: ``ref`` is ``HI03`` (its element), ``split`` when the
    qualifier and code came as two elements (``HI*BK*8901``)."""

    __slots__ = ("number", "seg", "element", "qualifier", "code", "split", "has_qualifier")

    def __init__(self, number: int, seg: Segment, element: int, qualifier: str, code: str, split: bool, has_qualifier: bool):
        self.number, self.seg, self.element = number, seg, element
        self.qualifier, self.code, self.split, self.has_qualifier = qualifier, code, split, has_qualifier

    @property
    def ref(self) -> str:
        return f"HI{self.element:02d}"


def _entries(claim: Claim, ctx: Context) -> list[_Entry]:
    """The claim's diagnosis composites as sent, read once per claim (shared by DX001-DX006)."""
    slot = ctx.maps.get("hi-entries")
    if slot is not None and slot[0] is claim:
        return slot[1]
    entries = _read_entries(claim)
    ctx.maps["hi-entries"] = (claim, entries)  # only the last claim is kept
    return entries


def _read_entries(claim: Claim) -> list[_Entry]:
    out: list[_Entry] = []
    number = 0
    for seg in claim.hi_segments:
        elements = seg.elements
        sep = seg.delims.component
        n = len(elements)
        i = 1
        while i < n:
            value = elements[i]
            if not value:
                i += 1
                continue
            parts = value.split(sep)
            number += 1
            if len(parts) == 1 and parts[0] in _QUALIFIERS and i + 1 < n and elements[i + 1] and sep not in elements[i + 1]:
                out.append(_Entry(number, seg, i, parts[0], seg.el(i + 1), True, True))
                i += 2
                continue
            if len(parts) == 1:  # a code with no qualifier (or a qualifier with no code)
                if parts[0] in _QUALIFIERS:
                    out.append(_Entry(number, seg, i, parts[0], "", False, True))
                else:
                    out.append(_Entry(number, seg, i, "", parts[0], False, False))
            else:
                out.append(_Entry(number, seg, i, parts[0], parts[1], False, True))
            i += 1
    return out


_WELL_FORMED: dict[str, bool] = {}  # code -> _format_problem(code) is None (bounded cache)


def _well_formed(code: str) -> bool:
    known = _WELL_FORMED.get(code)
    if known is None:
        if len(_WELL_FORMED) >= 8192:
            _WELL_FORMED.clear()
        known = _WELL_FORMED[code] = _format_problem(code) is None
    return known


def _format_problem(code: str) -> str | None:
    """Why a code as sent is not in the X12 form (upper case, no dot, no blanks), or None."""
    if not code:
        return "is empty"
    if "." in code:
        return f"has a decimal point ({code!r}); X12 carries ICD-10-CM codes without it ({code.replace('.', '').strip().upper()!r})"
    if code != code.strip() or " " in code:
        return f"has blanks ({code!r}); send the code alone ({code.replace(' ', '').upper()!r})"
    if code != code.upper():
        return f"is in lower case ({code!r}); send it in capitals ({code.upper()!r})"
    if not code.isascii() or not code.isalnum():
        return f"has characters other than letters and digits ({code!r})"
    return None


# --- ICD-10-CM validity, computed once per claim and shared by DX101-DX110 -----------------------


class _Validity:
    """Findings (as (rule, seg, message, element, value) tuples) of the ICD-10-CM checks of one claim."""

    __slots__ = ("claim", "items")

    def __init__(self, claim: Claim, items: list[tuple]):
        self.claim, self.items = claim, items


_CACHE_LIMIT = 50_000


class _IcdChecker:
    """Looks up (code, fiscal year) once per run; keeps the last claim's results for the DX1xx rules."""

    def __init__(self) -> None:
        self.verdicts: dict[tuple[str, int], tuple[str, str] | None] = {}
        self.last: _Validity | None = None

    def for_claim(self, claim: Claim, ctx: Context) -> list[tuple]:
        last = self.last
        if last is not None and last.claim is claim:
            return last.items
        items = self._check(claim, ctx)
        self.last = _Validity(claim, items)
        return items

    def verdict(self, table, code: str, fy: int) -> tuple[str, str] | None:
        key = (code, fy)
        if key in self.verdicts:
            return self.verdicts[key]
        if len(self.verdicts) > _CACHE_LIMIT:
            self.verdicts.clear()
        self.verdicts[key] = result = _verdict(table, code, fy)
        return result

    def _check(self, claim: Claim, ctx: Context) -> list[tuple]:
        if not claim.diagnoses:
            return []
        table = ctx.icd10cm
        oldest, newest = table.fiscal_years[0], table.fiscal_years[-1]
        dates = claim_dates(claim, ctx)
        first = dates.first
        # Which diagnosis positions are checked on which dates.
        wanted: dict[int, set[date] | tuple[date]] = {}  # (a shared 1-tuple for the first date)
        fy_of = table.fiscal_year_of
        several_years = False  # do the dated lines fall in more than one fiscal year?
        if first is not None:
            fy_first = fy_of(first)
            for d in dates.line_dates:
                if d is not None and fy_of(d) != fy_first:
                    several_years = True
                    break
        if several_years:
            for line, d in zip(claim.lines, dates.line_dates):
                if d is None:
                    continue
                wanted.setdefault(1, set()).add(d)
                for raw in line.pointers:
                    if raw.isdigit() and raw.isascii() and 1 <= int(raw) <= _MAX_CODES:
                        wanted.setdefault(int(raw), set()).add(d)
        if first is not None:
            on_first = (first,)  # (never modified: shared by the positions checked on the first date)
            for dx in claim.diagnoses:  # one fiscal year, or no (dated) line points at it: the first date
                if dx.position not in wanted:
                    wanted[dx.position] = on_first
        items: list[tuple] = []
        principal = claim.diagnoses[0]
        if principal.position == 1 and principal.qualifier == "ABK" and principal.code[:1] in ("V", "W", "X", "Y"):
            items.append(("DX104", principal.segment, f"Principal diagnosis {format_code(principal.code)} (HI01-2) is "
                          f"an external cause code (V00-Y99); it can only be a secondary diagnosis (ABF). Put the "
                          f"injury or condition first.", "HI01-2", principal.code))
        hi = claim.hi_segments[0] if claim.hi_segments else claim.clm
        if first is None:
            items.append(("DX110", hi, f"Claim {claim.claim_id} has no date of service (DTP*472), so its diagnosis "
                          f"codes were not checked against ICD-10-CM.", "HI01-2", None))
            return items
        late: date | None = None
        early: date | None = None
        reported: set[tuple[str, int]] = set()
        for dx in claim.diagnoses:
            on = wanted.get(dx.position)
            if not on or dx.qualifier not in _ICD10_QUALIFIERS or not dx.code or not _well_formed(dx.code):
                continue
            code = dx.code
            for d in (on if len(on) == 1 else sorted(on)):
                fy = fy_of(d)
                if fy < oldest:
                    early = early or d
                    continue
                if fy > newest:
                    late = max(late, d) if late else d
                    fy = newest
                    release = table.release_of(datetime.date(newest, 9, 30))
                else:
                    release = table.release_of(d) if table.april else fy
                found = self.verdict(table, code, release)
                if found is None or (found[0], dx.position) in reported:
                    continue
                reported.add((found[0], dx.position))
                rule, why = found
                items.append((rule, dx.segment, f"Diagnosis {format_code(code)} ({dx.ref}) {why} for the date of "
                              f"service {d.isoformat()} (ICD-10-CM {table.release_label(release)}).", dx.ref, code))
        if late is not None:
            items.append(("DX110", hi, f"Date of service {late.isoformat()} is in FY{table.fiscal_year_of(late)}, past the "
                          f"newest loaded ICD-10-CM code set (FY{newest}, to {newest}-09-30); its diagnosis codes were "
                          f"checked against FY{newest}. Add the newer CMS file (scrubber codesets add).", "HI01-2", None))
        if early is not None:
            items.append(("DX110", hi, f"Date of service {early.isoformat()} is before the oldest loaded ICD-10-CM code "
                          f"set (FY{oldest}, from {oldest - 1}-10-01); ICD-10-CM validity was not checked for it.",
                          "HI01-2", None))
        return items


def _verdict(table, code: str, release: int | tuple[int, int]) -> tuple[str, str] | None:
    fy = release[0] if isinstance(release, tuple) else release
    status = table.status(code, release)
    if status.billable:
        return None
    if status.exists:
        children = table.billable_children(code, release, limit=8)
        if children:
            more = table.billable_children(code, release, limit=9)
            names = ", ".join(format_code(c) for c in children) + (", ..." if len(more) > len(children) else "")
            return "DX102", f"is a header, not billable: it needs more characters ({names})"
        return "DX102", "is a header, not billable: it needs more characters"
    years = table.years_of(code)
    aprils = table.years_of(code, april=True) if table.april else []
    if not years and not aprils:
        return "DX101", "does not exist in ICD-10-CM"
    if isinstance(release, tuple) and any(y == fy for y, _ in years):
        return "DX103", f"is no longer valid: the FY{fy} April update (dates from {fy}-04-01) deleted it"
    if not isinstance(release, tuple) and any(y == fy for y, _ in aprils):
        return "DX103", f"is not valid yet: it is valid from {fy}-04-01 (the FY{fy} April update)"
    years = sorted(set(years) | set(aprils))
    billable = [y for y, b in years if b] or [y for y, _ in years]
    later = [y for y in billable if y > fy]
    earlier = [y for y in billable if y < fy]
    if later:
        return "DX103", f"is not valid yet: it is valid from FY{later[0]} (dates from {later[0] - 1}-10-01)"
    return "DX103", f"is no longer valid: its last year was FY{earlier[-1]} (dates to {earlier[-1]}-09-30)"


_CHECKER_KEY = "icd10cm-checker"


def _validity(claim: Claim, ctx: Context) -> list[tuple]:
    checker = ctx.maps.get(_CHECKER_KEY) or ctx.map(_CHECKER_KEY, _IcdChecker)
    return checker.for_claim(claim, ctx)


class _IcdRule(Rule):
    def check(self, claim: Claim, ctx: Context) -> Iterator[Finding]:
        for rule, seg, message, element, value in _validity(claim, ctx):
            if rule == self.code:
                yield self.finding(seg, message, element=element, value=value)


# --- HI format ------------------------------------------------------------------------------------


class HiQualifier(Rule):
    """Wrong or missing diagnosis qualifier: HI01-1 must be ABK, HI02-1 to HI12-1 ABF.

    ## What it does
    Checks the code list qualifier of each diagnosis composite: ABK (ICD-10-CM principal) in
    HI01-1, ABF (ICD-10-CM other) in HI02-1..HI12-1. A composite sent without a qualifier (just
    the code) is flagged too. ICD-9 qualifiers (BK/BF) are DX002's concern.

    ## Why is this bad
    The qualifier tells the payer which code list and which role the code has; a second ABK or an
    ABF in HI01 is invalid and the claim is rejected (277CA A7:255).

    ## Example
    `HI*ABF:M5450*ABK:M546~` or `HI*ABK:M5450*M546~`

    ## Use instead
    `HI*ABK:M5450*ABF:M546~`

    ## References
    005010X222A1 2300 HI01-1 (ABK), HI02-1..HI12-1 (ABF).
    """

    code = "DX001"
    name = "hi-qualifier"
    summary = "HI01-1 is not ABK or HI02-HI12 qualifier is not ABF"
    ack = "A7:255"
    source = "005010X222A1 2300 HI01-1, HI02-1..HI12-1"

    def check(self, claim: Claim, ctx: Context) -> Iterator[Finding]:
        for e in _entries(claim, ctx):
            expected = "ABK" if e.number == 1 else "ABF"
            q = e.qualifier
            if e.split or q == expected or q in _ICD9_QUALIFIERS:
                continue  # DX006 speaks for a split composite, DX002 for ICD-9 qualifiers
            what = "has no qualifier" if not e.has_qualifier else f"has qualifier {q!r}"
            yield self.finding(
                e.seg,
                f"Diagnosis {e.number} ({e.ref}) {what}; {e.ref}-1 must be {expected} "
                f"({'principal' if expected == 'ABK' else 'other'} ICD-10-CM diagnosis).",
                element=f"{e.ref}-1",
                value=q or None,
            )



class Icd9Qualifier(Rule):
    """ICD-9-CM qualifier (BK/BF) on a claim with dates of service from 2015-10-01.

    ## What it does
    Flags a diagnosis composite qualified BK or BF (ICD-9-CM) when a date of service of the claim
    is on or after 2015-10-01 (or the claim has no date at all).

    ## Why is this bad
    ICD-9-CM codes are not accepted for services from 2015-10-01 on; the claim is rejected
    (277CA A7:255).

    ## Example
    `HI*BK:7242*BF:7231~` with `DTP*472*D8*20250310~`

    ## Use instead
    `HI*ABK:M5450*ABF:M542~`

    ## References
    45 CFR 162.1002 (ICD-10-CM from October 1, 2015); 005010X222A1 2300 HI.
    """

    code = "DX002"
    name = "icd9-qualifier"
    summary = "ICD-9 qualifier BK/BF on a date of service from 2015-10-01"
    ack = "A7:255"
    source = "45 CFR 162.1002; 005010X222A1 2300 HI"

    def check(self, claim: Claim, ctx: Context) -> Iterator[Finding]:
        entries = [e for e in _entries(claim, ctx) if e.qualifier in _ICD9_QUALIFIERS]
        if not entries:
            return
        facts = claim_dates(claim, ctx)
        dates = [d for _, start, end in facts.service for d in (start, end) if d is not None]
        latest = max(dates) if dates else None
        if latest is not None and latest < ICD10_START:
            return
        when = f"the date of service {latest.isoformat()}" if latest else "a claim with no date of service"
        for e in entries:
            yield self.finding(
                e.seg,
                f"Diagnosis {e.number} ({e.ref}) uses ICD-9-CM qualifier {e.qualifier} on {when}; from 2015-10-01 "
                f"diagnoses are ICD-10-CM ({'ABK' if e.number == 1 else 'ABF'}).",
                element=f"{e.ref}-1",
                value=e.qualifier,
            )


class TooManyDiagnoses(Rule):
    """More than 12 diagnosis codes on a claim.

    ## What it does
    Counts the diagnosis composites of the claim's diagnosis HI segments and flags the 13th.

    ## Why is this bad
    An 837P claim carries at most 12 diagnoses (HI01-HI12); more is a syntax error and the claim
    is rejected (277CA A7:255).

    ## Example
    `HI*ABK:M5450*ABF:M546*...*ABF:M25511~` with 13 composites

    ## Use instead
    The 12 diagnoses that the service lines need, principal first; split the services into two
    claims if more are needed.

    ## References
    005010X222A1 2300 HI (HI01-HI12).
    """

    code = "DX003"
    name = "too-many-diagnoses"
    summary = "more than 12 diagnosis codes"
    ack = "A7:255"
    source = "005010X222A1 2300 HI01-HI12"

    def check(self, claim: Claim, ctx: Context) -> Iterator[Finding]:
        entries = _entries(claim, ctx)
        if len(entries) > _MAX_CODES:
            e = entries[_MAX_CODES]
            yield self.finding(
                e.seg,
                f"Claim {claim.claim_id} has {len(entries)} diagnosis codes; at most {_MAX_CODES} are allowed "
                f"({e.ref} is the 13th).",
                element=e.ref,
                value=e.code or None,
            )


class DiagnosisFormat(Rule):
    """Diagnosis code not in the X12 form: decimal point, lower case, blanks, other characters, empty.

    ## What it does
    Flags an HIxx-2 code that has a decimal point (`M54.6`), lower-case letters, blanks or other
    characters than letters and digits, or is empty after its qualifier.

    ## Why is this bad
    X12 carries ICD-10-CM codes without the dot, in capitals; payers do not clean them up and
    reject the claim (277CA A7:255).

    ## Example
    `HI*ABK:M54.6*ABF:m542~`

    ## Use instead
    `HI*ABK:M546*ABF:M542~`

    ## References
    005010X222A1 2300 HI01-2: "Do not transmit the decimal point for ICD codes".
    """

    code = "DX004"
    name = "diagnosis-format"
    summary = "diagnosis code has a decimal point, lower case, blanks or is empty"
    ack = "A7:255"
    source = "005010X222A1 2300 HI01-2..HI12-2"

    def check(self, claim: Claim, ctx: Context) -> Iterator[Finding]:
        for e in _entries(claim, ctx):
            if e.split or (not e.has_qualifier and e.code):
                continue  # DX006 speaks for a split composite, DX001 for a composite without qualifier
            if _well_formed(e.code):
                continue
            problem = _format_problem(e.code)
            if problem:
                yield self.finding(
                    e.seg,
                    f"Diagnosis {e.number} ({e.ref}-2) {problem}.",
                    element=f"{e.ref}-2",
                    value=e.code or None,
                )


class DiagnosisRepeated(Rule):
    """The same diagnosis code twice on a claim.

    ## What it does
    Flags an HI code that repeats an earlier one (compared without dots, blanks or case).

    ## Why is this bad
    Each HI position must hold a different diagnosis; a repeat wastes one of the twelve positions
    and payers reject it as invalid data (277CA A7:255).

    ## Example
    `HI*ABK:M5450*ABF:M546*ABF:M5450~`

    ## Use instead
    `HI*ABK:M5450*ABF:M546~` (and point the lines at 1 or 2)

    ## References
    005010X222A1 2300 HI; CMS-1500 item 21 instructions.
    """

    code = "DX005"
    name = "diagnosis-repeated"
    summary = "the same diagnosis code appears twice"
    ack = "A7:255"
    source = "005010X222A1 2300 HI"

    def check(self, claim: Claim, ctx: Context) -> Iterator[Finding]:
        seen: dict[str, _Entry] = {}
        for e in _entries(claim, ctx):
            key = e.code.replace(".", "").replace(" ", "").upper()
            if not key:
                continue
            if key in seen:
                first = seen[key]
                yield self.finding(
                    e.seg,
                    f"Diagnosis {format_code(key)} appears twice: {first.ref} and {e.ref}; send each code once.",
                    element=f"{e.ref}-2",
                    value=e.code,
                )
            else:
                seen[key] = e


class SplitComposite(Rule):
    """Diagnosis qualifier and code sent as two elements (`HI*BK*8901`) instead of one composite.

    ## What it does
    Flags an HI element that holds only a qualifier (ABK, ABF, BK, BF ...) followed by an element
    that holds only the code: the component separator was replaced by the element separator.

    ## Why is this bad
    The payer reads `HI01 = BK` (no code) and `HI02 = 8901` (a qualifier that does not exist);
    the diagnoses and every pointer to them are wrong and the claim is rejected (277CA A7:255).
    Seen in public test files (imsweb x12-parser: `HI*BK*8901*BF*87200*BF:5559~`).

    ## Example
    `HI*ABK*M5450*ABF*M546~`

    ## Use instead
    `HI*ABK:M5450*ABF:M546~`

    ## References
    005010X222A1 2300 HI01: composite C022 (qualifier HI01-1, code HI01-2).
    """

    code = "DX006"
    name = "hi-composite-split"
    summary = "HI qualifier and code split by the element separator"
    ack = "A7:255"
    source = "005010X222A1 2300 HI composite C022"

    def check(self, claim: Claim, ctx: Context) -> Iterator[Finding]:
        for e in _entries(claim, ctx):
            if e.split:
                sep = e.seg.delims.component
                yield self.finding(
                    e.seg,
                    f"{e.ref} holds the qualifier {e.qualifier!r} and HI{e.element + 1:02d} the code {e.code!r}: the "
                    f"composite is split by the element separator; write {e.qualifier}{sep}{e.code} as one element.",
                    element=f"{e.ref}-1",
                    value=e.qualifier,
                )


# --- ICD-10-CM validity on the date of service ------------------------------------------------------


class CodeUnknown(_IcdRule):
    """Diagnosis code that does not exist in ICD-10-CM.

    ## What it does
    Looks up each ABK/ABF code (principal, and those the service lines point at) in the CMS
    ICD-10-CM code set of the fiscal year of the line's date of service; flags a code that is in
    no loaded fiscal year at all (a typo, an ICD-9 code under an ICD-10 qualifier, a made-up code).

    ## Why is this bad
    The payer's front end rejects a claim with an invalid diagnosis (277CA A7:255).

    ## Example
    `HI*ABK:M5499~` (no such code)

    ## Use instead
    `HI*ABK:M5450~`

    ## References
    CMS ICD-10-CM code files (maps/icd10cm/SOURCE.md); 005010X222A1 2300 HI.
    """

    code = "DX101"
    name = "icd10-unknown"
    summary = "diagnosis code does not exist in ICD-10-CM"
    ack = "A7:255"
    source = "CMS ICD-10-CM order files, FY of the date of service"


class CodeNotBillable(_IcdRule):
    """Diagnosis code that is a header (category) on the date of service: it needs more characters.

    ## What it does
    Flags a code that exists in the fiscal year of the date of service but is not billable there
    (M54, M54.1; M54.5 from FY2022, when it was split into M54.50/M54.51/M54.59; M79.1 from FY2019).
    The message names the billable codes under it.

    ## Why is this bad
    Only codes to the highest specificity are valid for submission; a header is rejected
    (277CA A7:255).

    ## Example
    `HI*ABK:M545~` with `DTP*472*D8*20250310~`

    ## Use instead
    `HI*ABK:M5450~` (or M54.51, M54.59, whichever the record supports)

    ## References
    ICD-10-CM Official Guidelines I.B.2 (level of detail); CMS ICD-10-CM order files.
    """

    code = "DX102"
    name = "icd10-header"
    summary = "diagnosis code is a header that needs more characters on the date of service"
    ack = "A7:255"
    source = "ICD-10-CM Official Guidelines I.B.2; CMS order files"


class CodeNotValidOnDate(_IcdRule):
    """Diagnosis code not valid on the date of service: not yet in effect, or already deleted.

    ## What it does
    Flags a code that exists in other fiscal years but not in the one of the date of service:
    a code not valid yet (M54.50 before 2021-10-01, new in FY2022) or no longer valid (a deleted
    code after its last year). A code that still exists but became a header (M54.5 from
    2021-10-01) is DX102's case.

    ## Why is this bad
    Payers check codes against the code set in force on the date of service; a code from another
    year is rejected (277CA A7:255).

    ## Example
    `HI*ABK:M5450~` with `DTP*472*D8*20210930~`

    ## Use instead
    `HI*ABK:M545~` for that date (M54.5 was billable until 2021-09-30).

    ## References
    CMS ICD-10-CM annual updates (effective October 1); 45 CFR 162.1002.
    """

    code = "DX103"
    name = "icd10-not-valid-on-date"
    summary = "diagnosis code is not valid on the date of service (not yet, or no longer)"
    ack = "A7:255"
    source = "CMS ICD-10-CM order files, FY of the date of service"


class ExternalCausePrincipal(_IcdRule):
    """External cause code (V00-Y99) as the principal diagnosis.

    ## What it does
    Flags HI01 (ABK) holding a code of chapter 20 (V00-Y99, external causes of morbidity).

    ## Why is this bad
    External cause codes describe how an injury happened; they are never a first-listed
    diagnosis. Payers reject the claim (277CA A7:255).

    ## Example
    `HI*ABK:W010XXA*ABF:S8000XA~`

    ## Use instead
    `HI*ABK:S8000XA*ABF:W010XXA~`

    ## References
    ICD-10-CM Official Guidelines I.C.20 ("never sequenced first").
    """

    code = "DX104"
    name = "external-cause-principal"
    summary = "external cause code (V00-Y99) as principal diagnosis"
    ack = "A7:255"
    source = "ICD-10-CM Official Guidelines I.C.20"


class CodeSetNotCovering(_IcdRule):
    """The date of service is outside the loaded ICD-10-CM code sets: codes not (fully) checked.

    ## What it does
    Says so when a date of service is past the newest loaded fiscal year (the codes are checked
    against the newest one, which may miss codes added or deleted since), before the oldest one
    (2015-10-01: no ICD-10-CM check), or when the claim has no date of service at all.
    Severity ``not_checked``: it does not reject the claim.

    ## Why is this bad
    A check against the wrong code set is not a check; the report says which dates were not
    covered instead of passing them silently.

    ## Example
    `DTP*472*D8*20271005~` (FY2028) with code sets FY2016-FY2027 loaded.

    ## Use instead
    Add the newer CMS order file: `scrubber codesets add icd10cm_order_2028.txt`.

    ## References
    maps/icd10cm/SOURCE.md; README "Code sets".
    """

    code = "DX110"
    name = "icd10-not-covered"
    summary = "date of service outside the loaded ICD-10-CM fiscal years (not checked)"
    severity = "not_checked"
    source = "maps/icd10cm (loaded fiscal years)"


RULES = [
    HiQualifier, Icd9Qualifier, TooManyDiagnoses, DiagnosisFormat, DiagnosisRepeated, SplitComposite,
    CodeUnknown, CodeNotBillable, CodeNotValidOnDate, ExternalCausePrincipal, CodeSetNotCovering,
]
