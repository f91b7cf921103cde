"""FY2027 (dates of service 2026-10-01 to 2027-09-30): the code set and the back-pain maps.

* every ICD-10-CM code and pattern the back-pain maps use is checked against FY2027 of the shipped
  table (and, where ../shared/codesets is present, the titles against the CMS order files): the
  only FY2027 changes under them are the ones maps/backpain/SOURCE.md lists;
* the maps that were checked cover FY2027; timed.toml (nothing to check it against) does not;
* a synthetic 837P of claims dated November 2026, scrubbed as of 2026-12-01: codes FY2027 deleted,
  added or turned into headers, the back-pain findings, and no not_checked finding where FY2027 was
  checked; a date past the maps (2027-10-15) is not_checked.
"""

from __future__ import annotations

import gzip
import re
import tomllib
from bisect import bisect_left
from datetime import date

import pytest
from conftest import SHARED, claims_by_id, make_fixtures, scrub, write_837

from scrubber.codesets.backpain import load_backpain_maps
from scrubber.mapsdir import map_path

AS_OF = date(2026, 12, 1)
BACKPAIN = map_path("backpain")
CHECKED = ("groups.toml", "specificity.toml", "sequencing.toml", "excludes1.toml", "procedures.toml")
_RANGE = re.compile(r"^([A-Z])([0-9]{2})-\1([0-9]{2})$")


# --- the maps' codes against the FY2027 code set --------------------------------------------------


class _Year(dict):
    """{code: billable} of one fiscal year, with its codes sorted (for the codes under a prefix)."""

    def under(self, prefix: str) -> dict[str, bool]:
        keys = self.__dict__.get("keys_") or self.__dict__.setdefault("keys_", sorted(self))
        out, i = {}, bisect_left(keys, prefix)
        while i < len(keys) and keys[i].startswith(prefix):
            out[keys[i]] = self[keys[i]]
            i += 1
        return out


def _years() -> dict[int, _Year]:
    """{fiscal year: {code: billable}} from the shipped table (maps/icd10cm/SOURCE.md, Format)."""
    text = gzip.decompress(map_path("icd10cm", "icd10cm.tsv.gz").read_bytes()).decode("utf-8")
    years = [int(y) for y in next(l for l in text.splitlines() if l.startswith("# fiscal_years:")).split(":")[1].split()]
    out = {fy: _Year() for fy in years}
    for line in text.splitlines():
        if line.startswith("#") or not line:
            continue
        code, ex, bi, _ = line.split("\t")
        ex, bi = int(ex, 16), int(bi, 16)
        for i, fy in enumerate(years):
            if ex >> i & 1:
                out[fy][code] = bool(bi >> i & 1)
    return out


@pytest.fixture(scope="module")
def years():
    return _years()


def _patterns() -> list[tuple[str, str, str, bool]]:
    """(file, entry, code without dot, is a prefix) for every ICD-10-CM pattern of the checked maps;
    a category range (M00-M99) is one prefix per category, named by the range."""
    out = []
    for name in CHECKED:
        data = tomllib.loads((BACKPAIN / name).read_text(encoding="utf-8"))
        items = [("[meta] roots", r) for r in data["meta"].get("roots", [])]
        for table, entries in data.items():
            if table == "meta":
                continue
            for e in entries:
                label = e.get("name") or e.get("label") or e.get("code")
                for key in ("codes", "code", "secondary", "underlying", "excludes"):
                    value = e.get(key)
                    if value is not None:
                        items += [(label, v) for v in ([value] if isinstance(value, str) else value)]
        for label, p in items:
            r = _RANGE.match(p)
            if r:
                out += [(name, f"{label} {p}", f"{r.group(1)}{n:02d}", True)
                        for n in range(int(r.group(2)), int(r.group(3)) + 1)]
            else:
                # excludes1.toml: every code stands for itself and the codes below it
                prefix = p.endswith("-") or name == "excludes1.toml" or label == "[meta] roots"
                out.append((name, f"{label} {p}", p.rstrip("-").rstrip(".").replace(".", ""), prefix))
    return out


def _under(codes: _Year, prefix: str) -> dict[str, bool]:
    return codes.under(prefix)


