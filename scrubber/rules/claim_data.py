"""Claim data rules: balancing (BL), dates (DT), identifiers and codes (ID), timely filing (TF).

Envelope balancing (SE01, GE01, IEA01 counts; SE02/GE02/IEA02 against their headers) is done
by the claim model and reported as EN101/EN102 (``scrubber/rules/envelope.py``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from decimal import Decimal, InvalidOperation
from itertools import chain

from scrubber.codesets.pos import load_pos
from scrubber.findings import Finding
from scrubber.x12.model import Claim, parse_date, parse_date_period
from scrubber.x12.reader import Segment
from scrubber.rules.facts import ClaimDates
from scrubber.rules.base import Context, Rule

_AMOUNT_RE = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)")
_CPT_RE = re.compile(r"\d{4}[0-9FTU]")  # CPT category I (5 digits), II (F), III (T), PLA (U)
_HCPCS_RE = re.compile(r"[A-Z]\d{4}")  # HCPCS level II
_PROCEDURE_QUALIFIERS = {"HC": "HCPCS/CPT", "ER": "jurisdiction specific", "IV": "HIEC", "WK": "ABC codes"}
# NM1 loops that carry a provider NPI (NM108 = XX): billing, referring, rendering, facility, supervising ...
_PROVIDER_LOOPS = {
    "2010AA": "billing provider", "2310A": "referring provider", "2310B": "rendering provider",
    "2310C": "service facility", "2310D": "supervising provider", "2310E": "ambulance pick-up location",
    "2310F": "ambulance drop-off location", "2330D": "other payer rendering provider",
    "2330E": "other payer service facility", "2330F": "other payer supervising provider",
    "2330G": "other payer billing provider", "2420A": "line rendering provider",
    "2420B": "line purchased service provider", "2420C": "line service facility",
    "2420D": "line supervising provider", "2420E": "line ordering provider", "2420F": "line referring provider",
}
DEFAULT_TIMELY_FILING_DAYS = 365


_AMOUNTS: dict[str, Decimal | None] = {}  # amounts repeat across claims: a bounded cache


def _amount(text: str) -> Decimal | None:
    """An X12 R amount as a Decimal (never a float), None when it is not a plain decimal number."""
    try:
        return _AMOUNTS[text]
    except KeyError:
        pass
    value = None
    if _AMOUNT_RE.fullmatch(text):
        try:
            value = Decimal(text)
        except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
            value = None
    if len(_AMOUNTS) >= 4096:
        _AMOUNTS.clear()
    _AMOUNTS[text] = value
    return value


def _line_of(dates: ClaimDates, seg: Segment) -> str:
    return dates.label(seg)


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


# --- balancing ---------------------------------------------------------------------------------------


class ChargeBalance(Rule):
    """Total claim charge (CLM02) is not the sum of the line charges (SV102).

    ## What it does
    Adds the SV102 line charges as decimals (never floats) and compares the sum with CLM02.

    ## Why is this bad
    SNIP level 3 (balancing): the claim total must equal the sum of its lines. Payers reject an
    unbalanced claim (277CA A7:400, claim is out of balance).

    ## Example
    `CLM*PT-1*175***11:B:1*Y*A*Y*Y~` with `SV1*HC:99213*100*UN*1***1~` `SV1*HC:97110*50*UN*1***1~`

    ## Use instead
    `CLM*PT-1*150***11:B:1*Y*A*Y*Y~`

    ## References
    005010X222A1 2300 CLM02 note ("must equal the sum of all submitted line charges"); WEDI SNIP 3.
    """

    code = "BL001"
    name = "charge-balance"
    summary = "CLM02 does not equal the sum of SV102"
    ack = "A7:400"
    source = "005010X222A1 2300 CLM02; WEDI SNIP 3"

    def check(self, claim: Claim, ctx: Context) -> Iterator[Finding]:
        total = _amount(claim.charge)
        if total is None:
            return  # BL002
        lines = [line for line in claim.lines if line.sv1 is not None]
        if not lines:
            return
        amounts = [_amount(line.sv1.el(2)) for line in lines]
        if None in amounts:
            return  # BL002
        line_sum = sum(amounts, Decimal(0))
        if line_sum != total:
            yield self.finding(
                claim.clm,
                f"Claim {claim.claim_id} total charge CLM02 is {claim.charge} but its {len(lines)} service "
                f"line{'s' if len(lines) != 1 else ''} add up to {line_sum} (difference {total - line_sum}).",
                element="CLM02",
                value=claim.charge,
            )


class AmountInvalid(Rule):
    """A charge amount (CLM02, SV102) that is missing, not a number or negative.

    ## What it does
    Checks that CLM02 and each SV102 are decimal numbers (digits, at most one decimal point) and
    not negative.

    ## Why is this bad
    An amount like `1,200.00`, `$100` or `1E2` is invalid X12 (type R); the claim cannot be
    balanced and is rejected (277CA A7:178, submitted charges).

    ## Example
    `SV1*HC:99213*$100*UN*1***1~`

    ## Use instead
    `SV1*HC:99213*100*UN*1***1~`

    ## References
    005010X222A1 2300 CLM02, 2400 SV102 (R, monetary amount).
    """

    code = "BL002"
    name = "amount-invalid"
    summary = "CLM02 or SV102 is missing, not a number or negative"
    ack = "A7:178"
    source = "005010X222A1 2300 CLM02, 2400 SV102"

    def check(self, claim: Claim, ctx: Context) -> Iterator[Finding]:
        text = claim.charge
        value = _amount(text)
        if value is None or value < 0:
            yield self._invalid(claim.clm, "CLM02", text, value, f"Claim {claim.claim_id} total charge")
        for line in claim.lines:
            sv1 = line.sv1
            if sv1 is not None:
                text = sv1.el(2)
                value = _amount(text)
                if value is None or value < 0:
                    yield self._invalid(sv1, "SV102", text, value, f"Service line {line.number} charge")

    def _invalid(self, seg: Segment, element: str, text: str, value: Decimal | None, what: str) -> Finding:
        why = "is missing" if not text else (f"is negative ({text})" if value is not None else f"is not a number ({text!r})")
        return self.finding(seg, f"{what} ({element}) {why}; send a decimal amount such as 125 or 45.50.",
                            element=element, value=text or None)


# --- dates -------------------------------------------------------------------------------------------


class ServiceDateMissing(Rule):
    """Service line without a date of service, and no claim-level date either.

    ## What it does
    Flags a 2400 service line with no DTP*472 when the claim (2300) has no DTP*472 either.

    ## Why is this bad
    The date of service decides which code sets, fee schedules and coverage apply; it is required
    on each line unless the claim gives it. The claim is rejected (277CA A7:187).

    ## Example
    `LX*1~` `SV1*HC:99213*100*UN*1***1~` (no DTP)

    ## Use instead
    `LX*1~` `SV1*HC:99213*100*UN*1***1~` `DTP*472*D8*20250310~`

    ## References
    005010X222A1 2400 DTP Date - Service Date (required); 2300 DTP*472.
    """

    code = "DT001"
    name = "service-date-missing"
    summary = "service line and claim have no date of service (DTP*472)"
    ack = "A7:187"
    source = "005010X222A1 2400 DTP*472"

    def check(self, claim: Claim, ctx: Context) -> Iterator[Finding]:
        dates = ctx.dates
        if dates.claim_level:
            return
        for line in claim.lines:
            if line.number not in dates.dated_lines:
                yield self.finding(
                    line.sv1 or line.lx,
                    f"Service line {line.number} ({line.procedure or 'no procedure'}) has no date of service "
                    f"(DTP*472) and the claim gives none; add DTP*472*D8*CCYYMMDD to the line.",
                    element="DTP03",
                )


class DateImpossible(Rule):
    """A date that is not a calendar date (20250230), or a date range that ends before it starts.

    ## What it does
    Reads every DTP date of the claim in format D8 (CCYYMMDD) or RD8 (CCYYMMDD-CCYYMMDD) and flags
    a date that does not exist, a malformed value, or a range whose end precedes its start.

    ## Why is this bad
    The payer cannot date the service; the claim is rejected (277CA A7:187 for service dates).

    ## Example
    `DTP*472*D8*20250230~`

    ## Use instead
    `DTP*472*D8*20250228~`

    ## References
    005010X222A1 DTP02 (D8, RD8) and DTP03.
    """

    code = "DT002"
    name = "date-impossible"
    summary = "a DTP date is not a real date (or a range ends before it starts)"
    ack = "A7:187"
    source = "005010X222A1 DTP02/DTP03"

    def check(self, claim: Claim, ctx: Context) -> Iterator[Finding]:
        dates = ctx.dates
        for seg in dates.dtps:
            fmt, text = seg.el(2), seg.el(3)
            if fmt not in ("D8", "RD8"):
                continue
            start, end = parse_date_period(fmt, text)
            if fmt == "RD8" and "-" not in text:
                problem = f"is {text!r}, not a range CCYYMMDD-CCYYMMDD"
            elif start is None or end is None:
                problem = f"is {text!r}, not a calendar date (CCYYMMDD)"
            elif end < start:
                problem = f"is {text!r}: the range ends before it starts"
            else:
                continue
            yield self.finding(seg, f"Date DTP*{seg.el(1)} in {_line_of(dates, seg)} {problem}.", element="DTP03",
                               value=text or None)


class ServiceDateFuture(Rule):
    """Date of service after the as-of date (today, or --as-of).

    ## What it does
    Flags a DTP*472 (claim or line) whose date, or the end of whose range, is after the as-of date.

    ## Why is this bad
    A service cannot be billed before it is rendered; payers reject future dates (277CA A7:187).

    ## Example
    `DTP*472*D8*20250710~` scrubbed as of 2025-06-01.

    ## Use instead
    Send the claim after the service, with the date it was rendered.

    ## References
    005010X222A1 2400 DTP*472; CMS Claims Processing Manual ch. 1 (claims for future services).
    """

    code = "DT003"
    name = "service-date-future"
    summary = "date of service after the as-of date"
    ack = "A7:187"
    source = "005010X222A1 2400 DTP*472"

    def check(self, claim: Claim, ctx: Context) -> Iterator[Finding]:
        dates = ctx.dates
        for seg, start, end in dates.service:
            last = end or start
            if last is not None and last > ctx.as_of:
                yield self.finding(
                    seg,
                    f"Date of service {last.isoformat()} ({_line_of(dates, seg)}) is after the as-of date "
                    f"{ctx.as_of.isoformat()}; a service is billed after it is rendered.",
                    element="DTP03",
                    value=seg.el(3),
                )


class ServiceBeforeBirth(Rule):
    """Date of service before the patient's birth date.

    ## What it does
    Compares each DTP*472 with the patient's birth date (DMG02 in 2010CA when there is a patient
    loop, else in 2010BA). The birth date is never shown in the finding.

    ## Why is this bad
    The service date or the birth date is wrong; payers reject the claim (277CA A7:187).

    ## Example
    `DMG*D8*20240601*F~` ... `DTP*472*D8*20240310~`

    ## Use instead
    The real date of service (and birth date).

    ## References
    005010X222A1 2010BA/2010CA DMG02; 2400 DTP*472.
    """

    code = "DT004"
    name = "service-before-birth"
    summary = "date of service before the patient's birth date"
    ack = "A7:187"
    source = "005010X222A1 2010BA/2010CA DMG02, 2400 DTP*472"

    def check(self, claim: Claim, ctx: Context) -> Iterator[Finding]:
        node = claim.patient if claim.patient is not None else claim.subscriber
        if node is None:
            return
        dmg = node.first("DMG")
        if dmg is None or dmg.el(1) != "D8":
            return
        born = parse_date(dmg.el(2))
        if born is None:
            return
        loop = "2010CA" if claim.patient is not None else "2010BA"
        dates = ctx.dates
        for seg, start, _ in dates.service:
            if start is not None and start < born:
                yield self.finding(
                    seg,
                    f"Date of service {start.isoformat()} ({_line_of(dates, seg)}) is before the patient's birth "
                    f"date (DMG02 in {loop}); one of the two dates is wrong.",
                    element="DTP03",
                    value=seg.el(3),
                )


# --- identifiers and codes ---------------------------------------------------------------------------


class NpiCheckDigit(Rule):
    """Provider NPI that is not 10 digits or fails its check digit (Luhn with the 80840 prefix).

    ## What it does
    Checks NM109 of every provider name segment with NM108 = XX: billing provider (2010AA),
    rendering (2310B, 2420A), referring, supervising, ordering, service facility and the other
    payer provider loops. An NPI is 10 digits whose last is the Luhn check digit computed over
    `80840` followed by the first nine.

    ## Why is this bad
    A mistyped NPI does not identify the provider; the claim is rejected (277CA A7:562).

    ## Example
    `NM1*85*2*SAMPLE CLINIC ONE*****XX*1234567890~`

    ## Use instead
    `NM1*85*2*SAMPLE CLINIC ONE*****XX*1234567893~`

    ## References
    45 CFR 162.406; CMS "NPI check digit" (ISO/IEC 7812 Luhn, prefix 80840).
    """

    code = "ID001"
    name = "npi-check-digit"
    summary = "provider NPI is not 10 digits or fails the Luhn check (80840 prefix)"
    ack = "A7:562"
    source = "45 CFR 162.406; CMS NPI check digit"

    def check(self, claim: Claim, ctx: Context) -> Iterator[Finding]:
        for seg in chain(self._billing_npis(claim), claim.segments):
            if seg.id != "NM1" or seg.el(8) != "XX":
                continue
            npi = seg.el(9)
            if luhn_npi_ok(npi):
                continue
            role = _PROVIDER_LOOPS.get(seg.loop, "provider")
            why = "fails its check digit" if len(npi) == 10 and npi.isdigit() else "is not 10 digits"
            yield self.finding(
                seg,
                f"The {role} NPI (NM109 in {seg.loop or 'NM1'}) {why}; check the number against NPPES.",
                element="NM109",
                value=npi or None,
            )

    @staticmethod
    def _billing_npis(claim: Claim) -> list[Segment] | tuple:
        """The billing provider loop's NPIs (NM1 with NM108 XX): that loop is shared by its claims."""
        node = claim.billing
        if node is None:
            return ()
        return [seg for seg in node.segments if seg.id == "NM1" and seg.el(8) == "XX"]


