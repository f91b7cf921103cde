"""``--cluster``: the units of ``--jobs`` on a real Dask cluster give the bytes of a single process.

The module starts a ``dask scheduler`` and two ``dask worker`` processes (``--nthreads 1``) on
127.0.0.1 with free ports (the scheduler writes its address into a scheduler file), and kills
their process groups at teardown, whatever happened. Tests that kill a worker or lose the
scheduler start processes of their own. A LocalCluster serves the faults that need a worker with
a small memory limit and a unit function that fails on purpose.
"""

from __future__ import annotations

import filecmp
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest

from conftest import ROOT, fixture, problem_lines, run_cli

distributed = pytest.importorskip("distributed")  # the test extra brings it; CI installs .[test]

from scrubber.check.engine import Engine  # noqa: E402
from scrubber.config import Config, parse_config  # noqa: E402
from scrubber.check.engine import known_codes  # noqa: E402
from scrubber.run import cluster, parallel  # noqa: E402
from scrubber.run.pipeline import scrub_file  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from gen837 import generate  # noqa: E402

AS_OF = date(2025, 6, 1)
OUTPUTS = ("clean.837", "rejected.837", "report.json")
FIXTURES = ["sample.837", "multi.837", "delims_pipe.837", "delims_newline.837", "delims_cr.837", "delims_bom.837",
            "bad_empty.837", "bad_truncated.837", "clean_single.837"]


# --- processes ----------------------------------------------------------------------------------

