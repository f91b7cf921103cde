"""The watched drop folder: ``scrubber watch`` as a real subprocess on temporary folders.

Every watcher here runs with ``[rules] select = ["DP"]`` so that what it decides for a fixture
does not move when other rule families change; the watcher, not the rules, is under test. Each
run's log (standard error) is kept and scanned for the fixtures' person data at the end.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import stat
import threading
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from conftest import FIXTURES, fixture, run_cli

AS_OF = "2025-06-01"
CONFIG = '[rules]\nselect = ["DP"]\n'
LOGS: list[Path] = []  # every watcher log written by this module, scanned by the last test
RUNNING: list = []  # watchers started by the current test
FINAL = ("clean", "rejected", "reports", "archive", "error")


# --- helpers ----------------------------------------------------------------------------------

def wait_for(predicate, timeout: float, what: str, proc: subprocess.Popen | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"the watcher exited ({proc.returncode}) before: {what}")
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for: {what}")


class Watcher:
    """``python -m scrubber watch INBOX --out-dir OUT ...`` with its log kept in a file."""

    def __init__(self, tmp: Path, *args: str, tag: str = "watch"):
        self.tmp = tmp
        self.inbox = tmp / "inbox"
        self.out = tmp / "out"
        self.inbox.mkdir(exist_ok=True)
        self.config = tmp / "scrubber.toml"
        if not self.config.exists():
            self.config.write_text(CONFIG)
        self.log = tmp / f"{tag}-{len(list(tmp.glob('*.log')))}.log"
        LOGS.append(self.log)
        self.args = [sys.executable, "-m", "scrubber", "watch", str(self.inbox), "--out-dir", str(self.out),
                     "--as-of", AS_OF, "--config", str(self.config), *args]
        self.proc: subprocess.Popen | None = None

    def start(self) -> Watcher:
        self._err = open(self.log, "wb")
        self.proc = subprocess.Popen(self.args, stdout=subprocess.DEVNULL, stderr=self._err, cwd=self.tmp)
        RUNNING.append(self)
        return self

    def run(self, timeout: float = 60) -> int:
        self.start()
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            self._err.close()

    def stop(self, sig=signal.SIGTERM, timeout: float = 30) -> int:
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            self._err.close()

    def kill(self) -> None:
        self.proc.kill()  # SIGKILL
        self.proc.wait(timeout=10)
        self._err.close()

    def events(self) -> list[dict]:
        return _events(self.log)

    def names(self, folder: str) -> list[str]:
        path = self.out / folder
        return sorted(p.name for p in path.iterdir()) if path.is_dir() else []

    def done(self) -> int:
        """Inputs that reached archive/ or error/."""
        return len(self.names("archive")) + len([n for n in self.names("error") if not n.endswith(".reason.json")])

    def rows(self) -> list[dict]:
        db = sqlite3.connect(self.out / "state.sqlite")
        db.row_factory = sqlite3.Row
        try:
            return [dict(r) for r in db.execute("SELECT * FROM files ORDER BY seq")]
        finally:
            db.close()


def isa13_variant(text: str, control: int) -> str:
    """The fixture with another ISA13 (and IEA02): the same claims, another content and sha256."""
    sep = text[3]
    fields = text[:106].split(sep)
    old, new = fields[13], f"{control:09d}"
    fields[13] = new
    head = sep.join(fields)
    rest, n = re.subn(rf"IEA{re.escape(sep)}(\d+){re.escape(sep)}{old}", rf"IEA{sep}\g<1>{sep}{new}", text[106:])
    assert n == 1
    return head + rest


def drop(inbox: Path, name: str, data: bytes) -> None:
    """Write under a temporary name, then rename: the way a careful upstream drops a file."""
    tmp = inbox / f"{name}.part"
    tmp.write_bytes(data)
    os.rename(tmp, inbox / name)


def ends_with_iea(path: Path) -> bool:
    return re.search(rb"IEA\*\d+\*\d{9}~\s*$", path.read_bytes()) is not None


# --- tests ------------------------------------------------------------------------------------

def test_once_sorts_every_input_and_records_state(tmp_path):
    w = Watcher(tmp_path, "--once", "--settle", "0.2")
    for name in ("sample.837", "clean_single.837", "bad_not_x12.837", "bad_truncated.837"):
        (w.inbox / name).write_bytes(fixture(name).read_bytes())
    (w.inbox / "sample_again.837").write_bytes(fixture("sample.837").read_bytes())  # same content
    (w.inbox / "upload.837.part").write_bytes(b"ISA*half")  # temporary names are never taken
    (w.inbox / "batch.tmp").write_bytes(b"ISA*half")
    (w.inbox / ".hidden.837").write_bytes(fixture("sample.837").read_bytes())
    past = time.time() - 3600
    for p in w.inbox.iterdir():
        os.utime(p, (past, past))

    assert w.run() == 0, w.log.read_text()

    assert w.names("work") == []
    assert sorted(os.listdir(w.inbox)) == [".hidden.837", "batch.tmp", "upload.837.part"]
    archived, errors = w.names("archive"), w.names("error")
    # sample.837 and sample_again.837 hold the same bytes: one is scrubbed, the other is a duplicate
    dup_name = next(n for n in ("sample.837", "sample_again.837") if n in errors)
    orig_name = "sample_again.837" if dup_name == "sample.837" else "sample.837"
    orig = orig_name.rsplit(".", 1)[0]
    assert archived == sorted(["clean_single.837", orig_name])
    assert errors == sorted([f"{n}{s}" for n in ("bad_not_x12.837", "bad_truncated.837", dup_name)
                             for s in ("", ".reason.json")])
    assert w.names("clean") == sorted(["clean_single.clean.837", f"{orig}.clean.837"])
    assert w.names("rejected") == [f"{orig}.rejected.837"]
    stems = ("bad_not_x12", "bad_truncated", "clean_single", orig)
    assert w.names("reports") == sorted(f"{n}.report.json" for n in stems)
    # the outputs are exactly those of `scrubber scrub` on the same input
    direct = tmp_path / "direct"
    run_cli("scrub", fixture("sample.837"), "--out-dir", direct, "--as-of", AS_OF, "--config", w.config)
    assert (w.out / "clean" / f"{orig}.clean.837").read_bytes() == (direct / "sample.clean.837").read_bytes()
    assert (w.out / "rejected" / f"{orig}.rejected.837").read_bytes() == (direct / "sample.rejected.837").read_bytes()
    report = json.loads((w.out / "reports" / f"{orig}.report.json").read_text())
    assert report["summary"]["accepted"] == 3 and report["summary"]["rejected"] == 2
    assert report["outputs"] == {"clean": f"{orig}.clean.837", "rejected": f"{orig}.rejected.837"}

    reason = json.loads((w.out / "error" / "bad_not_x12.837.reason.json").read_text())
    assert reason["outcome"] == "unusable" and reason["rule"] == "EN002"
    assert reason["report"] == "reports/bad_not_x12.report.json"
    dup = json.loads((w.out / "error" / f"{dup_name}.reason.json").read_text())
    assert dup["outcome"] == "duplicate" and dup["duplicate_of"] == orig_name
    assert dup["sha256"] == report["input"]["sha256"]
    assert json.loads((w.out / "error" / "bad_truncated.837.reason.json").read_text())["rule"] == "EN006"

    rows = {r["name"]: r for r in w.rows()}
    assert set(rows) == {"sample.837", "sample_again.837", "clean_single.837", "bad_not_x12.837", "bad_truncated.837"}
    assert rows[orig_name]["outcome"] == "rejections"
    assert (rows[orig_name]["claims"], rows[orig_name]["accepted"], rows[orig_name]["rejected"]) == (5, 3, 2)
    assert rows[orig_name]["size"] == fixture("sample.837").stat().st_size
    assert rows[orig_name]["location"] == f"archive/{orig_name}"
    assert rows[dup_name]["outcome"] == "duplicate" and rows[dup_name]["location"] == f"error/{dup_name}"
    assert rows["clean_single.837"]["outcome"] == "clean"
    assert rows["bad_not_x12.837"]["outcome"] == "unusable" and rows["bad_not_x12.837"]["rule"] == "EN002"
    assert all(r["sha256"] and r["claimed_at"] and r["finished_at"] and r["attempts"] <= 1 for r in rows.values())
    db = sqlite3.connect(w.out / "state.sqlite")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    pairs = set(db.execute("SELECT sender, control FROM interchanges"))
    assert ("SENDER01", "000000001") in pairs and ("SENDER01", "000000002") in pairs  # sample, clean_single
    db.close()

    # every "file ..." event carries the figures an operator needs
    scrubbed = [e for e in w.events() if e["event"] == "file scrubbed"]
    assert len(scrubbed) == 2
    for e in scrubbed:
        assert {"file", "sha256", "claims", "accepted", "rejected", "duration"} <= set(e)
        assert re.fullmatch(r"[0-9a-f]{12}", e["sha256"])

    status = run_cli("status", w.out)
    assert status.returncode == 0, status.stderr
    assert "5 files (1 clean, 1 rejections, 2 unusable, 1 duplicate)" in status.stdout
    assert "Claims today: 7, accepted 4, rejected 3" in status.stdout  # the truncated file: 1 claim not submitted
    assert "error/bad_not_x12.837  unusable EN002" in status.stdout
    assert f"duplicate of {orig_name}" in status.stdout


def test_live_watch_slow_writers_renames_same_names_and_control_numbers(tmp_path):
    # a long rescan period: these files must be found through the file events
    w = Watcher(tmp_path, "--settle", "1.0", "--rescan", "120", "--workers", "2").start()
    wait_for(lambda: any(e.get("event") == "watcher started" for e in _events(w.log)), 30, "start", w.proc)
    sample = fixture("sample.837").read_bytes()

    # 1. written slowly, in chunks, with pauses shorter than the settle time: taken only when complete
    with open(w.inbox / "slow.837", "wb") as fh:
        for i in range(0, len(sample), 400):
            fh.write(sample[i:i + 400])
            fh.flush()
            time.sleep(0.3)
    # 2. written under a .part name with pauses longer than the settle time, then renamed
    part = w.inbox / "renamed.837.part"
    clean = isa13_variant(fixture("clean_single.837").read_text("latin-1"), 777).encode("latin-1")
    with open(part, "wb") as fh:
        fh.write(clean[:300])
        fh.flush()
        time.sleep(1.5)
        assert "renamed.837.part" in os.listdir(w.inbox)  # still not taken
        fh.write(clean[300:])
    os.rename(part, w.inbox / "renamed.837")
    wait_for(lambda: w.done() == 2, 30, "slow.837 and renamed.837 done", w.proc)

    # 3. the same file name again with other content: stored as slow-2.837, outputs follow
    # 4. ISA13 000000001 from SENDER01 again (slow.837 had it), in another content: flagged
    again = sample.replace(b"SAMPLE-OK-1*150", b"SAMPLE-OK-9*150")
    drop(w.inbox, "slow.837", again)
    wait_for(lambda: w.done() == 3, 30, "slow.837 (second) done", w.proc)
    assert w.stop() == 0

    assert w.names("archive") == ["renamed.837", "slow-2.837", "slow.837"]
    assert w.names("error") == []
    assert w.names("reports") == ["renamed.report.json", "slow-2.report.json", "slow.report.json"]
    assert w.names("clean") == ["renamed.clean.837", "slow-2.clean.837", "slow.clean.837"]
    assert (w.out / "archive" / "slow.837").read_bytes() == sample
    assert (w.out / "archive" / "slow-2.837").read_bytes() == again
    assert (w.out / "archive" / "renamed.837").read_bytes() == clean
    slow = json.loads((w.out / "reports" / "slow.report.json").read_text())
    assert slow["input"]["bytes"] == len(sample) and slow["summary"]["claims"] == 5
    assert "SAMPLE-OK-9" in (w.out / "clean" / "slow-2.clean.837").read_text()
    rows = {r["stored_name"]: r for r in w.rows()}
    assert rows["slow-2.837"]["name"] == "slow.837"
    assert json.loads(rows["slow-2.837"]["warnings"]) == [
        "interchange control number 000000001 from sender SENDER01 was already seen in slow.837"]
    assert rows["slow.837"]["warnings"] is None and rows["renamed.837"]["warnings"] is None
    events = w.events()
    flagged = [e for e in events if e["event"] == "interchange control number seen before"]
    assert flagged and flagged[0]["control"] == "000000001" and flagged[0]["previous"] == "slow.837"
    assert any(e["event"] == "stopping after the current files" for e in events)
    assert events[-1]["event"] == "watcher stopped"
    assert "Last warnings (1):" in run_cli("status", w.out).stdout


def clm01s(path: Path) -> list[str]:
    """The CLM01 of every claim of an 837 written by the scrubber (standard delimiters)."""
    return re.findall(r"(?:^|~)\s*CLM\*([^*~]*)", path.read_text("latin-1"))


def test_sigkill_mid_batch_loses_nothing(tmp_path):
    # The inputs are 20 copies of each of three fixtures (another ISA13 each): with the duplicates
    # across files on (PE003), each claim goes out in the first copy that reaches the clean folder
    # and is held back in the others, also across two kills and workers scrubbing side by side.
    (tmp_path / "scrubber.toml").write_text('[rules]\nselect = ["DP", "PE003"]\n')
    texts = [fixture(n).read_text("latin-1") for n in ("sample.837", "clean_single.837", "multi.837")]
    inputs: dict[str, bytes] = {}
    for i in range(60):
        data = isa13_variant(texts[i % 3], 100 + i).encode("latin-1")
        inputs[f"batch{i:02d}.837"] = data
    inputs["batch_bad.837"] = b"NOT X12 AT ALL\n"
    w = Watcher(tmp_path, "--settle", "0.2", "--rescan", "0.5", "--workers", "2")
    for name, data in inputs.items():
        drop(w.inbox, name, data)

    w.start()
    wait_for(lambda: w.done() >= 8, 60, "8 inputs done", w.proc)
    w.kill()
    first = w.done()
    assert first < len(inputs), "the batch finished before the kill; nothing was interrupted"

    # a second kill, later in the batch, then a restart that finishes the work
    w2 = Watcher(tmp_path, "--settle", "0.2", "--rescan", "0.5", "--workers", "2", tag="restart")
    w2.start()
    wait_for(lambda: w2.done() >= first + 10, 60, "10 more inputs done", w2.proc)
    w2.kill()
    w3 = Watcher(tmp_path, "--once", "--settle", "0.2", "--workers", "2", tag="finish")
    assert w3.run(timeout=120) == 0, w3.log.read_text()[-2000:]

    assert os.listdir(w.inbox) == [] and w.names("work") == []
    archived = w.names("archive")
    errors = [n for n in w.names("error") if not n.endswith(".reason.json")]
    assert sorted(archived + errors) == sorted(inputs)  # every input exactly once
    assert errors == ["batch_bad.837"]
    for name in archived:
        assert (w.out / "archive" / name).read_bytes() == inputs[name]
        stem = name[:-4]
        report = json.loads((w.out / "reports" / f"{stem}.report.json").read_text())
        assert report["input"]["name"] == name and report["status"] in ("clean", "rejections")
        for kind in ("clean", "rejected"):
            out = w.out / kind / f"{stem}.{kind}.837"
            assert out.exists() == (report["outputs"][kind] is not None), (name, kind)
            if out.exists():
                assert ends_with_iea(out), out
    for folder in FINAL:  # nothing half-written or temporary under the final folders
        assert not [n for n in w.names(folder) if n.startswith(".") or n.endswith(".part")], folder
    rows = w.rows()
    assert sorted(r["stored_name"] for r in rows) == sorted(inputs)
    assert all(r["outcome"] in ("clean", "rejections", "unusable") and r["location"] for r in rows)
    assert all(r["claims"] == json.loads((w.out / "reports" / f"{r['stored_name'][:-4]}.report.json").read_text())
               ["summary"]["claims"] for r in rows)
    recovered = [e for e in w2.events() + w3.events() if e["event"] == "recovered from the work area"]
    assert recovered, "the kill left nothing in the work area to recover"

    # No claim sent twice, none lost: every claim that no other rule rejects is in exactly one
    # clean file; the state holds one fingerprint per claim sent.
    sent = Counter(c for p in (w.out / "clean").iterdir() for c in clm01s(p))
    assert sent and max(sent.values()) == 1, sent
    held, other = Counter(), set()
    for p in (w.out / "reports").iterdir():
        for claim in json.loads(p.read_text())["claims"]:
            rules = {f["rule"] for f in claim["findings"] if f["severity"] == "error"}
            if rules - {"PE003"}:
                other.add(claim["claim_id"])
            elif rules:
                held[claim["claim_id"]] += 1
    assert set(held) == set(sent) and not other & set(sent), (held, sent, other)
    assert all(n == 19 for n in held.values()), held  # held back in the 19 other copies
    db = sqlite3.connect(w.out / "state.sqlite")
    try:
        assert db.execute("SELECT COUNT(*) FROM sent_claims").fetchone()[0] == len(sent)
    finally:
        db.close()


def _workers_of(pid: int) -> list[int]:
    """The watcher's worker processes (multiprocessing spawn children, not the resource tracker)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text()
            cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid and b"spawn_main" in cmd:
            found.append(int(proc.name))
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc (Linux) to find the worker processes")
def test_a_worker_killed_mid_batch_is_retried_alone(tmp_path):
    text = fixture("sample.837").read_text("latin-1")
    inputs = {f"w{i:02d}.837": isa13_variant(text, 500 + i).encode("latin-1") for i in range(10)}
    w = Watcher(tmp_path, "--settle", "0.2", "--rescan", "0.5", "--workers", "2")
    for name, data in inputs.items():
        drop(w.inbox, name, data)
    w.start()
    wait_for(lambda: w.done() >= 2, 60, "2 inputs done", w.proc)
    workers = wait_for(lambda: _workers_of(w.proc.pid), 30, "a worker process", w.proc)
    os.kill(workers[0], signal.SIGKILL)  # e.g. the OOM killer
    wait_for(lambda: w.done() == len(inputs), 90, "every input done", w.proc)
    assert w.stop() == 0
    assert w.names("archive") == sorted(inputs) and w.names("error") == []
    assert all(r["outcome"] == "rejections" for r in w.rows())


