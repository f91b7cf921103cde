"""The watcher as a service: the systemd unit (verified and rated by systemd-analyze where it
exists, its lines parsed everywhere), the readiness and watchdog notifications, journal
priorities, ``scrubber status --health``, the extra outputs of ``[watch] formats`` with
``output_mode``, and the container's first run with the uid and gid it documents."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT, fixture, run_cli

UNIT = ROOT / "deploy" / "scrubber-watch.service"
DOCKERFILE = ROOT / "Dockerfile"
SYSTEMD_ANALYZE = shutil.which("systemd-analyze")


def unit_lines(path: Path = UNIT) -> dict[str, dict[str, list[str]]]:
    """``{section: {key: [values]}}`` of a unit file (comments and blank lines dropped)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current = None
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        key, sep, value = line.partition("=")
        assert sep and current is not None, f"not a unit line: {raw!r}"
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def test_unit_lines():
    service = unit_lines()["Service"]
    one = {k: v[-1] for k, v in service.items()}
    assert one["Type"] == "notify" and int(one["WatchdogSec"]) > 0 and one["NotifyAccess"] == "main"
    assert one["StateDirectory"] == "x12-scrubber" and one["ConfigurationDirectory"] == "x12-scrubber"
    assert one["MemoryMax"] and one["RestartPreventExitStatus"] == "2"
    # no network at all, no privilege, the standard sandboxing
    assert one["PrivateNetwork"] == "yes" and one["RestrictAddressFamilies"] == "AF_UNIX"
    assert one["IPAddressDeny"] == "any"
    assert service["CapabilityBoundingSet"] == [""] and one["NoNewPrivileges"] == "yes"
    for key in ("ProtectKernelTunables", "ProtectKernelModules", "ProtectKernelLogs", "ProtectControlGroups",
                "ProtectClock", "ProtectHostname", "PrivateDevices", "PrivateTmp", "PrivateUsers", "ProtectHome",
                "RestrictNamespaces", "RestrictRealtime", "RestrictSUIDSGID", "LockPersonality",
                "MemoryDenyWriteExecute"):
        assert one[key] == "yes", key
    assert one["ProtectSystem"] == "strict" and one["ReadWritePaths"] == "/srv/scrubber"
    assert "@system-service" in service["SystemCallFilter"]
    assert one["ExecStart"].split()[1:3] == ["watch", "/srv/scrubber/inbox"]


