"""Outcomes and outputs: what was decided per claim and per input, and the sinks that write it
(the JSON report, text, CSV and HTML views, the clean and rejected 837s, the 999 and 277CA).
:mod:`.safe` makes values safe where analysts read them (CSV cells that are never formulas,
control characters as visible escapes on a terminal).

It may import ``scrubber.x12``, ``scrubber.codesets``, ``scrubber.rules``, ``scrubber.check``
and the foundation modules; never ``run`` or ``cli``.
"""
