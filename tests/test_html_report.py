"""`scrub --format html`: a self-contained page, rendered in a real headless browser.

The browser test needs Debian's chromium (`.ci/run` installs it); it skips with a reason where
/usr/bin/chromium is absent.
"""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import tracemalloc
from datetime import date
from pathlib import Path

import lxml.html
import pytest
from conftest import fixture, run_cli
from test_explain import personal_values

from scrubber.check.engine import Engine, claim_status
from scrubber.report.explain import element_names, load_icd
from scrubber.x12.model import Claim, walk
from scrubber.report.outcome import ClaimOutcome, FileOutcome
from scrubber.x12.reader import read_segments
from scrubber.report.html import HtmlReport

AS_OF = "2025-06-01"
CHROMIUM = Path("/usr/bin/chromium")
CHROME_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--host-resolver-rules=MAP * ~NOTFOUND"]


def scrub_html(tmp_path: Path, name: str) -> tuple[subprocess.CompletedProcess, Path, dict]:
    r = run_cli("scrub", fixture(name), "--out-dir", tmp_path, "--as-of", AS_OF, "--format", "html")
    stem = name.rsplit(".", 1)[0]
    page = tmp_path / f"{stem}.report.html"
    report = json.loads((tmp_path / f"{stem}.report.json").read_text())
    return r, page, report


def rejected_ids(report: dict) -> list[str]:
    return [c["claim_id"] for c in report["claims"] if c["status"] == "rejected"]


def rejected_sections(doc) -> list:
    return doc.xpath("//section[contains(@class,'claim') and contains(@class,'rejected')]")


def section_id(sec) -> str:
    """The claim id a claim section shows (in its collapsed summary line)."""
    return sec.xpath("string(details/summary/h3/code)")


SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2, "not_checked": 3}


@pytest.mark.parametrize("name", ["sample.837", "multi.837", "analyst.837"])
def test_page_is_self_contained_and_complete(tmp_path, name):
    r, page, report = scrub_html(tmp_path, name)
    assert r.returncode == 1, r.stderr
    text = page.read_text(encoding="utf-8")
    assert r.stdout == f"{page}\n", "standard output gets the page's path, not the page"
    assert text.startswith("<!DOCTYPE html>")
    doc = lxml.html.fromstring(text)
    # self-contained: no script, no external stylesheet, font, image or link
    assert not doc.xpath("//script") and not doc.xpath("//link[@rel='stylesheet']") and not doc.xpath("//iframe")
    for el in doc.iter():
        for attr in ("src", "href", "xlink:href"):
            value = el.get(attr)
            if value is not None:
                assert value.startswith(("#", "data:")), f"{el.tag} {attr}={value!r}"
    assert "@import" not in text and "url(http" not in text
    # summary, chart, one section per rejected claim
    cards = {c.findtext("div[@class='l']"): c.findtext("div[@class='n']") for c in doc.xpath("//div[contains(concat(' ', @class, ' '), ' card ')]")}
    s = report["summary"]
    assert cards == {k: str(s[k]) for k in ("claims", "accepted", "rejected", "errors", "warnings")}
    assert doc.xpath("//svg[contains(@class,'chart')]//rect")
    sections = rejected_sections(doc)
    assert [section_id(sec) for sec in sections] == rejected_ids(report)
    # each claim collapsed (a <details> not open), its segments a second one inside
    assert all(sec.xpath("details[not(@open)]") and sec.xpath(".//details[contains(@class,'segs')]") for sec in sections)
    for sec, claim in zip(sections, (c for c in report["claims"] if c["status"] == "rejected")):
        shown = sec.xpath(".//table[contains(@class,'findings')]//tr/td[1]/a/code/text()")
        # findings sorted by severity: errors first
        assert shown == [f["rule"] for f in sorted(claim["findings"], key=lambda f: SEVERITY_ORDER[f["severity"]])]
        for code in shown:  # each rule code links to its documentation, on the page
            assert doc.xpath(f"//section[@id='rule-{code}']//pre"), code
        # the faulty element of each positioned finding is highlighted in the raw segments
        for f in claim["findings"]:
            if f["position"] is not None:
                hit = sec.xpath(f".//pre[@class='segments']/span[contains(@class,'hit')][span[@class='pos']='#{f['position']}']")
                assert hit and hit[0].xpath(".//mark"), (claim["claim_id"], f)
    # accepted claims with warnings are listed too, and drawn apart from the rejected ones
    warned = [c["claim_id"] for c in report["claims"]
              if c["status"] == "accepted" and any(f["severity"] == "warning" for f in c["findings"])]
    assert [section_id(sec) for sec in doc.xpath("//section[contains(@class,'claim') and contains(@class,'accepted')]")] == warned
    # no personal value anywhere in the page
    leaked = sorted(v for v in personal_values(fixture(name)) if v in text)
    assert not leaked, leaked


