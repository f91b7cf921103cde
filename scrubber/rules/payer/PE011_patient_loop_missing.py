"""PE011: a claim directly under a subscriber who is not the patient (SBR02 other than 18)."""

from __future__ import annotations

from scrubber.findings import Finding
from scrubber.rules.base import Rule
from scrubber.rules.facts import ClaimFacts
from scrubber.x12.model import Claim


class PatientLoopMissing(Rule):
    """A claim directly under a subscriber (2000B) whose SBR02 is not 18, with no patient loop.

    ## What it does
    Flags a claim with no 2000C patient loop when its subscriber's SBR02 is anything but 18
    (empty, or another relationship code): then the patient is not the subscriber, and the
    claim must say who the patient is in a 2000C loop.

    ## Why is this bad
    The payer takes the subscriber for the patient and checks eligibility, age and gender
    against the wrong person; front ends reject the claim.

    ## Example
    `SBR*P**GRP00001******CI~` (no SBR02) and the claim right after 2010BB, no HL*...*23.

    ## Use instead
    `SBR*P*18*GRP00001******CI~` when the subscriber is the patient; else a 2000C loop (HL*3*2*23*0~,
    PAT*19~, NM1*QC...~) before the claim.

    ## References
    005010X222A1 2000B SBR02 (18 when the subscriber is the patient); 2000C (required when the
    patient is not the subscriber).
    """

    code = "PE011"
    concerns = "hl_unusual"
    name = "patient-loop-missing"
    summary = "claim directly under 2000B although SBR02 is not 18 (self): no 2000C patient loop"
    ack = "A7:21"
    source = "005010X222A1 2000B SBR02; 2000C situational note"

    def check(self, claim: Claim, facts: ClaimFacts) -> list[Finding] | tuple:
        if claim.patient is not None or claim.subscriber is None:
            return ()
        sbr = claim.subscriber.first("SBR")
        if sbr is None or sbr.el(2) == "18":
            return ()
        relation = sbr.el(2)
        return [self.finding(
            sbr,
            f"Claim {claim.claim_id} sits directly under its subscriber (2000B) but SBR02 is "
            f"{repr(relation) if relation else 'empty'}, not 18 (self); send SBR02 = 18 when the subscriber is the "
            f"patient, else a 2000C patient loop.",
            element="SBR02", value=relation or None,
        )]
