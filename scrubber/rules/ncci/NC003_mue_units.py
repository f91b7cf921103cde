"""NC003: more units of a code than its medically unlikely edit (MUE) allows, per line or per date."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from scrubber.codesets.ncci import MUE_NAME, Mue, Ncci, NcciError
from scrubber.findings import Finding
from scrubber.rules.facts import ClaimFacts
from scrubber.rules.ncci._common import NcciRule, note, units_of, when
from scrubber.x12.model import Claim, ServiceLine


def _plain(value: Decimal) -> str:
    """``Decimal("10")`` -> ``"10"``, ``Decimal("1.50")`` -> ``"1.5"`` (no exponent)."""
    return format(value.normalize(), "f")


class MedicallyUnlikelyUnits(NcciRule):
    """More units of a code than its medically unlikely edit (MUE) allows, per line or per date.

    ## What it does
    On any claim, compares the units billed (SV104 with SV103 = UN) of each code with its MUE in
    the CMS Medicare NCCI MUE table for practitioner services (`maps/ncci/`, one quarter; a later
    date of service is checked against it). MUE adjudication indicator (MAI) 1 is a per-line edit:
    each line's units are compared. MAI 2 and 3 are per date of service: the units of the code on
    all the claim's lines of one date are added up. An MUE value of 0 means no unit is payable.
    Examples: 97110, 97140 and 97530 allow 6 units a day, 97112 4, 98940-98942 and the therapy
    evaluations 97161-97164 1. The finding names the quarter checked against and its age.

    ## Why is this bad
    Units above the MUE are denied (a date-of-service MUE denies all the code's units of the day).
    It is almost always a keying error: minutes sent as units, a line sent twice. Hence an error.

    ## Example
    `SV1*HC:97110*320*UN*8***1~` (8 units on one date; the MUE is 6)

    ## Use instead
    `SV1*HC:97110*240*UN*6***1~`, the units the record supports (15-minute units, see NC004)

    ## References
    CMS Medicare NCCI medically unlikely edits, practitioner services (quarterly): maps/ncci/mue_practitioner.tsv,
    see maps/ncci/SOURCE.md; CMS NCCI Policy Manual ch. 1.
    """

    code = "NC003"
    name = "mue-units"
    summary = "units of a code above its medically unlikely edit (per line, or per date of service)"
    severity = "error"
    source = "CMS Medicare NCCI MUE table, practitioner services (quarterly table, maps/ncci/mue_practitioner.tsv)"
    table_kind = "MUE"
    map_files = (f"ncci/{MUE_NAME}",)
    concerns = "mue_suspect"

    def check(self, claim: Claim, facts: ClaimFacts) -> list[Finding] | tuple:
        coded = facts.coded_lines
        if not coded:
            return ()
        n = self.ncci(facts)
        if isinstance(n, NcciError):
            return [self.unreadable(claim, n)]
        mue_of = n.mue_codes().get
        out = []
        totals: dict[tuple[str, date | None], list] = {}  # (code, date) -> [units, last line, MUE]
        for line, proc, d in coded:
            raw = mue_of(proc)
            if raw is None:
                continue
            elements = line.sv1.elements
            n_el = len(elements)
            if n_el > 3 and elements[3] not in ("UN", ""):
                continue  # minutes (MJ): NC004 speaks for them
            count = units_of(elements[4] if n_el > 4 else "")
            if count is None:
                continue  # not a number: ID004 speaks for it
            if raw[1] == 1:  # MAI 1: per line
                if count > raw[0]:
                    out.append(self.units_finding(line, count, Mue(proc, *raw), d, facts, n, per_line=True))
                continue
            key = (proc, d)
            total = totals.get(key)
            if total is None:
                totals[key] = [count, line, raw]
            else:
                total[0] += count
                total[1] = line
        for (proc, d), (count, line, raw) in totals.items():
            if count > raw[0]:
                out.append(self.units_finding(line, count, Mue(proc, *raw), d, facts, n, per_line=False))
        return out

    def units_finding(self, line: ServiceLine, billed: Decimal, mue: Mue, d: date | None, facts: ClaimFacts, n: Ncci,
                      per_line: bool) -> Finding:
        count = f"{_plain(billed)} unit{'s' if billed != 1 else ''}"
        allows = ("is 0: no unit of it is payable" if mue.value == 0 else
                  f"allows {mue.value} {'per line' if per_line else 'per date of service'}")
        what = (f"Service line {line.number} ({mue.code}) is billed for {count}" if per_line else
                f"{mue.code} is billed for {count} on {when(d)}")
        return self.finding(
            line.sv1,
            f"{what}; its medically unlikely edit {allows} (MAI {mue.mai}, {mue.rationale or 'no rationale given'}) "
            f"{note(n, 'MUE', facts.as_of)}.",
            element="SV104", value=_plain(billed),
        )
