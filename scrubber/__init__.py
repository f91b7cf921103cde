"""x12-scrubber: a pre-submission scrubber for X12 837 professional claims (005010X222A1).

The packages follow the flow, and each imports only those before it:

- foundation modules here: ``errors``, ``atomic``, ``mapsdir``, ``limits``, ``logs``,
  ``findings``, ``config`` (they import nothing of the packages below);
- ``x12``: reader and claim model;
- ``codesets``: the code tables and maps (ICD-10-CM, NCCI, POS, back-pain maps);
- ``rules``: one module a rule code, the registry and the shared per-claim facts;
- ``check``: the engine, the decision point, the structural validator;
- ``report``: outcomes and the sinks that write them;
- ``responses``: payer responses (TA1, 999, 277CA, 835) tied to the submitted claims;
- ``run``: the pipeline, ``--jobs`` and the drop-folder service;
- ``cli``: the commands, which only wire the rest.
"""

__version__ = "0.1.0"
