"""``scrubber scrub FILE...``: the options of a scrub, wired to :func:`scrubber.run.batch.scrub_batch`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from scrubber.check.engine import known_codes
from scrubber.cli.common import (
    cluster_address, data_dir_option, fail, output_options, parse_as_of, rule_options, say, verbosity, wants_color,
)
from scrubber.config import STRUCTURE_VALIDATORS, load_config, with_rules
from scrubber.logs import configure_logging
from scrubber.report.text import SHOW
from scrubber.run.batch import output_clash, scrub_batch
from scrubber.run.inputs import Inputs

FORMATS = ("text", "json", "csv", "html", "junit", "sarif", "github")


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


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path, allow_dash=True))
@click.option("--out-dir", default="./scrubbed", show_default=True, type=click.Path(file_okay=False, path_type=Path),
              help="Where the outputs go (created if missing).")
@click.option("--as-of", "as_of", metavar="YYYY-MM-DD", help="The date taken as today by date-relative rules.  [default: today]")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="What goes to standard output: the text summary, the JSON report, CSV rows, the HTML "
                   "page's path, or for pipelines JUnit XML, SARIF or GitHub annotations.")
@click.option("--show", type=click.Choice(SHOW), default="rejected", show_default=True,
              help="Claims the text summary lists: the rejected ones, also the accepted ones with warnings, or none.")
@click.option("--recursive", "-r", is_flag=True, help="A folder given as FILE: scrub the X12 files of its subfolders too.")
@click.option("--glob", "globs", multiple=True, metavar="PATTERN",
              help="A folder given as FILE: the file names to take (e.g. '*.837'; repeatable).  "
                   "[default: every file that starts with ISA]")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Rule selection, severities, payer overrides.  [default: scrubber.toml if present]")
@click.option("--structure/--no-structure", default=True, show_default=True,
              help="Validate each transaction set against the 005010X222A1 guide (SX rules, SNIP 1-2).")
@click.option("--structure-validator", "validator", type=click.Choice(STRUCTURE_VALIDATORS), default=None,
              help="The structural validator: pyx12's 837P map compiled (fast), or pyx12 itself (the reference). "
                   "[default: compiled, or [options] structure_validator]")
@click.option("--ack", "acks", multiple=True, type=click.Choice(["999", "277ca", "ta1"], case_sensitive=False),
              help="Also write NAME.999, NAME.277ca.edi (005010X214) and/or NAME.ta1 acknowledgments; repeatable "
                   "(with 999, a TA1 also when ISA14 = 1 or the interchange envelope has errors).")
@click.option("--state", "state_dir", type=click.Path(file_okay=False, path_type=Path),
              help="State folder (DIR/state.sqlite; the watcher's out dir, or a new one): the acknowledgments' "
                   "control-number counters, and the fingerprints of the claims already sent, for duplicates across "
                   "files (PE003).")
@click.option("--control-numbers", "control_numbers", type=click.Choice(["keep", "new"]), default="keep",
              show_default=True, help="The clean and rejected 837s keep the input's ISA13/GS06/ST02, or take "
                                      "fresh ones from the --state counter.")
@click.option("--jobs", "-j", type=JobsType(), default="auto", show_default=True, metavar="N|auto",
              help="Processes: several inputs in parallel, or one large input split at transaction sets "
                   "(text and json formats, no --ack). auto: one per usable CPU (at most 8) when the "
                   "inputs come to 4 MB or more, else 1.")
@click.option("--cluster", "cluster", metavar="ADDRESS", default=None,
              help="Run the units of --jobs on the Dask cluster whose scheduler is at ADDRESS (tcp://HOST:PORT); "
                   "inputs and out dir on storage every worker sees.  [default: $SCRUBBER_CLUSTER, or [options] "
                   "cluster; needs pip install 'x12-scrubber[cluster]']")
@rule_options
@output_options
@data_dir_option
def scrub(files: tuple[Path, ...], out_dir: Path, as_of: str | None, fmt: str, config_path: Path | None,
          structure: bool = True, acks: tuple[str, ...] = (), jobs: int | str = "auto", validator: str | None = None,
          state_dir: Path | None = None, control_numbers: str = "keep", cluster: str | None = None,
          show: str = "rejected", recursive: bool = False, globs: tuple[str, ...] = (), select: tuple[str, ...] = (),
          ignore: tuple[str, ...] = (), fail_on: str = "error") -> None:
    """Scrub 837P FILEs: write NAME.report.json, NAME.clean.837 and NAME.rejected.837 for each.

    FILE may be a folder (its X12 files) or - (standard input, outputs stdin.*).

    Exit status: 0 every claim accepted; 1 a claim rejected (or, with --fail-on warning, a warning
    found); 2 an input unusable or a usage error; 130 interrupted (Ctrl-C).
    """
    configure_logging(level="warning")  # only problems of the scrubber itself, redacted, on stderr
    if not structure and any(a.lower() == "999" for a in acks):  # the 999 reports the structural pass
        fail("--ack 999 needs the structural validation; drop --no-structure")
    if control_numbers == "new" and state_dir is None:
        fail("--control-numbers new takes the numbers from a state folder's counter: add --state DIR")
    known = known_codes()
    config = with_rules(load_config(config_path, known), known, select, ignore)
    as_of_date = parse_as_of(as_of, config=config)
    if validator:
        config.options["structure_validator"] = validator
    cluster = cluster_address(cluster, config, jobs_given=_given("jobs"))
    flags = verbosity()
    quiet = bool(flags.get("quiet"))
    verbose = bool(flags.get("verbose"))
    text_options = {"show": show, "quiet": quiet, "verbose": verbose, "color": wants_color(sys.stdout)}

    def tell(message: str) -> None:  # --quiet keeps the errors, drops the warnings
        if not (quiet and message.startswith("warning:")):
            say(message)

    try:
        inputs = Inputs(files, recursive=recursive, globs=globs, exclude=out_dir)
    except (OSError, ValueError) as exc:
        fail(f"cannot read the inputs: {getattr(exc, 'strerror', None) or exc}")
    with inputs:
        for folder in inputs.empty_folders:
            say(f"{folder}: no X12 file in this folder" + ("" if recursive else " (--recursive to descend)"))
        if not inputs.files:
            sys.exit(2)
        clash = output_clash(inputs.files, out_dir)
        if clash:
            fail(clash)
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            fail(f"cannot create the output folder {out_dir}: {exc.strerror or exc}")
        code = scrub_batch(inputs.files, out_dir, config, as_of_date, fmt=fmt, structure=structure, acks=acks,
                           jobs=jobs, say=tell, text_options=text_options, fail_on=fail_on, state_dir=state_dir,
                           control_numbers=control_numbers, cluster=cluster, verbose=verbose)
        if inputs.empty_folders:
            code = max(code, 2)
    sys.exit(code)


def _given(name: str) -> bool:
    """Was option ``name`` given on the command line (not its default)?"""
    ctx = click.get_current_context()
    return ctx.get_parameter_source(name) == click.core.ParameterSource.COMMANDLINE
