"""The facts several rules share about one claim, computed once per claim and on first use.

The engine makes one :class:`ClaimFacts` per claim and hands it to every rule with the claim.
Each fact is computed the first time a rule asks for it and kept for the other rules of the same
claim (never across claims): the dates of service of each line, the HI entries as sent, the
ICD-10-CM verdicts of the codes on their dates, the back-pain reading of the diagnoses, the
service lines by date for the NCCI pairs. Run-level things (the as-of date, options, limits and
the loaded maps) come from the run's :class:`~scrubber.rules.base.Context` through the same
object, so that a rule reads everything it needs from ``(claim, facts)``.

The gates (:data:`GATES`) are facts too: one pass over the claim (``_claim_pass``) reads its
dates, lines, diagnoses and levels and sets one bit a gate; a rule that names a gate in
``concerns`` runs only on the claims where it is open. What the pass reads of one SV1 or DTP is
memoised by its text (the same few come back on claim after claim), in bounded memos.
"""

from __future__ import annotations

import datetime
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, NamedTuple

from scrubber.codesets.backpain import MAP_NAME, BackpainMaps, load_backpain_maps
from scrubber.codesets.icd10cm import normalize_code as norm
from scrubber.codesets.pos import load_pos
from scrubber.rules.base import Context
from scrubber.rules.values import (
    CHARGES,
    PROCEDURE_QUALIFIERS,
    UNIT_BASES,
    amount,
    cents_of,
    charge_of,
    luhn_npi_ok,
    procedure_shape_ok,
    units_ok,
)
from scrubber.x12.model import Claim, Diagnosis, ServiceLine, parse_date, parse_date_period
from scrubber.x12.reader import Segment

if TYPE_CHECKING:
    from scrubber.codesets.ncci import Ncci

__all__ = ["amount"]  # (also read from here by the balancing rules)

_ICD10_QUALIFIERS = ("ABK", "ABF")
#: Diagnosis qualifiers an HI composite may carry (ICD-10-CM, ICD-9-CM, patient reason, external cause ...).
HI_QUALIFIERS = {"ABK", "ABF", "BK", "BF", "APR", "PR", "ABJ", "BJ", "ADD", "DR"}
_QUALIFIERS = HI_QUALIFIERS
MAX_CODES = 12  # HI positions on a claim
_MAX_CODES = MAX_CODES
#: An SV107 pointer as sent -> the HI position it names (1-12, also written 01-09).
POINTERS = {**{str(i): i for i in range(1, 13)}, **{f"{i:02d}": i for i in range(1, 10)}}


class fact:  # noqa: N801 - used as a decorator, like functools.cached_property
    """A per-claim fact: computed on first access, then an attribute of the instance (a
    non-data descriptor, so later reads do not call it again; no lock, unlike cached_property)."""

    def __init__(self, fn):
        self.fn = fn
        self.name = fn.__name__
        self.__doc__ = fn.__doc__

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, obj, owner=None):
        if obj is None:
            return self
        value = obj.__dict__[self.name] = self.fn(obj)
        return value


def claim_fact(fn):
    """Declares a fact of :class:`ClaimFacts` next to the rules that share it (a family's
    ``_common.py``): ``facts.<name>`` is then computed on first use per claim, like the facts
    defined here. A name may be declared once."""
    name = fn.__name__
    if name in ClaimFacts.__dict__:
        raise RuntimeError(f"ClaimFacts.{name} is declared twice")
    setattr(ClaimFacts, name, fact(fn))
    return ClaimFacts.__dict__[name]


