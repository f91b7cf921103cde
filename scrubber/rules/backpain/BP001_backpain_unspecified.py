"""BP001: unspecified back-pain code (M54.9) although the claim documents a more specific one."""

from __future__ import annotations

from scrubber.codesets.icd10cm import normalize_code as norm
from scrubber.findings import Finding
from scrubber.rules.backpain._common import BackpainRule, dot
from scrubber.rules.facts import ClaimFacts
from scrubber.x12.model import Claim


class UnspecifiedBackPain(BackpainRule):
    """Unspecified back-pain code (M54.9) although the claim documents a more specific one.

    ## What it does
    Flags M54.9 (dorsalgia, unspecified) when the same claim also carries a specific back-pain
    code (M54.1-, M54.2, M54.3-, M54.4-, M54.5-, M54.6, M54.8-), or when a region-specific
    imaging line (thoracic X-ray or MRI 72070-72080/72146, cervical MRI 72141, lumbar MRI 72148)
    points at M54.9. The codes and procedures are in `maps/backpain/specificity.toml`.

    ## Why is this bad
    ICD-10-CM wants the most specific code the record supports; a claim that names the region
    elsewhere, or images one region, documents more than "back pain, unspecified". Payers run
    unspecified-code edits and deny or pend such lines.

    ## Example
    `HI*ABK:M549*ABF:M546~`, or `HI*ABK:M549~` with `SV1*HC:72146*850*UN*1***1~`

    ## Use instead
    `HI*ABK:M546~` (pain in thoracic spine) and point the lines at it.

    ## References
    ICD-10-CM Official Guidelines FY2026 sec. I.B.18; tabular M54.9.
    """

    code = "BP001"
    name = "backpain-unspecified"
    summary = "M54.9 sent although the claim carries a specific back-pain code or region imaging"
    source = "ICD-10-CM Official Guidelines FY2026 sec. I.B.18; maps/backpain/specificity.toml"
    map_files = ("specificity.toml", "groups.toml")
    concerns = "backpain_unspecified"

    def check(self, claim: Claim, facts: ClaimFacts) -> list[Finding] | tuple:
        f = facts.backpain
        unspecified = f.maps.unspecified
        codes = f.codes
        hits = [(dx, c) for dx, c in codes if c in unspecified]
        if not hits:
            return ()
        missing = self.not_covered(claim, facts)
        if missing:
            return [missing]
        out = []
        d = f.first_date
        for dx, c in hits:
            for specific, procedures, entry in unspecified[c]:
                if d is not None and not entry.in_effect(d):
                    continue
                other = next((o for o, oc in codes if o is not dx and specific.match(oc)), None)
                if other is not None:
                    out.append(self.finding(
                        dx.segment,
                        f"{dot(c)} ({entry.label}) at {dx.ref[:4]} is unspecified, but the claim also carries "
                        f"{dot(norm(other.code))} at {other.ref[:4]}; drop {dot(c)} or code the region.",
                        element=dx.ref, value=c, severity=self.severity_for(entry),
                    ))
                    break
                line_hit = next(
                    ((line, i) for line, proc, _ in f.lines if proc in procedures
                     for i, p, _ in f.pointed(line) if p is dx),
                    None,
                )
                if line_hit is not None:
                    line, i = line_hit
                    out.append(self.finding(
                        line.sv1,
                        f"Service line {line.number} ({line.procedure}, imaging of one spinal region) points at "
                        f"{dot(c)} ({entry.label}); code the region imaged (e.g. M54.6 for the thoracic spine).",
                        element=f"SV107-{i}", value=c, severity=self.severity_for(entry),
                    ))
                    break
        return out
