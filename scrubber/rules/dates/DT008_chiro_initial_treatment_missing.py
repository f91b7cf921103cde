"""DT008: a Medicare chiropractic manipulation claim without an initial treatment or X-ray date."""

from __future__ import annotations

from scrubber.findings import Finding
from scrubber.rules.base import Rule
from scrubber.rules.facts import CHIRO_MANIPULATION, ClaimFacts
import scrubber.rules.dates._common  # noqa: F401 - declares facts.other_dates
from scrubber.x12.model import Claim

MEDICARE = ("MB",)


class ChiroInitialTreatmentMissing(Rule):
    """A Medicare chiropractic manipulation claim without an initial treatment date or X-ray date.

    ## What it does
    On a Medicare Part B claim (2000B SBR09 = MB) with a chiropractic manipulative treatment line
    (98940, 98941, 98942), flags the claim when it carries neither an initial treatment date
    (DTP*454) nor a last X-ray date (DTP*455), at the claim or on a line.

    ## Why is this bad
    For spinal manipulation billed to Medicare the guide asks for the date the course of
    treatment began (initial treatment) and, where an X-ray documents the subluxation, the date
    of that X-ray. Medicare contractors use them to date the episode and deny or develop claims
    without them. A warning: which of the two applies depends on the record.

    ## Example
    `SBR*P*18*******MB~` ... `SV1*HC:98940*45*UN*1***1~` with no DTP*454 or DTP*455.

    ## Use instead
    `DTP*454*D8*20250301~` in 2300 (and `DTP*455*D8*...~` when an X-ray was taken).

    ## References
    005010X222A1 2300 DTP Date - Initial Treatment Date (454) and Date - Last X-ray Date (455),
    situational for spinal manipulation claims to Medicare; CMS Pub. 100-02 ch. 15 sec. 240.1.2.
    """

    code = "DT008"
    name = "chiro-initial-treatment-missing"
    summary = "Medicare 98940-98942 claim without an initial treatment (DTP*454) or last X-ray date (DTP*455)"
    severity = "warning"
    ack = "A6:187"
    source = "005010X222A1 2300 DTP*454/*455; CMS Pub. 100-02 ch. 15 sec. 240.1.2"
    concerns = "chiro_manipulation"

    def check(self, claim: Claim, facts: ClaimFacts) -> list[Finding] | tuple:
        line = next((ln for ln in claim.lines if ln.procedure in CHIRO_MANIPULATION), None)
        if line is None or claim.subscriber is None:
            return ()
        sbr = claim.subscriber.first("SBR")
        if sbr is None or sbr.el(9) not in MEDICARE:
            return ()
        if any(item[1] in ("454", "455") for item in facts.other_dates):
            return ()
        return [self.finding(
            claim.clm,
            f"Claim {claim.claim_id} bills chiropractic manipulation ({line.procedure}, service line {line.number}) to "
            f"Medicare (SBR09 {sbr.el(9)}) with neither an initial treatment date (DTP*454) nor a last X-ray date "
            f"(DTP*455); add the one the record supports.",
            element="CLM01",
        )]
