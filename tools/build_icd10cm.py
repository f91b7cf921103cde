#!/usr/bin/env python3
"""Build (or extend) the scrubber's ICD-10-CM table from the CMS ICD-10-CM order files.

    python tools/build_icd10cm.py [--src DIR] [--out FILE]      # rebuild from every order file in DIR
    python tools/build_icd10cm.py --add FILE [--fy YEAR] [--out FILE]   # add one more fiscal year

The logic (file formats, byte-for-byte reproducible output) lives in ``scrubber/codesets/build.py``,
which the installed command ``scrubber codesets add FILE`` uses too. Standard library only.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SRC = REPO_ROOT.parent / "shared" / "codesets" / "icd10cm"
DEFAULT_OUT = REPO_ROOT / "maps" / "icd10cm" / "icd10cm.tsv.gz"

sys.path.insert(0, str(REPO_ROOT))  # use this checkout's scrubber package, installed or not

from scrubber.codesets.build import BuildError, add, build, write_table  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--src", type=Path, default=DEFAULT_SRC, help=f"folder of order files (default {DEFAULT_SRC})")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"table to write (default {DEFAULT_OUT})")
    ap.add_argument("--add", type=Path, metavar="FILE", help="add one order file (a new fiscal year) to the existing --out table")
    ap.add_argument("--fy", type=int, help="fiscal year of --add FILE (default: from its name)")
    args = ap.parse_args(argv)
    try:
        if args.add:
            table = add(args.out, args.add, args.fy)
        else:
            if args.fy is not None:
                ap.error("--fy only goes with --add")
            table = build(args.src)
        size = write_table(table, args.out)
    except BuildError as exc:
        print(f"build_icd10cm: {exc}", file=sys.stderr)
        return 1
    fys = sorted(table.inputs)
    print(f"wrote {args.out}: {len(table.years)} codes, FY{fys[0]}..FY{fys[-1]} ({len(fys)} years), {size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
