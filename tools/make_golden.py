#!/usr/bin/env python3
"""Write tests/golden/: the outputs of ``scrubber scrub`` on every fixture and corpus file.

For each input this runs, in process and with click's test runner (the same code as the
command, without a new interpreter per file)::

    scrubber scrub FILE --out-dir out --as-of DATE --ack 999 --ack 277ca --jobs 1 --format text

in an empty working folder, and keeps what it writes: NAME.report.json, NAME.clean.837,
NAME.rejected.837, NAME.999, NAME.277ca.edi, NAME.ta1 (whichever the run writes) and the text summary
printed on standard output as NAME.txt. Standard error (the code-set warning) is not kept.

    python tools/make_golden.py            # rewrite tests/golden/ (corpus part only where ../shared is present)
    python tools/make_golden.py --check    # exit 1 listing every output that differs

Inputs: every fixtures/edi/*.837 into tests/golden/fixtures/<file>/, every file listed in
../shared/corpus/INDEX.tsv (837P or not: the others give an unusable report, as
deterministic as the rest) into tests/golden/corpus/<local_name>/. Each folder's MANIFEST.tsv
lists, per input, the as-of date, the exit status and each output's size and sha256. Kept there
only (``stored`` = sha256), not as a file: an output over 100 kB (``LARGE``), and every output of
a corpus file under a copyleft licence (INDEX.tsv's license column: CDDL), since the outputs
reproduce the input's content and the corpus asks for such files to be used unmodified. The
others are also kept as files (``stored`` = bytes), next to a copy of their source repository's
licence (the corpus's ``_LICENSE__*``).

As-of date: the one a fixture is documented to be scrubbed as of (a "scrub as of" table in
fixtures/edi/README.md or in the docstring of the tools/fixtures_*.py script that writes it),
else 2025-06-01. Only the shipped code sets (maps/) are read: the operator's data folder is
replaced by an empty one, SCRUBBER_BACKPAIN_MAPS is ignored and the working folder holds no
scrubber.toml.

Normalised before storing and comparing (``normalise``), because it is not a function of the
input, the as-of date and the code: the time of day of the run, which the acknowledgments write
as HHMM in ISA10 and GS05 (999 and 277CA; ISA10 of the TA1) and BHT05 (277CA); it becomes ``HHMM``. Everything
else is stored as written. Each input is scrubbed twice when writing, and the two runs must
agree after normalisation.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import hashlib
import os
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures" / "edi"
CORPUS = ROOT.parent / "shared" / "corpus"
GOLDEN = ROOT / "tests" / "golden"
GROUPS = ("fixtures", "corpus")
DEFAULT_AS_OF = "2025-06-01"
MANIFEST = "MANIFEST.tsv"
MANIFEST_HEADER = ("input", "as_of", "exit", "output", "bytes", "sha256", "stored")
# An output larger than this is kept as its size and sha256 only (in MANIFEST.tsv), not its bytes:
# the corpus's two large files (x12_many_claims, x12_multiple_transactions) write about 10 MB.
LARGE = 100_000
COPYLEFT = ("CDDL",)  # licences (INDEX.tsv) whose files' outputs are kept as sha256 only

# The acknowledgments' time of day (HHMM), written from the clock.
TIME_PLACEHOLDER = b"HHMM"
_TIME = re.compile(rb"\d{4}")
_ISA10 = slice(77, 81)  # ISA is fixed width: "ISA*" then ISA01-ISA09 (64 characters and 9 separators)
_ACK_TIME_ELEMENTS = {b"GS": 5, b"BHT": 5}


@dataclass(frozen=True)
class Case:
    group: str  # "fixtures" or "corpus"
    name: str  # the fixture's file name, or the corpus file's local_name (owner__repo/file)
    as_of: str
    license: str = field(default="", compare=False)  # a corpus file's (INDEX.tsv)

    @property
    def copyleft(self) -> bool:
        return any(self.license.startswith(c) for c in COPYLEFT)

    def keeps_bytes(self, data: bytes) -> bool:
        """Whether an output is stored as a file (else as its sha256 only)."""
        return len(data) <= LARGE and not self.copyleft

    @property
    def id(self) -> str:
        return f"{self.group}/{self.name}"

    @property
    def path(self) -> Path:
        return (FIXTURES if self.group == "fixtures" else CORPUS) / self.name

    @property
    def golden_dir(self) -> Path:
        return GOLDEN / self.group / self.name


# --- inputs ----------------------------------------------------------------------------------------

def documented_as_of() -> dict[str, str]:
    """Fixture file name -> the as-of date its documentation says to scrub it as of: a markdown
    table with a ``file`` column and a column whose header contains "as of"."""
    sources = [FIXTURES / "README.md", *sorted((ROOT / "tools").glob("fixtures_*.py"))]
    found: dict[str, str] = {}
    for source in sources:
        if not source.is_file():
            continue
        columns: tuple[int, int] | None = None
        for line in source.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if not line.startswith("|"):
                columns = None
                continue
            cells = [c.strip().strip("`").strip() for c in line.strip("|").split("|")]
            lowered = [c.lower() for c in cells]
            if "file" in lowered and any("as of" in c or "as-of" in c for c in lowered):
                columns = (lowered.index("file"), next(i for i, c in enumerate(lowered) if "as of" in c or "as-of" in c))
                continue
            if columns and max(columns) < len(cells) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", cells[columns[1]]):
                found[cells[columns[0]]] = cells[columns[1]]
    return found


def fixture_cases() -> list[Case]:
    dates = documented_as_of()
    return [Case("fixtures", p.name, dates.get(p.name, DEFAULT_AS_OF)) for p in sorted(FIXTURES.glob("*.837"))]


def corpus_cases() -> list[Case]:
    """Every file INDEX.tsv lists (empty where the corpus is absent)."""
    index = CORPUS / "INDEX.tsv"
    if not index.is_file():
        return []
    with open(index, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))
    return [Case("corpus", row["local_name"], DEFAULT_AS_OF, row["license"])
            for row in sorted(rows, key=lambda r: r["local_name"])]


def current_cases(group: str) -> list[Case]:
    return fixture_cases() if group == "fixtures" else corpus_cases()


# --- scrubbing -------------------------------------------------------------------------------------

def normalise(name: str, data: bytes) -> bytes:
    """``data`` of output ``name`` with what depends on the clock replaced (see the module's doc)."""
    if not (name.endswith(".999") or name.endswith(".277ca.edi") or name.endswith(".ta1")):
        return data
    segments = data.split(b"~\n")
    for i, seg in enumerate(segments):
        if seg.startswith(b"ISA*") and _TIME.fullmatch(seg[_ISA10]):
            segments[i] = seg[:_ISA10.start] + TIME_PLACEHOLDER + seg[_ISA10.stop:]
            continue
        elements = seg.split(b"*")
        k = _ACK_TIME_ELEMENTS.get(elements[0])
        if k is not None and len(elements) > k and _TIME.fullmatch(elements[k]):
            elements[k] = TIME_PLACEHOLDER
            segments[i] = b"*".join(elements)
    return b"~\n".join(segments)


def command(path: Path, as_of: str) -> list[str]:
    return ["scrub", str(path), "--out-dir", "out", "--as-of", as_of, "--ack", "999", "--ack", "277ca",
            "--jobs", "1", "--format", "text"]


@contextlib.contextmanager
def shipped_code_sets():
    """The shipped maps/ only: an empty data folder, no SCRUBBER_BACKPAIN_MAPS."""
    saved = {k: os.environ.get(k) for k in ("SCRUBBER_DATA_DIR", "SCRUBBER_BACKPAIN_MAPS")}
    with tempfile.TemporaryDirectory(prefix="golden-data-") as data:
        os.environ["SCRUBBER_DATA_DIR"] = data
        os.environ.pop("SCRUBBER_BACKPAIN_MAPS", None)
        try:
            yield
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v


def scrub(case: Case, work: Path) -> tuple[int, dict[str, bytes]]:
    """Run the command on ``case`` in the empty folder ``work``: (exit status, {output name: bytes})."""
    from click.testing import CliRunner

    from scrubber.cli.app import cli
    from scrubber.report.names import output_stem

    work.mkdir(parents=True, exist_ok=True)
    if any(work.iterdir()):
        raise ValueError(f"{work} is not empty")
    with shipped_code_sets(), contextlib.chdir(work):
        result = CliRunner().invoke(cli, command(case.path.resolve(), case.as_of), catch_exceptions=False)
    if result.exit_code not in (0, 1, 2):
        raise RuntimeError(f"{case.id}: exit status {result.exit_code}: {result.stderr}")
    out = work / "out"
    outputs = {p.name: normalise(p.name, p.read_bytes()) for p in sorted(out.iterdir())} if out.is_dir() else {}
    outputs[f"{output_stem(case.path)}.txt"] = result.stdout_bytes
    return result.exit_code, dict(sorted(outputs.items()))


# --- the stored copies -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Digest:
    """An output kept as its size and sha256 only."""

    size: int
    sha256: str

    @classmethod
    def of(cls, data: bytes) -> Digest:
        return cls(len(data), hashlib.sha256(data).hexdigest())


@dataclass
class Golden:
    """One input's outputs: bytes, or (stored large outputs) their Digest."""

    case: Case
    exit: int
    outputs: dict[str, bytes | Digest]


def manifest_rows(goldens: list[Golden]) -> list[tuple[str, ...]]:
    rows = []
    for g in goldens:
        for name, data in g.outputs.items():
            d = Digest.of(data)
            rows.append((g.case.name, g.case.as_of, str(g.exit), name, str(d.size), d.sha256,
                         "bytes" if g.case.keeps_bytes(data) else "sha256"))
    return rows


def read_manifest(group: str) -> list[dict[str, str]]:
    path = GOLDEN / group / MANIFEST
    if not path.is_file():
        return []
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))


