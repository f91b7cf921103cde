"""BL001: total claim charge (CLM02) is not the sum of the line charges (SV102)."""

from __future__ import annotations

from scrubber.findings import Finding
from scrubber.rules.base import Rule
from scrubber.rules.facts import ClaimFacts, amount
from scrubber.x12.model import Claim


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
    concerns = "charges_unbalanced"

    def check(self, claim: Claim, facts: ClaimFacts) -> list[Finding] | tuple:
        total = amount(claim.charge)
        if total is None:
            return ()  # BL002
        lines = facts.service_lines
        if not lines:
            return ()
        line_sum = facts.line_scan[1]
        if line_sum is None:
            return ()  # BL002
        if line_sum == total:
            return ()
        return [self.finding(
            claim.clm,
            f"Claim {claim.claim_id} total charge CLM02 is {claim.charge} but its {len(lines)} service "
            f"line{'s' if len(lines) != 1 else ''} add up to {line_sum} (difference {total - line_sum}).",
            element="CLM02",
            value=claim.charge,
        )]