def test_every_map_code_exists_in_fy2027_with_its_fy2026_flag(years):
    fy26, fy27 = years[2026], years[2027]
    patterns = _patterns()
    assert len(patterns) > 200
    for name, where, code, prefix in patterns:
        if prefix:
            if _under(fy26, code):  # (a range names categories that never existed, M03 ...)
                assert _under(fy27, code), (name, where, code, "no code under it in FY2027")
        else:
            assert code in fy27 and fy27[code] == fy26.get(code), (name, where, code, fy26.get(code), fy27.get(code))


def test_fy2027_changes_under_the_map_patterns_are_the_known_ones(years):
    """What FY2027 deleted, added or turned into headers under the maps' patterns: only inside the
    ranges of the musculoskeletal group (maps/backpain/SOURCE.md, FY2027)."""
    fy26, fy27 = years[2026], years[2027]
    deleted, added, headers, billable = {}, {}, {}, {}
    for name, where, code, prefix in _patterns():
        if not prefix:
            continue
        a, b = _under(fy26, code), _under(fy27, code)
        for found, codes in ((deleted, set(a) - set(b)), (added, set(b) - set(a)),
                             (headers, {c for c in set(a) & set(b) if a[c] and not b[c]}),
                             (billable, {c for c in set(a) & set(b) if b[c] and not a[c]})):
            if codes:
                found.setdefault(where, set()).update(codes)
    assert deleted == {"musculoskeletal S00-S99": {"S23420", "S23420A", "S23420D", "S23420S"}}
    assert headers == {"musculoskeletal M00-M99": {"M722", *(f"M868X{n}" for n in range(1, 9))}}
    assert billable == {}
    assert set(added) == {"musculoskeletal M00-M99"}
    assert {"M043", "M67A01", "M67A02", "M67A09", "M7220", "M7221", "M7222", "M868X11", "M868X89"} <= added[
        "musculoskeletal M00-M99"]
    assert all(c.startswith(("M043", "M67A", "M722", "M868X")) for c in added["musculoskeletal M00-M99"])


def test_map_code_titles_are_the_same_in_the_fy2027_order_file():
    src = SHARED / "codesets" / "icd10cm"
    if not (src / "icd10cm_order_2027.txt.gz").is_file():
        pytest.skip(f"../shared/codesets absent: {src} has no CMS order files to compare titles")

    def titles(fy: int) -> dict[str, tuple[str, str, str]]:
        with gzip.open(src / f"icd10cm_order_{fy}.txt.gz", "rt", encoding="ascii") as f:
            return {l[6:13].strip(): (l[14], l[16:76].strip(), l[77:].strip()) for l in f}

    fy26, fy27 = titles(2026), titles(2027)
    every = sorted(set(fy26) | set(fy27))
    seen = 0
    for name, where, code, prefix in _patterns():
        if where.startswith("musculoskeletal"):
            continue  # whole chapters: their changes are the test above's
        i, codes = bisect_left(every, code), []
        while i < len(every) and (every[i].startswith(code) if prefix else every[i] == code):
            codes.append(every[i])
            i += 1
        for c in codes:
            assert fy26.get(c) == fy27.get(c), (name, where, c, fy26.get(c), fy27.get(c))
            seen += 1
    assert seen > 1000


def test_checked_maps_cover_fy2027_and_say_against_what():
    maps = load_backpain_maps()
    for name in CHECKED:
        mf = maps.files[name]
        assert mf.effective_to == date(2027, 9, 30), name
        assert "FY2027" in mf.source, name
    assert "CMS FY2027 order file" in maps.files["groups.toml"].source
    for name in ("specificity.toml", "sequencing.toml"):
        assert "FY2027 Official Guidelines were not available" in maps.files[name].source, name
    assert "not re-read for FY2027" in maps.files["procedures.toml"].source
    assert "CMS FY2027 tabular XML" in maps.files["excludes1.toml"].source
    assert "FY2025 is assumed unchanged" in maps.files["excludes1.toml"].meta["coverage_note"]
    # Nothing to check timed.toml against for FY2027: it still ends with FY2026.
    assert maps.files["timed.toml"].effective_to == date(2026, 9, 30)


# --- claims dated in FY2027 -----------------------------------------------------------------------

NOV, SEP = "20261115", "20260915"
# The NCCI edits (maps/ncci/) have no end date: FY2027 claims are checked against the newest quarter.
NCCI = ("NC001", "NC002", "NC003")


