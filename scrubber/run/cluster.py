"""``--cluster ADDRESS``: the units of ``--jobs`` as tasks on a Dask distributed cluster.

The units are those of :mod:`scrubber.run.parallel` (whole inputs; a large input split at
transaction-set boundaries) and so are the unit functions and the join: :class:`ClusterRunner`
only replaces the local process pool by ``distributed.Client.submit``. The client (this process)
plans the split, joins the units' outputs and writes every final file; the workers write the
units and their outputs into a scratch folder under the out dir. Inputs and the out dir must
therefore be on storage every worker sees under the same path (a shared file system):
:func:`check_workers` proves it at start (each worker reads the head of every input and a token
the client wrote into the out dir, and writes there), and says in one line which worker cannot.

Each worker process loads the engine, the code sets and the compiled structural maps once, when
the :class:`ScrubberPlugin` (a Dask worker plugin) is set up on it, not once per task; the
tables stay in the worker for the next runs. :func:`fingerprint` names what decides the verdicts
(the scrubber's version and code, the code sets, pyx12): a cluster whose workers disagree with the
client is refused, since the same file must get the same verdicts on every worker.

A task that raises, or whose workers the scheduler saw die too often (``KilledWorker``: killed by
the memory limit, say), fails its input alone: the input gets an EN011 report naming the unit,
the other inputs go on. A worker lost mid-run has its tasks rerun elsewhere by the scheduler
(every unit function writes under temporary names and renames, so a rerun is harmless). The
scheduler unreachable at start, or lost mid-run, is a :class:`ClusterError`: one line, exit 2.

``dask`` and ``distributed`` are an optional extra (``pip install 'x12-scrubber[cluster]'``);
this module imports them only when a cluster is used.
"""

from __future__ import annotations

import hashlib
import logging
import os
import platform
import re
import secrets
import shutil
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Iterable
from datetime import date
from functools import lru_cache
from pathlib import Path

from scrubber import __version__
from scrubber.config import Config
from scrubber.errors import ScrubberError
from scrubber.mapsdir import data_dir, maps_dir
from scrubber.run import parallel

ENV_CLUSTER = "SCRUBBER_CLUSTER"
ENV_TIMEOUT = "SCRUBBER_CLUSTER_TIMEOUT"  # seconds to reach the scheduler (default 10)
DEFAULT_TIMEOUT = 10.0
PLUGIN_NAME = "x12-scrubber"
INSTALL_HINT = "pip install 'x12-scrubber[cluster]'"
AGREE = ("scrubber", "code", "code_sets", "pyx12", "python")  # what must be the same on every worker

try:  # the plugin base class (the class must subclass it for Dask to know its kind)
    from distributed import WorkerPlugin as _PluginBase
except ImportError:  # no extra installed: --cluster says so (see require)
    _PluginBase = object


class ClusterError(ScrubberError):
    """The cluster cannot be used (not installed, unreachable, lost, workers that disagree or
    cannot see the files): one line, exit status 2."""

    exit_code = 2


def require():
    """The ``distributed`` module, or a ClusterError saying how to install it."""
    try:
        import distributed
    except ImportError:
        raise ClusterError(f"--cluster needs the Dask packages dask and distributed: {INSTALL_HINT}") from None
    return distributed


_ADDRESS = re.compile(r"^(tcp|tls)://(\[[0-9a-fA-F:]+\]|[A-Za-z0-9._-]+):(\d{1,5})$")


def normalise_address(text: str) -> str:
    """``tcp://host:port`` or ``tls://host:port`` (``host:port`` means tcp); a ClusterError else."""
    value = (text or "").strip()
    if value and "://" not in value:
        value = "tcp://" + value
    m = _ADDRESS.match(value)
    if not m or not 0 < int(m.group(3)) < 65536:
        raise ClusterError(f"--cluster {text!r}: not a scheduler address (tcp://HOST:PORT or tls://HOST:PORT)")
    return value


def connect_timeout() -> float:
    raw = os.environ.get(ENV_TIMEOUT, "")
    try:
        value = float(raw) if raw else DEFAULT_TIMEOUT
    except ValueError:
        raise ClusterError(f"{ENV_TIMEOUT}={raw!r}: not a number of seconds") from None
    return value if value > 0 else DEFAULT_TIMEOUT


def quiet_dask(verbose: bool = False) -> None:
    """Dask's own log lines (reconnecting, a worker lost ...) stay off standard error, whose lines
    are the scrubber's; ``--verbose`` lets its warnings through."""
    level = logging.WARNING if verbose else logging.CRITICAL
    for name in ("distributed", "distributed.client", "distributed.core", "distributed.comm", "distributed.batched",
                 "distributed.worker", "distributed.scheduler", "distributed.utils", "tornado"):
        logging.getLogger(name).setLevel(level)
    import warnings

    warnings.filterwarnings("ignore", module=r"distributed(\..*)?")


