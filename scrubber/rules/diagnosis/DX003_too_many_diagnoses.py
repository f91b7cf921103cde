"""DX003: more than 12 diagnosis codes on a claim."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrubber.rules.base import Rule
from scrubber.rules.facts import MAX_CODES

if TYPE_CHECKING:
    from scrubber.findings import Finding
    from scrubber.rules.facts import ClaimFacts
    from scrubber.x12.model import Claim


class TooManyDiagnoses(Rule):
    """More than 12 diagnosis codes on a claim.

    ## What it does
    Counts the diagnosis composites of the claim's diagnosis HI segments and flags the 13th.

    ## Why is this bad
    An 837P claim carries at most 12 diagnoses (HI01-HI12); more is a syntax error and the claim
    is rejected (277CA A7:255).

    ## Example
    `HI*ABK:M5450*ABF:M546*...*ABF:M25511~` with 13 composites

    ## Use instead
    The 12 diagnoses that the service lines need, principal first; split the services into two
    claims if more are needed.

    ## References
    005010X222A1 2300 HI (HI01-HI12).
    """

    code = "DX003"
    name = "too-many-diagnoses"
    summary = "more than 12 diagnosis codes"
    ack = "A7:255"
    source = "005010X222A1 2300 HI01-HI12"
    concerns = "hi_suspect"

    def check(self, claim: Claim, facts: ClaimFacts) -> list[Finding] | tuple[()]:
        entries = facts.hi_entries
        if len(entries) <= MAX_CODES:
            return ()
        e = entries[MAX_CODES]
        return [self.finding(
            e.seg,
            f"Claim {claim.claim_id} has {len(entries)} diagnosis codes; at most {MAX_CODES} are allowed "
            f"({e.ref} is the 13th).",
            element=e.ref,
            value=e.code or None,
        )]