class Procs:
    """Dask processes started by this module, each in a session of its own (killed as a group)."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.procs: list[subprocess.Popen] = []

    def start(self, *args: str, log: str, env: dict | None = None) -> subprocess.Popen:
        out = open(self.tmp / log, "ab")
        # (run from the checkout, as the clients are: the workers import the same scrubber)
        proc = subprocess.Popen([sys.executable, "-m", "dask", *args], stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True, env=env, cwd=ROOT)
        out.close()
        self.procs.append(proc)
        return proc

    def scheduler(self, name: str = "scheduler", port: int = 0) -> str:
        file = self.tmp / f"{name}.json"
        file.unlink(missing_ok=True)
        self.start("scheduler", "--host", "127.0.0.1", "--port", str(port), "--dashboard-address", "127.0.0.1:0",
                   "--scheduler-file", str(file), log=f"{name}.log")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if file.exists():
                try:
                    return json.loads(file.read_text())["address"]
                except (ValueError, KeyError):
                    pass
            time.sleep(0.1)
        raise AssertionError(f"the scheduler did not start: {(self.tmp / f'{name}.log').read_text()[-2000:]}")

    def worker(self, address: str, name: str, env: dict | None = None, *extra: str) -> subprocess.Popen:
        return self.start("worker", address, "--nthreads", "1", "--host", "127.0.0.1", "--no-dashboard",
                          "--name", name, "--local-directory", str(self.tmp / f"dask-{name}"), *extra,
                          log=f"{name}.log", env=env)

    @staticmethod
    def kill(proc: subprocess.Popen) -> None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass

    def kill_all(self) -> None:
        for proc in self.procs:
            self.kill(proc)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def client_for(address: str):
    cluster.quiet_dask()
    return distributed.Client(address, timeout=30, set_as_default=False)


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory):
    """A scheduler and two workers; ``.address``, ``.procs`` (to start more), ``.client``."""
    tmp = tmp_path_factory.mktemp("dask")
    procs = Procs(tmp)
    try:
        address = procs.scheduler()
        for name in ("w1", "w2"):
            procs.worker(address, name)
        client = client_for(address)
        client.wait_for_workers(2, timeout=90)
        procs.address, procs.client = address, client
        yield procs
        client.close()
    finally:
        procs.kill_all()


@pytest.fixture(scope="session")
def big(tmp_path_factory):
    """A generated file of 20,000 claims (9 MB, 20 transaction sets) and its ``--jobs 1`` outputs."""
    tmp = tmp_path_factory.mktemp("big")
    src = tmp / "big.837"
    generate(src, 20_000, per_st=1000, seed=5, bad=0.25)
    assert src.stat().st_size > parallel.SPLIT_MIN_BYTES
    one = run_cli("scrub", src, "--out-dir", tmp / "one", "--as-of", "2025-06-01", "--no-structure", "-j", "1")
    assert one.returncode == 1, one.stderr
    return src, tmp / "one", one


def same_outputs(a: Path, b: Path, stem: str) -> None:
    for suffix in OUTPUTS:
        x, y = a / f"{stem}.{suffix}", b / f"{stem}.{suffix}"
        assert x.exists() == y.exists(), f"{stem}.{suffix}"
        if x.exists():
            assert filecmp.cmp(x, y, shallow=False), f"{stem}.{suffix} differs"


def no_leftovers(out: Path) -> None:
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")], "scratch or temporary files left"


# --- the tests ----------------------------------------------------------------------------------

def test_cluster_check_lists_the_workers_and_their_versions(dask_cluster):
    r = run_cli("cluster-check", dask_cluster.address)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith(f"scheduler {dask_cluster.address}: 2 workers, 2 threads; dashboard http")
    client_line = next(line for line in lines if line.startswith("client:"))
    versions = client_line.split(": scrubber ", 1)[1]
    workers = [line for line in lines if line.startswith(("w1 (tcp://127.0.0.1:", "w2 (tcp://127.0.0.1:"))]
    assert len(workers) == 2
    for line in workers:  # the same scrubber, code and code sets as the client
        assert line.split(": scrubber ", 1)[1].startswith(versions), line
        assert "1 threads" in line
    assert lines[-1] == "ok: 2 workers agree with this client"


def test_a_worker_that_disagrees_is_refused(dask_cluster, tmp_path):
    """A worker with other code sets (its data folder holds another place-of-service table):
    cluster-check and scrub refuse the cluster in one line naming it; nothing is written."""
    data = tmp_path / "other-data"
    (data / "pos").mkdir(parents=True)
    shipped = Path(cluster.maps_dir()) / "pos"
    for f in shipped.iterdir():
        if f.is_file():
            (data / "pos" / f.name).write_bytes(f.read_bytes() + b"\n")
    env = dict(os.environ, SCRUBBER_DATA_DIR=str(data))
    proc = dask_cluster.worker(dask_cluster.address, "odd", env)
    try:
        dask_cluster.client.wait_for_workers(3, timeout=60)
        r = run_cli("cluster-check", dask_cluster.address)
        assert r.returncode == 2
        assert "worker odd (tcp://127.0.0.1:" in r.stderr and "code sets" in r.stderr and "refused" in r.stderr
        assert "Traceback" not in r.stderr
        with pytest.raises(cluster.ClusterError) as refused:  # what scrub --cluster and the watcher check first
            cluster.check_workers(dask_cluster.client, [fixture("sample.837")], tmp_path / "out")
        assert str(refused.value).startswith("worker odd (tcp://127.0.0.1:")
        assert "disagrees with this client: code sets" in str(refused.value)
    finally:
        Procs.kill(proc)
        deadline = time.monotonic() + 30
        while len(dask_cluster.client.scheduler_info()["workers"]) > 2 and time.monotonic() < deadline:
            time.sleep(0.2)


def test_several_inputs_same_bytes_as_one_process(dask_cluster, tmp_path):
    """Fixtures of every delimiter style, unusable ones among them: the outputs, the text summary
    and the exit status of a --cluster run are those of --jobs 1; --verbose names the dashboard."""
    files = [fixture(n) for n in FIXTURES]
    one = run_cli("scrub", *files, "--out-dir", tmp_path / "one", "--as-of", "2025-06-01", "-j", "1")
    two = run_cli("scrub", *files, "--out-dir", tmp_path / "two", "--as-of", "2025-06-01",
                  "--cluster", dask_cluster.address, "--verbose")
    assert one.returncode == two.returncode == 2, two.stderr
    assert one.stdout.replace(str(tmp_path / "one"), "D") == two.stdout.replace(str(tmp_path / "two"), "D")
    extra = [line for line in problem_lines(two.stderr) if line not in problem_lines(one.stderr)]
    assert len(extra) == 1 and extra[0].startswith(f"scrubber: cluster {dask_cluster.address}: 2 workers")
    assert "dashboard http://127.0.0.1:" in extra[0]
    assert "Traceback" not in two.stderr
    assert sorted(p.name for p in (tmp_path / "two").iterdir()) == sorted(p.name for p in (tmp_path / "one").iterdir())
    for f in files:
        same_outputs(tmp_path / "one", tmp_path / "two", f.stem)


def test_every_delimiter_style_split_and_the_workers_load_once(dask_cluster, tmp_path, monkeypatch):
    """Generated files in each delimiter style, split one unit a few transaction sets, on the
    cluster's workers (structural pass on): the same bytes as one process; the workers built their
    engine once, not once a unit; the progress bar advances as units finish."""
    monkeypatch.setattr(parallel, "SPLIT_MIN_BYTES", 0)
    client = dask_cluster.client
    runner = cluster.ClusterRunner(client)
    before = None
    for n, style in enumerate(["std", "crlf", "nobreak", "pipe"]):
        src = tmp_path / f"{style}.837"
        generate(src, 300, per_st=30, style=style, bad=0.3, seed=11)
        scrub_file(src, tmp_path / f"one-{style}", Engine(Config(), AS_OF))
        text = io.StringIO()
        outcome = parallel.scrub_split(src, tmp_path / f"two-{style}", Config(), AS_OF, jobs=2, runner=runner,
                                       text_out=text)
        assert outcome is not None, "a regular file: it must be split"
        same_outputs(tmp_path / f"one-{style}", tmp_path / f"two-{style}", src.stem)
        if n == 0:
            before = client.run(cluster.worker_report)
    after = client.run(cluster.worker_report)
    assert set(after) == set(before)
    for addr in after:
        assert after[addr]["engines"] == before[addr]["engines"], "an engine was built again for a unit"
        assert after[addr]["units"] > before[addr]["units"], f"worker {addr} scrubbed no unit"
        assert after[addr]["setups"] >= 1

    class Tty(io.StringIO):
        def isatty(self):
            return True

    from scrubber.report.progress import bytes_progress_for

    stream = Tty()
    src = tmp_path / "std.837"
    bar = bytes_progress_for(src.name, src.stat().st_size, stream, min_bytes=0)
    assert parallel.scrub_split(src, tmp_path / "bar", Config(), AS_OF, jobs=2, runner=runner, progress=bar)
    assert "std.837" in stream.getvalue() and "100%" in stream.getvalue()


def test_a_large_file_split_into_units_same_bytes_with_a_worker_killed(big, dask_cluster, tmp_path):
    """20,000 claims split into units over three workers (the address from SCRUBBER_CLUSTER), one
    of them SIGKILLed (with its nanny) while it holds units: the scheduler reruns them on the
    others, and the outputs, standard output and status are those of --jobs 1."""
    src, baseline, one = big
    doomed = dask_cluster.worker(dask_cluster.address, "doomed")
    client = dask_cluster.client
    try:
        client.wait_for_workers(3, timeout=60)
        addr = next(a for a, w in client.scheduler_info()["workers"].items() if w.get("name") == "doomed")
        proc = subprocess.Popen([sys.executable, "-m", "scrubber", "scrub", str(src), "--out-dir", str(tmp_path / "two"),
                                 "--as-of", "2025-06-01", "--no-structure"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, env=dict(os.environ, **{cluster.ENV_CLUSTER: dask_cluster.address}))
        deadline = time.monotonic() + 90
        while not client.processing().get(addr) and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert client.processing().get(addr), "the extra worker never got a unit"
        time.sleep(0.3)
        Procs.kill(doomed)
        out, err = proc.communicate(timeout=300)
    finally:
        Procs.kill(doomed)
    assert proc.returncode == 1, err
    assert "Traceback" not in err and problem_lines(err) == problem_lines(one.stderr)
    same_outputs(baseline, tmp_path / "two", "big")
    assert one.stdout.replace(str(baseline), "D") == out.replace(str(tmp_path / "two"), "D")
    no_leftovers(tmp_path / "two")


def test_unreachable_scheduler_missing_extra_and_usage(tmp_path, monkeypatch):
    monkeypatch.setenv(cluster.ENV_TIMEOUT, "1")
    src = fixture("sample.837")
    r = run_cli("scrub", src, "--out-dir", tmp_path / "out", "--cluster", f"tcp://127.0.0.1:{free_port()}")
    assert r.returncode == 2
    assert len(problem_lines(r.stderr)) == 1 and "cannot reach the Dask scheduler at tcp://127.0.0.1:" in r.stderr
    assert not list((tmp_path / "out").glob("sample.*"))
    for args, says in [(["--cluster", "not an address"], "not a scheduler address"),
                       (["--cluster", "127.0.0.1:8786", "--jobs", "2"], "--cluster and --jobs: choose one")]:
        u = run_cli("scrub", src, "--out-dir", tmp_path / "out", *args)
        assert u.returncode == 2 and says in u.stderr and "Traceback" not in u.stderr
    # [options] cluster is used
    config = tmp_path / "scrubber.toml"
    config.write_text(f'[options]\ncluster = "tcp://127.0.0.1:{free_port()}"\n')
    c = run_cli("scrub", src, "--out-dir", tmp_path / "out", "--config", config, "--as-of", "2025-06-01")
    assert c.returncode == 2 and "cannot reach the Dask scheduler" in c.stderr
    # without the extra: distributed cannot be imported
    code = ("import sys; sys.modules['distributed'] = None; sys.argv = ['scrubber', *sys.argv[1:]]; "
            "from scrubber.cli.app import main; main()")
    for cmd in (["scrub", str(src), "--out-dir", str(tmp_path / "out")], ["watch", str(tmp_path), "--once",
                                                                          "--out-dir", str(tmp_path / "w")]):
        m = subprocess.run([sys.executable, "-c", code, *cmd, "--cluster", "tcp://127.0.0.1:8786"],
                           capture_output=True, text=True, timeout=120)
        assert m.returncode == 2, m.stderr
        assert "pip install 'x12-scrubber[cluster]'" in m.stderr and "Traceback" not in m.stderr


def _flaky(job):
    """A unit function for the fault test: multi.837 raises; sample.837 takes more memory than
    its worker's limit (the nanny kills the worker); the others are scrubbed."""
    name = Path(job["path"]).name
    if name == "multi.837":
        raise RuntimeError("a bug in a unit")
    if name == "sample.837":
        hog = b"x" * (700 << 20)
        time.sleep(10)
        return len(hog)
    return parallel.scrub_whole(job)