@pytest.mark.skipif(SYSTEMD_ANALYZE is None, reason="systemd-analyze is absent here (the unit's lines are parsed above)")
def test_systemd_analyze_verify_and_security(tmp_path):
    # verify wants the ExecStart program to exist: the same unit with this interpreter's scrubber
    unit = tmp_path / UNIT.name
    text = UNIT.read_text().replace("/opt/x12-scrubber/bin/scrubber", f"{sys.executable} -m scrubber")
    unit.write_text(text)
    r = subprocess.run([SYSTEMD_ANALYZE, "verify", str(unit)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert not [line for line in r.stderr.splitlines() if UNIT.name in line], r.stderr
    r = subprocess.run([SYSTEMD_ANALYZE, "security", "--offline=yes", str(unit)], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    score = re.search(r"Overall exposure level for \S+: (\d+\.\d+) (\w+)", r.stdout)
    assert score, r.stdout[-2000:]
    print(f"systemd-analyze security --offline=yes {UNIT.name}: {score.group(1)} {score.group(2)}")
    assert float(score.group(1)) <= 1.0, r.stdout


# ---- notifications, journal, health -------------------------------------------------------------


def _watch(tmp_path: Path, *extra: str, env: dict | None = None, config: str | None = None) -> subprocess.CompletedProcess:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir(exist_ok=True)
    args = [sys.executable, "-m", "scrubber", "watch", str(inbox), "--out-dir", str(out), "--once", "--settle", "0",
            "--as-of", "2025-06-01", *extra]
    if config is not None:
        cfg = tmp_path / "scrubber.toml"
        cfg.write_text(config)
        args += ["--config", str(cfg)]
    return subprocess.run(args, capture_output=True, text=True, timeout=300, env={**os.environ, **(env or {})})


def test_ready_watchdog_and_stopping_are_notified(tmp_path):
    sock_path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(sock_path))
    sock.settimeout(0.2)
    try:
        shutil.copy(fixture("sample.837"), tmp_path / "inbox.837")
        (tmp_path / "inbox").mkdir()
        shutil.move(tmp_path / "inbox.837", tmp_path / "inbox" / "sample.837")
        r = _watch(tmp_path, env={"NOTIFY_SOCKET": str(sock_path), "WATCHDOG_USEC": "3000000"})
        assert r.returncode == 0, r.stderr
        messages = []
        while True:
            try:
                messages.append(sock.recv(4096).decode())
            except (socket.timeout, BlockingIOError):
                break
    finally:
        sock.close()
    assert messages[0].startswith("READY=1"), messages
    assert "WATCHDOG=1" in messages and messages[-1] == "STOPPING=1", messages
    assert (tmp_path / "out" / "archive" / "sample.837").exists()


def test_journal_priorities_from_the_log_level(tmp_path, monkeypatch):
    from scrubber.logs import configure_logging, get_logger

    path = tmp_path / "journal"
    with open(path, "w+", encoding="utf-8") as stream:
        st = os.fstat(stream.fileno())
        monkeypatch.setenv("JOURNAL_STREAM", f"{st.st_dev}:{st.st_ino}")
        configure_logging(stream, json_lines=True)
        log = get_logger("scrubber.run.watch")
        log.info("watcher started", workers=2)
        log.warning("code sets out of date", code_sets="NCCI")
        log.error("watcher failed", error="OSError")
    lines = path.read_text().splitlines()
    assert [line[:3] for line in lines] == ["<6>", "<4>", "<3>"]
    assert json.loads(lines[1][3:])["level"] == "warning"
    # not the journal: no prefix
    monkeypatch.setenv("JOURNAL_STREAM", "1:1")
    other = io.StringIO()
    configure_logging(other, json_lines=True)
    get_logger("scrubber.run.watch").warning("code sets out of date", code_sets="NCCI")
    assert other.getvalue().startswith("{")
    configure_logging(level="warning")


def test_status_health(tmp_path):
    from scrubber.run.health import HEARTBEAT_FILE

    out = tmp_path / "out"
    out.mkdir()
    r = run_cli("status", out, "--health")
    assert r.returncode == 1 and "no heartbeat" in r.stderr and "Traceback" not in r.stderr
    beat = out / HEARTBEAT_FILE
    beat.write_text(json.dumps({"pid": 1, "time": time.time(), "oldest_job": time.time() - 5}))
    r = run_cli("status", out, "--health")
    assert r.returncode == 0 and r.stdout.strip() == f"{out}: healthy", r.stderr
    beat.write_text(json.dumps({"pid": 1, "time": time.time() - 600, "oldest_job": time.time() - 7200}))
    r = run_cli("status", out, "--health")
    assert r.returncode == 1
    assert [line.split(":")[2].strip() for line in r.stderr.splitlines()] == ["stale heartbeat", "stuck job"]
    beat.write_text(json.dumps({"pid": 1, "time": time.time(), "oldest_job": None}))
    r = run_cli("status", out, "--health", "--min-free", str(1 << 40))  # a disk with less than 1 EB free
    assert r.returncode == 1 and "disk nearly full" in r.stderr


def test_watch_writes_the_analyst_formats_and_acks_readable_by_a_group(tmp_path):
    (tmp_path / "inbox").mkdir()
    shutil.copy(fixture("sample.837"), tmp_path / "inbox" / "sample.837")
    r = _watch(tmp_path, config='[watch]\nformats = ["html", "csv", "999", "277ca"]\noutput_mode = "0640"\n')
    assert r.returncode == 0, r.stderr
    out = tmp_path / "out"
    made = {p.relative_to(out).as_posix(): p.stat().st_mode & 0o777 for p in out.rglob("*")
            if p.is_file() and p.parent.name in ("clean", "rejected", "reports", "acks")}
    assert made == {"clean/sample.clean.837": 0o640, "rejected/sample.rejected.837": 0o640,
                    "reports/sample.report.json": 0o640, "reports/sample.report.html": 0o640,
                    "reports/sample.report.csv": 0o640, "acks/sample.999": 0o640, "acks/sample.277ca.edi": 0o640}
    for folder in ("clean", "rejected", "reports", "acks"):
        assert (out / folder).stat().st_mode & 0o777 == 0o750
    assert (out / "reports" / "sample.report.html").read_text().startswith("<!DOCTYPE html>")
    bad = _watch(tmp_path, config='[watch]\noutput_mode = "0666"\n')
    assert bad.returncode == 2 and "output_mode" in bad.stderr


def test_watch_acks_take_fresh_control_numbers_from_its_state(tmp_path):
    """Each acknowledgment the watcher writes takes its ISA13 from the counter in OUT/state.sqlite:
    two inputs, two different interchange control numbers (never 000000001 for both)."""
    import sqlite3

    (tmp_path / "inbox").mkdir()
    for name in ("sample.837", "multi.837"):
        shutil.copy(fixture(name), tmp_path / "inbox" / name)
    r = _watch(tmp_path, config='[watch]\nformats = ["999"]\n')
    assert r.returncode == 0, r.stderr
    acks = sorted((tmp_path / "out" / "acks").glob("*.999"))
    assert [p.name for p in acks] == ["multi.999", "sample.999"]
    isa13 = []  # one ack interchange per input interchange (multi.837 has more than one)
    for p in acks:
        text = p.read_text()
        element, terminator = text[3], text[105]
        isa13 += [seg.strip().split(element)[13] for seg in text.split(terminator) if seg.strip().startswith("ISA")]
    assert len(isa13) >= 3 and len(set(isa13)) == len(isa13), isa13
    with sqlite3.connect(tmp_path / "out" / "state.sqlite") as db:
        assert dict(db.execute("SELECT name, value FROM control_numbers"))["ISA13"] == len(isa13)


# ---- the container ---------------------------------------------------------------------------------


def _documented_uid() -> tuple[int, int]:
    text = DOCKERFILE.read_text()
    uid = int(re.search(r"^ARG SCRUBBER_UID=(\d+)$", text, re.M).group(1))
    gid = int(re.search(r"^ARG SCRUBBER_GID=(\d+)$", text, re.M).group(1))
    assert f"install -d -o {uid} -g {gid}" in text and "--restart unless-stopped" in text
    readme = (ROOT / "README.md").read_text()
    assert f"install -d -o {uid} -g {gid}" in readme and "--read-only --tmpfs /tmp" in readme
    return uid, gid


def test_dockerfile_pins_the_base_and_checks_health():
    text = DOCKERFILE.read_text()
    base = re.search(r"^FROM (\S+)", text, re.M).group(1)
    assert re.fullmatch(r"python:3\.11\.\d+-slim-bookworm(@sha256:[0-9a-f]{64})?", base), base
    assert re.search(r'^HEALTHCHECK .*\n\s+CMD \["scrubber", "status", "/data/out", "--health"\]', text, re.M)
    uid, gid = _documented_uid()
    assert re.search(r"^USER \$\{SCRUBBER_UID\}:\$\{SCRUBBER_GID\}$", text, re.M)


def _as_user(uid: int, gid: int, target) -> int:
    """Run ``target()`` in a forked child as ``uid``/``gid`` (the container's user); its exit status."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 70
        try:
            os.setgroups([])
            os.setgid(gid)
            os.setuid(uid)
            code = target()
        except BaseException as exc:  # noqa: BLE001 - said on the child's standard error
            os.write(2, f"child failed: {type(exc).__name__}: {exc}\n".encode())
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to take the container's uid (docker runs it as root too)")
def test_container_first_run_as_documented(tmp_path_factory):
    """The first run of the README as the container's uid and gid: on the folder prepared as the
    README says, the watcher starts; on a root-owned one (the former documented step) it stops with
    exit 2 and a line naming the uid to give the folder to."""
    from scrubber.check.engine import known_codes
    from scrubber.config import load_config
    from scrubber.run.outdir import WatchError
    from scrubber.run.watcher import Watcher, settings_from

    uid, gid = _documented_uid()
    config = load_config(None, known_codes())
    import tempfile

    tmp_path = Path(tempfile.mkdtemp(prefix="scrubber-container-"))  # (pytest's own folder is root's only)
    os.chmod(tmp_path, 0o755)

    def first_run(data: Path) -> int:
        settings = settings_from({}, None, inbox=data / "inbox", out_dir=data / "out", settle=0.0, once=True)
        try:
            w = Watcher(settings, config)
            w._setup()  # the out folders, the lock, the state: what the first run needs to write
            w._teardown()
        except WatchError as exc:  # the line the command prints (fd 2: pytest captures sys.stderr)
            os.write(2, f"scrubber: {exc}\n".encode())
            return exc.code
        return 0

    documented = tmp_path / "srv"
    subprocess.run(["install", "-d", "-o", str(uid), "-g", str(gid), "-m", "0750", str(documented),
                    str(documented / "inbox"), str(documented / "out"), str(documented / "codesets")], check=True)
    os.chmod(tmp_path, 0o755)
    assert _as_user(uid, gid, lambda: first_run(documented)) == 0
    assert (documented / "out" / "state.sqlite").stat().st_uid == uid

    root_owned = tmp_path / "rootowned"
    (root_owned / "inbox").mkdir(parents=True)
    os.chmod(root_owned, 0o755)
    read, write = os.pipe()

    def failing() -> int:
        os.dup2(write, 2)
        return first_run(root_owned)

    code = _as_user(uid, gid, failing)
    os.close(write)
    message = os.read(read, 65536).decode()
    os.close(read)
    assert code == 2
    shutil.rmtree(tmp_path, ignore_errors=True)
    assert message.strip() == (f"scrubber: cannot create the out dir {root_owned / 'out'}: Permission denied "
                               f"(the watcher runs as uid {uid}, gid {gid}: give it the folder, e.g. chown -R "
                               f"{uid}:{gid} on the host)")
