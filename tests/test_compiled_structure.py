"""The compiled structural validator against pyx12: the same errors, on real and mutated files.

Each comparison runs pyx12's ``x12n_document`` (through :mod:`scrubber.check.structure.pyx12run`, which
records every error pyx12 reports) and the compiled validator on the same normalised input and
compares the whole records: level, code, line, segment, loop, element, data element number,
IK4 position, names, values and pyx12's text.

Named differences (where the compiled validator decides to differ):
- a segment longer than pyx12's 8 KiB read-ahead: pyx12's reader silently stops there (the rest of
  the file is not validated and only the missing trailers are reported); the compiled validator
  reads on. The mutation comparison therefore feeds the compiled validator the lines pyx12's own
  reader (``RawX12File``) yields, and ``test_long_segment_difference`` pins the difference;
- inputs pyx12 crashes on or reads with another map (a 4010 or non-837P group, GE01 that is not a
  number, a trailer with no header): the compiled validator hands them to pyx12
  (``Unsupported``), so the answer there is pyx12's own.
"""

from __future__ import annotations

import dataclasses
import random
import subprocess
import sys
from pathlib import Path

import pytest
from pyx12.rawx12file import RawX12File

from scrubber.config import ConfigError, load_config
from scrubber.check.structure import validate_structure
from scrubber.check.structure.compiled import Unsupported, run_compiled
from scrubber.check.structure.normalize import normalized
from scrubber.check.structure.pyx12run import run_pyx12

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import make_golden as mg  # noqa: E402 - the golden copies' clock normalisation
FIXTURES = sorted((ROOT / "fixtures" / "edi").glob("*.837"))
CORPUS = ROOT.parent / "shared" / "corpus"


def _records(errors):
    return [dataclasses.astuple(e) for e in errors]


def _pyx12_lines(path):
    """The segment texts pyx12's reader yields for the normalised input (its read-ahead limit)."""
    try:
        return list(RawX12File(normalized(path)))
    except Exception:  # noqa: BLE001 - pyx12 refuses the input before reading a segment
        return []


def compare(path) -> str:
    """'same', or 'pyx12' when the compiled validator hands the input over; fails on a difference."""
    expected, exc, _ = run_pyx12(normalized(path))
    try:
        got = run_compiled(_pyx12_lines(path))
    except Unsupported:
        return "pyx12"
    assert exc is None, f"pyx12 raised {exc!r} where the compiled validator went on"
    assert _records(got) == _records(expected)
    return "same"


@pytest.mark.parametrize("path", FIXTURES, ids=[p.name for p in FIXTURES])
def test_fixtures_same_errors_as_pyx12(path):
    outcome = compare(path)
    if path.name in ("bad_4010.837", "bad_837i.837"):
        assert outcome == "pyx12"  # another map: pyx12 itself validates them
    else:
        assert outcome == "same"


def _corpus_files():
    if not CORPUS.is_dir():
        return []
    return sorted(p for p in CORPUS.glob("*/*") if p.is_file() and p.suffix not in (".tsv", ".md")
                  and not p.name.startswith("_LICENSE"))


@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is absent (public X12 corpus)")
def test_corpus_same_errors_as_pyx12():
    outcomes = {}
    for path in _corpus_files():
        outcomes[path.name] = compare(path)
    same = [k for k, v in outcomes.items() if v == "same"]
    # every 837P 5010 file of the corpus is validated by the compiled validator itself
    assert len(same) >= 50, outcomes
    handed = {k for k, v in outcomes.items() if v == "pyx12"}
    assert not any("837_5010__x12_valid" in k for k in handed)


# ---- mutated fixtures -----------------------------------------------------------------------
_VALUES = (b"ZZ", b"99", b"A", b"D8", b"RD8", b"20250230", b"-1.5", b"1.", b"AB ", b" ", b"12:34",
           b"ZZ:ZZ", b"2025-01", b"19000101", b"X" * 90, b"\x07", b"1:2:3:4:5:6:7")


