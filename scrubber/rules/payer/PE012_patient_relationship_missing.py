"""PE012: a patient loop (2000C) without PAT, or with PAT01 empty."""

from __future__ import annotations

from scrubber.findings import Finding
from scrubber.rules.base import Rule
from scrubber.rules.facts import ClaimFacts
from scrubber.x12.model import Claim


class PatientRelationshipMissing(Rule):
    """A patient loop (2000C) without its PAT segment, or with PAT01 empty.

    ## What it does
    Flags a claim in a 2000C loop that has no PAT segment, or whose PAT01 (the patient's
    relationship to the subscriber: 01 spouse, 19 child, 20 employee, 21 unknown, 39/40 organ
    donor, 53 life partner, G8 other) is empty.

    ## Why is this bad
    The relationship is how the payer finds the dependent under the subscriber's coverage; the
    guide requires PAT in every 2000C and PAT01 in it. The claim is rejected.

    ## Example
    `HL*3*2*23*0~` `NM1*QC*1*...~` (no PAT), or `PAT~`.

    ## Use instead
    `HL*3*2*23*0~` `PAT*19~` `NM1*QC*1*...~`

    ## References
    005010X222A1 2000C PAT Patient Information (required), PAT01 Individual Relationship Code (required).
    """

    code = "PE012"
    concerns = "hl_unusual"
    name = "patient-relationship-missing"
    summary = "2000C patient loop without PAT, or PAT01 (relationship to the subscriber) empty"
    ack = "A6:21"
    source = "005010X222A1 2000C PAT, PAT01"

    def check(self, claim: Claim, facts: ClaimFacts) -> list[Finding] | tuple:
        patient = claim.patient
        if patient is None:
            return ()
        pat = patient.first("PAT")
        if pat is None:
            return [self.finding(
                patient.segments[0],
                f"Claim {claim.claim_id}: the patient loop (2000C) has no PAT segment; add PAT with the patient's "
                f"relationship to the subscriber in PAT01 (19 child, 01 spouse ...).",
                element="PAT01",
            )]
        if pat.el(1).strip():
            return ()
        return [self.finding(
            pat,
            f"Claim {claim.claim_id}: PAT01 (the patient's relationship to the subscriber) is empty; "
            f"send 19 (child), 01 (spouse) or the code that applies.",
            element="PAT01",
        )]