def test_broken_pointer_is_drawn_as_broken(tmp_path):
    _, page, _ = scrub_html(tmp_path, "sample.837")
    doc = lxml.html.fromstring(page.read_text(encoding="utf-8"))
    sec = next(s for s in rejected_sections(doc) if section_id(s) == "SAMPLE-BADPTR")
    svg = sec.xpath(".//svg[contains(@class,'pointers')]")[0]
    dashed_red = [p for p in svg.xpath(".//path[@stroke='#c62828']") if p.get("stroke-dasharray") != "0"]
    assert len(dashed_red) == 1
    assert "pointer 3 -> nothing" in dashed_red[0].findtext("title")
    assert svg.xpath(".//text[contains(., '3 \u00b7 (empty')]")
    assert sec.xpath(".//td[span='broken'][contains(., 'pointer 3')]")
    # the faulty component SV107-2 is the one marked
    mark = sec.xpath(".//pre/span[contains(@class,'hit')]//mark")[0]
    assert mark.text == "3" and mark.get("title").startswith("DP002 SV107-2")


def test_values_are_escaped(tmp_path):
    _, page, _ = scrub_html(tmp_path, "analyst.837")
    text = page.read_text(encoding="utf-8")
    assert "<b>&-1" not in text and "CSV,\"Q\"&lt;b&gt;&amp;-1" in text
    doc = lxml.html.fromstring(text)
    assert 'CSV,"Q"<b>&-1' in doc.xpath("//section//summary/h3/code/text()")
    assert not doc.xpath("//section//b[not(ancestor::pre)]"), "no markup injected by a claim id"


def test_several_inputs_print_the_page_paths(tmp_path):
    r = run_cli("scrub", fixture("sample.837"), fixture("clean_single.837"), "--out-dir", tmp_path,
                "--as-of", AS_OF, "--format", "html")
    assert r.returncode == 1
    assert r.stdout.splitlines() == [str(tmp_path / "sample.report.html"), str(tmp_path / "clean_single.report.html")]
    clean = (tmp_path / "clean_single.report.html").read_text(encoding="utf-8")
    assert "No claim rejected." in clean


def test_unusable_input_gets_a_page(tmp_path):
    r = run_cli("scrub", fixture("bad_not_x12.837"), "--out-dir", tmp_path, "--format", "html")
    assert r.returncode == 2
    doc = lxml.html.fromstring((tmp_path / "bad_not_x12.report.html").read_text(encoding="utf-8"))
    assert "Unusable input" in doc.text_content() and "not an X12 file" in doc.text_content()


def _feed(path: Path, html_path: Path) -> int:
    """Scrub-like loop feeding only the HTML sink; returns the traced peak in bytes."""
    from scrubber.config import Config, RuleSelection

    engine = Engine(Config(rules=RuleSelection(select=("DP",))), date(2025, 6, 1))  # the pointer rules suffice
    outcome = FileOutcome(name=path.name)
    fmt = HtmlReport(html_path, date(2025, 6, 1))
    load_icd(), element_names()  # loaded once per process (cached): outside the measure
    tracemalloc.start()
    fmt.start(outcome)
    for event in walk(read_segments(path)):
        if type(event) is Claim:
            findings = engine.check(event)
            status = claim_status(findings)
            outcome.claims += 1
            outcome.rejected += status == "rejected"
            outcome.count(findings)
            fmt.claim(ClaimOutcome(event, findings, status))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    fmt.finish(outcome)
    return peak


def test_html_memory_does_not_grow_with_claims(tmp_path):
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
    import make_fixtures as mf

    def write(n: int) -> Path:
        claims = [mf.bad_ptr_claim(f"MEM-{i}") for i in range(n)]
        bp = mf.BillingProvider(**mf.BP_ONE, subscribers=[mf.Subscriber(mf.person(1), claims=claims)])
        st = mf.transaction_segments("0001", [bp])
        path = tmp_path / f"mem{n}.837"
        mf.write_837(path, [(mf.interchange("000000901", [mf.group("1", [st])], mf.STD_LF), mf.STD_LF)])
        return path

    small, big = _feed(write(30), tmp_path / "s.html"), _feed(write(240), tmp_path / "b.html")
    page = (tmp_path / "b.html").read_text()
    assert page.count('<section id="claim-') == 240
    # the page is about 8 KB a claim; kept in memory, 240 claims would add well over 1 MB
    assert len(page) > 1_000_000
    assert big < small * 1.3 + 300_000, f"peak {small} bytes for 30 claims, {big} for 240"