class ClaimFacts:
    """The shared facts of one claim (see the module docstring), and the run's context."""

    def __init__(self, claim: Claim, context: Context):
        self.claim = claim
        self.context = context
        self.as_of = context.as_of
        self.options = context.options
        self.limits = context.limits
        self.maps = context.maps

    # Run-level things, as the context has them ---------------------------------------------------
    @property
    def icd10cm(self):
        return self.context.icd10cm

    def map(self, name: str, loader):
        return self.context.map(name, loader)

    # Per-claim facts ----------------------------------------------------------------------------
    # The engine asks the gates of every claim, and the gates read the dates, the lines, the
    # diagnoses and the hierarchy: those facts are made together, in one pass over the claim
    # (``_claim_pass``), the first time one of them is asked. Each is still an attribute of its
    # own name; the gates are also the bits of ``gates`` (see :data:`GATES`).
    def _claim_pass(self) -> dict:
        """Makes the facts of the claim's DTPs, lines, diagnoses and levels at once: ``dates``,
        ``dated_lines``, ``service_lines``, ``line_scan``, ``filled_positions`` and ``gates`` (and
        ``ncci_lines`` when the claim's procedures fall on several dates). Returns the instance's
        dictionary, which holds them. Nothing is kept when it raises."""
        known = self.__dict__
        if "gates" in known:
            return known
        claim = self.claim
        lines = claim.lines
        diagnoses = claim.diagnoses
        limits = self.limits
        dates = ClaimDates(claim)
        # The diagnoses: the HI positions holding a code (as bits), the hi_suspect and
        # external_cause_first gates (a pure function of the HI text: memoised for one HI).
        his = claim.hi_segments
        key = None
        found = None
        if len(his) == 1:
            d = his[0].delims  # (the key names the separators: a Delimiters hashes in Python)
            key = (his[0].raw, d.element, d.component)
            found = _HI_FACTS.get(key)
        if found is None:
            found = _diagnosis_facts(diagnoses)
            if key is not None:
                if len(_HI_FACTS) >= _LIMIT:
                    _HI_FACTS.clear()
                _HI_FACTS[key] = found
        filled, gates = found
        # The lines: each line with an SV1 dated, the line checks, the pointers_suspect gate.
        dated: list[tuple[ServiceLine, str, date | None]] = []
        coded: list[tuple[ServiceLine, str, date | None]] = []  # those with a procedure (for NCCI)
        procedures: set[str] = set()
        one_day = True  # all of those on one date of service
        suspect = False
        line_cents = 0  # the SV102 charges in cents, while each is a number of whole cents
        exact = True
        masks: list[int] = []  # the pointer mask of each line of ``dated``
        memo = self.maps.get("line-facts")  # SV1 as sent -> what the line checks find in it (see _line_facts)
        if memo is None or len(memo) >= _LIMIT:
            memo = self.maps["line-facts"] = {}
        plain = claim.plain  # (no segment but CLM, HI, DTP, LX and SV1: no NTE)
        for line, day in zip(lines, dates.line_dates):
            sv1 = line.sv1
            if not plain and len(line.segments) > 3:  # more than LX, SV1 and DTP*472: a note may give minutes
                for seg in line.segments:
                    if seg.id == "NTE":
                        gates |= MINUTES_GIVEN
                        break
            if sv1 is None:
                continue  # (no SV1: no procedure and no pointers)
            procedure = line.procedure
            item = (line, procedure, day)
            dated.append(item)
            found = memo.get(sv1.raw)
            if found is None or found[4] is not sv1.delims:
                found = _line_facts(self, memo, line)
            masks.append(found[3])
            gates |= found[0]
            cents = found[2]
            if cents is None:
                exact = False  # (not a number, or a fraction of a cent: see below)
            else:
                line_cents += cents
            if procedure:
                if procedure in procedures:
                    gates |= PROCEDURE_REPEATED
                else:
                    procedures.add(procedure)
                    if procedure in CHIRO_MANIPULATION:
                        gates |= CHIRO
                if coded and day != coded[0][2]:
                    one_day = False
                coded.append(item)
            if not suspect:
                mask = found[3]
                if mask < 0 or mask & ~filled:
                    suspect = True
        if lines:
            gates |= HAS_LINES
            if not filled:
                gates |= DIAGNOSIS_MISSING
        if claim.hi_segments:
            gates |= HAS_DIAGNOSES
        if not dated:
            gates |= NO_SERVICE_LINES
        if suspect:
            gates |= POINTERS_SUSPECT
        if claim.number > limits.claims_per_transaction or len(lines) > limits.lines_per_claim:
            gates |= OVER_LIMITS
        # The amounts: CLM02 against the lines (BL001, BL002).
        clm = claim.clm
        elements = clm.elements
        n = len(elements)
        text = elements[2] if n > 2 else ""
        total, valid = CHARGES.get(text) or charge_of(text)
        if not valid:
            gates |= CHARGE_INVALID
        if dated and total is not None:
            total_cents = cents_of(text)
            if exact and total_cents is not None:
                if total_cents != line_cents:
                    gates |= CHARGES_UNBALANCED
            else:
                line_sum = _line_sum(dated)
                if line_sum is not None and total != line_sum:
                    gates |= CHARGES_UNBALANCED
        # NCCI: the dates of service with two or more different procedures.
        ncci = None
        if len(procedures) > 1:
            if one_day:
                gates |= MULTI_PROCEDURE_DATES
            else:
                ncci = NcciLines(claim, coded, False)
                if ncci.multi:
                    gates |= MULTI_PROCEDURE_DATES
        # The dates (DT001-DT008, TF001).
        if dates.odd:
            gates |= DATES_ODD
        if dates.other:
            gates |= OTHER_DATES
        own = dates.dated_lines
        if dates.claim_level:
            if dates.line_service:
                gates |= LINE_AND_CLAIM_DATES
        elif len(own) < len(lines):
            gates |= LINE_UNDATED
        as_of = self.as_of
        latest = dates.latest
        if latest is not None and latest > as_of:
            gates |= AFTER_AS_OF
        oldest = dates.oldest
        if oldest is not None and ((as_of - oldest[0]).days > _FILING_DAYS or "timely_filing_days" in self.options):
            gates |= FILED_LATE
        unusual, born = _levels(claim)
        if unusual:
            gates |= HL_UNUSUAL
        start = dates.first_start
        if born is not None and start is not None and start < born:
            gates |= BORN_AFTER_SERVICE
        # The CLM05 composite: place of service (ID006), frequency code (PE004-PE006).
        clm05 = elements[5] if n > 5 else ""
        parts = clm05.split(clm.delims.component) if clm05 else ()
        if not parts or parts[0] not in (self.maps.get("pos") or self.context.map("pos", load_pos)).always:
            gates |= PLACE_OF_SERVICE
        if (parts[2] if len(parts) > 2 else "") != "1" or not plain and payer_claim_number(claim) is not None:
            gates |= FREQUENCY_OR_F8
        # The NPIs (ID001): the billing provider's (once per level) and any in the claim's loops.
        billing = claim.billing
        if billing is not None and not _npis_ok(billing) or not plain and not _segments_npis_ok(claim.segments):
            gates |= NPI_SUSPECT
        if self.context.ledger is not None:
            gates |= LEDGER_OPEN
        known["dates"] = dates
        known["dated_lines"] = dated
        known["pointer_masks"] = masks
        known["coded"] = (coded, one_day, ncci)
        known["coded_lines"] = coded
        known["procedures"] = procedures
        known["filled_bits"] = filled
        known["gates"] = gates
        return known

    @fact
    def gates(self) -> int:
        """The claim's open gates, as the bits of :data:`GATES`."""
        return self._claim_pass()["gates"]

    def open_gates(self) -> int:
        """``gates`` (the claim pass made on the first call), as the engine asks it of every claim."""
        known = self.__dict__
        return known["gates"] if "gates" in known else self._claim_pass()["gates"]

    @fact
    def dates(self) -> ClaimDates:
        """The claim's DTP segments and the date of service of each line (see :class:`ClaimDates`)."""
        return self._claim_pass()["dates"]

    @fact
    def dated_lines(self) -> list[tuple[ServiceLine, str, date | None]]:
        """Each service line with an SV1 as ``(line, procedure, date of service)``: the line's
        DTP*472, else the claim's (None when neither)."""
        return self._claim_pass()["dated_lines"]

    @fact
    def procedures(self) -> set[str]:
        """The procedure codes (SV101-2) of the lines with an SV1, as a set."""
        return self._claim_pass()["procedures"]

    @fact
    def pointer_masks(self) -> list[int]:
        """The HI positions each line of ``dated_lines`` points at, as bits (1 << position); -1 when
        the line has no pointer, more than four, one not 1-12 or a repeated one."""
        return self._claim_pass()["pointer_masks"]

    @fact
    def service_lines(self) -> list[ServiceLine]:
        """The lines that carry an SV1."""
        return [item[0] for item in self.dated_lines]

    @fact
    def line_scan(self) -> tuple[int, Decimal | None]:
        """The line checks, kept with the claim's facts: ``(flags, sum)``, ``flags`` the BAD_* bits
        of the checks that fail on some line with an SV1, ``sum`` the SV102 charges added as
        decimals (None when one is not a number)."""
        return (self.gates & _BAD, _line_sum(self.dated_lines))

    @fact
    def ncci_lines(self) -> NcciLines:
        """The service lines by date of service, as the NCCI rules read them."""
        coded, one_day, ncci = self._claim_pass()["coded"]
        return ncci if ncci is not None else NcciLines(self.claim, coded, one_day)

    @fact
    def coded_lines(self) -> list[tuple[ServiceLine, str, date | None]]:
        """The lines with an SV1 and a procedure, as ``dated_lines`` gives them."""
        return self._claim_pass()["coded"][0]

    def ptp_possible(self, n: Ncci) -> bool:
        """A date of service of the claim carries two procedures with a PTP edit of ``n`` in force
        (found without making ``ncci_lines`` when the lines are all of one date)."""
        known = self._claim_pass()
        coded, one_day, ncci = known["coded"]
        if ncci is None and one_day and "ncci_lines" not in known:
            procedures = known["procedures"]
            if len(procedures) < 2:
                return False
            key = (n, coded[0][2], frozenset(procedures))
            found = _PTP_ANY.get(key)
            if found is None:
                if len(_PTP_ANY) >= 4096:
                    _PTP_ANY.clear()
                found = _PTP_ANY[key] = bool(_ptp_edits(n, n.ymd(coded[0][2]), tuple(sorted(procedures))))
            return found
        return bool(self.ncci_lines.ptp_hits(n))

    @fact
    def hi_entries(self) -> list[HiEntry]:
        """The claim's diagnosis composites as sent (qualifier and code, even when malformed)."""
        return read_hi_entries(self.claim)

    @fact
    def filled_positions(self) -> set[int]:
        """The HI positions (1-12) that hold a diagnosis code."""
        bits = self._claim_pass()["filled_bits"]
        return {dx.position for dx in self.claim.diagnoses if dx.code} if bits else set()

    @fact
    def icd_verdicts(self) -> IcdVerdicts:
        """The ICD-10-CM verdicts of the claim's codes on their dates of service (see
        :class:`IcdVerdicts`)."""
        checker = self.maps.get("icd10cm-checker") or self.context.map("icd10cm-checker", IcdChecker)
        return checker.for_claim(self)

    @fact
    def icd_flagged(self) -> bool:
        """A gate: a code is not valid on its date of service, a date is outside the loaded
        ICD-10-CM code sets, or the claim has diagnoses and no date of service (DX101-DX103, DX110)."""
        return self.icd_verdicts.flagged

    @fact
    def backpain_maps(self) -> BackpainMaps:
        maps = self.maps.get(MAP_NAME)  # loaded once per run
        return maps if maps is not None else self.context.map(MAP_NAME, load_backpain_maps)

    @fact
    def backpain(self) -> BackpainFacts:
        """The claim's diagnoses as the back-pain rules read them (see :class:`BackpainFacts`)."""
        known = self.__dict__
        reading = known.get("backpain_reading")  # (the gates asked for it on most claims)
        if reading is None:
            reading = self.backpain_reading
        if "dates" not in known:
            self._claim_pass()
        return BackpainFacts(self.claim, reading.maps, known["dated_lines"], known["dates"].claim_start,
                             known["pointer_masks"], reading)

    @fact
    def backpain_gates(self) -> int:
        """The back-pain gates as bits (IN_SCOPE, UNSPECIFIED, SYMPTOM, EXCLUDES1_OWNER; see
        :data:`GATE_GROUPS`): 0 for a claim without diagnoses."""
        if not self.claim.diagnoses:
            return 0
        r = self.backpain_reading
        return r.flags | IN_SCOPE if r.in_scope else r.flags

    @fact
    def backpain_reading(self) -> HiReading:
        """The claim's diagnoses as the back-pain rules read them (see :class:`HiReading`)."""
        known = self.__dict__
        maps = known.get("backpain_maps") or self.maps.get(MAP_NAME) or self.backpain_maps
        return hi_reading(self.claim, maps)

    @fact
    def backpain_in_scope(self) -> bool:
        """A gate: a diagnosis of the claim is in the back-pain maps' scope (PX001)."""
        return self.backpain.in_scope

    @fact
    def backpain_unspecified(self) -> bool:
        """A gate: a diagnosis is an unspecified back-pain code of specificity.toml (BP001)."""
        return bool(self.backpain.flags & UNSPECIFIED) if self.claim.diagnoses else False

    @fact
    def backpain_symptom_first(self) -> bool:
        """A gate: HI01 is a symptom that sequencing.toml wants after its underlying condition (BP002)."""
        return bool(self.backpain.flags & SYMPTOM) if self.claim.diagnoses else False

    @fact
    def backpain_excludes1(self) -> bool:
        """A gate: a diagnosis is under an Excludes1 note of excludes1.toml (BP003)."""
        return bool(self.backpain.flags & EXCLUDES1_OWNER) if self.claim.diagnoses else False


