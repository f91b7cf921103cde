"""DP001: a service line without diagnosis pointers (SV107-1 empty or absent)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrubber.rules.base import Rule

if TYPE_CHECKING:
    from scrubber.findings import Finding
    from scrubber.rules.facts import ClaimFacts
    from scrubber.x12.model import Claim


class PointerMissing(Rule):
    """Service line without diagnosis pointers (SV107 absent).

    ## What it does
    Flags a 2400 service line whose SV1 has no SV107 (Composite Diagnosis Code Pointer).

    ## Why is this bad
    SV107-1 is required on every 837P service line: it names the diagnosis (HI position) that
    justifies the procedure. Payers reject a line without it (277CA A6:477).

    ## Example
    `SV1*HC:99213*125*UN*1***~` (no pointer)

    ## Use instead
    `SV1*HC:99213*125*UN*1***1~` (pointing at HI01)

    ## References
    005010X222A1 section 2.4, loop 2400 SV1, element SV107.
    """

    code = "DP001"
    name = "pointer-missing"
    summary = "SV107 diagnosis pointer is missing on a service line"
    ack = "A6:477"
    source = "005010X222A1 2400 SV107 (required)"
    concerns = "pointers_suspect"

    def check(self, claim: Claim, facts: ClaimFacts) -> list[Finding]:
        found = []
        for line in claim.lines:
            sv1 = line.sv1
            if sv1 is None:
                continue
            pointers = line.pointers  # SV107's components
            if not pointers or not pointers[0]:
                found.append(self.finding(
                    sv1,
                    f"Service line {line.number} ({line.procedure or 'no procedure'}) has no diagnosis pointer "
                    f"(SV107-1); point it at the HI position that supports the procedure.",
                    element="SV107-1",
                    value=sv1.el(7) or None,
                ))
        return found