def mutate(data: bytes, rnd: random.Random) -> tuple[str, bytes]:
    """One structural mutation: a segment dropped, duplicated or swapped; an element emptied,
    lengthened, given a wrong code or an extra component; an element added or removed."""
    segs = data.split(b"~")
    body = [i for i, s in enumerate(segs) if s.strip() and not s.strip().startswith((b"ISA", b"IEA", b"GS", b"GE"))]
    i = rnd.choice(body)
    parts = segs[i].split(b"*")
    kind = rnd.choice(("drop", "duplicate", "swap", "empty", "lengthen", "wrong", "component", "add", "remove"))
    if kind == "drop":
        del segs[i]
    elif kind == "duplicate":
        segs.insert(i, segs[i])
    elif kind == "swap":
        j = rnd.choice(body)
        segs[i], segs[j] = segs[j], segs[i]
    elif len(parts) < 2:
        segs.insert(i, segs[i])
    else:
        j = rnd.randrange(1, len(parts))
        if kind == "empty":
            parts[j] = b""
        elif kind == "lengthen":
            parts[j] += b"7" * rnd.choice((1, 10, 60))
        elif kind == "wrong":
            parts[j] = rnd.choice(_VALUES)
        elif kind == "component":
            parts[j] += rnd.choice((b":", b":X", b":1:2:3:4:5:6"))
        elif kind == "add":
            parts.append(rnd.choice((b"", b"X", b"1:2")))
        elif kind == "remove" and len(parts) > 2:
            del parts[j]
        segs[i] = b"*".join(parts)
    return kind, b"~".join(segs)


SEEDS = ["sample.837", "structure.837", "multi.837", "pointers.837", "codes.837", "analyst.837", "limits.837"]


@pytest.mark.parametrize("seed", range(8))
def test_mutated_fixtures_same_errors_as_pyx12(seed, tmp_path):
    rnd = random.Random(seed)
    kinds = {}
    compared = 0
    for n in range(30):
        name = rnd.choice(SEEDS)
        data = (ROOT / "fixtures" / "edi" / name).read_bytes()
        for _ in range(rnd.randint(1, 3)):
            kind, data = mutate(data, rnd)
            kinds[kind] = kinds.get(kind, 0) + 1
        path = tmp_path / f"m{n}.837"
        path.write_bytes(data)
        if compare(path) == "same":
            compared += 1
    assert compared >= 25  # the mutations stay 837P files the compiled validator checks itself
    assert len(kinds) >= 6


def test_mutations_produce_errors(tmp_path):
    """The comparison is not vacuous: the mutated files carry structural errors of many codes."""
    rnd = random.Random(99)
    codes = set()
    for n in range(40):
        data = (ROOT / "fixtures" / "edi" / "sample.837").read_bytes()
        _, data = mutate(data, rnd)
        path = tmp_path / f"m{n}.837"
        path.write_bytes(data)
        codes |= {(e.level, e.code) for e in run_compiled(_pyx12_lines(path))}
    assert len(codes) >= 8, codes


# ---- named differences ----------------------------------------------------------------------
def test_long_segment_difference(tmp_path):
    """pyx12 stops reading at a segment longer than its read-ahead; the compiled validator does not."""
    text = (ROOT / "fixtures" / "edi" / "sample.837").read_text()
    segs = text.split("~")
    nte = next(i for i, s in enumerate(segs) if s.strip().startswith("CLM"))
    segs.insert(nte + 1, "\nNTE*ADD*" + "A" * 20000)
    sv1 = next(i for i, s in enumerate(segs) if s.strip().startswith("SV1"))
    segs[sv1] = segs[sv1].replace("*UN*", "*QQ*")  # an invalid unit code after the long segment
    path = tmp_path / "long.837"
    path.write_text("~".join(segs))
    expected, _, _ = run_pyx12(normalized(path))
    got = run_compiled(normalized(path).lines())
    assert not any(e.element == "SV103" for e in expected)  # pyx12 never got there
    assert ("isa", "023") in {(e.level, e.code) for e in expected}  # and reports the IEA missing
    assert any(e.element == "SV103" and e.code == "7" for e in got)
    assert ("isa", "023") not in {(e.level, e.code) for e in got}
    # the NTE itself is too long (NTE02 is at most 80 characters) for both
    assert any(e.element == "NTE02" and e.code == "5" for e in got)


