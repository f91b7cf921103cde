"""``scrubber responses``: payer 999, TA1, 277CA and 835 files tied to the submitted claims.

Hand-written payer files on fixtures/edi/multi.837 (three interchanges' worth of groups and sets),
and the round trip of the scrubber's own 999 and 277CA."""

from __future__ import annotations

import csv
import io
import json

import pytest

from click.testing import CliRunner

from conftest import fixture, problem_lines, run_cli as run_subprocess

from scrubber.cli.app import cli


class _Result:
    def __init__(self, r):
        self.returncode, self.stdout, self.stderr = r.exit_code, r.stdout, r.stderr


def run_cli(*args):
    """The command in this process (click's runner): the same code, without an interpreter a call."""
    return _Result(CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False))

MULTI = fixture("multi.837")
ISA = "ISA*00*          *00*          *ZZ*RECEIVER01     *ZZ*SENDER01       *250320*0900*^*00501*{ctl}*0*T*:~\n"


def edi(*body: str, ctl: str = "900000001", gs: str = "", ge: bool = True) -> str:
    text = ISA.format(ctl=ctl)
    if gs:
        text += gs + "\n"
    text += "\n".join(body) + "\n"
    if gs and ge:
        text += "GE*1*1~\n"
    return text + f"IEA*1*{ctl}~\n"


def st(kind: str, version: str, *segs: str) -> list[str]:
    body = [f"ST*{kind}*0001*{version}~", *[s + "~" for s in segs]]
    return body + [f"SE*{len(body) + 1}*0001~"]


# A 999 rejecting set 0002 of group 1 (an SV1 procedure code of claim MULTI-2), accepting 0001 and 0003.
PAYER_999 = edi(*st("999", "005010X231A1",
                    "AK1*HC*1*005010X222A1",
                    "AK2*837*0001*005010X222A1", "IK5*A",
                    "AK2*837*0002*005010X222A1", "IK3*SV1*22**8", "IK4*1:2*234*7*7214X", "IK5*R*5",
                    "AK2*837*0003*005010X222A1", "IK5*A",
                    "AK9*P*3*3*2",
                    "AK1*HC*77*005010X222A1", "AK9*A*1*1*1"),
                gs="GS*FA*RECEIVER01*SENDER01*20250320*0900*1*X*005010X231A1~")

# A 277CA accepting MULTI-7 and rejecting MULTI-8 (A7:477), and one claim the file does not hold.
PAYER_277 = edi(*st("277", "005010X214",
                    "BHT*0085*08*T1*20250320*0900*TH",
                    "HL*1**20*1", "NM1*PR*2*PAYER*****PI*P1", "TRN*1*T1", "DTP*050*D8*20250320", "DTP*009*D8*20250320",
                    "HL*2*1*21*1", "NM1*41*2*SUBMITTER*****46*S1", "TRN*2*BATCH0001", "STC*A1:19*20250320*WQ*1010",
                    "HL*3*2*19*1", "NM1*85*2*CLINIC*****XX*1234567893",
                    "HL*4*3*PT", "NM1*QC*1*DOE*J****MI*X1", "TRN*2*MULTI-7", "STC*A2:20*20250320*WQ*950",
                    "HL*5*3*PT", "NM1*QC*1*DOE*J****MI*X1", "TRN*2*MULTI-8", "STC*A7:477*20250320*U*60",
                    "HL*6*3*PT", "NM1*QC*1*DOE*J****MI*X1", "TRN*2*NOSUCH-1", "STC*A2:20*20250320*WQ*10"),
                gs="GS*HN*RECEIVER01*SENDER01*20250320*0900*1*X*005010X214~")

