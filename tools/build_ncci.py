#!/usr/bin/env python3
"""Build the shipped NCCI tables (maps/ncci/) from CMS practitioner PTP and MUE files.

    python tools/build_ncci.py [--src DIR] [--out DIR]   # convert every PTP and MUE file in DIR
    python tools/build_ncci.py --check                   # exit 1 if maps/ncci/ differs from a rebuild

The inputs (default ``../shared/codesets/ncci/`` beside the repository) are CMS NCCI practitioner
PTP files (a quarter may come in several parts: they are merged) and one practitioner MUE file, of
one quarter each, as CMS publishes them as text (tab- or comma-delimited) or as the subset TSVs
of ``../shared/codesets/ncci/``. Their quarter comes from the file name (or a subset's
``effective`` line). The conversion is the one ``scrubber.codesets.ncci.add_file`` uses; the
output is deterministic (a rebuild gives the same bytes). Standard library only.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SRC = REPO_ROOT.parent / "shared" / "codesets" / "ncci"
DEFAULT_OUT = REPO_ROOT / "maps" / "ncci"

sys.path.insert(0, str(REPO_ROOT))  # use this checkout's scrubber package, installed or not

from scrubber.codesets.ncci import MUE_NAME, PTP_NAME, NcciError, build, read_source  # noqa: E402


def build_tables(src: Path) -> dict[str, bytes]:
    """The table files (name -> bytes) converted from every file of ``src``."""
    if not src.is_dir():
        raise NcciError(f"{src}: no such folder (the CMS NCCI files to build from)")
    files = sorted(p for p in src.iterdir() if p.is_file() and not p.name.startswith(".")
                   and p.suffix.lower() in (".txt", ".tsv", ".csv"))
    if not files:
        raise NcciError(f"{src}: no .txt, .tsv or .csv files")
    return build([read_source(p) for p in files])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--src", type=Path, default=DEFAULT_SRC, help=f"folder of CMS NCCI files (default {DEFAULT_SRC})")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"folder to write the tables to (default {DEFAULT_OUT})")
    ap.add_argument("--check", action="store_true", help="exit 1 if the tables in --out differ from a rebuild")
    args = ap.parse_args(argv)
    try:
        tables = build_tables(args.src)
    except NcciError as exc:
        print(f"build_ncci: {exc}", file=sys.stderr)
        return 1
    if args.check:
        stale = [name for name, data in tables.items()
                 if not (args.out / name).is_file() or (args.out / name).read_bytes() != data]
        for name in tables:
            print(f"{args.out / name}: {'STALE: run tools/build_ncci.py' if name in stale else 'up to date'}")
        return 1 if stale else 0
    args.out.mkdir(parents=True, exist_ok=True)
    for name in (PTP_NAME, MUE_NAME):
        path = args.out / name
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(tables[name])
        tmp.replace(path)
        rows = sum(1 for line in tables[name].decode("utf-8").splitlines() if not line.startswith("#"))
        print(f"wrote {path}: {rows} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
