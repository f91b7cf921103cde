"""The command line: ``scrubber scrub``, ``scrubber rules``. It only wires the pipeline."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import click

from scrubber import __version__
from scrubber.codesets.backpain import preload as preload_backpain_maps
from scrubber.cli.common import data_dir_option, parse_as_of
from scrubber.config import STRUCTURE_VALIDATORS, load_config
from scrubber.errors import ScrubberError
from scrubber.logs import configure_logging
from scrubber.check.engine import Engine, known_codes
from scrubber.report.names import output_names, output_stem
from scrubber.run.pipeline import scrub_file
from scrubber.rules import REGISTRY
from scrubber.report.analyst import AnalystOutputs

FORMATS = ("text", "json", "csv", "html")


def _fail(message: str) -> None:
    click.echo(f"scrubber: {message}", err=True)
    sys.exit(2)


class JobsType(click.ParamType):
    """``--jobs``: a number of processes from 1 to 64, or ``auto``."""

    name = "N|auto"

    def convert(self, value, param, ctx):
        if isinstance(value, int) or value == "auto":
            return value
        text = str(value).strip().lower()
        if text == "auto":
            return "auto"
        if text.isdigit() and 1 <= int(text) <= 64:
            return int(text)
        self.fail(f"{value!r} is not 'auto' or a number of processes from 1 to 64", param, ctx)




@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="scrubber")
@data_dir_option
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
@click.option("--structure/--no-structure", default=True, show_default=True,
              help="Validate each transaction set against the 005010X222A1 guide (SX rules, SNIP 1-2).")
@click.option("--structure-validator", "validator", type=click.Choice(STRUCTURE_VALIDATORS), default=None,
              help="The structural validator: pyx12's 837P map compiled (fast), or pyx12 itself (the reference). "
                   "[default: compiled, or [options] structure_validator]")
@click.option("--ack", "acks", multiple=True, type=click.Choice(["999", "277ca"], case_sensitive=False),
              help="Also write NAME.999 and/or NAME.277ca.edi (005010X214) acknowledgments; repeatable.")
@click.option("--jobs", "-j", type=JobsType(), default="auto", show_default=True, metavar="N|auto",
              help="Processes: several inputs in parallel, or one large input split at transaction sets "
                   "(text and json formats, no --ack). auto: one per usable CPU (at most 8) when the "
                   "inputs come to 4 MB or more, else 1.")
@data_dir_option
def scrub(files: tuple[Path, ...], out_dir: Path, as_of: str | None, fmt: str, config_path: Path | None,
          structure: bool = True, acks: tuple[str, ...] = (), jobs: int | str = "auto", validator: str | None = None) -> None:
    """Scrub 837P FILEs: write NAME.report.json, NAME.clean.837 and NAME.rejected.837 for each.

    Exit status: 0 every claim accepted; 1 a claim rejected; 2 an input unusable or a usage error.
    """
    as_of_date = parse_as_of(as_of)
    configure_logging(level="warning")  # only problems of the scrubber itself, redacted, on stderr
    if not structure and any(a.lower() == "999" for a in acks):  # the 999 reports the structural pass
        _fail("--ack 999 needs the structural validation; drop --no-structure")
    analyst = AnalystOutputs(fmt, out_dir, as_of_date, len(files))  # csv, html, progress
    config = load_config(config_path, known_codes())  # a ConfigError: one line and exit status 2 (main)
    if validator:
        config.options["structure_validator"] = validator
    stems: dict[str, Path] = {}
    for f in files:
        stem = output_stem(f)
        if stem in stems:
            _fail(f"{stems[stem]} and {f} would write the same outputs ({stem}.*); scrub them in separate calls")
        stems[stem] = f
    inputs = {f.resolve() for f in files}
    for stem, f in stems.items():
        for output in output_names(stem):
            if (out_dir / output).resolve() in inputs:
                _fail(f"scrubbing {f} would overwrite the input {out_dir / output}; choose another --out-dir")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        _fail(f"cannot create the output folder {out_dir}: {exc.strerror or exc}")

    engine = Engine(config, as_of_date)
    preload_backpain_maps(engine)  # a malformed map (MapError) stops the run here, before any output
    from scrubber.codesets.coverage import warning_line

    stale = warning_line(as_of_date)  # a table that does not cover the as-of date: said on every run
    if stale:
        click.echo(f"scrubber: {stale}", err=True)
    worst = 0
    reports: list[Path] = []
    existing = [f for f in files if f.exists()]
    can_split = fmt in ("text", "json") and not acks and bool(existing)
    if jobs == "auto":
        from scrubber.run.parallel import auto_jobs

        jobs = auto_jobs(existing) if can_split else 1
    if jobs > 1 and can_split:
        from scrubber.run.parallel import scrub_parallel, scrub_split  # --jobs
        from scrubber.report.progress import bytes_progress_for

        for f in files:
            if not f.exists():
                click.echo(f"scrubber: {f}: no such file", err=True)
                worst = 2
        files = ()
        if len(existing) == 1:  # one input, split at transaction sets (or, when it cannot be, below)
            f = existing[0]
            outcome = scrub_split(f, out_dir, config, as_of_date, jobs, text_out=sys.stdout if fmt == "text" else None,
                                  structure=structure, progress=bytes_progress_for(f.name, f.stat().st_size))
            if outcome is None:
                files = (f,)
            else:
                if outcome.unusable:
                    click.echo(f"scrubber: {f}: unusable: {outcome.unusable}", err=True)
                if outcome.report_path:
                    reports.append(Path(outcome.report_path))
                worst = max(worst, outcome.exit_code)
        else:  # several inputs over the processes, their text summaries in input order
            bar = bytes_progress_for(f"{len(existing)} files", sum(f.stat().st_size for f in existing))
            for result in scrub_parallel(existing, out_dir, config, as_of_date, jobs, fmt == "text", structure,
                                         progress=bar):
                if bar is not None:
                    bar.clear()
                if result.text_file is not None:
                    with open(result.text_file, encoding="utf-8") as text:
                        shutil.copyfileobj(text, sys.stdout)
                sys.stdout.flush()
                if result.unusable:
                    click.echo(f"scrubber: {result.path}: unusable: {result.unusable}", err=True)
                if result.report_path:
                    reports.append(Path(result.report_path))
                worst = max(worst, result.exit_code)
            if bar is not None:
                bar.finish()
    for f in files:
        if not f.exists():
            click.echo(f"scrubber: {f}: no such file", err=True)
            worst = 2
            continue
        outcome = scrub_file(f, out_dir, engine, text_out=sys.stdout if fmt == "text" else None,
                             sinks=analyst.sinks(f), structure=structure, acks=acks)
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
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text: a table (or the documentation with --explain); json: an array of every rule "
                   "(one object with --explain) with its documentation.")
@data_dir_option
def rules(explain: str | None, config_path: Path | None, fmt: str = "text") -> None:
    """List the rules with their code, effective severity and summary."""
    config = load_config(config_path, known_codes())
    from scrubber.cli.explain import rule_json, rules_table

    if explain:
        rule = REGISTRY.get(explain.upper())
        if rule is None:
            _fail(f"no rule {explain!r}; `scrubber rules` lists them")
        if fmt == "json":
            click.echo(json.dumps(rule_json(rule, config), indent=2, ensure_ascii=False))
            return
        severity = config.severity(rule.code, rule.severity)
        click.echo(f"{rule.code} {rule.name} ({severity}{', ack ' + rule.ack if rule.ack else ''})")
        click.echo(f"{rule.summary}\n")
        click.echo(rule.docs())
        if rule.source:
            click.echo(f"\nSource: {rule.source}")
        if hasattr(rule, "explain_sources"):  # map-driven rules: the maps' and entries' sources
            click.echo(f"\n{rule.explain_sources()}")  # (a MapError: one line, exit status 2)
        return
    if fmt == "json":
        listing = [rule_json(rule, config) for _, rule in sorted(REGISTRY.items())]
        click.echo(json.dumps(listing, indent=2, ensure_ascii=False))
        return
    for text in rules_table(REGISTRY, config):
        click.echo(text)


from scrubber.cli.explain import explain as _explain  # noqa: E402 - `scrubber explain`

cli.add_command(_explain)
from scrubber.cli.codesets import codesets as _codesets  # noqa: E402 - `scrubber codesets [add FILE]`
cli.add_command(_codesets)


__import__("scrubber.cli.watch", fromlist=["register"]).register(cli)  # scrubber watch, scrubber status


def main() -> None:
    """The ``scrubber`` command. A :class:`~scrubber.errors.ScrubberError` from any command ends
    it here: ``scrubber: MESSAGE`` on standard error, exit status the error's ``exit_code``."""
    try:
        cli.main(prog_name="scrubber", standalone_mode=True)
    except ScrubberError as exc:
        click.echo(f"scrubber: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:  # pragma: no cover
        click.echo("scrubber: interrupted", err=True)
        sys.exit(130)
    except BrokenPipeError:
        # The reader of standard output went away (`scrubber explain FILE | head`): stop quietly.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(2)