class ProcedureShape(Rule):
    """Procedure code (SV101-2) that is neither a CPT nor a HCPCS level II code in shape.

    ## What it does
    With qualifier HC, SV101-2 must be a CPT code (five digits; or four digits and F, T or U for
    category II, III and PLA codes) or a HCPCS level II code (a capital letter and four digits).

    ## Why is this bad
    Anything else (a dot, a lower-case letter, a missing digit, a modifier glued on) is not a code
    the payer knows; the line is rejected (277CA A7:454, procedure code invalid).

    ## Example
    `SV1*HC:9921*100*UN*1***1~` or `SV1*HC:g0283*30*UN*1***1~`

    ## Use instead
    `SV1*HC:99213*100*UN*1***1~` or `SV1*HC:G0283*30*UN*1***1~`

    ## References
    005010X222A1 2400 SV101-2; HCPCS level I (CPT) and level II code structure.
    """

    code = "ID002"
    name = "procedure-shape"
    summary = "SV101-2 is not a CPT (5 characters) or HCPCS level II (letter + 4 digits) code"
    ack = "A7:454"
    source = "005010X222A1 2400 SV101-2"

    def check(self, claim: Claim, ctx: Context) -> Iterator[Finding]:
        for line in claim.lines:
            sv1 = line.sv1
            if sv1 is None or sv1.comp(1, 1) != "HC":
                continue
            code = line.procedure
            if _procedure_shape_ok(code):
                continue
            why = "is missing" if not code else f"is {code!r}, not a CPT code (5 characters) or HCPCS level II code (letter + 4 digits)"
            yield self.finding(sv1, f"Service line {line.number} procedure code (SV101-2) {why}.",
                               element="SV101-2", value=code or None)


