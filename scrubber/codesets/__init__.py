"""Code sets the scrubber checks claims against (data under ``maps/``, loaders here)."""

from scrubber.codesets.icd10cm import CodeStatus, Icd10cm, format_code, load_icd10cm, normalize_code

__all__ = ["CodeStatus", "Icd10cm", "format_code", "load_icd10cm", "normalize_code"]
