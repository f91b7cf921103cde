"""``scrubber cluster-check ADDRESS``: the workers of a Dask cluster, what each would decide with,
and whether they agree with this client (:mod:`scrubber.run.cluster`)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from scrubber.cli.common import cluster_address, data_dir_option, fail
from scrubber.check.engine import known_codes
from scrubber.config import load_config


@click.command("cluster-check")
@click.argument("address", required=False)
@click.option("--out-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Also check that every worker reads and writes this folder (the out dir of your scrubs).")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Its [options] cluster is the address when none is given.  [default: scrubber.toml if present]")
@data_dir_option
def cluster_check(address: str | None, out_dir: Path | None, config_path: Path | None) -> None:
    """Print the workers of the Dask cluster at ADDRESS (tcp://HOST:PORT; default
    $SCRUBBER_CLUSTER or [options] cluster) with their scrubber and code-set versions.

    Exit status: 0 every worker agrees with this client; 2 the cluster cannot be reached, has no
    worker, or a worker disagrees (another scrubber, other code sets) or cannot use --out-dir.
    """
    from scrubber.run import cluster

    config = load_config(config_path, known_codes())
    address = cluster_address(address, config)
    if address is None:
        fail("no cluster: give ADDRESS, or set SCRUBBER_CLUSTER or [options] cluster")
    client = cluster.connect(address)
    try:
        workers = cluster.wait_for_workers(client, cluster.connect_timeout())
        mine = cluster.fingerprint()
        click.echo(f"scheduler {address}: {len(workers)} workers, "
                   f"{sum(w['nthreads'] for w in workers.values())} threads; dashboard {cluster.dashboard(client) or 'none'}")
        click.echo(_line("client", mine, os.getpid()))
        if not workers:
            fail(f"the Dask scheduler at {address} has no worker")
        try:
            answers = client.run(cluster.worker_report, on_error="return")
        except Exception as exc:  # noqa: BLE001
            raise cluster.lost(client, exc) from None
        wrong = []
        for addr in sorted(answers):
            answer = answers[addr]
            label = cluster.worker_label(addr, workers)
            if isinstance(answer, BaseException):
                click.echo(f"{label}: cannot run the scrubber ({type(answer).__name__})")
                wrong.append(f"worker {label} cannot run the scrubber; is x12-scrubber installed there?")
                continue
            mem = workers.get(addr, {}).get("memory_limit") or 0
            extra = f", {workers[addr]['nthreads']} threads" + (f", memory limit {mem / 2**20:.0f} MiB" if mem else "")
            click.echo(_line(label, answer["fingerprint"], answer["pid"], answer["host"]) + extra)
            differs = cluster.disagreements(mine, answer["fingerprint"])
            if differs:
                wrong.append(f"worker {label} disagrees with this client: {'; '.join(differs)}")
        if wrong:
            fail(wrong[0] + (f" (and {len(wrong) - 1} more)" if len(wrong) > 1 else "")
                 + "; the same file must get the same verdicts on every worker: refused")
        if out_dir is not None:
            cluster.check_workers(client, [], out_dir)
            click.echo(f"every worker reads and writes {out_dir}")
        click.echo(f"ok: {len(answers)} workers agree with this client")
    finally:
        cluster.close(client)
    sys.exit(0)


def _line(label: str, fp: dict, pid: int, host: str | None = None) -> str:
    where = f" pid {pid}" + (f" on {host}" if host else "")
    return (f"{label}:{where}: scrubber {fp['scrubber']} (code {fp['code']}), code sets {fp['code_sets']} "
            f"({fp['releases']}), pyx12 {fp['pyx12']}, Python {fp['python']}")