# The gates of the claim pass: a rule names one in ``concerns`` and runs only on the claims where it
# is open. Each is a necessary condition of the rules that name it (they would find nothing where
# it is closed; tests/test_gates.py runs every rule on closed claims to show it).
GATES: dict[str, str] = {
    "has_lines": "the claim has a service line (LX or SV1)",
    "has_diagnoses": "the claim has an HI segment",
    "over_limits": "the claim is past the claims per transaction set, or has more lines than allowed (LM001, LM002)",
    "pointers_suspect": "a line with an SV1 has no first pointer, more than four, one not 1-12, a repeated one, or "
                        "one naming an HI position with no code (DP001-DP005)",
    "hi_suspect": "a diagnosis composite is not ABK in HI01 and ABF after with a code in the X12 form, repeats a "
                  "code, or is past the twelfth (DX001-DX006)",
    "external_cause_first": "HI01 is an ABK code starting V, W, X or Y (DX104)",
    "diagnosis_missing": "the claim has service lines and no diagnosis code (DP006)",
    "no_service_lines": "no line of the claim has an SV1 (DP007)",
    "multi_procedure_dates": "a date of service carries two or more different procedures (NC001, NC002)",
    "procedure_repeated": "a procedure is on two lines (PE020; NC003 adds the units)",
    "units_not_one": "a line with an SV1 is billed for other than 1 unit (NC003)",
    "minutes_given": "a line is billed in minutes (SV103 MJ) or has a note (NTE) (NC004)",
    "chiro_manipulation": "a line bills chiropractic manipulation 98940-98942 (DT008)",
    "charge_invalid": "CLM02 or an SV102 is missing, not a number or negative (BL002)",
    "charges_unbalanced": "CLM02 and the SV102 charges are numbers and differ (BL001)",
    "procedure_shape": "an HC procedure code is not a CPT or HCPCS level II code in shape (ID002)",
    "procedure_qualifier": "an SV101-1 is not HC, ER, IV or WK (ID003)",
    "units_invalid": "an SV104 is missing, not a number or not positive (ID004)",
    "unit_basis": "an SV103 is not UN or MJ (ID005)",
    "place_of_service": "CLM05-1 or an SV105 is missing or a code valid only from some date (ID006)",
    "dates_odd": "a DTP is not a D8 calendar date (DT002)",
    "other_dates_sent": "a DTP other than 472 (DT006, DT007)",
    "line_undated": "no claim date of service and a line without one (DT001)",
    "line_and_claim_dates": "a claim date of service and lines with their own (DT005)",
    "after_as_of": "a date of service is after the as-of date (DT003)",
    "filed_late": "a date of service is more than 365 days before the as-of date, or the limit is set (TF001)",
    "born_after_service": "the patient's birth date (DMG02) is after the first date of service (DT004)",
    "frequency_or_f8": "CLM05-3 is not 1, or the claim carries a REF (PE004-PE006)",
    "npi_suspect": "an NPI (NM108 XX) of the billing provider or the claim fails its check digit (ID001)",
    "hl_unusual": "an HL04 that is not what the levels below it say, a patient loop with SBR02 18 or without "
                  "PAT01, or no patient loop and SBR02 not 18 (PE010-PE013)",
    "ledger_open": "the claims met before in the input are kept (a scrub; PE001-PE003)",
}
GATE_BITS: dict[str, int] = {name: 1 << i for i, name in enumerate(GATES)}
#: Gates read as the bits of one fact (asked once per claim for all of them): gate -> (fact, bit).
GATE_GROUPS: dict[str, tuple[str, int]] = {
    "backpain_in_scope": ("backpain_gates", 8),
    "backpain_unspecified": ("backpain_gates", 1),
    "backpain_symptom_first": ("backpain_gates", 2),
    "backpain_excludes1": ("backpain_gates", 4),
}
(HAS_LINES, HAS_DIAGNOSES, OVER_LIMITS, POINTERS_SUSPECT, HI_SUSPECT, EXTERNAL_CAUSE_FIRST, DIAGNOSIS_MISSING,
 NO_SERVICE_LINES, MULTI_PROCEDURE_DATES, PROCEDURE_REPEATED, UNITS_NOT_ONE, MINUTES_GIVEN, CHIRO, CHARGE_INVALID,
 CHARGES_UNBALANCED, PROCEDURE_SHAPE, PROCEDURE_QUALIFIER, UNITS_INVALID, UNIT_BASIS, PLACE_OF_SERVICE, DATES_ODD,
 OTHER_DATES, LINE_UNDATED, LINE_AND_CLAIM_DATES, AFTER_AS_OF, FILED_LATE, BORN_AFTER_SERVICE, FREQUENCY_OR_F8,
 NPI_SUSPECT, HL_UNUSUAL, LEDGER_OPEN) = GATE_BITS.values()


def _gate_fact(name: str, bit: int) -> fact:
    def gate(self: ClaimFacts) -> bool:
        return bool(self.gates & bit)

    gate.__name__ = name
    gate.__doc__ = f"A gate: {GATES[name]}."
    return fact(gate)


for _name, _bit in GATE_BITS.items():
    setattr(ClaimFacts, _name, _gate_fact(_name, _bit))

# What the line checks find (bits of ``line_scan``'s flags: those of the gates they open).
BAD_CHARGE = CHARGE_INVALID  # an SV102 missing, not a number or negative (BL002)
BAD_SHAPE = PROCEDURE_SHAPE  # an HC procedure code not a CPT or HCPCS level II code in shape (ID002)
BAD_QUALIFIER = PROCEDURE_QUALIFIER  # an SV101-1 not HC, ER, IV or WK (ID003)
BAD_UNITS = UNITS_INVALID  # an SV104 missing, not a number or not positive (ID004)
BAD_BASIS = UNIT_BASIS  # an SV103 not UN or MJ (ID005)
_BAD = BAD_CHARGE | BAD_SHAPE | BAD_QUALIFIER | BAD_UNITS | BAD_BASIS

