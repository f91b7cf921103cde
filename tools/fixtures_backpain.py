#!/usr/bin/env python3
"""Write fixtures/edi/backpain.837: failing and passing claims for the back-pain rules.

BP001-BP003 (specificity, sequencing, Excludes1), PX001-PX002 (pointed diagnosis supports the
procedure; Medicare chiropractic subluxation), NC001-NC004 (NCCI pairs, MUE, 8-minute rule).
Synthetic only (TESTPATIENT / SAMPLEPERSON, member ids ZZM...), built with tools/make_fixtures.py's
builders; faults that ``Claim``/``Line`` cannot express (SV103 = MJ, a 2400 NTE with minutes) are
per-claim edits of the generated segments. Deterministic: running it twice gives identical files.

    python tools/fixtures_backpain.py            # writes fixtures/edi/backpain.837
    python tools/fixtures_backpain.py --check    # exit 1 if it is stale
    python tools/fixtures_backpain.py --list     # claim ids and purposes

Scrub as of 2025-06-01. Dates of service in March 2025 (FY2025), codes billable in FY2025 (a test
checks them against the ICD-10-CM table), except the NOTCHECKED claims dated before the maps'
effective dates. Subscribers: PAYER01 (commercial, SBR09 CI), PAYER02 (commercial, a copy of some
cases for the payer-override tests), PAYER09 (Medicare Part B, SBR09 MB).

Each claim's CLM01 names its case (``BP001-FAIL``, ``BP001-PASS`` ...); ``CASES`` says what it is.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_fixtures as mf

OUT = mf.DEFAULT_OUT
NAME = "backpain.837"
ISA13 = "000000401"
L = mf.Line
DOS = "20250310"

# --- per-claim edits of the generated segments ----------------------------------------------------

Edit = Callable[[list], list]
EDITS: dict[str, Edit] = {}
_claim_segments = mf.claim_segments


def _edited_claim_segments(claim: mf.Claim) -> list:
    segs = _claim_segments(claim)
    edit = EDITS.get(claim.clm_id)
    return edit(segs) if edit else segs


def minutes_note(line_no: int, text: str) -> Edit:
    """Add ``NTE*ADD*text`` to service line ``line_no`` (1-based), after its DTP*472."""
    def edit(segs):
        out, lx = [], 0
        for s in segs:
            out.append(s)
            if s[0] == "LX":
                lx += 1
            elif s[0] == "DTP" and s[1] == "472" and lx == line_no:
                out.append(("NTE", "ADD", text))
        return out
    return edit


def unit_basis(line_no: int, basis: str) -> Edit:
    """Set SV103 (unit or basis for measurement) of service line ``line_no``."""
    def edit(segs):
        out, n = [], 0
        for s in segs:
            if s[0] == "SV1":
                n += 1
                if n == line_no:
                    s = (*s[:3], basis, *s[4:])
            out.append(s)
        return out
    return edit


def chain(*edits: Edit) -> Edit:
    def edit(segs):
        for e in edits:
            segs = e(segs)
        return segs
    return edit


# --- the cases --------------------------------------------------------------------------------------


def C(clm_id: str, dx: list[str], lines: list[mf.Line], note: str, edit: Edit | None = None) -> mf.Claim:
    if edit is not None:
        EDITS[clm_id] = edit
    return mf.Claim(clm_id, dx, lines, note=note)


def commercial_claims() -> list[mf.Claim]:
    return [
        # BP001 unspecified M54.9
        C("BP001-FAIL", ["M549", "M546"], [L("99213", "100", "1:2", dos=DOS)],
          "BP001: M54.9 with the specific M54.6 on the same claim"),
        C("BP001-FAIL-IMG", ["M549"], [L("72146", "850", "1", dos=DOS)],
          "BP001: thoracic MRI 72146 points at M54.9 (also PX001: not a thoracic code)"),
        C("BP001-PASS", ["M546"], [L("99213", "100", "1", dos=DOS), L("72146", "850", "1", dos=DOS)],
          "valid: M54.6 alone, thoracic MRI points at it"),
        C("BP001-PASS-ALONE", ["M549", "I10"], [L("99213", "100", "1:2", dos=DOS)],
          "valid for BP001: M54.9 with no specific back-pain code and no imaging"),
        # BP002 sequencing
        C("BP002-FAIL", ["M5450", "M4126"], [L("99213", "100", "1:2", dos=DOS)],
          "BP002: low back pain M54.50 first, lumbar scoliosis M41.26 second"),
        C("BP002-FAIL-FX", ["M546", "S22080A"], [L("99213", "100", "1:2", dos=DOS)],
          "BP002: thoracic pain M54.6 first, T11-T12 vertebra fracture S22.080A second"),
        C("BP002-PASS", ["M4126", "M5450"], [L("99213", "100", "1:2", dos=DOS)],
          "valid: scoliosis first, the pain second"),
        # BP003 Excludes1
        C("BP003-FAIL", ["M5441", "M5450"], [L("99213", "100", "1:2", dos=DOS)],
          "BP003: lumbago with sciatica M54.41 and low back pain M54.50 (M54.5 Excludes1 M54.4-)"),
        C("BP003-FAIL-PSY", ["M542", "F4541"], [L("99213", "100", "1:2", dos=DOS)],
          "BP003: cervicalgia M54.2 and psychogenic dorsalgia F45.41 (M54 Excludes1 F45.41)"),
        C("BP003-PASS", ["M5441", "M546"], [L("99213", "100", "1:2", dos=DOS)],
          "valid: lumbago with sciatica and thoracic pain (no Excludes1 between them)"),
        # PX001 region support
        C("PX001-FAIL", ["M5450", "M546"], [L("72146", "850", "1", dos=DOS), L("99213", "100", "1:2", dos=DOS)],
          "PX001: thoracic MRI 72146 points at low back pain M54.50 only"),
        C("PX001-FAIL-LUMBAR", ["M542", "M5450"], [L("72148", "850", "1", dos=DOS)],
          "PX001: lumbar MRI 72148 points at cervicalgia M54.2"),
        C("PX001-FAIL-CERVICAL", ["M5450", "M542"], [L("72141", "850", "1", dos=DOS)],
          "PX001: cervical MRI 72141 points at low back pain M54.50"),
        C("PX001-FAIL-XRAY", ["M5450", "M546"], [L("72072", "120", "1", dos=DOS)],
          "PX001: thoracic X-ray 72072 points at low back pain"),
        C("PX001-FAIL-TRACTION", ["M546"], [L("97012", "40", "1", dos=DOS)],
          "PX001: traction 97012 points at thoracic pain only (wants cervical or lumbar)"),
        C("PX001-FAIL-THERAPY", ["M5450", "I10"], [L("97110", "50", "2", dos=DOS)],
          "PX001: therapy 97110 points at I10 only on a back-pain claim"),
        C("PX001-PASS", ["M5450", "M546"], [L("72146", "850", "2", dos=DOS), L("99213", "100", "1:2", dos=DOS)],
          "valid: thoracic MRI points at M54.6"),
        C("PX001-PASS-RADIC", ["M5414"], [L("72146", "850", "1", dos=DOS), L("72070", "90", "1", dos=DOS)],
          "valid: thoracic MRI and X-ray point at thoracic radiculopathy M54.14"),
        C("PX001-PASS-MIXED", ["M5450", "M542", "M546"],
          [L("72148", "850", "1", dos=DOS), L("72141", "850", "2", dos=DOS), L("97012", "40", "1:2", dos=DOS),
           L("97110", "45", "3", dos=DOS), L("99214", "150", "1:2:3", dos=DOS)],
          "valid: lumbar MRI -> M54.50, cervical MRI -> M54.2, traction -> lumbar, therapy and E/M -> any back code"),
        C("PX001-PASS-NOTBACK", ["I10"], [L("99213", "100", "1", dos=DOS)],
          "valid: not a back-pain claim, so the back-pain map does not apply"),
        # PX002 on a commercial payer: no finding
        C("PX002-PASS-COMMERCIAL", ["M5450", "M9903"], [L("98940", "45", "1:2", dos=DOS)],
          "valid for PX002: chiropractic manipulation with M54.50 first, but the payer is commercial (SBR09 CI)"),
        # NC001 indicator-0 pair
        C("NC001-FAIL", ["M9903", "M9902", "M9901"], [L("98941", "55", "1:2:3", dos=DOS), L("98940", "45", "1", dos=DOS)],
          "NC001: 98941 and 98940 on the same date (modifier indicator 0)"),
        C("NC001-FAIL-EVAL", ["M9903", "M5450"], [L("98940", "45", "1", dos=DOS), L("97161", "120", "2", dos=DOS)],
          "NC001: manipulation 98940 and a therapy evaluation 97161 on the same date (modifier indicator 0)"),
        C("NC001-PASS", ["M9903", "M9902", "M9901"], [L("98941", "55", "1:2:3", dos=DOS)],
          "valid: one manipulation level"),
        # NC002 indicator-1 pair
        C("NC002-FAIL", ["M9903", "M5450"], [L("98940", "45", "1", dos=DOS), L("97140", "40", "2", dos=DOS)],
          "NC002: 98940 and 97140 on the same date, 97140 without 59/XS"),
        C("NC002-FAIL-TRACTION", ["M5450"], [L("97012", "40", "1", dos=DOS), L("97140", "40", "1", dos=DOS)],
          "NC002: traction 97012 (column 1) and 97140 on the same date, 97140 without modifier"),
        C("NC002-FAIL-EM", ["M9903", "M5450"], [L("98940", "45", "1", dos=DOS), L("99213", "100", "2", dos=DOS)],
          "NC002: 98940 and office visit 99213 on the same date, 99213 without modifier 25"),
        C("NC002-PASS", ["M9903", "M542"], [L("98940", "45", "1", dos=DOS), L("97140", "40", "2", dos=DOS, modifiers=("XS",))],
          "valid: 97140 with XS (a different region) on the date of 98940"),
        C("NC002-PASS-59", ["M5450"], [L("97012", "40", "1", dos=DOS), L("97140", "40", "1", dos=DOS, modifiers=("59",))],
          "valid: 97140 with 59 on the date of traction 97012"),
        C("NC002-PASS-25", ["M9903", "M5450"], [L("98940", "45", "1", dos=DOS), L("99213", "100", "2", dos=DOS, modifiers=("25",))],
          "valid: office visit 99213 with modifier 25 on the date of 98940"),
        C("NC002-PASS-97530", ["M5450"], [L("97530", "50", "1", dos=DOS), L("97140", "40", "1", dos=DOS)],
          "valid: 97530 and 97140 on the same date (their NCCI edit was deleted on 2019-12-31)"),
        C("NC002-PASS-DATES", ["M9903", "M5450"], [L("98940", "45", "1", dos=DOS), L("97140", "40", "2", dos="20250311")],
          "valid: 98940 and 97140 on different dates"),
        # NC003 MUE
        C("NC003-FAIL", ["M9903", "M9902", "M9901"], [L("98941", "110", "1:2:3", dos=DOS, units="2")],
          "NC003: 98941 with 2 units (MUE 1)"),
        C("NC003-FAIL-SPLIT", ["M5450"], [L("72148", "850", "1", dos=DOS), L("72148", "850", "1", dos=DOS)],
          "NC003: lumbar MRI twice on one date (2 units, MUE 1)"),
        C("NC003-PASS", ["M9903", "M9902", "M9901"], [L("98941", "55", "1:2:3", dos=DOS, units="1")],
          "valid: 1 unit"),
        C("NC003-PASS-DATES", ["M5450"], [L("72148", "850", "1", dos=DOS), L("72148", "850", "1", dos="20250311")],
          "valid: one lumbar MRI on each of two dates"),
        # NC004 8-minute rule
        C("NC004-FAIL", ["M5450"], [L("97110", "120", "1", dos=DOS, units="3")],
          "NC004: 97110 3 units with NTE*ADD*MINUTES 30 (30 minutes allow 2)", minutes_note(1, "MINUTES 30")),
        C("NC004-FAIL-MJ", ["M5450"], [L("97110", "120", "1", dos=DOS, units="38")],
          "NC004: 97110 billed in minutes (SV103 MJ, SV104 38)", unit_basis(1, "MJ")),
        C("NC004-PASS", ["M5450", "M546"], [L("97110", "80", "1", dos=DOS, units="2"), L("97140", "40", "2", dos=DOS, units="1")],
          "valid: 25 + 15 = 40 timed minutes allow 3 units, 2 + 1 billed",
          chain(minutes_note(1, "MINUTES 25"), minutes_note(2, "MIN 15"))),
        C("NC004-PASS-NOMIN", ["M5450"], [L("97110", "160", "1", dos=DOS, units="4")],
          "valid for NC004: no minutes given, nothing to compare"),
        # not_checked: dates of service before the maps' effective dates
        C("NOTCHECKED-PX001", ["M545", "M546"], [L("72146", "850", "1", dos="20210601")],
          "PX001 not_checked: 2021-06-01 is before maps/backpain/procedures.toml (from 2021-10-01)"),
        C("NOTCHECKED-BP003", ["M5441", "M5450"], [L("99213", "100", "1:2", dos="20240603")],
          "BP003 not_checked: 2024-06-03 is before maps/backpain/excludes1.toml (from 2024-10-01)"),
    ]


def payer2_claims() -> list[mf.Claim]:
    return [
        C("PX001-FAIL-P2", ["M5450", "M546"], [L("72146", "850", "1", dos=DOS)],
          "PX001 as PX001-FAIL, for payer PAYER02 (payer-override tests)"),
        C("BP003-FAIL-P2", ["M5441", "M5450"], [L("99213", "100", "1:2", dos=DOS)],
          "BP003 as BP003-FAIL, for payer PAYER02 (payer-override tests)"),
    ]


def medicare_claims() -> list[mf.Claim]:
    return [
        C("PX002-FAIL", ["M5450", "M9903"], [L("98940", "45", "1:2", dos=DOS)],
          "PX002: Medicare (SBR09 MB) 98940 whose first pointer is M54.50, not the subluxation M99.03"),
        C("PX002-FAIL-NOSUB", ["M5450", "M546"], [L("98941", "55", "1:2", dos=DOS)],
          "PX002: Medicare 98941 with no subluxation code on the claim at all"),
        C("PX002-PASS", ["M5450", "M9903"], [L("98940", "45", "2:1", dos=DOS)],
          "valid: Medicare 98940 with M99.03 as the first pointer"),
        C("PX002-PASS-HI01", ["M9903", "M9902", "M5450"], [L("98941", "55", "1:2:3", dos=DOS)],
          "valid: subluxation codes first in HI and on the line"),
    ]


def providers() -> list[mf.BillingProvider]:
    bp = mf.BillingProvider(**mf.BP_ONE)
    bp.subscribers = [
        mf.Subscriber(mf.person(41), claims=commercial_claims()),
        mf.Subscriber(mf.person(42), payer_name="SAMPLE PAYER TWO", payer_id="PAYER02", group="GRP00002",
                      claims=payer2_claims()),
        mf.Subscriber(mf.person(43), payer_name="SAMPLE MEDICARE CONTRACTOR", payer_id="PAYER09", sbr09="MB",
                      group="", claims=medicare_claims()),
    ]
    return [bp]


def all_claims() -> list[mf.Claim]:
    EDITS.clear()
    return commercial_claims() + payer2_claims() + medicare_claims()


CASES = {c.clm_id: c.note for c in all_claims()}


def build(out: Path) -> Path:
    EDITS.clear()
    original = mf.claim_segments
    mf.claim_segments = _edited_claim_segments  # transaction_segments looks it up at call time
    try:
        st = mf.transaction_segments("0401", providers())
    finally:
        mf.claim_segments = original
    path = out / NAME
    mf.write_837(path, [(mf.interchange(ISA13, [mf.group("401", [st])], mf.STD_LF), mf.STD_LF)])
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--check", action="store_true", help="exit 1 if fixtures/edi/backpain.837 is stale")
    ap.add_argument("--list", action="store_true", help="print the claim ids and their purpose")
    args = ap.parse_args(argv)
    if args.list:
        for clm, note in CASES.items():
            print(f"{clm:24} {note}")
        return 0
    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            fresh = build(Path(tmp)).read_bytes()
        same = (args.out / NAME).is_file() and (args.out / NAME).read_bytes() == fresh
        print(f"{NAME}: {'up to date' if same else 'STALE: run tools/fixtures_backpain.py'}")
        return 0 if same else 1
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"wrote {build(args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
