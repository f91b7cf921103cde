"""PE005: a replacement or void claim without the payer's claim control number (REF*F8)."""

from __future__ import annotations

from scrubber.findings import Finding
from scrubber.rules.base import Rule
from scrubber.rules.facts import ClaimFacts, payer_claim_number
from scrubber.rules.payer._common import FREQUENCY_OK, REPLACES, frequency_code
from scrubber.x12.model import Claim


class ReplacementWithoutPayerClaimNumber(Rule):
    """Replacement or void (CLM05-3 = 7 or 8) without the payer's claim control number (REF*F8).

    ## What it does
    Flags a claim with CLM05-3 = 7 (replacement) or 8 (void) that has no 2300 REF*F8 with a value
    (the Payer Claim Control Number: the number the payer gave the claim being replaced).

    ## Why is this bad
    The guide requires REF*F8 on replacements and voids: it is how the payer finds the claim to
    replace or cancel. Without it the claim is rejected, or processed as a new claim and denied
    as a duplicate of the one it meant to correct.

    ## Example
    `CLM*ACME-1001*150***11:B:7*Y*A*Y*Y~` with no REF*F8.

    ## Use instead
    `CLM*ACME-1001*150***11:B:7*Y*A*Y*Y~` `REF*F8*PAYERCLAIM0001~` (the number from the 835 or 277CA).

    ## References
    005010X222A1 2300 REF Payer Claim Control Number (REF01 = F8): required when CLM05-3 is 7 or 8.
    """

    code = "PE005"
    concerns = "frequency_or_f8"
    name = "replacement-without-f8"
    summary = "replacement or void (CLM05-3 7/8) without 2300 REF*F8 (payer claim control number)"
    ack = "A6:464"
    source = "005010X222A1 2300 REF*F8 (situational: CLM05-3 = 7 or 8)"

    def check(self, claim: Claim, facts: ClaimFacts) -> list[Finding] | tuple:
        code = frequency_code(claim)
        if code not in REPLACES:
            return ()
        ref = payer_claim_number(claim)
        if ref is not None and ref.el(2).strip():
            return ()
        return [self.finding(
            ref if ref is not None else claim.clm,
            f"Claim {claim.claim_id} is a {FREQUENCY_OK[code]} (CLM05-3 = {code}) but has no payer claim control "
            f"number (2300 REF*F8); add the number the payer gave the claim it {'replaces' if code == '7' else 'voids'}.",
            element="REF02" if ref is not None else "CLM05-3", value=code if ref is None else None,
        )]
