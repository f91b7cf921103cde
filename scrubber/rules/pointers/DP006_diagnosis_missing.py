"""DP006: a claim with service lines but no diagnosis."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrubber.rules.base import Rule

if TYPE_CHECKING:
    from scrubber.findings import Finding
    from scrubber.rules.facts import ClaimFacts
    from scrubber.x12.model import Claim


class DiagnosisMissing(Rule):
    """Claim with service lines but no diagnosis (no HI segment).

    ## What it does
    Flags a 2300 claim that has service lines but no diagnosis HI segment, or one whose HI
    carries no code.

    ## Why is this bad
    Every professional claim needs at least the principal diagnosis (HI01, qualifier ABK); the
    lines' pointers have nothing to point at. The claim is rejected (277CA A6:254).

    ## Example
    `CLM*PT-1*125***11:B:1*Y*A*Y*Y~` `REF*...` `LX*1~` `SV1*...`

    ## Use instead
    `CLM*PT-1*125***11:B:1*Y*A*Y*Y~` `HI*ABK:M5450~` `LX*1~` `SV1*...***1~`

    ## References
    005010X222A1 2300 HI Health Care Diagnosis Code (required).
    """

    code = "DP006"
    name = "diagnosis-missing"
    summary = "claim has service lines but no HI diagnosis"
    ack = "A6:254"
    source = "005010X222A1 2300 HI (required)"
    concerns = "diagnosis_missing"

    def check(self, claim: Claim, facts: ClaimFacts) -> list[Finding] | tuple[()]:
        lines = claim.lines
        if not lines:
            return ()
        if not claim.hi_segments:
            return [self.finding(
                claim.clm,
                f"Claim {claim.claim_id} has {len(lines)} service line{'s' if len(lines) != 1 else ''} "
                f"but no diagnosis HI segment; add HI with the principal diagnosis (ABK).",
                element="HI01",
            )]
        for dx in claim.diagnoses:
            if dx.code:
                return ()
        return [self.finding(
            claim.hi_segments[0],
            f"Claim {claim.claim_id}'s HI segment carries no diagnosis code; HI01-2 must hold the principal diagnosis.",
            element="HI01-2",
        )]
