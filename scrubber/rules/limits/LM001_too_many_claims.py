"""LM001: a claim past the limit of claims per transaction set."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrubber.rules.base import Rule

if TYPE_CHECKING:
    from scrubber.findings import Finding
    from scrubber.rules.facts import ClaimFacts
    from scrubber.x12.model import Claim


class TooManyClaims(Rule):
    """More claims in one transaction set than the limit (5000 by default).

    ## What it does
    Rejects every claim past the limit in its transaction set (ST..SE); the claims before it are
    kept. The limit is ``[limits] claims_per_transaction``.

    ## Why is this bad
    The 837P guide limits a transaction set to 5000 claims (CLM); payers' translators reject the
    whole transaction set beyond that.

    ## Example
    One ST with 6000 CLM segments: claims 5001 to 6000 get this finding.

    ## Use instead
    Split the batch into several transaction sets of at most 5000 claims each.

    ## References
    005010X222A1 section 1.4.3 (the 5000-claim recommendation per transaction set).
    """

    code = "LM001"
    name = "too-many-claims"
    summary = "transaction set holds more claims than the limit (5000)"
    ack = "A7:21"
    source = "005010X222A1 1.4.3"
    concerns = "over_limits"

    def check(self, claim: Claim, facts: ClaimFacts) -> list[Finding] | tuple[()]:
        limit = facts.limits.claims_per_transaction
        if claim.number <= limit:
            return ()
        return [self.finding(
            claim.clm,
            f"Claim {claim.claim_id} is claim number {claim.number} of transaction set "
            f"{claim.transaction_control}, past the limit of {limit} claims per transaction set; "
            f"send it in another transaction set.",
            element="CLM01",
        )]