def test_sigint_stops_after_current_file_and_usage_errors(tmp_path):
    w = Watcher(tmp_path, "--settle", "0.2").start()
    wait_for(lambda: any(e.get("event") == "watcher started" for e in _events(w.log)), 30, "start", w.proc)
    # one watcher per out dir
    second = run_cli("watch", w.inbox, "--out-dir", w.out, "--once")
    assert second.returncode == 2 and "already using" in second.stderr
    drop(w.inbox, "one.837", fixture("clean_single.837").read_bytes())
    wait_for(lambda: w.done() == 1, 30, "one.837 done", w.proc)
    assert w.stop(signal.SIGINT) == 0
    assert w.names("archive") == ["one.837"]

    missing = run_cli("watch", tmp_path / "nope", "--out-dir", w.out, "--once")
    assert missing.returncode == 2 and "is not a folder" in missing.stderr and "Traceback" not in missing.stderr
    no_out = run_cli("watch", w.inbox)
    assert no_out.returncode == 2 and "--out-dir" in no_out.stderr
    status = run_cli("status", tmp_path / "empty")
    assert status.returncode == 2 and "no state database" in status.stderr


def test_settings_from_config_watch_section(tmp_path):
    inbox = tmp_path / "drop"
    inbox.mkdir()
    (inbox / "c.837").write_bytes(fixture("clean_single.837").read_bytes())
    cfg = tmp_path / "conf" / "scrubber.toml"
    cfg.parent.mkdir()
    cfg.write_text(CONFIG + '[watch]\ninbox = "../drop"\nout_dir = "../result"\nsettle = 0\nworkers = 2\n')
    log = tmp_path / "cfg.log"
    LOGS.append(log)
    with open(log, "wb") as err:
        result = subprocess.run([sys.executable, "-m", "scrubber", "watch", "--once", "--config", str(cfg),
                                 "--as-of", AS_OF], stderr=err, stdout=subprocess.DEVNULL, timeout=60)
    assert result.returncode == 0, log.read_text()
    assert (tmp_path / "result" / "archive" / "c.837").is_file()
    events = [json.loads(line) for line in log.read_text().splitlines()]
    started = next(e for e in events if e["event"] == "watcher started")
    assert started["workers"] == 2 and started["settle"] == 0
    # The shipped NCCI quarter is older than the as-of date's: said once at start, naming it.
    stale = [e for e in events if e["event"] == "code sets out of date"]
    assert len(stale) == 1 and "NCCI PTP quarter 2024-07-01" in stale[0]["code_sets"], stale

    bad = tmp_path / "bad.toml"
    bad.write_text('[watch]\nsettle = "soon"\n')
    r = run_cli("watch", inbox, "--out-dir", tmp_path / "x", "--config", bad)
    assert r.returncode == 2 and "[watch].settle" in r.stderr
    bad.write_text('[watch]\npoll = 3\n')
    r = run_cli("watch", inbox, "--out-dir", tmp_path / "x", "--config", bad)
    assert r.returncode == 2 and "unknown key 'poll'" in r.stderr