#: Chiropractic manipulative treatment (CMT) codes: spinal, 1-2, 3-4 and 5 regions.
CHIRO_MANIPULATION = frozenset(("98940", "98941", "98942"))
_EXTERNAL_CAUSE = frozenset("VWXY")  # the first letters of ICD-10-CM chapter 20 (V00-Y99)
_FILING_DAYS = 365  # the timely-filing limit when none is configured (TF001)
_ZERO = Decimal(0)
_LIMIT = 4096


def _line_sum(dated: list[tuple[ServiceLine, str, date | None]]) -> Decimal | None:
    """The SV102 charges of the lines added as decimals, None when one is not a number."""
    total = _ZERO
    for line, _, _ in dated:
        elements = line.sv1.elements
        value = charge_of(elements[2] if len(elements) > 2 else "")[0]
        if value is None:
            return None
        total += value
    return total


# One HI as sent (text and separators) -> (filled positions as bits, HI_SUSPECT | EXTERNAL_CAUSE_FIRST
# bits): what the claim pass reads of the diagnoses, a pure function of the text (bounded).
_HI_FACTS: dict[tuple, tuple[int, int]] = {}


def _diagnosis_facts(diagnoses: list[Diagnosis]) -> tuple[int, int]:
    """(the HI positions holding a code as bits, the HI_SUSPECT and EXTERNAL_CAUSE_FIRST gates)."""
    gates = filled = 0
    hi_bad = len(diagnoses) > MAX_CODES
    expected = "ABK"
    seen: list[str] = []
    formed = _WELL_FORMED_CODES
    for dx in diagnoses:
        code = dx.code
        if code:
            filled |= 1 << dx.position
        if not hi_bad:
            if dx.qualifier != expected or not code or code in seen or not (formed.get(code) or well_formed(code)):
                hi_bad = True
            else:
                seen.append(code)
                expected = "ABF"
    if hi_bad:
        gates |= HI_SUSPECT
    if diagnoses:
        principal = diagnoses[0]
        if principal.code[:1] in _EXTERNAL_CAUSE and principal.position == 1 and principal.qualifier == "ABK":
            gates |= EXTERNAL_CAUSE_FIRST
    return filled, gates


def _line_facts(facts: ClaimFacts, memo: dict, line: ServiceLine) -> tuple:
    """What the line checks find in a line's SV1, a pure function of its text and delimiters (and
    the place of service code set): ``(gates, flags, cents, pointer mask, delimiters)``. The gates
    are MINUTES_GIVEN, UNITS_NOT_ONE and PLACE_OF_SERVICE; the flags the BAD_* bits; the cents
    SV102 in whole cents (None when not a number or not whole cents); the mask the HI positions SV107 names as bits
    (-1: no pointer, more than four, one not 1-12 or a repeated one)."""
    sv1 = line.sv1
    elements = sv1.elements
    n = len(elements)
    gates = flags = 0  # (the flags are gate bits too)
    text = text_charge = elements[2] if n > 2 else ""
    value, valid = charge_of(text)
    if not valid:
        flags |= BAD_CHARGE
    basis = elements[3] if n > 3 else ""
    if basis not in UNIT_BASES:
        flags |= BAD_BASIS
    elif basis == "MJ":
        gates |= MINUTES_GIVEN
    text = elements[4] if n > 4 else ""
    if not units_ok(text):
        flags |= BAD_UNITS
    if text != "1":
        gates |= UNITS_NOT_ONE
    if n > 5 and elements[5] and elements[5] not in facts.context.map("pos", load_pos).always:
        gates |= PLACE_OF_SERVICE
    sv101 = line.sv101
    q = sv101[0] if sv101 else ""
    if q not in PROCEDURE_QUALIFIERS:
        flags |= BAD_QUALIFIER
    elif q == "HC" and not procedure_shape_ok(line.procedure):
        flags |= BAD_SHAPE
    pointers = tuple(line.pointers)
    mask = -1
    if pointers:
        mask = _POINTER_MASKS.get(pointers)
        if mask is None:
            mask = _pointer_mask(pointers)
    found = memo[sv1.raw] = (gates | flags, flags, cents_of(text_charge), mask, sv1.delims)
    return found


def payer_claim_number(claim: Claim) -> Segment | None:
    """The 2300 REF*F8 (the payer's claim control number of the claim it replaces), or None."""
    for seg in claim.segments:
        if seg.id == "REF" and seg.loop == "2300" and seg.el(1) == "F8":
            return seg
    return None


def _segments_npis_ok(segments) -> bool:
    for seg in segments:
        if seg.id == "NM1" and seg.el(8) == "XX" and not luhn_npi_ok(seg.el(9)):
            return False
    return True


# The last billing provider level met and whether its NPIs pass: a billing provider's claims come
# one after the other (one level is kept, not every level met: memory stays flat). One tuple, so
# that threads scrubbing side by side never pair a level with another's answer.
_LAST_LEVEL: tuple = (None, True)


def _npis_ok(node) -> bool:
    global _LAST_LEVEL
    last = _LAST_LEVEL
    if last[0] is node:
        return last[1]
    ok = _segments_npis_ok(node.segments)
    _LAST_LEVEL = (node, ok)
    return ok


def _levels(claim: Claim) -> tuple[bool, date | None]:
    """What the claim's levels say (from the SBR, PAT and DMG each level noted): ``(unusual,
    born)``. ``unusual`` is what PE010-PE013 look at: an HL04 that is not what the levels below it
    say, a patient loop under a subscriber who is the patient (SBR02 18) or without PAT01, no
    patient loop under a subscriber who is not the patient. ``born`` is the patient's birth date
    (DT004): the patient level's first DMG, else the subscriber's, when D8."""
    billing, subscriber, patient = claim.billing, claim.subscriber, claim.patient
    unusual = False
    if billing is not None:
        els = billing.segments[0].elements
        if (els[4] if len(els) > 4 else "") != "1":
            unusual = True
    sbr = subscriber.sbr if subscriber is not None else None
    relation = sbr.el(2) if sbr is not None else None
    if patient is None:
        if relation is not None and relation != "18":
            unusual = True
        dmg = subscriber.dmg if subscriber is not None else None
    else:
        if relation == "18" or patient.segments[0].el(4) != "0":
            unusual = True
        elif subscriber is not None and subscriber.segments[0].el(4) != "1":
            unusual = True
        pat = patient.pat
        if pat is None or not pat.el(1).strip():
            unusual = True
        dmg = patient.dmg
    born = None
    if dmg is not None:
        els = dmg.elements
        if len(els) > 2 and els[1] == "D8":
            born = parse_date(els[2])
    return unusual, born


# SV107 pointers as sent (a tuple) -> the HI positions they name as bits, or -1 when there are more
# than four, one is not 1-12, or two name one position. A pure function of the pointers (bounded).
_POINTER_MASKS: dict[tuple[str, ...], int] = {}


def _pointer_mask(pointers: tuple[str, ...]) -> int:
    mask = 0
    if len(pointers) > 4:
        mask = -1
    else:
        position = POINTERS.get
        for raw in pointers:
            p = position(raw)
            if p is None or mask >> p & 1:
                mask = -1
                break
            mask |= 1 << p
    if len(_POINTER_MASKS) >= 4096:
        _POINTER_MASKS.clear()
    _POINTER_MASKS[pointers] = mask
    return mask