def connect(address: str, timeout: float | None = None, verbose: bool = False):
    """A ``distributed.Client`` on the scheduler at ``address`` (TLS and other security settings
    come from Dask's own configuration), or a ClusterError in one line."""
    distributed = require()
    address = normalise_address(address)
    quiet_dask(verbose)
    timeout = connect_timeout() if timeout is None else timeout
    try:
        return distributed.Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ClusterError(f"cannot reach the Dask scheduler at {address}: {reason}") from None
    except Exception as exc:  # noqa: BLE001 - e.g. a TLS setting Dask refuses: still one line
        raise ClusterError(f"cannot connect to the Dask scheduler at {address}: {type(exc).__name__}: {exc}") from None


def close(client) -> None:
    try:
        client.close(timeout=5)
    except Exception:  # noqa: BLE001 - the scheduler may be gone already
        pass


# --- what decides the verdicts ------------------------------------------------------------------

def _tree_digest(root: Path, pattern: str = "*") -> str:
    h = hashlib.sha256()
    if root.is_dir():
        for p in sorted(root.rglob(pattern)):
            if not p.is_file() or any(part.startswith(".") or part == "__pycache__" for part in p.relative_to(root).parts):
                continue
            if p.name.endswith((".part", ".tmp", ".pyc")):
                continue
            h.update(str(p.relative_to(root)).encode() + b"\0")
            with open(p, "rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    h.update(chunk)
            h.update(b"\0")
    return h.hexdigest()[:12]


@lru_cache(maxsize=1)
def _code_digest() -> str:
    return _tree_digest(Path(__file__).resolve().parents[1], "*.py")


@lru_cache(maxsize=4)
def _codesets_digest(overlay: str) -> str:
    """The shipped maps and the data folder laid over them (``overlay``), as one digest."""
    h = hashlib.sha256()
    h.update(_tree_digest(maps_dir()).encode())
    h.update(_tree_digest(Path(overlay)).encode())
    return h.hexdigest()[:12]


def _releases() -> str:
    from scrubber.codesets.coverage import code_sets_used

    used = code_sets_used(None)
    parts = []
    icd = used.get("icd10cm") or []
    if icd:
        parts.append(f"ICD-10-CM {icd[0]}-{icd[-1]}")
    ncci = used.get("ncci")
    if ncci:
        parts.append(f"NCCI {ncci['ptp']}")
    return ", ".join(parts) or "none"


def fingerprint() -> dict:
    """What this process would decide with: the scrubber (version and a digest of its code), the
    code sets (a digest of the maps and the data folder, and the releases they hold), pyx12 and
    Python. Cached per process (per data folder)."""
    try:
        from importlib.metadata import version

        pyx12 = version("pyx12")
    except Exception:  # noqa: BLE001
        pyx12 = "unknown"
    return {
        "scrubber": __version__, "code": _code_digest(), "code_sets": _codesets_digest(str(data_dir())),
        "releases": _releases(), "pyx12": pyx12, "python": ".".join(platform.python_version_tuple()[:2]),
    }


def disagreements(client_print: dict, worker_print: dict) -> list[str]:
    """What differs between the client's fingerprint and a worker's, as short phrases."""
    names = {"scrubber": "scrubber version", "code": "scrubber code", "code_sets": "code sets",
             "pyx12": "pyx12 version", "python": "Python version"}
    out = []
    for key in AGREE:
        if client_print.get(key) != worker_print.get(key):
            out.append(f"{names[key]} {worker_print.get(key)} (the client has {client_print.get(key)})")
    return out


# --- the worker side ----------------------------------------------------------------------------

WORKER_STATE = {"setups": 0, "warmed": None, "since": None}


class ScrubberPlugin(_PluginBase):
    """A Dask worker plugin: on each worker process (also one that joins or is restarted later)
    it builds the engine for the run's configuration and as-of date and loads the code sets and
    the compiled structural maps (:func:`scrubber.run.parallel.warm`), once; a later run with the
    same settings finds them loaded."""

    name = PLUGIN_NAME

    def __init__(self, config: Config, as_of: date, structure: bool | None = None):
        self.config = config
        self.as_of = as_of
        self.structure = structure

    def setup(self, worker=None) -> None:
        parallel.warm(self.config, self.as_of, self.structure)
        fingerprint()
        WORKER_STATE["setups"] += 1
        WORKER_STATE["warmed"] = self.as_of.isoformat()
        WORKER_STATE["since"] = WORKER_STATE["since"] or time.time()


def worker_report() -> dict:
    """This worker process: its fingerprint, and what the plugin loaded (engines built, setups)."""
    return {"fingerprint": fingerprint(), "pid": os.getpid(), "host": socket.gethostname(),
            "engines": parallel.ENGINES_BUILT[0], "units": parallel.UNITS_DONE[0], "setups": WORKER_STATE["setups"],
            "warmed": WORKER_STATE["warmed"]}


def _head_digest(path: str) -> tuple[int, str]:
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        return size, hashlib.sha256(fh.read(1 << 16)).hexdigest()


def worker_probe(inputs: list[tuple[str, int, str]], probe_dir: str, token: str) -> dict:
    """Run on each worker at start: can it read every input (the same bytes as the client), does
    it see the client's token in ``probe_dir`` (the same out dir, not a folder of its own with
    the same name), can it write there? Its problems as lines, with its fingerprint."""
    problems: list[str] = []
    for path, size, digest in inputs:
        try:
            if _head_digest(path) != (size, digest):
                problems.append(f"sees another {path} than the client (not the same shared file system?)")
        except OSError as exc:
            problems.append(f"cannot read {path}: {exc.strerror or type(exc).__name__}")
    mine = Path(probe_dir) / f"worker-{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(4)}"
    try:
        if (Path(probe_dir) / "token").read_text() != token:
            problems.append(f"does not see the client's out dir {Path(probe_dir).parent} (not the same shared file system?)")
        else:
            mine.write_text(token)
    except OSError as exc:
        problems.append(f"cannot use the out dir {Path(probe_dir).parent}: {exc.strerror or type(exc).__name__}")
    report = worker_report()
    report["problems"] = problems
    report["wrote"] = mine.name if mine.exists() else None
    return report


# --- the client side ----------------------------------------------------------------------------

def workers_of(client) -> dict[str, dict]:
    """The scheduler's workers: address -> {"name", "nthreads", "memory_limit"}."""
    info = client.scheduler_info(n_workers=-1) if _takes_n_workers(client) else client.scheduler_info()
    return {addr: {"name": str(w.get("name", addr)), "nthreads": int(w.get("nthreads", 1)),
                   "memory_limit": int(w.get("memory_limit") or 0)}
            for addr, w in info.get("workers", {}).items()}


def _takes_n_workers(client) -> bool:
    import inspect

    try:
        return "n_workers" in inspect.signature(client.scheduler_info).parameters
    except (TypeError, ValueError):
        return False


def wait_for_workers(client, timeout: float) -> dict[str, dict]:
    deadline = time.monotonic() + timeout
    while True:
        workers = workers_of(client)
        if workers or time.monotonic() >= deadline:
            return workers
        time.sleep(0.2)


def check_workers(client, inputs: Iterable[Path], out_dir: Path, timeout: float | None = None) -> dict[str, dict]:
    """Every worker agrees with this process (:func:`fingerprint`), reads every input and uses
    ``out_dir``; the workers, or a ClusterError naming the first worker that cannot."""
    timeout = connect_timeout() if timeout is None else timeout
    workers = wait_for_workers(client, timeout)
    if not workers:
        raise ClusterError(f"the Dask scheduler at {client.scheduler.address} has no worker")
    heads = []
    for f in inputs:
        try:
            size, digest = _head_digest(str(f))
        except OSError:
            continue  # missing inputs are said by the batch, as without --cluster
        heads.append((os.path.abspath(f), size, digest))
    out_dir.mkdir(parents=True, exist_ok=True)
    probe = Path(tempfile.mkdtemp(prefix=".scrub-probe-", dir=os.path.abspath(out_dir)))
    try:
        token = secrets.token_hex(16)
        (probe / "token").write_text(token)
        try:
            answers = client.run(worker_probe, heads, str(probe), token, on_error="return")
        except Exception as exc:  # noqa: BLE001 - the scheduler went away meanwhile
            raise lost(client, exc) from None
        mine = fingerprint()
        for addr in sorted(answers):
            answer = answers[addr]
            who = worker_label(addr, workers)
            if isinstance(answer, BaseException):
                raise ClusterError(f"worker {who} cannot run the scrubber ({type(answer).__name__}: "
                                   f"{str(answer).splitlines()[0] if str(answer) else ''}); is x12-scrubber installed there?")
            differs = disagreements(mine, answer["fingerprint"])
            if differs:
                raise ClusterError(f"worker {who} disagrees with this client: {'; '.join(differs)}; "
                                   "the same file must get the same verdicts on every worker")
            if answer["problems"]:
                raise ClusterError(f"worker {who} {answer['problems'][0]}")
            if answer["wrote"] is None or not (probe / answer["wrote"]).exists():
                raise ClusterError(f"worker {who} writes into another folder than the client's out dir {out_dir} "
                                   "(not the same shared file system?)")
            workers.setdefault(addr, {}).update(answer)
        return workers
    finally:
        shutil.rmtree(probe, ignore_errors=True)


def worker_label(addr: str, workers: dict) -> str:
    """``NAME (ADDRESS)``, or the address of a worker without a name of its own."""
    name = workers.get(addr, {}).get("name")
    return addr if not name or name == addr else f"{name} ({addr})"


def lost(client, exc: BaseException) -> ClusterError:
    address = getattr(getattr(client, "scheduler", None), "address", None) or "?"
    return ClusterError(f"lost the Dask scheduler at {address} during the run ({type(exc).__name__}); "
                        "no output of the unfinished inputs was written")


class ClusterRunner:
    """Runs the unit functions of :mod:`scrubber.run.parallel` as Dask tasks (see
    :class:`scrubber.run.parallel.LocalRunner`, whose methods it has). A task's exception (also
    ``KilledWorker``) is yielded as the task's result; a lost scheduler raises a ClusterError."""

    def __init__(self, client):
        self.client = client
        self.plugin_key = None
        self.lock = threading.Lock()

    @property
    def threads(self) -> int:
        return max(1, sum(w["nthreads"] for w in workers_of(self.client).values()))

    def prepare(self, config: Config, as_of: date, structure: bool | None) -> None:
        key = (repr(config), as_of, structure)
        with self.lock:
            if key == self.plugin_key:
                return
            try:
                self.client.register_plugin(ScrubberPlugin(config, as_of, structure), name=PLUGIN_NAME)
            except Exception as exc:  # noqa: BLE001
                if _connection_gone(self.client):
                    raise lost(self.client, exc) from None
                raise ClusterError(f"cannot set up the workers: {type(exc).__name__}: {exc}") from None
            self.plugin_key = key

    def _submit(self, fn, jobs: list) -> list:
        run = uuid.uuid4().hex[:12]
        name = fn.__name__.replace("_", "-")
        try:
            return [self.client.submit(fn, job, key=f"{name}-{run}-{i:05d}", pure=False, retries=0)
                    for i, job in enumerate(jobs)]
        except Exception as exc:  # noqa: BLE001
            raise lost(self.client, exc) from None

    def outcome_of(self, fut):
        """A finished future's result, or its task's exception; a ClusterError when the scheduler is gone."""
        from concurrent.futures import CancelledError

        if fut.status == "error":
            return fut.exception()
        try:
            return fut.result()
        except CancelledError as exc:
            raise lost(self.client, exc) from None
        except Exception as exc:  # noqa: BLE001 - the task raised (also KilledWorker)
            if _connection_gone(self.client):
                raise lost(self.client, exc) from None
            return exc

    def unordered(self, fn, jobs: list):
        distributed = require()
        futures = self._submit(fn, jobs)
        index = {fut.key: i for i, fut in enumerate(futures)}
        try:
            for fut in distributed.as_completed(futures, loop=self.client.loop):
                yield index[fut.key], self.outcome_of(fut)
        finally:
            self._drain(futures)

    def _drain(self, futures: list, patience: float = 60.0) -> None:
        """Stopped early (a unit failed, the run was interrupted): the tasks not started yet are
        cancelled, and the ones running are waited for (up to ``patience`` seconds), so that none
        still writes into the scratch folder when the caller removes it."""
        unfinished = [f for f in futures if not f.done()]
        if not unfinished:
            return
        try:
            running = {k for keys in self.client.processing().values() for k in keys}
        except Exception:  # noqa: BLE001 - the scheduler is gone: nothing to wait for
            running = set()
        _cancel([f for f in unfinished if f.key not in running])
        deadline = time.monotonic() + patience
        waiting = [f for f in unfinished if f.key in running]
        while waiting and time.monotonic() < deadline and not _connection_gone(self.client):
            time.sleep(0.05)
            waiting = [f for f in waiting if not f.done()]
        _cancel(waiting)

    def ordered(self, fn, jobs: list):
        """Each job's result in the order of ``jobs`` (each yielded as soon as it and those before
        it are done)."""
        done: dict[int, object] = {}
        upto = 0
        for i, result in self.unordered(fn, jobs):
            done[i] = result
            while upto in done:
                yield done.pop(upto)
                upto += 1


def _connection_gone(client) -> bool:
    return getattr(client, "status", "running") not in ("running", "connecting")


def _cancel(futures: list) -> None:
    try:
        for fut in futures:
            if not fut.done():
                fut.cancel()
    except Exception:  # noqa: BLE001 - the scheduler may be gone
        pass


def dashboard(client) -> str | None:
    try:
        return client.dashboard_link
    except Exception:  # noqa: BLE001
        return None