def _claims():
    mf = make_fixtures()
    L = mf.Line

    def one(clm_id, dx, cpt="99213", dos=NOV, pointers="1", **kw):
        return mf.Claim(clm_id, dx, [L(cpt, "100", pointers, dos=dos, **kw)])

    commercial = [
        # codes FY2027 deleted, added, turned into a header
        one("FY27-S23420A", ["S23420A"]),
        one("FY26-S23420A", ["S23420A"], dos=SEP),
        one("FY27-M67A01", ["M67A01"]),
        one("FY26-M67A01", ["M67A01"], dos=SEP),
        one("FY27-D691", ["D691"]),
        one("FY26-D691", ["D691"], dos=SEP),
        # the back-pain maps on FY2027 dates
        one("FY27-BP001", ["M549", "M546"], pointers="1:2"),
        one("FY27-BP002", ["M5450", "M4126"], pointers="1:2"),
        one("FY27-BP003", ["M5441", "M5450"], pointers="1:2"),
        mf.Claim("FY27-PX001", ["M5450", "M546"], [L("72146", "850", "1", dos=NOV), L("99213", "100", "1:2", dos=NOV)]),
        mf.Claim("FY27-CLEAN", ["M5450", "M546"],
                 [L("72148", "850", "1", dos=NOV), L("72146", "850", "2", dos=NOV), L("97110", "50", "1:2", dos=NOV)]),
        mf.Claim("FY27-NC004-MINUTES", ["M5450"], [L("97110", "80", "1", dos=NOV, units="2")]),
    ]
    medicare = [
        mf.Claim("FY27-PX002", ["M5450", "M9903"], [L("98940", "45", "1:2", dos=NOV)]),
        mf.Claim("FY27-PX002-PASS", ["M9903", "M5450"], [L("98940", "45", "1:2", dos=NOV)]),
    ]
    subscribers = [
        mf.Subscriber(mf.person(71), claims=commercial),
        mf.Subscriber(mf.person(72), payer_name="SAMPLE MEDICARE CONTRACTOR", payer_id="PAYER09", sbr09="MB",
                      group="", claims=medicare),
    ]
    return subscribers, {"FY27-NC004-MINUTES": _minutes_note("MINUTES 30")}


def _minutes_note(text: str):
    """Add NTE*ADD*<text> after the first line's DTP*472 (minutes given: NC004 checks the line)."""
    def edit(segs):
        out, done = [], False
        for s in segs:
            out.append(s)
            if not done and s[0] == "DTP" and s[1] == "472":
                out.append(("NTE", "ADD", text))
                done = True
        return out
    return edit


@pytest.fixture(scope="module")
def fy2027(tmp_path_factory):
    """fy2027.837 (claims dated November 2026, a few September 2026), scrubbed as of 2026-12-01."""
    folder = tmp_path_factory.mktemp("fy2027")
    subscribers, edits = _claims()
    path = write_837(folder / "fy2027.837", subscribers, edits, isa13="000000927")
    _, report = scrub(path, folder / "out", as_of=AS_OF)
    return claims_by_id(report)


def _rules(claim: dict) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for f in claim["findings"]:
        out.setdefault(f["rule"], []).append(f)
    return out


def test_deleted_code_is_rejected_in_fy2027_and_accepted_before(fy2027):
    """S23.420A (and its D and S) are deleted in FY2027. The code exists in other years of the table,
    so the finding is DX103 (no longer valid), not DX101 (no such code in any year)."""
    late = fy2027["FY27-S23420A"]
    dx = [f for f in late["findings"] if f["rule"].startswith("DX")]
    assert [f["rule"] for f in dx] == ["DX103"] and late["status"] == "rejected", late["findings"]
    assert dx[0]["value"] == "S23420A" and "no longer valid" in dx[0]["message"] and "FY2026" in dx[0]["message"]
    early = fy2027["FY26-S23420A"]
    assert early["status"] == "accepted" and early["findings"] == [], early["findings"]


def test_new_code_is_accepted_in_fy2027_and_rejected_before(fy2027):
    new = fy2027["FY27-M67A01"]
    assert new["status"] == "accepted" and new["findings"] == [], new["findings"]
    early = fy2027["FY26-M67A01"]
    dx = [f for f in early["findings"] if f["rule"].startswith("DX")]
    assert [f["rule"] for f in dx] == ["DX103"] and early["status"] == "rejected", early["findings"]
    assert "valid from FY2027" in dx[0]["message"] and "2026-10-01" in dx[0]["message"]