# A DTP as sent -> (a 472, not a D8 calendar date, start, end, delimiters): a pure function of its
# text and delimiters; the same dates come back on claim after claim (bounded).
_DTP_FACTS: dict[str, tuple] = {}


def dtp_facts(seg: Segment) -> tuple:
    """What a DTP says: (a 472, not a D8 calendar date, start, end, delimiters), memoised by its text."""
    found = _DTP_FACTS.get(seg.raw)
    if found is not None and found[4] is seg.delims:
        return found
    els = seg.elements
    n = len(els)
    is_d8 = n > 3 and els[2] == "D8"
    start, end = parse_date_period(seg.el(2), seg.el(3))
    if len(_DTP_FACTS) >= 4096:
        _DTP_FACTS.clear()
    found = _DTP_FACTS[seg.raw] = (n > 1 and els[1] == "472", not is_d8 or start is None, start, end, seg.delims)
    return found


class ClaimDates:
    """The claim's DTP segments and dates of service.

    ``service``: (DTP*472 segment, start, end) for the claim (2300) and the lines; ``line_dates``:
    each line's date of service (its own DTP*472 start, else the claim's); ``first``: the earliest
    of them; ``label(seg)``: "service line N" or "the claim", for messages. Over the DTP*472s:
    ``first_start`` (the earliest start), ``latest`` (the latest end), ``oldest`` (the earliest end,
    with its segment). ``odd``: a DTP is not a D8 calendar date; ``other``: a DTP is not a 472;
    ``line_service``: a DTP*472 is in a 24xx loop.
    """

    __slots__ = ("claim", "_service", "_where", "claim_level", "claim_start", "line_dates", "dated_lines",
                 "first", "first_start", "latest", "oldest", "odd", "other", "line_service")

    def __init__(self, claim: Claim) -> None:
        self.claim = claim
        self._where: dict[int, int] | None = None
        claim_start: date | None = None
        claim_level = False
        own: dict[int, date | None] = {}
        self._service: list[tuple[Segment, date | None, date | None]] | None = None
        memo = _DTP_FACTS
        odd = other = line_service = False
        first_start = latest = None
        oldest: tuple[date, Segment] | None = None
        # The model notes each DTP with the service line it is in (the model starts one at each LX).
        before = None  # the last DTP*472's facts: the lines of a claim often repeat one date
        for seg, number in claim.dated:
            found = memo.get(seg.raw)
            if found is None or found[4] is not seg.delims:
                found = dtp_facts(seg)
            if found[1]:
                odd = True
            if not found[0]:
                other = True
                continue
            start, end = found[2], found[3]
            if found is not before:  # (the same dates as the last: the span stays)
                before = found
                if start is not None and (first_start is None or start < first_start):
                    first_start = start
                last = end or start
                if last is not None:
                    if latest is None or last > latest:
                        latest = last
                    if oldest is None or last < oldest[0]:
                        oldest = (last, seg)
            if number:  # in a service line (the model numbers the DTPs from an LX on: a 24xx loop)
                line_service = True
                if number not in own:
                    own[number] = start
            elif seg.loop == "2300" and not claim_level:
                claim_level = True
                claim_start = start
        self.claim_level = claim_level
        self.claim_start = claim_start
        self.dated_lines: set[int] | dict[int, date | None] = own
        self.first_start, self.latest, self.oldest = first_start, latest, oldest
        self.odd, self.other, self.line_service = odd, other, line_service
        first = None
        if own:
            get = own.get
            line_dates: list[date | None] = [get(line.number) or claim_start for line in claim.lines]
            first = min(filter(None, line_dates), default=None)
        else:
            line_dates = [claim_start] * len(claim.lines)
        self.line_dates = line_dates
        self.first = first or claim_start

    @property
    def service(self) -> list[tuple[Segment, date | None, date | None]]:
        """(DTP*472 segment, start, end) of the claim's and the lines' dates of service, in order."""
        service = self._service
        if service is None:
            service = []
            for seg, _ in self.claim.dated:
                found = dtp_facts(seg)
                if found[0]:
                    service.append((seg, found[2], found[3]))
            self._service = service
        return service

    @property
    def dtps(self) -> list[Segment]:
        """The claim's DTP segments, in order."""
        return [seg for seg, _ in self.claim.dated]

    @property
    def where(self) -> dict[int, int]:
        """id(DTP segment) -> the number of the service line it is in (made on first use)."""
        where = self._where
        if where is None:
            where = self._where = {
                id(seg): number for seg, number in self.claim.dated if number > 0 and seg.loop.startswith("24")
            }
        return where

    def label(self, seg: Segment) -> str:
        number = self.where.get(id(seg))
        return "the claim" if number is None else f"service line {number}"



class HiEntry:
    """One diagnosis composite as sent: ``ref`` is ``HI03`` (its element), ``split`` when the
    qualifier and code came as two elements (``HI*BK*8901``)."""

    __slots__ = ("number", "seg", "element", "qualifier", "code", "split", "has_qualifier")

    def __init__(self, number: int, seg: Segment, element: int, qualifier: str, code: str, split: bool, has_qualifier: bool):
        self.number, self.seg, self.element = number, seg, element
        self.qualifier, self.code, self.split, self.has_qualifier = qualifier, code, split, has_qualifier

    @property
    def ref(self) -> str:
        return f"HI{self.element:02d}"



def read_hi_entries(claim: Claim) -> list[HiEntry]:
    out: list[HiEntry] = []
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
                out.append(HiEntry(number, seg, i, parts[0], seg.el(i + 1), True, True))
                i += 2
                continue
            if len(parts) == 1:  # a code with no qualifier (or a qualifier with no code)
                if parts[0] in _QUALIFIERS:
                    out.append(HiEntry(number, seg, i, parts[0], "", False, True))
                else:
                    out.append(HiEntry(number, seg, i, "", parts[0], False, False))
            else:
                out.append(HiEntry(number, seg, i, parts[0], parts[1], False, True))
            i += 1
    return out



_WELL_FORMED_CODES: dict[str, bool] = {}  # code -> format_problem(code) is None (bounded cache)


def well_formed(code: str) -> bool:
    known = _WELL_FORMED_CODES.get(code)
    if known is None:
        if len(_WELL_FORMED_CODES) >= 8192:
            _WELL_FORMED_CODES.clear()
        known = _WELL_FORMED_CODES[code] = format_problem(code) is None
    return known


def format_problem(code: str) -> str | None:
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



_CACHE_LIMIT = 50_000
_UNSEEN = object()


class IcdVerdict(NamedTuple):
    """Why a code is not billable in an ICD-10-CM release.

    ``kind`` is ``unknown`` (the code is in no loaded release), ``header`` (it exists but needs more
    characters: ``children`` are its first billable codes, ``more`` says there are others) or
    ``not-valid`` (it is valid in other releases: from a later one when ``new``, else no longer;
    ``year`` is the fiscal year it is valid from or was last valid in, or, with ``april``, the
    fiscal year whose April update adds or deletes it)."""

    kind: str
    year: int = 0
    new: bool = False
    april: bool = False
    children: tuple[str, ...] = ()
    more: bool = False


class IcdVerdicts:
    """The ICD-10-CM verdicts of one claim's codes on their dates of service.

    ``found``: ``(verdict, diagnosis, date of service, release)`` for each ABK/ABF code in the X12
    form that is not billable on a date it is checked on, the first of each kind per diagnosis, in
    HI order then date order. ``late``: the latest date past the newest loaded fiscal year (its
    codes were checked against the newest); ``early``: the first date before the oldest one (its
    codes were not checked); ``undated``: the claim has diagnoses but no date of service (nothing
    was checked). ``table``: the ICD-10-CM table the codes were checked against (None when none).
    ``flagged``: any of these holds."""

    __slots__ = ("table", "found", "late", "early", "undated", "flagged")

    def __init__(self, table, found: list, late: date | None = None, early: date | None = None,
                 undated: bool = False) -> None:
        self.table = table
        self.found: list[tuple[IcdVerdict, Diagnosis, date, int | tuple[int, int]]] = found
        self.late = late
        self.early = early
        self.undated = undated
        self.flagged = bool(found) or undated or late is not None or early is not None


