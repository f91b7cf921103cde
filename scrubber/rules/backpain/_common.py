"""What the map-driven back-pain rules share: :class:`BackpainRule` (the maps a rule reads, their
coverage of the dates of service, the severity of an entry without a checked public source).

The procedure rules (PX001-PX002) and the timed-units rule (NC004) read ``maps/backpain/`` through
the same plumbing.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import TYPE_CHECKING, ClassVar

from scrubber.codesets.backpain import MAP_NAME, BackpainMaps, Entry, describe_sources, load_backpain_maps
from scrubber.codesets.icd10cm import format_code
from scrubber.findings import Finding
from scrubber.rules.base import Rule
from scrubber.rules.facts import claim_fact

if TYPE_CHECKING:
    from scrubber.rules.facts import ClaimFacts
    from scrubber.x12.model import Claim


@lru_cache(maxsize=8192)
def dot(code: str) -> str:
    """A diagnosis code as a finding names it, with its dot (M5450 -> M54.50; see ``format_code``)."""
    return format_code(code)


class BackpainRule(Rule):
    """Shared plumbing of the map-driven back-pain rules (not itself a rule)."""

    uses_backpain_maps: ClassVar[bool] = True
    map_files: ClassVar[tuple[str, ...]] = ()
    severity = "warning"

    @classmethod
    def span(cls, maps: BackpainMaps) -> tuple[date, date] | None:
        """The dates every map file of the rule covers (computed once per maps object)."""
        key = cls.code
        memo = maps.memo.get("spans")
        if memo is None:
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

    def not_covered(self, claim: Claim, facts: ClaimFacts, dates: list[date | None] | None = None,
                    lines: list[tuple] | None = None) -> Finding | None:
        """A not_checked finding when a date of service (of ``dates``, or of the ``(line, procedure,
        date)`` items ``lines``; by default every one of the claim's) is outside a map file this
        rule reads."""
        f = facts.backpain
        if f.covered:  # every date inside the span all the map files cover
            return None
        maps = f.maps
        # Fast path: every date inside the span all of this rule's map files cover.
        spans = maps.memo.get("spans")
        span = spans.get(self.code, False) if spans is not None else False
        if span is False:
            span = self.span(maps)
        if span is None:
            return None
        lo, hi = span
        first = f.first_date  # ``dates`` are some of the claim's dates of service (f.dates)
        if first is None or (lo <= first and f.last_date <= hi):
            return None
        if dates is None:
            dates = [d for _, _, d in lines] if lines is not None else f.dates
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


# The gate of PX002 (see ``scrubber.rules.facts.GATES``): it reads procedures.toml.
@claim_fact
def first_pointer_procedure(facts: ClaimFacts) -> bool:
    """A gate: a line bills a procedure of procedures.toml [[first_pointer]] (PX002)."""
    procedures = facts.procedures
    if not procedures:
        return False
    maps = facts.maps.get(MAP_NAME) or facts.backpain_maps
    return not procedures.isdisjoint(maps.first_pointer)
