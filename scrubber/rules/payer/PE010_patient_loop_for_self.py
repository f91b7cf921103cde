"""PE010: a patient loop (2000C) under a subscriber who is the patient (SBR02 = 18)."""

from __future__ import annotations

from scrubber.findings import Finding
from scrubber.rules.base import Rule
from scrubber.rules.facts import ClaimFacts
from scrubber.x12.model import Claim


class PatientLoopForSelf(Rule):
    """A patient loop (2000C) under a subscriber who is the patient (SBR02 = 18).

    ## What it does
    Flags a claim that sits in a 2000C patient loop when its subscriber's SBR02 (individual
    relationship code) is 18: the subscriber says they are the patient, and the claim says the
    patient is someone else.

    ## Why is this bad
    The guide sends the patient loop only when the patient is not the subscriber. The payer
    cannot tell whose claim it is; front ends reject it (or pay it under the wrong member).

    ## Example
    `HL*2*1*22*1~` `SBR*P*18*GRP00001******CI~` ... `HL*3*2*23*0~` `PAT*19~` `NM1*QC*1*...~`

    ## Use instead
    A dependent: `SBR*P**GRP00001******CI~` with the 2000C loop (PAT01 = the relationship). The
    subscriber themself: SBR02 = 18 and the claim directly under 2000B, with no 2000C.

    ## References
    005010X222A1 2000C (situational: used only when the patient is not the subscriber); 2000B SBR02.
    """

    code = "PE010"
    concerns = "hl_unusual"
    name = "patient-loop-for-self"
    summary = "2000C patient loop under a subscriber whose SBR02 is 18 (self)"
    ack = "A7:21"
    source = "005010X222A1 2000C situational note; 2000B SBR02"

    def check(self, claim: Claim, facts: ClaimFacts) -> list[Finding] | tuple:
        if claim.patient is None or claim.subscriber is None:
            return ()
        sbr = claim.subscriber.first("SBR")
        if sbr is None or sbr.el(2) != "18":
            return ()
        return [self.finding(
            claim.patient.segments[0],
            f"Claim {claim.claim_id} is in a patient loop (2000C) but its subscriber's SBR02 is 18 (the subscriber "
            f"is the patient); drop the 2000C loop, or leave SBR02 empty for a dependent.",
            element="HL03", value="23",
        )]
