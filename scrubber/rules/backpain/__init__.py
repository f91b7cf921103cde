"""Back-pain diagnosis coding: specificity (M54.9), sequencing, Excludes1 (BP001-BP003).

The rules are generic; what they know about back pain is data in ``maps/backpain/`` (see
:mod:`scrubber.codesets.backpain`). They assume the codes themselves are valid ICD-10-CM codes for the
date of service (the DX rules check that) and look at the coding logic between them.
"""
