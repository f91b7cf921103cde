"""PX002: Medicare chiropractic manipulation without a subluxation code as the line's first pointer."""

from __future__ import annotations

from scrubber.findings import Finding
from scrubber.rules.backpain._common import BackpainRule, dot
from scrubber.rules.facts import ClaimFacts
from scrubber.x12.model import Claim


class MedicareChiropracticSubluxation(BackpainRule):
    """Medicare chiropractic manipulation without a subluxation code as the line's first pointer.

    ## What it does
    On a Medicare Part B claim (2000B SBR09 = MB), flags a chiropractic manipulative treatment
    line (98940, 98941, 98942) whose FIRST diagnosis pointer (SV107-1) is not a subluxation code
    M99.00-M99.05 (segmental and somatic dysfunction of the head, cervical, thoracic, lumbar,
    sacral or pelvic region). Codes and payers are in `maps/backpain/procedures.toml`
    ([[first_pointer]]).

    ## Why is this bad
    Medicare pays chiropractic manipulation only to correct a subluxation of the spine, and
    requires the subluxation as the primary diagnosis of the service. The line is denied
    otherwise, so the claim is held back (error) to be fixed before it goes out.

    ## Example
    `SBR*P*18*******MB~` ... `HI*ABK:M5450*ABF:M9903~` `SV1*HC:98940*45*UN*1***1:2~`

    ## Use instead
    `SV1*HC:98940*45*UN*1***2:1~` (M99.03 first), or `HI*ABK:M9903*ABF:M5450~`.

    ## References
    CMS Pub. 100-04 Medicare Claims Processing Manual ch. 12 sec. 220; Pub. 100-02 Benefit Policy
    Manual ch. 15 sec. 240.1.2-240.1.3.
    """

    code = "PX002"
    name = "medicare-chiro-subluxation"
    summary = "Medicare 98940-98942 line whose first pointer is not a subluxation code M99.00-M99.05"
    severity = "error"
    ack = "A7:255"
    source = "CMS Pub. 100-04 ch. 12 sec. 220; Pub. 100-02 ch. 15 sec. 240.1.2-240.1.3; maps/backpain/procedures.toml"
    map_files = ("procedures.toml", "groups.toml")
    concerns = "first_pointer_procedure"

    def check(self, claim: Claim, facts: ClaimFacts) -> list[Finding] | tuple:
        f = facts.backpain
        first_pointer = f.maps.first_pointer
        lines = [item for item in f.lines if item[1] in first_pointer]
        if not lines:
            return ()
        sbr = claim.subscriber.first("SBR") if claim.subscriber is not None else None
        filing = sbr.el(9) if sbr is not None else ""
        lines = [item for item in lines if filing in first_pointer[item[1]][0]]
        if not lines:
            return ()
        missing = self.not_covered(claim, facts, lines=lines)
        if missing:
            return [missing]
        out = []
        for line, proc, d in lines:
            _, requires, wanted, entry = first_pointer[proc]
            if d is not None and not entry.in_effect(d):
                continue
            first = line.pointers[0] if line.pointers else ""
            if not (first.isdigit() and 1 <= int(first) <= 12):
                continue  # DP001/DP003 speak for it
            hit = f.diagnosis(int(first))
            if hit is None:
                continue  # DP002
            c = hit[1]
            if requires.match(c):
                continue
            out.append(self.finding(
                line.sv1,
                f"Service line {line.number} ({line.procedure}, {entry.label}) on a Medicare claim (SBR09 {filing}) "
                f"points first at {dot(c)}; Medicare wants a {wanted} as the first pointer.",
                element="SV107-1", value=c, severity=self.severity_for(entry),
            ))
        return out
