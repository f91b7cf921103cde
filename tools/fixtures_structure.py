#!/usr/bin/env python3
"""Write fixtures/edi/structure*.837: claims with structural errors for the SX rules.

Synthetic only (TESTPATIENT / SAMPLEPERSON, member ids ZZM...), built with tools/make_fixtures.py's
builders and per-case edits of the generated segments. Deterministic.

    python tools/fixtures_structure.py            # writes the files into fixtures/edi/
    python tools/fixtures_structure.py --check    # exit 1 if one is stale

| file | what |
| --- | --- |
| `structure.837` | ST 0001: one billing provider (2000A) per case, each with one subscriber and claim, so that an error in the provider or subscriber loop reaches only its claim; ST 0002: the 1000A PER is missing (a header error: every claim of the transaction is rejected); a second interchange whose GS05 is not a time (an envelope error) |
| `structure_a2.837` | one valid claim in a transaction labelled 005010X222A2 (SX090 warning) |

Each claim's CLM01 names its case (`SX001-FAIL`, `SX-PASS` ...); ``CASES`` below says what it is.
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
Edit = Callable[[list], list]

# Edits keyed by claim id (2300/2400), billing provider name (2000A) and subscriber group (2000B).
CLAIM_EDITS: dict[str, Edit] = {}
BP_EDITS: dict[str, Edit] = {}
SUB_EDITS: dict[str, Edit] = {}
_claim_segments, _bp_segments, _sub_segments = mf.claim_segments, mf.billing_provider_segments, mf.subscriber_segments


def _claim(claim):
    segs = _claim_segments(claim)
    return CLAIM_EDITS[claim.clm_id](segs) if claim.clm_id in CLAIM_EDITS else segs


def _bp(bp):
    segs = _bp_segments(bp)
    return BP_EDITS[bp.name](segs) if bp.name in BP_EDITS else segs


def _sub(sub, is_patient):
    segs = _sub_segments(sub, is_patient)
    return SUB_EDITS[sub.group](segs) if sub.group in SUB_EDITS else segs


mf.claim_segments, mf.billing_provider_segments, mf.subscriber_segments = _claim, _bp, _sub


def drop(seg_id: str, qualifier: str | None = None) -> Edit:
    def edit(segs):
        return [s for s in segs if not (s[0] == seg_id and (qualifier is None or s[1] == qualifier))]
    return edit


def replace(seg_id: str, new: tuple, nth: int = 0) -> Edit:
    def edit(segs):
        idx = [i for i, s in enumerate(segs) if s[0] == seg_id][nth]
        return segs[:idx] + [new] + segs[idx + 1:]
    return edit


def after(seg_id: str, new: list[tuple], qualifier: str | None = None) -> Edit:
    def edit(segs):
        idx = [i for i, s in enumerate(segs) if s[0] == seg_id and (qualifier is None or s[1] == qualifier)][0]
        return segs[: idx + 1] + new + segs[idx + 1:]
    return edit


def set_element(seg_id: str, index: int, value, nth: int = 0) -> Edit:
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


def ok(clm_id: str, note: str, **kw) -> mf.Claim:
    return mf.Claim(clm_id, ["M5450", "M546"], [L("99213", "100", "1:2"), L("97110", "50", "1")], note=note, **kw)


# (claim id, what, where the edit goes: "claim" | "bp" | "sub", edit or None)
CASES: list[tuple[str, str, str, Edit | None]] = [
    ("SX-PASS", "valid: no structural error", "claim", None),
    ("SX001-FAIL", "2010AA without its N3 (billing provider address)", "bp", drop("N3")),
    ("SX002-FAIL", "claim with no service line (no 2400 loop)", "claim",
     lambda segs: [s for s in segs if s[0] not in ("LX", "SV1", "DTP")]),
    ("SX002-FAIL-NM185", "2000A without its NM1*85 (2010AA billing provider name missing)", "bp", drop("NM1", "85")),
    ("SX003-FAIL", "subscriber N4 sent as Nd4 (misspelt segment id)", "sub",
     lambda segs: [("Nd4", *s[1:]) if s[0] == "N4" else s for s in segs]),
    ("SX004-FAIL", "2010AA carries REF*EI twice", "bp", after("REF", [("REF", "EI", "990000099")], "EI")),
    ("SX005-FAIL", "two billing provider name loops (2010AA) in one 2000A", "bp",
     lambda segs: segs + [s for s in segs if s[0] in ("NM1", "N3", "N4")]),
    ("SX006-FAIL", "CLM05-3 (claim frequency) empty: CLM05 = 11:B", "claim", set_element("CLM", 5, ("11", "B"))),
    ("SX007-FAIL", "SBR03 group number of 51 characters (max 50)", "sub", set_element("SBR", 3, "G" * 51)),
    # pyx12's map does not hold the CLM05-3 (claim frequency, code source 235) values: CLM05-2 it does.
    ("SX008-FAIL", "CLM05-2 facility code qualifier A (B is the only code)", "claim",
     set_element("CLM", 5, ("11", "A", "1"))),
    ("SX009-FAIL", "line 1 DTP*472 date 20251340 (month 13)", "claim", set_element("DTP", 3, "20251340")),
    ("SX010-FAIL", "line 1 SV104 units 1O (letter O)", "claim", set_element("SV1", 4, "1O")),
    ("SX011-FAIL", "line 1 SV107 with 5 pointers 1:2:3:4:5 (6 diagnoses)", "claim", None),
    ("SX012-FAIL", "first service line numbered LX*2", "claim", set_element("LX", 1, "2")),
]


def structure_claims() -> list[mf.BillingProvider]:
    CLAIM_EDITS.clear(), BP_EDITS.clear(), SUB_EDITS.clear()
    providers = []
    for n, (clm_id, note, where, edit) in enumerate(CASES, start=1):
        if clm_id == "SX011-FAIL":
            claim = mf.Claim(clm_id, ["M5450", "M546", "M542", "M7918", "M5416", "M25511"],
                             [L("99213", "100", "1:2:3:4:5"), L("97110", "50", "1")], note=note)
        else:
            claim = ok(clm_id, note)
        name = f"SAMPLE CLINIC {clm_id}"
        group = f"GRP{n:05d}"
        if edit is not None:
            {"claim": CLAIM_EDITS, "bp": BP_EDITS, "sub": SUB_EDITS}[where][
                {"claim": clm_id, "bp": name, "sub": group}[where]] = edit
        sub = mf.Subscriber(mf.person(n), group=group, claims=[claim])
        providers.append(mf.BillingProvider(name=name, npi=mf.npi("123456789"), tax_id=f"99{n:07d}", subscribers=[sub]))
    return providers


def header_transaction() -> list:
    """ST 0002: 1000A without its PER (a header error)."""
    claims = [ok("SX-HEADER-1", "valid claim in a transaction whose 1000A has no PER"),
              ok("SX-HEADER-2", "valid claim in a transaction whose 1000A has no PER")]
    bp = mf.BillingProvider(**mf.BP_ONE, subscribers=[mf.Subscriber(mf.person(20), claims=claims[:1]),
                                                     mf.Subscriber(mf.person(21), claims=claims[1:])])
    st = mf.transaction_segments("0002", [bp])
    st = [s for s in st if s[0] != "PER"]
    return [s if s[0] != "SE" else ("SE", str(len(st)), "0002") for s in st]


def build_structure(out: Path) -> None:
    st1 = mf.transaction_segments("0001", structure_claims())
    st2 = header_transaction()
    isa1 = mf.interchange("000000501", [mf.group("1", [st1, st2])], mf.STD_LF)
    bp = mf.BillingProvider(**mf.BP_TWO, subscribers=[mf.Subscriber(mf.person(30), claims=[ok("SX020-FAIL", "GS05 2561")])])
    g = mf.group("1", [mf.transaction_segments("0001", [bp])])
    g[0] = tuple(list(g[0][:5]) + ["2561"] + list(g[0][6:]))  # GS05: not a time
    isa2 = mf.interchange("000000502", [g], mf.STD_LF)
    mf.write_837(out / "structure.837", [(isa1, mf.STD_LF), (isa2, mf.STD_LF)])


def build_structure_a2(out: Path) -> None:
    CLAIM_EDITS.clear(), BP_EDITS.clear(), SUB_EDITS.clear()
    bp = mf.BillingProvider(**mf.BP_ONE, subscribers=[mf.Subscriber(mf.person(40), claims=[ok("SX090-A2", "valid, X222A2 label")])])
    st = mf.transaction_segments("0001", [bp], ig="005010X222A2")
    mf.write_837(out / "structure_a2.837", [(mf.interchange("000000503", [mf.group("1", [st], ig="005010X222A2")], mf.STD_LF), mf.STD_LF)])


BUILDERS = [build_structure, build_structure_a2]
FILES = ["structure.837", "structure_a2.837"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--check", action="store_true", help="exit 1 if the files in fixtures/edi are stale")
    args = ap.parse_args(argv)
    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            for build in BUILDERS:
                build(Path(tmp))
            stale = [f for f in FILES if (Path(tmp) / f).read_bytes() != (OUT / f).read_bytes()]
        if stale:
            print("stale: " + ", ".join(stale))
            return 1
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    for build in BUILDERS:
        build(args.out)
    print("wrote " + ", ".join(FILES))
    return 0


if __name__ == "__main__":
    sys.exit(main())
