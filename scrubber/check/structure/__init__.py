"""Structural validation (SNIP levels 1-2) of 837P transaction sets against the 005010X222A1 guide.

A separate pass over the input, before the claim pass: the scrubber's segments are re-serialised
(:mod:`.normalize`) and validated against pyx12's 837P map, compiled (:mod:`.compiled`, the
default) or by pyx12 itself (:mod:`.pyx12run`, ``[options] structure_validator = "pyx12"``, and
the fallback for what the compiled validator does not cover); each error (both report pyx12's
errors, :class:`.rawerror.RawError`) becomes a :class:`StructuralError` with its rule
(SX001-SX020), the transaction set it is in, its position (ST = 1), loop, segment and element, and
the codes a 999 would carry (IK304 / IK403). The errors are indexed by transaction set (in file
order) and position, one error at a time as the validator finds it.

Why a separate pass rather than checking segments as the claims stream by: a payer's 999 rejects
a whole transaction set (or group) for an error found at its end (SE01 count, a missing trailer,
a GE error), and the claim pass writes each claim's outcome as it reads it, so those errors must
be known before the transaction's first claim. Both passes stream; memory holds only errors (and
one small record per transaction set), never the segments: it grows with the number of errors,
not with the number of claims, and the errors held are bounded by ``[limits] structure_errors``
(past it the input is unusable, EN013).

The modules:

- :mod:`.structure_pass`: :class:`StructurePass`, the pass as the claim pass sees it (run before,
  consulted per transaction set and claim: which errors reject the whole transaction set, which
  only a claim);
- :mod:`.index`: :func:`validate_structure`, which runs a validator and builds the
  :class:`StructureIndex` of its errors;
- :mod:`.structural_error`: :class:`StructuralError` and :func:`classify` (pyx12's error as an SX
  rule with its message and 999 codes);
- :mod:`.personal`: which values of a segment may identify a person (decided by the segment, not
  the position): never quoted in a finding, masked by ``scrubber explain`` and the HTML page;
- :mod:`.normalize`: the input re-serialised for the validators;
- :mod:`.compiled`: the compiled validator (its parts: :mod:`.tables`, :mod:`.machine`,
  :mod:`.fastpath`, :mod:`.elements`, :mod:`.recorder`, :mod:`.caches`);
- :mod:`.pyx12run`: pyx12 itself, the reference; :mod:`.rawerror`: the error record both report.
"""

from __future__ import annotations

from scrubber.check.structure.compiled import Unsupported, run_compiled
from scrubber.check.structure.index import IndexBuilder, StructureIndex, TxErrors, build_index, validate_structure
from scrubber.check.structure.structural_error import ENVELOPE_IDS, StructuralError, classify
from scrubber.check.structure.structure_pass import StructurePass, TransactionStructure
from scrubber.check.structure.tables import compiled_maps

__all__ = ["StructuralError", "StructureIndex", "StructurePass", "TransactionStructure", "validate_structure",
           "classify", "compiled_maps", "run_compiled", "Unsupported", "ENVELOPE_IDS", "IndexBuilder",
           "TxErrors", "build_index"]
