"""BP002: back-pain symptom code as principal diagnosis while the claim carries its underlying cause."""

from __future__ import annotations

from scrubber.codesets.icd10cm import normalize_code as norm
from scrubber.findings import Finding
from scrubber.rules.backpain._common import BackpainRule, dot
from scrubber.rules.facts import ClaimFacts
from scrubber.x12.model import Claim


class BackPainSequencing(BackpainRule):
    """Back-pain symptom code as principal diagnosis while the claim carries its underlying cause.

    ## What it does
    Flags an M54.- code in HI01 (the principal diagnosis) when the claim also carries an
    underlying condition the pain is secondary to: scoliosis M41.-, collapsed vertebra M48.5-,
    osteoporotic fracture M80.-, vertebral fracture S22.0-/S32.0-, spinal infection M46.2-M46.5-,
    disc disorders M50.-/M51.- (list in `maps/backpain/sequencing.toml`).

    ## Why is this bad
    A symptom that is integral to a definitive diagnosis is not the principal diagnosis: the
    condition chiefly responsible for the visit is coded first. Payers' medical-necessity edits
    read the first diagnosis; a symptom first can cost the line.

    ## Example
    `HI*ABK:M5450*ABF:M4126~` (low back pain first, lumbar scoliosis second)

    ## Use instead
    `HI*ABK:M4126*ABF:M5450~`, or drop M54.50 if the pain is part of the condition.

    ## References
    ICD-10-CM Official Guidelines FY2026 sec. I.B.4-I.B.5, IV.D.
    """

    code = "BP002"
    name = "backpain-sequencing"
    summary = "M54.x is HI01 while the claim carries the underlying condition (code it first)"
    source = "ICD-10-CM Official Guidelines FY2026 sec. I.B.5, IV.D; maps/backpain/sequencing.toml"
    map_files = ("sequencing.toml",)
    concerns = "backpain_symptom_first"

    def check(self, claim: Claim, facts: ClaimFacts) -> list[Finding] | tuple:
        f = facts.backpain
        reading = f.reading
        at = reading.at.get(1)  # HI01 (diagnosis position 1) with a code: (its index, its code)
        if at is None:
            return ()
        c = at[1]
        maps = f.maps
        cache = maps.memo_of("sequencing")
        entries = cache.get(c)
        if entries is None:
            entries = cache[c] = [(u, e) for s, u, e in maps.sequencing if s.match(c)]
        if not entries:
            return ()
        d = f.first_date
        # A pure function of the diagnoses and the first date of service: once per reading and date.
        key = ("BP002", d)
        found = reading.memo.get(key, False)
        if found is False:
            found = None  # (the index of the first other diagnosis that is an underlying condition, entry)
            for underlying, entry in entries:
                if d is not None and not entry.in_effect(d):
                    continue
                match = underlying.match
                for k, oc in enumerate(reading.norm):
                    if k != at[0] and match(oc):
                        found = (k, entry)
                        break
                if found is not None:
                    break
            if len(reading.memo) >= 64:
                reading.memo.clear()
            reading.memo[key] = found
        if found is None and f.covered:
            return ()
        missing = self.not_covered(claim, facts)
        if missing:
            return [missing]
        if found is None:
            return ()
        k, entry = found
        diagnoses = claim.diagnoses
        first, hit = diagnoses[reading.picks[at[0]]], diagnoses[reading.picks[k]]
        return [self.finding(
            first.segment,
            f"Principal diagnosis {dot(c)} is a back-pain symptom, but the claim carries the underlying "
            f"{entry.label} {dot(norm(hit.code))} at {hit.ref[:4]}; code the underlying condition first.",
            element=first.ref, value=c, severity=self.severity_for(entry),
        )]
