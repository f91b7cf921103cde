"""``scrubber responses SUBMITTED.837 RESPONSE...``: payer responses tied to the submitted claims
(:mod:`scrubber.responses`), with what the scrub predicts of each claim."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from scrubber.check.engine import Engine, known_codes
from scrubber.codesets.backpain import preload
from scrubber.cli.common import data_dir_option, fail, parse_as_of
from scrubber.config import load_config
from scrubber.logs import configure_logging
from scrubber.report.names import output_stem
from scrubber.responses.inbound import read_response
from scrubber.responses.output import CSV_NAME, HTML_NAME, JSON_NAME, csv_text, html_page, text_lines, write_json
from scrubber.responses.submitted import SubmittedClaims
from scrubber.responses.tie import Tie, exit_status, wanted_positions
from scrubber.run.pipeline import scrub_file
from scrubber.atomic import write_text_atomic
from scrubber.x12.reader import UnusableInput

FORMATS = ("text", "json", "csv", "html")


@click.command("responses")
@click.argument("submitted", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("responses", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out-dir", default="./scrubbed", show_default=True, type=click.Path(file_okay=False, path_type=Path),
              help="Where NAME.responses.json goes (created if missing).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="What goes to standard output (csv and html also write NAME.responses.csv / .html).")
@click.option("--as-of", "as_of", metavar="YYYY-MM-DD", help="The date taken as today by the predictions' rules.  [default: today]")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Rule selection, severities, payer overrides, as for scrub.  [default: scrubber.toml if present]")
@data_dir_option
def responses(submitted: Path, responses: tuple[Path, ...], out_dir: Path, fmt: str, as_of: str | None,
              config_path: Path | None) -> None:
    """Tie the payer's 999, TA1, 277CA and 835 files (RESPONSE...) to the claims of SUBMITTED:
    each claim's payer verdict with its codes explained and the segment the payer points at,
    beside what the scrub predicted. Writes NAME.responses.json (NAME from SUBMITTED).

    Exit status: 0 every claim accepted or paid (or not answered); 1 a claim rejected or denied;
    2 an input unusable or a usage error.
    """
    as_of_date = parse_as_of(as_of, "--as-of")
    configure_logging(level="warning")
    config = load_config(config_path, known_codes())
    for path in (submitted, *responses):
        if not path.is_file():
            fail(f"{path}: no such file")
    read = []
    for path in responses:
        try:
            read.append(read_response(path))
        except UnusableInput as exc:
            fail(f"{path}: {exc.message}")
        except OSError as exc:
            fail(f"{path}: unreadable: {exc.strerror or exc}")
    engine = Engine(config, as_of_date)
    preload(engine)
    collector = SubmittedClaims(wanted_positions(read))
    outcome = scrub_file(submitted, None, engine, sinks=[collector])
    if outcome.unusable:
        fail(f"{submitted}: unusable: {outcome.unusable}")
    tie = Tie(collector)
    for r in read:
        tie.add(r)
    document = tie.document(submitted.name, outcome.sha256)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        stem = output_stem(submitted)
        write_json(out_dir / f"{stem}.{JSON_NAME}", document)
        if fmt == "csv":
            write_text_atomic(out_dir / f"{stem}.{CSV_NAME}", csv_text(document), 0o600, newline="")
        elif fmt == "html":
            write_text_atomic(out_dir / f"{stem}.{HTML_NAME}", html_page(document, submitted), 0o600)
    except OSError as exc:
        fail(f"cannot write into {out_dir}: {exc.strerror or exc}")
    if fmt == "json":
        click.echo(json.dumps(document, indent=1, ensure_ascii=False))
    elif fmt == "csv":
        click.echo(csv_text(document), nl=False)
    elif fmt == "html":
        click.echo(f"{out_dir / f'{stem}.{HTML_NAME}'}")
    else:
        for line in text_lines(document):
            click.echo(line)
    sys.exit(exit_status(document))
