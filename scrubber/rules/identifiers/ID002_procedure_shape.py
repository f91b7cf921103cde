"""ID002: procedure code (SV101-2) that is neither a CPT nor a HCPCS level II code in shape."""

from __future__ import annotations

from scrubber.findings import Finding
from scrubber.rules.base import Rule
from scrubber.rules.facts import ClaimFacts
from scrubber.rules.identifiers._common import BAD_SHAPE
from scrubber.rules.identifiers._common import procedure_shape_ok as _procedure_shape_ok
from scrubber.x12.model import Claim

class ProcedureShape(Rule):
    """Procedure code (SV101-2) that is neither a CPT nor a HCPCS level II code in shape.

    ## What it does
    With qualifier HC, SV101-2 must be a CPT code (five digits; or four digits and F, T or U for
    category II, III and PLA codes) or a HCPCS level II code (a capital letter and four digits).

    ## Why is this bad
    Anything else (a dot, a lower-case letter, a missing digit, a modifier glued on) is not a code
    the payer knows; the line is rejected (277CA A7:454, procedure code invalid).

    ## Example
    `SV1*HC:9921*100*UN*1***1~` or `SV1*HC:g0283*30*UN*1***1~`

    ## Use instead
    `SV1*HC:99213*100*UN*1***1~` or `SV1*HC:G0283*30*UN*1***1~`

    ## References
    005010X222A1 2400 SV101-2; HCPCS level I (CPT) and level II code structure.
    """

    code = "ID002"
    name = "procedure-shape"
    summary = "SV101-2 is not a CPT (5 characters) or HCPCS level II (letter + 4 digits) code"
    ack = "A7:454"
    source = "005010X222A1 2400 SV101-2"
    concerns = "procedure_shape"

    def check(self, claim: Claim, facts: ClaimFacts) -> list[Finding] | tuple:
        if not facts.line_scan[0] & BAD_SHAPE:
            return ()
        out = []
        for line in facts.service_lines:
            sv101 = line.sv101
            if not sv101 or sv101[0] != "HC":
                continue
            code = line.procedure
            if _procedure_shape_ok(code):
                continue
            why = "is missing" if not code else f"is {code!r}, not a CPT code (5 characters) or HCPCS level II code (letter + 4 digits)"
            out.append(self.finding(line.sv1, f"Service line {line.number} procedure code (SV101-2) {why}.",
                                    element="SV101-2", value=code or None))
        return out
