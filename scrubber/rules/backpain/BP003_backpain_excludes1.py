"""BP003: two diagnoses on one claim that an ICD-10-CM Excludes1 note says never go together."""

from __future__ import annotations

from datetime import date

from scrubber.codesets.backpain import BackpainMaps, Entry
from scrubber.codesets.icd10cm import normalize_code as norm
from scrubber.findings import Finding
from scrubber.rules.backpain._common import BackpainRule, dot
from scrubber.rules.facts import ClaimFacts
from scrubber.x12.model import Claim


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
    concerns = "backpain_excludes1"

    def check(self, claim: Claim, facts: ClaimFacts) -> list[Finding] | tuple:
        f = facts.backpain
        reading = f.reading
        if not reading.norm:
            return ()
        # A pure function of the codes in order and the first date of service: once per reading and date.
        key = ("BP003", f.first_date)
        found = reading.memo.get(key)
        if found is None:
            if len(reading.memo) >= 64:
                reading.memo.clear()
            found = reading.memo[key] = _pairs(f.maps, reading.norm, f.first_date)
        owned, pairs = found
        if not owned or not pairs and f.covered:
            return ()
        missing = self.not_covered(claim, facts)
        if missing:
            return [missing]
        out = []
        codes = f.codes
        for i, j, owner, entry in pairs:
            (dx, c), (other, oc) = codes[i], codes[j]
            later = codes[max(i, j)][0]
            out.append(self.finding(
                later.segment,
                f"{dot(c)} ({dx.ref[:4]}) and {dot(oc)} ({other.ref[:4]}) are an Excludes1 pair: the tabular "
                f"note at {dot(owner)} excludes \"{entry.label}\"; keep the code the record supports.",
                element=later.ref, value=norm(later.code), severity=self.severity_for(entry),
            ))
        return out


def _pairs(maps: BackpainMaps, codes: tuple[str, ...], d: date | None) -> tuple[bool, list[tuple[int, int, str, Entry]]]:
    """Whether a code is under an Excludes1 note, and the Excludes1 pairs among ``codes`` (by index:
    the owner's, the excluded one's, the owner prefix and the entry), each pair once, in the order
    of the findings."""
    table = maps.excludes1
    cache = maps.memo_of("excludes1")
    owners = []  # (index, code, [(owner prefix, excluded prefix, entry)]) for codes under an Excludes1 note
    for i, c in enumerate(codes):
        owned = cache.get(c)
        if owned is None:
            owned = cache[c] = [
                (c[:k], excluded, entry)
                for k in range(3, min(len(c), 7) + 1)  # ICD-10-CM codes have at most 7 characters
                for excluded, entry in table.get(c[:k], ())
            ]
        if owned:
            owners.append((i, c, owned))
    if not owners:
        return False, []
    pairs = []
    seen: set[tuple[int, int]] = set()
    for i, c, owned in owners:
        others = [(j, oc) for j, oc in enumerate(codes)
                  if j != i and any([oc.startswith(excluded) for _, excluded, _ in owned])]
        if not others:
            continue
        for owner, excluded, entry in owned:
            if d is not None and not entry.in_effect(d):
                continue
            for j, oc in others:
                if not oc.startswith(excluded):
                    continue
                key = (i, j) if i < j else (j, i)
                if key in seen:
                    continue
                seen.add(key)
                pairs.append((i, j, owner, entry))
    return True, pairs