# An 835 paying MULTI-9 and denying MULTI-10 (its 99213 line CO-11, its 97110 line OA-18).
PAYER_835 = edi(*st("835", "005010X221A1",
                    "BPR*I*140*C*ACH*CCP*01*999999999*DA*123456*1234567890**01*999999999*DA*654321*20250401",
                    "TRN*1*EFT1*1234567890", "N1*PR*PAYER", "N1*PE*CLINIC*XX*1234567893", "LX*1",
                    "CLP*MULTI-9*1*175*140*20*12*PCN9", "CAS*PR*2*20",
                    "SVC*HC:97140*40*30", "CAS*CO*45*10", "SVC*HC:97110*40*35", "CAS*PR*2*5",
                    "SVC*HC:99213*95*75", "CAS*CO*45*5", "CAS*PR*2*15",
                    "CLP*MULTI-10*4*150*0**12*PCN10", "SVC*HC:99213*100*0", "CAS*CO*11*100", "LQ*HE*M76",
                    "SVC*HC:97110*50*0", "CAS*OA*18*50"),
                gs="GS*HP*RECEIVER01*SENDER01*20250320*0900*1*X*005010X221A1~")


@pytest.fixture(scope="module")
def answered(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("responses")
    names = []
    for name, text in (("payer.999", PAYER_999), ("payer.277", PAYER_277), ("payer.835", PAYER_835)):
        (tmp / name).write_text(text, encoding="ascii")
        names.append(tmp / name)
    out = tmp / "out"
    result = run_cli("responses", MULTI, *names, "--out-dir", out, "--as-of", "2025-06-01", "--format", "csv")
    doc = json.loads((out / "multi.responses.json").read_text(encoding="utf-8"))
    return result, doc, out


def by_id(doc):
    return {c["claim_id"]: c for c in doc["claims"]}


def test_schema_and_exit_status(answered):
    result, doc, _ = answered
    assert result.returncode == 1, result.stderr  # MULTI-2 rejected, MULTI-8 rejected, MULTI-10 denied
    assert problem_lines(result.stderr) == []
    assert doc["schema"] == "x12-scrubber/responses@1" and doc["submitted"]["name"] == "multi.837"
    assert len(doc["submitted"]["sha256"]) == 64
    kinds = {(r["name"], r["kind"]): r for r in doc["responses"]}
    assert set(kinds) == {("payer.999", "999"), ("payer.277", "277CA"), ("payer.835", "835")}
    assert len(doc["claims"]) == 14
    for c in doc["claims"]:
        assert set(c) >= {"claim_id", "interchange", "group", "transaction", "payer", "predicted"}
        assert c["payer"]["status"] in ("accepted", "rejected", "paid", "denied", "pending", "none")
        assert set(c["predicted"]) >= {"status", "rules"}


def test_999_rejects_one_transaction_set(answered):
    _, doc, _ = answered
    claims = by_id(doc)
    assert claims["MULTI-1"]["payer"]["status"] == "accepted" and claims["MULTI-1"]["payer"]["source"] == "999"
    two = claims["MULTI-2"]["payer"]
    assert two["status"] == "rejected" and two["source"] == "999"
    assert two["where"] == [{"segment": "SV1", "position": 22, "loop": "2400", "element": "SV101-2", "value": "72146"}]
    codes = {(c["kind"], c["code"]) for c in two["codes"]}
    assert {("999 IK304", "8"), ("999 IK403", "7"), ("999 IK502", "5")} <= codes
    assert all(c["text"] for c in two["codes"])  # each explained
    # the same set's other claims are rejected with it, without the segment of MULTI-2
    for cid in ("MULTI-3", "MULTI-4"):
        assert claims[cid]["payer"]["status"] == "rejected" and claims[cid]["payer"]["where"] == []
    assert claims["MULTI-5"]["payer"]["status"] == "accepted"
    # the prediction beside it: the scrubber accepted MULTI-2 (disagreement), rejected MULTI-4 (DP002)
    assert claims["MULTI-2"]["predicted"]["status"] == "accepted" and claims["MULTI-2"]["agrees"] is False
    assert claims["MULTI-4"]["predicted"] == {"status": "rejected", "rules": ["DP002"], "warnings": []}
    assert claims["MULTI-4"]["agrees"] is True
    [entry] = [r for r in doc["responses"] if r["kind"] == "999"]
    assert entry["matched"] == 1 and len(entry["unmatched"]) == 1 and "GS06" in entry["unmatched"][0]
    # sets no AK1 speaks of: no answer
    assert claims["MULTI-12"]["payer"] == {"status": "none", "source": None, "codes": [], "where": []}


def test_277ca_rejects_one_claim(answered):
    _, doc, _ = answered
    claims = by_id(doc)
    assert claims["MULTI-7"]["payer"]["status"] == "accepted"
    eight = claims["MULTI-8"]["payer"]
    assert eight["status"] == "rejected" and eight["source"] == "277CA"
    [code] = eight["codes"]
    assert code["code"] == "A7:477" and code["kind"] == "277CA STC" and "pointer" in code["text"]
    assert eight["where"][0]["segment"] == "CLM" and eight["where"][0]["value"] == "MULTI-8"
    [entry] = [r for r in doc["responses"] if r["kind"] == "277CA"]
    assert entry["matched"] == 2 and entry["unmatched"] == [
        "277CA claim NOSUCH-1: no claim with that CLM01 in the submitted file"]


def test_835_pays_one_claim_and_denies_another(answered):
    _, doc, _ = answered
    claims = by_id(doc)
    nine = claims["MULTI-9"]["payer"]
    assert nine["status"] == "paid" and nine["source"] == "835"
    ten = claims["MULTI-10"]["payer"]
    assert ten["status"] == "denied" and ten["source"] == "835"
    cas = [c for c in ten["codes"] if c["kind"] == "835 CAS"]
    assert [c["code"] for c in cas] == ["CO-11", "OA-18"] and [c["line"] for c in cas] == [1, 2]
    assert "diagnosis" in cas[0]["text"] and "duplicate" in cas[1]["text"]
    assert {"code": "M76", "kind": "835 RARC", "text": cas and next(c["text"] for c in ten["codes"] if c["code"] == "M76"),
            "line": 1} in ten["codes"]
    assert [w["segment"] for w in ten["where"]] == ["SV1", "SV1"]
    assert [w["value"] for w in ten["where"]] == ["99213", "97110"]
    assert ("835 CLP02", "4") in {(c["kind"], c["code"]) for c in ten["codes"]}


def test_text_summary_and_csv(answered, tmp_path):
    result, doc, out = answered
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert {r["claim_id"] for r in rows} == {c["claim_id"] for c in doc["claims"]}
    assert any(r["claim_id"] == "MULTI-10" and r["code"] == "CO-11" and r["segment"] == "SV1" for r in rows)
    assert (out / "multi.responses.csv").read_text(encoding="utf-8").replace("\r\n", "\n") == result.stdout.replace("\r\n", "\n")
    names = [out.parent / n for n in ("payer.999", "payer.277", "payer.835")]
    text = run_cli("responses", MULTI, *names, "--out-dir", tmp_path, "--as-of", "2025-06-01")
    assert text.returncode == 1
    lines = text.stdout.splitlines()
    assert "payer verdicts: accepted 4, rejected 4, paid 1, denied 1, none 4" in lines[0]
    assert any(line.startswith("claim MULTI-2 REJECTED by the 999") and "did not predict" in line for line in lines)
    assert "    at 2400 SV1 #22 SV101-2 = 72146" in lines
    assert any("CO-11" in line and "diagnosis" in line for line in lines)
    table = lines[lines.index(next(x for x in lines if x.startswith("predicted \\ payer"))):]
    assert table[1].split() == ["accepted", "4", "3", "1", "1", "0", "3"]  # 12 predicted accepted
    assert table[2].split() == ["rejected", "0", "1", "0", "0", "0", "1"]


def test_html_highlights_the_payer_segment(answered, tmp_path):
    _, _, out = answered
    names = [out.parent / n for n in ("payer.999", "payer.277", "payer.835")]
    result = run_cli("responses", MULTI, *names, "--out-dir", tmp_path, "--as-of", "2025-06-01", "--format", "html")
    assert result.returncode == 1
    page = (tmp_path / "multi.responses.html").read_text(encoding="utf-8")
    assert "claim MULTI-2: rejected by the 999" in page and 'class="hit"' in page
    assert "TESTPATIENT" not in page  # names stay masked


def test_round_trip_of_our_own_acks(tmp_path):
    for name in ("sample.837", "multi.837"):
        out = tmp_path / name
        scrub = run_cli("scrub", fixture(name), "--out-dir", out, "--as-of", "2025-06-01", "--format", "json",
                        "--ack", "999", "--ack", "277ca")
        report = json.loads(scrub.stdout)
        stem = name.rsplit(".", 1)[0]
        back = run_cli("responses", fixture(name), out / f"{stem}.999", out / f"{stem}.277ca.edi",
                       "--out-dir", out, "--as-of", "2025-06-01", "--format", "json")
        assert back.returncode == scrub.returncode, back.stderr
        doc = json.loads(back.stdout)
        assert [(c["claim_id"], c["payer"]["status"]) for c in doc["claims"]] == [
            (c["claim_id"], c["status"]) for c in report["claims"]]
        assert all(c["agrees"] for c in doc["claims"])
        assert all(not r["unmatched"] for r in doc["responses"])


@pytest.mark.parametrize("content,words", [
    (b"this is not x12 at all\n", "not an X12 file"),
    (PAYER_999.rsplit("SE*", 1)[0].encode(), "truncated"),
    (fixture("sample.837").read_bytes(), "not a payer response"),
])
def test_unusable_response_is_one_line_and_exit_2(tmp_path, content, words):
    bad = tmp_path / "bad.999"
    bad.write_bytes(content)
    result = run_subprocess("responses", MULTI, bad, "--out-dir", tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    [line] = problem_lines(result.stderr)
    assert line.startswith("scrubber: ") and words in line and str(bad) in line
    assert not (tmp_path / "multi.responses.json").exists()


def test_ta1_rejects_an_interchange(tmp_path):
    ta1 = tmp_path / "payer.ta1"
    ta1.write_text(edi("TA1*000000102*250315*1200*R*006~"), encoding="ascii")
    result = run_cli("responses", MULTI, ta1, "--out-dir", tmp_path, "--format", "json", "--as-of", "2025-06-01")
    assert result.returncode == 1
    claims = by_id(json.loads(result.stdout))
    assert claims["MULTI-12"]["payer"]["status"] == "rejected" and claims["MULTI-12"]["payer"]["source"] == "TA1"
    assert {"code": "006", "kind": "TA1 TA105", "text": "sender id (ISA06) not valid"} in claims["MULTI-12"]["payer"]["codes"]
    assert claims["MULTI-1"]["payer"]["status"] == "none"


def test_any_delimiters(tmp_path, answered):
    """The same 999 with | > and no line breaks: the same answer."""
    _, doc, _ = answered
    other = PAYER_999.replace("*", "|").replace(":~", ">~").replace("1:2", "1>2").replace("~\n", "~")
    path = tmp_path / "pipes.999"
    path.write_text(other, encoding="ascii")
    result = run_cli("responses", MULTI, path, "--out-dir", tmp_path, "--format", "json", "--as-of", "2025-06-01")
    assert result.returncode == 1, result.stderr
    got = by_id(json.loads(result.stdout))
    want = by_id(doc)
    for cid in ("MULTI-1", "MULTI-2", "MULTI-3", "MULTI-5"):
        assert got[cid]["payer"]["where"] == want[cid]["payer"]["where"]
        assert got[cid]["payer"]["status"] == [a for a in want[cid]["payer"]["chain"] if a["source"] == "999"][0]["status"]


def test_counters_wrap_and_persist(tmp_path):
    from scrubber.run.counters import StateCounters

    c = StateCounters(tmp_path)
    assert [c.next("ISA13"), c.next("ISA13"), c.next("GS06")] == [1, 2, 1]
    c.db.execute("UPDATE control_numbers SET value = 999999999 WHERE name = 'ISA13'")
    assert c.next("ISA13") == 1  # after 999999999
    c.close()
    assert StateCounters(tmp_path).next("GS06") == 2
