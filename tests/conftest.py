"""Shared test helpers: fixture paths, a scrub runner, the shared/ folder (skipped where absent)."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import sys
from datetime import date
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures" / "edi"
SHARED = ROOT.parent / "shared"
CORPUS = SHARED / "corpus"

sys.path.insert(0, str(Path(__file__).resolve().parent))

AS_OF = date(2025, 6, 1)

# The tests read the shipped maps/ only: an operator's data folder (~/.local/share/x12-scrubber)
# on the machine running them must not change their answers. Subprocesses inherit this.
# A test that exercises the data folder sets its own (monkeypatch or --data-dir).
os.environ["SCRUBBER_DATA_DIR"] = tempfile.mkdtemp(prefix="scrubber-test-data-")


def fixture(name: str) -> Path:
    return FIXTURES / name


def need_corpus() -> Path:
    if not (CORPUS / "INDEX.tsv").is_file():
        pytest.skip(f"../shared/corpus is absent ({CORPUS}): public X12 corpus needed for this test")
    return CORPUS


CODESET_WARNING = "scrubber: warning: code sets out of date"


def problem_lines(stderr: str) -> list[str]:
    """Standard error's lines less the one code-set warning every scrub prints while a shipped
    table (the NCCI quarter, say) does not cover the as-of date."""
    return [line for line in stderr.strip().splitlines() if not line.startswith(CODESET_WARNING)]


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run the installed command as a user would: ``python -m scrubber ARGS``."""
    return subprocess.run(
        [sys.executable, "-m", "scrubber", *map(str, args)],
        capture_output=True, text=True, cwd=cwd, timeout=600,
    )


def scrub(path: Path, out_dir: Path, as_of: date = AS_OF, config=None):
    """Scrub in-process; return (outcome, report dict)."""
    from scrubber.check.engine import Engine
    from scrubber.run.pipeline import scrub_file

    outcome = scrub_file(path, out_dir, Engine(config, as_of))
    report = json.loads(Path(outcome.report_path).read_text(encoding="utf-8"))
    return outcome, report


@pytest.fixture(scope="session")
def scrubbed(tmp_path_factory):
    """Scrub each fixture once per session.

    ``scrubbed(name, as_of=None, config=None) -> (outcome, report, out_dir)``; ``config`` is a
    dict in the form of scrubber.toml (e.g. ``{"limits": {"lines_per_claim": 2}}``).
    """
    cache: dict[tuple, tuple] = {}

    def get(name: str, as_of: date | None = None, config: dict | None = None):
        key = (name, as_of or AS_OF, json.dumps(config, sort_keys=True, default=str))
        if key not in cache:
            from scrubber.config import parse_config
            from scrubber.check.engine import known_codes

            cfg = parse_config(config, known_codes()) if config else None
            out = tmp_path_factory.mktemp(name.replace(".", "_"))
            outcome, report = scrub(fixture(name), out, as_of=as_of or AS_OF, config=cfg)
            cache[key] = (outcome, report, out)
        return cache[key]

    return get


def claims_by_id(report: dict) -> dict[str, dict]:
    return {c["claim_id"]: c for c in report["claims"]}


def make_fixtures():
    """tools/make_fixtures.py, the builders of the synthetic fixtures (imported once)."""
    tools = str(ROOT / "tools")
    if tools not in sys.path:
        sys.path.insert(0, tools)
    import make_fixtures as mf

    return mf


def write_837(path: Path, subscribers: list, edits: dict | None = None, isa13: str = "000000901") -> Path:
    """A synthetic 837P at ``path``: one billing provider with ``subscribers``
    (``make_fixtures().Subscriber`` with their claims). ``edits`` maps a CLM01 to a function that
    changes that claim's generated segments (a 2400 NTE, SV103 = MJ ...), as the fixture scripts do."""
    mf = make_fixtures()
    original = mf.claim_segments

    def edited(claim):
        segs = original(claim)
        edit = (edits or {}).get(claim.clm_id)
        return edit(segs) if edit else segs

    mf.claim_segments = edited  # transaction_segments looks it up at call time
    try:
        st = mf.transaction_segments("0001", [mf.BillingProvider(**mf.BP_ONE, subscribers=subscribers)])
    finally:
        mf.claim_segments = original
    mf.write_837(path, [(mf.interchange(isa13, [mf.group("1", [st])], mf.STD_LF), mf.STD_LF)])
    return path
