"""Procedure against procedure and units (NC001-NC004).

NC001-NC003 (any claim): NCCI procedure-to-procedure edits with modifier indicator 0 and 1, and
medically unlikely edits, from the CMS practitioner tables in ``maps/ncci/``
(:mod:`scrubber.codesets.ncci`, loaded when a claim first needs them). NC004: timed therapy units
against the minutes given (8-minute rule), from ``maps/backpain/timed.toml``.
"""
