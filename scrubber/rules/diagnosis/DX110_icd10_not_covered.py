"""DX110: a date of service outside the loaded ICD-10-CM code sets: its codes not (fully) checked."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrubber.rules.base import Rule

if TYPE_CHECKING:
    from scrubber.findings import Finding
    from scrubber.rules.facts import ClaimFacts
    from scrubber.x12.model import Claim


class CodeSetNotCovering(Rule):
    """The date of service is outside the loaded ICD-10-CM code sets: codes not (fully) checked.

    ## What it does
    Says so when a date of service is past the newest loaded fiscal year (the codes are checked
    against the newest one, which may miss codes added or deleted since), before the oldest one
    (2015-10-01: no ICD-10-CM check), or when the claim has no date of service at all.
    Severity ``not_checked``: it does not reject the claim.

    ## Why is this bad
    A check against the wrong code set is not a check; the report says which dates were not
    covered instead of passing them silently.

    ## Example
    `DTP*472*D8*20271005~` (FY2028) with code sets FY2016-FY2027 loaded.

    ## Use instead
    Add the newer CMS order file: `scrubber codesets add icd10cm_order_2028.txt`.

    ## References
    maps/icd10cm/SOURCE.md; README "Code sets".
    """

    code = "DX110"
    name = "icd10-not-covered"
    summary = "date of service outside the loaded ICD-10-CM fiscal years (not checked)"
    severity = "not_checked"
    source = "maps/icd10cm (loaded fiscal years)"
    concerns = "icd_flagged"

    def check(self, claim: Claim, facts: ClaimFacts) -> list[Finding] | tuple[()]:
        verdicts = facts.icd_verdicts
        if not verdicts.flagged:
            return ()
        hi = claim.hi_segments[0] if claim.hi_segments else claim.clm
        if verdicts.undated:
            return [self.finding(
                hi,
                f"Claim {claim.claim_id} has no date of service (DTP*472), so its diagnosis codes were not checked "
                f"against ICD-10-CM.",
                element="HI01-2",
                value=None,
            )]
        found = []
        table = verdicts.table
        late, early = verdicts.late, verdicts.early
        if late is not None:
            newest = table.fiscal_years[-1]
            found.append(self.finding(
                hi,
                f"Date of service {late.isoformat()} is in FY{table.fiscal_year_of(late)}, past the newest loaded "
                f"ICD-10-CM code set (FY{newest}, to {newest}-09-30); its diagnosis codes were checked against "
                f"FY{newest}. Add the newer CMS file (scrubber codesets add).",
                element="HI01-2",
                value=None,
            ))
        if early is not None:
            oldest = table.fiscal_years[0]
            found.append(self.finding(
                hi,
                f"Date of service {early.isoformat()} is before the oldest loaded ICD-10-CM code set (FY{oldest}, "
                f"from {oldest - 1}-10-01); ICD-10-CM validity was not checked for it.",
                element="HI01-2",
                value=None,
            ))
        return found
