"""``scrubber scrub FILE...``: the options of a scrub, wired to :func:`scrubber.run.batch.scrub_batch`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from scrubber.check.engine import known_codes
from scrubber.cli.common import data_dir_option, fail, parse_as_of, say
from scrubber.config import STRUCTURE_VALIDATORS, load_config
from scrubber.logs import configure_logging
from scrubber.run.batch import output_clash, scrub_batch

FORMATS = ("text", "json", "csv", "html")


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
@click.option("--state", "state_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="State folder (DIR/state.sqlite; the watcher's out dir, or a new one): the fingerprints of "
                   "the claims already sent, for duplicates across files (PE003).")
@data_dir_option
def scrub(files: tuple[Path, ...], out_dir: Path, as_of: str | None, fmt: str, config_path: Path | None,
          structure: bool = True, acks: tuple[str, ...] = (), jobs: int | str = "auto", validator: str | None = None,
          state_dir: Path | None = None) -> None:
    """Scrub 837P FILEs: write NAME.report.json, NAME.clean.837 and NAME.rejected.837 for each.

    Exit status: 0 every claim accepted; 1 a claim rejected; 2 an input unusable or a usage error.
    """
    as_of_date = parse_as_of(as_of)
    configure_logging(level="warning")  # only problems of the scrubber itself, redacted, on stderr
    if not structure and any(a.lower() == "999" for a in acks):  # the 999 reports the structural pass
        fail("--ack 999 needs the structural validation; drop --no-structure")
    config = load_config(config_path, known_codes())
    if validator:
        config.options["structure_validator"] = validator
    clash = output_clash(files, out_dir)
    if clash:
        fail(clash)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        fail(f"cannot create the output folder {out_dir}: {exc.strerror or exc}")
    sys.exit(scrub_batch(files, out_dir, config, as_of_date, fmt=fmt, structure=structure, acks=acks, jobs=jobs,
                         say=say, state_dir=state_dir))
