"""PE013: HL04 (hierarchical child code) that does not say whether a level follows."""

from __future__ import annotations

from scrubber.findings import Finding
from scrubber.rules.base import Rule
from scrubber.rules.facts import ClaimFacts
from scrubber.x12.model import Claim


class HlChildCode(Rule):
    """HL04 (hierarchical child code) that does not say whether a lower level follows.

    ## What it does
    Reads the HL04 of the claim's own levels: a billing provider (2000A) always has subscribers
    below it (HL04 = 1); a subscriber whose claim is in a 2000C patient loop has a child
    (HL04 = 1); a patient loop (2000C) never has one (HL04 = 0). A subscriber with claims of its
    own and no 2000C (HL04 = 0) is left to the structural pass, which sees the next HL.
    The clean and rejected 837s carry HL04 recomputed, hence a warning.

    ## Why is this bad
    Translators build the hierarchy from HL04; a wrong value makes strict front ends reject
    the transaction set, or lose the patient level.

    ## Example
    `HL*2*1*22*0~` followed by the dependent's `HL*3*2*23*0~`.

    ## Use instead
    `HL*2*1*22*1~` (a patient level follows).

    ## References
    005010X222A1 2000A/2000B/2000C HL04 Hierarchical Child Code (1: child levels follow, 0: none).
    """

    code = "PE013"
    concerns = "hl_unusual"
    name = "hl-child-code"
    summary = "HL04 does not match the levels that follow (1: a child level follows, 0: none); recomputed in outputs"
    severity = "warning"
    ack = "A7:21"
    source = "005010X222A1 2000A-2000C HL04"

    def check(self, claim: Claim, facts: ClaimFacts) -> list[Finding] | tuple:
        expected = []
        if claim.billing is not None:
            expected.append((claim.billing, "1", "the billing provider level (2000A) has subscribers below it"))
        if claim.patient is not None:
            if claim.subscriber is not None:
                expected.append((claim.subscriber, "1", "the subscriber level (2000B) has a patient level (2000C) below it"))
            expected.append((claim.patient, "0", "a patient level (2000C) has no level below it"))
        out = []
        for node, want, why in expected:
            hl = node.segments[0]
            sent = hl.el(4)
            if sent == want:
                continue
            out.append(self.finding(
                hl,
                f"HL {hl.el(1)} (loop {node.loop}) has HL04 = {sent or 'nothing'} but {why}, so HL04 should be {want}; "
                f"the outputs carry the recomputed value.",
                element="HL04", value=sent or None,
            ))
        return out