def test_redact_processor_keeps_person_data_out():
    from scrubber.logs import redact

    try:
        raise ValueError("bad value NM1*IL*1*TESTPATIENT*BRAVO****MI*ZZM00000001")
    except ValueError:
        exc = sys.exc_info()
    out = redact(None, "error", {
        "event": "file scrubbed", "file": "a.837", "sha256": "ab" * 32, "claims": 3,
        "name": "TESTPATIENT", "member_id": "ZZM00000001", "dob": "19710215",
        "reason": "TESTPATIENT BRAVO", "sender": "ZZM00000001 SAMPLEPERSON", "claims_text": "x",
        "accepted": "5", "exc_info": exc, "exception": "Traceback ... TESTPATIENT",
    })
    text = json.dumps(out)
    for secret in ("TESTPATIENT", "ZZM", "SAMPLEPERSON", "19710215", "BRAVO"):
        assert secret not in text
    assert out["file"] == "a.837" and out["sha256"] == "ab" * 6 and out["claims"] == 3
    assert out["error"] == "ValueError" and out["accepted"] == "[redacted]" and out["reason"] == "[redacted]"
    assert {"name", "member_id", "dob", "claims_text", "exception"} <= set(out["redacted"])
    assert redact(None, "info", {"event": "Patient TESTPATIENT"})["event"] == "[redacted event]"


