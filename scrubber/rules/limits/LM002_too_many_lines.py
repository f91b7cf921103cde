"""LM002: a claim with more service lines than the limit."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrubber.rules.base import Rule

if TYPE_CHECKING:
    from scrubber.findings import Finding
    from scrubber.rules.facts import ClaimFacts
    from scrubber.x12.model import Claim


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
    concerns = "over_limits"

    def check(self, claim: Claim, facts: ClaimFacts) -> list[Finding] | tuple[()]:
        limit = facts.limits.lines_per_claim
        lines = claim.lines
        if len(lines) <= limit:
            return ()
        lx = lines[limit].lx
        return [self.finding(
            lx,
            f"Claim {claim.claim_id} has {len(lines)} service lines; at most {limit} are allowed. "
            f"Split it into several claims.",
            element="LX01",
            value=lx.el(1),
        )]
