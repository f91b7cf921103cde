"""Files stream: peak memory does not grow with the number of claims."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from gen837 import generate  # noqa: E402

PROBE = """
import json, resource, sys, time

def peak_mb():
    # VmHWM: this process's own peak resident memory (ru_maxrss would carry the parent's over exec)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
from datetime import date
from scrubber.check.engine import Engine
from scrubber.run.pipeline import scrub_file
t = time.perf_counter()
# structure=False: this measures the claim pass; pyx12's structural pass takes minutes on
# 100,000 claims and is measured in tests/test_structure.py (test_structural_pass_memory_is_flat).
o = scrub_file(sys.argv[1], sys.argv[2], Engine(None, date(2025, 6, 1)), structure=False)
print(json.dumps({"claims": o.claims, "rejected": o.rejected, "status": o.status,
                  "seconds": time.perf_counter() - t,
                  "peak_mb": peak_mb()}))
"""


def measure(path: Path, out: Path) -> dict:
    result = subprocess.run([sys.executable, "-c", PROBE, str(path), str(out)], capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_100k_claims_stream_in_flat_memory(tmp_path, capsys):
    small, big = tmp_path / "10k.837", tmp_path / "100k.837"
    generate(small, 10_000, seed=3)
    generate(big, 100_000, seed=3)
    a = measure(small, tmp_path / "a")
    b = measure(big, tmp_path / "b")
    with capsys.disabled():
        mb = big.stat().st_size / 1e6
        print(f"\n[streaming] 10,000 claims: peak {a['peak_mb']:.1f} MB; 100,000 claims ({mb:.1f} MB): "
              f"peak {b['peak_mb']:.1f} MB, {b['seconds']:.1f} s, {mb / b['seconds']:.1f} MB/s")
    assert b["claims"] == 100_000 and b["status"] == "rejections"
    assert 0 < b["rejected"] < 100_000
    assert b["peak_mb"] < 200
    # Ten times the claims, (nearly) the same memory.
    assert b["peak_mb"] < a["peak_mb"] * 1.25 + 5
    report = json.loads((tmp_path / "b" / "100k.report.json").read_text())
    assert len(report["claims"]) == 100_000


def test_claim_model_keeps_a_bounded_number_of_hierarchical_levels(tmp_path):
    """A transaction set of 3,000 claims, each with its own subscriber (HL 22), some with a
    patient (HL 23), a billing provider (HL 20) every 5-40 claims: while it streams, the model
    keeps the last few billing providers and subscribers, not every loop of the set."""
    import gc

    from scrubber.x12.model import _RECENT_PARENTS, Claim, HLNode, walk
    from scrubber.x12.reader import read_segments

    path = tmp_path / "one_st.837"
    generate(path, 3000, per_st=3000, seed=7)
    seen = 0
    most = 0
    with_patient = 0
    for event in walk(read_segments(path)):
        if type(event) is Claim:
            seen += 1
            assert event.subscriber is not None and event.billing is not None
            assert event.subscriber.parent is event.billing
            if event.patient is not None:
                with_patient += 1
                assert event.patient.parent is event.subscriber  # the patient's HL02 still finds its subscriber
            if seen % 500 == 0:
                gc.collect()
                most = max(most, sum(1 for o in gc.get_objects() if type(o) is HLNode))
    assert seen == 3000 and with_patient > 0
    assert most <= 2 * _RECENT_PARENTS + 3, most
