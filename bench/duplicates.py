"""What the duplicate checks cost: the claim rules over a generated file with PE001-PE003 on
(in-file fingerprints, and with a state folder) against the same run with them off, in one
process, in the same run; and the memory the fingerprints take with the ledger in memory and
spilled to SQLite.

    python bench/duplicates.py [--claims 20000] [--repeat 3]

Prints seconds (best of --repeat), claims per second and the ratio to the baseline (rules
PE001-PE003 ignored), then the peak Python memory (tracemalloc) of the ledger alone for the
same number of claims with the default bound (20,000 in memory) and with a bound of 1,000.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import tracemalloc
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gen837 import generate  # noqa: E402

from scrubber.check.engine import Engine, known_codes  # noqa: E402
from scrubber.config import parse_config  # noqa: E402
from scrubber.rules.payer._common import FileLedger, Where  # noqa: E402
from scrubber.run.pipeline import scrub_file  # noqa: E402
from scrubber.run.state import SentClaims  # noqa: E402

AS_OF = date(2025, 6, 1)


def timed(src: Path, out: Path, config: dict | None, state_dir: Path | None, repeat: int) -> float:
    best = float("inf")
    for n in range(repeat):
        engine = Engine(parse_config(config or {}, known_codes()), AS_OF)
        state = SentClaims(state_dir / str(n), AS_OF) if state_dir is not None else None
        t0 = time.perf_counter()
        scrub_file(src, out, engine, structure=False, state=state, source="bench")
        best = min(best, time.perf_counter() - t0)
        if state is not None:
            state.close()
    return best


def ledger_peak(claims: int, bound: int) -> float:
    tracemalloc.start()
    ledger = FileLedger(b"k" * 32, memory_bound=bound)
    for n in range(claims):  # (keys as the scrub makes them: HMAC digests)
        ledger.add(ledger.digest(b"claim %d" % n), ledger.digest(b"id %d" % n),
                   Where("000000001", "0001", 19 + n, f"C{n}"), True)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    ledger.close()
    return peak / 1e6


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--claims", type=int, default=20000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        src = tmp / "g.837"
        generate(src, args.claims, per_st=5000, seed=3)
        base = timed(src, tmp / "o0", {"rules": {"ignore": ["PE001", "PE002", "PE003"]}}, None, args.repeat)
        rows = [("claim rules, PE001-PE003 off (baseline)", base)]
        rows.append(("claim rules with PE001-PE002 (in-file fingerprints)", timed(src, tmp / "o1", None, None, args.repeat)))
        rows.append(("... and PE003 with a state folder (lookups + commit)",
                     timed(src, tmp / "o2", None, tmp / "state", args.repeat)))
        print(f"{args.claims} claims, {src.stat().st_size / 1e6:.1f} MB, --no-structure, one process, best of {args.repeat}")
        print(f"{'run':56} {'seconds':>8} {'claims/s':>9} {'vs baseline':>11}")
        for name, secs in rows:
            print(f"{name:56} {secs:8.2f} {args.claims / secs:9.0f} {base / secs:10.2f}x")
    print(flush=True)
    for bound in (20000, 1000):
        print(f"ledger of {args.claims} accepted claims, bound {bound}: peak {ledger_peak(args.claims, bound):.1f} MB",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
