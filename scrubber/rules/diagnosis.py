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

from scrubber.codesets.icd10cm import format_code
from scrubber.findings import Finding
from scrubber.x12.model import Claim
from scrubber.x12.reader import Segment
from scrubber.rules.facts import HI_QUALIFIERS as _QUALIFIERS
from scrubber.rules.facts import MAX_CODES as _MAX_CODES
from scrubber.rules.facts import format_problem as _format_problem
from scrubber.rules.facts import well_formed as _well_formed
from scrubber.rules.base import Context, Rule

ICD10_START = date(2015, 10, 1)  # ICD-10-CM replaced ICD-9-CM for dates of service from this day
_ICD10_QUALIFIERS = ("ABK", "ABF")
_ICD9_QUALIFIERS = ("BK", "BF")


class _IcdRule(Rule):
    """Shared plumbing of DX101-DX110: the claim's ICD-10-CM verdicts are computed once
    (:attr:`ClaimFacts.icd_findings`); each rule reports its own."""

    def check(self, claim: Claim, ctx: Context) -> Iterator[Finding]:
        for rule, seg, message, element, value in ctx.icd_findings:
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
        for e in ctx.hi_entries:
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
        entries = [e for e in ctx.hi_entries if e.qualifier in _ICD9_QUALIFIERS]
        if not entries:
            return
        facts = ctx.dates
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
        entries = ctx.hi_entries
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
        for e in ctx.hi_entries:
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
        for e in ctx.hi_entries:
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
        for e in ctx.hi_entries:
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