def _person_values() -> set[str]:
    """Names, member ids, birth dates and street lines of the people in every 837 fixture."""
    values = {"TESTPATIENT", "SAMPLEPERSON", "ZZM"}
    for path in sorted(FIXTURES.glob("*.837")):
        text = path.read_bytes().decode("latin-1").lstrip("\ufeff\xef\xbb\xbf")
        if not text.startswith("ISA") or len(text) < 106:
            continue
        sep, term = text[3], text[105]
        person = False
        for seg in text.split(term):
            el = seg.strip("\r\n").split(sep)
            if el[0] == "NM1":
                person = len(el) > 1 and el[1] in ("IL", "QC")
                if person:
                    values.update(el[i] for i in (3, 4, 9) if len(el) > i and len(el[i]) >= 4)
            elif el[0] == "HL":
                person = False
            elif person and el[0] == "DMG" and len(el) > 2:
                values.add(el[2])
            elif person and el[0] == "N3":
                values.update(el[1:3])
    return {v for v in values if v}


def test_no_log_line_carries_person_data(tmp_path):
    # every fixture of the suite through the watcher, then every log of this module
    w = Watcher(tmp_path, "--once", "--settle", "0", "--workers", "2", tag="allfixtures")
    for path in sorted(FIXTURES.glob("*.837")):
        (w.inbox / path.name).write_bytes(path.read_bytes())
    assert w.run(timeout=120) == 0, w.log.read_text()[-2000:]
    assert w.done() == len(list(FIXTURES.glob("*.837")))
    values = _person_values()
    assert {"TESTPATIENT", "ZZM00000001", "19710215", "101 SAMPLE ST"} <= values
    scanned = 0
    for log in LOGS:
        if not log.exists():
            continue
        text = log.read_text(encoding="utf-8", errors="replace")
        for line in text.splitlines():
            scanned += 1
            hits = [v for v in values if v in line]
            assert not hits, f"{log.name}: {hits} in {line}"
    assert scanned >= 20


