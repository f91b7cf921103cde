"""PE006: an original claim (CLM05-3 = 1) that carries REF*F8."""

from __future__ import annotations

from scrubber.findings import Finding
from scrubber.rules.base import Rule
from scrubber.rules.facts import ClaimFacts, payer_claim_number
from scrubber.rules.payer._common import frequency_code
from scrubber.x12.model import Claim


class OriginalWithPayerClaimNumber(Rule):
    """An original claim (CLM05-3 = 1) that carries a payer claim control number (REF*F8).

    ## What it does
    Flags a 2300 REF*F8 on a claim whose CLM05-3 is 1 (original).

    ## Why is this bad
    REF*F8 names a claim the payer already has: on an original it is either a stale field copied
    from an earlier claim, or the claim was meant as a replacement (7). Payers reject it or ignore
    the reference. A warning: which of the two applies, only the sender knows.

    ## Example
    `CLM*ACME-1001*150***11:B:1*Y*A*Y*Y~` `REF*F8*PAYERCLAIM0001~`

    ## Use instead
    Drop the REF*F8 from an original claim, or send the claim as a replacement (CLM05-3 = 7).

    ## References
    005010X222A1 2300 REF*F8 (used only when CLM05-3 is 7 or 8).
    """

    code = "PE006"
    concerns = "frequency_or_f8"
    name = "original-with-f8"
    summary = "original claim (CLM05-3 1) with a 2300 REF*F8 payer claim control number"
    severity = "warning"
    source = "005010X222A1 2300 REF*F8"

    def check(self, claim: Claim, facts: ClaimFacts) -> list[Finding] | tuple:
        if frequency_code(claim) != "1":
            return ()
        ref = payer_claim_number(claim)
        if ref is None:
            return ()
        return [self.finding(
            ref,
            f"Claim {claim.claim_id} is an original (CLM05-3 = 1) but carries a payer claim control number "
            f"(REF*F8), which only a replacement (7) or void (8) uses; drop it, or send the claim as a replacement.",
            element="REF01", value="F8",
        )]