_SHAPES: dict[str, bool] = {}  # procedure code -> CPT or HCPCS level II in shape (bounded cache)


def _procedure_shape_ok(code: str) -> bool:
    known = _SHAPES.get(code)
    if known is None:
        if len(_SHAPES) >= 4096:
            _SHAPES.clear()
        known = _SHAPES[code] = bool(_CPT_RE.fullmatch(code) or _HCPCS_RE.fullmatch(code))
    return known


class ProcedureQualifier(Rule):
    """Procedure code qualifier (SV101-1) that is not one of HC, ER, IV, WK.

    ## What it does
    Checks SV101-1, the code list of the procedure: HC (HCPCS/CPT), ER (jurisdiction specific),
    IV (HIEC) or WK (ABC codes).

    ## Why is this bad
    An unknown or missing qualifier leaves the payer unable to read the procedure code; the line
    is rejected (277CA A7:454).

    ## Example
    `SV1*CPT:99213*100*UN*1***1~`

    ## Use instead
    `SV1*HC:99213*100*UN*1***1~`

    ## References
    005010X222A1 2400 SV101-1 (HC, ER, IV, WK).
    """

    code = "ID003"
    name = "procedure-qualifier"
    summary = "SV101-1 is not HC, ER, IV or WK"
    ack = "A7:454"
    source = "005010X222A1 2400 SV101-1"

    def check(self, claim: Claim, ctx: Context) -> Iterator[Finding]:
        for line in claim.lines:
            sv1 = line.sv1
            if sv1 is None:
                continue
            q = sv1.comp(1, 1)
            if q not in _PROCEDURE_QUALIFIERS:
                yield self.finding(
                    sv1,
                    f"Service line {line.number} procedure qualifier SV101-1 is {q or 'empty'!r}; use HC for "
                    f"CPT/HCPCS codes (ER, IV, WK for the other code lists).",
                    element="SV101-1",
                    value=q or None,
                )


