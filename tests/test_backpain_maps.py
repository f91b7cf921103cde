"""The back-pain maps (maps/backpain/*.toml): strict loading, their content, the fixture codes.

* the shipped maps load, every entry has a source, codes are real ICD-10-CM codes;
* a malformed map fails with one line naming file, line and problem (in-process and from the CLI,
  exit 2, no traceback);
* excludes1.toml is what tools/build_backpain_excludes.py produces (skipped without simple-icd-10-cm);
* an entry with a checked public source gives the rule's default severity (error for PX002), one
  without gives a warning;
* the codes of fixtures/edi/backpain.837 are billable on their dates of service.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import sys
from datetime import date
from pathlib import Path

import pytest
from conftest import AS_OF, claims_by_id, fixture, run_cli, scrub, problem_lines

from scrubber.codesets.backpain import ENV_DIR, FILES, MapError, load_backpain_maps
from scrubber.codesets.icd10cm import load_icd10cm
from scrubber.check.engine import Engine
from scrubber.mapsdir import map_path
from scrubber.run.pipeline import scrub_file

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = map_path("backpain")


@pytest.fixture(scope="module")
def maps():
    return load_backpain_maps()


@pytest.fixture
def copy(tmp_path):
    """A writable copy of maps/backpain (edit one file, load, expect an error)."""
    dst = tmp_path / "backpain"
    shutil.copytree(SHIPPED, dst)
    return dst


def _edit(folder: Path, name: str, old: str, new: str, count: int = 1) -> None:
    path = folder / name
    text = path.read_text(encoding="utf-8")
    assert old in text, (name, old)
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def _line_of(folder: Path, name: str, needle: str) -> int:
    for i, line in enumerate((folder / name).read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return i
    raise AssertionError(needle)


# --- the shipped maps --------------------------------------------------------------------------------


def test_shipped_maps_load_and_are_indexed(maps):
    assert set(maps.files) == set(FILES)
    assert {"cervical", "thoracic", "lumbar", "subluxation", "back_pain_scope", "musculoskeletal"} <= set(maps.groups)
    thoracic = maps.groups["thoracic"][0]
    assert thoracic.match("M546") and thoracic.match("M5414") and thoracic.match("S233XXA")
    assert not thoracic.match("M5450")
    assert maps.groups["musculoskeletal"][0].match("M25511")  # M00-M99 range
    assert maps.support["72146"][0].match("M546") and not maps.support["72148"][0].match("M546")
    assert "98940" in maps.first_pointer and maps.first_pointer["98940"][0] == {"MB"}
    assert "97110" in maps.timed and "97012" not in maps.timed
    assert "ncci.toml" not in FILES  # the NCCI edits are the CMS tables of maps/ncci/
    # Excludes1 pairs the issue names
    pairs = {(owner, excl) for owner, lst in maps.excludes1.items() for excl, _ in lst}
    for pair in [("M545", "M544"), ("M545", "S39012"), ("M546", "M51"), ("M542", "M50"), ("M541", "M511"),
                 ("M541", "M472"), ("M54", "F4541")]:
        assert pair in pairs, pair


def test_every_entry_records_its_source_and_dates(maps):
    for name in FILES:
        mf = maps.files[name]
        assert mf.source and mf.effective_from <= mf.effective_to, name
        entries = maps.entries_of(name)
        assert entries, name
        for e in entries:
            assert e.source.strip() and e.line > 0 and e.effective_from <= e.effective_to, (name, e)
    # Entries without a (checked) public source say so in their source text.
    for name in FILES:
        for e in maps.entries_of(name):
            if not e.public_source:
                assert re.search(r"no (LCD|public|NCD)|not checked|project's choice|convention", e.source), (name, e.label)


def test_map_codes_are_icd10cm_codes(maps):
    """Every exact code in groups.toml, sequencing/specificity and excludes1.toml exists in each fiscal
    year its file covers; every prefix has billable codes then (tests/test_fy2027.py: FY2026 vs FY2027)."""
    icd = load_icd10cm()
    pattern = re.compile(r'"([A-Z][0-9][0-9A-Z](?:\.[0-9A-Z]{1,4})?)(\.?-)?"')
    for name in ("groups.toml", "sequencing.toml", "specificity.toml", "excludes1.toml"):
        mf = maps.files[name]
        years = range(icd.fiscal_year_of(mf.effective_from), icd.fiscal_year_of(mf.effective_to) + 1)
        assert 2027 in years, name
        text = (SHIPPED / name).read_text(encoding="utf-8")
        for m in pattern.finditer(text):
            code, prefix = m.group(1).replace(".", ""), bool(m.group(2))
            for fy in years:
                if prefix:
                    assert icd.billable_children(code, fy, limit=1) or icd.status(code, fy).billable, (name, m.group(0), fy)
                else:
                    assert icd.status(code, fy).exists, (name, code, fy)


# --- malformed maps ----------------------------------------------------------------------------------


def test_toml_syntax_error_names_file_and_line(copy):
    line = _line_of(copy, "timed.toml", "minutes_per_unit = 15")
    _edit(copy, "timed.toml", "minutes_per_unit = 15", "minutes_per_unit = = 15")
    with pytest.raises(MapError) as err:
        load_backpain_maps(copy)
    msg = str(err.value)
    assert "timed.toml" in msg and f"line {line}:" in msg and "not valid TOML" in msg and "\n" not in msg


@pytest.mark.parametrize(
    "name, old, new, expected",
    [
        ("groups.toml", '"M54.6",', '"M54X6",', "is not an ICD-10-CM code or pattern"),
        ("procedures.toml", 'requires = ["lumbar"]', 'requires = ["lumber"]', "'lumber' is not a group"),
        ("timed.toml", "minutes_per_unit = 15", 'minutes_per_unit = "15"', "must be a whole number"),
        ("timed.toml", "minimum_minutes = 8", "minimum_minutes = 0", "must be 1 or more"),
        ("procedures.toml", 'procedures = ["97012"]', 'procedures = ["9701"]', "is not a CPT/HCPCS code"),
        ("sequencing.toml", 'label = "scoliosis"', 'label = "scoliosis"\nseverity = "error"', "unknown key 'severity'"),
        ("specificity.toml", "public_source = true", "", None),  # optional key: still loads
        ("timed.toml", 'source = "CMS Pub. 100-04 ch. 5 sec. 20.2; CMS therapy code list (timed codes)"\n', "", "missing key 'source'"),
        ("groups.toml", "effective_to = 2027-09-30", 'effective_to = "2027-09-30"', "must be a date"),
        ("groups.toml", 'name = "cervical"', 'name = "thoracic"', "group 'thoracic' is already mapped"),
    ],
)
def test_schema_errors_name_file_line_and_entry(copy, name, old, new, expected):
    _edit(copy, name, old, new)
    if expected is None:
        load_backpain_maps(copy)
        return
    with pytest.raises(MapError) as err:
        load_backpain_maps(copy)
    msg = str(err.value)
    assert name in msg and expected in msg and re.search(r" line \d+: ", msg) and "\n" not in msg, msg


def test_schema_error_line_points_at_the_entry(copy):
    _edit(copy, "procedures.toml", 'requires = ["cervical", "lumbar"]', 'requires = ["cervical", "sacral"]')
    line = _line_of(copy, "procedures.toml", '"sacral"')
    with pytest.raises(MapError) as err:
        load_backpain_maps(copy)
    assert f"procedures.toml line {line}: [[support]] #5 (97012): requires:" in str(err.value)


def test_missing_map_file(copy):
    (copy / "timed.toml").unlink()
    with pytest.raises(MapError, match=r"timed.toml: missing"):
        load_backpain_maps(copy)


def test_cli_malformed_map_exits_2_with_one_line(copy, tmp_path, monkeypatch):
    _edit(copy, "groups.toml", '"M54.6",', '"M5.6",')
    monkeypatch.setenv(ENV_DIR, str(copy))
    result = run_cli("scrub", fixture("backpain.837"), "--out-dir", tmp_path / "o", "--as-of", "2025-06-01")
    assert result.returncode == 2, result.stdout
    assert "Traceback" not in result.stderr
    lines = problem_lines(result.stderr)
    assert len(lines) == 1 and "groups.toml line" in lines[0] and "'M5.6'" in lines[0], result.stderr
    assert not (tmp_path / "o" / "backpain.report.json").exists()  # stopped before any output
    # The rules command too, when asked to explain a map-driven rule.
    result = run_cli("rules", "--explain", "PX001")
    assert result.returncode == 2 and "Traceback" not in result.stderr and "groups.toml line" in result.stderr


def test_cli_maps_not_loaded_when_backpain_rules_are_off(copy, tmp_path, monkeypatch):
    _edit(copy, "groups.toml", '"M54.6",', '"M5.6",')
    monkeypatch.setenv(ENV_DIR, str(copy))
    cfg = tmp_path / "scrubber.toml"
    cfg.write_text('[rules]\nignore = ["BP", "PX", "NC"]\n')
    result = run_cli("scrub", fixture("clean_single.837"), "--out-dir", tmp_path / "o", "--config", cfg)
    assert result.returncode == 0, result.stderr


# --- the build script ---------------------------------------------------------------------------------


def _excludes_builder():
    if importlib.util.find_spec("simple_icd_10_cm") is None:
        pytest.skip("simple-icd-10-cm is not installed (pip install '.[test]'): cannot rebuild excludes1.toml")
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import build_backpain_excludes as build
    finally:
        sys.path.pop(0)
    if not build.COMPARE.is_file():
        pytest.skip(f"../shared/codesets absent: {build.COMPARE} not found, cannot rebuild excludes1.toml")
    return build


def test_excludes1_map_matches_the_build_script():
    build = _excludes_builder()
    text, n = build.build()
    assert n >= 20
    assert (SHIPPED / "excludes1.toml").read_text(encoding="utf-8") == text, "run tools/build_backpain_excludes.py"


def test_excludes1_covers_fy2027_only_with_every_note_confirmed(tmp_path):
    """The shipped file runs to 2027-09-30 because the comparison marks every note it uses the same in
    FY2027; one note not confirmed and the rebuilt file ends 2026-09-30 and names the note."""
    build = _excludes_builder()
    text, _ = build.build()
    assert "effective_to = 2027-09-30" in text and "FY2025 is assumed unchanged" in text
    assert "sha256 " + __import__("hashlib").sha256(build.COMPARE.read_bytes()).hexdigest() in text
    assert "socrates-icd-coder-medicodio data/raw/icd10cm_tabular_2027.xml @858cb6b" in text  # the FY2027 side
    assert "S39.012" in text.split("coverage_note = ")[1].split("\n")[0]  # walked, not compared: said so
    row = "M54.6\tpain in thoracic spine due to intervertebral disc disorder (M51.-)\tyes\tyes"
    original = build.COMPARE.read_text(encoding="utf-8")
    assert row in original
    changed = tmp_path / build.COMPARE.name
    changed.write_text(original.replace(row, row[: -len("yes")] + "no"), encoding="utf-8")
    text, _ = build.build(changed)
    assert "effective_to = 2026-09-30" in text and "FY2027 not checked" in text
    assert "#   M54.6: pain in thoracic spine due to intervertebral disc disorder (M51.-) (yes/no)" in text
    changed.write_text(original.replace(row + "\n", ""), encoding="utf-8")  # the note absent: the same
    text, _ = build.build(changed)
    assert "effective_to = 2026-09-30" in text and "(absent)" in text


def test_excludes1_build_refuses_a_comparison_of_other_elements(tmp_path):
    build = _excludes_builder()
    changed = tmp_path / build.COMPARE.name
    changed.write_text(build.COMPARE.read_text(encoding="utf-8").replace("S23.3/S23.4.", "S23.3.", 1), encoding="utf-8")
    with pytest.raises(SystemExit, match="COMPARE_SCOPE"):
        build.build(changed)
    with pytest.raises(SystemExit, match="cannot read"):
        build.build(tmp_path / "missing.tsv")


# --- severity of entries with and without a checked public source ---------------------------------


def test_checked_entries_give_the_rule_default_severity(scrubbed):
    # The Medicare chiropractic entry has a checked public source: PX002 gives its default, error.
    _, report, _ = scrubbed("backpain.837")
    claims = claims_by_id(report)
    for claim_id in ("PX002-FAIL", "PX002-FAIL-NOSUB"):
        f = next(f for f in claims[claim_id]["findings"] if f["rule"] == "PX002")
        assert f["severity"] == "error" and claims[claim_id]["status"] == "rejected", claim_id


def test_unchecked_entries_are_warnings(copy, tmp_path):
    # The same entry marked as not checked against a public source: PX002 only warns.
    text = (copy / "procedures.toml").read_text(encoding="utf-8")
    start = text.index("[[first_pointer]]")
    (copy / "procedures.toml").write_text(
        text[:start] + text[start:].replace("public_source = true", "public_source = false", 1), encoding="utf-8")
    engine = Engine(None, AS_OF)
    engine.context.maps["backpain"] = load_backpain_maps(copy)
    outcome = scrub_file(fixture("backpain.837"), tmp_path, engine)
    import json

    claims = claims_by_id(json.loads(Path(outcome.report_path).read_text()))
    f = next(f for f in claims["PX002-FAIL"]["findings"] if f["rule"] == "PX002")
    assert f["severity"] == "warning" and claims["PX002-FAIL"]["status"] == "accepted"


# --- the fixture --------------------------------------------------------------------------------------


def test_fixture_is_up_to_date():
    result = __import__("subprocess").run([sys.executable, str(ROOT / "tools" / "fixtures_backpain.py"), "--check"],
                                          capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_fixture_codes_are_billable_on_their_dates():
    from scrubber.x12.model import Claim, walk
    from scrubber.x12.reader import read_segments

    icd = load_icd10cm()
    seen = 0
    for event in walk(read_segments(fixture("backpain.837"))):
        if not isinstance(event, Claim):
            continue
        dates = {line.service_date for line in event.lines}
        for d in dates:
            assert d is not None
            if not event.claim_id.startswith("NOTCHECKED"):
                assert date(2024, 10, 1) <= d <= date(2025, 9, 30), event.claim_id  # FY2025
            for dx in event.diagnoses:
                st = icd.status(dx.code, d)
                assert st.billable, (event.claim_id, dx.code, d)
                seen += 1
    assert seen > 50


def test_full_scrub_of_the_fixture(tmp_path):
    _, report = scrub(fixture("backpain.837"), tmp_path)
    rejected = sorted(c["claim_id"] for c in report["claims"] if c["status"] == "rejected")
    # PX002 (checked Medicare entries) and the CMS NCCI tables' errors: indicator-0 pairs, MUEs.
    assert rejected == ["NC001-FAIL", "NC001-FAIL-EVAL", "NC003-FAIL", "NC003-FAIL-SPLIT", "PX002-FAIL",
                        "PX002-FAIL-NOSUB"]
