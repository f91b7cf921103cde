"""Code sets the scrubber checks claims against: the data is under ``maps/`` (or the data folder,
see ``scrubber.mapsdir``), the loaders, builders and the coverage check are here (ICD-10-CM, NCCI,
place of service, the back-pain maps).

It may import the foundation modules only (errors, atomic, mapsdir); never x12, rules or later.
"""

from scrubber.codesets.icd10cm import CodeStatus, Icd10cm, format_code, load_icd10cm, normalize_code

__all__ = ["CodeStatus", "Icd10cm", "format_code", "load_icd10cm", "normalize_code"]