_NO_VERDICTS = IcdVerdicts(None, [])


class IcdChecker:
    """Looks up (code, release) once per run (kept in the run's maps); ``for_claim`` gives the
    :class:`IcdVerdicts` of one claim.

    A code is checked on the dates of service of the lines that point at it (HI01, the principal
    diagnosis, on every line's) when the claim's dated lines fall in more than one fiscal year;
    otherwise, and when no dated line points at it, on the claim's first date of service."""

    def __init__(self) -> None:
        self.verdicts: dict[tuple[str, int | tuple[int, int]], IcdVerdict | None] = {}
        self._table = None  # the ICD-10-CM table the memos below are of
        # date of service -> (its fiscal year, the release its codes are checked against or None
        # before the oldest, past the newest fiscal year); bounded.
        self._on: dict[date, tuple[int, int | tuple[int, int] | None, bool]] = {}
        # release -> {code: its verdict (None: billable), or _SKIP for a code not in the X12 form}; bounded.
        self._by_release: dict[int | tuple[int, int], dict[str, IcdVerdict | None | object]] = {}
        self._clean = _NO_VERDICTS  # the verdicts of a claim with nothing to say, for the table
        self._clean_his: set[tuple] = set()  # (HI as sent, release, delimiters) of claims found clean; bounded

    def verdict(self, table, code: str, release: int | tuple[int, int]) -> IcdVerdict | None:
        key = (code, release)
        verdicts = self.verdicts
        result = verdicts.get(key, _UNSEEN)
        if result is _UNSEEN:
            if len(verdicts) > _CACHE_LIMIT:
                verdicts.clear()
            verdicts[key] = result = _verdict(table, code, release)
        return result

    def _use(self, table) -> None:
        """Starts the memos afresh for another ICD-10-CM table."""
        self._table = table
        self._on = {}
        self._by_release = {}
        self.verdicts = {}
        self._clean = IcdVerdicts(table, [])
        self._clean_his = set()

    def _date(self, table, d: date) -> tuple[int, int | tuple[int, int] | None, bool]:
        """(fiscal year, release, past the newest) of a date of service."""
        on = self._on
        if len(on) >= 4096:
            on.clear()
        fiscal_years = table.fiscal_years
        oldest, newest = fiscal_years[0], fiscal_years[-1]
        fy = table.fiscal_year_of(d)
        if fy < oldest:
            release = None
        elif fy > newest:
            release = table.release_of(datetime.date(newest, 9, 30))
        else:
            release = table.release_of(d) if table.april else fy
        found = on[d] = (fy, release, fy > newest)
        return found

    def _codes(self, release: int | tuple[int, int]) -> dict:
        memo = self._by_release.get(release)
        if memo is None or len(memo) >= _CACHE_LIMIT:
            memo = self._by_release[release] = {}
        return memo

    def _code(self, table, memo: dict, code: str, release: int | tuple[int, int]):
        """The verdict of a code in a release (None: billable), or _SKIP when it is not in the X12 form."""
        found = memo[code] = self.verdict(table, code, release) if well_formed(code) else _SKIP
        return found

    def for_claim(self, facts: ClaimFacts) -> IcdVerdicts:
        claim = facts.claim
        diagnoses = claim.diagnoses
        if not diagnoses:
            return _NO_VERDICTS
        dates = facts.dates
        first = dates.first
        if first is None:
            return IcdVerdicts(None, [], undated=True)
        table = facts.maps.get("icd10cm") or facts.icd10cm
        if table is not self._table:
            self._use(table)
        on = self._on
        info = on.get(first) or self._date(table, first)
        # The dates each diagnosis position is checked on, when not all on the first one.
        wanted: dict[int, set[date]] = {}
        fy_first = info[0]
        for d in dates.line_dates:
            if d is not None and d != first and (on.get(d) or self._date(table, d))[0] != fy_first:
                wanted = _dates_by_position(claim, dates.line_dates)
                break
        _, release, past = info
        # A claim whose codes are all checked on the first date, with the HI segments of a claim
        # found clean before in that release, is clean (the codes are a pure function of the HI
        # segments as sent).
        clean_key = None
        if not wanted and release is not None and not past:
            his = claim.hi_segments
            if len(his) == 1:
                d = his[0].delims  # (the key names the separators: a Delimiters hashes in Python)
                clean_key = (his[0].raw, release, d.element, d.component)
            if clean_key is not None and clean_key in self._clean_his:
                return self._clean
        found: list = []
        reported: set[tuple[str, int]] = set()
        late: date | None = None
        early: date | None = None
        if release is None:
            first_codes = None
        else:
            first_codes = self._by_release.get(release)
            if first_codes is None or len(first_codes) >= _CACHE_LIMIT:
                first_codes = self._codes(release)
        for dx in diagnoses:
            code = dx.code
            if dx.qualifier not in _ICD10_QUALIFIERS or not code:
                continue
            on_dates = wanted.get(dx.position) if wanted else None
            if on_dates is None:  # checked on the first date of service
                if first_codes is None:
                    if well_formed(code):
                        early = early or first
                    continue
                v = first_codes.get(code, _UNSEEN)
                if v is _UNSEEN:
                    v = self._code(table, first_codes, code, release)
                if v is _SKIP:
                    continue
                if past and (late is None or first > late):
                    late = first
                if v is None:
                    continue
                key = (v.kind, dx.position)
                if key in reported:
                    continue
                reported.add(key)
                found.append((v, dx, first, release))
                continue
            if not well_formed(code):
                continue
            for d in sorted(on_dates):
                _, d_release, d_past = on.get(d) or self._date(table, d)
                if d_release is None:
                    early = early or d
                    continue
                if d_past:
                    late = max(late, d) if late else d
                v = self.verdict(table, code, d_release)
                if v is None:
                    continue
                key = (v.kind, dx.position)
                if key in reported:
                    continue
                reported.add(key)
                found.append((v, dx, d, d_release))
        if not found and late is None and early is None:
            if clean_key is not None:
                if len(self._clean_his) >= _CACHE_LIMIT:
                    self._clean_his.clear()
                self._clean_his.add(clean_key)
            return self._clean  # (shared: do not modify)
        return IcdVerdicts(table, found, late, early)


_SKIP = object()  # a code not in the X12 form: not looked up


def _dates_by_position(claim: Claim, line_dates: list[date | None]) -> dict[int, set[date]]:
    """The dates of service each HI position is checked on: those of the dated lines pointing at
    it, and every line's for HI01."""
    wanted: dict[int, set[date]] = {}
    for line, d in zip(claim.lines, line_dates):
        if d is None:
            continue
        wanted.setdefault(1, set()).add(d)
        for raw in line.pointers:
            if raw.isdigit() and raw.isascii() and 1 <= int(raw) <= _MAX_CODES:
                wanted.setdefault(int(raw), set()).add(d)
    return wanted