@pytest.mark.parametrize("name", ["bad_4010.837", "bad_837i.837"])
def test_other_maps_are_validated_by_pyx12(name):
    path = ROOT / "fixtures" / "edi" / name
    with pytest.raises(Unsupported):
        run_compiled(normalized(path).lines())
    assert validate_structure(path).validator == "pyx12"


def test_compiled_is_the_default_and_pyx12_can_be_chosen(tmp_path):
    path = ROOT / "fixtures" / "edi" / "structure.837"
    assert validate_structure(path).validator == "compiled"
    assert validate_structure(path, validator="pyx12").validator == "pyx12"
    cfg = tmp_path / "scrubber.toml"
    cfg.write_text('[options]\nstructure_validator = "pyx12"\n')
    assert load_config(cfg, set()).options["structure_validator"] == "pyx12"
    cfg.write_text('[options]\nstructure_validator = "fast"\n')
    with pytest.raises(ConfigError, match="structure_validator"):
        load_config(cfg, set())


@pytest.mark.parametrize("name", ["structure.837", "analyst.837", "codes.837", "pointers.837", "multi.837",
                                  "structure_a2.837", "bad_truncated.837"])
def test_scrub_outputs_identical_with_either_validator(name, tmp_path):
    """End to end: the report, clean and rejected files and the 999 are byte for byte the same."""
    outs = {}
    for validator in ("compiled", "pyx12"):
        out = tmp_path / validator
        run = subprocess.run([sys.executable, "-m", "scrubber", "scrub", str(ROOT / "fixtures" / "edi" / name),
                              "--out-dir", str(out), "--as-of", "2025-06-01", "--ack", "999",
                              "--structure-validator", validator], capture_output=True, text=True)
        assert "Traceback" not in run.stderr
        outs[validator] = (run.returncode, run.stdout.replace(str(out), "OUT"),
                           {p.name: p.read_bytes() for p in sorted(out.iterdir())})
    assert outs["compiled"][0] == outs["pyx12"][0]
    assert outs["compiled"][1] == outs["pyx12"][1]
    assert outs["compiled"][2].keys() == outs["pyx12"][2].keys()
    for fname, data in outs["compiled"][2].items():  # (the 999's time of day is the clock's)
        assert mg.normalise(fname, data) == mg.normalise(fname, outs["pyx12"][2][fname]), fname


def test_caches_keep_no_long_values(tmp_path):
    """Hostile input (thousands of distinct 5,000-character segments) does not fill memory: the
    validator's caches remember short texts and values only, and stay within their budgets."""
    from scrubber.check.structure import caches, tables

    text = (ROOT / "fixtures" / "edi" / "sample.837").read_text()
    at = text.index("~", text.index("CLM*")) + 1  # after the first CLM
    body = "".join(f"NTE*ADD*{'A' * 5000}{k}~" for k in range(400))
    path = tmp_path / "long.837"
    path.write_text(text[:at] + body + text[at:])
    errors = run_compiled(normalized(path).lines())
    assert sum(1 for e in errors if e.element == "NTE02" and e.code == "5") == 400
    control, m837 = tables.compiled_maps()
    for root in (control, m837):
        for node in root.index.values():
            if isinstance(node, tables.SegNode):
                assert all(len(t) <= caches.TEXT_MAX for t in node.cache)
                for child in node.elements or ():
                    for e in (child.children if child.is_composite else (child,)):
                        assert all(len(v) <= caches.KEY_MAX for v in e.good)
    assert caches.USED["segments"] <= caches.SEGMENTS_MAX and caches.USED["values"] <= caches.VALUES_MAX
