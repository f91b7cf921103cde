"""Benchmark: the scrubber against pyx12's full validation on the same file, in the same run.

    python bench/run.py [FILE] [--claims 10000] [--style std] [--skip-pyx12] [--scrubber-args "..."]
    python bench/run.py [FILE] --cluster [--cluster-workers 2] [--rounds 3] [--scrubber-args "..."]

With no FILE, a synthetic file is generated with bench/gen837.py. Each tool runs in its own
process (so peak memory is its own): the scrubber as `python -m scrubber scrub FILE` (outputs in a
temporary folder), pyx12 as `x12n_document` writing its 999 to a temporary file. Printed for each:
seconds, MB/s, claims/s, peak resident memory of the process itself, the peak memory of the
process and its worker processes together (``--jobs``; proportional set size, sampled, so pages
a forked worker shares with the parent count once), and the ratio of throughputs. Not a timed test: a
script people run; the README records the latest figures and the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from gen837 import generate  # noqa: E402

SCRUB = """
import json, os, resource, sys, time

def peak_mb():
    # VmHWM: this process's own peak resident memory (ru_maxrss would carry the parent's over exec)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
from scrubber.cli.app import main
sys.stdout = open(os.devnull, "w")
t = time.perf_counter()
try:
    sys.argv = ["scrubber", "scrub", *sys.argv[1:]]
    main()
except SystemExit as e:
    code = e.code
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"seconds": time.perf_counter() - t, "exit": code, "cpu": usage.ru_utime + usage.ru_stime,
                  "peak_mb": peak_mb()}), file=sys.stderr)
"""

PYX12 = """
import json, logging, resource, sys, time

def peak_mb():
    # VmHWM: this process's own peak resident memory (ru_maxrss would carry the parent's over exec)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
import pyx12.params, pyx12.x12n_document
logging.disable(logging.CRITICAL)
t = time.perf_counter()
with open(sys.argv[2], "w") as fd_997:
    ok = pyx12.x12n_document.x12n_document(pyx12.params.params(), sys.argv[1], fd_997, None, None)
print(json.dumps({"seconds": time.perf_counter() - t, "valid": bool(ok),
                  "peak_mb": peak_mb()}), file=sys.stderr)