def _verdict(table, code: str, release: int | tuple[int, int]) -> IcdVerdict | None:
    fy = release[0] if isinstance(release, tuple) else release
    status = table.status(code, release)
    if status.billable:
        return None
    if status.exists:
        children = table.billable_children(code, release, limit=8)
        more = bool(children) and len(table.billable_children(code, release, limit=9)) > len(children)
        return IcdVerdict("header", children=tuple(children), more=more)
    years = table.years_of(code)
    aprils = table.years_of(code, april=True) if table.april else []
    if not years and not aprils:
        return IcdVerdict("unknown")
    if isinstance(release, tuple) and any(y == fy for y, _ in years):
        return IcdVerdict("not-valid", fy, new=False, april=True)  # deleted by the April update
    if not isinstance(release, tuple) and any(y == fy for y, _ in aprils):
        return IcdVerdict("not-valid", fy, new=True, april=True)  # added by the April update
    years = sorted(set(years) | set(aprils))
    billable = [y for y, b in years if b] or [y for y, _ in years]
    later = [y for y in billable if y > fy]
    earlier = [y for y in billable if y < fy]
    if later:
        return IcdVerdict("not-valid", later[0], new=True)
    return IcdVerdict("not-valid", earlier[-1])



class HiReading:
    """The claim's diagnoses as the back-pain rules read them, apart from the claim: a pure function
    of the diagnosis codes by position and the maps, so made once per HI text (the same few come back
    on claim after claim; see :func:`hi_reading`) and shared by the claims that send it.

    ``picks``: the index in ``claim.diagnoses`` of each diagnosis with a code (the first twelve: a
    claim with more is rejected by DX003, and the codes past the twelfth would only make the pair
    checks grow as their square); ``norm``: their codes normalized; ``at``: HI position -> (index
    in ``picks``, normalized code); ``in_scope``: a code is
    in the maps' scope; ``flags``: UNSPECIFIED, SYMPTOM (HI01) and EXCLUDES1_OWNER bits; ``filled``:
    the positions holding a code, as bits. Do not modify."""

    __slots__ = ("maps", "picks", "norm", "at", "in_scope", "flags", "filled", "memo", "region_bits")

    def __init__(self, diagnoses: list[Diagnosis], maps: BackpainMaps):
        self.maps = maps  # the maps it was read with
        known = maps.memo.get("norm-scope")  # code as sent -> (normalized, in scope, flags)
        if known is None or len(known) >= 8192:
            known = maps.memo_of("norm-scope")
        picks, normed = [], []
        at: dict[int, tuple[int, str]] = {}
        in_scope = False
        flags = filled = first = 0
        for i, dx in enumerate(diagnoses[:MAX_CODES]):
            code = dx.code
            if code:
                hit = known.get(code)
                if hit is None:
                    c = norm(code)
                    hit = known[code] = (c, maps.scope.match(c), _code_flags(maps, c))
                position = dx.position
                at[position] = (len(picks), hit[0])
                picks.append(i)
                normed.append(hit[0])
                filled |= 1 << position
                if hit[1]:
                    in_scope = True
                flags |= hit[2]
                if position == 1:
                    first = hit[2]
        self.picks, self.norm, self.at = tuple(picks), tuple(normed), at
        self.in_scope = in_scope
        self.filled = filled
        # The gates of BP001-BP003: an unspecified code, a symptom in HI01, an Excludes1 owner.
        self.flags = flags & (UNSPECIFIED | EXCLUDES1_OWNER) | first & SYMPTOM
        self.memo: dict = {}  # what a rule derives from the reading alone (by the rule's own keys; bounded)
        self.region_bits: dict[int, int] = {}  # pointer mask -> regions (see ``regions``; bounded)

    def regions(self, mask: int) -> int:
        """The bits (see ``BackpainMaps.support_bits``) of the regions the diagnoses at the HI
        positions of ``mask`` (bits, as ``ClaimFacts.pointer_masks`` gives them) are in (PX001)."""
        found = self.region_bits.get(mask)
        if found is None:
            found = region_bits(self.maps, [c for position, (_, c) in self.at.items() if mask >> position & 1])
            if len(self.region_bits) >= 64:
                self.region_bits.clear()
            self.region_bits[mask] = found
        return found


_READINGS = 4096  # HI texts whose reading is kept (a reading is about a kilobyte; the oldest goes first)


def region_bits(maps: BackpainMaps, codes) -> int:
    """The bits (see ``BackpainMaps.support_bits``) of the regions one of the normalized ``codes``
    is in (PX001); each code's bits memoised per maps (bounded)."""
    memo = maps.memo.get("region-bits")
    if memo is None or len(memo) >= 8192:
        memo = maps.memo_of("region-bits")
    mask = 0
    for c in codes:
        bits = memo.get(c)
        if bits is None:
            bits = memo[c] = sum(1 << i for i, group in enumerate(maps.support_sets) if group.match(c))
        mask |= bits
    return mask


def hi_reading(claim: Claim, maps: BackpainMaps) -> HiReading:
    """The :class:`HiReading` of the claim's diagnoses, memoised by the HI segments' text and
    delimiters (bounded)."""
    his = claim.hi_segments
    if not his:
        return HiReading(claim.diagnoses, maps)
    d = his[0].delims  # (the key names the separators: a Delimiters hashes in Python)
    key = (his[0].raw, d.element, d.component) if len(his) == 1 else (tuple([seg.raw for seg in his]), d.element,
                                                                         d.component)
    memo = maps.memo.get("hi-readings")
    if memo is None:
        memo = maps.memo["hi-readings"] = {}
    found = memo.get(key)
    if found is None:
        if len(memo) >= _READINGS:
            try:  # the oldest reading goes (the others keep what the rules found with them)
                del memo[next(iter(memo))]
            except (KeyError, RuntimeError, StopIteration):  # another thread took one at once
                pass
        found = memo[key] = HiReading(claim.diagnoses, maps)
    return found


