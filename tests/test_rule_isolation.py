"""A claim rule that raises costs only the claim it raised on: that claim is rejected with EN011
naming the rule, every other rule and every other claim is checked as usual."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
import structlog

from conftest import ROOT, claims_by_id, fixture
from scrubber.check import engine as engine_module
from scrubber.run import parallel
from scrubber.config import Config, parse_config
from scrubber.check.engine import Engine, known_codes
from scrubber.logs import configure_logging
from scrubber.run.pipeline import scrub_file
from scrubber.rules import Rule

AS_OF = date(2025, 6, 1)
REGISTERED = engine_module.claim_rules  # the registered claim rules, without the one below
SECRET = "QUOTED-PATIENT-TEXT"  # what the exception's message carries; never to be seen anywhere


class Explodes(Rule, register=False):
    """A throwaway rule with a bug: on one claim it yields a finding, then raises."""

    code = "ZZ901"
    name = "explodes"
    summary = "raises on one claim"
    target = "SAMPLE-OK-2"

    def check(self, claim, ctx):
        if claim.claim_id == self.target:
            yield self.finding(claim.clm, "half-way finding, dropped with the rule's failure", element="CLM01")
            raise KeyError(f"{SECRET} {claim.clm.raw}")


@pytest.fixture
def bad_rule(monkeypatch):
    """Engines made from now on run Explodes after the registered rules (forked --jobs workers
    inherit it); engines cached by the --jobs path are dropped first."""
    monkeypatch.setattr(engine_module, "claim_rules", lambda: [*REGISTERED(), Explodes])
    monkeypatch.setattr(parallel, "_ENGINE", {})
    return Explodes


def scrub_registered(monkeypatch, src: Path, out: Path, config: Config | None = None):
    """The scrub with the registered rules only (what the findings are without the bad rule)."""
    with monkeypatch.context() as m:
        m.setattr(engine_module, "claim_rules", REGISTERED)
        return scrub_file(src, out, Engine(config or Config(), AS_OF))


def report_of(outcome) -> dict:
    return json.loads(Path(outcome.report_path).read_text(encoding="utf-8"))


def claim_ids(path: Path) -> list[str]:
    text = path.read_text(encoding="latin-1")
    return [part.split("*", 2)[1] for part in text.split("~") if part.strip().startswith("CLM*")]


def assert_isolated(bad: dict, good: dict, target: str, code: str = "ZZ901") -> None:
    """``bad``: the report with the raising rule; ``good``: without it."""
    before, after = claims_by_id(good), claims_by_id(bad)
    assert list(before) == list(after)
    for claim_id, claim in after.items():
        if claim_id != target:
            assert claim == before[claim_id], claim_id
            continue
        assert claim["status"] == "rejected"
        internal = [f for f in claim["findings"] if f["rule"] == "EN011"]
        assert len(internal) == 1
        f = internal[0]
        assert f["severity"] == "error"
        assert f["message"] == (f"internal error in rule {code} (KeyError); the claim was not fully checked; "
                                "please report it")
        assert f["segment"] == "CLM" and f["element"] == "CLM01" and f["loop"] == "2300"
        assert f["value"] is None
        assert not any(g["rule"] == code for g in claim["findings"])  # its half-way finding is dropped
        others = [g for g in claim["findings"] if g["rule"] != "EN011"]
        assert others == before[claim_id]["findings"]
    assert bad["status"] == "rejections"
    assert bad["summary"]["claims"] == good["summary"]["claims"]
    assert bad["summary"]["rejected"] == good["summary"]["rejected"] + (before[target]["status"] == "accepted")
    assert bad["summary"]["errors"] == good["summary"]["errors"] + 1
    assert bad["findings"] == good["findings"]
    assert SECRET not in json.dumps(bad)


def test_a_raising_rule_rejects_only_its_claim(bad_rule, tmp_path, monkeypatch):
    src = fixture("sample.837")
    good = scrub_registered(monkeypatch, src, tmp_path / "good")
    text = io.StringIO()
    outcome = scrub_file(src, tmp_path / "bad", Engine(Config(), AS_OF), text_out=text)
    assert outcome.status == "rejections" and outcome.exit_code == 1
    assert outcome.unusable is None
    assert (outcome.accepted, outcome.rejected) == (good.accepted - 1, good.rejected + 1)
    assert_isolated(report_of(outcome), report_of(good), "SAMPLE-OK-2")
    clean = tmp_path / "bad" / "sample.clean.837"
    assert clean.is_file() and outcome.outputs["clean"] == str(clean)
    assert claim_ids(clean) == ["SAMPLE-OK-1", "SAMPLE-OK-3"]
    assert claim_ids(tmp_path / "bad" / "sample.rejected.837") == ["SAMPLE-OK-2", "SAMPLE-BADPTR", "SAMPLE-NOPTR"]
    assert "REJECTED SAMPLE-OK-2" in text.getvalue() and "EN011" in text.getvalue()
    assert SECRET not in text.getvalue()


def test_acknowledgments_reject_the_claim(bad_rule, tmp_path):
    outcome = scrub_file(fixture("sample.837"), tmp_path, Engine(Config(), AS_OF), acks=("999", "277ca"))
    assert outcome.status == "rejections"
    ack = (tmp_path / "sample.277ca.edi").read_text(encoding="latin-1")
    assert "SAMPLE-OK-2" in ack and SECRET not in ack


@pytest.mark.parametrize("config", [
    {"rules": {"severity": {"DP004": "warning"}}},  # findings go through the configured severities
    {"payers": {"PAYER01": {"rules": {"ignore": ["DP005"]}}}},  # rules chosen per payer
])
def test_the_configured_paths_isolate_too(bad_rule, tmp_path, monkeypatch, config):
    cfg = parse_config(config, known_codes())
    src = fixture("sample.837")
    good = scrub_registered(monkeypatch, src, tmp_path / "good", cfg)
    bad = scrub_file(src, tmp_path / "bad", Engine(cfg, AS_OF))
    assert_isolated(report_of(bad), report_of(good), "SAMPLE-OK-2")


def test_a_raising_rule_on_a_rejected_claim(bad_rule, tmp_path, monkeypatch):
    monkeypatch.setattr(Explodes, "target", "SAMPLE-BADPTR")
    src = fixture("sample.837")
    good = scrub_registered(monkeypatch, src, tmp_path / "good")
    bad = scrub_file(src, tmp_path / "bad", Engine(Config(), AS_OF))
    assert_isolated(report_of(bad), report_of(good), "SAMPLE-BADPTR")
    assert (bad.accepted, bad.rejected) == (good.accepted, good.rejected)


def test_the_event_is_logged_without_patient_data(bad_rule, tmp_path):
    saved = structlog.get_config()
    stream = io.StringIO()
    configure_logging(stream, json_lines=True)
    try:
        scrub_file(fixture("sample.837"), tmp_path, Engine(Config(), AS_OF))
    finally:
        structlog.configure(**saved)
    events = [json.loads(line) for line in stream.getvalue().splitlines()]
    failed = [e for e in events if e.get("rule") == "ZZ901"]
    assert len(failed) == 1
    assert failed[0]["error"] == "KeyError" and failed[0]["level"] == "error"
    assert "redacted" not in failed[0]
    assert SECRET not in stream.getvalue() and "SAMPLE-OK-2" not in stream.getvalue()


def test_split_run_isolates_the_same(bad_rule, tmp_path, monkeypatch):
    """--jobs, one input split at transaction sets: the units run the same engine in workers."""
    monkeypatch.setattr(parallel, "SPLIT_MIN_BYTES", 0)
    monkeypatch.setattr(Explodes, "target", "MULTI-5")
    src = fixture("multi.837")
    one = scrub_file(src, tmp_path / "one", Engine(Config(), AS_OF))
    split = parallel.scrub_split(src, tmp_path / "two", Config(), AS_OF, jobs=2)
    assert split is not None, "the fixture is regular: it must be split"
    assert split.status == "rejections" and split.exit_code == 1
    for suffix in ("clean.837", "rejected.837", "report.json"):
        assert (tmp_path / "one" / f"multi.{suffix}").read_bytes() == (tmp_path / "two" / f"multi.{suffix}").read_bytes()
    good = scrub_registered(monkeypatch, src, tmp_path / "good")
    assert one.outputs["clean"] and "MULTI-5" not in claim_ids(Path(one.outputs["clean"]))
    assert_isolated(report_of(split), report_of(good), "MULTI-5")


def test_parallel_inputs_isolate_the_same(bad_rule, tmp_path):
    """--jobs, several inputs over worker processes."""
    copy = tmp_path / "other.837"
    shutil.copyfile(fixture("sample.837"), copy)
    results = list(parallel.scrub_parallel([fixture("sample.837"), copy], tmp_path / "out", Config(), AS_OF,
                                           jobs=2, text=False))
    assert [r.exit_code for r in results] == [1, 1] and not any(r.unusable for r in results)
    single = scrub_file(fixture("sample.837"), tmp_path / "single", Engine(Config(), AS_OF))
    for stem in ("sample", "other"):
        report = json.loads((tmp_path / "out" / f"{stem}.report.json").read_text(encoding="utf-8"))
        assert report["claims"] == report_of(single)["claims"]
        assert report["status"] == "rejections"
        assert claim_ids(tmp_path / "out" / f"{stem}.clean.837") == ["SAMPLE-OK-1", "SAMPLE-OK-3"]


CLI = f"""
import sys
sys.path.insert(0, {str(ROOT / "tests")!r})
import scrubber.check.engine
from test_rule_isolation import Explodes
real = scrubber.check.engine.claim_rules
scrubber.check.engine.claim_rules = lambda: [*real(), Explodes]
from scrubber.cli.app import main
sys.argv = ["scrubber", *sys.argv[1:]]
main()
"""


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_command_line_exit_status_and_outputs(tmp_path, jobs):
    copy = tmp_path / "other.837"
    shutil.copyfile(fixture("sample.837"), copy)
    out = tmp_path / "out"
    r = subprocess.run([sys.executable, "-c", CLI, "scrub", str(fixture("sample.837")), str(copy), "--out-dir", str(out),
                        "--as-of", "2025-06-01", "--jobs", jobs], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert r.returncode == 1, r.stderr
    assert "unusable" not in r.stderr and "Traceback" not in r.stderr and SECRET not in r.stderr + r.stdout
    assert r.stdout.count("REJECTED SAMPLE-OK-2") == 2
    assert '"rule": "ZZ901"' in r.stderr and '"error": "KeyError"' in r.stderr  # the log line, per input
    for stem in ("sample", "other"):
        assert claim_ids(out / f"{stem}.clean.837") == ["SAMPLE-OK-1", "SAMPLE-OK-3"]
        report = json.loads((out / f"{stem}.report.json").read_text(encoding="utf-8"))
        assert report["status"] == "rejections"
        assert claims_by_id(report)["SAMPLE-OK-2"]["findings"][0]["rule"] == "EN011"


def test_a_malformed_map_still_holds_the_input(bad_rule, tmp_path, monkeypatch):
    """A ScrubberError from a rule (a malformed map or table) is the same for every claim, not a
    rule's bug: the input is held as unusable, as before."""
    from scrubber.codesets.backpain import MapError

    def check(self, claim, ctx):
        raise MapError("maps/backpain/excludes1.toml line 3: malformed entry")
        yield  # (a generator, as rules are)

    monkeypatch.setattr(Explodes, "check", check)
    outcome = scrub_file(fixture("sample.837"), tmp_path, Engine(Config(), AS_OF))
    assert outcome.status == "unusable" and outcome.exit_code == 2
    assert outcome.fatal.rule == "EN011" and "MapError" in outcome.unusable
    assert not (tmp_path / "sample.clean.837").exists()
