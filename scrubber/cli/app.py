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
from scrubber.cli.common import data_dir_option, output_options
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
        except KeyboardInterrupt:  # Ctrl-C: one line, status 130 (128 + SIGINT), no partial output
            interrupted()


def interrupted() -> None:
    """Ctrl-C: one line on standard error, exit status 130; the sinks have dropped their partial
    files on the way out."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not print a traceback
    try:
        sys.stdout.flush()
    except (OSError, ValueError):
        pass
    click.echo("scrubber: interrupted", err=True)
    os._exit(130) if _workers_alive() else sys.exit(130)


def _workers_alive() -> bool:
    import multiprocessing

    return bool(multiprocessing.active_children())


def version_line() -> str:
    """``scrubber --version``: the version, the guide, and the code-set years and quarters loaded."""
    parts = [f"scrubber {__version__} (x12-scrubber, 837P 005010X222A1)"]
    try:
        from scrubber.codesets.coverage import code_sets_used

        used = code_sets_used()
        icd = used.get("icd10cm") or []
        if icd:
            parts.append(f"ICD-10-CM {icd[0]}-{icd[-1]}" if len(icd) > 1 else f"ICD-10-CM {icd[0]}")
        ncci = used.get("ncci")
        if ncci:
            parts.append(f"NCCI PTP {ncci['ptp']}, MUE {ncci['mue']}")
    except Exception as exc:  # noqa: BLE001 - the version is said whatever the data
        parts.append(f"code sets unreadable ({type(exc).__name__})")
    return "; ".join(parts)


def _version(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(version_line())
        ctx.exit(0)


@click.group(cls=ScrubberGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=_version,
              help="Show the version and the code-set years loaded, and exit.")
@output_options
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
    except KeyboardInterrupt:  # before or after a command (the group's invoke takes the rest)
        interrupted()
    except BrokenPipeError:
        # The reader of standard output went away (`scrubber explain FILE | head`): stop quietly.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(2)