class BackpainFacts:
    """What the back-pain rules read from one claim, computed once for all of them: the claim's
    :class:`HiReading` (``reading``), its lines with their dates of service, and the claim's
    diagnoses as ``(diagnosis, normalized code)`` (``codes``, ``code_at``: made when asked)."""

    __slots__ = ("claim", "maps", "reading", "in_scope", "flags", "first_date", "last_date", "covered", "lines",
                 "masks", "_codes", "_code_at", "_pointed", "_regions")

    def __init__(self, claim: Claim, maps: BackpainMaps, lines: list[tuple[ServiceLine, str, date | None]],
                 claim_start: date | None | bool = False, masks: list[int] | None = None,
                 reading: HiReading | None = None):
        """``claim_start``: the claim's own date of service when the caller has it (False: read it
        from the claim when needed); ``masks``: the pointer masks of ``lines`` (see
        ``ClaimFacts.pointer_masks``) when the caller has them; ``reading``: the claim's
        :class:`HiReading` when the caller has it."""
        self.claim = claim
        self.maps = maps  # the back-pain maps the facts were read with
        self.reading = reading = reading or hi_reading(claim, maps)
        self.in_scope = reading.in_scope
        self.flags = reading.flags
        self._codes: list[tuple[Diagnosis, str]] | None = None
        self._code_at: dict[int, tuple[Diagnosis, str]] | None = None
        self._pointed: dict[tuple[str, ...], list[tuple[int, Diagnosis, str]]] | None = None
        self._regions: dict[tuple[str, ...], tuple[int, bool]] | None = None
        self.lines = lines  # (line, procedure, date of service)
        self.masks = masks
        first = last = None
        if lines:
            for _, _, d in lines:
                if d is not None:
                    if first is None:
                        first = last = d
                    elif d < first:
                        first = d
                    elif d > last:
                        last = d
        else:
            first = last = claim.claim_dates()[0] if claim_start is False else claim_start
        self.first_date = first
        self.last_date = last
        # Every date of service inside the dates all the back-pain map files cover (then no rule's
        # files leave one out: see BackpainRule.not_covered).
        span = maps.memo.get("common-span")
        if span is None:
            files = maps.files.values()
            span = maps.memo["common-span"] = ((max(mf.effective_from for mf in files), min(mf.effective_to for mf in files))
                                               if files else (date.min, date.max))
        self.covered = first is None or span[0] <= first and last <= span[1]

    @property
    def codes(self) -> list[tuple[Diagnosis, str]]:
        """The diagnoses with a code (the first twelve), as ``(diagnosis, normalized code)``."""
        codes = self._codes
        if codes is None:
            diagnoses = self.claim.diagnoses
            codes = self._codes = [(diagnoses[i], c) for i, c in zip(self.reading.picks, self.reading.norm)]
        return codes

    @property
    def code_at(self) -> dict[int, tuple[Diagnosis, str]]:
        """HI position -> ``(diagnosis, normalized code)``."""
        code_at = self._code_at
        if code_at is None:
            code_at = self._code_at = {dx.position: item for item in self.codes for dx in (item[0],)}
        return code_at

    def diagnosis(self, position: int) -> tuple[Diagnosis, str] | None:
        """``code_at.get(position)``, without making ``code_at``."""
        hit = self.reading.at.get(position)
        if hit is None:
            return None
        return self.claim.diagnoses[self.reading.picks[hit[0]]], hit[1]

    @property
    def dates(self) -> list[date | None]:
        """The dates of service of the lines (the claim's date when it has none)."""
        return [d for _, _, d in self.lines] if self.lines else [self.first_date]

    def regions(self, pointers: tuple[str, ...]) -> tuple[int, bool]:
        """What the diagnoses a line's pointers name support (PX001): ``(mask, pointed)``, the bits
        (see ``BackpainMaps.support_bits``) of the regions one of them is in, and whether they
        name any diagnosis. Once per claim and pointers."""
        regions = self._regions
        if regions is None:
            regions = self._regions = {}
        else:
            found = regions.get(pointers)
            if found is not None:
                return found
        dxs = self._pointed_by(pointers)
        found = regions[pointers] = (region_bits(self.maps, [c for _, _, c in dxs]), bool(dxs))
        return found

    def pointed(self, line: ServiceLine) -> list[tuple[int, Diagnosis, str]]:
        """The line's pointed diagnoses: (SV107 component index, diagnosis, normalized code).
        Computed once per claim and pointers (several rules ask, lines often point alike); do not
        modify the list."""
        return self._pointed_by(tuple(line.pointers))

    def _pointed_by(self, key: tuple[str, ...]) -> list[tuple[int, Diagnosis, str]]:
        pointed = self._pointed
        if pointed is None:
            pointed = self._pointed = {}
        else:
            out = pointed.get(key)
            if out is not None:
                return out
        out = []
        code_at = self.code_at
        index = 0
        for raw in key:
            index += 1
            position = _POSITIONS.get(raw)
            if position is None:
                if not (raw.isdigit() and raw.isascii()):
                    continue
                position = int(raw)
            hit = code_at.get(position)
            if hit is not None:
                out.append((index, hit[0], hit[1]))
        pointed[key] = out
        return out


_POSITIONS = {str(i): i for i in range(1, MAX_CODES + 1)}  # SV107 pointers as sent, the usual ones

# What a normalized code is to the back-pain rules (bits of BackpainFacts.flags, and with IN_SCOPE
# of ClaimFacts.backpain_gates).
IN_SCOPE = 8  # a code in the maps' scope (PX001)
UNSPECIFIED = 1  # an unspecified back-pain code of specificity.toml (BP001)
SYMPTOM = 2  # a symptom that sequencing.toml wants after its underlying condition (BP002, in HI01)
EXCLUDES1_OWNER = 4  # a code under an Excludes1 note of excludes1.toml (BP003)


def _code_flags(maps: BackpainMaps, c: str) -> int:
    flags = UNSPECIFIED if c in maps.unspecified else 0
    if any([s.match(c) for s, _, _ in maps.sequencing]):
        flags |= SYMPTOM
    table = maps.excludes1
    if any([c[:k] in table for k in range(3, min(len(c), 7) + 1)]):  # ICD-10-CM codes have at most 7 characters
        flags |= EXCLUDES1_OWNER
    return flags



class NcciLines:
    """A claim's service lines as the NCCI rules read them, computed once for the three rules: each
    line with its procedure and date of service (the line's DTP*472, else the claim's), and the dates
    that carry two or more different procedures (where a PTP pair can occur). ``pairs`` is filled
    on first use by NC001 or NC002 (see :meth:`ptp_hits`), for both."""

    __slots__ = ("claim", "lines", "multi", "pairs")

    def __init__(self, claim: Claim, dated: list[tuple[ServiceLine, str, date | None]], one_day: bool | None = None):
        """``dated``: the claim's dated lines (see ``ClaimFacts.dated_lines``); ``one_day``, when the
        caller knows it: ``dated`` is already only the lines with a procedure, and says whether they
        are all of one date of service."""
        self.claim = claim
        self.pairs: list | None = None
        if one_day is None:
            lines = [item for item in dated if item[1]]
            one_day = len(lines) < 2 or all([item[2] == lines[0][2] for item in lines])
        else:
            lines = dated
        self.lines = lines
        self.multi = multi = []
        if len(lines) < 2:
            return
        if one_day:  # (the usual claim)
            procedures = {proc for _, proc, _ in lines}
            if len(procedures) > 1:
                multi.append((lines[0][2], [(line, proc) for line, proc, _ in lines], tuple(sorted(procedures))))
            return
        by_date: dict[date | None, list[tuple[ServiceLine, str]]] = {}
        for line, proc, d in lines:
            items = by_date.get(d)
            if items is None:
                by_date[d] = [(line, proc)]
            else:
                items.append((line, proc))
        for d, items in by_date.items():
            if len(items) > 1:
                procedures = tuple(sorted({proc for _, proc in items}))
                if len(procedures) > 1:
                    multi.append((d, items, procedures))

    def ptp_hits(self, n: Ncci) -> list[tuple[ServiceLine, date | None, tuple | None, tuple | None]]:
        """Per column-2 line with an edit in force on its date: (line, date, first indicator-0 edit,
        first indicator-1 edit), each edit ``(column 1, rationale)`` or None (column 1 in code order)."""
        if self.pairs is None:
            pairs = []
            for d, items, procedures in self.multi:
                edits = _ptp_edits(n, n.ymd(d), procedures)
                if not edits:
                    continue
                for line, proc in items:
                    hit = edits.get(proc)
                    if hit is not None:
                        pairs.append((line, d, hit[0], hit[1]))
            self.pairs = pairs
        return self.pairs


# (table, YYYYMMDD, procedures of one date) -> {column 2: (first indicator-0 edit, first indicator-1 edit)}:
# a pure function of the NCCI table, asked again for each claim with the same procedures (bounded).
_PTP_EDITS: dict[tuple, dict[str, tuple]] = {}
# (table, date, the procedures of a claim on that one date) -> an edit is among them (bounded).
_PTP_ANY: dict[tuple, bool] = {}


def _ptp_edits(n: Ncci, ymd: str, procedures: tuple[str, ...]) -> dict[str, tuple]:
    key = (n, ymd, procedures)
    edits = _PTP_EDITS.get(key)
    if edits is not None:
        return edits
    edits = {}
    in_column2, edit_of = n.in_column2, n.ptp_edit_ymd
    for proc in procedures:
        if not in_column2(proc):
            continue
        first = [None, None]
        for column1 in procedures:
            if column1 != proc:
                edit = edit_of(column1, proc, ymd)
                if edit is not None and first[edit[0]] is None:
                    first[edit[0]] = (column1, edit[1])
        if first[0] is not None or first[1] is not None:
            edits[proc] = (first[0], first[1])
    if len(_PTP_EDITS) >= 4096:
        _PTP_EDITS.clear()
    _PTP_EDITS[key] = edits
    return edits