def _bad_unit(job):
    if job["index"] == 1:
        raise ValueError("a bug in the second unit")
    return parallel.scrub_unit(job)


def test_a_task_that_raises_or_runs_out_of_memory_fails_its_input_alone(tmp_path, monkeypatch):
    import cloudpickle
    import dask

    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    files = [fixture(n) for n in ("multi.837", "clean_single.837", "delims_pipe.837", "sample.837")]
    with dask.config.set({"distributed.scheduler.allowed-failures": 0, "distributed.scheduler.worker-saturation": 1.0}):
        cluster.quiet_dask()
        with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, memory_limit="500MiB",
                                      dashboard_address=None, host="127.0.0.1") as local, \
                distributed.Client(local, set_as_default=False) as client:

            class Flaky(cluster.ClusterRunner):
                def _submit(self, fn, jobs):
                    return super()._submit(_flaky if fn is parallel.scrub_whole else _bad_unit, jobs)

            runner = Flaky(client)
            results = list(parallel.scrub_parallel(files, tmp_path / "two", Config(), AS_OF, 2, False, runner=runner))
            assert [r.path for r in results] == files
            for r in (results[0], results[3]):  # each reported unusable (EN011) with its report, nothing submitted
                assert r.exit_code == 2 and "internal error" in r.unusable
                report = json.loads(Path(r.report_path).read_text())
                assert report["status"] == "unusable" and report["findings"][-1]["rule"] == "EN011"
                assert report["outputs"] == {"clean": None, "rejected": None}
                assert not list((tmp_path / "two").glob(f"{r.path.stem}.*.837"))
            assert "RuntimeError" in results[0].unusable and "KilledWorker" in results[3].unusable
            for f in files[1:3]:  # the rest went on
                scrub_file(f, tmp_path / "one", Engine(Config(), AS_OF))
                same_outputs(tmp_path / "one", tmp_path / "two", f.stem)

            monkeypatch.setattr(parallel, "SPLIT_MIN_BYTES", 0)
            with pytest.raises(parallel.UnitFailed) as failed:
                parallel.scrub_split(fixture("multi.837"), tmp_path / "split", Config(), AS_OF, jobs=2, runner=runner)
            assert failed.value.where.startswith("unit 2 of ") and failed.value.error == "ValueError"
            no_leftovers(tmp_path / "split")


