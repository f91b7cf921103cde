"""ID004: service unit count (SV104) missing, not a number, or not positive."""

from __future__ import annotations

from scrubber.findings import Finding
from scrubber.rules.base import Rule
from scrubber.rules.facts import ClaimFacts, amount
from scrubber.rules.identifiers._common import BAD_UNITS
from scrubber.x12.model import Claim


class UnitsInvalid(Rule):
    """Service unit count (SV104) missing, not a number, or not positive.

    ## What it does
    Flags SV104 when it is absent, not a decimal number, zero or negative.

    ## Why is this bad
    The payer prices the line by its units; zero or a missing count is rejected
    (277CA A7:476, missing or invalid units of service).

    ## Example
    `SV1*HC:97110*50*UN*0***1~`

    ## Use instead
    `SV1*HC:97110*50*UN*1***1~`

    ## References
    005010X222A1 2400 SV104 (required, R).
    """

    code = "ID004"
    name = "units-invalid"
    summary = "SV104 units missing, not a number or not positive"
    ack = "A7:476"
    source = "005010X222A1 2400 SV104"
    concerns = "units_invalid"

    def check(self, claim: Claim, facts: ClaimFacts) -> list[Finding] | tuple:
        if not facts.line_scan[0] & BAD_UNITS:
            return ()
        out = []
        for line in facts.service_lines:
            sv1 = line.sv1
            text = sv1.el(4)
            value = amount(text)
            if value is not None and value > 0:
                continue
            why = "is missing" if not text else (f"is {text}, not positive" if value is not None else f"is {text!r}, not a number")
            out.append(self.finding(sv1, f"Service line {line.number} units (SV104) {why}.", element="SV104",
                                    value=text or None))
        return out
