"""PE001: the same claim a second time in one file."""

from __future__ import annotations

from scrubber.findings import Finding
from scrubber.rules.base import Rule
from scrubber.rules.facts import ClaimFacts
from scrubber.rules.payer._common import REPLACES, frequency_code
from scrubber.x12.model import Claim


class DuplicateClaim(Rule):
    """The same claim a second time in one file.

    ## What it does
    Flags a claim that repeats a claim accepted earlier in the same input: same billing provider
    NPI (2010AA NM109), same subscriber and patient as sent (2010BA, 2010CA), same CLM01, same
    dates of service and the same service lines (procedure with modifiers, charge, units, date).
    The finding names the first one: its interchange (ISA13), transaction set (ST02) and the CLM's
    position. The first stays accepted; only the repeat is held back. A replacement or void
    (CLM05-3 = 7 or 8) is not a repeat. The claims are compared by keyed fingerprints, so the
    check keeps no patient data and its memory does not grow with the file.

    ## Why is this bad
    The payer processes the first claim and denies the second as a duplicate (CARC 18, 277CA or
    835); repeated duplicates are a compliance flag. Files assembled from two exports, or a batch
    resent after a time-out, are the usual cause.

    ## Example
    The same `CLM*ACME-1001*150***11:B:1*Y*A*Y*Y~` with the same lines twice in one file.

    ## Use instead
    Send the claim once; drop the repeat from the rejected file instead of resubmitting it.

    ## References
    Payer front-end duplicate edits; CARC 18 (exact duplicate claim/service).
    """

    code = "PE001"
    concerns = "ledger_open"
    name = "duplicate-claim"
    summary = "the same claim again in the file (same provider, patient, CLM01, dates and lines)"
    ack = "A3:78"
    source = "payer front-end duplicate edit; CARC 18"

    def check(self, claim: Claim, facts: ClaimFacts) -> list[Finding] | tuple:
        ledger = facts.context.ledger
        if ledger is None or frequency_code(claim) in REPLACES:
            return ()
        first = ledger.first_with_digest(facts.claim_digest)
        if first is None:
            return ()
        return [self.finding(
            claim.clm,
            f"Claim {claim.claim_id} repeats the claim accepted earlier in this file ({first.text()}): the same "
            f"provider, patient, dates and service lines; the payer would deny the repeat as a duplicate.",
            element="CLM01",
        )]