# --- the watcher --------------------------------------------------------------------------------

WATCH_CONFIG = '[rules]\nselect = ["DP"]\n'


def _isa13(text: str, control: int) -> bytes:
    """The fixture with another ISA13 (and IEA02) in its first interchange: another content."""
    import re

    sep = text[3]
    fields = text[:106].split(sep)
    old, fields[13] = fields[13], f"{control:09d}"
    rest, n = re.subn(rf"IEA{re.escape(sep)}(\d+){re.escape(sep)}{old}", rf"IEA{sep}\g<1>{sep}{fields[13]}", text[106:],
                      count=1)
    assert n == 1
    return (sep.join(fields) + rest).encode("latin-1")


def _done(out: Path) -> int:
    names = [p.name for p in (out / "archive").iterdir()] if (out / "archive").is_dir() else []
    errors = [p.name for p in (out / "error").iterdir() if not p.name.endswith(".reason.json")] \
        if (out / "error").is_dir() else []
    return len(names) + len(errors)


def _watch(tmp: Path, address: str, *args: str, log: str) -> subprocess.Popen:
    err = open(tmp / log, "ab")
    proc = subprocess.Popen([sys.executable, "-m", "scrubber", "watch", str(tmp / "inbox"), "--out-dir", str(tmp / "out"),
                             "--as-of", "2025-06-01", "--config", str(tmp / "scrubber.toml"), "--cluster", address,
                             "--settle", "0.2", "--rescan", "0.5", *args], stdout=subprocess.DEVNULL, stderr=err, cwd=ROOT)
    err.close()
    return proc


