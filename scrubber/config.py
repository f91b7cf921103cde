"""Rule configuration: which rules run, at which severity, and per-payer overrides (SNIP 7).

``scrubber.toml`` (or ``[tool.scrubber]`` in a pyproject.toml)::

    [rules]
    select = ["DP", "DX"]        # codes or prefixes; default: every rule
    ignore = ["DP005"]
    [rules.severity]
    DP004 = "warning"            # error | warning | info

    [payers.PAYER01.rules]       # 2010BB NM109 of the claim's payer
    ignore = ["BP"]
    [payers.PAYER01.rules.severity]
    BP002 = "error"

    [options]                    # rule options, read by the rules through Context.options
    timely_filing_days = 365
    duplicate_days = 60                # PE003: how long a sent claim counts as sent (needs --state)
    structure_validator = "compiled"   # or "pyx12": the reference validator (slow)
    data_dir = "/var/lib/x12-scrubber"  # updated code sets (scrubber codesets add); see scrubber.mapsdir
    cluster = "tcp://scheduler:8786"   # a Dask scheduler for scrub and watch (scrubber.run.cluster)

    [limits]                     # input limits (scrubber.limits)

    [watch]                      # the drop-folder watcher (scrubber.run.watcher): inbox, out_dir,
    settle = 5                   # settle, rescan, workers
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from scrubber.errors import ScrubberError
from scrubber.findings import SEVERITIES
from scrubber.limits import Limits, LimitsError


class ConfigError(ScrubberError):
    """A configuration that cannot be used: ``str(exc)`` is one line naming the file and key."""


OPTIONS = {"timely_filing_days": int, "duplicate_days": int, "structure_validator": str, "data_dir": Path,
           "cluster": "address", "timezone": "zone"}  # [options], with their type
STRUCTURE_VALIDATORS = ("compiled", "pyx12")


@dataclass(frozen=True)
class RuleSelection:
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    severity: dict[str, str] = field(default_factory=dict)

    def enabled(self, code: str, default: bool = True) -> bool:
        selected = default if not self.select else _match(code, self.select)
        return selected and not _match(code, self.ignore)

    def severity_of(self, code: str) -> str | None:
        best = None
        for key, value in self.severity.items():
            if code.startswith(key) and (best is None or len(key) > len(best[0])):
                best = (key, value)
        return best[1] if best else None


@dataclass(frozen=True)
class Config:
    rules: RuleSelection = field(default_factory=RuleSelection)
    payers: dict[str, RuleSelection] = field(default_factory=dict)
    path: str | None = None
    options: dict = field(default_factory=dict)  # [options]: rule options (e.g. timely_filing_days)
    limits: dict = field(default_factory=dict)  # [limits]: input limits (see scrubber.limits)
    watch: dict = field(default_factory=dict)  # [watch]: the drop-folder watcher (see scrubber.run.watcher)

    def enabled(self, code: str, payer: str = "") -> bool:
        on = self.rules.enabled(code)
        override = self.payers.get(payer)
        if override is not None:
            if _match(code, override.select):
                on = True
            if _match(code, override.ignore):
                on = False
        return on

    def severity(self, code: str, default: str, payer: str = "") -> str:
        override = self.payers.get(payer)
        if override is not None:
            value = override.severity_of(code)
            if value:
                return value
        return self.rules.severity_of(code) or default

    def maybe_enabled(self, code: str) -> bool:
        """Whether any payer could have the rule on (so the engine must run it)."""
        return self.rules.enabled(code) or any(_match(code, p.select) for p in self.payers.values())


def _match(code: str, patterns: tuple[str, ...]) -> bool:
    return any(code.startswith(p) for p in patterns)


def _selection(data: object, where: str, known: set[str]) -> RuleSelection:
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: must be a table")
    unknown = set(data) - {"select", "ignore", "severity"}
    if unknown:
        raise ConfigError(f"{where}: unknown key {sorted(unknown)[0]!r} (select, ignore, severity)")
    lists = {}
    for key in ("select", "ignore"):
        value = data.get(key, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise ConfigError(f"{where}.{key}: must be a list of rule codes or prefixes")
        for v in value:
            if not any(code.startswith(v) for code in known):
                raise ConfigError(f"{where}.{key}: {v!r} matches no rule")
        lists[key] = tuple(value)
    severity = data.get("severity", {})
    if not isinstance(severity, dict):
        raise ConfigError(f"{where}.severity: must be a table of CODE = \"error|warning|info\"")
    for code, level in severity.items():
        if level not in SEVERITIES[:3]:
            raise ConfigError(f"{where}.severity.{code}: {level!r} is not error, warning or info")
        if not any(k.startswith(code) for k in known):
            raise ConfigError(f"{where}.severity: {code!r} matches no rule")
    return RuleSelection(lists["select"], lists["ignore"], dict(severity))


def parse_config(data: dict, known: set[str], path: str | None = None) -> Config:
    unknown = set(data) - {"rules", "payers", "options", "limits", "watch"}
    if unknown:
        raise ConfigError(f"unknown section {sorted(unknown)[0]!r} (rules, payers, options, limits, watch)")
    for section in ("options", "limits", "watch"):
        if not isinstance(data.get(section, {}), dict):
            raise ConfigError(f"{section}: must be a table")
    rules = _selection(data.get("rules", {}), "rules", known)
    payers = {}
    raw_payers = data.get("payers", {})
    if not isinstance(raw_payers, dict):
        raise ConfigError("payers: must be a table of payer ids")
    for payer, section in raw_payers.items():
        if not isinstance(section, dict) or set(section) - {"rules"}:
            raise ConfigError(f"payers.{payer}: only a [payers.{payer}.rules] table is allowed")
        payers[payer] = _selection(section.get("rules", {}), f"payers.{payer}.rules", known)
    for key, value in data.get("options", {}).items():
        kind = OPTIONS.get(key)
        if kind is None:
            raise ConfigError(f"options: unknown option {key!r} ({', '.join(sorted(OPTIONS))})")
        if kind == "zone":
            if zone(value) is None:
                raise ConfigError(f"options.{key}: {value!r} is not a time zone name (such as \"America/Chicago\")")
            continue
        if kind is Path:
            if not isinstance(value, str) or not value.strip():
                raise ConfigError(f"options.{key}: must be a folder path (a string), not {value!r}")
            continue
        if kind == "address":  # a Dask scheduler, tcp://HOST:PORT (checked when used)
            if not isinstance(value, str) or not value.strip():
                raise ConfigError(f"options.{key}: must be a scheduler address such as \"tcp://HOST:8786\", not {value!r}")
            continue
        if kind is str:
            if value not in STRUCTURE_VALIDATORS:
                raise ConfigError(f"options.{key}: must be one of {', '.join(STRUCTURE_VALIDATORS)}, not {value!r}")
            continue
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ConfigError(f"options.{key}: must be a whole number of at least 1, not {value!r}")
    try:
        Limits.from_config(data.get("limits"))
    except LimitsError as exc:
        raise ConfigError(str(exc)) from None
    return Config(rules, payers, path, dict(data.get("options", {})), dict(data.get("limits", {})),
                  dict(data.get("watch", {})))


def zone(name: object):
    """The ``zoneinfo.ZoneInfo`` of an IANA time zone name, or None when it is not one."""
    if not isinstance(name, str) or not name.strip():
        return None
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def today(config: Config | None = None):
    """Today's date in ``[options] timezone`` (the machine's local time when not set)."""
    from datetime import datetime

    tz = zone(config.options.get("timezone")) if config is not None else None
    return datetime.now(tz).date() if tz is not None else datetime.now().date()


def find_config(start: Path | None = None) -> Path | None:
    """The configuration of a folder, as ruff and yamllint find theirs: ``scrubber.toml`` in the
    folder or the nearest parent, or a ``pyproject.toml`` there with a ``[tool.scrubber]`` table
    (in one folder ``scrubber.toml`` wins)."""
    folder = (start or Path.cwd()).resolve()
    for here in (folder, *folder.parents):
        candidate = here / "scrubber.toml"
        if candidate.is_file():
            return candidate
        pyproject = here / "pyproject.toml"
        if pyproject.is_file():
            try:
                data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
                continue
            if isinstance(data.get("tool"), dict) and "scrubber" in data["tool"]:
                return pyproject
    return None


def with_rules(config: Config, known: set[str], select: tuple[str, ...] = (), ignore: tuple[str, ...] = ()) -> Config:
    """``--select`` / ``--ignore`` on the command line: ``select`` replaces ``[rules] select``,
    ``ignore`` adds to ``[rules] ignore`` (codes or prefixes, checked as in the file)."""
    if not select and not ignore:
        return config
    from dataclasses import replace

    base = config.rules
    data = {"select": list(select or base.select), "ignore": list(base.ignore) + list(ignore)}
    try:
        picked = _selection(data, "--select/--ignore", known)
    except ConfigError as exc:
        raise ConfigError(str(exc).replace("--select/--ignore.", "--")) from None
    return replace(config, rules=RuleSelection(picked.select, picked.ignore, dict(base.severity)))


def load_config(path: str | Path | None, known: set[str]) -> Config:
    """Load FILE, or the configuration found from the current folder up (:func:`find_config`);
    else the defaults."""
    explicit = path is not None
    candidate = Path(path) if explicit else find_config()
    if candidate is None:
        return Config()
    if not candidate.is_file():
        if explicit:
            raise ConfigError(f"config file {candidate} not found")
        return Config()
    try:
        data = tomllib.loads(candidate.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{candidate}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{candidate}: not valid TOML: {exc}") from None
    if candidate.name == "pyproject.toml":
        data = data.get("tool", {}).get("scrubber", {})
    try:
        config = parse_config(data, known, str(candidate))
    except ConfigError as exc:
        raise ConfigError(f"{candidate}: {exc}") from None
    data_dir = config.options.get("data_dir")
    if data_dir:  # relative to the configuration file's folder
        data_dir = Path(data_dir).expanduser()
        config.options["data_dir"] = str(data_dir if data_dir.is_absolute() else candidate.parent / data_dir)
    from scrubber.mapsdir import set_config_data_dir

    set_config_data_dir(config.options.get("data_dir"))
    return config
