"""The names of a scrub's outputs: ``NAME.report.json``, ``NAME.clean.837`` ... in the out dir."""

from __future__ import annotations

from pathlib import Path

REPORT = "report.json"
CLEAN = "clean.837"
REJECTED = "rejected.837"
HTML = "report.html"
CSV = "report.csv"
ACK999 = "999"
ACK277CA = "277ca.edi"
ACKTA1 = "ta1"
SUFFIXES = (REPORT, CLEAN, REJECTED, HTML, CSV, ACK999, ACK277CA, ACKTA1)


def output_stem(input_path: str | Path) -> str:
    """NAME for the outputs: the input's file name without directories or its last extension."""
    name = Path(str(input_path)).name
    stem = name.rsplit(".", 1)[0] if "." in name.strip(".") else name
    return stem or "input"


def output_names(stem: str) -> list[str]:
    """Every file name the scrub of an input with this NAME may write into the out dir."""
    return [f"{stem}.{suffix}" for suffix in SUFFIXES]
