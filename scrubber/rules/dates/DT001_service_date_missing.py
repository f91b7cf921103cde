"""DT001: service line without a date of service, and no claim-level date either."""

from __future__ import annotations

from scrubber.findings import Finding
from scrubber.rules.base import Rule
from scrubber.rules.facts import ClaimFacts
from scrubber.x12.model import Claim


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
    concerns = "line_undated"

    def check(self, claim: Claim, facts: ClaimFacts) -> list[Finding] | tuple:
        dates = facts.dates
        if dates.claim_level:
            return ()
        dated = dates.dated_lines
        return [
            self.finding(
                line.sv1 or line.lx,
                f"Service line {line.number} ({line.procedure or 'no procedure'}) has no date of service "
                f"(DTP*472) and the claim gives none; add DTP*472*D8*CCYYMMDD to the line.",
                element="DTP03",
            )
            for line in claim.lines
            if line.number not in dated
        ]
