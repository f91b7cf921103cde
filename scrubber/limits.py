"""Input limits: what the scrubber accepts before it calls an input hostile or broken.

Each limit is configurable in the ``[limits]`` table of ``scrubber.toml``::

    [limits]
    file_bytes = 4_294_967_296        # larger inputs are refused (EN012)
    segment_bytes = 1_048_576         # a longer segment means a missing terminator (EN004)
    elements_per_segment = 256        # more elements than any 837P segment has (EN013)
    empty_segments = 10_000           # more empty segments (~~) than that: not X12 (EN104 -> EN013)
    claim_segments = 20_000           # one claim longer than that is refused (EN013)
    claims_per_transaction = 5_000    # the guide's limit per ST; further claims are rejected (LM001)
    lines_per_claim = 50              # the guide's 2400 repeat; more lines reject the claim (LM002)
    components_per_element = 64       # more components in one element than any composite has (EN013)
    loop_segments = 1_000             # one billing provider, subscriber or patient loop longer (EN013)
    envelopes = 100_000               # interchanges, groups and transaction sets in one file (EN013)
    claim_bytes = 16_777_216          # one claim larger than that is refused (EN013)
    claim_findings = 200              # findings listed per claim; the rest in one summary finding (EN106)
    file_findings = 10_000            # top-level findings listed per file; the rest summarised (EN106)
    structure_errors = 100_000        # structural errors held for one file; more: unusable (EN013)

The defaults keep memory and time bounded on adversarial input (a 1 GB file with no terminator, a
billion empty segments, a million segments in one loop, a million components in one element, a
million empty envelopes) while accepting every file the implementation guide allows: peak memory
stays under 300 MB for any input they accept (``bench/memory.py`` prints the figures).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from scrubber.errors import ScrubberError


class LimitsError(ScrubberError, ValueError):
    """A ``[limits]`` value that cannot be used: ``str(exc)`` is one line."""


@dataclass(frozen=True)
class Limits:
    file_bytes: int = 4 << 30
    segment_bytes: int = 1 << 20
    elements_per_segment: int = 256
    empty_segments: int = 10_000
    claim_segments: int = 20_000
    claims_per_transaction: int = 5_000
    lines_per_claim: int = 50
    components_per_element: int = 64
    loop_segments: int = 1_000
    envelopes: int = 100_000
    claim_bytes: int = 16 << 20
    claim_findings: int = 200
    file_findings: int = 10_000
    structure_errors: int = 100_000

    @classmethod
    def from_config(cls, data: dict | None) -> Limits:
        if not data:
            return cls()
        known = {f.name for f in fields(cls)}
        values = {}
        for key, value in data.items():
            if key not in known:
                raise LimitsError(f"limits: unknown limit {key!r} ({', '.join(sorted(known))})")
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise LimitsError(f"limits.{key}: must be a whole number of at least 1, not {value!r}")
            values[key] = value
        return cls(**values)

