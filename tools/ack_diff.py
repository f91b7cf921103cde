#!/usr/bin/env python3
"""Our 999 against pyx12's own 999, on the fixtures and the corpus (or the files given).

For each input: pyx12's ``x12n_document`` writes its 999 (``fd_997``) for the input as the
structural pass gives it to pyx12 (:mod:`scrubber.check.structure.normalize`: one line per
segment, standard delimiters, so positions are the scrubber's); the scrubber writes its own
(``scrub --ack 999``). Both are read back with :func:`scrubber.responses.inbound.read_response`
and compared group by group (AK1 GS06): AK901 and AK905 codes; set by set (AK2 ST02): IK501,
IK502 codes, and the IK3 (segment id, position, IK304) and IK4 (IK401, IK403) lines. Each
difference is printed with its reason when it is a known, intended one (:func:`reason`); an
unexplained difference makes the exit status 1. With ``--validate`` every 999 and 277CA the
scrubber writes is also validated with pyx12's 999 and 277 maps.

    python tools/ack_diff.py                 # every fixture and corpus file
    python tools/ack_diff.py FILE...         # these files
    python tools/ack_diff.py --validate      # and validate our acks with pyx12

The test suite runs the same comparison on a representative subset (tests/test_ack_differential.py).
"""

from __future__ import annotations

import argparse
import io
import logging
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def pyx12_999(path: Path) -> str:
    """pyx12's own 999 for ``path`` (as the structural pass feeds pyx12), or "" when it writes none."""
    import pyx12.params
    import pyx12.x12n_document

    from scrubber.check.structure.normalize import normalized

    logging.getLogger("pyx12").setLevel(logging.CRITICAL)
    out = io.StringIO()
    try:
        pyx12.x12n_document.x12n_document(pyx12.params.params(), normalized(path), fd_997=out, fd_html=None)
    except Exception:  # noqa: BLE001 - pyx12 gives up on some inputs; what it wrote is compared
        pass
    return out.getvalue()


def our_acks(path: Path, out_dir: Path, as_of: str = "2025-06-01"):
    from datetime import date

    from scrubber.check.engine import Engine
    from scrubber.report.names import output_stem
    from scrubber.run.pipeline import scrub_file

    engine = Engine(None, date.fromisoformat(as_of))
    outcome = scrub_file(path, out_dir, engine, acks=("999", "277ca"))
    stem = output_stem(path)
    return {k: out_dir / f"{stem}.{s}" for k, s in (("999", "999"), ("277ca", "277ca.edi"))
            if (out_dir / f"{stem}.{s}").is_file()}, outcome


def summary(text: str) -> dict:
    """{gs06: {"status", "codes", "sets": {st02: {"status", "codes", "ik3": Counter, "ik4": Counter}}}}"""
    from scrubber.responses.inbound import read_response

    if not text.strip():
        return {}
    with tempfile.NamedTemporaryFile("w", suffix=".999", delete=False, encoding="latin-1") as fh:
        fh.write(text)
    try:
        r = read_response(Path(fh.name))
    finally:
        Path(fh.name).unlink()
    out: dict = {}
    for g in r.groups:
        sets = {}
        for s in g.sets:
            sets[s.st02] = {"status": s.status, "codes": sorted(s.codes),
                            "ik3": Counter((e.segment, e.position, e.code) for e in s.errors),
                            "ik4": Counter((e.position, el.position, el.code) for e in s.errors for el in e.elements)}
        out.setdefault(g.gs06, []).append({"status": g.status, "codes": sorted(g.codes), "sets": sets})
    return out


PYX12_NO_IK4 = {
    "1": "a required element missing: pyx12 reports it but its 999 writes the IK3 8 alone; ours names the element (IK4 code 1)",
    "3": "too many elements: pyx12 writes the IK3 8 alone; ours names the extra element (IK4 code 3)",
    "I12": "HL01/HL02/LX01 numbering: pyx12 notes it (HL1/HL2/LX) but writes no IK3 for it; ours is IK3 8 with "
           "the IK4 naming the element (IK403 I12)",
}


def invalid_as_sent(errors: list[dict]) -> tuple[list[dict], list[dict]]:
    """pyx12's complaints about our ack split into (real ones, those that come from the input):
    an IK3 naming a segment that came with no id or with a longer one (IK301 missing or too
    long), since the 999 names the segment as it came and never invents an id."""
    real, sent = [], []
    for e in errors:
        (sent if e.get("element") in ("IK301", "IK301-1") and e.get("code") in ("1", "5") else real).append(e)
    return real, sent


def reason(kind: str, item, ctx: dict) -> str | None:
    """Why a difference is intended, or None (``ctx``: what is known of the run)."""
    if kind == "ik4+" and item[2] in PYX12_NO_IK4:
        return PYX12_NO_IK4[item[2]]
    if kind == "ik3+" and item[2] == "8" and ctx["numbering"].get(item[1]):
        return PYX12_NO_IK4["I12"]
    if kind == "ik3-" and item[2] == "1" and ctx["ours_ik3"].get((item[1] - 1, "1")):
        return ("an unknown segment: pyx12's 999 also puts its 'not found' on the segment after it (that "
                "segment's id and position); ours reports it once, at the unknown segment")
    if kind == "group" and ctx.get("pyx12_silent"):
        return "pyx12 4.0 raised (IndexError on a composite with too many components) and wrote no 999"
    if kind == "group" and ctx.get("unusable"):
        return f"the input is unusable ({ctx['unusable']}): no 999 (a TA1 answers an interchange error)"
    if kind == "ak9" and item == ("R", "P"):
        return "some sets accepted, some rejected: pyx12 writes AK901 R, ours the guide's P (partially accepted)"
    return None


