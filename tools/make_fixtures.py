#!/usr/bin/env python3
"""Write the synthetic X12 837P test fixtures into fixtures/edi/.

Deterministic and stdlib only: running it twice gives byte-identical files.

    python tools/make_fixtures.py                # writes fixtures/edi/*.837 + README.md
    python tools/make_fixtures.py --out DIR      # somewhere else
    python tools/make_fixtures.py --check        # exit 1 if fixtures/edi is stale
    python tools/make_fixtures.py --list         # claim ids and intended faults

Everything is synthetic: people are TESTPATIENT / SAMPLEPERSON / ..., member
ids ZZM..., addresses "100 SAMPLE ST", payers PAYER01..., NPIs are made up
but carry a valid Luhn check digit (80840 prefix).

How to extend
-------------
Claims are plain data (``Claim``, ``Line``); a transaction is a list of
``BillingProvider`` -> ``Subscriber`` (-> optional ``Patient``) -> claims.
``transaction_segments`` turns that into segment lists (HL numbering, HL04
child codes, LX numbering, SE01 are computed); ``interchange`` /
``group`` wrap transactions in GS/GE and ISA/IEA with correct counts and
control numbers; ``serialise`` writes the segments with any
``Delimiters`` (element, component, repetition, segment terminator and the
line break written after each terminator). To add a fixture, write a
``build_<name>(out)`` function and add a ``FixtureSpec`` (file name, builder,
description, delimiters, claims with their purpose, expected pyx12 outcome)
to ``fixture_specs()``; README.md is generated from those specs.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "fixtures" / "edi"

IG_5010_837P = "005010X222A1"
FILE_DATE = "20250315"  # BHT04 / GS04; ISA09 is its YYMMDD form
FILE_TIME = "1200"

# --------------------------------------------------------------------------
# Delimiters and serialisation
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Delimiters:
    """Separators of one interchange and the line break after each segment.

    ``eol`` is written after every segment terminator ("" = one long line).
    For files whose terminator *is* the line break, set ``segment="\\n"``
    and ``eol=""``.
    """

    element: str = "*"
    component: str = ":"
    repetition: str = "^"
    segment: str = "~"
    eol: str = "\n"


STD_LF = Delimiters()
STD_CRLF = Delimiters(eol="\r\n")
STD_NOEOL = Delimiters(eol="")

# A segment is a tuple: (seg_id, element, element, ...). An element is a
# str, or a tuple of str for a composite (joined with the component
# separator). Trailing empty elements/components are dropped, except in ISA.
Element = str | tuple[str, ...]
Segment = tuple[Element, ...]


def seg(seg_id: str, *elements: Element) -> Segment:
    return (seg_id, *elements)


def comp(*parts: str) -> tuple[str, ...]:
    return tuple(parts)


def _render_element(value: Element, d: Delimiters) -> str:
    if isinstance(value, tuple):
        parts = list(value)
        while parts and parts[-1] == "":
            parts.pop()
        return d.component.join(parts)
    return value


def _check_data(segment: Segment, d: Delimiters) -> None:
    """Refuse data that contains a delimiter of ``d`` (or a line break)."""
    forbidden = {d.element, d.component, d.segment, "\r", "\n"}
    if not d.repetition.isalnum():  # ISA11 "U" is a letter: it occurs in data
        forbidden.add(d.repetition)
    values = segment[1:]
    if segment[0] == "ISA":  # ISA11 / ISA16 carry the separators themselves
        values = values[:10] + values[11:15]
    for v in values:
        for part in v if isinstance(v, tuple) else (v,):
            bad = [ch for ch in forbidden if ch in part]
            if bad:
                raise ValueError(f"delimiter {bad!r} in data {part!r} of {segment[0]}")


def render_segment(segment: Segment, d: Delimiters) -> str:
    """One segment without terminator."""
    _check_data(segment, d)
    seg_id = segment[0]
    values = [_render_element(v, d) for v in segment[1:]]
    if seg_id != "ISA":
        while values and values[-1] == "":
            values.pop()
    return d.element.join([str(seg_id), *values])


def serialise(segments: Sequence[Segment], d: Delimiters) -> str:
    """Join segments with the terminator and line break of ``d``."""
    out = []
    for s in segments:
        text = render_segment(s, d)
        if s[0] == "ISA":
            assert len(text) + len(d.segment) == 106, (len(text), text)
        out.append(text + d.segment + d.eol)
    return "".join(out)


# --------------------------------------------------------------------------
# Identifiers
# --------------------------------------------------------------------------


def luhn_check_digit(digits: str) -> int:
    """Check digit that makes ``digits + check`` pass the Luhn test."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2 == 0:  # rightmost digit of the payload gets doubled
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return (10 - total % 10) % 10


def npi(base9: str) -> str:
    """A 10-digit NPI: 9 digits + Luhn check digit computed over 80840+base9."""
    assert len(base9) == 9 and base9.isdigit() and base9[0] in "12"
    return base9 + str(luhn_check_digit("80840" + base9))


def npi_is_valid(value: str) -> bool:
    return (
        len(value) == 10
        and value.isdigit()
        and luhn_check_digit("80840" + value[:9]) == int(value[9])
    )