def test_code_turned_header_is_rejected_in_fy2027_and_accepted_before(fy2027):
    late = fy2027["FY27-D691"]
    dx = [f for f in late["findings"] if f["rule"].startswith("DX")]
    assert [f["rule"] for f in dx] == ["DX102"] and late["status"] == "rejected", late["findings"]
    assert "D69.11, D69.19" in dx[0]["message"] and "FY2027" in dx[0]["message"]
    early = fy2027["FY26-D691"]
    assert early["status"] == "accepted" and early["findings"] == [], early["findings"]


def test_back_pain_rules_check_fy2027_claims(fy2027):
    bp003 = _rules(fy2027["FY27-BP003"])["BP003"]
    assert len(bp003) == 1 and bp003[0]["severity"] == "warning"
    assert (bp003[0]["element"], bp003[0]["value"]) == ("HI02-2", "M5450") and "M54.4-" in bp003[0]["message"]
    px001 = _rules(fy2027["FY27-PX001"])["PX001"]
    assert len(px001) == 1 and px001[0]["severity"] == "warning"
    assert (px001[0]["element"], px001[0]["value"]) == ("SV107-1", "M5450") and "72146" in px001[0]["message"]
    bp001 = _rules(fy2027["FY27-BP001"])["BP001"]
    assert bp001[0]["severity"] == "warning" and bp001[0]["value"] == "M549"
    bp002 = _rules(fy2027["FY27-BP002"])["BP002"]
    assert bp002[0]["severity"] == "warning" and bp002[0]["value"] == "M5450"
    px002 = _rules(fy2027["FY27-PX002"])["PX002"]
    assert px002[0]["severity"] == "error" and fy2027["FY27-PX002"]["status"] == "rejected"
    for claim_id in ("FY27-CLEAN", "FY27-PX002-PASS"):
        claim = fy2027[claim_id]
        # (DT008: a Medicare manipulation claim without an initial treatment date, a warning of the
        # date rules that this fixture's claim, built without DTP*454, meets)
        others = [f for f in claim["findings"] if f["rule"] not in NCCI and f["rule"] != "DT008"]
        assert claim["status"] == "accepted" and others == [], (claim_id, claim["findings"])


def test_no_not_checked_on_fy2027_claims_where_fy2027_was_checked(fy2027):
    fy27 = {k: v for k, v in fy2027.items() if k.startswith("FY27-")}
    assert len(fy27) == 11
    for claim_id, claim in fy27.items():
        for f in claim["findings"]:
            if f["severity"] != "not_checked":
                continue
            assert not f["rule"].startswith(("DX", "BP", "PX")), (claim_id, f)
            assert f["rule"] not in NCCI, (claim_id, f)
            # timed.toml was not checked for FY2027 (maps/backpain/SOURCE.md): a timed line with minutes
            # is not checked, and says why.
            assert f["rule"] == "NC004" and claim_id == "FY27-NC004-MINUTES", (claim_id, f)
    nc004 = _rules(fy2027["FY27-NC004-MINUTES"])["NC004"]
    assert nc004[0]["severity"] == "not_checked" and "maps/backpain/timed.toml covers 2021-10-01 to 2026-09-30" in \
        nc004[0]["message"]


def test_a_date_past_the_maps_is_not_checked(tmp_path):
    """2027-10-15 (FY2028) is past the ICD-10-CM table and every back-pain map: not_checked, not a pass."""
    mf = make_fixtures()
    L = mf.Line
    late = "20271015"
    claims = [
        mf.Claim("FY28-BP003", ["M5441", "M5450"], [L("99213", "100", "1:2", dos=late)]),
        mf.Claim("FY28-PX001", ["M5450", "M546"], [L("72146", "850", "1", dos=late)]),
    ]
    path = write_837(tmp_path / "fy2028.837", [mf.Subscriber(mf.person(73), claims=claims)], isa13="000000928")
    _, report = scrub(path, tmp_path / "out", as_of=date(2027, 11, 1))
    claims = claims_by_id(report)
    for claim_id, rule, file in (("FY28-BP003", "BP003", "excludes1.toml"), ("FY28-PX001", "PX001", "procedures.toml")):
        found = _rules(claims[claim_id])
        f = found[rule][0]
        assert f["severity"] == "not_checked" and f["value"] == "2027-10-15", f
        assert f"maps/backpain/{file} covers" in f["message"] and "to 2027-09-30" in f["message"], f
        assert found["DX110"][0]["severity"] == "not_checked"
        assert claims[claim_id]["status"] == "accepted"  # not_checked does not reject
