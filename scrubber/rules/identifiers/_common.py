"""What the identifier and balancing rules share: the NPI check digit (also for the tests and
tools), the shape of a procedure code, and the line checks of the claim pass (``facts.line_scan``,
whose BAD_* bits say which of BL002 and ID002-ID005 can have something to say on the claim)."""

from __future__ import annotations

from scrubber.rules.facts import BAD_BASIS, BAD_CHARGE, BAD_QUALIFIER, BAD_SHAPE, BAD_UNITS
from scrubber.rules.values import PROCEDURE_QUALIFIERS, charge_of, luhn_npi_ok, procedure_shape_ok

__all__ = ["BAD_BASIS", "BAD_CHARGE", "BAD_QUALIFIER", "BAD_SHAPE", "BAD_UNITS", "PROCEDURE_QUALIFIERS", "charge_of",
           "luhn_npi_ok", "procedure_shape_ok"]
