"""Diagnosis pointer linkage: each service line's SV107 pointers against the 2300 HI diagnoses,
and a claim's service lines and diagnoses being there at all."""
