"""Limits of the implementation guide that reject a claim (configurable in ``[limits]``)."""

from __future__ import annotations

from collections.abc import Iterator

from scrubber.findings import Finding
from scrubber.x12.model import Claim
from scrubber.rules.base import Context, Rule


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

    def check(self, claim: Claim, ctx: Context) -> Iterator[Finding]:
        limit = ctx.limits.claims_per_transaction
        if claim.number > limit:
            yield self.finding(
                claim.clm,
                f"Claim {claim.claim_id} is claim number {claim.number} of transaction set "
                f"{claim.transaction_control}, past the limit of {limit} claims per transaction set; "
                f"send it in another transaction set.",
                element="CLM01",
            )


class TooManyLines(Rule):
    """More service lines on one claim than the limit (50 by default).

    ## What it does
    Flags a claim with more than ``[limits] lines_per_claim`` 2400 loops (LX).

    ## Why is this bad
    The 837P guide allows at most 50 service lines per claim (loop 2400 repeat 50); payers
    reject the claim.

    ## Example
    A claim with 51 LX/SV1 service lines.

    ## Use instead
    Split the services into two claims of at most 50 lines each.

    ## References
    005010X222A1 loop 2400, repeat 50.
    """

    code = "LM002"
    name = "too-many-lines"
    summary = "claim has more service lines than the limit (50)"
    ack = "A7:21"
    source = "005010X222A1 loop 2400 repeat 50"

    def check(self, claim: Claim, ctx: Context) -> Iterator[Finding]:
        limit = ctx.limits.lines_per_claim
        if len(claim.lines) > limit:
            lx = claim.lines[limit].lx
            yield self.finding(
                lx,
                f"Claim {claim.claim_id} has {len(claim.lines)} service lines; at most {limit} are allowed. "
                f"Split it into several claims.",
                element="LX01",
                value=lx.el(1),
            )


RULES = [TooManyClaims, TooManyLines]