def test_sections_beyond_the_limit_are_listed(tmp_path):
    from scrubber.report import html as html_writer

    engine = Engine(None, date(2025, 6, 1))
    outcome = FileOutcome(name="sample.837")
    fmt = html_writer.HtmlReport(tmp_path / "p.html", date(2025, 6, 1), max_sections=1)
    fmt.start(outcome)
    for event in walk(read_segments(fixture("sample.837"))):
        if type(event) is Claim:
            findings = engine.check(event)
            status = claim_status(findings)
            outcome.rejected += status == "rejected"
            fmt.claim(ClaimOutcome(event, findings, status))
    fmt.finish(outcome)
    doc = lxml.html.fromstring((tmp_path / "p.html").read_text(encoding="utf-8"))
    assert [section_id(s) for s in rejected_sections(doc)] == ["SAMPLE-BADPTR"]
    assert doc.xpath("//ul[@class='index']/li/code/text()") == ["SAMPLE-NOPTR"]
    assert "1 are listed here" in doc.text_content()


# ---- the real browser --------------------------------------------------------------------------


def _chromium(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(CHROMIUM), *CHROME_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *args],
                          capture_output=True, text=True, timeout=180, check=False)


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", data[16:24])


MEASURE = """<script>
addEventListener("load", () => {
  for (const d of document.querySelectorAll("details")) d.open = true;
  const w = document.documentElement.clientWidth;
  const wide = [];
  for (const el of document.querySelectorAll("svg.pointers, svg.chart, table, pre, .cards")) {
    const box = el.getBoundingClientRect();
    // an element may scroll inside its own .scroll box; the page itself must not overflow
    const clip = el.closest(".scroll");
    const right = clip ? clip.getBoundingClientRect().right : box.right;
    if (right > w + 1) wide.push(el.tagName + "." + (el.getAttribute("class") || "") + " " + Math.round(right));
  }
  const svg = document.querySelector("svg.pointers");
  document.body.setAttribute("data-measure", JSON.stringify({
    width: w, scroll: document.documentElement.scrollWidth, wide: wide,
    pointers: svg ? Math.round(svg.getBoundingClientRect().width) : null}));
});
</script>"""


@pytest.mark.parametrize("name", ["sample.837", "analyst.837"])
def test_page_in_headless_chromium(tmp_path, name):
    if not CHROMIUM.exists() or shutil.which(str(CHROMIUM)) is None:
        pytest.skip("/usr/bin/chromium is absent (apt-get install chromium; .ci/run installs it)")
    _, page, report = scrub_html(tmp_path / "out", name)
    url = page.resolve().as_uri()
    # 1. the page as the browser built it, with the console on standard error
    r = _chromium(["--enable-logging=stderr", "--v=0", "--dump-dom", url], tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    console = [line for line in r.stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line]
    assert not console, console
    dom = lxml.html.fromstring(r.stdout)
    assert dom.findtext(".//title") == f"Scrub report: {name}"
    text = dom.text_content()
    ids = rejected_ids(report)
    assert ids
    for cid in ids:
        assert cid in text, cid
    assert [section_id(s) for s in rejected_sections(dom)] == ids
    # 2. at a narrow (800 px) and a wide (1400 px) window, every section opened: nothing wider than
    # the window (the pointer map scales down), measured by the browser on a copy with a script
    measured = tmp_path / "measured.html"
    measured.write_text(page.read_text(encoding="utf-8").replace("</body>", MEASURE + "</body>"), encoding="utf-8")
    # (both widths on the page with the widest content; the other page at one width, to keep it quick)
    for width in (800, 1400) if name == "analyst.837" else (1400,):
        r = _chromium([f"--window-size={width},1000", "--hide-scrollbars", "--dump-dom", measured.resolve().as_uri()],
                      tmp_path)
        assert r.returncode == 0, r.stderr[-2000:]
        m = json.loads(lxml.html.fromstring(r.stdout).find(".//body").get("data-measure"))
        assert m["width"] == width, m
        assert m["scroll"] <= width and not m["wide"], (width, m)
        assert m["pointers"] is None or m["pointers"] <= width - 20, (width, m)
        # 3. a screenshot at that width
        shot = tmp_path / f"shot{width}.png"
        r = _chromium([f"--window-size={width},2000", "--hide-scrollbars", f"--screenshot={shot}", url], tmp_path)
        assert r.returncode == 0 and shot.is_file(), r.stderr[-2000:]
        assert _png_size(shot) == (width, 2000)
        assert shot.stat().st_size > 50_000, "a blank page compresses to almost nothing"