def stored_cases(group: str) -> list[Case]:
    """The inputs the stored manifest covers, in its order."""
    seen: dict[str, Case] = {}
    for row in read_manifest(group):
        seen.setdefault(row["input"], Case(group, row["input"], row["as_of"]))
    return list(seen.values())


def stored(case: Case) -> Golden:
    rows = [r for r in read_manifest(case.group) if r["input"] == case.name]
    if not rows:
        raise KeyError(f"{case.id}: no golden copy (run python tools/make_golden.py)")
    outputs: dict[str, bytes | Digest] = {}
    for r in rows:
        if r["stored"] == "bytes":
            outputs[r["output"]] = (case.golden_dir / r["output"]).read_bytes()
        else:
            outputs[r["output"]] = Digest(int(r["bytes"]), r["sha256"])
    return Golden(case, int(rows[0]["exit"]), outputs)


def write_group(group: str, goldens: list[Golden]) -> None:
    folder = GOLDEN / group
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for g in goldens:
        for name, data in g.outputs.items():
            if g.case.keeps_bytes(data):
                g.case.golden_dir.mkdir(parents=True, exist_ok=True)
                (g.case.golden_dir / name).write_bytes(data)
    if group == "corpus":  # each source's licence, next to the outputs of its files
        for source in sorted({g.case.name.split("/")[0] for g in goldens if not g.case.copyleft}):
            for licence in sorted((CORPUS / source).glob("_LICENSE__*")):
                shutil.copyfile(licence, folder / source / licence.name)
    with open(folder / MANIFEST, "w", encoding="utf-8", newline="") as fh:
        fh.write("\t".join(MANIFEST_HEADER) + "\n")
        for row in manifest_rows(goldens):
            fh.write("\t".join(row) + "\n")


