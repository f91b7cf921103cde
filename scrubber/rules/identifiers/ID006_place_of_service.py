"""ID006: place of service (CLM05-1, SV105) not in the CMS place of service code set on the date of service."""

from __future__ import annotations

from datetime import date

from scrubber.codesets.pos import load_pos
from scrubber.findings import Finding
from scrubber.rules.base import Rule
from scrubber.rules.facts import ClaimFacts
from scrubber.x12.model import Claim


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
    concerns = "place_of_service"
    name = "place-of-service"
    summary = "CLM05-1 or SV105 is not a CMS place of service code"
    ack = "A7:249"
    source = "CMS Place of Service Code Set; 005010X222A1 CLM05-1, SV105"

    def check(self, claim: Claim, facts: ClaimFacts) -> list[Finding] | tuple:
        table = facts.maps.get("pos") or facts.map("pos", load_pos)
        clm05 = claim.clm.comp(5, 1)
        always = table.always  # valid on any date: nothing to say
        if clm05 in always:
            for line in claim.lines:
                sv1 = line.sv1
                if sv1 is not None:
                    elements = sv1.elements
                    code = elements[5] if len(elements) > 5 else ""
                    if code and code not in always:
                        break
            else:
                return ()
        dates = facts.dates
        out = []
        problem = _pos_problem(table, clm05, dates.first, required=True)
        if problem:
            out.append(self.finding(claim.clm, f"Claim {claim.claim_id} place of service CLM05-1 {problem}.",
                                    element="CLM05-1", value=clm05 or None))
        for line, when in zip(claim.lines, dates.line_dates):
            sv1 = line.sv1
            if sv1 is None:
                continue
            code = sv1.el(5)
            if not code:
                continue
            problem = _pos_problem(table, code, when, required=False)
            if problem:
                out.append(self.finding(sv1, f"Service line {line.number} place of service SV105 {problem}.",
                                        element="SV105", value=code))
        return out


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
