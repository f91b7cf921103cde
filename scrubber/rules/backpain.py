"""Back-pain diagnosis coding: specificity (M54.9), sequencing, Excludes1 (BP001-BP003).

The rules are generic; what they know about back pain is data in ``maps/backpain/`` (see
:mod:`scrubber.codesets.backpain`). They assume the codes themselves are valid ICD-10-CM codes for the
date of service (the DX rules check that) and look at the coding logic between them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import ClassVar

from scrubber.codesets.backpain import (
    MAP_NAME,
    BackpainMaps,
    Entry,
    describe_sources,
    load_backpain_maps,
)
from scrubber.codesets.icd10cm import format_code as dot
from scrubber.codesets.icd10cm import normalize_code as norm
from scrubber.findings import Finding
from scrubber.x12.model import Claim, Diagnosis, ServiceLine
from scrubber.rules.base import Context, Rule


class BackpainRule(Rule):
    """Shared plumbing of the map-driven back-pain rules (not itself a rule)."""

    uses_backpain_maps: ClassVar[bool] = True
    map_files: ClassVar[tuple[str, ...]] = ()
    severity = "warning"

    @staticmethod
    def maps(ctx: Context) -> BackpainMaps:
        maps = ctx.maps.get(MAP_NAME)  # loaded once per run (asked for by every rule on every claim)
        return maps if maps is not None else ctx.map(MAP_NAME, load_backpain_maps)

    @classmethod
    def span(cls, maps: BackpainMaps) -> tuple[date, date] | None:
        """The dates every map file of the rule covers (computed once per maps object)."""
        key = ("span", cls.code)
        memo = maps.memo_of("spans")
        found = memo.get(key, False)
        if found is False:
            files = [maps.files[name] for name in cls.map_files]
            found = memo[key] = (max(mf.effective_from for mf in files), min(mf.effective_to for mf in files)) if files else None
        return found

    @classmethod
    def explain_sources(cls) -> str:
        """The map files this rule reads, with their sources and each entry's (for --explain)."""
        return "Maps:\n" + describe_sources(load_backpain_maps(), cls.map_files)

    def severity_for(self, entry: Entry) -> str:
        """An entry without a checked public source gives a warning whatever the rule's default."""
        return self.severity if entry.public_source else "warning"

    def not_covered(self, claim: Claim, ctx: Context, dates: list[date | None]) -> Finding | None:
        """A not_checked finding when a date of service is outside a map file this rule reads."""
        maps = self.maps(ctx)
        # Fast path: every date inside the span all of this rule's map files cover.
        span = self.span(maps)
        if span is None:
            return None
        lo, hi = span
        for d in dates:
            if d is not None and not lo <= d <= hi:
                break
        else:
            return None
        for name in self.map_files:
            mf = maps.files[name]
            start, end = mf.effective_from, mf.effective_to
            for d in dates:
                # No date at all is not a coverage question (a missing DTP*472 is its own finding).
                if d is not None and not start <= d <= end:
                    when = f"date of service {d.isoformat()}"
                    return self.finding(
                        claim.clm,
                        f"Claim {claim.claim_id}: {self.code} not checked for {when}; maps/{MAP_NAME}/{name} covers "
                        f"{mf.effective_from.isoformat()} to {mf.effective_to.isoformat()}.",
                        element="CLM01",
                        value=d.isoformat(),
                        severity="not_checked",
                    )
        return None


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

    def check(self, claim: Claim, ctx: Context) -> Iterator[Finding]:
        f = ctx.backpain
        maps = f.maps
        codes = f.codes
        hits = [(dx, c) for dx, c in codes if c in maps.unspecified]
        if not hits:
            return
        missing = self.not_covered(claim, ctx, f.dates)
        if missing:
            yield missing
            return
        d = f.first_date
        for dx, c in hits:
            for specific, procedures, entry in maps.unspecified[c]:
                if d is not None and not entry.in_effect(d):
                    continue
                other = next((o for o, oc in codes if o is not dx and specific.match(oc)), None)
                if other is not None:
                    yield self.finding(
                        dx.segment,
                        f"{dot(c)} ({entry.label}) at {dx.ref[:4]} is unspecified, but the claim also carries "
                        f"{dot(norm(other.code))} at {other.ref[:4]}; drop {dot(c)} or code the region.",
                        element=dx.ref, value=c, severity=self.severity_for(entry),
                    )
                    break
                line_hit = next(
                    ((line, i) for line, proc, _ in f.lines if proc in procedures
                     for i, p, _ in f.pointed(line) if p is dx),
                    None,
                )
                if line_hit is not None:
                    line, i = line_hit
                    yield self.finding(
                        line.sv1,
                        f"Service line {line.number} ({line.procedure}, imaging of one spinal region) points at "
                        f"{dot(c)} ({entry.label}); code the region imaged (e.g. M54.6 for the thoracic spine).",
                        element=f"SV107-{i}", value=c, severity=self.severity_for(entry),
                    )
                    break


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

    def check(self, claim: Claim, ctx: Context) -> Iterator[Finding]:
        f = ctx.backpain
        hit = f.code_at.get(1)  # HI01 (diagnosis position 1) with a code
        if hit is None:
            return
        first, c = hit
        maps = f.maps
        cache = maps.memo_of("sequencing")
        entries = cache.get(c)
        if entries is None:
            entries = cache[c] = [(u, e) for s, u, e in maps.sequencing if s.match(c)]
        if not entries:
            return
        missing = self.not_covered(claim, ctx, f.dates)
        if missing:
            yield missing
            return
        d = f.first_date
        for underlying, entry in entries:
            if d is not None and not entry.in_effect(d):
                continue
            match = underlying.match
            hit = None  # the first other diagnosis that is an underlying condition
            for dx, oc in f.codes:
                if dx is not first and match(oc):
                    hit = dx
                    break
            if hit is not None:
                yield self.finding(
                    first.segment,
                    f"Principal diagnosis {dot(c)} is a back-pain symptom, but the claim carries the underlying "
                    f"{entry.label} {dot(norm(hit.code))} at {hit.ref[:4]}; code the underlying condition first.",
                    element=first.ref, value=c, severity=self.severity_for(entry),
                )
                return


