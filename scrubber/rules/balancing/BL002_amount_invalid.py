"""BL002: a charge amount (CLM02, SV102) that is missing, not a number or negative."""

from __future__ import annotations

from decimal import Decimal

from scrubber.findings import Finding
from scrubber.rules.base import Rule
from scrubber.rules.facts import ClaimFacts, amount
from scrubber.rules.identifiers._common import BAD_CHARGE, charge_of
from scrubber.x12.model import Claim
from scrubber.x12.reader import Segment


class AmountInvalid(Rule):
    """A charge amount (CLM02, SV102) that is missing, not a number or negative.

    ## What it does
    Checks that CLM02 and each SV102 are decimal numbers (digits, at most one decimal point) and
    not negative.

    ## Why is this bad
    An amount like `1,200.00`, `$100` or `1E2` is invalid X12 (type R); the claim cannot be
    balanced and is rejected (277CA A7:178, submitted charges).

    ## Example
    `SV1*HC:99213*$100*UN*1***1~`

    ## Use instead
    `SV1*HC:99213*100*UN*1***1~`

    ## References
    005010X222A1 2300 CLM02, 2400 SV102 (R, monetary amount).
    """

    code = "BL002"
    concerns = "charge_invalid"
    name = "amount-invalid"
    summary = "CLM02 or SV102 is missing, not a number or negative"
    ack = "A7:178"
    source = "005010X222A1 2300 CLM02, 2400 SV102"

    def check(self, claim: Claim, facts: ClaimFacts) -> list[Finding] | tuple:
        out = []
        text = claim.charge
        value, valid = charge_of(text)
        if not valid:
            out.append(self._invalid(claim.clm, "CLM02", text, value, f"Claim {claim.claim_id} total charge"))
        if not facts.line_scan[0] & BAD_CHARGE:
            return out
        for line in facts.service_lines:
            sv1 = line.sv1
            text = sv1.el(2)
            value = amount(text)
            if value is None or value < 0:
                out.append(self._invalid(sv1, "SV102", text, value, f"Service line {line.number} charge"))
        return out

    def _invalid(self, seg: Segment, element: str, text: str, value: Decimal | None, what: str) -> Finding:
        why = "is missing" if not text else (f"is negative ({text})" if value is not None else f"is not a number ({text!r})")
        return self.finding(seg, f"{what} ({element}) {why}; send a decimal amount such as 125 or 45.50.",
                            element=element, value=text or None)
