"""The claim-rule case runner: a case file's cases over the base claim, through the engine in memory.

A case file is ``tests/rule_cases/<CODE>.toml`` (format: tests/rule_cases/README.md). Each case
edits the base claim (``tests/rule_cases/_base.837``), reads the edited bytes with the reader,
walks the claim model and checks the claim with ``Engine(config, as_of).check(claim)``: no file
is written and the pipeline is not involved.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

CASES_DIR = Path(__file__).resolve().parent / "rule_cases"
BASE = CASES_DIR / "_base.837"
AS_OF = date(2025, 6, 1)
CODE_FILE = re.compile(r"^[A-Z]{2}\d{3}$")

CASE_KEYS = {
    "name", "expect", "edit", "as_of", "config", "claims", "lines",
    "element", "value", "severity", "ack", "count", "status", "clean", "sent",
}


class CaseError(AssertionError):
    """A case that cannot be run as written (an edit that does not match, an unknown key ...)."""


@dataclass
class Case:
    code: str
    name: str
    expect: str
    data: dict = field(repr=False)
    source: Path | None = None

    @property
    def id(self) -> str:
        return f"{self.code}-{self.name}"


def load_cases(path: Path) -> list[Case]:
    """The cases of one case file; its name (``DP002.toml``) is the code they are about."""
    code = path.stem
    if not CODE_FILE.match(code):
        raise CaseError(f"{path.name}: a case file is named after its rule code (DP002.toml)")
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    unknown = set(data) - {"case"}
    if unknown:
        raise CaseError(f"{path.name}: unknown top-level keys {sorted(unknown)} (only [[case]] tables)")
    cases = []
    for n, raw in enumerate(data.get("case", []), 1):
        where = f"{path.name} case {n}"
        bad = set(raw) - CASE_KEYS
        if bad:
            raise CaseError(f"{where}: unknown keys {sorted(bad)}")
        if "name" not in raw or raw.get("expect") not in ("fail", "pass"):
            raise CaseError(f"{where}: needs a name and expect = \"fail\" or \"pass\"")
        cases.append(Case(code, raw["name"], raw["expect"], raw, path))
    ids = [c.id for c in cases]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise CaseError(f"{path.name}: case names used twice: {dupes}")
    return cases


def all_cases(folder: Path = CASES_DIR) -> list[Case]:
    return [case for path in sorted(folder.glob("*.toml")) if CODE_FILE.match(path.stem) for case in load_cases(path)]


# --- the claim of a case ---------------------------------------------------------------------------


def base_lines(path: Path = BASE) -> list[str]:
    """The base file's segments, one a line, without their terminator."""
    return [line.removesuffix("~") for line in path.read_text(encoding="latin-1").splitlines() if line.strip()]


def apply_edit(lines: list[str], edit: str, where: str = "") -> list[str]:
    """``lines`` with the diff-like ``edit`` applied.

    ``- SEG`` drops the one line equal to SEG; ``= SEG`` keeps it as an anchor; ``+ SEG`` lines
    go after the last ``-``/``=`` line (in its place for a ``-``). Every ``-``/``=`` line must
    match exactly one line, and a line is edited once."""
    changes: dict[int, tuple[bool, list[str]]] = {}
    anchor: int | None = None
    for raw in edit.splitlines():
        text = raw.strip()
        if not text or text.startswith("#"):
            continue
        tag, seg = text[0], text[1:].strip().removesuffix("~")
        if tag not in "-=+" or not seg:
            raise CaseError(f"{where}: edit line {raw!r} does not begin with '- ', '= ' or '+ '")
        if tag == "+":
            if anchor is None:
                raise CaseError(f"{where}: '+ {seg}' follows no '- ' or '= ' line")
            changes[anchor][1].append(seg)
            continue
        hits = [i for i, line in enumerate(lines) if line == seg]
        if len(hits) != 1:
            raise CaseError(f"{where}: {tag} {seg!r} matches {len(hits)} lines of the base claim, not exactly one")
        anchor = hits[0]
        if anchor in changes:
            raise CaseError(f"{where}: {seg!r} is edited twice")
        changes[anchor] = (tag == "=", [])
    out: list[str] = []
    for i, line in enumerate(lines):
        keep, added = changes.get(i, (True, []))
        if keep:
            out.append(line)
        out.extend(added)
    return out


def _claim_span(lines: list[str], where: str) -> tuple[int, int]:
    clms = [i for i, line in enumerate(lines) if line.startswith("CLM*")]
    se = next((i for i, line in enumerate(lines) if line.startswith("SE*")), None)
    if len(clms) != 1 or se is None or se < clms[0]:
        raise CaseError(f"{where}: claims and lines repeat the one claim of the edited base (one CLM before SE)")
    return clms[0], se


def repeat_lines(lines: list[str], count: int, where: str = "") -> list[str]:
    """The claim's last service line (its last LX up to the end of the claim) repeated, LX01
    renumbered, until the claim has ``count`` service lines."""
    clm, se = _claim_span(lines, where)
    lxs = [i for i in range(clm, se) if lines[i].startswith("LX*")]
    if not lxs or count < len(lxs):
        raise CaseError(f"{where}: lines = {count}, but the claim has {len(lxs)} service lines")
    block = lines[lxs[-1] + 1:se]
    extra = [seg for n in range(len(lxs) + 1, count + 1) for seg in (f"LX*{n}", *block)]
    return lines[:se] + extra + lines[se:]


