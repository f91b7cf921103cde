"""`scrub --format csv`: one row per finding, the columns, escaping."""

from __future__ import annotations

import csv
import io
import json

from conftest import fixture, run_cli

from scrubber.report.csv_report import COLUMNS

AS_OF = "2025-06-01"
ESCAPE_ID = 'CSV,"Q"<b>&-1'


def scrub_csv(tmp_path, *files, as_of=AS_OF):
    r = run_cli("scrub", *files, "--out-dir", tmp_path, "--as-of", as_of, "--format", "csv")
    rows = list(csv.reader(io.StringIO(r.stdout, newline="")))
    return r, rows


def test_columns_and_one_row_per_finding(tmp_path):
    r, rows = scrub_csv(tmp_path, fixture("sample.837"))
    assert r.returncode == 1, r.stderr
    assert tuple(rows[0]) == COLUMNS == (
        "file", "claim_id", "status", "rule", "severity", "loop", "segment", "position",
        "element", "value", "message", "ack")
    report = json.loads((tmp_path / "sample.report.json").read_text())
    expected = [
        ["sample.837", c["claim_id"], c["status"], f["rule"], f["severity"], f["loop"] or "", f["segment"] or "",
         str(f["position"]), f["element"] or "", f["value"] or "", f["message"],
         f"{f['ack']['category']}:{f['ack']['status']}" if f["ack"] else ""]
        for c in report["claims"] for f in c["findings"]
    ]
    assert rows[1:] == expected
    badptr = next(row for row in rows if row[1] == "SAMPLE-BADPTR")
    assert badptr[2:10] == ["rejected", "DP002", "error", "2400", "SV1", "74", "SV107-2", "3"]
    assert badptr[11] == "A7:477"
    # the same rows in NAME.report.csv
    on_disk = (tmp_path / "sample.report.csv").read_bytes().decode("utf-8")
    assert "\r\n" in on_disk and on_disk.replace("\r\n", "\n") == r.stdout


def test_comma_and_quote_are_escaped(tmp_path):
    r, rows = scrub_csv(tmp_path, fixture("analyst.837"))
    assert r.returncode == 1, r.stderr
    # RFC 4180: the field is quoted and its quotes doubled
    assert '"CSV,""Q""<b>&-1"' in r.stdout
    row = next(row for row in rows if row[3] == "DP002")
    assert row[1] == ESCAPE_ID and len(row) == len(COLUMNS)
    # messages with commas survive a round trip
    assert all(len(row) == len(COLUMNS) for row in rows)
    assert any("," in row[10] for row in rows[1:])
    assert (tmp_path / "analyst.report.csv").read_bytes().count(b"\r\n") == len(rows)


def test_file_level_findings_have_an_empty_claim_id(tmp_path):
    src = fixture("sample.837").read_bytes()
    bad = tmp_path / "in" / "counts.837"
    bad.parent.mkdir()
    bad.write_bytes(src.replace(b"GE*1*1~", b"GE*7*1~"))
    r, rows = scrub_csv(tmp_path / "out", bad)
    assert r.returncode == 1
    file_rows = [row for row in rows[1:] if row[1] == ""]
    assert [row[3] for row in file_rows] == ["EN101"]
    assert file_rows[0][2] == "rejections" and file_rows[0][8] == "GE01" and file_rows[0][9] == "7"


def test_several_inputs_one_header_and_unusable(tmp_path):
    r, rows = scrub_csv(tmp_path, fixture("sample.837"), fixture("bad_truncated.837"))
    assert r.returncode == 2
    assert sum(1 for row in rows if tuple(row) == COLUMNS) == 1
    unusable = [row for row in rows if row[0] == "bad_truncated.837"]
    # the file's own findings: empty claim id, the file's status; claim rows (if any): rejected,
    # since no claim of an unusable input is submitted
    assert all(row[2] == ("unusable" if row[1] == "" else "rejected") for row in unusable)
    assert "EN006" in [row[3] for row in unusable]
    assert (tmp_path / "bad_truncated.report.csv").exists()


def test_text_and_json_unchanged(tmp_path):
    r = run_cli("scrub", fixture("sample.837"), "--out-dir", tmp_path, "--as-of", AS_OF)
    assert "REJECTED SAMPLE-BADPTR" in r.stdout and not (tmp_path / "sample.report.csv").exists()
    r = run_cli("scrub", fixture("sample.837"), "--out-dir", tmp_path, "--as-of", AS_OF, "--format", "json")
    assert json.loads(r.stdout)["schema"] == "x12-scrubber/report@1"
    assert not (tmp_path / "sample.report.html").exists()
