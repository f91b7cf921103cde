"""DP007: a claim with no service line."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrubber.rules.base import Rule

if TYPE_CHECKING:
    from scrubber.findings import Finding
    from scrubber.rules.facts import ClaimFacts
    from scrubber.x12.model import Claim


class ServiceLineMissing(Rule):
    """Claim with no service line.

    ## What it does
    Flags a 2300 claim followed by no 2400 service line (no LX/SV1).

    ## Why is this bad
    An 837P claim must carry 1 to 50 service lines; without one there is nothing to pay and the
    payer rejects the claim (277CA A6:21).

    ## Example
    `CLM*PT-1*125***11:B:1*Y*A*Y*Y~` `HI*ABK:M5450~` (then the next claim or SE)

    ## Use instead
    `CLM*...~` `HI*ABK:M5450~` `LX*1~` `SV1*HC:99213*125*UN*1***1~` `DTP*472*D8*20250310~`

    ## References
    005010X222A1 loop 2400 (required, repeat 50).
    """

    code = "DP007"
    concerns = "no_service_lines"
    name = "service-line-missing"
    summary = "claim has no service line"
    ack = "A6:21"
    source = "005010X222A1 loop 2400 (required)"

    def check(self, claim: Claim, facts: ClaimFacts) -> list[Finding] | tuple[()]:
        if facts.service_lines:  # a line with an SV1 (shared with the line rules)
            return ()
        return [self.finding(  # no line with an SV1
            claim.clm,
            f"Claim {claim.claim_id} has no service line (2400 LX/SV1); an 837P claim needs at least one.",
            element="CLM01",
            value=None,
        )]