def compare(path: Path, tmp: Path) -> tuple[list[str], list[str], dict[str, Path]]:
    """(unexplained differences, explained ones, our acks) of our 999 against pyx12's."""
    ours, outcome = our_acks(path, tmp)
    text = pyx12_999(path)
    if "ST*997*" in text:
        why = "a 004010 input: pyx12 answers it with a 997; a 999 answers 00501 only (we write none, and say so)"
        return ([] if "999" not in ours else ["a 999 for a 004010 input"]), [why], ours
    theirs = summary(text)
    mine = summary(ours["999"].read_text(encoding="latin-1")) if "999" in ours else {}
    ctx = {"pyx12_silent": not text.strip(), "unusable": outcome.unusable, "numbering": {},
           "ours_ik3": {(p, c): True for g in mine.values() for x in g for s in x["sets"].values()
                        for (_sid, p, c) in s["ik3"]}}
    if "999" in ours:  # positions where we wrote a numbering IK4
        lines = ours["999"].read_text(encoding="latin-1").split("~\n")
        for i, line in enumerate(lines):
            if line.startswith("IK4*") and line.endswith("*I12") and i and lines[i - 1].startswith("IK3*"):
                ctx["numbering"][int(lines[i - 1].split("*")[2])] = True
    bad, known = [], []

    def note(kind, text, item=None):
        why = reason(kind, item, ctx)
        (known if why else bad).append(f"{text}" + (f"  [{why}]" if why else ""))

    for gs06 in sorted(set(theirs) | set(mine)):
        a, b = theirs.get(gs06, []), mine.get(gs06, [])
        if len(a) != len(b):
            note("group", f"group {gs06}: pyx12 answers {len(a)} time(s), we {len(b)}")
            continue
        for ga, gb in zip(a, b):
            if (ga["status"], ga["codes"]) != (gb["status"], gb["codes"]):
                item = (ga["status"], gb["status"]) if ga["codes"] == gb["codes"] else None
                note("ak9", f"group {gs06}: AK9 pyx12 {ga['status']} {ga['codes']}, ours {gb['status']} {gb['codes']}", item)
            for st in sorted(set(ga["sets"]) | set(gb["sets"])):
                sa, sb = ga["sets"].get(st), gb["sets"].get(st)
                if sa is None or sb is None:
                    note("set", f"group {gs06} set {st}: answered by {'us' if sa is None else 'pyx12'} only")
                    continue
                if (sa["status"], sa["codes"]) != (sb["status"], sb["codes"]):
                    note("ik5", f"group {gs06} set {st}: IK5 pyx12 {sa['status']} {sa['codes']}, ours {sb['status']} {sb['codes']}")
                for kind in ("ik3", "ik4"):
                    for item in (sa[kind] - sb[kind]):
                        note(kind + "-", f"group {gs06} set {st}: {kind.upper()} {item} pyx12 only", item)
                    for item in (sb[kind] - sa[kind]):
                        note(kind + "+", f"group {gs06} set {st}: {kind.upper()} {item} ours only", item)
    return bad, known, ours


def inputs() -> list[Path]:
    sys.path.insert(0, str(ROOT / "tools"))
    import make_golden as mg

    return [c.path for c in mg.fixture_cases() + mg.corpus_cases()]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="*", type=Path)
    ap.add_argument("--validate", action="store_true", help="also validate our 999 and 277CA with pyx12")
    args = ap.parse_args(argv)
    files = args.files or inputs()
    if args.validate:
        sys.path.insert(0, str(ROOT / "tests"))
        from pyx12check import format_errors, pyx12_errors
    status = 0
    start = time.perf_counter()
    totals = Counter()
    for path in files:
        with tempfile.TemporaryDirectory() as tmp:
            bad, known, ours = compare(path, Path(tmp))
            totals["files"] += 1
            totals["explained"] += len(known)
            totals["unexplained"] += len(bad)
            for line in bad:
                print(f"{path.name}: DIFFERENT {line}")
            for line in known:
                print(f"{path.name}: known {line}")
            if bad:
                status = 1
            if args.validate:
                for kind, ack in ours.items():
                    errors, sent = invalid_as_sent(pyx12_errors(ack))
                    totals["validated"] += 1
                    for e in sent:
                        print(f"{path.name}: known our {kind}: {e['element']} {e['message']}  [the segment came "
                              "with no id or a longer one: named as it came, as pyx12 does]")
                    if errors:
                        status = 1
                        print(f"{path.name}: our {kind} is not valid for pyx12:\n{format_errors(errors)}")
    print(f"{totals['files']} files, {totals['unexplained']} unexplained and {totals['explained']} explained "
          f"differences, {totals['validated']} acks validated, {time.perf_counter() - start:.1f} s")
    return status


if __name__ == "__main__":
    sys.exit(main())
