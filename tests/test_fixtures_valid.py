"""The synthetic EDI fixtures are what fixtures/edi/README.md says they are.

* pyx12 (the reference X12 validator) reports no error in the "valid" fixtures
  (sample, clean_single, multi, delims_*) outside the claims that are bad on
  purpose, and exactly the documented errors on those claims;
* in pointers.837 every *-PASS claim is clean for pyx12 and every *-FAIL claim
  gets exactly the documented pyx12 outcome (also when validated alone);
* fixtures/edi is up to date with tools/make_fixtures.py (byte for byte), and
  the generator's invariants hold (ISA length, CLM02 = sum of SV102, NPI check
  digits, ABK/ABF without dots, claim ids as documented).
"""

from __future__ import annotations

import importlib.util
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from pyx12check import format_errors, pyx12_errors

REPO = Path(__file__).resolve().parent.parent
EDI = REPO / "fixtures" / "edi"


def _load_make_fixtures():
    spec = importlib.util.spec_from_file_location(
        "make_fixtures", REPO / "tools" / "make_fixtures.py"
    )
    mod = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("make_fixtures", mod)
    spec.loader.exec_module(mod)
    return mod


mf = _load_make_fixtures()


def _claim(err: dict) -> str | None:
    """The claim an error belongs to (missing-loop errors land on the next HL/SE)."""
    return err.get("claim_id") or err.get("last_claim_id")


def _sig(err: dict) -> tuple:
    return (_claim(err), err["level"], err["code"])


# ---------------------------------------------------------------------------
# Files that must be clean for pyx12 apart from intentionally bad claims
# ---------------------------------------------------------------------------

# file -> (claims that are bad on purpose, pyx12 errors expected from them)
VALID_FILES: dict[str, tuple[set[str], list[tuple]]] = {
    "sample.837": (
        {"SAMPLE-BADPTR", "SAMPLE-NOPTR"},
        # pyx12's 837P map makes SV107 required; a pointer past HI is not structural
        [("SAMPLE-NOPTR", "seg", "8")],
    ),
    "clean_single.837": (set(), []),
    "duplicates.837": (set(), []),
    "multi.837": (set(mf.MULTI_BAD), []),
    **{
        fname: ({f"DLM-{variant}-BAD"}, [])
        for variant, (fname, _d, _desc) in mf.DELIM_VARIANTS.items()
    },
}

BOM_REASON = (
    "pyx12 opens files by name as ASCII and cannot read a UTF-8 BOM: "
    "UnicodeDecodeError: 'ascii' codec can't decode byte 0xef in position 0: "
    "ordinal not in range(128)"
)


def _valid_params():
    for name in VALID_FILES:
        marks = []
        if name == "delims_bom.837":
            marks = [pytest.mark.xfail(strict=True, reason=BOM_REASON)]
        yield pytest.param(name, marks=marks, id=name)


@pytest.mark.parametrize("name", list(_valid_params()))
def test_no_pyx12_errors_outside_bad_claims(name: str) -> None:
    bad_claims, _expected = VALID_FILES[name]
    errors = pyx12_errors(EDI / name)
    unexpected = [e for e in errors if _claim(e) not in bad_claims]
    assert not unexpected, format_errors(unexpected)


@pytest.mark.parametrize("name", list(_valid_params()))
def test_pyx12_errors_are_exactly_the_documented_ones(name: str) -> None:
    _bad, expected = VALID_FILES[name]
    errors = pyx12_errors(EDI / name)
    assert sorted(_sig(e) for e in errors) == sorted(expected), format_errors(errors)


def test_sample_noptr_error_is_the_missing_sv107() -> None:
    (err,) = pyx12_errors(EDI / "sample.837")
    assert err["seg_id"] == "SV1"
    assert err["claim_id"] == "SAMPLE-NOPTR"
    assert "(SV107) is missing" in err["message"]


def test_bom_variant_is_clean_once_the_bom_is_stripped() -> None:
    errors = pyx12_errors(EDI / "delims_bom.837", strip_bom=True)
    assert not errors, format_errors(errors)


def test_bom_variant_unreadable_by_pyx12_as_is() -> None:
    errors = pyx12_errors(EDI / "delims_bom.837")
    assert [(e["level"], e["code"]) for e in errors] == [("file", "UnicodeDecodeError")]
    assert "0xef in position 0" in errors[0]["message"]


# ---------------------------------------------------------------------------
# pointers.837
# ---------------------------------------------------------------------------

# claim -> [(level, code, text in message)] that pyx12 reports for it
POINTER_EXPECTED: dict[str, list[tuple[str, str, str]]] = {
    "DP001-FAIL": [("seg", "8", '"Composite Diagnosis Code Pointer" (SV107) is missing')],
    "DP002-FAIL": [],  # pointer past the last HI code: not structural
    "DP003-FAIL": [
        ("ele", "7", "(A) is not a valid code for Diagnosis Code Pointer (SV107-01)"),
        ("ele", "6", "(SV107-01) is type N0, contains an invalid character(A)"),
    ],
    "DP003-FAIL-13": [("ele", "7", "(13) is not a valid code for Diagnosis Code Pointer")],
    "DP003-FAIL-0": [("ele", "7", "(0) is not a valid code for Diagnosis Code Pointer")],
    # pyx12 4.0 bug: its too-many-sub-elements branch indexes past the map's children
    "DP004-FAIL": [("file", "IndexError", "list index out of range")],
    "DP005-FAIL": [],  # duplicate pointer: not structural
    "DP006-FAIL": [("seg", "3", 'Mandatory segment "Health Care Diagnosis Code" (HI) missing')],
    "DP007-FAIL": [("seg", "3", 'Mandatory loop "Service Line Number" (2400) missing')],
}


