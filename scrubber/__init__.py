"""x12-scrubber: a pre-submission scrubber for X12 837 professional claims (005010X222A1)."""

__version__ = "0.1.0"
