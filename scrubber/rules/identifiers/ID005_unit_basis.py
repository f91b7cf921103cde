"""ID005: unit basis (SV103) that is not UN (units) or MJ (minutes)."""

from __future__ import annotations

from scrubber.findings import Finding
from scrubber.rules.base import Rule
from scrubber.rules.facts import ClaimFacts
from scrubber.rules.identifiers._common import BAD_BASIS
from scrubber.x12.model import Claim


class UnitBasis(Rule):
    """Unit basis (SV103) that is not UN (units) or MJ (minutes).

    ## What it does
    Flags SV103 when it is missing or another code than UN or MJ.

    ## Why is this bad
    The 837P allows only units (UN) or anesthesia minutes (MJ); anything else is rejected
    (277CA A7:476).

    ## Example
    `SV1*HC:97110*50*HR*1***1~`

    ## Use instead
    `SV1*HC:97110*50*UN*1***1~`

    ## References
    005010X222A1 2400 SV103 (MJ, UN).
    """

    code = "ID005"
    name = "unit-basis"
    summary = "SV103 is not UN or MJ"
    ack = "A7:476"
    source = "005010X222A1 2400 SV103"
    concerns = "unit_basis"

    def check(self, claim: Claim, facts: ClaimFacts) -> list[Finding] | tuple:
        if not facts.line_scan[0] & BAD_BASIS:
            return ()
        out = []
        for line in facts.service_lines:
            sv1 = line.sv1
            basis = sv1.el(3)
            if basis not in ("UN", "MJ"):
                out.append(self.finding(
                    sv1,
                    f"Service line {line.number} unit basis SV103 is {basis or 'empty'!r}; use UN (units) or MJ (minutes).",
                    element="SV103",
                    value=basis or None,
                ))
        return out
