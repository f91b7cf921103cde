"""The payer front-end edits end to end: duplicates in one file (PE001, PE002), claims already sent
in an earlier file with a state folder (PE003, ``scrub --state``), and the fingerprints' memory
(spilled to SQLite past its bound, no patient data in the state)."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path


from conftest import fixture, run_cli
from scrubber.check.engine import Engine
from scrubber.config import Config
from scrubber.rules.payer._common import FileLedger, Where
from scrubber.run.pipeline import scrub_file
from scrubber.run.state import SentClaims

AS_OF = "2025-06-01"


def clm01s(path: Path) -> list[str]:
    return re.findall(r"(?:^|~)\s*CLM\*([^*~]*)", path.read_text("latin-1"))


def report(out: Path, stem: str) -> dict:
    return json.loads((out / f"{stem}.report.json").read_text())


def rules_of(claim: dict) -> set[str]:
    return {f["rule"] for f in claim["findings"]}


def test_a_claim_sent_twice_in_a_file_goes_out_once(tmp_path):
    out = tmp_path / "out"
    result = run_cli("scrub", fixture("duplicates.837"), "--out-dir", out, "--as-of", AS_OF)
    assert result.returncode == 1, result.stderr
    claims = report(out, "duplicates")["claims"]
    assert [(c["claim_id"], c["interchange"], c["status"]) for c in claims] == [
        ("DUP-1", "000000301", "accepted"), ("DUP-1", "000000301", "rejected"),
        ("DUP-2", "000000301", "accepted"), ("DUP-2", "000000301", "accepted"),
        ("DUP-3", "000000302", "accepted"), ("DUP-1", "000000302", "rejected")]
    first, again, _, other, _, across = claims
    assert rules_of(first) == set() and rules_of(again) == {"PE001"} and rules_of(across) == {"PE001"}
    for repeat in (again, across):  # each points at the first: interchange, transaction set, position
        (f,) = repeat["findings"]
        assert f["severity"] == "error" and f["element"] == "CLM01" and f["ack"] == {"category": "A3", "status": "78"}
        assert "(interchange 000000301, transaction set 0001, CLM at position 19)" in f["message"]
    (warning,) = other["findings"]  # the same CLM01 on a different claim: a warning
    assert warning["rule"] == "PE002" and warning["severity"] == "warning" and "position 35" in warning["message"]
    assert sorted(clm01s(out / "duplicates.clean.837")) == ["DUP-1", "DUP-2", "DUP-2", "DUP-3"]
    assert clm01s(out / "duplicates.rejected.837") == ["DUP-1", "DUP-1"]


def replacement_of(text: str, claim_id: str) -> str:
    """``text`` with the claim ``claim_id`` sent as a replacement (CLM05-3 = 7, with REF*F8)."""
    new, n = re.subn(rf"CLM\*{claim_id}\*([^~]*?)\*11:B:1\*([^~]*)~", rf"CLM*{claim_id}*\1*11:B:7*\2~REF*F8*PAYERCLAIM0001~",
                     text, count=1)
    assert n == 1
    return new


def test_the_same_file_twice_with_one_state_folder(tmp_path):
    state = tmp_path / "state"
    src = fixture("duplicates.837")
    first = run_cli("scrub", src, "--out-dir", tmp_path / "one", "--as-of", AS_OF, "--state", state)
    assert first.returncode == 1, first.stderr
    accepted = [c for c in report(tmp_path / "one", "duplicates")["claims"] if c["status"] == "accepted"]
    assert len(accepted) == 4
    assert {p.name for p in state.iterdir()} >= {"state.sqlite", "fingerprint.key"}
    assert (state / "fingerprint.key").stat().st_mode & 0o077 == 0

    # Ten days later, the same file again: every claim is held back as already sent (the repeats
    # too: they are the claim that went out, and none of this run's claims is accepted).
    second = run_cli("scrub", src, "--out-dir", tmp_path / "two", "--as-of", "2025-06-11", "--state", state,
                     "--format", "json")
    assert second.returncode == 1, second.stderr
    again = json.loads(second.stdout)
    assert again["summary"]["accepted"] == 0 and not (tmp_path / "two" / "duplicates.clean.837").exists()
    sent = again["claims"]
    assert len(sent) == 6 and all(rules_of(c) == {"PE003"} for c in sent), sent
    assert all("already sent on 2025-06-01 (in duplicates.837)" in f["message"]
               for c in sent for f in c["findings"] if f["rule"] == "PE003")

    # A replacement of one of them (CLM05-3 = 7 with REF*F8) is accepted; the others still are not.
    fixed = tmp_path / "replace.837"
    fixed.write_text(replacement_of(src.read_text("latin-1"), "DUP-3"), "latin-1")
    third = run_cli("scrub", fixed, "--out-dir", tmp_path / "three", "--as-of", "2025-06-12", "--state", state)
    assert third.returncode == 1, third.stderr
    claims = report(tmp_path / "three", "replace")["claims"]
    assert [c["status"] for c in claims if c["claim_id"] == "DUP-3"] == ["accepted"]
    assert clm01s(tmp_path / "three" / "replace.clean.837") == ["DUP-3"]

    # 65 days after the first run, past the window (duplicate_days = 60 by default), the claims
    # count as not sent; the replacement, 54 days before, still does.
    later = run_cli("scrub", src, "--out-dir", tmp_path / "four", "--as-of", "2025-08-05", "--state", state)
    assert sorted(clm01s(tmp_path / "four" / "duplicates.clean.837")) == ["DUP-1", "DUP-2", "DUP-2"], later.stdout

    # The state holds keyed hashes, no patient data of the fixture.
    data = b"".join(p.read_bytes() for p in state.iterdir())
    for word in (b"TESTPATIENT", b"BRAVO", b"ZZM00000001", b"19710215", b"101 SAMPLE ST", b"DUP-1", b"1234567893"):
        assert word not in data, word


def test_state_options_and_errors(tmp_path):
    config = tmp_path / "scrubber.toml"
    config.write_text("[options]\nduplicate_days = 0\n")
    bad = run_cli("scrub", fixture("clean_single.837"), "--out-dir", tmp_path / "o", "--config", config)
    assert bad.returncode == 2 and "duplicate_days" in bad.stderr and "Traceback" not in bad.stderr
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("x")
    res = run_cli("scrub", fixture("clean_single.837"), "--out-dir", tmp_path / "o", "--state", not_a_folder / "sub")
    assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr
    assert res.stderr.strip().splitlines()[-1].startswith("scrubber: cannot use the state folder")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "fingerprint.key").write_text("not a key\n")
    res = run_cli("scrub", fixture("clean_single.837"), "--out-dir", tmp_path / "o", "--state", broken)
    assert res.returncode == 2 and "is not a fingerprint key" in res.stderr and "Traceback" not in res.stderr


def test_ledger_spills_to_sqlite_past_its_bound(tmp_path):
    ledger = FileLedger(b"k" * 32, memory_bound=3)
    d = [ledger.digest(b"claim %d" % n) for n in range(10)]
    i = [ledger.digest(b"id %d" % n) for n in range(10)]
    for n in range(10):
        ledger.add(d[n], i[n], Where("000000001", "0001", 19 + n, f"C{n}"), n % 2 == 0)
    assert ledger._db is not None and len(ledger._by_digest) < 3  # moved to the table
    assert ledger.first_with_digest(d[0]) == Where("000000001", "0001", 19, "C0")
    assert ledger.first_with_id_key(i[9]).position == 28
    assert ledger.first_with_digest(ledger.digest(b"another")) is None and ledger.first_with_digest(i[0]) is None
    ledger.add(d[0], ledger.digest(b"id x"), Where("000000002", "0002", 99, "X"), False)  # the first one stays
    assert ledger.first_with_digest(d[0]).position == 19
    got = {digest: checked for digest, checked, _ in ledger.accepted_digests()}
    assert set(got) == set(d) and [got[x] for x in d[:2]] == [True, False]
    folder = Path(ledger._dir)
    ledger.close()
    assert not folder.exists()


def test_a_small_bound_gives_the_same_outputs(tmp_path, monkeypatch):
    """The same findings whether the fingerprints stay in memory or move to SQLite."""
    src = fixture("duplicates.837")
    scrub_file(src, tmp_path / "a", Engine(Config(), date(2025, 6, 1)))
    engine = Engine(Config(), date(2025, 6, 1))
    real = engine.open_ledger
    monkeypatch.setattr(engine, "open_ledger", lambda key=None, sent_before=None: real(key, sent_before, memory_bound=1))
    scrub_file(src, tmp_path / "b", engine)
    for suffix in ("report.json", "clean.837", "rejected.837"):
        assert (tmp_path / "a" / f"duplicates.{suffix}").read_bytes() == (tmp_path / "b" / f"duplicates.{suffix}").read_bytes()


def test_commit_checks_claims_recorded_meanwhile(tmp_path):
    """Two inputs scrubbed side by side: the commit of the second finds the claim the first
    recorded since its scrub began, publishes nothing, and the input is scrubbed again."""
    as_of = date(2025, 6, 1)
    a, b = SentClaims(tmp_path, as_of), SentClaims(tmp_path, as_of)
    try:
        la, lb = FileLedger(a.key), FileLedger(b.key)
        where = Where("000000001", "0001", 19, "X")
        la.add("same", "i1", where, True)
        lb.add("same", "i1", where, True)
        mark_a, mark_b = a.mark(), b.mark()
        assert a.commit(la, "job-a", "a.837", mark_a) == 0
        published = []
        assert b.commit(lb, "job-b", "b.837", mark_b, publish=lambda: published.append(1)) == 1
        assert published == []
        assert b.lookup("job-b")("same") == ("2025-06-01", "a.837")
        assert b.lookup("job-a")("same") is None  # a second attempt of the same job does not find itself
    finally:
        a.close()
        b.close()


def test_the_same_claims_with_other_delimiters_are_already_sent(tmp_path):
    """The fingerprint reads elements and components, not bytes: the file sent again with other
    delimiters holds back the same claims."""
    src = fixture("duplicates.837")
    pipe = tmp_path / "pipe.837"
    pipe.write_text(src.read_text("latin-1").replace("*", "|").replace(":", ">").replace("\n", "\r\n"), "latin-1")
    as_of = date(2025, 6, 1)
    for path, source in ((src, "first"), (pipe, "second")):
        state = SentClaims(tmp_path / "state", as_of)
        try:
            scrub_file(path, tmp_path / source, Engine(Config(), as_of), structure=False, state=state, source=source)
        finally:
            state.close()
    claims = report(tmp_path / "second", "pipe")["claims"]
    assert len(claims) == 6 and all("PE003" in rules_of(c) for c in claims), claims
