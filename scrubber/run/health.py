"""The watcher's signs of life, for systemd and for container health checks.

- :class:`Heartbeat`: the watcher's loop calls :meth:`Heartbeat.beat` on every turn; at most every
  ``every`` seconds it rewrites ``OUT/watch.heartbeat`` (JSON: pid, time, the start of the oldest
  file in progress) and, under systemd with ``WatchdogSec``, sends ``WATCHDOG=1``; so a loop that
  hangs stops both. ``READY=1`` once started, ``STOPPING=1`` when it stops (``Type=notify``).
- :func:`health_problems`: what ``scrubber status OUT --health`` checks (a ``HEALTHCHECK`` or a
  monitoring probe calls it): a heartbeat missing or older than ``stale`` seconds, a file in
  progress for more than ``stuck`` seconds, less than ``min_free`` bytes free on OUT's filesystem.

``sd_notify`` is the datagram protocol of ``$NOTIFY_SOCKET`` (no library needed); nothing is
sent when the variable is absent.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import time
from pathlib import Path

HEARTBEAT_FILE = "watch.heartbeat"
DEFAULT_STALE = 120.0  # seconds
DEFAULT_STUCK = 3600.0  # seconds
DEFAULT_MIN_FREE = 100 << 20  # bytes


def sd_notify(message: str) -> bool:
    """Send ``message`` (``READY=1`` ...) to systemd's notification socket; False when there is none."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):  # an abstract socket
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(address)
            sock.sendall(message.encode("ascii"))
        return True
    except OSError:
        return False


def watchdog_seconds() -> float | None:
    """``WatchdogSec`` of the unit (``$WATCHDOG_USEC``, for this process), or None."""
    usec = os.environ.get("WATCHDOG_USEC", "")
    pid = os.environ.get("WATCHDOG_PID", "")
    if not usec.isdigit() or (pid and pid != str(os.getpid())):
        return None
    return int(usec) / 1e6


class Heartbeat:
    def __init__(self, out_dir: Path, every: float = 5.0):
        self.path = Path(out_dir) / HEARTBEAT_FILE
        watchdog = watchdog_seconds()
        self.every = min(every, watchdog / 3) if watchdog else every
        self._next = 0.0

    def ready(self) -> None:
        sd_notify("READY=1\nSTATUS=watching")
        self.beat(force=True)

    def beat(self, oldest_job: float | None = None, force: bool = False) -> None:
        """One turn of the loop; ``oldest_job``: when (epoch seconds) the oldest file in progress started."""
        now = time.monotonic()
        if not force and now < self._next:
            return
        self._next = now + self.every
        record = {"pid": os.getpid(), "time": time.time(), "oldest_job": oldest_job}
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        try:
            tmp.write_text(json.dumps(record) + "\n", encoding="ascii")
            os.replace(tmp, self.path)
        except OSError:
            return  # a full disk: no beat, and the health check says so
        sd_notify("WATCHDOG=1")

    def stopping(self) -> None:
        sd_notify("STOPPING=1")
        try:
            self.path.unlink()
        except OSError:
            pass


def health_problems(out_dir: Path, stale: float = DEFAULT_STALE, stuck: float = DEFAULT_STUCK,
                    min_free: int = DEFAULT_MIN_FREE, now: float | None = None) -> list[str]:
    """Why the watcher of ``out_dir`` is not healthy (empty: healthy)."""
    out_dir = Path(out_dir)
    now = time.time() if now is None else now
    problems = []
    try:
        record = json.loads((out_dir / HEARTBEAT_FILE).read_text(encoding="ascii"))
        beat = float(record["time"])
    except FileNotFoundError:
        problems.append(f"no heartbeat in {out_dir} (is `scrubber watch` running on it?)")
        record, beat = {}, None
    except (OSError, ValueError, KeyError, TypeError):
        problems.append(f"unreadable heartbeat in {out_dir}")
        record, beat = {}, None
    if beat is not None and now - beat > stale:
        problems.append(f"stale heartbeat: the watcher last reported {now - beat:.0f} s ago (limit {stale:.0f} s)")
    oldest = record.get("oldest_job") if isinstance(record, dict) else None
    if isinstance(oldest, (int, float)) and now - oldest > stuck:
        problems.append(f"stuck job: a file has been in progress for {now - oldest:.0f} s (limit {stuck:.0f} s)")
    try:
        free = shutil.disk_usage(out_dir).free
        if free < min_free:
            problems.append(f"disk nearly full: {free >> 20} MB free on {out_dir} (limit {min_free >> 20} MB)")
    except OSError as exc:
        problems.append(f"cannot read the free space of {out_dir}: {exc.strerror or exc}")
    return problems
