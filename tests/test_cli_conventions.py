"""The command line as operators and pipelines use it: Ctrl-C, standard input, folders,
--fail-on, --quiet/--verbose, colour, --select/--ignore, --version, the configuration found
upwards, JUnit/SARIF/GitHub output, the text summary, the progress bar over the whole run,
--as-of in the configured time zone, and control characters under --format html.

Most runs go through click's test runner in this process (the same code as the command, without
a new interpreter each time); Ctrl-C is sent to a real process."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from conftest import CODESET_WARNING, SHARED, fixture, problem_lines

from scrubber.cli.app import cli

AS_OF = "2025-06-01"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def invoke(*args, input: bytes | None = None, env: dict | None = None, cwd: Path | None = None):
    runner = CliRunner()
    with contextlib.chdir(cwd) if cwd else contextlib.nullcontext():
        return runner.invoke(cli, [str(a) for a in args], input=input, env=env, catch_exceptions=False)


def lines(stderr: str) -> list[str]:
    return problem_lines(stderr)


# ---- Ctrl-C -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def big(tmp_path_factory) -> Path:
    """A file large enough to be split by --jobs and to take a few seconds (made once)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    from gen837 import generate

    path = tmp_path_factory.mktemp("big") / "big.837"
    generate(path, 30_000, per_st=1000, seed=3)
    return path


