"""Mutation fuzzer for the scrubber: every input must end in a clear result, never a crash or hang.

    python tools/fuzz.py [--seconds 600] [--seed 1] [--structure] [SEED_FILE ...]

Seeds are the fixtures (fixtures/edi/*.837) and, where present, the public corpus
(../shared/corpus). Each round picks a seed, applies one to three mutations (random bytes,
truncation at a segment boundary, delimiters changed mid-file, segments duplicated, dropped or
swapped, elements emptied or made huge, non-ASCII and control characters, UTF-16, a ZIP or PDF
header) and scrubs the result in-process. A crash is an internal error (EN011) or an exception
escaping the pipeline; a hang is an input slower than the per-input budget. Prints inputs tried,
crashes, hangs and the slowest input; crashing inputs are saved under fuzz-crashes/.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def seed_files() -> list[Path]:
    files = sorted((ROOT / "fixtures" / "edi").glob("*.837"))
    corpus = ROOT.parent / "shared" / "corpus"
    if corpus.is_dir():
        files += sorted(p for p in corpus.glob("*/*") if p.suffix not in (".tsv", ".md", ".html", ".xml")
                        and not p.name.startswith("_LICENSE") and p.stat().st_size < 200_000)
    return files


def _split(data: bytes) -> tuple[list[bytes], bytes]:
    term = data[105:106] if len(data) > 106 and data.startswith(b"ISA") else b"~"
    return data.split(term), term


def mutate(data: bytes, rnd: random.Random) -> bytes:
    kind = rnd.randrange(14)
    segs, term = _split(data)
    if kind == 0 and data:  # random bytes overwritten
        b = bytearray(data)
        for _ in range(rnd.randint(1, 16)):
            b[rnd.randrange(len(b))] = rnd.randrange(256)
        return bytes(b)
    if kind == 1:  # truncation at a segment boundary (or anywhere)
        cut = rnd.randrange(len(segs) + 1)
        out = term.join(segs[:cut])
        return out if rnd.random() < 0.7 else out[: rnd.randrange(len(out) + 1)]
    if kind == 2 and len(segs) > 2:  # a segment duplicated
        i = rnd.randrange(len(segs))
        segs.insert(i, segs[i])
        return term.join(segs)
    if kind == 3 and len(segs) > 2:  # a segment dropped
        del segs[rnd.randrange(len(segs))]
        return term.join(segs)
    if kind == 4 and len(segs) > 3:  # two segments swapped
        i, j = rnd.randrange(len(segs)), rnd.randrange(len(segs))
        segs[i], segs[j] = segs[j], segs[i]
        return term.join(segs)
    if kind == 5 and len(segs) > 2:  # an element emptied
        i = rnd.randrange(len(segs))
        parts = segs[i].split(b"*")
        if len(parts) > 1:
            parts[rnd.randrange(1, len(parts))] = b""
            segs[i] = b"*".join(parts)
        return term.join(segs)
    if kind == 6 and len(segs) > 2:  # an element made huge
        i = rnd.randrange(len(segs))
        segs[i] += b"*" + b"9" * rnd.choice((100, 10_000, 300_000))
        return term.join(segs)
    if kind == 7:  # delimiters changed mid-file
        at = rnd.randrange(len(data) + 1)
        table = bytes.maketrans(b"*:~", rnd.choice((b"|>\n", b"^!_", b"~*:")))
        return data[:at] + data[at:].translate(table)
    if kind == 8:  # non-ASCII and control characters
        b = bytearray(data)
        for _ in range(rnd.randint(1, 8)):
            b.insert(rnd.randrange(len(b) + 1), rnd.choice((0x00, 0x07, 0x1B, 0x7F, 0xC3, 0xE9, 0xFF, 0x85)))
        return bytes(b)
    if kind == 9:  # UTF-16
        return data.decode("latin-1").encode(rnd.choice(("utf-16", "utf-16-le", "utf-16-be")))
    if kind == 10:  # a ZIP or PDF renamed .837
        return rnd.choice((b"PK\x03\x04\x14\x00\x00\x00", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")) + data[:200]
    if kind == 11:  # a UTF-8 BOM and indentation
        return b"\xef\xbb\xbf" + data.replace(term, term + b"\r\n   ")
    if kind == 12 and len(segs) > 2:  # empty segments
        i = rnd.randrange(len(segs))
        segs[i:i] = [b""] * rnd.randint(1, 50)
        return term.join(segs)
    # an HL, SV1 or HI element changed
    i = rnd.randrange(max(1, len(segs)))
    if segs and segs[i][:2] in (b"HL", b"SV", b"HI", b"CL"):
        segs[i] = segs[i] + rnd.choice((b":13", b"*A", b"*1:2:3:4:5", b"**", b":"))
    return term.join(segs)


def run_one(data: bytes, workdir: Path, structure: bool):
    """Scrub ``data``; return (status, internal_error_message or None, seconds)."""
    from scrubber.check.engine import Engine
    from scrubber.run.pipeline import scrub_file

    path = workdir / "fuzz.837"
    path.write_bytes(data)
    start = time.perf_counter()
    try:
        kwargs = {} if structure else {"structure": False}
        try:
            outcome = scrub_file(path, workdir / "out", Engine(None, date(2025, 6, 1)), **kwargs)
        except TypeError:  # a pipeline without the structure option
            outcome = scrub_file(path, workdir / "out", Engine(None, date(2025, 6, 1)))
    except Exception as exc:  # noqa: BLE001 - that is the crash being looked for
        return "exception", f"{type(exc).__name__}: {exc}", time.perf_counter() - start
    internal = next((f.message for f in outcome.findings if f.rule == "EN011"), None)
    return outcome.status, internal, time.perf_counter() - start


def fuzz(seconds: float, seed: int, structure: bool, seeds: list[Path], budget: float = 10.0,
         max_inputs: int | None = None, crash_dir: Path | None = None) -> dict:
    rnd = random.Random(seed)
    datas = [p.read_bytes() for p in seeds]
    stats = {"inputs": 0, "crashes": 0, "hangs": 0, "slowest": 0.0, "slowest_input": "", "statuses": {},
             "failures": []}
    end = time.monotonic() + seconds
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        while time.monotonic() < end and (max_inputs is None or stats["inputs"] < max_inputs):
            i = rnd.randrange(len(datas))
            data = datas[i]
            label = seeds[i].name
            for _ in range(rnd.randint(1, 3)):
                data = mutate(data, rnd)
            status, internal, took = run_one(data, work, structure)
            stats["inputs"] += 1
            stats["statuses"][status] = stats["statuses"].get(status, 0) + 1
            if took > stats["slowest"]:
                stats["slowest"], stats["slowest_input"] = took, f"{label} ({len(data)} bytes)"
            bad = None
            if internal is not None or status not in ("clean", "rejections", "unusable"):
                stats["crashes"] += 1
                bad = f"crash on a mutant of {label}: {internal or status}"
            elif took > budget:
                stats["hangs"] += 1
                bad = f"slow ({took:.1f} s) on a mutant of {label}"
            if bad:
                stats["failures"].append(bad)
                if crash_dir is not None:
                    crash_dir.mkdir(exist_ok=True)
                    (crash_dir / f"case{stats['inputs']}.837").write_bytes(data)
    return stats


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("seeds", nargs="*", type=Path)
    ap.add_argument("--seconds", type=float, default=600)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--structure", action="store_true", help="also run the structural (pyx12) pass")
    ap.add_argument("--budget", type=float, default=10.0, help="seconds an input may take before it counts as a hang")
    args = ap.parse_args()
    stats = fuzz(args.seconds, args.seed, args.structure, args.seeds or seed_files(), args.budget,
                 crash_dir=Path("fuzz-crashes"))
    print(f"inputs tried: {stats['inputs']}, crashes: {stats['crashes']}, hangs: {stats['hangs']}, "
          f"slowest: {stats['slowest']:.2f} s ({stats['slowest_input']})")
    print(f"statuses: {stats['statuses']}")
    for line in stats["failures"][:20]:
        print("  " + line)
    return 1 if stats["crashes"] or stats["hangs"] else 0


if __name__ == "__main__":
    sys.exit(main())