# --- comparing -------------------------------------------------------------------------------------

def first_difference(name: str, want: bytes, got: bytes) -> str:
    """Where ``got`` first departs from ``want``: the line number and both lines."""
    a, b = want.splitlines(keepends=True), got.splitlines(keepends=True)
    for i in range(max(len(a), len(b))):
        x = a[i] if i < len(a) else None
        y = b[i] if i < len(b) else None
        if x != y:
            def show(line: bytes | None) -> str:
                if line is None:
                    return "(no such line)"
                text = repr(line)[2:-1]
                return text if len(text) <= 400 else text[:400] + "..."
            return (f"{name}: line {i + 1} differs ({len(want)} bytes stored, {len(got)} now)\n"
                    f"    stored: {show(x)}\n    now:    {show(y)}")
    return f"{name}: differs"  # not reached: equal lines make equal bytes


def differences(want: Golden, got_exit: int, got: dict[str, bytes]) -> list[str]:
    """Every way a new run departs from the stored copy; empty when none."""
    out = []
    if got_exit != want.exit:
        out.append(f"exit status {got_exit}, stored {want.exit}")
    for name in sorted(set(want.outputs) | set(got)):
        stored_output = want.outputs.get(name)
        if name not in got:
            out.append(f"{name}: stored but not written now")
        elif stored_output is None:
            out.append(f"{name}: written now but not stored")
        elif isinstance(stored_output, Digest):
            now = Digest.of(got[name])
            if now != stored_output:
                out.append(f"{name}: sha256 {now.sha256} ({now.size} bytes), stored {stored_output.sha256} "
                           f"({stored_output.size} bytes; only its sha256 is stored, so no line to show)")
        elif got[name] != stored_output:
            out.append(first_difference(name, stored_output, got[name]))
    return out


