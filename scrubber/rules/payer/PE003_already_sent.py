"""PE003: a claim already sent in an earlier file within the duplicate window."""

from __future__ import annotations

from scrubber.findings import Finding
from scrubber.rules.base import Rule
from scrubber.rules.facts import ClaimFacts
from scrubber.rules.payer._common import REPLACES, frequency_code
from scrubber.x12.model import Claim

DEFAULT_DUPLICATE_DAYS = 60


class AlreadySent(Rule):
    """A claim already sent in an earlier file, within the duplicate window (default 60 days).

    ## What it does
    With a state folder (`scrubber scrub --state DIR`, or the watcher's out dir), the fingerprint
    of every accepted claim is recorded once its clean file is complete: a keyed hash (HMAC-SHA256
    under a key kept in the state folder) of the billing provider NPI, subscriber and patient,
    CLM01, dates of service and service lines, so no patient data is stored. A later claim with
    the same fingerprint, sent within `duplicate_days` of `[options]` (default 60) of the as-of
    date, is held back as a duplicate submission, naming the date and the input it went out in.
    A replacement or void (CLM05-3 = 7 or 8, with REF*F8) is not held back. Without a state
    folder the rule does nothing.

    ## Why is this bad
    A claim sent again while the first is still being processed is denied as a duplicate (CARC
    18); resending whole files after a time-out or a restart is the usual cause. To change a claim
    already sent, send a replacement (7) or a void (8) that names the payer's claim number.

    ## Example
    The same file scrubbed (and sent) on 2025-06-01 and again on 2025-06-10 with the same
    `--state` folder: every claim of the second run.

    ## Use instead
    Send each claim once; correct a claim already sent with `CLM05-3 = 7` and `REF*F8*<payer claim number>~`.

    ## References
    Payer front-end duplicate edits; CARC 18 (exact duplicate claim/service); replacements and
    voids: 005010X222A1 2300 CLM05-3 and REF*F8.
    """

    code = "PE003"
    concerns = "ledger_open"
    name = "already-sent"
    summary = "claim already sent in an earlier file within duplicate_days (default 60; needs a state folder)"
    ack = "A3:78"
    source = "payer front-end duplicate edit; CARC 18; option duplicate_days"

    def check(self, claim: Claim, facts: ClaimFacts) -> list[Finding] | tuple:
        ledger = facts.context.ledger
        if ledger is None or ledger.sent_before is None or frequency_code(claim) in REPLACES:
            return ()
        found = ledger.sent_before(facts.claim_digest)
        if found is None:
            return ()
        when, name = found
        days = facts.options.get("duplicate_days", DEFAULT_DUPLICATE_DAYS)
        return [self.finding(
            claim.clm,
            f"Claim {claim.claim_id} was already sent on {when} (in {name}), within the duplicate window of "
            f"{days} days; send a replacement (CLM05-3 = 7 with REF*F8) to change it.",
            element="CLM01",
        )]
