"""X12 input: the reader (segments, delimiters, byte offsets) and the 837P claim model.

First in the flow. It may import the foundation modules of ``scrubber`` (errors, limits) and
nothing else of the project: it knows X12, not rules, findings or outputs.
"""