"""


def _tree(pid: int) -> list[int]:
    """pid and its descendants (from /proc/PID/task/*/children)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    todo.extend(int(c) for c in fh.read().split())
        except OSError:
            pass
    return out


def _tree_pss_mb(pid: int) -> float:
    """Proportional set size of a process tree: shared pages (a forked worker's inherited code
    and tables) count once, split between the processes that share them."""
    total = 0
    for p in _tree(pid):
        try:
            with open(f"/proc/{p}/smaps_rollup") as fh:
                for line in fh:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            pass
    return total / 1024


def run(code: str, *args: str) -> dict:
    """Run ``code`` in its own process; its JSON result, plus ``tree_mb``: the peak memory of the
    process and its workers together (PSS, sampled every 50 ms; Linux only, else 0)."""
    import threading

    proc = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    peak = [0.0]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], _tree_pss_mb(proc.pid))
            stop.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    if os.path.exists(f"/proc/{os.getpid()}/smaps_rollup"):
        sampler.start()
    _, err = proc.communicate()
    stop.set()
    if sampler.is_alive():
        sampler.join()
    last = err.strip().splitlines()[-1] if err.strip() else ""
    try:
        result = json.loads(last)
    except json.JSONDecodeError:
        raise SystemExit(f"benchmark run failed:\n{err[-2000:]}") from None
    result["tree_mb"] = peak[0]
    result["stderr"] = err
    return result


def count_claims(path: Path) -> int:
    data = path.read_bytes()
    term = data[105:106]
    elem = data[3:4]
    return data.count(term + b"CLM" + elem) + data.count(term + b"\nCLM" + elem) + data.count(term + b"\r\nCLM" + elem)


def line(name: str, r: dict, mb: float, claims: int) -> str:
    return (f"{name:<26} {r['seconds']:8.2f} s {mb / r['seconds']:8.2f} MB/s {claims / r['seconds']:10.0f} claims/s "
            f"{r['peak_mb']:8.1f} MB peak {r['tree_mb']:8.1f} MB with workers")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("file", nargs="?", type=Path)
    ap.add_argument("--claims", type=int, default=10000)
    ap.add_argument("--style", default="std")
    ap.add_argument("--skip-pyx12", action="store_true")
    ap.add_argument("--scrubber-args", default="", help="extra options for scrubber scrub, e.g. '--no-structure'")
    ap.add_argument("--variant", action="append", default=[],
                    help="an extra scrubber run with these options (repeatable), e.g. --variant=--no-structure")
    ap.add_argument("--cluster", action="store_true",
                    help="compare --cluster on a local Dask cluster with --jobs of as many processes (no pyx12)")
    ap.add_argument("--cluster-workers", type=int, default=2, help="dask worker processes (one thread each)")
    ap.add_argument("--rounds", type=int, default=3, help="--cluster: rounds of the two variants")
    args = ap.parse_args()
    if args.cluster:
        return cluster_main(args)

    with tempfile.TemporaryDirectory() as tmp:
        path = args.file
        if path is None:
            path = Path(tmp) / f"bench_{args.claims}.837"
            generate(path, args.claims, style=args.style)
        mb = path.stat().st_size / 1e6
        claims = count_claims(path)
        print(f"file: {path.name}, {mb:.1f} MB, {claims} claims; machine: {platform.machine()}, "
              f"{os.cpu_count()} cores, Python {platform.python_version()}")
        runs = [("scrubber " + args.scrubber_args).strip()] + [f"scrubber {v}" for v in args.variant]
        results = {}
        for i, name in enumerate(runs):
            extra = shlex.split(name[len("scrubber"):])
            r = run(SCRUB, str(path), "--out-dir", str(Path(tmp) / f"out{i}"), "--as-of", "2025-06-01", *extra)
            results[name] = r
            print(line(name, r, mb, claims))
        if not args.skip_pyx12:
            p = run(PYX12, str(path), str(Path(tmp) / "pyx12.999"))
            print(line("pyx12 x12n_document", p, mb, claims))
            for name, r in results.items():
                print(f"ratio {name!r} / pyx12: {p['seconds'] / r['seconds']:.1f}x throughput")
    return 0


def start_cluster(tmp: Path, workers: int) -> tuple[str, list[subprocess.Popen]]:
    """A scheduler and ``workers`` single-thread workers (without nanny: one process each) on
    127.0.0.1 (free ports); their address and processes. They stay in this script's session, as
    the ``--jobs`` processes do: with the kernel's autogroup scheduling, processes in sessions
    of their own would each get a CPU share of their own on a loaded machine, and the comparison
    would measure that."""
    import time

    procs: list[subprocess.Popen] = []
    file = tmp / "scheduler.json"
    log = open(tmp / "dask.log", "ab")

    def start(*cmd: str) -> None:
        procs.append(subprocess.Popen([sys.executable, "-m", "dask", *cmd], stdout=log, stderr=subprocess.STDOUT,
                                      cwd=HERE.parent))  # (this checkout's scrubber)

    start("scheduler", "--host", "127.0.0.1", "--port", "0", "--dashboard-address", "127.0.0.1:0",
          "--scheduler-file", str(file))
    deadline = time.monotonic() + 60
    while not file.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.2)
    address = json.loads(file.read_text())["address"]
    for i in range(workers):
        start("worker", address, "--nthreads", "1", "--no-nanny", "--host", "127.0.0.1", "--no-dashboard",
              "--name", f"w{i + 1}", "--local-directory", str(tmp / f"w{i + 1}"))
    from distributed import Client

    with Client(address, timeout=60) as client:
        client.wait_for_workers(workers, timeout=120)
    return address, procs


def stop_cluster(procs: list[subprocess.Popen]) -> None:
    import signal

    for proc in procs:
        try:
            proc.send_signal(signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()


def cluster_main(args) -> int:
    import statistics

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        path = args.file
        if path is None:
            path = tmp / f"bench_{args.claims}.837"
            generate(path, args.claims, style=args.style)
        mb = path.stat().st_size / 1e6
        claims = count_claims(path)
        print(f"file: {path.name}, {mb:.1f} MB, {claims} claims; machine: {platform.machine()}, "
              f"{os.cpu_count()} cores, Python {platform.python_version()}; {args.cluster_workers} dask workers "
              f"(1 thread each) against --jobs {args.cluster_workers}; {args.rounds} rounds, alternating", flush=True)
        address, procs = start_cluster(tmp, args.cluster_workers)
        try:
            extra = shlex.split(args.scrubber_args)
            common = ["--as-of", "2025-06-01", *extra]
            sample = HERE.parent / "fixtures" / "edi" / "sample.837"
            run(SCRUB, str(sample), "--out-dir", str(tmp / "warm"), "--cluster", address, *common)  # sets the workers up
            variants = {"jobs": ["--jobs", str(args.cluster_workers)], "cluster": ["--cluster", address]}
            seconds: dict[str, list[float]] = {"jobs": [], "cluster": []}
            ratios = []
            for r in range(args.rounds):
                order = ["jobs", "cluster"] if r % 2 == 0 else ["cluster", "jobs"]
                got = {}
                for name in order:
                    res = run(SCRUB, str(path), "--out-dir", str(tmp / f"{name}{r}"), *common, *variants[name])
                    if res["exit"] not in (0, 1):
                        raise SystemExit(f"scrubber {name} exited {res['exit']}:\n{res['stderr'][-2000:]}")
                    got[name] = res
                    seconds[name].append(res["seconds"])
                    print(line(f"round {r + 1} {name}", res, mb, claims) + f" {res['cpu']:7.2f} s CPU (client)",
                          flush=True)
                    shutil_rm(tmp / f"{name}{r}")
                ratios.append(got["cluster"]["seconds"] / got["jobs"]["seconds"])
                print(f"round {r + 1}: cluster / jobs = {ratios[-1]:.3f}", flush=True)
            jm, cm = statistics.median(seconds["jobs"]), statistics.median(seconds["cluster"])
            print(f"median --jobs {args.cluster_workers}: {jm:.2f} s ({claims / jm:.0f} claims/s); "
                  f"median --cluster ({args.cluster_workers} workers): {cm:.2f} s ({claims / cm:.0f} claims/s)")
            print(f"median ratio cluster / jobs: {statistics.median(ratios):.3f} "
                  f"(overhead {100 * (statistics.median(ratios) - 1):+.1f}%)")
        finally:
            stop_cluster(procs)
    return 0


def shutil_rm(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
