"""PX001: service line whose pointed diagnoses do not support the procedure's spinal region."""

from __future__ import annotations

from scrubber.findings import Finding
from scrubber.rules.backpain._common import BackpainRule, dot
from scrubber.rules.facts import ClaimFacts
from scrubber.x12.model import Claim


class ProcedureRegionSupport(BackpainRule):
    """Service line whose pointed diagnoses do not support the procedure's spinal region.

    ## What it does
    On a back-pain claim (one carrying a code of the back-pain family), flags a line whose
    procedure is in `maps/backpain/procedures.toml` ([[support]]) when none of its pointed
    diagnoses (SV107) is in the region the procedure needs: thoracic MRI 72146 and thoracic
    X-rays 72070-72074/72080 a thoracic diagnosis (M54.6, M54.14, M51.x4, S23.3- ...); lumbar MRI
    72148 a lumbar one; cervical MRI 72141 a cervical one; traction 97012 a cervical or lumbar
    one; therapy 97110/97112/97140/97530 and E/M 99202-99215 any musculoskeletal back diagnosis.

    ## Why is this bad
    Payers check that the diagnosis a line points at justifies the service (medical necessity).
    A thoracic MRI that points at low back pain is denied as not supported, even when the
    claim's HI carries a thoracic code elsewhere: the pointer decides.

    ## Example
    `HI*ABK:M5450*ABF:M546~` `SV1*HC:72146*850*UN*1***1~` (thoracic MRI pointing at low back pain)

    ## Use instead
    `SV1*HC:72146*850*UN*1***2~` (pointing at M54.6, pain in thoracic spine)

    ## References
    maps/backpain/procedures.toml (each entry names its source; entries without a public source
    give warnings only).
    """

    code = "PX001"
    name = "procedure-region-support"
    summary = "line's pointed diagnoses do not support the procedure's spinal region"
    source = "maps/backpain/procedures.toml [[support]] (the procedure's region; no LCD found listing diagnoses)"
    map_files = ("procedures.toml", "groups.toml")
    concerns = "backpain_in_scope"

    def check(self, claim: Claim, facts: ClaimFacts) -> list[Finding] | tuple:
        f = facts.backpain
        if not f.in_scope:
            return ()
        support = f.maps.support
        masks = f.masks
        if masks is None:
            masks = [-1] * len(f.lines)
        chosen = [(item, mask) for item, mask in zip(f.lines, masks) if item[1] in support]
        if not chosen:
            return ()
        if not f.covered:
            missing = self.not_covered(claim, facts, lines=[item for item, _ in chosen])
            if missing:
                return [missing]
        out = []
        bits = f.maps.support_bits
        reading = f.reading
        filled = reading.filled
        known = reading.region_bits
        for (line, proc, d), pointers in chosen:
            # A pointed diagnosis in the region, or no usable pointer (the DP rules speak for it): no finding.
            if pointers > 0:  # the HI positions the line names, as bits (a regular SV107)
                if not pointers & filled:
                    continue
                region = known.get(pointers)
                if region is None:
                    region = reading.regions(pointers)
                if region & bits[proc]:
                    continue
            else:
                mask, pointed = f.regions(tuple(line.pointers))
                if mask & bits[proc] or not pointed:
                    continue
            requires, wanted, entry = support[proc]
            if d is not None and not entry.effective_from <= d <= entry.effective_to:
                continue
            # none of the pointed diagnoses is in the region
            dxs = f.pointed(line)
            codes = ", ".join([dot(c) for _, _, c in dxs])
            out.append(self.finding(
                line.sv1,
                f"Service line {line.number} ({line.procedure}, {entry.label}) points at {codes}; it wants "
                f"a {wanted}. Point it at one (or add one to HI).",
                element="SV107-1", value=dxs[0][2], severity=self.severity_for(entry),
            ))
        return out
