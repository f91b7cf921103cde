#!/usr/bin/env python3
"""Write fixtures/edi/codes*.837: failing and passing claims for the DX, BL, DT, ID and TF rules.

Synthetic only (TESTPATIENT / SAMPLEPERSON, member ids ZZM...); built with tools/make_fixtures.py's
builders, with a per-claim edit of the generated segments where a fault cannot be expressed with
``Claim``/``Line``. Deterministic: running it twice gives byte-identical files.

    python tools/fixtures_codes.py            # writes the files below into fixtures/edi/
    python tools/fixtures_codes.py --check    # exit 1 if one is stale

| file | scrub as of | what |
| --- | --- | --- |
| `codes.837` | 2025-06-01 | HI format, ICD-10-CM validity, balancing, dates, identifiers, timely filing (dates March 2025) |
| `codes_fy2022.837` | 2022-03-01 | FY2021/FY2022 boundary: M54.5 and M54.50 on 2021-09-30 and 2021-10-01; POS 10 before 2022 |
| `codes_fy2019.837` | 2019-03-01 | FY2018/FY2019 boundary: M79.1 on 2018-09-30 and 2018-10-01 |
| `codes_outside.837` | 2027-11-01 | dates of service outside the loaded ICD-10-CM years (FY2028, before 2015-10-01) |
| `codes_envelope.837` | 2025-06-01 | wrong SE01 and GE02 (EN101, EN102 warnings; the outputs recount) |

Each claim's CLM01 names its case (`DX102-FAIL`, `DX102-PASS` ...); ``CASES`` below says what it is.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_fixtures as mf  # noqa: E402

OUT = mf.DEFAULT_OUT
L = mf.Line

# --- per-claim edits of the generated segments ----------------------------------------------------

Edit = Callable[[list], list]
EDITS: dict[str, Edit] = {}
_claim_segments = mf.claim_segments


def _edited_claim_segments(claim: mf.Claim) -> list:
    segs = _claim_segments(claim)
    edit = EDITS.get(claim.clm_id)
    return edit(segs) if edit else segs


mf.claim_segments = _edited_claim_segments  # transaction_segments looks it up at call time


def set_hi(*elements) -> Edit:
    """Replace the HI segment by ("HI", *elements)."""
    def edit(segs):
        return [("HI", *elements) if s[0] == "HI" else s for s in segs]
    return edit


def set_element(seg_id: str, index: int, value, nth: int = 0) -> Edit:
    """Set element ``index`` (1-based) of the nth ``seg_id`` segment."""
    def edit(segs):
        out, seen = [], 0
        for s in segs:
            if s[0] == seg_id:
                if seen == nth:
                    s = list(s) + [""] * max(0, index + 1 - len(s))
                    s[index] = value
                    s = tuple(s)
                seen += 1
            out.append(s)
        return out
    return edit


def set_sv1_comp(index: int, comp: int, value: str, nth: int = 0) -> Edit:
    def edit(segs):
        sv1 = [i for i, s in enumerate(segs) if s[0] == "SV1"][nth]
        s = list(segs[sv1])
        c = list(s[index]) if isinstance(s[index], tuple) else [s[index]]
        c[comp - 1] = value
        s[index] = tuple(c)
        return segs[:sv1] + [tuple(s)] + segs[sv1 + 1:]
    return edit


def drop_line_dtp(nth: int | None = None) -> Edit:
    """Drop the nth line DTP*472 (all when nth is None)."""
    def edit(segs):
        out, seen = [], 0
        for s in segs:
            if s[0] == "DTP" and s[1] == "472":
                hit = nth is None or seen == nth
                seen += 1
                if hit:
                    continue
            out.append(s)
        return out
    return edit


def claim_dtp(value: str, fmt: str = "D8") -> Edit:
    """Insert a 2300 DTP*472 right after CLM."""
    def edit(segs):
        return [segs[0], ("DTP", "472", fmt, value), *segs[1:]]
    return edit


def insert_after(seg_id: str, new: tuple, nth: int = 0) -> Edit:
    def edit(segs):
        idx = [i for i, s in enumerate(segs) if s[0] == seg_id][nth]
        return segs[: idx + 1] + [new] + segs[idx + 1:]
    return edit


def chain(*edits: Edit) -> Edit:
    def edit(segs):
        for e in edits:
            segs = e(segs)
        return segs
    return edit


def rendering(npi: str) -> tuple:
    return ("NM1", "82", "1", "SAMPLEDOCTOR", "ALPHA", "", "", "", "XX", npi)


GOOD_NPI = mf.npi("112233445")
BAD_NPI = GOOD_NPI[:9] + str((int(GOOD_NPI[9]) + 1) % 10)
assert mf.npi_is_valid(GOOD_NPI) and not mf.npi_is_valid(BAD_NPI)

TWELVE = ["M5450", "M546", "M542", "M7918", "M5416", "M25511", "M25512", "M25561", "M25562", "M7910", "M5417", "M5412"]


def two(clm_id: str, dx: list[str], dos: str = "20250310", note: str = "", **kw) -> mf.Claim:
    """Two lines (99213 100 -> 1:2 or 1, 97110 50 -> 1) on ``dos``."""
    p1 = "1:2" if len(dx) > 1 else "1"
    return mf.Claim(clm_id, dx, [L("99213", "100", p1, dos=dos), L("97110", "50", "1", dos=dos)], note=note, **kw)


# --- codes.837 --------------------------------------------------------------------------------------


def codes_claims() -> tuple[list[mf.Claim], list[mf.Claim], list[mf.Claim]]:
    """(claims of the subscriber-patient, of a dependent patient, under the bad-NPI billing provider)."""
    c = []
    EDITS.clear()

    def add(claim: mf.Claim, edit: Edit | None = None) -> None:
        if edit is not None:
            EDITS[claim.clm_id] = edit
        c.append(claim)

    # HI format
    add(two("DX001-FAIL", ["M5450", "M546"], note="HI01 qualifier ABF, HI02 ABK (swapped)"),
        set_hi(("ABF", "M5450"), ("ABK", "M546")))
    add(two("DX001-FAIL-NOQUAL", ["M5450", "M546"], note="HI02 sent as the bare code M546 (no qualifier)"),
        set_hi(("ABK", "M5450"), "M546"))
    add(two("DX001-PASS", ["M5450", "M546"], note="valid: ABK then ABF"))
    add(two("DX002-FAIL", ["M5450", "M546"], note="ICD-9 qualifiers BK/BF (7242, 7231) on 2025-03-10"),
        set_hi(("BK", "7242"), ("BF", "7231")))
    add(mf.Claim("DX003-FAIL", TWELVE, [L("99213", "100", "1:2:3:4"), L("97110", "50", "1")],
                 note="13 diagnosis codes"),
        set_hi(*[("ABK" if i == 0 else "ABF", d) for i, d in enumerate(TWELVE + ["M5413"])]))
    add(mf.Claim("DX003-PASS", TWELVE, [L("99213", "100", "1:2:3:4"), L("97110", "50", "12")],
                 note="valid: 12 diagnosis codes"))
    add(two("DX004-FAIL", ["M5450", "M546"], note="HI02 M54.6 with a decimal point"),
        set_hi(("ABK", "M5450"), ("ABF", "M54.6")))
    add(two("DX004-FAIL-LOWER", ["M5450", "M546"], note="HI02 m546 in lower case"),
        set_hi(("ABK", "M5450"), ("ABF", "m546")))
    add(two("DX004-FAIL-SPACE", ["M5450", "M546"], note="HI02 'M54 6' with a blank"),
        set_hi(("ABK", "M5450"), ("ABF", "M54 6")))
    add(two("DX004-PASS", ["M5450", "M546"], note="valid"))
    add(mf.Claim("DX005-FAIL", ["M5450", "M546", "M5450"], [L("99213", "100", "1:2"), L("97110", "50", "1")],
                 note="M5450 in HI01 and HI03"),
        set_hi(("ABK", "M5450"), ("ABF", "M546"), ("ABF", "M5450")))
    add(two("DX005-PASS", ["M5450", "M546"], note="valid"))
    add(two("DX006-FAIL", ["M5450", "M546"], note="HI*ABK*M5450*ABF*M546: composites split by '*'"),
        set_hi("ABK", "M5450", "ABF", "M546"))
    add(two("DX006-PASS", ["M5450", "M546"], note="valid"))
    # ICD-10-CM validity (FY2025)
    add(two("DX101-FAIL", ["M5499", "M546"], note="M5499 does not exist"))
    add(two("DX101-PASS", ["M25511", "M25512"], note="valid: M25511, M25512"))
    add(two("DX102-FAIL", ["M545", "M546"], note="M545 is a header since FY2022"))
    add(two("DX102-FAIL-M54", ["M54", "M546"], note="M54 is a category header"))
    add(two("DX102-PASS", ["M5459", "M546"], note="valid: M5459"))
    add(two("DX103-FAIL", ["M5450", "E11A"], note="E11A is new in FY2026 (from 2025-10-01), line 1 points at it"))
    add(two("DX103-FAIL-DELETED", ["H4011X0", "M546"], note="H4011X0 was deleted after FY2016"))
    add(two("DX103-PASS", ["M5450", "M546"], note="valid"))
    add(two("DX104-FAIL", ["W010XXA", "S8000XA"], note="external cause W010XXA as principal"))
    add(two("DX104-PASS", ["S8000XA", "W010XXA"], note="valid: injury first, external cause second"))
    # Balancing
    add(two("BL001-FAIL", ["M5450", "M546"], note="CLM02 175 but lines add up to 150"), set_element("CLM", 2, "175"))
    add(two("BL001-PASS", ["M5450", "M546"], note="CLM02 150.00 = 100 + 50 (decimals, not floats)"),
        set_element("CLM", 2, "150.00"))
    add(mf.Claim("BL001-PASS-CENTS", ["M542"], [L("97140", "0.10", "1"), L("97140", "0.20", "1"), L("99213", "120", "1")],
                 note="0.10 + 0.20 + 120 = 120.30 (exact in decimals)"))
    add(two("BL002-FAIL", ["M5450", "M546"], note="SV102 $100"), set_element("SV1", 2, "$100"))
    add(two("BL002-PASS", ["M5450", "M546"], note="valid"))
    # Dates
    add(two("DT001-FAIL", ["M5450", "M546"], note="line 2 has no DTP*472 and the claim none"), drop_line_dtp(1))
    add(two("DT001-PASS", ["M5450", "M546"], note="valid: DTP*472 on each line"))
    add(two("DT001-PASS-CLAIMDATE", ["M5450", "M546"],
            note="lines without DTP*472, a DTP*472 in 2300 instead (read as the lines' date; not 5010 syntax)"),
        chain(drop_line_dtp(), claim_dtp("20250310")))
    add(two("DT002-FAIL", ["M5450", "M546"], note="line 2 DTP*472*D8*20250230"), set_element("DTP", 3, "20250230", nth=1))
    add(two("DT002-FAIL-RANGE", ["M5450", "M546"], note="line 2 DTP*472*RD8*20250315-20250310 (ends before it starts)"),
        chain(set_element("DTP", 2, "RD8", nth=1), set_element("DTP", 3, "20250315-20250310", nth=1)))
    add(two("DT002-PASS", ["M5450", "M546"], note="valid; line 2 RD8 20250310-20250312"),
        chain(set_element("DTP", 2, "RD8", nth=1), set_element("DTP", 3, "20250310-20250312", nth=1)))
    add(two("DT003-FAIL", ["M5450", "M546"], note="line 2 on 2025-07-10, after the as-of date 2025-06-01"),
        set_element("DTP", 3, "20250710", nth=1))
    add(two("DT003-PASS", ["M5450", "M546"], note="valid"))
    add(two("DT004-PASS", ["M5450", "M546"], note="valid"))
    # Identifiers and codes
    add(two("ID001-FAIL-2310B", ["M5450", "M546"], note="rendering provider (2310B) NPI fails the check digit"),
        insert_after("HI", rendering(BAD_NPI)))
    add(two("ID001-FAIL-2420A", ["M5450", "M546"], note="line rendering provider (2420A) NPI fails the check digit"),
        insert_after("SV1", rendering(BAD_NPI), nth=1))
    add(two("ID001-PASS", ["M5450", "M546"], note="valid; rendering provider 2310B with a valid NPI"),
        insert_after("HI", rendering(GOOD_NPI)))
    add(two("ID002-FAIL", ["M5450", "M546"], note="SV101-2 9921 (four digits)"), set_sv1_comp(1, 2, "9921"))
    add(two("ID002-FAIL-LOWER", ["M5450", "M546"], note="SV101-2 g0283 (lower case)"), set_sv1_comp(1, 2, "g0283", nth=1))
    add(mf.Claim("ID002-PASS", ["M5450", "M546"], [L("G0283", "30", "1"), L("0001U", "50", "1")],
                 note="valid: HCPCS G0283, PLA-shaped 0001U"))
    add(two("ID003-FAIL", ["M5450", "M546"], note="SV101-1 CPT instead of HC"), set_sv1_comp(1, 1, "CPT"))
    add(two("ID003-PASS", ["M5450", "M546"], note="valid"))
    add(two("ID004-FAIL", ["M5450", "M546"], note="line 2 SV104 = 0"), set_element("SV1", 4, "0", nth=1))
    add(mf.Claim("ID004-PASS", ["M5450", "M546"], [L("99213", "100", "1:2"), L("97110", "50", "1", units="2.5")],
                 note="valid: units 2.5"))
    add(two("ID005-FAIL", ["M5450", "M546"], note="line 2 SV103 = HR"), set_element("SV1", 3, "HR", nth=1))
    add(mf.Claim("ID005-PASS", ["M5450", "M546"], [L("99213", "100", "1:2"), L("00400", "50", "1", units="30")],
                 note="valid: line 2 anesthesia 00400, SV103 = MJ (30 minutes)"), set_element("SV1", 3, "MJ", nth=1))
    add(two("ID006-FAIL", ["M5450", "M546"], note="CLM05-1 = 35 (unassigned)", pos="35"))
    add(mf.Claim("ID006-FAIL-SV105", ["M5450", "M546"], [L("99213", "100", "1:2"), L("97110", "50", "1", pos="98")],
                 note="line 2 SV105 = 98 (unassigned)"))
    add(mf.Claim("ID006-PASS", ["M5450", "M546"], [L("99213", "100", "1:2"), L("97110", "50", "1", pos="02")],
                 pos="10", note="valid: CLM05-1 = 10 (from 2022), line 2 SV105 = 02"))
    # Timely filing
    add(two("TF001-FAIL", ["M5450", "M546"], dos="20240301", note="service on 2024-03-01: 457 days before 2025-06-01"))
    add(two("TF001-PASS", ["M5450", "M546"], dos="20240602", note="service on 2024-06-02: 364 days before 2025-06-01"))

    dependent = [two("DT004-FAIL", ["M5450", "M546"], note="dependent patient (2010CA) born after the date of service")]
    bad_npi = [two("ID001-FAIL", ["M5450", "M546"], note="billing provider (2010AA) NPI fails the check digit")]
    return c, dependent, bad_npi


def build_codes(out: Path) -> Path:
    mine, dependent_claims, bad_npi_claims = codes_claims()
    sub = mf.Subscriber(mf.person(51), claims=mine)
    dep = mf.Patient(mf.Person("SAMPLEPERSON", "MINOR", "152 SAMPLE ST", dob="20250320", gender="M"), "19",
                     claims=dependent_claims)
    parent = mf.Subscriber(mf.person(52, last="SAMPLEPERSON", first="PARENT"), dependents=[dep])
    bp = mf.BillingProvider(**mf.BP_ONE, subscribers=[sub, parent])
    bad = mf.BillingProvider(**{**mf.BP_TWO, "npi": BAD_NPI},
                             subscribers=[mf.Subscriber(mf.person(53), claims=bad_npi_claims)])
    st = mf.transaction_segments("0001", [bp, bad])
    path = out / "codes.837"
    mf.write_837(path, [(mf.interchange("000000301", [mf.group("1", [st])], mf.STD_LF), mf.STD_LF)])
    return path


# --- fiscal-year boundaries ----------------------------------------------------------------------------


def fy2022_claims() -> list[mf.Claim]:
    return [
        two("FY-M545-20210930", ["M545", "M546"], dos="20210930", note="M54.5 billable on 2021-09-30 (FY2021)"),
        two("FY-M545-20211001", ["M545", "M546"], dos="20211001", note="M54.5 a header on 2021-10-01 (FY2022)"),
        two("FY-M5450-20210930", ["M5450", "M546"], dos="20210930", note="M54.50 not valid yet on 2021-09-30"),
        two("FY-M5450-20211001", ["M5450", "M546"], dos="20211001", note="M54.50 valid from 2021-10-01"),
        mf.Claim("FY-M545-SPLIT", ["M545", "M546"],
                 [L("99213", "100", "1:2", dos="20210930"), L("97110", "50", "1", dos="20211001")],
                 note="M54.5 on two lines: fine on 2021-09-30, a header on 2021-10-01"),
        two("ID006-FAIL-NOTYET", ["M5450", "M546"], dos="20211215", pos="10",
            note="POS 10 (telehealth in the home) before its effective date 2022-01-01"),
        two("ID006-PASS-10", ["M5450", "M546"], dos="20220103", pos="10", note="POS 10 on 2022-01-03"),
    ]


def fy2019_claims() -> list[mf.Claim]:
    return [
        two("FY-M791-20180930", ["M791", "M546"], dos="20180930", note="M79.1 billable on 2018-09-30 (FY2018)"),
        two("FY-M791-20181001", ["M791", "M546"], dos="20181001", note="M79.1 a header on 2018-10-01 (FY2019)"),
    ]


def outside_claims() -> list[mf.Claim]:
    EDITS["DX002-PASS-ICD9ERA"] = set_hi(("BK", "7242"), ("BF", "7231"))
    return [
        two("DX110-FAIL-LATE", ["M5450", "M546"], dos="20271005", note="2027-10-05 is FY2028, past FY2027"),
        two("DX110-FAIL-EARLY", ["M5450", "M546"], dos="20150915", note="2015-09-15 is before ICD-10-CM (FY2016)"),
        two("DX110-LATE-M545", ["M545", "M546"], dos="20271005", note="FY2028 date, checked against FY2027: M54.5 a header"),
        two("DX110-PASS", ["M5450", "M546"], dos="20270930", note="2027-09-30, the last day of FY2027"),
        two("DX002-PASS-ICD9ERA", ["M5450", "M546"], dos="20150915", note="BK/BF on 2015-09-15 (ICD-9 era)"),
    ]


def _single_file(out: Path, name: str, isa13: str, claims: list[mf.Claim]) -> Path:
    bp = mf.BillingProvider(**mf.BP_ONE, subscribers=[mf.Subscriber(mf.person(61), claims=claims)])
    st = mf.transaction_segments("0001", [bp])
    path = out / name
    mf.write_837(path, [(mf.interchange(isa13, [mf.group("1", [st])], mf.STD_LF), mf.STD_LF)])
    return path


def build_envelope(out: Path) -> Path:
    """One valid claim; SE01 says 99 and GE02 says 7 (GS06 is 1)."""
    claim = two("ENV-OK-1", ["M5450", "M546"], note="valid claim in a file with wrong SE01 and GE02")
    bp = mf.BillingProvider(**mf.BP_ONE, subscribers=[mf.Subscriber(mf.person(62), claims=[claim])])
    st = mf.transaction_segments("0001", [bp])
    st[-1] = ("SE", "99", "0001")
    grp = mf.group("1", [st])
    grp[-1] = ("GE", "1", "7")
    path = out / "codes_envelope.837"
    mf.write_837(path, [(mf.interchange("000000305", [grp], mf.STD_LF), mf.STD_LF)])
    return path


def build_all(out: Path) -> list[Path]:
    paths = [build_codes(out)]
    paths.append(_single_file(out, "codes_fy2022.837", "000000302", fy2022_claims()))
    paths.append(_single_file(out, "codes_fy2019.837", "000000303", fy2019_claims()))
    paths.append(_single_file(out, "codes_outside.837", "000000304", outside_claims()))
    paths.append(build_envelope(out))
    return paths


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="exit 1 if a file in fixtures/edi is stale")
    args = ap.parse_args(argv)
    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            stale = [p.name for p in build_all(Path(tmp)) if not (OUT / p.name).exists()
                     or (OUT / p.name).read_bytes() != p.read_bytes()]
        if stale:
            print(f"stale: {', '.join(stale)}; run python tools/fixtures_codes.py")
            return 1
        return 0
    for p in build_all(OUT):
        print(f"wrote {p}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
