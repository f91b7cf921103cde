"""Diagnosis rules: the HI segment's format (DX00x) and ICD-10-CM validity on the date of service (DX1xx).

ICD-10-CM validity is checked against the code set of the fiscal year of each service line's
date (2400 DTP*472, else the claim's 2300 DTP*472), for the diagnoses the line points at and
the principal diagnosis (HI01); a diagnosis no line points at is checked on the claim's first
date of service. Dates outside the loaded fiscal years give a ``not_checked`` finding (DX110),
never a silent pass.
"""