class BackPainExcludes1(BackpainRule):
    """Two diagnoses on one claim that an ICD-10-CM Excludes1 note says never go together.

    ## What it does
    Flags a pair of codes on the claim where the tabular entry of one (or of one of its
    ancestors) has an Excludes1 note naming the other: M54.5- with M54.4- or S39.012-; M54.6 with
    M51.-; M54.2 with M50.-; M54.1- with M51.1- or M47.2-; M54.- with F45.41 ... The pairs are in
    `maps/backpain/excludes1.toml`, generated from the FY2026 tabular by
    `tools/build_backpain_excludes.py`, each note compared unchanged in the FY2027 tabular.

    ## Why is this bad
    Excludes1 means "not coded here": the two conditions cannot occur together, or one is
    already included in the other (lumbago with sciatica includes the low back pain). Payers'
    code-pair edits deny the claim or the line. The one exception (the two conditions are
    unrelated) needs the record to show it, hence a warning by default.

    ## Example
    `HI*ABK:M5441*ABF:M5450~` (lumbago with sciatica, right side, and low back pain)

    ## Use instead
    `HI*ABK:M5441~`: the combination code already says low back pain.

    ## References
    ICD-10-CM Official Guidelines FY2026 sec. I.A.12.a (Excludes1); tabular notes of M54 and below.
    """

    code = "BP003"
    name = "backpain-excludes1"
    summary = "two diagnoses that an ICD-10-CM Excludes1 note forbids together"
    source = "ICD-10-CM tabular FY2026 Excludes1 notes (the same in FY2027); Official Guidelines sec. I.A.12.a; maps/backpain/excludes1.toml"
    map_files = ("excludes1.toml",)

    def check(self, claim: Claim, ctx: Context) -> Iterator[Finding]:
        f = ctx.backpain
        maps = f.maps
        table = maps.excludes1
        codes = f.codes
        cache = maps.memo_of("excludes1")
        owners = []  # (dx, code, [(owner prefix, excluded prefix, entry)]) for codes under an Excludes1 note
        for dx, c in codes:
            owned = cache.get(c)
            if owned is None:
                owned = cache[c] = [
                    (c[:k], excluded, entry)
                    for k in range(3, min(len(c), 7) + 1)  # ICD-10-CM codes have at most 7 characters
                    for excluded, entry in table.get(c[:k], ())
                ]
            if owned:
                owners.append((dx, c, owned))
        if not owners:
            return
        missing = self.not_covered(claim, ctx, f.dates)
        if missing:
            yield missing
            return
        d = f.first_date
        pairs = maps.memo_of("excludes1-pairs")  # (code, other code) -> does a note of code name the other
        seen: set[tuple[int, int]] = set()
        for dx, c, owned in owners:
            others = []
            for other, oc in codes:
                if other is dx:
                    continue
                named = pairs.get((c, oc))
                if named is None:
                    named = pairs[(c, oc)] = any([oc.startswith(excluded) for _, excluded, _ in owned])
                if named:
                    others.append((other, oc))
            if not others:
                continue
            for owner, excluded, entry in owned:
                if d is not None and not entry.in_effect(d):
                    continue
                for other, oc in others:
                    if not oc.startswith(excluded):
                        continue
                    key = tuple(sorted((dx.position, other.position)))
                    if key in seen:
                        continue
                    seen.add(key)
                    later = other if other.position > dx.position else dx
                    yield self.finding(
                        later.segment,
                        f"{dot(c)} ({dx.ref[:4]}) and {dot(oc)} ({other.ref[:4]}) are an Excludes1 pair: the tabular "
                        f"note at {dot(owner)} excludes \"{entry.label}\"; keep the code the record supports.",
                        element=later.ref, value=norm(later.code), severity=self.severity_for(entry),
                    )


RULES = [UnspecifiedBackPain, BackPainSequencing, BackPainExcludes1]
