"""ID003: procedure code qualifier (SV101-1) that is not one of HC, ER, IV, WK."""

from __future__ import annotations

from scrubber.findings import Finding
from scrubber.rules.base import Rule
from scrubber.rules.facts import ClaimFacts
from scrubber.rules.identifiers._common import BAD_QUALIFIER
from scrubber.rules.identifiers._common import PROCEDURE_QUALIFIERS as _PROCEDURE_QUALIFIERS
from scrubber.x12.model import Claim



class ProcedureQualifier(Rule):
    """Procedure code qualifier (SV101-1) that is not one of HC, ER, IV, WK.

    ## What it does
    Checks SV101-1, the code list of the procedure: HC (HCPCS/CPT), ER (jurisdiction specific),
    IV (HIEC) or WK (ABC codes).

    ## Why is this bad
    An unknown or missing qualifier leaves the payer unable to read the procedure code; the line
    is rejected (277CA A7:454).

    ## Example
    `SV1*CPT:99213*100*UN*1***1~`

    ## Use instead
    `SV1*HC:99213*100*UN*1***1~`

    ## References
    005010X222A1 2400 SV101-1 (HC, ER, IV, WK).
    """

    code = "ID003"
    name = "procedure-qualifier"
    summary = "SV101-1 is not HC, ER, IV or WK"
    ack = "A7:454"
    source = "005010X222A1 2400 SV101-1"
    concerns = "procedure_qualifier"

    def check(self, claim: Claim, facts: ClaimFacts) -> list[Finding] | tuple:
        if not facts.line_scan[0] & BAD_QUALIFIER:
            return ()
        out = []
        for line in facts.service_lines:
            sv101 = line.sv101
            q = sv101[0] if sv101 else ""
            if q not in _PROCEDURE_QUALIFIERS:
                out.append(self.finding(
                    line.sv1,
                    f"Service line {line.number} procedure qualifier SV101-1 is {q or 'empty'!r}; use HC for "
                    f"CPT/HCPCS codes (ER, IV, WK for the other code lists).",
                    element="SV101-1",
                    value=q or None,
                ))
        return out