def _matches(errors: list[dict], expected: list[tuple[str, str, str]]) -> bool:
    if len(errors) != len(expected):
        return False
    remaining = list(errors)
    for level, code, text in expected:
        for e in remaining:
            if e["level"] == level and e["code"] == code and text in (e["message"] or ""):
                remaining.remove(e)
                break
        else:
            return False
    return True


def test_pointer_claim_ids_are_the_documented_ones() -> None:
    ids = [c.clm_id for c in mf.pointer_claims()]
    assert sorted(ids) == sorted(
        [f"DP00{n}-{k}" for n in range(1, 8) for k in ("FAIL", "PASS")]
        + ["DP003-FAIL-13", "DP003-FAIL-0"]
    )
    assert set(POINTER_EXPECTED) == {i for i in ids if "FAIL" in i}


def test_pointers_file_pyx12_errors_only_on_fail_claims() -> None:
    errors = pyx12_errors(EDI / "pointers.837")
    for e in errors:
        assert _claim(e) and "-FAIL" in _claim(e), format_errors([e])
    by_claim: dict[str, list[dict]] = {}
    for e in errors:
        by_claim.setdefault(_claim(e), []).append(e)
    for cid, expected in POINTER_EXPECTED.items():
        assert _matches(by_claim.get(cid, []), expected), (cid, format_errors(errors))
    # pyx12 gives up at DP004-FAIL, which is why it is the last claim in the file
    assert [c.clm_id for c in mf.pointer_file_order(mf.pointer_claims())][-1] == "DP004-FAIL"


@pytest.mark.parametrize("claim", mf.pointer_claims(), ids=lambda c: c.clm_id)
def test_pointer_claim_alone(claim, tmp_path: Path) -> None:
    """Each claim of pointers.837 in a file of its own: PASS = clean for pyx12."""
    bp = mf.BillingProvider(**mf.BP_ONE, subscribers=[mf.Subscriber(mf.person(1), claims=[claim])])
    st = mf.transaction_segments("0001", [bp])
    path = tmp_path / f"{claim.clm_id}.837"
    mf.write_837(path, [(mf.interchange("000000001", [mf.group("1", [st])], mf.STD_LF), mf.STD_LF)])
    errors = pyx12_errors(path)
    expected = POINTER_EXPECTED.get(claim.clm_id, [])
    assert _matches(errors, expected), format_errors(errors)


# ---------------------------------------------------------------------------
# Generator: up to date, invariants
# ---------------------------------------------------------------------------


def test_fixtures_are_up_to_date(tmp_path: Path) -> None:
    written = mf.write_all(tmp_path)
    stale = [
        f.name
        for f in written
        if not (EDI / f.name).exists() or (EDI / f.name).read_bytes() != f.read_bytes()
    ]
    assert not stale, f"run python tools/make_fixtures.py (stale: {stale})"


def _segments(path: Path) -> tuple[list[list[str]], str, str]:
    """Minimal stdlib splitter: (segments as element lists, component sep, isa)."""
    data = path.read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    text = data.decode("ascii")
    isa = text[:106]
    ele, comp, term = isa[3], isa[104], isa[105]
    segs = []
    for raw in text.split(term):
        raw = raw.strip("\r\n")
        if raw:
            segs.append(raw.split(ele))
    return segs, comp, isa


P5010_FILES = ["sample.837", "clean_single.837", "pointers.837", "multi.837"] + [
    fname for fname, _d, _desc in mf.DELIM_VARIANTS.values()
]


@pytest.mark.parametrize("name", P5010_FILES)
def test_generator_invariants(name: str) -> None:
    segs, comp, isa = _segments(EDI / name)
    assert len(isa) == 106 and isa.startswith("ISA")
    spec = {s.name: s for s in mf.fixture_specs()}[name]
    clm_ids = []
    claim, total = None, Decimal(0)

    def close() -> None:
        if claim is not None:
            assert Decimal(claim[2]) == total, f"CLM02 of {claim[1]} != sum of SV102"

    for s in segs:
        sid = s[0]
        if sid == "ISA":
            assert len("*".join(s)) == 105 and s[12] == "00501"
        elif sid == "GS":
            assert s[8] == "005010X222A1"
        elif sid == "ST":
            assert s[3] == "005010X222A1"
        elif sid == "NM1" and len(s) > 9 and s[8] == "XX":
            assert mf.npi_is_valid(s[9]), s
        elif sid in ("CLM", "HL", "SE"):
            close()
            claim, total = (s, Decimal(0)) if sid == "CLM" else (None, Decimal(0))
            if sid == "CLM":
                clm_ids.append(s[1])
        elif sid == "HI":
            quals = [e.split(comp)[0] for e in s[1:]]
            assert quals[0] == "ABK" and all(q == "ABF" for q in quals[1:]), s
            assert all("." not in e for e in s[1:]), s
        elif sid == "SV1":
            total += Decimal(s[2])
        elif sid == "DTP" and s[1] == "472":
            assert s[3].startswith("2025"), s
    assert clm_ids == [cid for cid, _purpose in spec.claims]


def test_npi_check_digit() -> None:
    assert mf.npi("123456789") == "1234567893"
    assert mf.npi_is_valid("1234567893") and not mf.npi_is_valid("1234567890")
