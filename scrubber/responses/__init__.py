"""Payer responses: the 999, TA1, 277CA and 835 files a payer sends back, read (``inbound``),
tied to the claims of the submitted 837P (``tie``, with what the scrub predicted of each claim,
collected by ``submitted``) and written for analysts (``output``: ``NAME.responses.json``, text,
CSV, HTML). The codes they carry are explained from ``maps/x12/ack_codes.toml`` (``codes``).

It may import ``scrubber.report`` and every package before it (``check``, ``rules``,
``codesets``, ``x12``, the foundation modules); never ``run`` or ``cli``.
"""
