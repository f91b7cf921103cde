"""The back-pain maps (``maps/backpain/*.toml``): loading, strict validation and lookup indexes.

The rules in :mod:`scrubber.rules.backpain`, :mod:`scrubber.rules.procedures` and NC004 of
:mod:`scrubber.rules.ncci` hold no clinical content: code groups, region requirements, sequencing,
Excludes1 pairs and timed codes are all read from these files (the NCCI edits are the CMS tables of ``maps/ncci/``, see
:mod:`scrubber.codesets.ncci`). Each file has a ``[meta]`` table (title, source,
effective_from, effective_to) and arrays of entries, each with its own ``source``; an entry with
``public_source = false`` says no public source was found (or checked) for it, and its findings are
warnings whatever the rule's default.

Loading is strict: an unknown key, a missing key, a wrong type, a code that is not an ICD-10-CM
pattern, a reference to an unknown group... stops the run with :class:`MapError`, one line naming
the file, the line and the problem. Load once per run (``ctx.map("backpain", load_backpain_maps)``);
the indexes make each per-line lookup a dictionary or set access.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from scrubber.errors import ScrubberError
from scrubber.mapsdir import map_path

MAP_NAME = "backpain"
ENV_DIR = "SCRUBBER_BACKPAIN_MAPS"  # a folder to read the back-pain maps from instead of maps/backpain
FILES = ("groups.toml", "specificity.toml", "sequencing.toml", "excludes1.toml", "procedures.toml", "timed.toml")

_ICD_PATTERN = re.compile(r"^([A-Z][0-9][0-9A-Z])(?:\.([0-9A-Z]{1,4}))?(\.?-)?$")
_CATEGORY_RANGE = re.compile(r"^([A-Z])([0-9]{2})-\1([0-9]{2})$")  # M00-M99: every category between
_PROCEDURE = re.compile(r"^(?:[0-9]{4}[0-9A-Z]|[A-Z][0-9]{4})$")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class MapError(ScrubberError):
    """A malformed map: ``str(exc)`` is one line naming file, line and problem."""


# --- compiled forms ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CodeSet:
    """ICD-10-CM code patterns: exact codes and prefixes (a prefix covers the code and its children)."""

    exact: frozenset[str] = frozenset()
    prefixes: frozenset[str] = frozenset()
    # code -> match(code), filled as codes are looked up (a file repeats few codes); bounded.
    _memo: dict = field(default_factory=dict, init=False, repr=False, compare=False, hash=False)

    def match(self, code: str) -> bool:
        memo = self._memo
        try:
            return memo[code]
        except KeyError:
            pass
        if len(memo) >= 8192:
            memo.clear()
        found = memo[code] = self._match(code)
        return found

    def _match(self, code: str) -> bool:
        if code in self.exact:
            return True
        prefixes = self.prefixes
        if not prefixes:
            return False
        for k in range(3, min(len(code), 8) + 1):  # ICD-10-CM codes have at most 7 characters
            if code[:k] in prefixes:
                return True
        return False

    def __or__(self, other: CodeSet) -> CodeSet:
        return CodeSet(self.exact | other.exact, self.prefixes | other.prefixes)


@dataclass(frozen=True, slots=True)
class Entry:
    """What every entry keeps for messages and --explain: its file, line, label, source, dates."""

    file: str
    line: int
    label: str
    source: str
    public_source: bool
    effective_from: date
    effective_to: date

    def in_effect(self, d: date) -> bool:
        return self.effective_from <= d <= self.effective_to


@dataclass(frozen=True, slots=True)
class MapFile:
    name: str
    path: Path
    title: str
    source: str
    effective_from: date
    effective_to: date
    meta: dict

    def covers(self, d: date) -> bool:
        return self.effective_from <= d <= self.effective_to


@dataclass(slots=True)
class BackpainMaps:
    files: dict[str, MapFile] = field(default_factory=dict)
    groups: dict[str, tuple[CodeSet, Entry]] = field(default_factory=dict)
    scope: CodeSet = field(default_factory=CodeSet)
    # BP001: unspecified code -> [(specific CodeSet, procedures, entry)]
    unspecified: dict[str, list[tuple[CodeSet, frozenset[str], Entry]]] = field(default_factory=dict)
    # BP002: [(secondary, underlying, entry)]
    sequencing: list[tuple[CodeSet, CodeSet, Entry]] = field(default_factory=list)
    # BP003: owner prefix -> [(excluded prefix, entry)]  (every pattern taken as a prefix)
    excludes1: dict[str, list[tuple[str, Entry]]] = field(default_factory=dict)
    # PX001: procedure -> (requires CodeSet, group labels, entry)
    support: dict[str, tuple[CodeSet, str, Entry]] = field(default_factory=dict)
    # PX002: procedure -> (claim filing codes, requires CodeSet, group labels, entry)
    first_pointer: dict[str, tuple[frozenset[str], CodeSet, str, Entry]] = field(default_factory=dict)
    # NC004: timed code -> entry
    timed: dict[str, Entry] = field(default_factory=dict)
    minutes_per_unit: int = 15
    minimum_minutes: int = 8
    # Lookups the rules repeat for every claim (by code or procedure), cached per run: each is
    # a dict of its own under a name the rule picks (see ``memo_of``). Bounded.
    memo: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def support_sets(self) -> list[CodeSet]:
        """The distinct ``requires`` sets of ``support`` (a procedure's region is bit ``i`` of its
        set's index, see ``support_bits``)."""
        found = self.memo.get("support-sets")
        if found is None:
            found = self.memo["support-sets"] = list(dict.fromkeys(requires for requires, _, _ in self.support.values()))
        return found

    @property
    def support_bits(self) -> dict[str, int]:
        """PX001: procedure -> the bit of its ``requires`` set among ``support_sets``."""
        found = self.memo.get("support-bits")
        if found is None:
            index = {codes: i for i, codes in enumerate(self.support_sets)}
            found = self.memo["support-bits"] = {p: 1 << index[requires] for p, (requires, _, _) in self.support.items()}
        return found

    def memo_of(self, name: str) -> dict:
        cache = self.memo.get(name)
        if cache is None or len(cache) >= 8192:
            cache = self.memo[name] = {}
        return cache

    def entries_of(self, file: str) -> list[Entry]:
        """Every entry of one file, in file order (for --explain)."""
        seen: dict[tuple[int, str], Entry] = {}

        def add(e: Entry) -> None:
            if e.file == file:
                seen[(e.line, e.label)] = e

        for _, e in self.groups.values():
            add(e)
        for lst in self.unspecified.values():
            for *_, e in lst:
                add(e)
        for *_, e in self.sequencing:
            add(e)
        for lst in self.excludes1.values():
            for _, e in lst:
                add(e)
        for *_, e in self.support.values():
            add(e)
        for *_, e in self.first_pointer.values():
            add(e)
        for e in self.timed.values():
            add(e)
        return [seen[k] for k in sorted(seen)]


# --- the schema ----------------------------------------------------------------------------------
# type names: str, bool, int, date, codes (ICD pattern list), code (one ICD pattern), procs
# (procedure code list), proc, groups (names of groups), names (str list), units, filing.

_META = {"title": ("str", True), "source": ("str", True), "effective_from": ("date", True), "effective_to": ("date", True)}
_ENTRY_COMMON = {
    "label": ("str", True),
    "source": ("str", True),
    "public_source": ("bool", False),
    "effective_from": ("date", False),
    "effective_to": ("date", False),
}

SCHEMA: dict[str, tuple[dict, str, dict]] = {
    "groups.toml": ({}, "group", {"name": ("name", True), "codes": ("codes", True)}),
    "specificity.toml": ({}, "edit", {"code": ("code", True), "specific_groups": ("groups", True), "procedures": ("procs", False)}),
    "sequencing.toml": ({}, "entry", {"secondary": ("codes", True), "underlying": ("codes", True)}),
    "excludes1.toml": (
        {"generator": ("str", True), "simple_icd_10_cm": ("str", True), "roots": ("codes", True), "coverage_note": ("str", False)},
        "pair",
        {"code": ("code", True), "excludes": ("code", True), "note": ("str", True)},
    ),
    "procedures.toml": ({"scope": ("group", True)}, ("support", "first_pointer"), {
        "support": {"procedures": ("procs", True), "requires": ("groups", True)},
        "first_pointer": {"procedures": ("procs", True), "requires": ("groups", True), "claim_filing": ("filing", True)},
    }),
    "timed.toml": ({"minutes_per_unit": ("units", True), "minimum_minutes": ("units", True)}, "timed", {"codes": ("procs", True)}),
}

# Entries whose label is derived from another key (no `label` key in the file).
_LABEL_FROM = {"group": "label", "pair": "note"}


class _Checker:
    """Validates one file's parsed TOML against its schema, naming lines."""

    def __init__(self, path: Path, text: str, display: str):
        self.path, self.display = path, display
        self.lines = text.splitlines()

    def fail(self, line: int | None, problem: str) -> MapError:
        where = f"{self.display} line {line}" if line else self.display
        return MapError(f"{where}: {problem}")

    def table_line(self, table: str, index: int) -> int | None:
        """Line (1-based) of the index-th ``[[table]]`` header, or of ``[table]``."""
        pat = re.compile(rf"^\s*\[\[\s*{re.escape(table)}\s*\]\]\s*(#.*)?$")
        n = -1
        for i, text in enumerate(self.lines, start=1):
            if pat.match(text):
                n += 1
                if n == index:
                    return i
        single = re.compile(rf"^\s*\[\s*{re.escape(table)}\s*\]\s*(#.*)?$")
        if index < 0:
            for i, text in enumerate(self.lines, start=1):
                if single.match(text):
                    return i
        return None

    def key_line(self, start: int | None, key: str) -> int | None:
        if start is None:
            return None
        pat = re.compile(rf"^\s*{re.escape(key)}\s*=")
        for i in range(start, len(self.lines)):
            text = self.lines[i]
            if re.match(r"^\s*\[", text):
                break
            if pat.match(text):
                return i + 1
        return start

    def value(self, kind: str, value, where: str, line: int | None, groups: set[str] | None):
        def bad(why: str) -> MapError:
            return self.fail(line, f"{where}: {why}")

        if kind in ("str", "name"):
            if not isinstance(value, str) or not value.strip():
                raise bad("must be a non-empty string")
            if kind == "name" and not _NAME.match(value):
                raise bad(f"{value!r} is not a lower-case name (letters, digits, _)")
            return value
        if kind == "bool":
            if not isinstance(value, bool):
                raise bad("must be true or false")
            return value
        if kind == "units":
            if not isinstance(value, int) or isinstance(value, bool):
                raise bad("must be a whole number")
            if value < 1:
                raise bad("must be 1 or more")
            return value
        if kind == "date":
            if not isinstance(value, date) or hasattr(value, "hour"):
                raise bad("must be a date (YYYY-MM-DD, unquoted)")
            return value
        if kind == "code":
            return self.pattern(value, where, line)
        if kind == "proc":
            if not isinstance(value, str) or not _PROCEDURE.match(value):
                raise bad(f"{value!r} is not a CPT/HCPCS code (5 characters)")
            return value
        if kind == "group":
            if not isinstance(value, str) or value not in (groups or set()):
                raise bad(f"{value!r} is not a group of groups.toml")
            return value
        # lists
        if not isinstance(value, list) or not value:
            raise bad("must be a non-empty list")
        if kind == "codes":
            return self.patterns(value, where, line)
        if kind == "procs":
            return [self.value("proc", v, where, line, groups) for v in value]
        if kind == "groups":
            return [self.value("group", v, where, line, groups) for v in value]
        if kind == "filing":
            for v in value:
                if not isinstance(v, str) or not re.match(r"^[0-9A-Z]{1,2}$", v):
                    raise bad(f"{v!r} is not a claim filing indicator code (SBR09)")
            return value
        raise AssertionError(kind)  # pragma: no cover

    def pattern(self, value, where: str, line: int | None) -> tuple[str, bool]:
        """``"M51.-"`` -> ``("M51", True)`` (prefix); ``"M54.6"`` -> ``("M546", False)``."""
        m = _ICD_PATTERN.match(value) if isinstance(value, str) else None
        if not m:
            raise self.fail(line, f"{where}: {value!r} is not an ICD-10-CM code or pattern (M54.6, M51.-, M54.1-, M00-M99)")
        return m.group(1) + (m.group(2) or ""), bool(m.group(3))

    def patterns(self, value, where: str, line: int | None) -> list[tuple[str, bool]]:
        """A list of patterns; a category range ``"M00-M99"`` stands for each category between (prefixes)."""
        out = []
        for v in value:
            r = _CATEGORY_RANGE.match(v) if isinstance(v, str) else None
            if r:
                lo, hi = int(r.group(2)), int(r.group(3))
                if lo > hi:
                    raise self.fail(line, f"{where}: range {v!r} runs backwards")
                out.extend((f"{r.group(1)}{n:02d}", True) for n in range(lo, hi + 1))
            else:
                out.append(self.pattern(v, where, line))
        return out

    def table(self, data, schema: dict, where: str, line: int | None, groups: set[str] | None) -> dict:
        if not isinstance(data, dict):
            raise self.fail(line, f"{where}: must be a table")
        unknown = sorted(set(data) - set(schema))
        if unknown:
            raise self.fail(self.key_line(line, unknown[0]) if line else line,
                            f"{where}: unknown key {unknown[0]!r} (allowed: {', '.join(schema)})")
        out = {}
        for key, (kind, required) in schema.items():
            if key not in data:
                if required:
                    raise self.fail(line, f"{where}: missing key {key!r}")
                continue
            out[key] = self.value(kind, data[key], f"{where}: {key}", self.key_line(line, key) if line else line, groups)
        return out


def _codeset(patterns: list[tuple[str, bool]], all_prefix: bool = False) -> CodeSet:
    exact = frozenset(c for c, p in patterns if not p and not all_prefix)
    prefixes = frozenset(c for c, p in patterns if p or all_prefix)
    return CodeSet(exact, prefixes)


def _read(path: Path, display: str) -> tuple[dict, str]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise MapError(f"{display}: missing (the back-pain rules need it; reinstall, or restore it from the repository)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise MapError(f"{display}: cannot read: {exc}") from None
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        m = re.search(r"\(at line (\d+), column (\d+)\)", msg)
        if m:
            problem = msg[: m.start()].strip()
            raise MapError(f"{display} line {m.group(1)}: not valid TOML: {problem} (column {m.group(2)})") from None
        raise MapError(f"{display}: not valid TOML: {msg}") from None


def load_backpain_maps(directory: Path | str | None = None) -> BackpainMaps:
    """Load and validate every back-pain map; raise :class:`MapError` on the first problem."""
    if directory is None and os.environ.get(ENV_DIR):
        directory = os.environ[ENV_DIR]  # try edited maps without reinstalling (and the tests)
    folder = Path(directory) if directory is not None else map_path(MAP_NAME)
    maps = BackpainMaps()
    raw: dict[str, tuple[dict, _Checker, MapFile]] = {}
    for name in FILES:
        path = folder / name
        display = f"maps/{MAP_NAME}/{name}" if directory is None else str(path)
        data, text = _read(path, display)
        checker = _Checker(path, text, display)
        extra_meta, table_names, entry_schema = SCHEMA[name]
        allowed_top = {"meta"} | ({table_names} if isinstance(table_names, str) else set(table_names))
        unknown = sorted(set(data) - allowed_top)
        if unknown:
            raise checker.fail(checker.table_line(unknown[0], 0) or checker.table_line(unknown[0], -1),
                               f"unknown table {unknown[0]!r} (allowed: {', '.join(sorted(allowed_top))})")
        if "meta" not in data:
            raise checker.fail(None, "missing the [meta] table (title, source, effective_from, effective_to)")
        meta_line = checker.table_line("meta", -1)
        # group references in meta are checked after groups are loaded (procedures.toml scope)
        meta = checker.table(data["meta"], {**_META, **extra_meta}, "[meta]", meta_line,
                             set(maps.groups) if name != "groups.toml" else set())
        if meta["effective_from"] > meta["effective_to"]:
            raise checker.fail(checker.key_line(meta_line, "effective_from"), "[meta]: effective_from is after effective_to")
        mf = MapFile(name, path, meta["title"], meta["source"], meta["effective_from"], meta["effective_to"], meta)
        maps.files[name] = mf
        raw[name] = (data, checker, mf)
        tables = (table_names,) if isinstance(table_names, str) else table_names
        for table in tables:
            schema = entry_schema if isinstance(table_names, str) else entry_schema[table]
            items = data.get(table, [])
            if not isinstance(items, list):
                raise checker.fail(checker.table_line(table, -1), f"{table} must be an array of tables ([[{table}]])")
            if not items and isinstance(table_names, str):
                raise checker.fail(None, f"no [[{table}]] entry")
            for index, item in enumerate(items):
                line = checker.table_line(table, index)
                label_key = _LABEL_FROM.get(table, "label")
                common = dict(_ENTRY_COMMON)
                if label_key != "label":
                    common.pop("label")
                    common["source"] = ("str", False)  # generated pairs take the file's source
                ident = _ident(item)
                where = f"[[{table}]] #{index + 1}{ident}"
                entry = checker.table(item, {**common, **schema}, where, line, set(maps.groups))
                if table == "pair":
                    entry.setdefault("source", mf.source)
                e = Entry(
                    name, line or 0, entry.get(label_key, entry.get("label", "")),
                    entry["source"], entry.get("public_source", True),
                    entry.get("effective_from", mf.effective_from), entry.get("effective_to", mf.effective_to),
                )
                if e.effective_from > e.effective_to:
                    raise checker.fail(line, f"{where}: effective_from is after effective_to")
                _index(maps, table, entry, e, checker, line, where, mf)
    maps.scope = maps.groups[raw["procedures.toml"][2].meta["scope"]][0]
    timed = raw["timed.toml"][2].meta
    maps.minutes_per_unit, maps.minimum_minutes = timed["minutes_per_unit"], timed["minimum_minutes"]
    return maps


def _ident(item) -> str:
    if isinstance(item, dict):
        for key in ("name", "code", "procedures", "codes", "label"):
            v = item.get(key)
            if isinstance(v, str):
                return f" ({v})"
            if isinstance(v, list) and v and isinstance(v[0], str):
                return f" ({v[0]}{', ...' if len(v) > 1 else ''})"
    return ""


def _groups_codeset(maps: BackpainMaps, names: list[str]) -> CodeSet:
    out = CodeSet()
    for n in names:
        out = out | maps.groups[n][0]
    return out


def _labels(maps: BackpainMaps, names: list[str]) -> str:
    return " or ".join(maps.groups[n][1].label for n in names)


def _index(maps: BackpainMaps, table: str, entry: dict, e: Entry, checker: _Checker, line, where: str, mf: MapFile) -> None:
    def dup(what: str) -> MapError:
        return checker.fail(line, f"{where}: {what} is already mapped by an earlier entry")

    if table == "group":
        if entry["name"] in maps.groups:
            raise dup(f"group {entry['name']!r}")
        maps.groups[entry["name"]] = (_codeset(entry["codes"]), e)
    elif table == "edit":
        code, prefix = entry["code"]
        if prefix:
            raise checker.fail(line, f"{where}: code must be one code, not a pattern")
        maps.unspecified.setdefault(code, []).append(
            (_groups_codeset(maps, entry["specific_groups"]), frozenset(entry.get("procedures", ())), e))
    elif table == "entry":
        maps.sequencing.append((_codeset(entry["secondary"]), _codeset(entry["underlying"]), e))
    elif table == "pair":
        maps.excludes1.setdefault(entry["code"][0], []).append((entry["excludes"][0], e))
    elif table == "support":
        for p in entry["procedures"]:
            if p in maps.support:
                raise dup(f"procedure {p}")
            maps.support[p] = (_groups_codeset(maps, entry["requires"]), _labels(maps, entry["requires"]), e)
    elif table == "first_pointer":
        for p in entry["procedures"]:
            if p in maps.first_pointer:
                raise dup(f"procedure {p}")
            maps.first_pointer[p] = (frozenset(entry["claim_filing"]), _groups_codeset(maps, entry["requires"]),
                                     _labels(maps, entry["requires"]), e)
    elif table == "timed":
        for c in entry["codes"]:
            if c in maps.timed:
                raise dup(f"code {c}")
            maps.timed[c] = e


def describe_sources(maps: BackpainMaps, files: tuple[str, ...]) -> str:
    """Text for ``scrubber rules --explain``: each map file's source and dates, then its entries'."""
    out = []
    for name in files:
        mf = maps.files[name]
        out.append(f"maps/{MAP_NAME}/{name}: {mf.title}; effective {mf.effective_from}..{mf.effective_to}")
        out.append(f"  source: {mf.source}")
        if mf.meta.get("coverage_note"):  # what the dates rest on where a year was not (fully) checked
            out.append(f"  coverage: {mf.meta['coverage_note']}")
        for e in maps.entries_of(name):
            flag = "" if e.public_source else " [no public source checked: warning only]"
            src = "" if e.source == mf.source else f": {e.source}"
            out.append(f"  - line {e.line}: {e.label}{src}{flag}")
    return "\n".join(out)


def preload(engine) -> None:
    """Load (and so validate) the maps up front when a back-pain rule is enabled, so that a malformed
    map stops the run before any output is written (the CLI turns MapError into exit 2)."""
    if any(getattr(rule, "uses_backpain_maps", False) for rule in engine.rules):
        engine.context.map(MAP_NAME, load_backpain_maps)
