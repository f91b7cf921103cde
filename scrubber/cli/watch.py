"""``scrubber watch`` (the drop-folder watcher) and ``scrubber status`` (what its state says)."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import click

from scrubber.check.engine import Engine, known_codes
from scrubber.cli.common import cluster_address, data_dir_option, fail, output_options, parse_as_of
from scrubber.codesets.backpain import preload
from scrubber.config import load_config
from scrubber.logs import configure_logging, get_logger
from scrubber.run.outdir import LOGGER, WatchError


@click.command()
@click.argument("inbox", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--out-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Where clean/, rejected/, reports/, archive/, error/, work/ and the state go.  [config: out_dir]")
@click.option("--once", is_flag=True, help="Process the files in INBOX now (waiting for them to settle) and exit.")
@click.option("--workers", type=click.IntRange(1, 64), help="Files scrubbed in parallel.  [default: 1]")
@click.option("--settle", type=click.FloatRange(min=0), metavar="SECONDS",
              help="Take a file once its size and time are unchanged this long.  [default: 5]")
@click.option("--rescan", type=click.FloatRange(min=0.1), metavar="SECONDS",
              help="Rescan INBOX this often besides the file events.  [default: 30]")
@click.option("--as-of", "as_of", metavar="YYYY-MM-DD",
              help="The date taken as today by date-relative rules.  [default: today]")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Rules and the [watch] section.  [default: scrubber.toml if present]")
@click.option("--cluster", "cluster", metavar="ADDRESS", default=None,
              help="Scrub on the Dask cluster whose scheduler is at ADDRESS (tcp://HOST:PORT); INBOX and OUT on "
                   "storage every worker sees; the state stays here.  [default: $SCRUBBER_CLUSTER, or [options] cluster]")
@output_options
@data_dir_option
def watch(inbox, out_dir, once, workers, settle, rescan, as_of, config_path, cluster=None) -> None:
    """Watch INBOX: scrub every 837 file dropped in, outputs under --out-dir.

    Outputs go to OUT/clean/, OUT/rejected/ and OUT/reports/; the input then to OUT/archive/, or to
    OUT/error/ beside NAME.reason.json when it cannot be scrubbed (or is a duplicate). SIGTERM or
    SIGINT stop after the files in progress.

    Exit status: 0 stopped normally (or --once done); 1 stopped by an error while running (the
    file in progress stays in OUT/work/ and is scrubbed again at the next start); 2 cannot start.
    """
    from scrubber.codesets.coverage import stale_reasons
    from scrubber.run.watcher import run_watch, settings_from

    as_of_date = parse_as_of(as_of) if as_of else None
    config = load_config(config_path, known_codes())
    preload(Engine(config))  # a malformed rule map stops the watcher at start, not file by file
    base = Path(config.path).resolve().parent if config.path else None
    cluster = cluster_address(cluster, config)
    if cluster:
        from scrubber.run.cluster import require

        require()  # the extra not installed: one line, exit 2, before anything starts
    settings = settings_from(config.watch, base, inbox=inbox, out_dir=out_dir, settle=settle, rescan=rescan,
                             workers=workers, once=once, as_of=as_of_date, cluster=cluster)
    json_lines = configure_logging()
    log = get_logger(LOGGER)
    stale = stale_reasons(as_of_date or date.today())
    if stale:  # said at start; each report's code_sets names the NCCI quarter and its age too
        log.warning("code sets out of date", code_sets="; ".join(stale))
    try:
        code = run_watch(settings, config, json_lines=json_lines)
    except WatchError:
        log.error("watcher stopped on an error")
        raise
    except Exception as exc:  # noqa: BLE001 - one line, never a traceback
        log.error("watcher failed", error=type(exc).__name__)
        fail(f"the watcher failed: {type(exc).__name__}: {getattr(exc, 'strerror', None) or exc}", 1)
    sys.exit(code)


@click.command()
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--last", default=10, show_default=True, type=click.IntRange(1, 1000), help="How many errors to list.")
@click.option("--health", is_flag=True,
              help="Check the watcher instead (for a HEALTHCHECK or a probe): exit 0 healthy, 1 not, one line why.")
@click.option("--stale", type=click.FloatRange(min=1), default=120, show_default=True, metavar="SECONDS",
              help="--health: the heartbeat is stale after this long.")
@click.option("--stuck", type=click.FloatRange(min=1), default=3600, show_default=True, metavar="SECONDS",
              help="--health: a file in progress this long is stuck.")
@click.option("--min-free", "min_free", type=click.IntRange(min=0), default=100, show_default=True, metavar="MB",
              help="--health: the free space OUT_DIR needs.")
@output_options
@data_dir_option
def status(out_dir: Path, last: int, health: bool = False, stale: float = 120, stuck: float = 3600,
           min_free: int = 100) -> None:
    """Print what the watcher's state database in OUT_DIR says: today's files and claims, the last errors.

    With --health: whether the watcher of OUT_DIR is alive (a fresh heartbeat), not stuck on a
    file, and has disk space; exit 0 healthy, 1 unhealthy (one line per problem), 2 usage.
    """
    if health:
        from scrubber.run.health import health_problems

        problems = health_problems(out_dir, stale=stale, stuck=stuck, min_free=min_free << 20)
        for problem in problems:
            click.echo(f"scrubber: unhealthy: {problem}", err=True)
        if not problems:
            click.echo(f"{out_dir}: healthy")
        sys.exit(1 if problems else 0)
    from scrubber.run.jobstore import status_lines

    try:
        lines = status_lines(out_dir, last)
    except WatchError:
        raise
    except Exception as exc:  # noqa: BLE001 - e.g. sqlite3.DatabaseError on a damaged file
        fail(f"cannot read the state of {out_dir}: {type(exc).__name__}: {exc}")
    for line in lines:
        click.echo(line)
