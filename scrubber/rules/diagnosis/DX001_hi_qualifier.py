"""DX001: a diagnosis composite without the ICD-10-CM qualifier of its place (ABK in HI01, ABF after)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrubber.rules.base import Rule
from scrubber.rules.diagnosis._common import ICD9_QUALIFIERS

if TYPE_CHECKING:
    from scrubber.findings import Finding
    from scrubber.rules.facts import ClaimFacts
    from scrubber.x12.model import Claim


class HiQualifier(Rule):
    """Wrong or missing diagnosis qualifier: HI01-1 must be ABK, HI02-1 to HI12-1 ABF.

    ## What it does
    Checks the code list qualifier of each diagnosis composite: ABK (ICD-10-CM principal) in
    HI01-1, ABF (ICD-10-CM other) in HI02-1..HI12-1. A composite sent without a qualifier (just
    the code) is flagged too. ICD-9 qualifiers (BK/BF) are DX002's concern.

    ## Why is this bad
    The qualifier tells the payer which code list and which role the code has; a second ABK or an
    ABF in HI01 is invalid and the claim is rejected (277CA A7:255).

    ## Example
    `HI*ABF:M5450*ABK:M546~` or `HI*ABK:M5450*M546~`

    ## Use instead
    `HI*ABK:M5450*ABF:M546~`

    ## References
    005010X222A1 2300 HI01-1 (ABK), HI02-1..HI12-1 (ABF).
    """

    code = "DX001"
    name = "hi-qualifier"
    summary = "HI01-1 is not ABK or HI02-HI12 qualifier is not ABF"
    ack = "A7:255"
    source = "005010X222A1 2300 HI01-1, HI02-1..HI12-1"
    concerns = "hi_suspect"

    def check(self, claim: Claim, facts: ClaimFacts) -> list[Finding]:
        found = []
        for e in facts.hi_entries:
            expected = "ABK" if e.number == 1 else "ABF"
            q = e.qualifier
            if e.split or q == expected or q in ICD9_QUALIFIERS:
                continue  # DX006 speaks for a split composite, DX002 for ICD-9 qualifiers
            what = "has no qualifier" if not e.has_qualifier else f"has qualifier {q!r}"
            found.append(self.finding(
                e.seg,
                f"Diagnosis {e.number} ({e.ref}) {what}; {e.ref}-1 must be {expected} "
                f"({'principal' if expected == 'ABK' else 'other'} ICD-10-CM diagnosis).",
                element=f"{e.ref}-1",
                value=q or None,
            ))
        return found
