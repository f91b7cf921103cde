"""Balancing (BL): the claim total against its lines, and the charge amounts themselves.

Envelope balancing (SE01, GE01, IEA01 counts; SE02/GE02/IEA02 against their headers) is done
by the claim model and reported as EN101/EN102 (``scrubber/rules/envelope.py``).
"""
