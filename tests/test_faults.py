"""Faults of the file system around a scrub: a full disk or a file size limit, a read-only or
unwritable out dir, names too long for the outputs, inputs that are not regular files, a run
stopped by SIGTERM or SIGKILL, and library messages in the JSON log.

Each fault ends in one line on standard error and exit status 2 (never a traceback), and the out
dir holds nothing but complete sets of outputs: no temporary file, no working copy of claims.
"""

from __future__ import annotations

import errno
import io
import json
import logging
import os
import resource
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import ROOT, fixture, problem_lines, run_cli

AS_OF = "2025-06-01"


def _scrub(*args, preexec=None, env=None, timeout=120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "scrubber", "scrub", *map(str, args), "--as-of", AS_OF],
                          capture_output=True, text=True, timeout=timeout, preexec_fn=preexec,
                          env={**os.environ, **(env or {})})


def _one_clean_line(result, *needles: str) -> str:
    lines = problem_lines(result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".")) if folder.is_dir() else []


def _gen(path: Path, claims: int, bad: float = 0.3) -> Path:
    subprocess.run([sys.executable, str(ROOT / "bench" / "gen837.py"), str(path), "--claims", str(claims),
                    "--bad", str(bad)], check=True, capture_output=True)
    return path


# --- a full disk, a size limit, a read-only out dir ----------------------------------------------

def test_file_size_limit_leaves_nothing_and_one_line(tmp_path):
    """RLIMIT_FSIZE makes every write past the limit fail with EFBIG, as a full disk fails with
    ENOSPC: with the limit between the size of the 837s and the report's, the 837s used to be left
    under their final names with no report; lower, a traceback and a .part file."""
    src = fixture("sample.837")
    ok = tmp_path / "ok"
    assert _scrub(src, "--out-dir", ok).returncode == 1
    sizes = {p.name: p.stat().st_size for p in ok.iterdir()}
    largest_837 = max(v for k, v in sizes.items() if k.endswith(".837"))
    assert sizes["sample.report.json"] > largest_837 + 1
    for limit in (largest_837 + 1, 600):
        out = tmp_path / f"full{limit}"
        out.mkdir()

        def cap(limit=limit):
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

        result = _scrub(src, "--out-dir", out, "--jobs", "1", preexec=cap)
        assert result.returncode == 2, result.stderr
        _one_clean_line(result, "sample.837: cannot write its outputs", "EFBIG", "none of them")
        assert os.listdir(out) == [], (limit, os.listdir(out))


@pytest.mark.parametrize("err", [errno.ENOSPC, errno.EROFS, errno.EACCES])
def test_injected_write_faults_keep_the_old_outputs(tmp_path, monkeypatch, err):
    """A fault at the atomic-write layer (creating the report's temporary file, or flushing it):
    the outputs of an earlier run stay as they were, nothing new or temporary is left."""
    from scrubber.atomic import AtomicFile
    from scrubber.cli.app import cli

    out = tmp_path / "out"
    runner = CliRunner()
    first = runner.invoke(cli, ["scrub", str(fixture("sample.837")), "--out-dir", str(out), "--as-of", AS_OF])
    assert first.exit_code == 1, first.output
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    assert set(before) == {"sample.clean.837", "sample.rejected.837", "sample.report.json"}

    where = "_create" if err != errno.ENOSPC else "flush"
    real = getattr(AtomicFile, where)

    def failing(self, *a):
        if self.path.name.endswith(".report.json"):
            raise OSError(err, os.strerror(err))
        return real(self, *a)

    monkeypatch.setattr(AtomicFile, where, failing)
    again = runner.invoke(cli, ["scrub", str(fixture("sample.837")), "--out-dir", str(out), "--as-of", AS_OF])
    assert again.exit_code == 2, again.output
    assert isinstance(again.exception, SystemExit)
    text = again.stderr if hasattr(again, "stderr") and again.stderr_bytes is not None else again.output
    assert errno.errorcode[err] in text and "Traceback" not in text
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_read_only_out_dir(tmp_path):
    out = tmp_path / "ro"
    out.mkdir()
    if os.geteuid() == 0:  # root writes anyway: a size limit of 0 stands for a file system that refuses
        result = _scrub(fixture("clean_single.837"), "--out-dir", out,
                        preexec=lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0)))
    else:
        out.chmod(0o555)
        try:
            result = _scrub(fixture("clean_single.837"), "--out-dir", out)
        finally:
            out.chmod(0o755)
    assert result.returncode == 2, result.stderr
    _one_clean_line(result, "clean_single.837")
    assert os.listdir(out) == []


# --- names, and inputs that are not regular files ------------------------------------------------

def test_long_input_names(tmp_path):
    data = fixture("sample.837").read_bytes()
    longest = tmp_path / ("M" * 240 + ".837")  # its outputs fit (245-byte temporary names did not)
    longest.write_bytes(data)
    out = tmp_path / "out"
    result = _scrub(longest, "--out-dir", out)
    assert result.returncode == 1, result.stderr[-800:]
    assert sorted(p.name[240:] for p in out.iterdir()) == [".clean.837", ".rejected.837", ".report.json"]

    too_long = tmp_path / ("L" * 250 + ".837")
    too_long.write_bytes(data)
    out2 = tmp_path / "out2"
    result = _scrub(too_long, "--out-dir", out2)
    assert result.returncode == 2
    _one_clean_line(result, "the file name is too long", "rename it to at most")
    assert not out2.exists() or os.listdir(out2) == []


