"""The ``scrubber`` command: the click group, the commands registered from their modules (one
module a command), and :func:`main`, the one place where a
:class:`~scrubber.errors.ScrubberError` becomes its line on standard error and its exit status."""

from __future__ import annotations

import os
import sys

import click

from scrubber import __version__
from scrubber.cli.codesets import codesets
from scrubber.cli.common import data_dir_option
from scrubber.cli.explain import explain
from scrubber.cli.rules import rules
from scrubber.cli.scrub import scrub
from scrubber.cli.watch import status, watch
from scrubber.errors import ScrubberError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="scrubber")
@data_dir_option
def cli() -> None:
    """Pre-submission scrubber for X12 837P (005010X222A1) claim files."""


cli.add_command(scrub)
cli.add_command(rules)
cli.add_command(explain)
cli.add_command(codesets)
cli.add_command(watch)
cli.add_command(status)


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