class UnitsInvalid(Rule):
    """Service unit count (SV104) missing, not a number, or not positive.

    ## What it does
    Flags SV104 when it is absent, not a decimal number, zero or negative.

    ## Why is this bad
    The payer prices the line by its units; zero or a missing count is rejected
    (277CA A7:476, missing or invalid units of service).

    ## Example
    `SV1*HC:97110*50*UN*0***1~`

    ## Use instead
    `SV1*HC:97110*50*UN*1***1~`

    ## References
    005010X222A1 2400 SV104 (required, R).
    """

    code = "ID004"
    name = "units-invalid"
    summary = "SV104 units missing, not a number or not positive"
    ack = "A7:476"
    source = "005010X222A1 2400 SV104"

    def check(self, claim: Claim, ctx: Context) -> Iterator[Finding]:
        for line in claim.lines:
            sv1 = line.sv1
            if sv1 is None:
                continue
            text = sv1.el(4)
            value = _amount(text)
            if value is not None and value > 0:
                continue
            why = "is missing" if not text else (f"is {text}, not positive" if value is not None else f"is {text!r}, not a number")
            yield self.finding(sv1, f"Service line {line.number} units (SV104) {why}.", element="SV104", value=text or None)


class UnitBasis(Rule):
    """Unit basis (SV103) that is not UN (units) or MJ (minutes).

    ## What it does
    Flags SV103 when it is missing or another code than UN or MJ.

    ## Why is this bad
    The 837P allows only units (UN) or anesthesia minutes (MJ); anything else is rejected
    (277CA A7:476).

    ## Example
    `SV1*HC:97110*50*HR*1***1~`

    ## Use instead
    `SV1*HC:97110*50*UN*1***1~`

    ## References
    005010X222A1 2400 SV103 (MJ, UN).
    """

    code = "ID005"
    name = "unit-basis"
    summary = "SV103 is not UN or MJ"
    ack = "A7:476"
    source = "005010X222A1 2400 SV103"

    def check(self, claim: Claim, ctx: Context) -> Iterator[Finding]:
        for line in claim.lines:
            sv1 = line.sv1
            if sv1 is None:
                continue
            basis = sv1.el(3)
            if basis not in ("UN", "MJ"):
                yield self.finding(
                    sv1,
                    f"Service line {line.number} unit basis SV103 is {basis or 'empty'!r}; use UN (units) or MJ (minutes).",
                    element="SV103",
                    value=basis or None,
                )


