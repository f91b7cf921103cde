"""Peak memory of the scrub on the large hostile inputs, each generated here (bench/hostile.py).

    python bench/memory.py [--scale 1.0] [--only KIND ...] [--limit-mb 300] [--keep DIR]

Each input is scrubbed by ``python -m scrubber scrub`` in its own process (default options:
structural pass, ``--jobs auto``); the peak resident memory of that process and its workers
(``ru_maxrss`` of the children) is printed with the time, the exit status, the verdict and the
report's size, and against a baseline in the same run: the same scrub of a plain 40-claim file.
``--scale`` shrinks the inputs (0.01 for a quick look). Exits 1 when a peak passes ``--limit-mb``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

import hostile  # noqa: E402

# kind, size at scale 1, what it is
INPUTS = [
    ("nm1_loop", 1_000_000, "1,000,000 NM1 in one subscriber loop"),
    ("ref_2010aa", 2_000_000, "2,000,000 REF in 2010AA"),
    ("empty_st", 200_000, "200,000 empty ST/SE, SE01 wrong"),
    ("empty_isa", 300_000, "300,000 empty interchanges"),
    ("sv107_components", 500_000, "two SV107 of 500,000 components"),
    ("big_segments", 300, "300 one-MiB segments in one claim"),
    ("nested_hl", 100_000, "100,000 nested subscriber levels"),
]


def measure(path: Path, out: Path, extra: list[str] = ()) -> dict:
    """Scrub ``path`` in a child process; its peak RSS (with its own children), seconds, status."""
    code = (
        "import resource, subprocess, sys, time\n"
        "t = time.perf_counter()\n"
        "r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)\n"
        "s = time.perf_counter() - t\n"
        "m = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
        "print(r.returncode, s, m, r.stderr.decode('utf-8', 'replace').strip().splitlines()[-1:] )\n"
    )
    cmd = [sys.executable, "-m", "scrubber", "scrub", str(path), "--out-dir", str(out), "--as-of", "2025-06-01",
           "--format", "json", *extra]
    r = subprocess.run([sys.executable, "-c", code, *cmd], capture_output=True, text=True)
    rc, seconds, rss, last = r.stdout.split(" ", 3)
    report = out / f"{path.stem}.report.json"
    status, size = "-", 0
    if report.is_file():
        size = report.stat().st_size
        with open(report, encoding="utf-8") as fh:
            head = fh.read(4096)
        status = head.split('"status": "', 1)[1].split('"', 1)[0] if '"status": "' in head else "?"
    return {"rc": int(rc), "seconds": float(seconds), "mb": int(rss) / 1024, "status": status,
            "report_mb": size / 1e6, "last": last.strip()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--only", nargs="*", default=None)
    ap.add_argument("--limit-mb", type=float, default=300.0)
    ap.add_argument("--keep", type=Path, default=None, help="generate the inputs into DIR and keep them")
    args = ap.parse_args(argv)
    work = args.keep or Path(tempfile.mkdtemp(prefix="scrubber-memory-"))
    work.mkdir(parents=True, exist_ok=True)
    base = hostile.stray_segment(work / "baseline.837", 40, stray=False)
    b = measure(base, work / "out")
    print(f"{'input':<42} {'MB in':>7} {'seconds':>8} {'peak MB':>8} {'x base':>7} {'exit':>4}  status      report MB")
    print(f"{'baseline: 40 claims':<42} {base.stat().st_size / 1e6:>7.2f} {b['seconds']:>8.2f} {b['mb']:>8.1f} "
          f"{1.0:>7.2f} {b['rc']:>4}  {b['status']:<11} {b['report_mb']:.2f}")
    worst = 0.0
    for kind, size, what in INPUTS:
        if args.only and kind not in args.only:
            continue
        n = max(1, int(size * args.scale))
        path = hostile.KINDS[kind](work / f"{kind}.837", n)
        r = measure(path, work / "out")
        worst = max(worst, r["mb"])
        label = what if args.scale == 1.0 else f"{what} (x{args.scale:g}: {n:,})"
        print(f"{label:<42} {path.stat().st_size / 1e6:>7.1f} {r['seconds']:>8.2f} {r['mb']:>8.1f} "
              f"{r['mb'] / b['mb']:>7.2f} {r['rc']:>4}  {r['status']:<11} {r['report_mb']:.2f}")
        if r["last"] not in ("[]", "") and "warning" not in r["last"]:
            print(f"    {r['last'][:160]}")
        if not args.keep:
            path.unlink()
    print(f"highest peak: {worst:.1f} MB (limit {args.limit_mb:.0f} MB)")
    return 0 if worst <= args.limit_mb else 1


if __name__ == "__main__":
    sys.exit(main())