def test_swapped_links_fifos_long_names_and_stalled_writers(tmp_path):
    """Files swapped for a symlink (to a file outside the inbox) and for a FIFO while they settle, a
    250-byte name, a writer that pauses longer than --settle: nothing outside the inbox is read,
    nothing hangs, nothing is lost, and the watcher keeps serving."""
    secret = tmp_path / "secret"
    secret.mkdir(mode=0o700)
    victim = secret / "victim.837"
    victim.write_bytes(fixture("analyst.837").read_bytes())
    w = Watcher(tmp_path, "--settle", "1", "--rescan", "0.5").start()
    wait_for(lambda: any(e.get("event") == "watcher started" for e in _events(w.log)), 30, "start", w.proc)

    single = fixture("clean_single.837").read_text("latin-1")
    (w.inbox / "swap.837").write_bytes(isa13_variant(single, 901).encode("latin-1"))
    (w.inbox / "fifo.837").write_bytes(isa13_variant(single, 902).encode("latin-1"))
    time.sleep(0.3)  # seen, not settled: then replaced under the same name (rename, as mv -T does)
    os.symlink(victim, w.inbox / ".swap.tmp")
    os.rename(w.inbox / ".swap.tmp", w.inbox / "swap.837")
    os.mkfifo(w.inbox / ".fifo.tmp")
    os.rename(w.inbox / ".fifo.tmp", w.inbox / "fifo.837")
    long_name = "L" * 246 + ".837"
    drop(w.inbox, long_name, isa13_variant(single, 903).encode("latin-1"))

    full = fixture("multi.837").read_bytes()
    with open(w.inbox / "slow.837", "wb") as fh:  # a writer that stalls for 3 settle periods
        fh.write(full[:len(full) // 2])
        fh.flush()
        time.sleep(3)
        fh.write(full[len(full) // 2:])
    drop(w.inbox, "good.837", fixture("sample.837").read_bytes())
    wait_for(lambda: w.done() == 3, 60, "slow.837, good.837 and the long name done", w.proc)
    t0 = time.monotonic()
    assert w.stop(timeout=20) == 0
    assert time.monotonic() - t0 < 15

    assert w.names("archive") == ["good.837", "slow.837"]
    # the stalled writer's file was taken complete: the stored input is what the report describes
    import hashlib

    stored = (w.out / "archive" / "slow.837").read_bytes()
    report = json.loads((w.out / "reports" / "slow.report.json").read_text())
    assert stored == full
    assert report["input"]["sha256"] == hashlib.sha256(full).hexdigest() and report["input"]["bytes"] == len(full)
    # the link and the FIFO were not taken, and not lost: they are where the upstream put them
    assert (w.inbox / "swap.837").is_symlink() and stat.S_ISFIFO(os.lstat(w.inbox / "fifo.837").st_mode)
    assert victim.read_bytes() == fixture("analyst.837").read_bytes()
    for path in w.out.rglob("*"):
        if path.is_file() and not path.is_symlink() and path.name != "state.sqlite":
            assert b"ANALYST" not in path.read_bytes(), path
    # the long name: stored under a shortened name in error/, with its reason; not scrubbed
    errors = [n for n in w.names("error") if not n.endswith(".reason.json")]
    assert len(errors) == 1 and errors[0].startswith("L" * 100) and len(errors[0].encode()) <= 200
    reason = json.loads((w.out / "error" / f"{errors[0]}.reason.json").read_text())
    assert reason["outcome"] == "failed" and reason["dropped_as"] == long_name
    assert "250 bytes" in reason["reason"] and reason["report"] is None
    assert (w.out / "error" / errors[0]).read_bytes() == isa13_variant(single, 903).encode("latin-1")
    rows = w.rows()
    assert len(rows) == 3 and not [r for r in rows if r["outcome"] == "processing"]
    passed = {e["file"]: e["reason"] for e in w.events() if e["event"] == "not a regular file: left in the inbox"}
    assert passed == {"swap.837": "symlink", "fifo.837": "fifo"}
    for line in w.log.read_text().splitlines():  # every line of the log is JSON
        json.loads(line)


def test_claim_checks_the_very_file_it_opens(tmp_path):
    """The claim opens the name once without following a link or blocking, and checks on that
    descriptor: a regular file, the size and time it settled with, not open for writing elsewhere."""
    import threading

    from scrubber.run.inbox import Inbox, ignore_sigio, written_elsewhere

    inbox_dir, out = tmp_path / "in", tmp_path / "out"
    inbox_dir.mkdir()
    for folder in ("work", "error", "archive", "clean", "rejected", "reports"):
        (out / folder).mkdir(parents=True)
    inbox = Inbox(inbox_dir, out, settle=0, once=False, wake=threading.Event())
    inbox.check_filesystems()
    outside = tmp_path / "outside.837"
    outside.write_bytes(fixture("sample.837").read_bytes())

    def settle(name: str, data: bytes) -> None:
        (inbox_dir / name).write_bytes(data)
        inbox.observe(name)
        inbox.check_candidates()
        assert inbox.next_ready() == name

    data = fixture("clean_single.837").read_bytes()
    settle("a.837", data)  # ready; then swapped for a link before the claim
    os.unlink(inbox_dir / "a.837")
    os.symlink(outside, inbox_dir / "a.837")
    assert inbox.claim("a.837", AS_OF) is None
    settle("b.837", data)  # ... and for a FIFO (opening it for reading would block)
    os.unlink(inbox_dir / "b.837")
    os.mkfifo(inbox_dir / "b.837")
    assert inbox.claim("b.837", AS_OF) is None
    settle("c.837", data)  # grew after it settled: settles again
    with open(inbox_dir / "c.837", "ab") as fh:
        fh.write(b"\n")
    assert inbox.claim("c.837", AS_OF) is None and "c.837" in inbox.candidates
    del inbox.candidates["c.837"]
    assert os.listdir(out / "work") == []
    assert (inbox_dir / "a.837").is_symlink() and stat.S_ISFIFO(os.lstat(inbox_dir / "b.837").st_mode)

    ignore_sigio()
    settle("d.837", data)
    with open(inbox_dir / "d.837", "ab") as writer:  # still open for writing by its writer
        fd = os.open(inbox_dir / "d.837", os.O_RDONLY)
        try:
            busy = written_elsewhere(fd)
        finally:
            os.close(fd)
        assert busy is True, "the kernel grants no read lease here"
        assert inbox.claim("d.837", AS_OF) is None and "d.837" in inbox.candidates
    job = inbox.claim("d.837", AS_OF)
    assert job is not None and job.path.read_bytes() == data and job.refused is None


def test_unreadable_inputs_and_fifos_left_in_the_work_area(tmp_path, monkeypatch):
    """An input the watcher may not read, in an inbox it can write, goes to error/ with its reason
    (it used to stop the watcher at once and at every restart); a FIFO that an earlier version left
    in the work area is moved to error/ (never opened), and a job whose input vanished is closed."""
    from scrubber.check.engine import known_codes
    from scrubber.config import load_config
    from scrubber.run import inbox as inbox_mod
    from scrubber.run.jobstore import State
    from scrubber.run.watcher import Watcher as Service, WatchSettings

    inbox_dir, out = tmp_path / "inbox", tmp_path / "out"
    inbox_dir.mkdir()
    (tmp_path / "scrubber.toml").write_text(CONFIG)
    (inbox_dir / "good.837").write_bytes(fixture("clean_single.837").read_bytes())
    secret = inbox_dir / "secret.837"
    secret.write_bytes(fixture("sample.837").read_bytes())
    if os.geteuid() != 0:
        secret.chmod(0)
    else:  # root reads every file: the open says what it would say to the service's user
        real = inbox_mod.open_regular

        def refusing(path):
            if Path(path).name == "secret.837":
                raise PermissionError(13, "Permission denied")
            return real(path)

        monkeypatch.setattr(inbox_mod, "open_regular", refusing)
    stuck = out / "work" / "00000000000000000001-1-000001"
    stuck.mkdir(parents=True)
    os.mkfifo(stuck / "stuck.837")
    lost = out / "work" / "00000000000000000002-1-000002"
    lost.mkdir()
    state = State(out / "state.sqlite")
    state.claimed(lost.name, "lost.837", "lost.837", AS_OF)
    state.started(lost.name)
    state.close()

    settings = WatchSettings(inbox_dir, out, settle=0.0, rescan=1.0, once=True)
    config = load_config(tmp_path / "scrubber.toml", known_codes())
    done = []
    t = threading.Thread(target=lambda: done.append(Service(settings, config).run()), daemon=True)
    t.start()
    t.join(90)
    assert done == [0], "the watcher did not finish"
    (out / "error" / "secret.837").chmod(0o600)

    assert sorted(os.listdir(out / "archive")) == ["good.837"]
    errors = sorted(os.listdir(out / "error"))
    assert errors == ["secret.837", "secret.837.reason.json", "stuck.837", "stuck.837.reason.json"]
    assert (out / "error" / "secret.837").read_bytes() == fixture("sample.837").read_bytes()
    assert stat.S_ISFIFO(os.lstat(out / "error" / "stuck.837").st_mode)
    unreadable = json.loads((out / "error" / "secret.837.reason.json").read_text())
    assert unreadable["outcome"] == "unusable" and unreadable["rule"] == "EN005" and "permission" in unreadable["reason"]
    fifo = json.loads((out / "error" / "stuck.837.reason.json").read_text())
    assert fifo["outcome"] == "failed" and "fifo" in fifo["reason"]
    assert os.listdir(out / "work") == [] and os.listdir(inbox_dir) == []
    db = sqlite3.connect(out / "state.sqlite")
    rows = dict(db.execute("SELECT stored_name, outcome FROM files"))
    db.close()
    assert rows == {"good.837": "clean", "secret.837": "unusable", "stuck.837": "failed", "lost.837": "failed"}


def test_an_input_that_changes_while_scrubbed_publishes_nothing(tmp_path, monkeypatch):
    """The worker compares what it scrubbed with the stored input before it puts any output in
    place: a writer still writing (here: during the scrub) means no output, and the parent settles
    the file and scrubs it again."""
    from scrubber.check.engine import known_codes
    from scrubber.config import load_config
    from scrubber.run import dispatch

    (tmp_path / "scrubber.toml").write_text(CONFIG)
    monkeypatch.setattr(dispatch, "_worker_config", load_config(tmp_path / "scrubber.toml", known_codes()))
    out = tmp_path / "out"
    for folder in ("clean", "rejected", "reports"):
        (out / folder).mkdir(parents=True)
    job_dir = out / "work" / "job1"
    job_dir.mkdir(parents=True)
    src = job_dir / "growing.837"
    data = fixture("sample.837").read_bytes()
    src.write_bytes(data[:len(data) // 2])
    real = dispatch.scrub_file

    def scrub_while_writing(path, *args, **kwargs):
        with open(path, "ab") as fh:  # the rest arrives while the half file is being scrubbed
            fh.write(data[len(data) // 2:])
        return real(path, *args, **kwargs)

    monkeypatch.setattr(dispatch, "scrub_file", scrub_while_writing)
    spec = {"dir": str(job_dir), "file": src.name, "out": str(out), "as_of": AS_OF, "attempt": 1}
    result = dispatch.scrub_job(spec)
    assert result["changed"] is True and result["outputs"] == {}
    assert [p for folder in ("clean", "rejected", "reports") for p in (out / folder).iterdir()] == []
    monkeypatch.setattr(dispatch, "scrub_file", real)
    again = dispatch.scrub_job({**spec, "attempt": 2})  # once it has settled: the whole file
    assert not again.get("changed") and again["claims"] == 5 and again["outputs"]["reports"] == "growing.report.json"


def _events(log: Path) -> list[dict]:
    out = []
    for line in log.read_text().splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            pass
    return out


@pytest.fixture(autouse=True)
def _no_leftover_watchers():
    """A failing test must not leave a watcher running."""
    yield
    for w in RUNNING:
        if w.proc is not None and w.proc.poll() is None:
            w.proc.kill()
            w.proc.wait(timeout=10)
    RUNNING.clear()