# --- main ------------------------------------------------------------------------------------------

def generate(cases: list[Case], work: Path, runs: int = 2) -> list[Golden]:
    goldens = []
    for i, case in enumerate(cases):
        first = None
        for run in range(runs):
            got = scrub(case, work / f"{i:04d}-{run}")
            if first is None:
                first = got
            elif got != first:
                problems = differences(Golden(case, *first), *got)
                raise SystemExit(f"{case.id}: two runs differ after normalisation:\n  " + "\n  ".join(problems))
        goldens.append(Golden(case, *first))
    return goldens


def check(groups: list[str], work: Path) -> list[str]:
    problems = []
    for group in groups:
        now = {c.name: c for c in current_cases(group)}
        before = {c.name: c for c in stored_cases(group)}
        for name in sorted(set(before) - set(now)):
            problems.append(f"{group}/{name}: stored, but no longer an input")
        for name in sorted(set(now) - set(before)):
            problems.append(f"{group}/{name}: an input without a golden copy")
        for i, name in enumerate(sorted(set(now) & set(before))):
            case = now[name]
            want = stored(before[name])
            if before[name].as_of != case.as_of:
                problems.append(f"{case.id}: as-of date {case.as_of}, stored {before[name].as_of}")
                continue
            code, got = scrub(case, work / group / f"{i:04d}")
            problems.extend(f"{case.id}: {p}" for p in differences(want, code, got))
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="compare with tests/golden/ instead of writing; exit 1 if anything differs")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))  # this checkout's scrubber package, not an installed one
    import scrubber

    if Path(scrubber.__file__).resolve().parent != ROOT / "scrubber":
        raise SystemExit(f"make_golden: imported {scrubber.__file__}, not {ROOT / 'scrubber'}")
    groups = ["fixtures"] + (["corpus"] if (CORPUS / "INDEX.tsv").is_file() else [])
    if "corpus" not in groups:
        print(f"make_golden: {CORPUS} is absent: the corpus copies are left as they are", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="golden-") as tmp:
        work = Path(tmp)
        if args.check:
            problems = check(groups, work)
            for p in problems:
                print(p)
            if problems:
                print(f"make_golden: {len(problems)} difference(s) from tests/golden/", file=sys.stderr)
                return 1
            print(f"make_golden: tests/golden/ is up to date ({', '.join(groups)})", file=sys.stderr)
            return 0
        for group in groups:
            cases = current_cases(group)
            goldens = generate(cases, work / group)
            write_group(group, goldens)
            outputs = [(g.case, d) for g in goldens for d in g.outputs.values()]
            kept = [len(d) for c, d in outputs if c.keeps_bytes(d)]
            print(f"make_golden: {group}: {len(cases)} inputs, {len(outputs)} outputs of "
                  f"{sum(len(d) for _, d in outputs):,} bytes; {len(kept)} stored ({sum(kept):,} bytes), "
                  f"{len(outputs) - len(kept)} as sha256 only", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
