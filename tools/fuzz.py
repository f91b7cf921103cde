"""Mutation fuzzer for the scrubber: every input must end in a clear result, never a crash or hang.

    python tools/fuzz.py [--seconds 600] [--seed 1] [--no-structure] [--no-outputs] [SEED_FILE ...]

Seeds are the fixtures (fixtures/edi/*.837) and, where present, the public corpus
(../shared/corpus). Each round picks a seed, applies one to three mutations (random bytes,
truncation at a segment boundary, delimiters changed mid-file, segments duplicated, dropped or
swapped, elements emptied or made huge, non-ASCII and control characters, UTF-16, a ZIP or PDF
header, terminal escapes, spreadsheet formulas, shifted person values, repeated loops and
envelopes) and scrubs the result in-process as ``scrubber scrub`` does: the structural pass, then
the claim pass into every output at once (the JSON report, the clean and rejected 837s, the text
summary, the CSV and the HTML reports, the 999 and the 277CA). A crash is an internal error
(EN011), an exception escaping the pipeline, a verdict that differs between the HTML run and a
plain run, or a person value of the seed (a name, member id, birth date) in a report; a hang is an
input slower than the per-input budget. Prints inputs tried, crashes, hangs and the slowest
input; crashing inputs are saved under fuzz-crashes/.
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
    kind = rnd.randrange(19)
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
    if kind == 14 and len(segs) > 2:  # a claim id that is a formula or a terminal escape
        i = next((j for j, seg in enumerate(segs) if seg.lstrip().startswith(b"CLM")), None)
        if i is not None:
            parts = segs[i].split(b"*")
            if len(parts) > 1:
                parts[1] = rnd.choice((b"=HYPERLINK(\"x\")", b"+1+1", b"@SUM(A1)", b"\x1b]0;T\x07\x1b[2J",
                                       b"-1\x1b[31m", b"\tX\rY", b"\x9b31m"))
                segs[i] = b"*".join(parts)
        return term.join(segs)
    if kind == 15 and len(segs) > 2:  # person elements shifted or swapped (NM1, N3/N4, DMG, REF)
        picks = [j for j, seg in enumerate(segs) if seg.lstrip()[:3] in (b"NM1", b"N3*", b"N4*", b"DMG", b"REF", b"PAT")]
        if picks:
            i = rnd.choice(picks)
            parts = segs[i].split(b"*")
            if len(parts) > 2:
                a, b = rnd.randrange(1, len(parts)), rnd.randrange(1, len(parts))
                if rnd.random() < 0.5:
                    parts[a], parts[b] = parts[b], parts[a]
                else:
                    del parts[a]
                segs[i] = b"*".join(parts)
        return term.join(segs)
    if kind == 16 and len(segs) > 2:  # a segment repeated many times (a loop that never ends)
        i = rnd.randrange(len(segs))
        segs[i:i] = [segs[i]] * rnd.choice((100, 1_500))
        return term.join(segs)
    if kind == 17 and len(segs) > 4:  # empty envelopes repeated
        block = rnd.choice(([b"ST*837*0002*005010X222A1", b"SE*9*0002"], [b"GS*HC*A*B*20250101*1200*9*X*005010X222A1", b"GE*0*9"]))
        i = next((j for j, seg in enumerate(segs) if seg.lstrip().startswith(block[0][:2] if block[0][:2] == b"GS" else b"SE")), None)
        if i is not None:
            segs[i + 1:i + 1] = block * rnd.choice((5, 300))
        return term.join(segs)
    if kind == 18 and len(segs) > 2:  # a composite with very many components
        i = rnd.randrange(len(segs))
        segs[i] += b"*" + b":".join([b"1"] * rnd.choice((10, 70, 5_000)))
        return term.join(segs)
    # an HL, SV1 or HI element changed
    i = rnd.randrange(max(1, len(segs)))
    if segs and segs[i][:2] in (b"HL", b"SV", b"HI", b"CL"):
        segs[i] = segs[i] + rnd.choice((b":13", b"*A", b"*1:2:3:4:5", b"**", b":"))
    return term.join(segs)


def run_one(data: bytes, workdir: Path, structure: bool, outputs: bool = False):
    """Scrub ``data``; return (status, internal_error_message or None, seconds).

    ``outputs``: into every report format and both acknowledgments too (the structural pass
    needed by the 999 when ``structure``); then a verdict that differs from a plain run's, or
    an exception in any writer, is a crash."""
    import io
    import shutil

    from scrubber.check.engine import Engine
    from scrubber.report.csv_report import CsvReport
    from scrubber.report.html import HtmlReport
    from scrubber.run.pipeline import scrub_file

    path = workdir / "fuzz.837"
    path.write_bytes(data)
    out = workdir / "out"
    shutil.rmtree(out, ignore_errors=True)
    start = time.perf_counter()
    as_of = date(2025, 6, 1)
    try:
        if not outputs:
            outcome = scrub_file(path, out, Engine(None, as_of), structure=structure)
        else:
            out.mkdir(parents=True)
            sinks = [CsvReport(out / "fuzz.report.csv", io.StringIO()), HtmlReport(out / "fuzz.report.html", as_of)]
            outcome = scrub_file(path, out, Engine(None, as_of), text_out=io.StringIO(), sinks=sinks,
                                 structure=structure, acks=("999", "277ca") if structure else ("277ca",))
            took = time.perf_counter() - start  # (the plain run below is not counted)
            plain = scrub_file(path, workdir / "plain", Engine(None, as_of), structure=structure)
            if (plain.status, plain.accepted, plain.rejected) != (outcome.status, outcome.accepted, outcome.rejected):
                return "exception", (f"verdict differs with every output: {outcome.status} {outcome.accepted}/"
                                     f"{outcome.rejected} against {plain.status} {plain.accepted}/{plain.rejected}"), took
            leaked = _leaks(data, out)
            if leaked:
                return "exception", f"person values in {leaked}", took
            internal = next((f.message for f in outcome.findings if f.rule == "EN011"), None)
            return outcome.status, internal, took
    except Exception as exc:  # noqa: BLE001 - that is the crash being looked for
        return "exception", f"{type(exc).__name__}: {exc}", time.perf_counter() - start
    internal = next((f.message for f in outcome.findings if f.rule == "EN011"), None)
    return outcome.status, internal, time.perf_counter() - start


# The synthetic people of the fixtures: none of them may appear in a report, whatever the mutation.
_PEOPLE = (b"TESTPATIENT", b"SAMPLEPERSON", b"ZZM0000000", b"19710215", b"20110601")


def _leaks(data: bytes, out: Path) -> str:
    """The report files of ``out`` that carry a person value found in ``data`` ("" when none)."""
    present = [v for v in _PEOPLE if v in data]
    if not present:
        return ""
    bad = []
    for p in out.iterdir():
        if p.suffix in (".837", ".999", ".edi"):
            continue  # claims and acknowledgments carry the claims' own data by design
        text = p.read_bytes()
        if any(v in text for v in present):
            bad.append(p.name)
    return ", ".join(bad)


def fuzz(seconds: float, seed: int, structure: bool, seeds: list[Path], budget: float = 10.0,
         max_inputs: int | None = None, crash_dir: Path | None = None, outputs: bool = False) -> dict:
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
            status, internal, took = run_one(data, work, structure, outputs)
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
    ap.add_argument("--structure", action="store_true", default=True, help="run the structural pass (default)")
    ap.add_argument("--no-structure", dest="structure", action="store_false", help="the claim pass only")
    ap.add_argument("--no-outputs", dest="outputs", action="store_false", default=True,
                    help="the JSON report only (not text, CSV, HTML, 999, 277CA)")
    ap.add_argument("--budget", type=float, default=10.0, help="seconds an input may take before it counts as a hang")
    args = ap.parse_args()
    stats = fuzz(args.seconds, args.seed, args.structure, args.seeds or seed_files(), args.budget,
                 crash_dir=Path("fuzz-crashes"), outputs=args.outputs)
    print(f"inputs tried: {stats['inputs']}, crashes: {stats['crashes']}, hangs: {stats['hangs']}, "
          f"slowest: {stats['slowest']:.2f} s ({stats['slowest_input']})")
    print(f"statuses: {stats['statuses']}")
    for line in stats["failures"][:20]:
        print("  " + line)
    return 1 if stats["crashes"] or stats["hangs"] else 0


if __name__ == "__main__":
    sys.exit(main())
