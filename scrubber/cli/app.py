"""The ``scrubber`` command: the click group, the commands registered from their modules (one
module a command), and the one place where a :class:`~scrubber.errors.ScrubberError` becomes its
line on standard error and its exit status (the group's ``invoke``, so that it holds for every
way the group is called: :func:`main`, ``python -m scrubber``, click's test runner)."""

from __future__ import annotations

import os
import sys

import click

from scrubber import __version__
from scrubber.cli.cluster_check import cluster_check
from scrubber.cli.codesets import codesets
from scrubber.cli.common import data_dir_option
from scrubber.cli.explain import explain
from scrubber.cli.responses import responses
from scrubber.cli.rules import rules
from scrubber.cli.scrub import scrub
from scrubber.cli.watch import status, watch
from scrubber.errors import ScrubberError


class ScrubberGroup(click.Group):
    """The command group; a ScrubberError from any command ends it with its one line."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except ScrubberError as exc:
            click.echo(f"scrubber: {exc}", err=True)
            ctx.exit(exc.exit_code)


@click.group(cls=ScrubberGroup, context_settings={"help_option_names": ["-h", "--help"]})
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
cli.add_command(responses)
cli.add_command(cluster_check)


def main() -> None:
    """The ``scrubber`` command (a ScrubberError ends it in :meth:`ScrubberGroup.invoke`)."""
    try:
        cli.main(prog_name="scrubber", standalone_mode=True)
    except KeyboardInterrupt:  # pragma: no cover
        click.echo("scrubber: interrupted", err=True)
        sys.exit(130)
    except BrokenPipeError:
        # The reader of standard output went away (`scrubber explain FILE | head`): stop quietly.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(2)