@pytest.mark.parametrize("jobs", ["2", "1"])
def test_ctrl_c_exits_130_with_one_line_and_no_output(tmp_path, jobs, big):
    """SIGINT to the whole process group (as a terminal's Ctrl-C does) while the scrub runs."""
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "scrubber", "scrub", str(big), "--out-dir", str(out), "--as-of", AS_OF,
         "--jobs", jobs],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: (os.setpgrp(), signal.signal(signal.SIGINT, signal.SIG_DFL)),
    )
    # wait until the scrub is under way: its first file (or --jobs' work folder) in the out dir
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None and not (out.is_dir() and any(out.iterdir())):
        time.sleep(0.05)
    assert proc.poll() is None, "the scrub ended before it could be interrupted"
    time.sleep(0.3)
    os.killpg(proc.pid, signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr[-2000:]
    assert lines(stderr) == ["scrubber: interrupted"], stderr[-2000:]
    assert "Traceback" not in stderr and "Aborted" not in stderr
    assert stdout == ""
    assert sorted(p.name for p in out.iterdir()) == [], "no partial output"


# ---- inputs: standard input, folders ------------------------------------------------------------


def test_standard_input_is_scrubbed_as_stdin(tmp_path):
    data = fixture("sample.837").read_bytes()
    r = invoke("scrub", "-", "--out-dir", tmp_path, "--as-of", AS_OF, input=data)
    assert r.exit_code == 1, r.stderr
    assert r.stdout.startswith("stdin.837: REJECTIONS")
    report = json.loads((tmp_path / "stdin.report.json").read_text())
    assert report["input"]["bytes"] == len(data) and report["summary"]["rejected"] == 2
    assert {p.name for p in tmp_path.iterdir()} == {"stdin.report.json", "stdin.clean.837", "stdin.rejected.837"}
    empty = invoke("scrub", "-", "--out-dir", tmp_path / "e", "--as-of", AS_OF, input=b"")
    assert empty.exit_code == 2 and json.loads((tmp_path / "e" / "stdin.report.json").read_text())["status"] == "unusable"


def test_a_folder_scrubs_its_x12_files(tmp_path):
    src = tmp_path / "in"
    (src / "sub").mkdir(parents=True)
    shutil.copy(fixture("sample.837"), src / "a.837")
    shutil.copy(fixture("clean_single.837"), src / "b.edi")
    shutil.copy(fixture("multi.837"), src / "sub" / "c.837")
    (src / "notes.txt").write_text("not a claim file\n")
    (src / ".hidden.837").write_bytes(fixture("sample.837").read_bytes())
    out = tmp_path / "out"
    r = invoke("scrub", src, "--out-dir", out, "--as-of", AS_OF, "--quiet")
    assert r.exit_code == 1
    assert [line.split(":")[0] for line in r.stdout.splitlines()] == ["a.837", "b.edi"]
    r = invoke("scrub", src, "--out-dir", out, "--as-of", AS_OF, "--quiet", "--recursive")
    assert [line.split(":")[0] for line in r.stdout.splitlines()] == ["a.837", "b.edi", "c.837"]
    r = invoke("scrub", src, "--out-dir", out, "--as-of", AS_OF, "--quiet", "-r", "--glob", "*.837")
    assert [line.split(":")[0] for line in r.stdout.splitlines()] == ["a.837", "c.837"]
    # the out dir inside the folder is not scrubbed again
    r = invoke("scrub", src, "--out-dir", src / "out", "--as-of", AS_OF, "--quiet", "-r")
    r2 = invoke("scrub", src, "--out-dir", src / "out", "--as-of", AS_OF, "--quiet", "-r")
    assert r.stdout == r2.stdout
    empty = tmp_path / "empty"
    empty.mkdir()
    r = invoke("scrub", empty, "--out-dir", out)
    assert r.exit_code == 2 and lines(r.stderr) == [f"scrubber: {empty}: no X12 file in this folder (--recursive to descend)"]


# ---- exit status, quiet, verbose, colour ----------------------------------------------------------


def test_fail_on_warning(tmp_path):
    # structure_a2.837: its one claim is accepted with a warning (SX090, the version label)
    ok = invoke("scrub", fixture("structure_a2.837"), "--out-dir", tmp_path, "--as-of", AS_OF)
    assert ok.exit_code == 0 and "1 warnings" in ok.stdout
    strict = invoke("scrub", fixture("structure_a2.837"), "--out-dir", tmp_path, "--as-of", AS_OF, "--fail-on", "warning")
    assert strict.exit_code == 1
    clean = invoke("scrub", fixture("clean_single.837"), "--out-dir", tmp_path, "--as-of", AS_OF, "--fail-on", "warning")
    assert clean.exit_code == 0


def test_quiet_and_verbose(tmp_path):
    quiet = invoke("scrub", fixture("sample.837"), "--out-dir", tmp_path, "--as-of", AS_OF, "-q")
    assert quiet.stdout == "sample.837: REJECTIONS  claims 5, accepted 3, rejected 2 (2 errors, 0 warnings)\n"
    assert CODESET_WARNING not in quiet.stderr  # a warning, not an error
    # codes.837: a rejected claim with more than 5 errors and one with a warning besides its errors
    normal = invoke("scrub", fixture("codes.837"), "--out-dir", tmp_path, "--as-of", AS_OF)
    verbose = invoke("scrub", fixture("codes.837"), "--out-dir", tmp_path, "--as-of", AS_OF, "--verbose")
    assert CODESET_WARNING in normal.stderr
    # verbose lists every finding of a rejected claim, its warnings too
    assert verbose.stdout.count("\n    ") > normal.stdout.count("\n    ")
    assert re.search(r"^    [A-Z]{2}\d{3} (warning|not_checked) ", verbose.stdout, re.M)
    assert "more errors (see the report)" in normal.stdout and "more errors" not in verbose.stdout
    missing = invoke("scrub", tmp_path / "nope.837", "--out-dir", tmp_path, "-q")
    assert missing.exit_code == 2 and "no such file" in missing.stderr  # errors stay


def test_colour_always_never_and_no_color(tmp_path):
    args = ("scrub", fixture("sample.837"), "--out-dir", tmp_path, "--as-of", AS_OF)
    assert ANSI.search(invoke(*args, "--color", "always").stdout)
    assert not ANSI.search(invoke(*args, "--color", "never").stdout)
    assert not ANSI.search(invoke(*args).stdout)  # not a terminal
    plain = invoke(*args, "--color", "auto", env={"NO_COLOR": "1"})
    assert not ANSI.search(plain.stdout)
    assert ANSI.sub("", invoke(*args, "--color", "always").stdout) == plain.stdout
    for command in (["rules"], ["codesets", "--as-of", AS_OF], ["explain", fixture("sample.837"), "--as-of", AS_OF],
                    ["status", tmp_path / "nothing"], ["watch", "--help"]):
        for flag in ("--color=never", "--quiet", "--verbose"):
            r = invoke(*command, flag)
            assert "No such option" not in r.stderr, (command, flag, r.stderr)


# ---- rules on the command line, version, configuration found ------------------------------------


def test_select_and_ignore_on_the_command_line(tmp_path):
    base = ("scrub", fixture("backpain.837"), "--out-dir", tmp_path, "--as-of", AS_OF, "--format", "json")
    picked = json.loads(invoke(*base, "--select", "NC,PX", "--ignore", "NC003").stdout)
    rules = {f["rule"] for c in picked["claims"] for f in c["findings"]}
    assert rules and all(r.startswith(("NC", "PX")) for r in rules) and "NC003" not in rules
    cfg = tmp_path / "scrubber.toml"
    cfg.write_text('[rules]\nselect = ["NC", "PX"]\nignore = ["NC003"]\n')
    same = json.loads(invoke(*base, "--config", cfg).stdout)
    assert same["claims"] == picked["claims"]
    bad = invoke(*base, "--select", "ZZ9")
    assert bad.exit_code == 2 and lines(bad.stderr) == ["scrubber: --select: 'ZZ9' matches no rule"]


def test_version_names_the_code_set_years(tmp_path):
    r = invoke("--version")
    assert r.exit_code == 0
    report = json.loads(invoke("scrub", fixture("clean_single.837"), "--out-dir", tmp_path, "--as-of", AS_OF,
                               "--format", "json").stdout)
    icd = report["code_sets"]["icd10cm"]
    ncci = report["code_sets"]["ncci"]
    assert r.stdout.startswith("scrubber ")
    assert f"ICD-10-CM {icd[0]}-{icd[-1]}" in r.stdout and f"NCCI PTP {ncci['ptp']}, MUE {ncci['mue']}" in r.stdout


def test_configuration_found_in_parent_folders_and_pyproject(tmp_path):
    project = tmp_path / "project"
    deep = project / "claims" / "today"
    deep.mkdir(parents=True)
    shutil.copy(fixture("sample.837"), deep / "s.837")
    (project / "scrubber.toml").write_text('[rules.severity]\nDP = "warning"\nSX006 = "warning"\n')
    r = invoke("scrub", "s.837", "--out-dir", "out", "--as-of", AS_OF, cwd=deep)
    assert r.exit_code == 0 and "DP001 warning x1" in r.stdout
    (project / "scrubber.toml").unlink()
    (project / "pyproject.toml").write_text('[project]\nname = "x"\n[tool.scrubber.rules]\nignore = ["DP001"]\n')
    r = invoke("scrub", "s.837", "--out-dir", "out", "--as-of", AS_OF, cwd=deep)
    assert r.exit_code == 1 and "DP001" not in r.stdout and "DP002 error x1" in r.stdout
    (project / "pyproject.toml").write_text('[project]\nname = "x"\n')  # no [tool.scrubber]: defaults
    r = invoke("scrub", "s.837", "--out-dir", "out", "--as-of", AS_OF, cwd=deep)
    assert r.exit_code == 1 and "DP001 error x1" in r.stdout


def test_as_of_defaults_to_today_in_the_configured_time_zone(tmp_path):
    seen = {}
    for tz in ("Pacific/Kiritimati", "Pacific/Pago_Pago"):  # UTC+14 and UTC-11: never the same date
        cfg = tmp_path / f"{tz.replace('/', '_')}.toml"
        cfg.write_text(f'[options]\ntimezone = "{tz}"\n')
        r = invoke("scrub", fixture("clean_single.837"), "--out-dir", tmp_path / "o", "--config", cfg, "--format", "json")
        seen[tz] = json.loads(r.stdout)["as_of"]
        assert seen[tz] == datetime.now(ZoneInfo(tz)).date().isoformat()
    assert len(set(seen.values())) == 2
    bad = tmp_path / "bad.toml"
    bad.write_text('[options]\ntimezone = "Mars/Olympus"\n')
    r = invoke("scrub", fixture("clean_single.837"), "--out-dir", tmp_path / "o", "--config", bad)
    assert r.exit_code == 2 and "time zone" in r.stderr


# ---- output for pipelines -------------------------------------------------------------------------


def test_junit_one_test_case_per_claim(tmp_path):
    r = invoke("scrub", fixture("sample.837"), fixture("bad_empty.837"), "--out-dir", tmp_path, "--as-of", AS_OF,
               "--format", "junit")
    assert r.exit_code == 2
    root = ET.fromstring(r.stdout)
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["sample.837", "bad_empty.837"]
    report = json.loads((tmp_path / "sample.report.json").read_text())
    cases = suites[0].findall("testcase")
    assert [c.get("name").split()[0] for c in cases] == [c["claim_id"] for c in report["claims"]]
    failed = [c.get("name").split()[0] for c in cases if c.find("failure") is not None]
    assert failed == [c["claim_id"] for c in report["claims"] if c["status"] == "rejected"]
    assert suites[0].get("failures") == "2" and suites[1].get("errors") == "1"
    assert suites[1].find("testcase/error").get("message").startswith("unusable: ")


def test_sarif_and_github_annotations(tmp_path):
    r = invoke("scrub", fixture("backpain.837"), "--out-dir", tmp_path, "--as-of", AS_OF, "--format", "sarif")
    assert r.exit_code == 1
    log = json.loads(r.stdout)
    assert log["version"] == "2.1.0" and len(log["runs"]) == 1
    report = json.loads((tmp_path / "backpain.report.json").read_text())
    findings = [f for c in report["claims"] for f in c["findings"]] + report["findings"]
    results = log["runs"][0]["results"]
    assert len(results) == len(findings)
    assert sorted(r["ruleId"] for r in results) == sorted(f["rule"] for f in findings)
    levels = {("error", "error"), ("warning", "warning"), ("not_checked", "note"), ("info", "note")}
    assert all((r["properties"]["severity"], r["level"]) in levels for r in results)
    assert {d["id"] for d in log["runs"][0]["tool"]["driver"]["rules"]} == {f["rule"] for f in findings}
    assert all("byteOffset" in r["locations"][0]["physicalLocation"]["region"] for r in results)
    gh = invoke("scrub", fixture("sample.837"), "--out-dir", tmp_path, "--as-of", AS_OF, "--format", "github")
    out = gh.stdout.splitlines()
    assert len(out) == 2 and all(line.startswith("::error file=") for line in out)
    assert "title=DP002 pointer-unfilled::SAMPLE-BADPTR 2400 SV1 #74 SV107-2: " in gh.stdout


# ---- the text summary ------------------------------------------------------------------------------


def test_text_summary_totals_severities_and_warned_claims(tmp_path):
    cfg = tmp_path / "scrubber.toml"
    cfg.write_text('[rules.severity]\nNC003 = "warning"\n')
    r = invoke("scrub", fixture("backpain.837"), "--out-dir", tmp_path / "o", "--as-of", AS_OF, "--config", cfg,
               "--show", "warnings")
    out = r.stdout.splitlines()
    report = json.loads((tmp_path / "o" / "backpain.report.json").read_text())
    s = report["summary"]
    warned = [c["claim_id"] for c in report["claims"] if c["status"] == "accepted"
              and any(f["severity"] == "warning" for f in c["findings"])]
    totals = (f"claims {s['claims']}, accepted {s['accepted']} ({len(warned)} with warnings), "
              f"rejected {s['rejected']} ({s['errors']} errors, {s['warnings']} warnings)")
    assert out[1] == f"  {totals}" and out[-1] == f"  total: backpain.837: REJECTIONS  {totals}"
    # NC003 counted with the severity its findings had (warning here), not the rule's default (error)
    assert "NC003 warning x2" in r.stdout and "NC003 error" not in r.stdout
    assert [line.split()[1] for line in out if line.startswith("  WARNED ")] == warned
    default = invoke("scrub", fixture("backpain.837"), "--out-dir", tmp_path / "o", "--as-of", AS_OF, "--config", cfg)
    assert "  WARNED " not in default.stdout


def test_one_finding_where_a_rule_and_the_structure_say_the_same(tmp_path):
    r = invoke("scrub", fixture("sample.837"), "--out-dir", tmp_path, "--as-of", AS_OF, "--format", "json")
    claim = next(c for c in json.loads(r.stdout)["claims"] if c["claim_id"] == "SAMPLE-NOPTR")
    assert [(f["rule"], f["element"]) for f in claim["findings"]] == [("DP001", "SV107-1")]
    # the 999 still reports the structural error (the guide requires SV107)
    invoke("scrub", fixture("sample.837"), "--out-dir", tmp_path / "a", "--as-of", AS_OF, "--ack", "999")
    assert "IK3*SV1*" in (tmp_path / "a" / "sample.999").read_text()


# ---- the progress bar ------------------------------------------------------------------------------


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_covers_the_structural_pass(tmp_path):
    from scrubber.check.engine import Engine
    from scrubber.report.progress import Progress
    from scrubber.run.pipeline import scrub_file

    path = fixture("multi.837")
    tty = _Tty()
    bar = Progress(path.name, path.stat().st_size, tty, every=1, path=path)
    scrub_file(path, tmp_path, Engine(None, date(2025, 6, 1)), sinks=[bar], structure=True)
    out = tty.getvalue()
    first_structure, first_claims = out.find("(structure)"), out.find("(claims)")
    assert 0 <= first_structure < first_claims, out[:500]
    assert bar._done == 2 * path.stat().st_size and "100%" in out


def test_read_position_follows_an_open_file(tmp_path):
    from scrubber.report.progress import read_position

    path = tmp_path / "f.bin"
    path.write_bytes(b"x" * 10_000)
    if not Path("/proc/self/fdinfo").is_dir():
        pytest.skip("no /proc/self/fdinfo here (Linux only); the bar then advances at the claim pass")
    with open(path, "rb", buffering=0) as fh:
        fh.read(4321)
        assert read_position(path) == 4321
    assert read_position(path) is None


# ---- control characters under --format html ------------------------------------------------------


@pytest.mark.parametrize("name", ["html_control_char_in_value.837", "html_traceback_control_char_segment.837",
                                  "html_ctrl_component_separator.837"])
def test_html_never_changes_a_verdict(tmp_path, name):
    src = SHARED / "repro" / name
    if not src.is_file():
        pytest.skip(f"{src} is absent")
    plain = invoke("scrub", src, "--out-dir", tmp_path / "j", "--as-of", AS_OF, "--format", "json")
    page = invoke("scrub", src, "--out-dir", tmp_path / "h", "--as-of", AS_OF, "--format", "html")
    assert page.exit_code == plain.exit_code
    stem = name[:-4]
    a = json.loads((tmp_path / "j" / f"{stem}.report.json").read_text())
    b = json.loads((tmp_path / "h" / f"{stem}.report.json").read_text())
    assert a == b and "EN011" not in json.dumps(b)
    assert "Traceback" not in page.stderr
    assert page.stdout == f"{tmp_path / 'h' / stem}.report.html\n"
    import lxml.html

    doc = lxml.html.fromstring((tmp_path / "h" / f"{stem}.report.html").read_bytes())
    assert doc.findtext(".//title") == f"Scrub report: {name}"
    if b["status"] == "unusable":  # one line on standard error, as with every format
        assert len(lines(page.stderr)) == 1 and "unusable" in page.stderr
        assert "\u240b" in doc.text_content()  # the VT shown as its control picture
