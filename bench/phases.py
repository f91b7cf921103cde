"""Where a scrub's time goes, phase by phase, and the throughput each phase alone allows.

    python bench/phases.py FILE [--pyx12-seconds S | --skip-pyx12] [--repeat 3]

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
ceiling cannot be met without making that phase itself faster. Not a timed test.
"""

from __future__ import annotations

import argparse
import os
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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("file", type=Path)
    ap.add_argument("--pyx12-seconds", type=float)
    ap.add_argument("--skip-pyx12", action="store_true")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    path: Path = args.file
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
