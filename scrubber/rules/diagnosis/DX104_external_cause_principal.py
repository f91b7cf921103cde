"""DX104: an external cause code (V00-Y99) as the principal diagnosis."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrubber.codesets.icd10cm import format_code
from scrubber.rules.base import Rule

if TYPE_CHECKING:
    from scrubber.findings import Finding
    from scrubber.rules.facts import ClaimFacts
    from scrubber.x12.model import Claim


class ExternalCausePrincipal(Rule):
    """External cause code (V00-Y99) as the principal diagnosis.

    ## What it does
    Flags HI01 (ABK) holding a code of chapter 20 (V00-Y99, external causes of morbidity).

    ## Why is this bad
    External cause codes describe how an injury happened; they are never a first-listed
    diagnosis. Payers reject the claim (277CA A7:255).

    ## Example
    `HI*ABK:W010XXA*ABF:S8000XA~`

    ## Use instead
    `HI*ABK:S8000XA*ABF:W010XXA~`

    ## References
    ICD-10-CM Official Guidelines I.C.20 ("never sequenced first").
    """

    code = "DX104"
    name = "external-cause-principal"
    summary = "external cause code (V00-Y99) as principal diagnosis"
    ack = "A7:255"
    source = "ICD-10-CM Official Guidelines I.C.20"
    concerns = "external_cause_first"

    def check(self, claim: Claim, facts: ClaimFacts) -> list[Finding] | tuple[()]:
        diagnoses = claim.diagnoses
        if not diagnoses:
            return ()
        principal = diagnoses[0]
        if principal.code[:1] not in _EXTERNAL_CAUSE or principal.position != 1 or principal.qualifier != "ABK":
            return ()
        return [self.finding(
            principal.segment,
            f"Principal diagnosis {format_code(principal.code)} (HI01-2) is an external cause code (V00-Y99); it "
            f"can only be a secondary diagnosis (ABF). Put the injury or condition first.",
            element="HI01-2",
            value=principal.code,
        )]


_EXTERNAL_CAUSE = frozenset("VWXY")  # the first letters of ICD-10-CM chapter 20 (V00-Y99)
