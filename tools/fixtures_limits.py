"""Write fixtures/edi/limits.837: claims at and past the guide's limits (LM rules).

    python tools/fixtures_limits.py

Uses the builders of tools/make_fixtures.py. Transaction 0001 holds three claims (with a
configured claims_per_transaction = 2 the third is past the limit); transaction 0002 holds one
claim with 50 service lines and one with 51.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import make_fixtures as mf  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "fixtures" / "edi" / "limits.837"


def lines(n: int) -> list[mf.Line]:
    cpts = ["97110", "97140", "97530", "97112"]
    return [mf.Line(cpts[i % 4], "10", pointers="1") for i in range(n)]


def main() -> int:
    d = mf.STD_LF
    small = [mf.Claim(cid, ["M5450"], [mf.Line("99213", "100", pointers="1")], note="")
             for cid in ("LM001-PASS-1", "LM001-PASS-2", "LM001-FAIL")]
    many = [mf.Claim("LM002-PASS", ["M5450"], lines(50)), mf.Claim("LM002-FAIL", ["M5450"], lines(51))]

    def provider(claims: list[mf.Claim], n: int) -> mf.BillingProvider:
        subs = [mf.Subscriber(person=mf.person(n + i), claims=[c]) for i, c in enumerate(claims)]
        return mf.BillingProvider(**mf.BP_ONE, subscribers=subs)

    tx1 = mf.transaction_segments("0001", [provider(small, 40)])
    tx2 = mf.transaction_segments("0002", [provider(many, 50)])
    text = mf.write_837(OUT, [(mf.interchange("000000401", [mf.group("1", [tx1, tx2])], d), d)])
    print(f"{OUT}: {len(text)} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
