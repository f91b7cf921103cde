"""Checking: the engine that runs the claim rules, the decision point for every finding, and the
structural validator (compiled 005010X222A1 tables, pyx12 as reference).

It may import ``scrubber.x12``, ``scrubber.codesets``, ``scrubber.rules`` and the foundation
modules; never ``report``, ``run`` or ``cli``.
"""
