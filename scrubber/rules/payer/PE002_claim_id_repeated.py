"""PE002: the same CLM01 on two different claims of one file."""

from __future__ import annotations

from scrubber.findings import Finding
from scrubber.rules.base import Rule
from scrubber.rules.facts import ClaimFacts
from scrubber.x12.model import Claim


class ClaimIdRepeated(Rule):
    """The same CLM01 (patient control number) on two different claims of one file.

    ## What it does
    Flags a claim whose CLM01 is that of a different claim accepted earlier in the same input
    (another patient, other dates or other lines; the same claim again is PE001). The finding
    names the first one (interchange, transaction set, CLM position).

    ## Why is this bad
    The payer's 277CA claim acknowledgment and the 835 remittance give CLM01 back to tie their
    answer to the claim: with two claims under one CLM01 the answers cannot be told apart, and
    some payers take the second for a duplicate. A warning: the claims may both be right.

    ## Example
    `CLM*ACME-1001*150***11:B:1*Y*A*Y*Y~` for one patient and again for another patient.

    ## Use instead
    A CLM01 unique to each claim (the practice-management system's claim or encounter number).

    ## References
    005010X222A1 2300 CLM01 (Patient Control Number, returned in the 277CA and 835).
    """

    code = "PE002"
    concerns = "ledger_open"
    name = "claim-id-repeated"
    summary = "the same CLM01 on two different claims of the file"
    severity = "warning"
    source = "005010X222A1 2300 CLM01; 005010X214 / 005010X221 CLM01 matching"

    def check(self, claim: Claim, facts: ClaimFacts) -> list[Finding] | tuple:
        ledger = facts.context.ledger
        if ledger is None:
            return ()
        first = ledger.first_with_id(claim)
        if first is None or ledger.first_with_digest(facts.claim_digest) is not None:
            return ()
        return [self.finding(
            claim.clm,
            f"CLM01 {claim.claim_id} was already used by a different claim accepted earlier in this file "
            f"({first.text()}); the payer's acknowledgments are matched by CLM01 and cannot tell the two apart.",
            element="CLM01", value=claim.claim_id or None,
        )]