class PlaceOfService(Rule):
    """Place of service (CLM05-1, SV105) not in the CMS place of service code set on the date of service.

    ## What it does
    Looks up CLM05-1 (required) and SV105 (when sent) in the CMS place of service list
    (maps/pos/); flags a missing, unassigned or not yet effective code (10 before 2022-01-01,
    27 before 2023-10-01 ...).

    ## Why is this bad
    The place of service drives the payment (facility or non-facility rate); an invalid code is
    rejected (277CA A7:249, place of service code invalid).

    ## Example
    `CLM*PT-1*150***35:B:1*Y*A*Y*Y~` (35 is unassigned)

    ## Use instead
    `CLM*PT-1*150***11:B:1*Y*A*Y*Y~` (11 = office)

    ## References
    CMS Place of Service Code Set (maps/pos/SOURCE.md); 005010X222A1 2300 CLM05-1, 2400 SV105.
    """

    code = "ID006"
    name = "place-of-service"
    summary = "CLM05-1 or SV105 is not a CMS place of service code"
    ack = "A7:249"
    source = "CMS Place of Service Code Set; 005010X222A1 CLM05-1, SV105"

    def check(self, claim: Claim, ctx: Context) -> Iterator[Finding]:
        table = ctx.map("pos", load_pos)
        dates = ctx.dates
        problem = _pos_problem(table, claim.clm.comp(5, 1), dates.first, required=True)
        if problem:
            yield self.finding(claim.clm, f"Claim {claim.claim_id} place of service CLM05-1 {problem}.",
                               element="CLM05-1", value=claim.clm.comp(5, 1) or None)
        for line, when in zip(claim.lines, dates.line_dates):
            sv1 = line.sv1
            if sv1 is None or not sv1.el(5):
                continue
            problem = _pos_problem(table, sv1.el(5), when, required=False)
            if problem:
                yield self.finding(sv1, f"Service line {line.number} place of service SV105 {problem}.",
                                   element="SV105", value=sv1.el(5))