def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.837"
    os.mkfifo(fifo)
    result = _scrub(fifo, fixture("clean_single.837"), "--out-dir", tmp_path / "out", timeout=60)  # used to block
    assert result.returncode == 2
    _one_clean_line(result, "pipe.837: not a regular file")
    assert (tmp_path / "out" / "clean_single.report.json").is_file()  # the other input is scrubbed
    explained = run_cli("explain", fifo)
    assert explained.returncode == 2
    _one_clean_line(explained, "pipe.837: not a regular file")


# --- temporary files and working copies --------------------------------------------------------

def test_stale_temporaries_are_removed_and_live_ones_kept(tmp_path):
    from scrubber.atomic import AtomicFile, clean_stale

    out = tmp_path / "out"
    stale_dir = out / ".scrub-deadbeef"
    stale_dir.mkdir(parents=True)
    (stale_dir / "lock").write_bytes(b"")
    (stale_dir / "u00000.837").write_bytes(b"ISA*copy of claims")
    (out / ".old.report.json.0123abcd.part").write_bytes(b"{half")
    (out / ".keep-me").write_bytes(b"not ours")
    live = AtomicFile(out / "live.837", "wb")
    live.open().write(b"being written")
    try:
        assert clean_stale(out) == 2
        assert sorted(os.listdir(out)) == [".keep-me", Path(live.tmp).name]
        assert (os.stat(live.tmp).st_mode & 0o777) == 0o600
    finally:
        live.discard()


@pytest.fixture(scope="module")
def big837(tmp_path_factory) -> Path:
    """Over 4 MB: `--jobs 2` splits it over 2 processes."""
    return _gen(tmp_path_factory.mktemp("big") / "big.837", 9500)


def test_split_scrub_into_a_full_out_dir(tmp_path, big837):
    out = tmp_path / "out"
    out.mkdir()
    result = _scrub(big837, "--out-dir", out, "--jobs", "2",
                    preexec=lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (512 << 10, 512 << 10)))
    assert result.returncode == 2, result.stderr[-2000:]
    _one_clean_line(result, "big.837: cannot write", "EFBIG")
    assert os.listdir(out) == []


def test_split_scrub_stopped_by_sigterm_leaves_no_copies(tmp_path, big837):
    src = big837
    out = tmp_path / "out"
    out.mkdir()
    # what a SIGKILLed earlier run left: removed at this start
    (out / ".scrub-0badcafe").mkdir()
    (out / ".scrub-0badcafe" / "lock").write_bytes(b"")
    proc = subprocess.Popen([sys.executable, "-m", "scrubber", "scrub", str(src), "--out-dir", str(out),
                             "--as-of", AS_OF, "--jobs", "2", "--format", "json"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        unit = None
        deadline = time.monotonic() + 60
        while unit is None and time.monotonic() < deadline and proc.poll() is None:
            units = list(out.glob(".scrub-*/u*.837"))
            unit = units[0] if units else None
            time.sleep(0.02)
        assert unit is not None, "no unit appeared"
        assert not (out / ".scrub-0badcafe").exists()
        assert stat.S_IMODE(unit.stat().st_mode) == 0o600
        assert stat.S_IMODE(unit.parent.stat().st_mode) == 0o700
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert "Traceback" not in err
    assert _leftovers(out) == []
    assert not list(out.glob("big.clean.837"))  # nothing incomplete under a final name either


def test_explain_stopped_by_sigterm_leaves_nothing_in_tmpdir(tmp_path):
    src = _gen(tmp_path / "g.837", 3000)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    proc = subprocess.Popen([sys.executable, "-m", "scrubber", "explain", str(src), "--all", "--as-of", AS_OF],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env={**os.environ, "TMPDIR": str(tmp)})
    try:
        assert proc.stdout.readline()  # explaining
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert os.listdir(tmp) == []


# --- the log -------------------------------------------------------------------------------------

def test_library_messages_and_thread_errors_stay_json(monkeypatch):
    from scrubber.logs import configure_logging

    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    configure_logging(json_lines=True)
    # what watchdog's observer thread says when the kernel's event queue overflows
    logging.getLogger("watchdog.observers.inotify_c").warning("Inotify queue overflowed; filesystem events were lost")
    logging.getLogger("watchdog.observers.inotify").warning("Unable to rebuild watches below %r", "/in/TESTPATIENT")
    logging.getLogger("watchdog.observers.inotify").error("InotifyEmitter.queue_events() called when the thread is inactive")
    def boom():
        raise OSError("inotify instance limit reached for TESTPATIENT")

    t = threading.Thread(target=boom, name="observer")
    t.start()
    t.join()
    lines = err.getvalue().splitlines()
    events = [json.loads(line) for line in lines]  # every line is JSON
    assert [e["event"] for e in events] == ["inotify queue overflowed; filesystem events were lost",
                                           "unable to rebuild watches below",
                                           "inotifyemitter queue_events() called when the thread is inactive",
                                           "thread failed"]
    assert events[0]["source"] == "watchdog.observers.inotify_c" and events[3]["error"] == "OSError"
    assert "TESTPATIENT" not in err.getvalue().upper() and "ZZM" not in err.getvalue()
    logging.captureWarnings(False)
    threading.excepthook = threading.__excepthook__
