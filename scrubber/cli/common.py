"""Options and errors shared by every command of the command line.

One set of conventions for every command: ``--color auto|always|never`` (and ``NO_COLOR``),
``--quiet`` / ``--verbose`` (:func:`output_options`); ``--select`` / ``--ignore`` /
``--fail-on`` where rules run (:func:`rule_options`); ``--data-dir``; one line on standard error
for a problem (:func:`fail`, :func:`say`), a note that ``--quiet`` silences (:func:`note`).
"""

from __future__ import annotations

import os
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


def note(message: str) -> None:
    """A line on standard error that ``--quiet`` silences (a warning, not an error)."""
    if not verbosity().get("quiet"):
        say(message)


def parse_as_of(value: str | None, param_hint: str | None = None, config=None) -> date:
    """``--as-of YYYY-MM-DD`` (today in ``[options] timezone`` of ``config`` when absent); a usage
    error (exit 2) when it is not such a date."""
    if value is None:
        if config is not None:
            from scrubber.config import today

            return today(config)
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
# --- --color, --quiet, --verbose: every command -------------------------------------------------

COLORS = ("auto", "always", "never")
_META = "scrubber.output"


def _meta() -> dict:
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return {}
    root = ctx.find_root()
    return root.meta.setdefault(_META, {})


def verbosity() -> dict:
    """``{"quiet": bool, "verbose": bool, "color": True|False|None}`` of the running command."""
    return _meta()


def _set_color(ctx: click.Context, param: click.Parameter, value: str | None):
    if value is None:
        return value
    meta = _meta()
    if value == "always":
        meta["color"] = True
    elif value == "never":
        meta["color"] = False
    elif "color" not in meta:  # auto (the default): a choice made before (on the group) stands
        meta["color"] = False if os.environ.get("NO_COLOR") else None
    ctx.color = meta["color"]
    if ctx.parent is not None:
        ctx.find_root().color = meta["color"]
    return value


def _set_flag(ctx: click.Context, param: click.Parameter, value: bool):
    if value:
        _meta()[param.name] = True
    return value


def wants_color(stream=None) -> bool:
    """Whether to colour what goes to ``stream`` (standard output by default): ``--color always``
    or ``never``; with ``auto``, on a terminal unless ``NO_COLOR`` is set or ``TERM=dumb``."""
    chosen = verbosity().get("color")
    if chosen is not None:
        return chosen
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    stream = stream or sys.stdout
    try:
        return stream.isatty()
    except (OSError, ValueError, AttributeError):
        return False


def output_options(fn):
    """``--color``, ``--quiet``, ``--verbose`` (not passed to the command: read :func:`verbosity`)."""
    fn = click.option("--verbose", "-v", "verbose", is_flag=True, expose_value=False, callback=_set_flag,
                      help="Say more: every finding of each listed claim, informational lines.")(fn)
    fn = click.option("--quiet", "-q", "quiet", is_flag=True, expose_value=False, callback=_set_flag,
                      help="Only the summary line and errors (no claim listing, no warnings).")(fn)
    fn = click.option("--color", "color", type=click.Choice(COLORS), default="auto", show_default=True,
                      is_flag=False, flag_value="always",  # a bare --color means always (as it used to)
                      expose_value=False, callback=_set_color, is_eager=True,
                      help="Colour on standard output; auto: on a terminal, unless NO_COLOR is set.")(fn)
    return fn


# --- --select, --ignore, --fail-on: where rules run ----------------------------------------------

def _codes(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> tuple[str, ...]:
    out: list[str] = []
    for item in value:
        out.extend(p.strip().upper() for p in item.split(",") if p.strip())
    return tuple(out)


def rule_options(fn):
    """``--select CODES``, ``--ignore CODES`` (comma lists or repeated, codes or prefixes, as in
    ``[rules]``) and ``--fail-on error|warning``."""
    fn = click.option("--fail-on", "fail_on", type=click.Choice(["error", "warning"]), default="error",
                      show_default=True,
                      help="Exit 1 when a claim is rejected (error), or also when any warning is found (warning).")(fn)
    fn = click.option("--ignore", "ignore", multiple=True, callback=_codes, metavar="CODES",
                      help="Rules not to run (codes or prefixes, comma-separated; added to [rules] ignore).")(fn)
    fn = click.option("--select", "select", multiple=True, callback=_codes, metavar="CODES",
                      help="Only these rules (codes or prefixes, comma-separated; replaces [rules] select).")(fn)
    return fn
