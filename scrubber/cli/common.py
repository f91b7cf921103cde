"""Options and errors shared by every command of the command line."""

from __future__ import annotations

import sys
from datetime import date, datetime
from pathlib import Path

import click


def fail(message: str, code: int = 2) -> None:
    """One line on standard error and exit: status 2 (unusable input or usage error) unless ``code``
    says otherwise. A :class:`~scrubber.errors.ScrubberError` needs no call here: it ends the
    command the same way in :func:`scrubber.cli.app.main`."""
    click.echo(f"scrubber: {message}", err=True)
    sys.exit(code)


def say(message: str) -> None:
    """One line on standard error (``scrubber: MESSAGE``) that does not end the command."""
    click.echo(f"scrubber: {message}", err=True)


def parse_as_of(value: str | None, param_hint: str | None = None) -> date:
    """``--as-of YYYY-MM-DD`` (today when absent); a usage error (exit 2) when it is not such a date."""
    if value is None:
        return date.today()
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date in the form YYYY-MM-DD", param_hint=param_hint) from None


def _set_data_dir(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path | None:
    if value is not None:
        from scrubber.mapsdir import set_data_dir

        set_data_dir(value)
    return value


def data_dir_option(fn):
    """``--data-dir DIR``: where updated code sets live (see :mod:`scrubber.mapsdir`)."""
    return click.option(
        "--data-dir", type=click.Path(file_okay=False, path_type=Path), expose_value=False, is_eager=True,
        callback=_set_data_dir, envvar=None,
        help="Folder of updated code sets, laid over the shipped ones (scrubber codesets add writes there).  "
             "[default: $SCRUBBER_DATA_DIR, [options] data_dir, or ~/.local/share/x12-scrubber]",
    )(fn)


def cluster_address(given: str | None, config, jobs_given: bool = False) -> str | None:
    """The Dask scheduler a command runs on: ``--cluster``, else (unless ``--jobs`` was given on
    the command line, which asks for local processes) ``SCRUBBER_CLUSTER``, else ``[options]
    cluster``; None for none. ``--cluster`` with ``--jobs`` is a usage error; an address that is
    not ``tcp://HOST:PORT`` or ``tls://HOST:PORT`` too."""
    import os

    from scrubber.errors import ScrubberError

    if given is not None and jobs_given:
        fail("--cluster and --jobs: choose one (the cluster's workers are the processes)")
    value = given
    if value is None and not jobs_given:
        value = os.environ.get("SCRUBBER_CLUSTER") or (config.options.get("cluster") if config else None)
    if value is None or not str(value).strip() or str(value).strip().lower() == "none":
        return None
    try:
        from scrubber.run.cluster import normalise_address

        return normalise_address(str(value))
    except ScrubberError as exc:
        fail(str(exc))
