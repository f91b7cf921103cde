"""Where a scrub's time goes, phase by phase, and the throughput each phase alone allows.

    python bench/phases.py FILE [--pyx12-seconds S | --skip-pyx12] [--repeat 3] [--baseline REV]

Each phase runs the work of the one before it plus one more step, on the same file, in this
process (best of ``--repeat`` runs; the imports and the code tables are loaded first and not
counted, as in bench/run.py):

1. read:      the reader alone (segments with their elements split);
2. model:     read + the claim model (envelopes, HL tree, claims, lines, diagnoses);
3. rules:     read + model + every claim rule (the engine);
4. scrub:     the whole ``--no-structure`` scrub (statuses, report, clean and rejected 837s);
5. structure: the structural pass alone (the compiled 005010X222A1 validator).

pyx12's full validation of the file (``x12n_document``) is timed in the same run, in its own
process, unless ``--pyx12-seconds`` gives a time measured elsewhere or ``--skip-pyx12``. For each
phase the script prints pyx12's seconds divided by the phase's: the best throughput ratio a
scrub could reach if everything after that phase cost nothing. A target ratio above a phase's
ceiling cannot be met without making that phase itself faster.

``--baseline REV`` (a commit, tag or branch of this repository) times the same phases of that
revision on the same file in the same run: its tree is checked out into a temporary folder and its
own ``bench/phases.py`` runs there, in its own process, alternating with this tree's (each best of
``--repeat``, ``--rounds`` times, the best kept); the table then gives both times and new/old
ratios per phase. Not a timed test.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from run import PYX12, run  # noqa: E402

from scrubber.check.engine import Engine  # noqa: E402
from scrubber.x12.model import Claim, walk  # noqa: E402
from scrubber.run.pipeline import scrub_file  # noqa: E402
from scrubber.x12.reader import read_segments  # noqa: E402
from scrubber.check.structure import validate_structure  # noqa: E402

AS_OF = date(2025, 6, 1)


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


LINE = re.compile(r"^(?P<name>\S.*?)\s+(?P<seconds>\d+\.\d+) s\s+\d+\.\d+ MB/s")


def parse_phases(text: str) -> dict[str, float]:
    """The phase times a run of this script (any revision) printed: {phase: seconds}."""
    out = {}
    for line in text.splitlines():
        m = LINE.match(line)
        if m and not m["name"].startswith("pyx12"):
            out[m["name"].strip()] = float(m["seconds"])
    return out


def run_tree(root: Path, path: Path, repeat: int) -> dict[str, float]:
    """The phases of the tree at ``root`` (its own bench/phases.py and package), in a new process."""
    env = dict(os.environ, PYTHONPATH=str(root))
    r = subprocess.run([sys.executable, str(root / "bench" / "phases.py"), str(path), "--skip-pyx12",
                        "--repeat", str(repeat)], capture_output=True, text=True, cwd=root, env=env)
    if r.returncode != 0:
        raise SystemExit(f"phases.py: the run in {root} failed: {(r.stderr.strip().splitlines() or ['?'])[-1]}")
    return parse_phases(r.stdout)


def compare(path: Path, baseline: str, repeat: int, rounds: int) -> int:
    """Old revision and this tree, alternating, on the same file: best of each per phase."""
    import shutil
    import tempfile

    here = HERE.parent
    rev = subprocess.run(["git", "rev-parse", "--short", baseline], capture_output=True, text=True, cwd=here)
    if rev.returncode != 0:
        print(f"phases.py: {baseline!r} is not a revision of this repository", file=sys.stderr)
        return 2
    old_rev = rev.stdout.strip()
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=here).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True,
                           cwd=here).stdout.strip()
    tmp = Path(tempfile.mkdtemp(prefix="phases-"))
    try:
        archive = subprocess.run(["git", "archive", old_rev], capture_output=True, cwd=here, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(tmp)], input=archive, check=True)
        old: dict[str, float] = {}
        new: dict[str, float] = {}
        for _ in range(rounds):
            for tree, best_of in ((tmp, old), (here, new)):
                for name, seconds in run_tree(tree, path, repeat).items():
                    best_of[name] = min(seconds, best_of.get(name, seconds))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    mb = path.stat().st_size / 1e6
    print(f"file: {path.name}, {mb:.1f} MB; Python {sys.version.split()[0]}, {os.cpu_count()} cores; "
          f"best of {repeat} x {rounds} rounds, alternating")
    print(f"{'phase':<22} {'old ' + old_rev:>12} {'new ' + head + ('+' if dirty else ''):>12}  new/old")
    for name, seconds in new.items():
        before = old.get(name)
        ratio = f"{seconds / before:7.2f}" if before else "      -"
        before_text = f"{before:10.2f} s" if before is not None else f"{'-':>12}"
        print(f"{name:<22} {before_text} {seconds:10.2f} s  {ratio}")
    old_rules = old.get("rules", 0) - old.get("model", 0)
    new_rules = new.get("rules", 0) - new.get("model", 0)
    ratio = f"{new_rules / old_rules:7.2f}" if old_rules > 0 else "      -"
    print(f"{'rules alone':<22} {old_rules:10.2f} s {new_rules:10.2f} s  {ratio}   (rules phase minus model phase)")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("file", type=Path)
    ap.add_argument("--pyx12-seconds", type=float)
    ap.add_argument("--skip-pyx12", action="store_true")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--baseline", metavar="REV", help="also time this revision's phases, alternating")
    ap.add_argument("--rounds", type=int, default=2, help="with --baseline: old/new alternations")
    args = ap.parse_args()
    path: Path = args.file
    if not path.is_file():
        print(f"phases.py: {path}: no such file", file=sys.stderr)
        return 2
    if args.baseline:
        return compare(path.resolve(), args.baseline, args.repeat, args.rounds)
    engine = Engine(as_of=AS_OF)
    check = engine.check

    def read():
        for _ in read_segments(path):
            pass

    def model():
        for _ in walk(read_segments(path)):
            pass

    def rules():
        for event in walk(read_segments(path)):
            if type(event) is Claim:
                check(event)

    with tempfile.TemporaryDirectory() as tmp:
        def scrub():
            scrub_file(path, tmp, engine, structure=False)

        def structure():
            validate_structure(path)

        scrub()  # warm: the code tables and maps are loaded once per process, as the imports are
        structure()
        phases = [("read", read), ("model", model), ("rules", rules), ("scrub --no-structure", scrub),
                  ("structure pass", structure)]
        mb = path.stat().st_size / 1e6
        print(f"file: {path.name}, {mb:.1f} MB; Python {sys.version.split()[0]}, {os.cpu_count()} cores; "
              f"best of {args.repeat}")
        measured = [(name, best(fn, args.repeat)) for name, fn in phases]
        pyx12 = args.pyx12_seconds
        if pyx12 is None and not args.skip_pyx12:
            pyx12 = run(PYX12, str(path), str(Path(tmp) / "pyx12.999"))["seconds"]
    for name, seconds in measured:
        ceiling = f"  ceiling {pyx12 / seconds:6.1f}x pyx12" if pyx12 else ""
        print(f"{name:<22} {seconds:7.2f} s {mb / seconds:7.2f} MB/s{ceiling}")
    if pyx12:
        print(f"{'pyx12 x12n_document':<22} {pyx12:7.2f} s {mb / pyx12:7.2f} MB/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
