#!/usr/bin/env python3
"""Write fixtures/edi/analyst.837: claims for the analyst views (explain, HTML, CSV).

Synthetic only (TESTPATIENT / SAMPLEPERSON, member ids ZZM...); built with tools/make_fixtures.py's
builders. Deterministic: running it twice gives byte-identical files.

    python tools/fixtures_analyst.py            # writes fixtures/edi/analyst.837
    python tools/fixtures_analyst.py --check    # exit 1 if it is stale

Claims (one ISA/GS/ST, `* : ^ ~`, LF; dates of service in March 2025, FY2025):

| CLM01 | purpose |
|---|---|
| `ANALYST-OK-1` | valid; dependent patient loop 2000C (PAT*19, NM1*QC, DMG) |
| `ANALYST-M545` | principal diagnosis M545 (M54.5): a header code, not billable since FY2022; pointers fine |
| `CSV,"Q"<b>&-1` | claim id with a comma, a double quote and HTML metacharacters; line 2 SV107 = 1:3 with 2 codes |
| `ANALYST-PTR-A` | line 1 SV107 = A (not a number) |
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_fixtures as mf

OUT = mf.DEFAULT_OUT / "analyst.837"
ESCAPE_ID = 'CSV,"Q"<b>&-1'


def claims() -> tuple[list[mf.Claim], list[mf.Claim]]:
    ok = mf.ok_claim("ANALYST-OK-1", variant=1, dos="20250310")
    m545 = mf.Claim(
        "ANALYST-M545",
        ["M545", "M546"],
        [mf.Line("99213", "100", "1:2", dos="20250311"), mf.Line("97110", "50", "1", dos="20250311")],
        note="principal diagnosis M545, a header code on a 2025 date",
    )
    esc = mf.bad_ptr_claim(ESCAPE_ID, dos="20250312")
    ptr_a = mf.Claim(
        "ANALYST-PTR-A",
        ["M542", "M7918"],
        [mf.Line("97140", "40", "A", dos="20250313"), mf.Line("97110", "40", "2", dos="20250313")],
        note="line 1 SV107 = A",
    )
    return [ok], [m545, esc, ptr_a]


def build(out: Path) -> Path:
    dependent_claims, subscriber_claims = claims()
    dep = mf.dependent(1)
    dep.claims = dependent_claims
    parent = mf.Subscriber(mf.person(41, last="SAMPLEPERSON", first="PARENT"), dependents=[dep])
    sub = mf.Subscriber(mf.person(42), claims=subscriber_claims)
    bp = mf.BillingProvider(**mf.BP_ONE, subscribers=[parent, sub])
    st = mf.transaction_segments("0001", [bp])
    path = out / "analyst.837"
    mf.write_837(path, [(mf.interchange("000000701", [mf.group("1", [st])], mf.STD_LF), mf.STD_LF)])
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args(argv)
    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            fresh = build(Path(tmp)).read_bytes()
        if not OUT.exists() or OUT.read_bytes() != fresh:
            print(f"{OUT} is stale; run python tools/fixtures_analyst.py")
            return 1
        return 0
    print(f"wrote {build(OUT.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