def _pos_problem(table, code: str, when: date | None, required: bool) -> str | None:
    if not code:
        return "is missing" if required else None
    entry = table.get(code)
    if entry is None:
        return f"is {code!r}, not in the CMS place of service code set"
    if entry.effective_from is not None and when is not None and when < entry.effective_from:
        return (f"is {code} ({entry.name}), which is valid from {entry.effective_from.isoformat()}, after the date "
                f"of service {when.isoformat()}")
    return None


# --- timely filing -----------------------------------------------------------------------------------


class TimelyFiling(Rule):
    """Date of service older than the timely-filing limit (default 365 days before the as-of date).

    ## What it does
    Counts the days from each date of service (the end of a range) to the as-of date and flags
    the oldest one past the limit: `timely_filing_days` in the configuration's `[options]`
    (default 365, Medicare's one calendar year). A warning by default, since limits are
    payer-specific (raise it to an error per payer in `[payers.ID.rules.severity]`).

    ## Why is this bad
    A claim filed after the payer's limit is denied (CARC 29) and cannot be billed to the patient.

    ## Example
    `DTP*472*D8*20240110~` scrubbed as of 2025-06-01 (508 days).

    ## Use instead
    File within the limit; with proof of timely filing, attach it as the payer requires.

    ## References
    42 CFR 424.44 (Medicare: 12 months from the date of service); payer contracts.
    """

    code = "TF001"
    name = "timely-filing"
    summary = "date of service older than the timely-filing limit (default 365 days)"
    severity = "warning"
    source = "42 CFR 424.44; option timely_filing_days"

    def check(self, claim: Claim, ctx: Context) -> Iterator[Finding]:
        limit = _limit(ctx.options.get("timely_filing_days", DEFAULT_TIMELY_FILING_DAYS))
        oldest: tuple[date, Segment] | None = None
        dates = ctx.dates
        for seg, start, end in dates.service:
            last = end or start
            if last is not None and (oldest is None or last < oldest[0]):
                oldest = (last, seg)
        if oldest is None:
            return
        when, seg = oldest
        days = (ctx.as_of - when).days
        if days > limit:
            yield self.finding(
                seg,
                f"Date of service {when.isoformat()} ({_line_of(dates, seg)}) is {days} days before the as-of date "
                f"{ctx.as_of.isoformat()}, past the timely-filing limit of {limit} days.",
                element="DTP03",
                value=seg.el(3),
            )


def _limit(value) -> int:
    try:
        days = int(value)
    except (TypeError, ValueError):
        return DEFAULT_TIMELY_FILING_DAYS
    return days if days > 0 else DEFAULT_TIMELY_FILING_DAYS


RULES = [
    ChargeBalance, AmountInvalid,
    ServiceDateMissing, DateImpossible, ServiceDateFuture, ServiceBeforeBirth,
    NpiCheckDigit, ProcedureShape, ProcedureQualifier, UnitsInvalid, UnitBasis, PlaceOfService,
    TimelyFiling,
]