def _wait(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for: {what}")


def test_watch_on_the_cluster_sigkill_loses_nothing(dask_cluster, tmp_path):
    """The watcher SIGKILLed mid-batch and restarted with --once: every input exactly once in
    archive/ or error/; a large input, split into units on the cluster, has the outputs of one
    process."""
    (tmp_path / "inbox").mkdir()
    (tmp_path / "scrubber.toml").write_text(WATCH_CONFIG)
    texts = [fixture(n).read_text("latin-1") for n in ("sample.837", "clean_single.837", "multi.837")]
    inputs = {f"c{i:02d}.837": _isa13(texts[i % 3], 300 + i) for i in range(12)}
    inputs["c_bad.837"] = b"NOT X12 AT ALL\n"
    large = tmp_path / "large.837"
    generate(large, 9500, per_st=500, seed=3, bad=0.25)
    assert large.stat().st_size > parallel.SPLIT_MIN_BYTES
    inputs["large.837"] = large.read_bytes()
    config = parse_config({"rules": {"select": ["DP"]}}, known_codes())
    scrub_file(large, tmp_path / "one", Engine(config, AS_OF))
    for name, data in inputs.items():
        (tmp_path / "inbox" / f"{name}.part").write_bytes(data)
        os.rename(tmp_path / "inbox" / f"{name}.part", tmp_path / "inbox" / name)
    out = tmp_path / "out"
    w = _watch(tmp_path, dask_cluster.address, "--workers", "2", log="watch-1.log")
    try:
        _wait(lambda: _done(out) >= 3 or w.poll() is not None, 90, "3 inputs done")
    finally:
        w.kill()
        w.wait(timeout=10)
    first = _done(out)
    assert first < len(inputs), "the batch finished before the kill"
    w2 = _watch(tmp_path, dask_cluster.address, "--once", "--workers", "2", log="watch-2.log")
    assert w2.wait(timeout=180) == 0, (tmp_path / "watch-2.log").read_text()[-3000:]
    assert os.listdir(tmp_path / "inbox") == [] and os.listdir(out / "work") == []
    archived = sorted(p.name for p in (out / "archive").iterdir())
    errors = sorted(p.name for p in (out / "error").iterdir() if not p.name.endswith(".reason.json"))
    assert sorted(archived + errors) == sorted(inputs)  # every input exactly once
    assert errors == ["c_bad.837"]
    for name in archived:
        assert (out / "archive" / name).read_bytes() == inputs[name]
    for kind, folder in (("clean.837", "clean"), ("rejected.837", "rejected"), ("report.json", "reports")):
        assert filecmp.cmp(tmp_path / "one" / f"large.{kind}", out / folder / f"large.{kind}", shallow=False), kind
    import sqlite3

    db = sqlite3.connect(out / "state.sqlite")
    try:
        rows = db.execute("SELECT stored_name, outcome FROM files").fetchall()
    finally:
        db.close()
    assert sorted(r[0] for r in rows) == sorted(inputs)
    log = (tmp_path / "watch-2.log").read_text()
    assert "recovered from the work area" in log and "cluster connected" in log


def test_watch_waits_for_the_cluster_and_scrub_loses_the_scheduler(big, tmp_path, monkeypatch):
    """The scheduler is not there yet: the watcher keeps the files in its inbox and tries again;
    once a scheduler and a worker are up on that address it scrubs them all. Then a scrub loses
    the scheduler mid-run: one line, exit 2, no output of the file, no scratch left."""
    monkeypatch.setenv(cluster.ENV_TIMEOUT, "1")  # one try of the watcher: a second, not five
    procs = Procs(tmp_path)
    try:
        port = free_port()
        address = f"tcp://127.0.0.1:{port}"
        (tmp_path / "inbox").mkdir()
        (tmp_path / "scrubber.toml").write_text(WATCH_CONFIG)
        text = fixture("sample.837").read_text("latin-1")
        names = [f"s{i}.837" for i in range(4)]
        for i, name in enumerate(names):
            (tmp_path / "inbox" / name).write_bytes(_isa13(text, 700 + i))
        w = _watch(tmp_path, address, log="watch.log")
        try:
            _wait(lambda: (tmp_path / "watch.log").read_text().count("cluster not usable") >= 2, 60, "two tries")
            assert sorted(os.listdir(tmp_path / "inbox")) == names  # nothing claimed meanwhile
            assert procs.scheduler(port=port) == address
            procs.worker(address, "late")
            _wait(lambda: _done(tmp_path / "out") == len(names), 120, "every input done")
            w.send_signal(signal.SIGTERM)
            assert w.wait(timeout=60) == 0
        finally:
            if w.poll() is None:
                w.kill()
        assert sorted(p.name for p in (tmp_path / "out" / "archive").iterdir()) == names
        log = [json.loads(line) for line in (tmp_path / "watch.log").read_text().splitlines() if line.startswith("{")]
        tries = [e for e in log if e["event"].startswith("cluster not usable")]
        assert tries and all(e["cluster"] == address and e["retry_in"] >= 1 for e in tries)

        src = big[0]
        proc = subprocess.Popen([sys.executable, "-m", "scrubber", "scrub", str(src), "--out-dir", str(tmp_path / "lost"),
                                 "--as-of", "2025-06-01", "--cluster", address],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        client = client_for(address)
        try:
            _wait(lambda: any(client.processing().values()) or proc.poll() is not None, 90, "a unit running")
        finally:
            client.close()
        Procs.kill(procs.procs[0])  # the scheduler
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 2, err
        lines = problem_lines(err)
        assert len(lines) == 1 and f"lost the Dask scheduler at {address}" in lines[0], err
        assert not list((tmp_path / "lost").glob("big.*"))
        no_leftovers(tmp_path / "lost")
    finally:
        procs.kill_all()
