"""Limits of the implementation guide that reject a claim (configurable in ``[limits]``): claims per
transaction set, service lines per claim."""
