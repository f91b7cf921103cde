"""Sinks and the one atomic write: every output is a Sink with no-op hooks, a scrub can run with
no file sink at all, the finding that makes an input unusable is ``FileOutcome.fatal``, and every
file is written whole or not at all."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest

from conftest import fixture
from scrubber.atomic import AtomicFile, write_bytes_atomic, write_text_atomic
from scrubber.check.engine import Engine
from scrubber.config import Config
from scrubber.report.names import output_names, output_stem
from scrubber.report.sink import HOOKS, Sink, overriding
from scrubber.run.pipeline import scrub_file

AS_OF = date(2025, 6, 1)


# --- atomic writes ------------------------------------------------------------------------------

def test_atomic_file_put_in_place_with_its_mode(tmp_path):
    target = tmp_path / "sub" / "out.txt"
    with AtomicFile(target, "w", 0o640, encoding="latin-1", newline="") as fh:
        fh.write("a\r\nb")
        assert not target.exists()
        assert [p.name for p in target.parent.iterdir()][0].startswith(".out.txt.")
    assert target.read_bytes() == b"a\r\nb"
    assert target.stat().st_mode & 0o777 == 0o640
    assert os.listdir(target.parent) == ["out.txt"]


def test_atomic_file_failure_keeps_the_old_file(tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with AtomicFile(target, "wb") as fh:
            fh.write(b"new, half")
            raise RuntimeError("disk full")
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["out.bin"]


def test_atomic_file_discard_and_lazy_open(tmp_path):
    target = tmp_path / "out.837"
    file = AtomicFile(target, "w")
    file.discard()  # never opened: nothing to remove
    file.open().write("x")
    file.discard()
    file.discard()
    assert os.listdir(tmp_path) == []


def test_write_bytes_and_text(tmp_path):
    write_bytes_atomic(tmp_path / "a.bin", b"\x00\x01")
    write_text_atomic(tmp_path / "b.txt", "caf\u00e9\n", 0o600, encoding="latin-1")
    assert (tmp_path / "a.bin").read_bytes() == b"\x00\x01"
    assert (tmp_path / "a.bin").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "b.txt").read_bytes() == b"caf\xe9\n"
    assert (tmp_path / "b.txt").stat().st_mode & 0o777 == 0o600


def test_mode_none_follows_the_umask(tmp_path):
    old = os.umask(0o027)
    try:
        write_text_atomic(tmp_path / "r.json", "{}\n", mode=None)
    finally:
        os.umask(old)
    assert (tmp_path / "r.json").stat().st_mode & 0o777 == 0o640


# --- sinks ----------------------------------------------------------------------------------------

class Recorder(Sink):
    def __init__(self):
        self.events: list[str] = []

    def start(self, outcome):
        self.events.append("start")

    def interchange(self, event):
        self.events.append("ISA")

    def group(self, event):
        self.events.append("GS")

    def transaction(self, event):
        self.events.append("ST")

    def claim(self, result):
        self.events.append(f"claim {result.claim.claim_id} {result.status}")

    def transaction_end(self, event):
        self.events.append("SE")

    def group_end(self, event):
        self.events.append("GE")

    def interchange_end(self, event):
        self.events.append("IEA")

    def discard(self):
        self.events.append("discard")

    def finish(self, outcome):
        self.events.append(f"finish {outcome.status}")


def test_every_hook_of_the_base_does_nothing():
    sink = Sink()
    for hook in HOOKS:
        args = () if hook == "discard" else (None,)
        assert getattr(sink, hook)(*args) is None


def test_only_overridden_hooks_are_called():
    class OnlyClaims(Sink):
        def claim(self, result):
            pass

    sinks = [OnlyClaims(), Recorder()]
    assert len(overriding(sinks, "claim")) == 2
    assert overriding(sinks, "start") == [sinks[1].start]


def test_scrub_without_file_sinks_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    engine = Engine(Config(), AS_OF)
    recorder = Recorder()
    outcome = scrub_file(fixture("sample.837"), None, engine, sinks=[recorder], structure=False)
    assert os.listdir(tmp_path) == []
    assert outcome.report_path is None and outcome.outputs == {"clean": None, "rejected": None}
    with_files = scrub_file(fixture("sample.837"), tmp_path / "out", engine, structure=False)
    assert (outcome.claims, outcome.accepted, outcome.rejected, outcome.status) == \
        (with_files.claims, with_files.accepted, with_files.rejected, with_files.status)
    ev = recorder.events
    assert ev[0] == "start" and ev[-1] == f"finish {outcome.status}" and "discard" not in ev
    assert ev[1:4] == ["ISA", "GS", "ST"] and ev[-4:-1] == ["SE", "GE", "IEA"]
    assert sum(e.startswith("claim ") for e in ev) == outcome.claims


def test_acks_need_an_out_dir():
    with pytest.raises(ValueError):
        scrub_file(fixture("sample.837"), None, Engine(Config(), AS_OF), acks=("277ca",))


def test_unusable_input_is_discarded_and_its_fatal_finding_explicit(tmp_path):
    recorder = Recorder()
    outcome = scrub_file(fixture("bad_truncated.837"), tmp_path, Engine(Config(), AS_OF), sinks=[recorder])
    assert outcome.status == "unusable"
    assert outcome.fatal is outcome.findings[-1] and outcome.fatal.message == outcome.unusable
    assert recorder.events[-2:] == ["discard", "finish unusable"]
    stem = output_stem(fixture("bad_truncated.837"))
    assert sorted(os.listdir(tmp_path)) == [f"{stem}.report.json"]  # no clean or rejected 837, no temporary file
    if outcome.claims:
        assert outcome.not_submitted is not None and outcome.not_submitted.rule == outcome.fatal.rule


def test_usable_input_has_no_fatal_finding(tmp_path):
    outcome = scrub_file(fixture("sample.837"), tmp_path, Engine(Config(), AS_OF), structure=False)
    assert outcome.fatal is None and outcome.not_submitted is None


def test_output_names():
    assert output_stem(Path("in/batch.837")) == "batch"
    assert output_stem(".837") == ".837" and output_stem("") == "input"
    assert output_names("b") == ["b.report.json", "b.clean.837", "b.rejected.837", "b.report.html", "b.report.csv",
                                 "b.999", "b.277ca.edi", "b.ta1"]