def repeat_claims(lines: list[str], count: int, where: str = "") -> list[str]:
    """The claim (its CLM up to the SE) repeated until its transaction holds ``count`` claims."""
    clm, se = _claim_span(lines, where)
    if count < 1:
        raise CaseError(f"{where}: claims = {count}")
    return lines[:se] + lines[clm:se] * (count - 1) + lines[se:]


def case_bytes(case: Case, base: Path = BASE) -> bytes:
    where = case.id
    lines = apply_edit(base_lines(base), case.data.get("edit", ""), where)
    if "lines" in case.data:
        lines = repeat_lines(lines, case.data["lines"], where)
    if "claims" in case.data:
        lines = repeat_claims(lines, case.data["claims"], where)
    return "".join(f"{line}~\n" for line in lines).encode("latin-1")


# --- running it ------------------------------------------------------------------------------------

_ENGINES: dict[tuple, object] = {}


def engine_for(config: dict | None, as_of: date):
    """One engine per configuration, as-of date and set of registered rules (engines load their
    tables once)."""
    from scrubber.check.engine import Engine, known_codes
    from scrubber.config import parse_config
    from scrubber.rules import REGISTRY

    key = (json.dumps(config, sort_keys=True, default=str), as_of, tuple(REGISTRY))
    engine = _ENGINES.get(key)
    if engine is None:
        engine = _ENGINES[key] = Engine(parse_config(config, known_codes()) if config else None, as_of)
    return engine


def check_claims(case: Case, base: Path = BASE):
    """(the claims of the case's input, the findings of the last one).

    The claims before the last are checked first, in order, each accepted one remembered by the
    engine's ledger as in a scrub (the cross-claim rules PE001, PE002 read it). With ``sent``, the
    base claim (unedited) was sent on that date: recorded in a state folder of its own, which
    the ledger then consults (PE003)."""
    import tempfile

    from scrubber.check.engine import claim_status
    from scrubber.x12.model import Claim, walk
    from scrubber.x12.reader import read_segments

    claims = [event for event in walk(read_segments(case_bytes(case, base))) if isinstance(event, Claim)]
    if not claims:
        raise CaseError(f"{case.id}: the edited base holds no claim")
    engine = engine_for(case.data.get("config"), case.data.get("as_of", AS_OF))
    with tempfile.TemporaryDirectory(prefix="case-state-") as folder:
        store = None
        if "sent" in case.data:
            from scrubber.run.state import SentClaims, duplicate_days

            days = duplicate_days(engine.context.options)
            earlier = SentClaims(folder, case.data["sent"], days)
            ledger = engine.open_ledger(earlier.key)
            for claim in walk(read_segments(base.read_bytes())):
                if isinstance(claim, Claim):
                    engine.settle(claim, "accepted")
            earlier.commit(ledger, "earlier", "earlier.837", 0, check=False)
            earlier.close()
            store = SentClaims(folder, engine.context.as_of, days)
            engine.open_ledger(store.key, store.lookup("this"))
        else:
            engine.open_ledger()
        try:
            for claim in claims[:-1]:
                engine.settle(claim, claim_status(engine.check(claim)))
            findings = engine.check(claims[-1])
        finally:
            engine.close_ledger()
            if store is not None:
                store.close()
    return claims, findings


def run_case(case: Case, base: Path = BASE) -> None:
    """Check the last claim of the case's input and assert what the case expects."""
    from scrubber.check.engine import claim_status
    from scrubber.rules import REGISTRY

    if case.code not in REGISTRY:
        raise CaseError(f"{case.id}: {case.code} is not a registered rule")
    data = case.data
    _, findings = check_claims(case, base)
    status = claim_status(findings)
    mine = [f for f in findings if f.rule == case.code]
    got = [f"{f.rule} {f.where()} {f.value!r}" for f in findings]
    if case.expect == "fail":
        assert mine, f"{case.id}: expected a {case.code} finding, got {got}"
        f = mine[0]
        if "severity" in data:
            assert f.severity == data["severity"], (case.id, f)
        elif REGISTRY[case.code].severity == "error":
            assert status == "rejected", (case.id, got)
        for key in ("element", "value"):
            if key in data:
                assert getattr(f, key) == data[key], (case.id, key, f)
        if "ack" in data:
            assert str(f.ack) == data["ack"], (case.id, f.ack)
        # Every finding names its place the way an analyst does.
        assert f.segment and f.loop and isinstance(f.position, int) and f.message, (case.id, f)
    else:
        assert not mine, (case.id, mine)
    if "count" in data:
        assert len(mine) == data["count"], (case.id, got)
    if "status" in data:
        assert status == data["status"], (case.id, got)
    if data.get("clean"):
        assert findings == [], f"{case.id}: expected no finding at all, got {got}"
