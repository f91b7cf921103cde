"""The command line: ``scrubber scrub``, ``scrubber rules``. It only wires the pipeline."""

from __future__ import annotations

import shutil
import sys
from datetime import date, datetime
from pathlib import Path

import click

from . import __version__
from .config import ConfigError, load_config
from .engine import Engine, known_codes
from .pipeline import output_stem, scrub_file
from .rules import REGISTRY

FORMATS = ("text", "json", "csv", "html")


def _fail(message: str) -> None:
    click.echo(f"scrubber: {message}", err=True)
    sys.exit(2)


def _parse_as_of(value: str | None) -> date:
    if value is None:
        return date.today()
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date in the form YYYY-MM-DD") from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="scrubber")
def cli() -> None:
    """Pre-submission scrubber for X12 837P (005010X222A1) claim files."""


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out-dir", default="./scrubbed", show_default=True, type=click.Path(file_okay=False, path_type=Path),
              help="Where the outputs go (created if missing).")
@click.option("--as-of", "as_of", metavar="YYYY-MM-DD", help="The date taken as today by date-relative rules.  [default: today]")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="What goes to standard output.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Rule selection, severities, payer overrides.  [default: scrubber.toml if present]")
def scrub(files: tuple[Path, ...], out_dir: Path, as_of: str | None, fmt: str, config_path: Path | None) -> None:
    """Scrub 837P FILEs: write NAME.report.json, NAME.clean.837 and NAME.rejected.837 for each.

    Exit status: 0 every claim accepted; 1 a claim rejected; 2 an input unusable or a usage error.
    """
    as_of_date = _parse_as_of(as_of)
    if fmt in ("csv", "html"):
        _fail(f"--format {fmt} is not available in this version; use text or json")
    try:
        config = load_config(config_path, known_codes())
    except ConfigError as exc:
        _fail(str(exc))
    stems: dict[str, Path] = {}
    for f in files:
        stem = output_stem(f)
        if stem in stems:
            _fail(f"{stems[stem]} and {f} would write the same outputs ({stem}.*); scrub them in separate calls")
        stems[stem] = f
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        _fail(f"cannot create the output folder {out_dir}: {exc.strerror or exc}")

    engine = Engine(config, as_of_date)
    worst = 0
    reports: list[Path] = []
    for f in files:
        if not f.exists():
            click.echo(f"scrubber: {f}: no such file", err=True)
            worst = 2
            continue
        outcome = scrub_file(f, out_dir, engine, text_out=sys.stdout if fmt == "text" else None)
        if outcome.unusable:
            click.echo(f"scrubber: {f}: unusable: {outcome.unusable}", err=True)
        if outcome.report_path:
            reports.append(Path(outcome.report_path))
        worst = max(worst, outcome.exit_code)
    if fmt == "json":
        _print_json(reports)
    sys.exit(worst)


def _print_json(reports: list[Path]) -> None:
    out = sys.stdout
    if len(reports) != 1:
        out.write("[\n")
    for i, path in enumerate(reports):
        if i:
            out.write(",\n")
        with open(path, encoding="utf-8") as fh:
            shutil.copyfileobj(fh, out)
    if len(reports) != 1:
        out.write("]\n")
    out.flush()


@cli.command()
@click.option("--explain", "explain", metavar="CODE", help="Print one rule's documentation.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Show the effective severity under this configuration.")
def rules(explain: str | None, config_path: Path | None) -> None:
    """List the rules with their code, effective severity and summary."""
    try:
        config = load_config(config_path, known_codes())
    except ConfigError as exc:
        _fail(str(exc))
    if explain:
        rule = REGISTRY.get(explain.upper())
        if rule is None:
            _fail(f"no rule {explain!r}; `scrubber rules` lists them")
        severity = config.severity(rule.code, rule.severity)
        click.echo(f"{rule.code} {rule.name} ({severity}{', ack ' + rule.ack if rule.ack else ''})")
        click.echo(f"{rule.summary}\n")
        click.echo(rule.docs())
        if rule.source:
            click.echo(f"\nSource: {rule.source}")
        return
    width = max(len(r.name) for r in REGISTRY.values())
    click.echo(f"{'CODE':<6} {'NAME':<{width}} {'SEVERITY':<11} {'ACK':<7} SUMMARY")
    for code, rule in sorted(REGISTRY.items()):
        on = config.rules.enabled(code)
        severity = config.severity(code, rule.severity) if on else "off"
        click.echo(f"{code:<6} {rule.name:<{width}} {severity:<11} {rule.ack or '-':<7} {rule.summary}")


def main() -> None:
    try:
        cli.main(prog_name="scrubber", standalone_mode=True)
    except KeyboardInterrupt:  # pragma: no cover
        click.echo("scrubber: interrupted", err=True)
        sys.exit(130)