def money(value: Decimal) -> str:
    """X12 'R' amount: no trailing zeros after the decimal point."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text or "0"


# --------------------------------------------------------------------------
# Claim model
# --------------------------------------------------------------------------


@dataclass
class Line:
    cpt: str
    amount: str  # decimal string, e.g. "100" or "72.50"
    pointers: str | None = "1"  # SV107 text "1:2"; None = no SV107 at all
    dos: str = "20250310"  # DTP*472 date (D8)
    units: str = "1"
    modifiers: tuple[str, ...] = ()
    pos: str = ""  # SV105 (blank = same as CLM05-1)


@dataclass
class Claim:
    clm_id: str
    dx: list[str]  # ICD-10-CM without dots; first is principal (ABK)
    lines: list[Line]
    pos: str = "11"  # CLM05-1 place of service
    include_hi: bool = True  # False -> no HI segment at all
    note: str = ""  # intended fault / purpose, for README

    @property
    def total(self) -> Decimal:
        return sum((Decimal(ln.amount) for ln in self.lines), Decimal("0"))


@dataclass
class Person:
    last: str
    first: str
    street: str
    city: str = "SAMPLETOWN"
    state: str = "NY"
    zip: str = "10001"
    dob: str = "19800101"
    gender: str = "F"
    member_id: str = ""  # subscribers only


@dataclass
class Patient:
    """2000C dependent patient (PAT01 relationship, e.g. 19 = child)."""

    person: Person
    relationship: str = "19"
    claims: list[Claim] = field(default_factory=list)


@dataclass
class Subscriber:
    person: Person
    payer_name: str = "SAMPLE PAYER ONE"
    payer_id: str = "PAYER01"
    sbr09: str = "CI"
    group: str = "GRP00001"
    claims: list[Claim] = field(default_factory=list)  # subscriber is the patient
    dependents: list[Patient] = field(default_factory=list)


@dataclass
class BillingProvider:
    name: str
    npi: str
    tax_id: str
    street: str = "100 SAMPLE ST"
    city: str = "SAMPLETOWN"
    state: str = "NY"
    zip9: str = "100010001"
    taxonomy: str = "207Q00000X"
    subscribers: list[Subscriber] = field(default_factory=list)


# --------------------------------------------------------------------------
# Segment builders
# --------------------------------------------------------------------------


def header_segments(bht03: str) -> list[Segment]:
    """BHT and the 1000A submitter / 1000B receiver loops."""
    return [
        seg("BHT", "0019", "00", bht03, FILE_DATE, FILE_TIME, "CH"),
        seg("NM1", "41", "2", "SAMPLE BILLING SERVICE", "", "", "", "", "46", "SUBMIT01"),
        seg("PER", "IC", "SAMPLE CONTACT", "TE", "5555550100"),
        seg("NM1", "40", "2", "SAMPLE CLEARINGHOUSE", "", "", "", "", "46", "RECV01"),
    ]


def billing_provider_segments(bp: BillingProvider) -> list[Segment]:
    """2000A (without HL) + 2010AA."""
    return [
        seg("PRV", "BI", "PXC", bp.taxonomy),
        seg("NM1", "85", "2", bp.name, "", "", "", "", "XX", bp.npi),
        seg("N3", bp.street),
        seg("N4", bp.city, bp.state, bp.zip9),
        seg("REF", "EI", bp.tax_id),
    ]


def subscriber_segments(sub: Subscriber, is_patient: bool) -> list[Segment]:
    """2000B SBR + 2010BA subscriber + 2010BB payer (without HL)."""
    p = sub.person
    out = [
        seg("SBR", "P", "18" if is_patient else "", sub.group, "", "", "", "", "", sub.sbr09),
        seg("NM1", "IL", "1", p.last, p.first, "", "", "", "MI", p.member_id),
        seg("N3", p.street),
        seg("N4", p.city, p.state, p.zip),
    ]
    if is_patient:
        out.append(seg("DMG", "D8", p.dob, p.gender))
    out.append(seg("NM1", "PR", "2", sub.payer_name, "", "", "", "", "PI", sub.payer_id))
    return out


def patient_segments(pat: Patient) -> list[Segment]:
    """2000C PAT + 2010CA (without HL)."""
    p = pat.person
    return [
        seg("PAT", pat.relationship),
        seg("NM1", "QC", "1", p.last, p.first),
        seg("N3", p.street),
        seg("N4", p.city, p.state, p.zip),
        seg("DMG", "D8", p.dob, p.gender),
    ]


def hi_segment(dx: Sequence[str]) -> Segment:
    """HI with ABK for the first code and ABF for the rest (max 12)."""
    assert 1 <= len(dx) <= 12, dx
    assert all("." not in c for c in dx), dx
    return seg("HI", *(comp("ABK" if i == 0 else "ABF", c) for i, c in enumerate(dx)))


def claim_segments(claim: Claim) -> list[Segment]:
    """2300 CLM (+HI) and its 2400 service lines."""
    out: list[Segment] = [
        seg(
            "CLM",
            claim.clm_id,
            money(claim.total),
            "",
            "",
            comp(claim.pos, "B", "1"),
            "Y",
            "A",
            "Y",
            "Y",
        )
    ]
    if claim.include_hi:
        out.append(hi_segment(claim.dx))
    for n, ln in enumerate(claim.lines, start=1):
        out.append(seg("LX", str(n)))
        sv1: list[Element] = [
            comp("HC", ln.cpt, *ln.modifiers),
            money(Decimal(ln.amount)),
            "UN",
            ln.units,
            ln.pos,
            "",
        ]
        if ln.pointers is not None:
            sv1.append(tuple(ln.pointers.split(":")))
        out.append(seg("SV1", *sv1))
        out.append(seg("DTP", "472", "D8", ln.dos))
    return out


def transaction_segments(
    st02: str,
    providers: Sequence[BillingProvider],
    ig: str = IG_5010_837P,
) -> list[Segment]:
    """ST..SE of one 837P with HL numbering, HL04 child codes and SE01."""
    body: list[Segment] = list(header_segments("BATCH" + st02))
    hl = 0
    for bp in providers:
        hl += 1
        bp_hl = hl
        body.append(seg("HL", str(bp_hl), "", "20", "1"))
        body += billing_provider_segments(bp)
        for sub in bp.subscribers:
            hl += 1
            sub_hl = hl
            has_dep = bool(sub.dependents)
            if has_dep and sub.claims:
                raise ValueError("a subscriber with dependents carries no own claims here")
            body.append(seg("HL", str(sub_hl), str(bp_hl), "22", "1" if has_dep else "0"))
            body += subscriber_segments(sub, is_patient=not has_dep)
            for c in sub.claims:
                body += claim_segments(c)
            for pat in sub.dependents:
                hl += 1
                body.append(seg("HL", str(hl), str(sub_hl), "23", "0"))
                body += patient_segments(pat)
                for c in pat.claims:
                    body += claim_segments(c)
    st = seg("ST", "837", st02, ig)
    se = seg("SE", str(len(body) + 2), st02)
    return [st, *body, se]


def group(
    gs06: str, transactions: Sequence[list[Segment]], ig: str = IG_5010_837P
) -> list[Segment]:
    """GS..GE around transactions (GE01 = number of ST)."""
    out: list[Segment] = [
        seg("GS", "HC", "SENDER01", "RECEIVER01", FILE_DATE, FILE_TIME, gs06, "X", ig)
    ]
    for t in transactions:
        out += t
    out.append(seg("GE", str(len(transactions)), gs06))
    return out


def isa_segment(isa13: str, d: Delimiters, version: str = "00501") -> Segment:
    """ISA with fixed-width fields; ISA11 = repetition (5010) and ISA16 = component."""
    assert len(isa13) == 9 and isa13.isdigit()
    return (
        "ISA",
        "00",
        " " * 10,
        "00",
        " " * 10,
        "ZZ",
        "SENDER01".ljust(15),
        "ZZ",
        "RECEIVER01".ljust(15),
        FILE_DATE[2:],
        FILE_TIME,
        d.repetition if version == "00501" else "U",
        version,
        isa13,
        "0",
        "T",
        d.component,
    )


def interchange(
    isa13: str,
    groups: Sequence[list[Segment]],
    d: Delimiters,
    version: str = "00501",
) -> list[Segment]:
    """ISA..IEA around functional groups (IEA01 = number of GS)."""
    out: list[Segment] = [isa_segment(isa13, d, version)]
    for g in groups:
        out += g
    out.append(seg("IEA", str(len(groups)), isa13))
    return out


def write_837(path: Path, interchanges: Sequence[tuple[list[Segment], Delimiters]]) -> str:
    text = "".join(serialise(segs, d) for segs, d in interchanges)
    path.write_bytes(text.encode("ascii"))
    return text


# --------------------------------------------------------------------------
# Synthetic people and providers
# --------------------------------------------------------------------------

BP_ONE = dict(name="SAMPLE CLINIC ONE", npi=npi("123456789"), tax_id="990000001")
BP_TWO = dict(
    name="SAMPLE THERAPY GROUP",
    npi=npi("198765432"),
    tax_id="990000002",
    street="200 SAMPLE AVE",
    zip9="100010002",
    taxonomy="225100000X",
)


def person(n: int, last: str = "TESTPATIENT", first: str | None = None, **kw: str) -> Person:
    """Synthetic person number n (member id ZZM0000000n)."""
    firsts = ["ALPHA", "BRAVO", "CHARLIE", "DELTA", "ECHO", "FOXTROT", "GOLF", "HOTEL"]
    kw.setdefault("street", f"{100 + n} SAMPLE ST")
    kw.setdefault("member_id", f"ZZM{n:08d}")
    kw.setdefault("gender", "F" if n % 2 else "M")
    kw.setdefault("dob", f"19{70 + n % 25:02d}0{1 + n % 9}15")
    return Person(last=last, first=first or firsts[n % len(firsts)], **kw)


def dependent(n: int) -> Patient:
    return Patient(
        person=Person(
            last="SAMPLEPERSON",
            first=["JUNIOR", "MINOR", "KID"][n % 3],
            street=f"{100 + n} SAMPLE ST",
            dob=f"201{n % 10}0601",
            gender="M" if n % 2 else "F",
        )
    )


def ok_claim(clm_id: str, variant: int = 0, dos: str = "20250310", note: str = "valid") -> Claim:
    """A valid claim; variant picks one of a few code/line patterns."""
    patterns = [
        (["M5450", "M546"], [("99213", "100", "1:2"), ("97110", "50", "1")]),
        (["M542", "M7918"], [("99213", "120", "1:2"), ("97140", "45.50", "2")]),
        (["M5450", "M542", "M546"], [("72146", "850", "1"), ("99213", "100", "2:3")]),
        (["M546"], [("97110", "60", "1")]),
        (["M7918", "M542"], [("97140", "40", "1:2"), ("97110", "40", "2"), ("99213", "95", "1")]),
    ]
    dx, lines = patterns[variant % len(patterns)]
    return Claim(
        clm_id,
        list(dx),
        [Line(cpt, amt, ptr, dos=dos) for cpt, amt, ptr in lines],
        note=note,
    )


def bad_ptr_claim(clm_id: str, dos: str = "20250311", note: str = "") -> Claim:
    """Two HI codes, second line points at HI position 3 (empty)."""
    return Claim(
        clm_id,
        ["M5450", "M546"],
        [Line("99213", "100", "1:2", dos=dos), Line("97110", "50", "1:3", dos=dos)],
        note=note or "bad pointer: line 2 SV107 = 1:3, HI has only 2 codes (3 points nowhere)",
    )


# --------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------


@dataclass
class FixtureSpec:
    name: str
    build: Callable[[Path], None]
    description: str
    delimiters: str
    claims: list[tuple[str, str]] = field(default_factory=list)  # (CLM01, purpose)
    pyx12: str = ""  # expected pyx12 outcome (for README)


def _claims_of(providers: Sequence[BillingProvider]) -> list[Claim]:
    out = []
    for bp in providers:
        for sub in bp.subscribers:
            out += sub.claims
            for pat in sub.dependents:
                out += pat.claims
    return out


# ---- sample.837 ----------------------------------------------------------


def sample_providers() -> list[BillingProvider]:
    ok1 = Claim(
        "SAMPLE-OK-1",
        ["M5450", "M546"],
        [Line("99213", "100", "1:2"), Line("97110", "50", "1")],
        note="valid; subscriber is the patient (2000B)",
    )
    ok2 = Claim(
        "SAMPLE-OK-2",
        ["M542", "M7918"],
        [Line("99213", "120", "1:2", dos="20250312"), Line("97140", "45.50", "2", dos="20250312")],
        note="valid; dependent patient loop 2000C (HL*4*3*23*0, PAT*19)",
    )
    ok3 = Claim(
        "SAMPLE-OK-3",
        ["M5450", "M542", "M546"],
        [Line("72146", "850", "3", dos="20250313"), Line("99213", "100", "1:2", dos="20250313")],
        note="valid; second billing provider",
    )
    badptr = Claim(
        "SAMPLE-BADPTR",
        ["M546", "M7918"],
        [Line("97110", "50", "1:2", dos="20250314"), Line("97140", "45", "1:3", dos="20250314")],
        note="line 2 SV107 = 1:3 but HI has only 2 codes (pointer 3 points nowhere)",
    )
    noptr = Claim(
        "SAMPLE-NOPTR",
        ["M542"],
        [Line("99213", "100", "1", dos="20250314"), Line("97110", "50", None, dos="20250314")],
        note="line 2 has no SV107 at all",
    )
    bp1 = BillingProvider(**BP_ONE)
    bp1.subscribers = [
        Subscriber(person(1), claims=[ok1]),
        Subscriber(
            person(2, last="SAMPLEPERSON", first="PARENT"),
            payer_name="SAMPLE PAYER TWO",
            payer_id="PAYER02",
            group="GRP00002",
            dependents=[
                Patient(
                    Person("SAMPLEPERSON", "MINOR", "102 SAMPLE ST", dob="20110601", gender="M"),
                    "19",
                    claims=[ok2],
                )
            ],
        ),
    ]
    bp2 = BillingProvider(**BP_TWO)
    bp2.subscribers = [Subscriber(person(3), claims=[ok3, badptr, noptr])]
    return [bp1, bp2]


def build_sample(out: Path) -> None:
    st = transaction_segments("0001", sample_providers())
    write_837(out / "sample.837", [(interchange("000000001", [group("1", [st])], STD_LF), STD_LF)])


# ---- demo.837 -------------------------------------------------------------
# The README's first scrub: the sample's five claims, sent and dated in November 2026, so that a
# scrub as of today shows their own pointer errors and no timely-filing warning. Only the dates
# differ from sample.837 (ISA09, GS04, BHT04 and every DTP of March 2025 move to November 2026).


def build_demo(out: Path) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        build_sample(Path(tmp))
        text = (Path(tmp) / "sample.837").read_text(encoding="ascii")
    lines = []
    for seg in text.split("~"):
        if seg.startswith("ISA*"):
            els = seg.split("*")
            els[9] = "26" + "11" + els[9][4:]
            seg = "*".join(els)
        else:
            seg = seg.replace("202503", "202611")
        lines.append(seg)
    (out / "demo.837").write_bytes("~".join(lines).encode("ascii"))


# ---- clean_single.837 ----------------------------------------------------


def build_clean_single(out: Path) -> None:
    c = Claim(
        "CLEAN-1",
        ["M5450", "M546"],
        [Line("99213", "100", "1:2"), Line("97110", "50", "1")],
        note="valid, 2 service lines",
    )
    bp = BillingProvider(**BP_ONE, subscribers=[Subscriber(person(1), claims=[c])])
    st = transaction_segments("0001", [bp])
    write_837(
        out / "clean_single.837",
        [(interchange("000000002", [group("1", [st])], STD_NOEOL), STD_NOEOL)],
    )


# ---- pointers.837 --------------------------------------------------------


def pointer_claims() -> list[Claim]:
    L = Line
    three = ["M5450", "M546", "M542"]
    six = ["M5450", "M546", "M542", "M7918", "M5416", "M25511"]
    return [
        Claim(
            "DP001-FAIL",
            ["M5450", "M546"],
            [L("99213", "100", "1:2"), L("97110", "50", None)],
            note="DP001: line 2 has no SV107",
        ),
        Claim(
            "DP001-PASS",
            ["M5450", "M546"],
            [L("99213", "100", "1:2"), L("97110", "50", "2")],
            note="valid",
        ),
        Claim(
            "DP002-FAIL",
            three,
            [L("99213", "100", "1:2:3"), L("97110", "50", "1:4")],
            note="DP002: line 2 SV107 = 1:4, HI has 3 codes (pointer past the last code)",
        ),
        Claim(
            "DP002-PASS",
            three,
            [L("99213", "100", "1:2"), L("97110", "50", "1:3")],
            note="valid; pointer to the last of 3 codes",
        ),
        Claim(
            "DP003-FAIL",
            ["M5450", "M546"],
            [L("99213", "100", "1:2"), L("97110", "50", "A")],
            note="DP003: line 2 SV107 = A (non-numeric pointer)",
        ),
        Claim(
            "DP003-FAIL-13",
            ["M5450", "M546"],
            [L("99213", "100", "1:2"), L("97110", "50", "13")],
            note="DP003: line 2 SV107 = 13 (outside 1-12)",
        ),
        Claim(
            "DP003-FAIL-0",
            ["M5450", "M546"],
            [L("99213", "100", "1:2"), L("97110", "50", "0")],
            note="DP003: line 2 SV107 = 0 (outside 1-12)",
        ),
        Claim(
            "DP003-PASS",
            ["M5450", "M546"],
            [L("99213", "100", "1"), L("97110", "50", "2")],
            note="valid",
        ),
        Claim(
            "DP004-FAIL",
            six,
            [L("99213", "100", "1:2:3:4:5"), L("97110", "50", "6")],
            note="DP004: line 1 SV107 has 5 pointer components 1:2:3:4:5 (max 4); HI has 6 codes",
        ),
        Claim(
            "DP004-PASS",
            six,
            [L("99213", "100", "1:2:3:4"), L("97110", "50", "5:6")],
            note="valid; 4 pointers, HI has 6 codes",
        ),
        Claim(
            "DP005-FAIL",
            ["M5450", "M546"],
            [L("99213", "100", "1:1"), L("97110", "50", "2")],
            note="DP005: line 1 SV107 = 1:1 (duplicate pointer)",
        ),
        Claim(
            "DP005-PASS",
            ["M5450", "M546"],
            [L("99213", "100", "1:2"), L("97110", "50", "2:1")],
            note="valid",
        ),
        Claim(
            "DP006-FAIL",
            ["M5450"],
            [L("99213", "100", "1"), L("97110", "50", "1")],
            include_hi=False,
            note="DP006: no HI segment at all (lines carry SV107 = 1, which then points nowhere)",
        ),
        Claim(
            "DP006-PASS",
            ["M5450"],
            [L("99213", "100", "1"), L("97110", "50", "1")],
            note="valid; HI with one code",
        ),
        Claim(
            "DP007-FAIL",
            ["M5450", "M546"],
            [],
            note="DP007: claim with no service line (no LX/SV1) at all",
        ),
        Claim(
            "DP007-PASS",
            ["M5450"],
            [L("99213", "100", "1")],
            note="valid; exactly one service line",
        ),
    ]


def pointer_file_order(claims: list[Claim]) -> list[Claim]:
    """DP004 goes last: pyx12 4.0 crashes (IndexError) on DP004-FAIL's
    five-component SV107 and validates nothing after it, so keeping it at
    the end lets pyx12 check every other claim of pointers.837."""
    last = ["DP004-PASS", "DP004-FAIL"]
    by_id = {c.clm_id: c for c in claims}
    return [c for c in claims if c.clm_id not in last] + [by_id[i] for i in last if i in by_id]


def build_pointers(out: Path) -> None:
    claims = pointer_file_order(pointer_claims())
    # one subscriber per claim so that each claim is in its own 2000B
    subs = [Subscriber(person(i + 1), claims=[c]) for i, c in enumerate(claims)]
    bp = BillingProvider(**BP_ONE, subscribers=subs)
    st = transaction_segments("0001", [bp])
    write_837(
        out / "pointers.837", [(interchange("000000003", [group("1", [st])], STD_LF), STD_LF)]
    )


# ---- multi.837 -----------------------------------------------------------

MULTI_BAD = ("MULTI-4", "MULTI-11")


def multi_layout() -> list[tuple[str, list[tuple[str, list[BillingProvider]]]]]:
    """[(isa13, [(gs06, [(st02, providers)...])...])...] built from a claim counter."""
    counter = iter(range(1, 100))
    pnum = iter(range(11, 200))

    def claims(n: int) -> list[Claim]:
        out = []
        for _ in range(n):
            k = next(counter)
            cid = f"MULTI-{k}"
            day = f"202503{(k % 20) + 1:02d}"
            if cid in MULTI_BAD:
                out.append(
                    bad_ptr_claim(
                        cid,
                        dos=day,
                        note="bad pointer: line 2 SV107 = 1:3, HI has only 2 codes "
                        "(pointer to empty HI position 3)",
                    )
                )
            else:
                out.append(ok_claim(cid, variant=k, dos=day))
        return out

    def sub(n_claims: int, payer: int = 1, sbr09: str = "CI") -> Subscriber:
        return Subscriber(
            person(next(pnum)),
            payer_name=f"SAMPLE PAYER {['ONE', 'TWO', 'THREE'][payer - 1]}",
            payer_id=f"PAYER0{payer}",
            sbr09=sbr09,
            claims=claims(n_claims),
        )

    def dep_sub(n_claims: int) -> Subscriber:
        s = Subscriber(
            person(next(pnum), last="SAMPLEPERSON"),
            payer_name="SAMPLE PAYER TWO",
            payer_id="PAYER02",
        )
        d = dependent(next(pnum))
        d.person.street = s.person.street  # lives with the subscriber
        d.claims = claims(n_claims)
        s.dependents = [d]
        return s

    def bp(kind: dict, *subs: Subscriber) -> BillingProvider:
        return BillingProvider(**kind, subscribers=list(subs))

    # interchange 1, group 1: ST 0001 (1 claim), ST 0002 (3, patient loop), ST 0003 (2)
    g1 = [
        ("0001", [bp(BP_ONE, sub(1))]),  # MULTI-1
        (
            "0002",
            [bp(BP_ONE, sub(1), dep_sub(2))],
        ),  # MULTI-2, MULTI-3 (patient), MULTI-4 (patient) bad
        ("0003", [bp(BP_TWO, sub(2, payer=3))]),  # MULTI-5, MULTI-6
    ]
    # interchange 1, group 2: ST 0004 (2 claims over 2 providers), ST 0005 (3 claims)
    g2 = [
        ("0004", [bp(BP_ONE, sub(1)), bp(BP_TWO, sub(1, sbr09="BL"))]),  # MULTI-7, MULTI-8
        ("0005", [bp(BP_TWO, sub(3))]),  # MULTI-9, MULTI-10, MULTI-11 (bad)
    ]
    # interchange 2, group 1: ST 0006 (2 claims, patient loop), ST 0007 (1 claim)
    g3 = [
        ("0006", [bp(BP_ONE, dep_sub(1), sub(1))]),  # MULTI-12 (patient), MULTI-13
        ("0007", [bp(BP_TWO, sub(1, payer=2))]),  # MULTI-14
    ]
    return [("000000101", [("1", g1), ("2", g2)]), ("000000102", [("1", g3)])]


def build_multi(out: Path) -> None:
    parts = []
    for isa13, groups in multi_layout():
        gs_list = []
        for gs06, sts in groups:
            gs_list.append(group(gs06, [transaction_segments(st02, prov) for st02, prov in sts]))
        parts.append((interchange(isa13, gs_list, STD_CRLF), STD_CRLF))
    write_837(out / "multi.837", parts)


# ---- duplicates.837 ------------------------------------------------------


def duplicate_layout() -> list[tuple[str, list[Claim]]]:
    """(ISA13, claims of its one subscriber) for the two interchanges of duplicates.837."""
    dup1 = [Line("99213", "100", "1:2"), Line("97110", "50", "1")]
    first = [
        Claim("DUP-1", ["M5450", "M546"], list(dup1), note="valid; sent first"),
        Claim("DUP-1", ["M5450", "M546"], list(dup1),
              note="the same claim again (PE001, rejected: points at the first, position 19 of ST 0001)"),
        Claim("DUP-2", ["M542"], [Line("97140", "45", "1", dos="20250312")], note="valid"),
        Claim("DUP-2", ["M542"], [Line("97140", "45", "1", dos="20250313")],
              note="another claim (other date) under the same CLM01 (PE002 warning, accepted)"),
    ]
    second = [
        Claim("DUP-3", ["M546"], [Line("97110", "60", "1", dos="20250314")], note="valid"),
        Claim("DUP-1", ["M5450", "M546"], list(dup1),
              note="DUP-1 once more, in the second interchange (PE001 across interchanges, rejected)"),
    ]
    return [("000000301", first), ("000000302", second)]


def build_duplicates(out: Path) -> None:
    parts = []
    for isa13, claims in duplicate_layout():
        bp = BillingProvider(**BP_ONE, subscribers=[Subscriber(person(1), claims=claims)])
        parts.append((interchange(isa13, [group("1", [transaction_segments("0001", [bp])])], STD_LF), STD_LF))
    write_837(out / "duplicates.837", parts)


# ---- delimiter variants --------------------------------------------------

DELIM_VARIANTS: dict[str, tuple[str, Delimiters, str]] = {
    # variant -> (file name, delimiters, description)
    "PIPE": (
        "delims_pipe.837",
        Delimiters(element="|", component=">", repetition="^", segment="~", eol="\r\n"),
        "element `|`, component `>`, repetition `^`, terminator `~`, CRLF after each segment",
    ),
    "TILDE": (
        "delims_tilde.837",
        Delimiters(element="~", component="^", repetition="U", segment="_", eol="\n"),
        "element `~`, component `^`, ISA11 `U`, terminator `_`, LF after each segment "
        "(like imsweb x12_valid_different_separators.txt). ISA11 is the letter U, which also "
        "occurs in data (SV103 `UN`), so it must not be used as a repetition separator",
    ),
    "NEWLINE": (
        "delims_newline.837",
        Delimiters(element="*", component=":", repetition="^", segment="\n", eol=""),
        "element `*`, component `:`, repetition `^`, segment terminator is LF itself (no `~`)",
    ),
    "CR": (
        "delims_cr.837",
        Delimiters(element="*", component=":", repetition="^", segment="~", eol="\r"),
        "`* : ^ ~` with CR only (no LF) after each segment",
    ),
    "BOM": (
        "delims_bom.837",
        Delimiters(element="*", component=":", repetition="^", segment="~", eol="\r\n"),
        "UTF-8 byte order mark (EF BB BF) before ISA, then `* : ^ ~` CRLF",
    ),
}


def delim_claims(variant: str) -> list[Claim]:
    return [
        ok_claim(f"DLM-{variant}-OK-1", 0),
        ok_claim(f"DLM-{variant}-OK-2", 1, dos="20250311"),
        bad_ptr_claim(f"DLM-{variant}-BAD", dos="20250312"),
    ]


def build_delims(out: Path, variant: str, isa13: str) -> None:
    fname, d, _ = DELIM_VARIANTS[variant]
    c1, c2, bad = delim_claims(variant)
    bp = BillingProvider(
        **BP_ONE,
        subscribers=[Subscriber(person(1), claims=[c1, c2]), Subscriber(person(2), claims=[bad])],
    )
    st = transaction_segments("0001", [bp])
    text = serialise(interchange(isa13, [group("1", [st])], d), d)
    data = text.encode("ascii")
    if variant == "BOM":
        data = b"\xef\xbb\xbf" + data
    (out / fname).write_bytes(data)


# ---- bad inputs ----------------------------------------------------------


def small_valid_837(clm_prefix: str, isa13: str, d: Delimiters = STD_LF, n_claims: int = 1) -> str:
    claims = [ok_claim(f"{clm_prefix}-{i + 1}", i) for i in range(n_claims)]
    bp = BillingProvider(**BP_ONE, subscribers=[Subscriber(person(1), claims=claims)])
    st = transaction_segments("0001", [bp])
    return serialise(interchange(isa13, [group("1", [st])], d), d)


def build_bad_empty(out: Path) -> None:
    (out / "bad_empty.837").write_bytes(b"")


def build_bad_not_x12(out: Path) -> None:
    text = (
        "This is not an X12 file.\n"
        "It is a few lines of plain prose that a user might upload by mistake,\n"
        "for example a cover letter saved with the wrong extension.\n"
        "There is no ISA segment, no delimiters and no claims here.\n"
    )
    (out / "bad_not_x12.837").write_bytes(text.encode("ascii"))


def build_bad_truncated(out: Path) -> None:
    text = small_valid_837("TRUNC", "000000201", STD_LF, n_claims=3)
    start = text.index("CLM*TRUNC-2*")
    sv1 = text.index("SV1*", start)
    cut = sv1 + len("SV1*HC:99")  # inside the first SV1 of the second claim
    (out / "bad_truncated.837").write_bytes(text[:cut].encode("ascii"))


def build_bad_837i(out: Path) -> None:
    ig = "005010X223A2"
    p = person(1)
    body: list[Segment] = [
        *header_segments("BATCH837I"),
        seg("HL", "1", "", "20", "1"),
        seg("PRV", "BI", "PXC", "282N00000X"),
        seg("NM1", "85", "2", "SAMPLE GENERAL HOSPITAL", "", "", "", "", "XX", npi("112345678")),
        seg("N3", "300 SAMPLE AVE"),
        seg("N4", "SAMPLETOWN", "NY", "100010003"),
        seg("REF", "EI", "990000003"),
        seg("HL", "2", "1", "22", "0"),
        seg("SBR", "P", "18", "GRP00001", "", "", "", "", "", "CI"),
        seg("NM1", "IL", "1", p.last, p.first, "", "", "", "MI", p.member_id),
        seg("N3", p.street),
        seg("N4", p.city, p.state, p.zip),
        seg("DMG", "D8", p.dob, p.gender),
        seg("NM1", "PR", "2", "SAMPLE PAYER ONE", "", "", "", "", "PI", "PAYER01"),
        # institutional CLM: CLM05 = facility type 13 : qualifier A : frequency 1; CLM06 unused
        seg("CLM", "INST-1", "1250", "", "", comp("13", "A", "1"), "", "A", "Y", "Y"),
        seg("DTP", "434", "RD8", "20250310-20250310"),
        seg("CL1", "1", "7", "01"),
        seg("HI", comp("ABK", "M5450")),
        seg("HI", comp("ABJ", "M5450")),
        seg("NM1", "71", "1", "SAMPLEDOCTOR", "ATTENDING", "", "", "", "XX", npi("187654321")),
        seg("LX", "1"),
        seg("SV2", "0450", comp("HC", "99283"), "750", "UN", "1"),
        seg("DTP", "472", "D8", "20250310"),
        seg("LX", "2"),
        seg("SV2", "0320", comp("HC", "72146"), "500", "UN", "1"),
        seg("DTP", "472", "D8", "20250310"),
    ]
    st = [seg("ST", "837", "0001", ig), *body, seg("SE", str(len(body) + 2), "0001")]
    segs = interchange("000000202", [group("1", [st], ig=ig)], STD_LF)
    (out / "bad_837i.837").write_bytes(serialise(segs, STD_LF).encode("ascii"))


def build_bad_utf16(out: Path) -> None:
    text = small_valid_837("UTF16", "000000203", STD_CRLF, n_claims=1)
    (out / "bad_utf16.837").write_bytes(b"\xff\xfe" + text.encode("utf-16-le"))


def build_bad_binary(out: Path) -> None:
    """512 bytes from SHA-256 in counter mode (seed fixed), with NULs."""
    seed = b"x12-scrubber-fixture-bad_binary-v1"
    data = bytearray()
    i = 0
    while len(data) < 512:
        data += hashlib.sha256(seed + i.to_bytes(4, "big")).digest()
        i += 1
    data = data[:512]
    for pos in range(0, 512, 37):  # make sure there are NUL bytes throughout
        data[pos] = 0
    (out / "bad_binary.837").write_bytes(bytes(data))


def build_bad_4010(out: Path) -> None:
    ig = "004010X098A1"
    p = person(1)
    body: list[Segment] = [
        seg("BHT", "0019", "00", "BATCH4010", FILE_DATE, FILE_TIME, "CH"),
        seg("REF", "87", ig),
        seg("NM1", "41", "2", "SAMPLE BILLING SERVICE", "", "", "", "", "46", "SUBMIT01"),
        seg("PER", "IC", "SAMPLE CONTACT", "TE", "5555550100"),
        seg("NM1", "40", "2", "SAMPLE CLEARINGHOUSE", "", "", "", "", "46", "RECV01"),
        seg("HL", "1", "", "20", "1"),
        seg("NM1", "85", "2", "SAMPLE CLINIC ONE", "", "", "", "", "24", "990000001"),
        seg("N3", "100 SAMPLE ST"),
        seg("N4", "SAMPLETOWN", "NY", "10001"),
        seg("HL", "2", "1", "22", "0"),
        seg("SBR", "P", "18", "GRP00001", "", "", "", "", "", "CI"),
        seg("NM1", "IL", "1", p.last, p.first, "", "", "", "MI", p.member_id),
        seg("N3", p.street),
        seg("N4", p.city, p.state, p.zip),
        seg("DMG", "D8", p.dob, p.gender),
        seg("NM1", "PR", "2", "SAMPLE PAYER ONE", "", "", "", "", "PI", "PAYER01"),
        seg("CLM", "OLD4010-1", "150", "", "", comp("11", "", "1"), "Y", "A", "Y", "Y", "C"),
        seg("HI", comp("BK", "7245"), comp("BF", "7231")),
        seg("LX", "1"),
        seg("SV1", comp("HC", "99213"), "100", "UN", "1", "", "", comp("1", "2")),
        seg("DTP", "472", "D8", "20250310"),
        seg("LX", "2"),
        seg("SV1", comp("HC", "97110"), "50", "UN", "1", "", "", "1"),
        seg("DTP", "472", "D8", "20250310"),
    ]
    st = [seg("ST", "837", "0001"), *body, seg("SE", str(len(body) + 2), "0001")]
    segs = interchange("000000204", [group("1", [st], ig=ig)], STD_LF, version="00401")
    (out / "bad_4010.837").write_bytes(serialise(segs, STD_LF).encode("ascii"))


# --------------------------------------------------------------------------
# Registry + README
# --------------------------------------------------------------------------


def _notes(claims: Sequence[Claim]) -> list[tuple[str, str]]:
    return [(c.clm_id, c.note) for c in claims]


def _multi_claims() -> list[tuple[str, str]]:
    out = []
    for isa13, groups in multi_layout():
        for gs06, sts in groups:
            for st02, prov in sts:
                for bp in prov:
                    for sub in bp.subscribers:
                        where = f"ISA13 {isa13}, GS06 {gs06}, ST02 {st02}"
                        for c in sub.claims:
                            out.append((c.clm_id, f"{c.note} ({where}, SBR09 {sub.sbr09})"))
                        for pat in sub.dependents:
                            for c in pat.claims:
                                out.append((c.clm_id, f"{c.note}; patient loop 2000C ({where})"))
    return sorted(out, key=lambda t: int(t[0].split("-")[1]))


def fixture_specs() -> list[FixtureSpec]:
    specs = [
        FixtureSpec(
            "sample.837",
            build_sample,
            "The README demo. 1 ISA / 1 GS / 1 ST (0001); 2 billing providers (2000A), "
            "3 subscribers (2000B), one of them with a dependent patient (2000C, PAT*19): "
            "HL*1**20*1, HL*2*1*22*0, HL*3*1*22*1, HL*4*3*23*0, HL*5**20*1, HL*6*5*22*0.",
            "`* : ^ ~`, LF after each segment",
            _notes(_claims_of(sample_providers())),
            "one error, on SAMPLE-NOPTR's second SV1 (pyx12's 837P map makes SV107 required): "
            'seg code 8 `Mandatory composite "Composite Diagnosis Code Pointer" (SV107) is '
            "missing`. SAMPLE-BADPTR is structurally valid for pyx12.",
        ),
        FixtureSpec(
            "demo.837",
            build_demo,
            "The README's first scrub: sample.837's claims dated November 2026 (ISA09, GS04, BHT04 "
            "and the DTPs), so that a scrub as of December 2026 shows only their pointer errors.",
            "`* : ^ ~`, LF after each segment",
            _notes(_claims_of(sample_providers())),
            "as for sample.837: one error, on SAMPLE-NOPTR's second SV1 (SV107 missing).",
        ),
        FixtureSpec(
            "duplicates.837",
            build_duplicates,
            "Duplicate claims (PE001, PE002). 2 ISA (000000301, 000000302), each 1 GS / 1 ST "
            "(0001), one billing provider and one subscriber who is the patient: the same claim "
            "twice in the first interchange, a CLM01 used by two different claims, and the "
            "first claim once more in the second interchange (`--jobs` cannot split such a file: "
            "it is scrubbed in one process).",
            "`* : ^ ~`, LF after each segment",
            _notes([c for _, claims in duplicate_layout() for c in claims]),
            "0 errors (duplicates are not a structural matter)",
        ),
        FixtureSpec(
            "clean_single.837",
            build_clean_single,
            "One claim, two service lines, everything valid.",
            "`* : ^ ~`, no line breaks at all (one line)",
            [("CLEAN-1", "valid, 2 service lines (99213 -> 1:2, 97110 -> 1)")],
            "0 errors",
        ),
        FixtureSpec(
            "pointers.837",
            build_pointers,
            "One ISA/GS/ST, one billing provider, one subscriber (2000B) per claim; one FAIL "
            "and one PASS claim per diagnosis-pointer rule DP001-DP007. PASS claims are "
            "entirely valid; each FAIL claim has only the one problem named.",
            "`* : ^ ~`, LF after each segment",
            _notes(pointer_file_order(pointer_claims())),
            'errors only on FAIL claims: DP001-FAIL seg 8 `Mandatory composite "Composite '
            'Diagnosis Code Pointer" (SV107) is missing`; DP003-FAIL ele 7 `(A) is not a valid '
            'code for Diagnosis Code Pointer (SV107-01)` and ele 6 `Data element "Diagnosis '
            'Code Pointer" (SV107-01) is type N0, contains an invalid character(A)`; '
            "DP003-FAIL-13 / DP003-FAIL-0 ele 7 `(13)` / `(0) is not a valid code for Diagnosis "
            'Code Pointer (SV107-01)`; DP006-FAIL seg 3 `Mandatory segment "Health Care '
            'Diagnosis Code" (HI) missing` (on its first LX); DP007-FAIL seg 3 `Mandatory loop '
            '"Service Line Number" (2400) missing` (on the next HL). DP004-FAIL makes pyx12 4.0 '
            "crash with `IndexError: list index out of range` (map_if/_segment.py, "
            "`child_node.children[subele_count + 1]` in its too-many-sub-elements branch), "
            "which is why DP004-PASS/DP004-FAIL are the last two claims. DP002-FAIL, DP005-FAIL "
            "and every PASS claim: no pyx12 error (also when each claim is validated alone).",
        ),
        FixtureSpec(
            "multi.837",
            build_multi,
            "2 interchanges: ISA13 000000101 with 2 functional groups (GS06 1: ST 0001-0003; "
            "GS06 2: ST 0004-0005) and ISA13 000000102 with 1 group (GS06 1: ST 0006-0007); "
            "1-3 claims per ST; patient loops (2000C) in ST 0002 and 0006; "
            f"exactly two bad claims: {MULTI_BAD[0]} and {MULTI_BAD[1]}.",
            "`* : ^ ~`, CRLF after each segment",
            _multi_claims(),
            "0 errors (the bad pointers are not structural errors)",
        ),
    ]
    for i, (variant, (fname, _d, desc)) in enumerate(DELIM_VARIANTS.items()):
        isa13 = f"{301 + i:09d}"
        specs.append(
            FixtureSpec(
                fname,
                (lambda out, v=variant, n=isa13: build_delims(out, v, n)),
                f"Delimiter/line-style variant {variant}: 1 ISA/GS/ST (ISA13 {isa13}), "
                "2 subscribers, 2 valid claims and 1 claim with a bad pointer.",
                desc,
                _notes(delim_claims(variant)),
                (
                    "pyx12 cannot read it when given the path (it opens files as ASCII): "
                    "`UnicodeDecodeError: 'ascii' codec can't decode byte 0xef in position 0: "
                    "ordinal not in range(128)`; 0 errors once the BOM is stripped"
                    if variant == "BOM"
                    else "0 errors (the bad pointer is not a structural error)"
                ),
            )
        )
    specs += [
        FixtureSpec(
            "bad_empty.837",
            build_bad_empty,
            "Unusable: 0 bytes.",
            "n/a",
            [],
            'pyx12 refuses it: `"<path>" does not look like an X12 data file` '
            "(X12Reader's `First line does not begin with 'ISA'` is swallowed by x12n_document)",
        ),
        FixtureSpec(
            "bad_not_x12.837",
            build_bad_not_x12,
            "Unusable: four lines of plain English prose, no ISA.",
            "n/a (LF text)",
            [],
            'pyx12 refuses it: `"<path>" does not look like an X12 data file`',
        ),
        FixtureSpec(
            "bad_truncated.837",
            build_bad_truncated,
            "Unusable: a valid 3-claim file (TRUNC-1..3) cut inside the first SV1 of the second "
            "claim (`SV1*HC:99` with no terminator): no SE, GE or IEA.",
            "`* : ^ ~`, LF",
            [
                ("TRUNC-1", "complete and valid"),
                ("TRUNC-2", "cut off after LX*1 (partial SV1); TRUNC-3 and SE/GE/IEA are missing"),
            ],
            "3 envelope errors, all reported on the last complete segment (LX*1 of TRUNC-2): "
            '`Mandatory segment "Interchange Control Trailer" (IEA=000000201) missing` (isa 023), '
            '`Mandatory segment "Functional Group Trailer" (GE=1) missing` (gs 3), '
            '`Mandatory segment "Transaction Set Trailer" (SE=0001) missing` (st 2). The partial '
            "`SV1*HC:99` (no terminator) is dropped silently; the missing SV1 is not reported.",
        ),
        FixtureSpec(
            "bad_837i.837",
            build_bad_837i,
            "Unusable as 837P: an 837I (GS08 and ST03 005010X223A2), institutional CLM "
            "(CLM05 13:A:1), DTP*434, CL1, HI ABK + ABJ, attending NM1*71, SV2 service lines "
            "with revenue codes 0450/0320.",
            "`* : ^ ~`, LF",
            [("INST-1", "institutional claim, SV2 lines")],
            "0 errors: pyx12 picks its 837I map (837Q3.I.5010.X223.A1.xml) from GS08 and "
            "accepts it as a valid 837I; the scrubber must reject it as not an 837P",
        ),
        FixtureSpec(
            "bad_utf16.837",
            build_bad_utf16,
            "Unusable: a valid 1-claim 837P encoded as UTF-16LE with BOM (FF FE).",
            "`* : ^ ~` CRLF, UTF-16LE",
            [("UTF16-1", "valid claim, but the file is UTF-16")],
            "pyx12 cannot read it: `UnicodeDecodeError: 'ascii' codec can't decode byte 0xff in "
            "position 0: ordinal not in range(128)`",
        ),
        FixtureSpec(
            "bad_binary.837",
            build_bad_binary,
            "Unusable: 512 deterministic pseudo-random bytes (SHA-256 counter stream, fixed seed) "
            "with a NUL every 37 bytes.",
            "n/a",
            [],
            "pyx12 cannot read it: `UnicodeDecodeError: 'ascii' codec can't decode byte 0xf4 in "
            "position 1: ordinal not in range(128)`",
        ),
        FixtureSpec(
            "bad_4010.837",
            build_bad_4010,
            "Unusable: an 837P in the old 4010 version (ISA12 00401, GS08 004010X098A1, "
            "ST without ST03, REF*87, ICD-9 HI BK/BF).",
            "`* : ~` (ISA11 `U`), LF",
            [("OLD4010-1", "4010 claim with ICD-9 codes")],
            "0 errors: pyx12 picks its 4010 map (837.4010.X098.A1.xml) and accepts it; the "
            "scrubber must reject it as not 005010X222A1",
        ),
    ]
    return specs


def readme_text(specs: Sequence[FixtureSpec]) -> str:
    lines = [
        "# EDI fixtures",
        "",
        "Synthetic X12 837 files for tests. **Generated by `tools/make_fixtures.py` "
        "(edit the script, then run `python tools/make_fixtures.py`; "
        "`--check` tells whether this folder is up to date).** Nothing here is real: people are "
        "TESTPATIENT / SAMPLEPERSON, member ids ZZM..., addresses `1xx SAMPLE ST`, payers PAYER0x, "
        "NPIs made up with valid check digits.",
        "",
        "Common to the 837P files: ISA exactly 106 characters including the terminator, ISA12 "
        "`00501`, ISA15 `T`, GS08 and ST03 `005010X222A1`, SE01/GE01/IEA01 and control numbers "
        "right, HL parent/child codes right, HI `ABK` then `ABF` with ICD-10-CM codes without dots "
        "(M5450, M546, M542, M7918, M5416, M25511), CLM02 = sum of SV102, CLM05 `11:B:1`, "
        "dates of service (DTP*472) in March 2025, CPT 99213/97110/97140/72146, SBR09 `CI` "
        "(one `BL` in multi.837), payer NM1*PR ... PI*PAYER0x.",
        "",
        "pyx12 notes: pyx12 4.0's 837P map (837.5010.X222.A1.xml) makes SV107 *required* and "
        "restricts SV107-01..04 to the codes 1-12, so a line without SV107 and a pointer `A`, "
        "`0` or `13` are pyx12 errors too, and a fifth pointer crashes pyx12 4.0 (IndexError); "
        "a pointer past the last HI code (`1:3` with 2 codes) or a duplicate pointer (`1:1`) "
        "are not. `tests/test_fixtures_valid.py` checks that pyx12 reports no error outside the "
        "intentionally bad claims.",
        "",
    ]
    for s in specs:
        lines += [f"## {s.name}", "", s.description, "", f"- Delimiters / lines: {s.delimiters}"]
        if s.pyx12:
            lines.append(f"- pyx12: {s.pyx12}")
        if s.claims:
            lines += ["", "| CLM01 | purpose |", "|---|---|"]
            lines += [f"| `{cid}` | {purpose} |" for cid, purpose in s.claims]
        lines.append("")
    return "\n".join(lines)


def write_all(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    specs = fixture_specs()
    for s in specs:
        s.build(out)
    (out / "README.md").write_text(readme_text(specs), encoding="utf-8", newline="\n")
    return [out / s.name for s in specs] + [out / "README.md"]


def self_check() -> None:
    """Sanity checks of the identifiers used (not a validator)."""
    for p in [BP_ONE["npi"], BP_TWO["npi"]]:
        assert npi_is_valid(p), p
    assert npi("123456789") == "1234567893"  # the CMS example NPI


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="output folder (default fixtures/edi)"
    )
    ap.add_argument("--check", action="store_true", help="compare with --out instead of writing")
    ap.add_argument("--list", action="store_true", help="print claim ids and intended faults")
    args = ap.parse_args(argv)
    self_check()
    if args.list:
        for s in fixture_specs():
            print(s.name)
            for cid, purpose in s.claims:
                print(f"  {cid}: {purpose}")
        return 0
    if args.check:
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            fresh = write_all(Path(tmp))
            stale = [
                f.name
                for f in fresh
                if not (args.out / f.name).exists()
                or (args.out / f.name).read_bytes() != f.read_bytes()
            ]
        if stale:
            print("stale or missing: " + ", ".join(stale))
            return 1
        print(f"{args.out}: up to date ({len(fresh)} files)")
        return 0
    for f in write_all(args.out):
        print(f"wrote {f.relative_to(REPO) if f.is_relative_to(REPO) else f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
