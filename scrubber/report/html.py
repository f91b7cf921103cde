"""``NAME.report.html``: one self-contained page for the analyst (``--format html``).

No network, no script, no external font or stylesheet: the CSS is inline, the bar chart and the
pointer maps are inline SVG (scaled to the width of the screen), and every value goes through
lxml, which escapes it, after :func:`scrubber.report.xmlsafe.xml_text` has made it XML-safe (a
control character in an input is shown, never a reason for the page or the run to fail; the page
never changes a verdict).

At volume the page stays small and quick: each claim is a collapsed ``<details>`` (its segments a
second one, opened on demand); the first ``max_sections`` rejected claims and the first
``max_warned`` accepted claims with warnings are drawn in detail, the others listed, and the page
says so. Grouping needs no script either: an index by rule (each rule's claims), by transaction
set and by payer, with links to the sections; each rule code links to its documentation on the
page; each acknowledgment code carries a short meaning. Severities and colours are those of the
findings (after the configuration), not the rules' defaults.

The page streams like the other reports: each claim's section is rendered when the claim comes
(``claim()``) and written to a temporary spool; ``finish()`` writes the head (summary, indexes),
the spooled sections, and the tail. Memory does not grow with the number of claims: the indexes
keep counts and at most ``index_cap`` claim ids a rule.

Personal values (names, member ids, birth dates, addresses) are masked as in ``scrubber explain``
(:func:`scrubber.report.explain.masked_indexes`).
"""

from __future__ import annotations

import shutil
import tempfile
from collections import Counter
from datetime import date
from pathlib import Path
from typing import IO

import structlog
from lxml import etree
from lxml.builder import ElementMaker
from lxml.html import builder as _builder
from lxml.html import tostring

from scrubber import __version__
from scrubber.atomic import AtomicFile
from scrubber.findings import SEVERITY_ORDER, Finding
from scrubber.report.ackcodes import ack_meaning, quoted_999_codes
from scrubber.report.explain import (
    MASK,
    DxView,
    claim_date,
    claim_diagnoses,
    claim_hierarchy_segments,
    element_names,
    load_icd,
    masked_indexes,
    parse_ref,
    shown_id,
    pointer_links,
)
from scrubber.report.outcome import ClaimOutcome, FileOutcome
from scrubber.report.sink import Sink
from scrubber.report.xmlsafe import xml_any, xml_text
from scrubber.rules import REGISTRY

log = structlog.get_logger("scrubber")


class _SafeBuilder:
    """``lxml.html.builder`` whose every text and attribute value is made XML-safe first."""

    def __init__(self, inner):
        self._inner = inner

    def __getattr__(self, name: str):
        target = getattr(self._inner, name)
        if isinstance(target, ElementMaker):
            return _SafeBuilder(target)
        if not callable(target) or name == "CLASS":
            return target

        def make(*children, **attrs):
            return target(*[xml_any(c) for c in children], **{k: xml_any(v) for k, v in attrs.items()})

        return make


E = _SafeBuilder(_builder)


def _sub(parent, tag: str, attrs: dict | None = None, text: str | None = None):
    """``etree.SubElement`` with XML-safe attributes and text."""
    el = etree.SubElement(parent, tag, {k: xml_text(str(v)) for k, v in (attrs or {}).items()})
    if text is not None:
        el.text = xml_text(text)
    return el


PLACEHOLDER = "CLAIM-SECTIONS"
MAX_SECTIONS = 300  # rejected claims drawn in detail; the others are listed (the page stays small)
MAX_WARNED = 100  # accepted claims with warnings drawn in detail
INDEX_CAP = 100  # claim ids listed under each rule, transaction set and payer
MAX_GROUPS = 1000  # transaction sets and payers counted one by one (the rest as "others")
INDEX_PLACEHOLDER = "CLAIM-INDEX"
WARNED_PLACEHOLDER = "WARNED-INDEX"

CSS = """
:root { --ink:#1d2430; --muted:#5b6575; --line:#dde2ea; --bg:#f6f8fb; --ok:#1f8a4c; --bad:#c62828;
        --warn:#b26a00; --accent:#2f5fb3; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
       color:var(--ink); background:var(--bg); }
header.top { background:#1f2a3c; color:#fff; padding:18px 28px; }
header.top h1 { margin:0 0 4px; font-size:22px; font-weight:600; }
header.top p { margin:0; color:#c9d3e3; font-size:13px; }
main { max-width:1180px; margin:0 auto; padding:20px 28px 40px; }
h2 { font-size:18px; margin:28px 0 10px; }
h3 { font-size:16px; margin:0; }
h4 { font-size:13px; text-transform:uppercase; letter-spacing:.04em; color:var(--muted); margin:18px 0 6px; }
.cards { display:flex; gap:12px; flex-wrap:wrap; }
.card { background:#fff; border:1px solid var(--line); border-radius:8px; padding:12px 16px; min-width:130px; }
.card .n { font-size:26px; font-weight:700; }
.card .l { color:var(--muted); font-size:12px; text-transform:uppercase; letter-spacing:.04em; }
.card.ok .n { color:var(--ok); } .card.bad .n { color:var(--bad); } .card.warn .n { color:var(--warn); }
.panel { background:#fff; border:1px solid var(--line); border-radius:8px; padding:14px 18px; margin-top:14px; }
.badge { display:inline-block; padding:1px 8px; border-radius:10px; font-size:12px; font-weight:600;
         vertical-align:middle; color:#fff; background:var(--muted); }
.badge.rejected, .badge.error, .badge.unusable, .badge.rejections { background:var(--bad); }
.badge.accepted, .badge.clean { background:var(--ok); }
.badge.warning { background:var(--warn); }
.badge.info, .badge.not_checked { background:var(--accent); }
table { border-collapse:collapse; width:100%; }
th, td { text-align:left; padding:5px 8px; border-bottom:1px solid var(--line); vertical-align:top; }
th { font-size:12px; color:var(--muted); font-weight:600; }
code, pre, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "Liberation Mono", monospace; font-size:12.5px; }
section.claim { background:#fff; border:1px solid var(--line); border-left:4px solid var(--bad); border-radius:8px;
                padding:14px 18px; margin:16px 0; }
section.claim .meta { color:var(--muted); margin:4px 0 0; font-size:13px; }
pre.segments { background:#fbfcfe; border:1px solid var(--line); border-radius:6px; padding:10px 12px; overflow-x:auto; margin:0; }
pre.segments .pos { color:#98a2b3; display:inline-block; width:4.5em; }
pre.segments .loop { color:var(--accent); display:inline-block; width:6em; }
pre.segments .hit { background:#fff3f3; display:block; }
pre.segments mark { background:#ffd7d7; color:var(--bad); font-weight:700; border-radius:3px; padding:0 2px;
                    outline:1px solid #f0a0a0; }
pre.segments .masked { color:#98a2b3; }
ul.index { columns:3; padding-left:18px; }
.chart text { font-size:12px; fill:var(--ink); }
.muted { color:var(--muted); }
a { color:var(--accent); }
footer { color:var(--muted); font-size:12px; margin-top:30px; }
.scroll { overflow-x:auto; max-width:100%; }
svg.pointers, svg.chart { max-width:100%; height:auto; display:block; }
details.claim { background:#fff; border:1px solid var(--line); border-left:4px solid var(--bad); border-radius:8px;
                padding:8px 14px; margin:10px 0; }
details.claim.accepted { border-left-color:var(--warn); }
details.claim > summary { cursor:pointer; }
details.claim > summary h3 { display:inline; font-size:15px; }
details.claim[open] > summary { margin-bottom:8px; }
details.segs > summary { cursor:pointer; color:var(--accent); margin:12px 0 6px; }
pre.segments mark.warning { background:#fff1d6; color:var(--warn); outline-color:#e8c27a; }
pre.segments .hit.warning { background:#fffaf0; }
.sev-error { color:var(--bad); } .sev-warning { color:var(--warn); } .sev-info, .sev-not_checked { color:var(--accent); }
details.group { margin:4px 0; } details.group > summary { cursor:pointer; }
ul.ids { columns:3; padding-left:18px; margin:6px 0; }
@media (max-width: 900px) { ul.index, ul.ids { columns:1; } main { padding:12px; } th, td { padding:4px 5px; }
  .card { min-width:100px; } }
section.rule { border-top:1px solid var(--line); padding:8px 0; }
section.rule pre { white-space:pre-wrap; }
"""


def _svg(tag: str, parent=None, text: str | None = None, **attrs) -> etree._Element:
    attrs = {k.rstrip("_").replace("_", "-"): xml_text(str(v)) for k, v in attrs.items()}
    el = etree.SubElement(parent, tag, attrs) if parent is not None else etree.Element(tag, attrs)
    if text is not None:
        el.text = xml_text(text)
    return el


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "\u2026"


def bar_chart(counts: list[tuple[str, int, str]]) -> etree._Element:
    """Horizontal bars: (label, count, severity) each."""
    row, label_w, bar_w = 26, 330, 360
    height = max(1, len(counts)) * row + 8
    svg = _svg("svg", None, xmlns="http://www.w3.org/2000/svg", width=label_w + bar_w + 60, height=height,
               viewBox=f"0 0 {label_w + bar_w + 60} {height}", role="img", class_="chart")
    _svg("title", svg, "Findings by rule")
    top = max((c for _, c, _ in counts), default=1) or 1
    colours = {"error": "#c62828", "warning": "#b26a00"}
    for i, (label, count, severity) in enumerate(counts):
        y = 4 + i * row
        _svg("text", svg, _short(label, 52), x=0, y=y + 16)
        w = max(2, round(bar_w * count / top))
        _svg("rect", svg, x=label_w, y=y + 3, width=w, height=row - 8, rx=3, fill=colours.get(severity, "#2f5fb3"))
        _svg("text", svg, str(count), x=label_w + w + 6, y=y + 16)
    return svg


def pointer_svg(lines, dxs: list[DxView], dx_by_pos: dict[int, DxView], anchor: str) -> etree._Element:
    """Service lines (left) linked to diagnosis positions (right); broken links in red, dashed."""
    row, box_h = 34, 24
    links_by_line = [(line, pointer_links(line, dx_by_pos)) for line in lines]
    numeric = [int(link.pointer) for _, links in links_by_line for link in links
               if link.pointer.isdigit() and 1 <= int(link.pointer) <= 12]
    n_dx = max([d.position for d in dxs] + numeric + [0])
    nowhere = any(link.target is None and not (link.pointer.isdigit() and 1 <= int(link.pointer) <= 12)
                  for _, links in links_by_line for link in links)
    right_rows = n_dx + (1 if nowhere else 0)
    height = max(len(lines), right_rows, 1) * row + 10
    width = 760
    lx, lw, rx, rw = 4, 230, 440, 316
    svg = _svg("svg", None, xmlns="http://www.w3.org/2000/svg", width=width, height=height,
               viewBox=f"0 0 {width} {height}", role="img", class_="pointers")
    _svg("title", svg, "Diagnosis pointers: service lines to diagnosis positions")
    defs = _svg("defs", svg)
    for name, colour in (("ok", "#1f8a4c"), ("bad", "#c62828"), ("warn", "#b26a00")):
        marker = _svg("marker", defs, id=f"{anchor}-arrow-{name}", viewBox="0 0 10 10", refX=9, refY=5,
                      markerWidth=7, markerHeight=7, orient="auto-start-reverse")
        _svg("path", marker, d="M 0 0 L 10 5 L 0 10 z", fill=colour)

    def right_y(pos: int) -> int:
        return 5 + (pos - 1) * row

    for pos in range(1, n_dx + 1):
        d = dx_by_pos.get(pos)
        y = right_y(pos)
        filled = d is not None and d.status != "empty"
        ok = filled and d.ok
        _svg("rect", svg, x=rx, y=y, width=rw, height=box_h, rx=4,
             fill="#eef7f1" if ok else "#fdecec", stroke="#1f8a4c" if ok else "#c62828",
             stroke_dasharray="0" if filled else "4 3")
        label = f"{pos} \u00b7 {d.shown} {d.title}" if filled else f"{pos} \u00b7 (empty: no diagnosis here)"
        if filled and not d.ok:
            label = f"{pos} \u00b7 {d.shown} {d.status.replace('_', ' ')}"
        _svg("text", svg, _short(label, 44), x=rx + 8, y=y + 16, font_size=12,
             font_family="ui-monospace, Menlo, Consolas, monospace")
    if nowhere:
        y = right_y(n_dx + 1)
        _svg("rect", svg, x=rx, y=y, width=rw, height=box_h, rx=4, fill="#fdecec", stroke="#c62828",
             stroke_dasharray="4 3")
        _svg("text", svg, "not a position (pointer is not 1-12)", x=rx + 8, y=y + 16, font_size=12)

    for i, (line, links) in enumerate(links_by_line):
        y = 5 + i * row
        broken = any(link.target is None for link in links) or not links
        _svg("rect", svg, x=lx, y=y, width=lw, height=box_h, rx=4, fill="#fdecec" if broken else "#f2f5fa",
             stroke="#c62828" if broken else "#9aa7bb")
        _svg("text", svg, _short(f"line {line.number} \u00b7 {line.procedure or '?'} \u00b7 SV107 {':'.join(line.pointers) or 'absent'}", 34),
             x=lx + 8, y=y + 16, font_size=12, font_family="ui-monospace, Menlo, Consolas, monospace")
        for link in links:
            if link.target is not None and not link.target.ok:  # reaches a code not valid that day
                ty, colour, dash, arrow = right_y(link.target.position), "#b26a00", "0", "warn"
            elif link.target is not None:
                ty, colour, dash, arrow = right_y(link.target.position), "#1f8a4c", "0", "ok"
            elif link.pointer.isdigit() and 1 <= int(link.pointer) <= 12:
                ty, colour, dash, arrow = right_y(int(link.pointer)), "#c62828", "5 4", "bad"
            else:
                ty, colour, dash, arrow = right_y(n_dx + 1), "#c62828", "5 4", "bad"
            x1, y1, x2, y2 = lx + lw, y + box_h / 2, rx - 2, ty + box_h / 2
            mid = (x1 + x2) / 2
            path = _svg("path", svg, d=f"M {x1} {y1} C {mid} {y1}, {mid} {y2}, {x2} {y2}", fill="none",
                        stroke=colour, stroke_width=2, stroke_dasharray=dash, marker_end=f"url(#{anchor}-arrow-{arrow})")
            _svg("title", path, f"line {line.number} {link.ref} pointer {link.pointer or '(empty)'} -> "
                 + (f"diagnosis {link.target.position} {link.target.shown}" if link.target else link.problem))
    return svg


def _severity_badge(severity: str):
    return E.SPAN(severity, E.CLASS(f"badge {severity}"))


def by_severity(findings) -> list[Finding]:
    """Findings with the errors first, then warnings, info, not_checked (file order within each)."""
    return sorted(findings, key=lambda f: SEVERITY_ORDER.get(f.severity, 9))


def rule_link(code: str):
    """A rule code linked to its documentation on the page (the "Rules" section)."""
    rule = REGISTRY.get(code)
    return E.A(E.CODE(code), href=f"#rule-{code}", title=rule.name if rule else code)


def _ack_cell(f: Finding):
    if not f.ack:
        return E.TD("-")
    meaning = ack_meaning(str(f.ack))
    return E.TD(E.CODE(str(f.ack)), E.BR(), E.SPAN(meaning, E.CLASS("muted"))) if meaning else E.TD(E.CODE(str(f.ack)))


def _message_cell(f: Finding):
    quoted = quoted_999_codes(f.message)
    if not quoted:
        return E.TD(f.message)
    return E.TD(f.message, *[E.DIV(E.CLASS("muted"), f"{kind} {code}: {meaning}") for kind, code, meaning in quoted])


def findings_table(findings: list[Finding]):
    rows = [E.TR(E.TH("rule"), E.TH("severity"), E.TH("where"), E.TH("value"), E.TH("message"), E.TH("277CA"))]
    for f in by_severity(findings):
        rows.append(E.TR(
            E.TD(rule_link(f.rule)),
            E.TD(_severity_badge(f.severity)),
            E.TD(E.CODE(f.where() or "-")),
            E.TD(E.CODE(f.value if f.value not in (None, "") else "-")),
            _message_cell(f),
            _ack_cell(f),
        ))
    return E.DIV(E.CLASS("scroll"), E.TABLE(E.CLASS("findings"), *rows))


def _append_text(parent, text: str) -> None:
    """Append text after the last child of ``parent`` (or as its text)."""
    text = xml_text(text)
    if len(parent):
        last = parent[-1]
        last.tail = (last.tail or "") + text
    else:
        parent.text = (parent.text or "") + text


def _mark(parent, text: str, title: str, severity: str = "error") -> None:
    attrs = {"title": xml_text(title)}
    if severity != "error":
        attrs["class"] = "warning" if severity == "warning" else "note"
    m = etree.SubElement(parent, "mark", attrs)
    m.text = xml_text(text)


def segments_block(claim, findings: list[Finding]):
    """The claim's raw segments (masked), the faulty elements marked.

    Plain lxml.etree elements with separators as text (few elements: the page of a large file
    stays quick to build); the HTML serializer escapes every value.
    """
    names = element_names()
    hits: dict[int, list[Finding]] = {}
    for f in sorted(findings, key=lambda f: SEVERITY_ORDER.get(f.severity, 9)):  # an error's mark wins
        if f.position is not None:
            hits.setdefault(f.position, []).append(f)
    pre = etree.Element("pre", {"class": "segments"})
    for seg in claim_hierarchy_segments(claim):
        seg_hits = hits.get(seg.position, ()) if seg.position is not None else ()
        if not seg_hits:
            # a segment without findings: position, loop and masked text, three elements
            line = etree.SubElement(pre, "span", {"class": "segline"})
            pos = etree.SubElement(line, "span", {"class": "pos"})
            pos.text = f"#{seg.position}" if seg.position is not None else ""
            lp = etree.SubElement(line, "span", {"class": "loop"})
            lp.text = xml_text(seg.loop or "")
            b = etree.SubElement(line, "b")
            b.text = xml_text(shown_id(seg.id))
            hide = masked_indexes(seg)
            d = seg.delims
            for i in range(1, len(seg.elements)):
                value = seg.elements[i]
                _append_text(line, d.element)
                if i in hide and value:
                    m = etree.SubElement(line, "span", {"class": "masked"})
                    m.text = MASK
                elif value:
                    _append_text(line, value)
            _append_text(line, (d.segment if d.segment not in "\r\n" else "") + "\n")
            continue
        worst = min((SEVERITY_ORDER.get(f.severity, 9) for f in seg_hits), default=0)
        line = etree.SubElement(pre, "span", {"class": "hit" if worst == 0 else "hit warning"})
        pos = etree.SubElement(line, "span", {"class": "pos"})
        pos.text = f"#{seg.position}"
        lp = etree.SubElement(line, "span", {"class": "loop"})
        lp.text = xml_text(seg.loop or "")
        marks: dict[tuple[int, int | None], Finding] = {}
        for f in seg_hits:
            ref = parse_ref(f.element, f.segment)
            if ref is not None:
                marks.setdefault(ref, f)
        hide = masked_indexes(seg)
        d = seg.delims
        b = etree.SubElement(line, "b")
        b.text = xml_text(shown_id(seg.id))
        qualifier = seg.el(1)
        for i in range(1, len(seg.elements)):
            value = seg.elements[i]
            _append_text(line, d.element)
            ref = f"{seg.id}{i:02d}"
            title = f"{ref} {names.name(seg.loop, qualifier, ref)}"
            if i in hide and value:
                _sub(line, "span", {"class": "masked", "title": f"{title} (masked)"}, MASK)
                continue
            whole = marks.get((i, None))
            comp_marks = {j: f for (k, j), f in marks.items() if k == i and j is not None}
            if comp_marks:
                parts = value.split(d.component) if value else [""]
                holder = _sub(line, "span", {"class": "el", "title": title})
                for j, part in enumerate(parts, start=1):
                    if j > 1:
                        _append_text(holder, d.component)
                    f = comp_marks.get(j)
                    if f is not None:
                        _mark(holder, part or "\u2205", f"{f.rule} {ref}-{j}: {f.message}", f.severity)
                    else:
                        _append_text(holder, part)
                # a pointer past the last component (SV107-3 absent) is marked at the end
                for j in sorted(k for k in comp_marks if k > len(parts)):
                    f = comp_marks[j]
                    _mark(holder, "\u2205", f"{f.rule} {ref}-{j}: {f.message}", f.severity)
            elif whole is not None:
                _mark(line, value or "\u2205", f"{whole.rule} {ref}: {whole.message}", whole.severity)
            else:
                _append_text(line, value)  # (only the marked elements carry their name: the page stays small)
        # a finding on an element the segment does not carry (e.g. a missing SV107): mark the end
        for (i, _j), f in marks.items():
            if i >= len(seg.elements):
                _mark(line, f"\u2205 {f.element}", f"{f.rule} {f.element}: {f.message}", f.severity)
        if not marks:
            _mark(line, " \u25c0 " + ", ".join(sorted({f.rule for f in seg_hits})),
                  "; ".join(f"{f.rule}: {f.message}" for f in seg_hits), "error" if worst == 0 else "warning")
        _append_text(line, (d.segment if d.segment not in "\r\n" else "") + "\n")
    return pre


class _Group:
    """Counts of one rule, transaction set or payer, and the first claims (ids and anchors)."""

    __slots__ = ("claims", "rejected", "warned", "findings", "ids")

    def __init__(self):
        self.claims = self.rejected = self.warned = self.findings = 0
        self.ids: list[tuple[str, str | None]] = []

    def add(self, claim_id: str, anchor: str | None, status: str, warned: bool, cap: int, findings: int = 0) -> None:
        self.claims += 1
        self.findings += findings
        self.rejected += status == "rejected"
        self.warned += warned and status != "rejected"
        if len(self.ids) < cap:
            self.ids.append((claim_id, anchor))


class HtmlReport(Sink):
    """Writing ``NAME.report.html``; optionally echoing it to a stream."""

    def __init__(self, path: Path, as_of: date, stream: IO[str] | None = None, mode: int = 0o600,
                 max_sections: int = MAX_SECTIONS, max_warned: int = MAX_WARNED, index_cap: int = INDEX_CAP):
        self.max_sections = max_sections
        self.max_warned = max_warned
        self.index_cap = index_cap
        self.path = Path(path)
        self.as_of = as_of
        self.stream = stream
        self.mode = mode
        self._spool: IO[str] | None = None
        self._index: IO[str] | None = None
        self._n = 0  # rejected claims seen
        self._w = 0  # accepted claims with warnings seen
        self._drawn = 0
        self._icd = None
        self._rules: dict[str, _Group] = {}
        self._rule_sev: Counter = Counter()
        self._tx: dict[tuple[str, str, str], _Group] = {}
        self._payers: dict[str, _Group] = {}
        self._acks: Counter = Counter()

    def start(self, outcome: FileOutcome) -> None:
        self._spool = tempfile.TemporaryFile("w+", encoding="utf-8")
        self._index = tempfile.TemporaryFile("w+", encoding="utf-8")
        self._warned = tempfile.TemporaryFile("w+", encoding="utf-8")
        self._n = self._w = self._drawn = 0

    def _group(self, table: dict, key, other) -> _Group:
        g = table.get(key)
        if g is None:
            if len(table) >= MAX_GROUPS:
                key = other
                g = table.get(key)
            if g is None:
                g = table[key] = _Group()
        return g

    def claim(self, result: ClaimOutcome) -> None:
        try:
            self._claim(result)
        except Exception as exc:  # noqa: BLE001 - the page never changes a verdict or stops a run
            log.error("html claim failed", error=type(exc).__name__)

    def _claim(self, result: ClaimOutcome) -> None:
        claim = result.claim
        warned = any(f.severity == "warning" for f in result.findings)
        rejected = result.status == "rejected"
        anchor = None
        if rejected:
            self._n += 1
            anchor = f"claim-{self._n}" if self._n <= self.max_sections else None
        elif warned:
            self._w += 1
            anchor = f"warned-{self._w}" if self._w <= self.max_warned else None
        for f in result.findings:
            self._rule_sev[(f.rule, f.severity)] += 1
            if f.ack and f.severity == "error":
                self._acks[str(f.ack)] += 1
        for code, n in Counter(f.rule for f in result.findings).items():
            self._group(self._rules, code, "others").add(claim.claim_id, anchor, result.status, warned,
                                                          self.index_cap, n)
        tx_key = (claim.interchange_control, claim.group_control, claim.transaction_control)
        self._group(self._tx, tx_key, ("others", "", "")).add(claim.claim_id, anchor, result.status, warned, 0)
        payer = claim.payer_id or "(none)"
        self._group(self._payers, payer, "(others)").add(claim.claim_id, anchor, result.status, warned, 0)
        if not rejected and not warned:
            return
        if self._icd is None:
            self._icd = load_icd() or False
        kinds = ("error",) if rejected else ("warning",)
        rules = ", ".join(sorted({f.rule for f in result.findings if f.severity in kinds}))
        if anchor is not None:
            try:
                section = self.claim_section(result, anchor, self._icd or None)
            except Exception as exc:  # noqa: BLE001
                log.error("html section failed", error=type(exc).__name__)
                section = E.SECTION(E.CLASS(f"claim {result.status}"), E.H3("Claim ", E.CODE(claim.claim_id)),
                                    E.P(f"This claim's section could not be drawn ({type(exc).__name__}); please report it."),
                                    findings_table(result.findings), id=anchor)
            self._spool.write(tostring(section, encoding="unicode"))
            self._spool.write("\n")
            li = E.LI(E.A(E.CODE(claim.claim_id), href=f"#{anchor}"), " ", E.SPAN(rules, E.CLASS("muted")))
        else:
            li = E.LI(E.CODE(claim.claim_id), " ", E.SPAN(rules, E.CLASS("muted")))
        (self._index if rejected else self._warned).write(tostring(li, encoding="unicode") + "\n")

    def claim_section(self, result: ClaimOutcome, anchor: str, icd):
        claim = result.claim
        when = claim_date(claim)
        dxs = claim_diagnoses(claim, icd, when)
        dx_by_pos = {d.position: d for d in dxs}
        dx_rows = [E.TR(E.TH("position"), E.TH("element"), E.TH("code"), E.TH("title"), E.TH("status"))]
        for d in dxs:
            dx_rows.append(E.TR(
                E.TD(str(d.position), id=f"{anchor}-dx{d.position}"), E.TD(E.CODE(d.ref)),
                E.TD(E.CODE(d.shown or "(empty)")), E.TD(d.title or "-"),
                E.TD(E.SPAN(d.status.replace("_", " "), E.CLASS("badge " + ("accepted" if d.status == "billable" else "error" if not d.ok else "info"))),
                     " ", E.SPAN(d.note, E.CLASS("muted"))),
            ))
        line_rows = [E.TR(E.TH("line"), E.TH("procedure"), E.TH("pointer"), E.TH("reaches"))]
        for line in claim.lines:
            links = pointer_links(line, dx_by_pos)
            if not links:
                line_rows.append(E.TR(E.TD(str(line.number)), E.TD(E.CODE(line.procedure or "-")), E.TD("SV107 absent"),
                                      E.TD(E.SPAN("no diagnosis", E.CLASS("badge error")))))
            for link in links:
                if link.target is not None:
                    reach = E.TD(E.A(f"diagnosis {link.target.position}", href=f"#{anchor}-dx{link.target.position}"),
                                 " ", E.CODE(link.target.shown), " ", link.target.title)
                else:
                    reach = E.TD(E.SPAN("broken", E.CLASS("badge error")), f" pointer {link.pointer or '(empty)'} \u2192 {link.problem}")
                line_rows.append(E.TR(E.TD(str(line.number)), E.TD(E.CODE(line.procedure or "-")),
                                      E.TD(E.CODE(f"{link.ref} = {link.pointer}")), reach))
        kinds = ("error",) if result.status == "rejected" else ("warning",)
        rules = sorted({f.rule for f in result.findings if f.severity in kinds})
        summary = E.SUMMARY(
            E.H3("Claim ", E.CODE(claim.claim_id), " ", E.SPAN(result.status, E.CLASS(f"badge {result.status}")),
                 *([] if result.status == "rejected" else [" ", E.SPAN("warnings", E.CLASS("badge warning"))])),
            " ", E.SPAN(", ".join(rules), E.CLASS("muted")),
        )
        return E.SECTION(
            E.CLASS(f"claim {result.status}"),
            E.DETAILS(
                E.CLASS(f"claim {result.status}"),
                summary,
                E.P(E.CLASS("meta"),
                    f"ISA13 {claim.interchange_control} \u00b7 GS06 {claim.group_control} \u00b7 ST02 {claim.transaction_control}"
                    f" \u00b7 payer {claim.payer_id or '-'} \u00b7 CLM at #{claim.clm.position} \u00b7 charge {claim.charge}"
                    f" \u00b7 {len(claim.lines)} service lines \u00b7 date of service {when.isoformat() if when else 'unknown'}"),
                E.H4("Findings"),
                findings_table(result.findings),
                E.H4("Pointer map"),
                E.DIV(E.CLASS("scroll"), pointer_svg(claim.lines, dxs, dx_by_pos, anchor)),
                E.DIV(E.CLASS("scroll"), E.TABLE(*dx_rows)),
                E.DIV(E.CLASS("scroll"), E.TABLE(*line_rows)),
                E.DETAILS(E.CLASS("segs"), E.SUMMARY("Segments (personal values masked)"),
                          E.DIV(E.CLASS("scroll"), segments_block(claim, result.findings))),
            ),
            id=anchor,
        )

    def _ids(self, g: _Group):
        items = [E.LI(E.A(E.CODE(cid), href=f"#{anchor}") if anchor else E.CODE(cid)) for cid, anchor in g.ids]
        more = [E.P(f"\u2026 and {g.claims - len(g.ids)} more (all in the JSON report and --format csv)", E.CLASS("muted"))] \
            if g.claims > len(g.ids) else []
        return [E.UL(E.CLASS("ids"), *items), *more]

    def _indexes(self, outcome: FileOutcome) -> list:
        """By rule (each with its claims), by transaction set, by payer: counts and links, no script."""
        out = []
        if self._rules:
            rows = []
            ordered = sorted(self._rules.items(), key=lambda kv: (min(
                (SEVERITY_ORDER.get(sev, 9) for (code, sev) in self._rule_sev if code == kv[0]), default=9),
                -kv[1].claims, kv[0]))
            for code, g in ordered:
                rule = REGISTRY.get(code)
                sevs = sorted(((sev, n) for (c, sev), n in self._rule_sev.items() if c == code),
                              key=lambda item: SEVERITY_ORDER.get(item[0], 9))
                spans = []
                for i, (sev, n) in enumerate(sevs):
                    if i:
                        spans.append(", ")
                    spans.append(E.SPAN(f"{n} {sev}", E.CLASS(f"sev-{sev}")))
                label = [rule_link(code), " ", rule.name if rule else "", " \u00b7 ", *spans,
                         f" \u00b7 {g.claims} claim{'s' if g.claims != 1 else ''}"]
                rows.append(E.DETAILS(E.CLASS("group"), E.SUMMARY(*label), *self._ids(g), id=f"by-rule-{code}"))
            out.append(E.DIV(E.CLASS("panel"), E.H4("Claims by rule"), *rows))
        for title, table, head in (("By transaction set", self._tx, ("ISA13", "GS06", "ST02")),
                                   ("By payer", self._payers, ("payer (2010BB NM109)",))):
            if not table:
                continue
            rows = [E.TR(*[E.TH(h) for h in head], E.TH("claims"), E.TH("rejected"), E.TH("accepted with warnings"))]
            for key, g in sorted(table.items(), key=lambda kv: (-kv[1].rejected, str(kv[0])))[:MAX_GROUPS]:
                keys = key if isinstance(key, tuple) else (key,)
                rows.append(E.TR(*[E.TD(E.CODE(k)) for k in keys], E.TD(str(g.claims)), E.TD(str(g.rejected)),
                                 E.TD(str(g.warned))))
            out.append(E.DIV(E.CLASS("panel"), E.H4(title), E.DIV(E.CLASS("scroll"), E.TABLE(*rows))))
        return out

    def _rule_docs(self) -> list:
        codes = sorted({code for code, _ in self._rule_sev} | {f.rule for f in self._top})
        if not codes:
            return []
        sections = [E.H2("Rules on this page")]
        for code in codes:
            rule = REGISTRY.get(code)
            if rule is None:
                sections.append(E.SECTION(E.CLASS("rule"), E.H4(code), id=f"rule-{code}"))
                continue
            found = ", ".join(f"{n} {sev}" for (c, sev), n in sorted(self._rule_sev.items()) if c == code)
            sections.append(E.SECTION(
                E.CLASS("rule"),
                E.H3(E.CODE(code), " ", rule.name, " ", _severity_badge(rule.severity), E.SPAN(" default", E.CLASS("muted"))),
                E.P(rule.summary, *([E.SPAN(f" \u00b7 found here: {found}", E.CLASS("muted"))] if found else [])),
                E.DETAILS(E.SUMMARY("Documentation"), E.PRE(rule.docs())),
                id=f"rule-{code}",
            ))
        if self._acks:
            rows = [E.TR(E.TH("277CA code"), E.TH("meaning"), E.TH("findings"))]
            for code, n in sorted(self._acks.items()):
                rows.append(E.TR(E.TD(E.CODE(code)), E.TD(ack_meaning(code) or "-"), E.TD(str(n))))
            sections.append(E.DIV(E.CLASS("panel"), E.H4("Acknowledgment codes a payer would send"),
                                  E.DIV(E.CLASS("scroll"), E.TABLE(*rows))))
        return sections

    def page(self, outcome: FileOutcome):
        self._top = list(outcome.findings)
        for f in self._top:
            if isinstance(f, Finding):
                self._rule_sev[(f.rule, f.severity)] += 1
        ranked = sorted(self._rule_sev.items(), key=lambda kv: (SEVERITY_ORDER.get(kv[0][1], 9), -kv[1], kv[0][0]))
        counts = []
        for (code, sev), n in ranked:
            rule = REGISTRY.get(code)
            counts.append((f"{code} {rule.name}" if rule else code, n, sev))
        warned = self._w
        cards = E.DIV(
            E.CLASS("cards"),
            *[E.DIV(E.CLASS(f"card {cls}"), E.DIV(str(n), E.CLASS("n")), E.DIV(label, E.CLASS("l")))
              for label, n, cls in (("claims", outcome.claims, ""), ("accepted", outcome.accepted, "ok"),
                                    ("rejected", outcome.rejected, "bad"), ("errors", outcome.errors, "bad"),
                                    ("warnings", outcome.warnings, "warn"))],
        )
        summary = [E.H2("Summary"), cards]
        if warned:
            summary.append(E.P(f"{warned} accepted claim{'s' if warned != 1 else ''} with warnings "
                               "(they go out; a payer may question them): ", E.A("listed below", href="#warned"), "."))
        if outcome.unusable:
            summary.append(E.DIV(E.CLASS("panel"), E.STRONG("Unusable input: "), outcome.unusable,
                                 E.P("None of its claims reaches a clean file.", E.CLASS("muted"))))
        if counts:
            rule_rows = [E.TR(E.TH("rule"), E.TH("name"), E.TH("severity (as found)"), E.TH("findings"))]
            for (code, sev), n in ranked:
                rule = REGISTRY.get(code)
                rule_rows.append(E.TR(E.TD(rule_link(code)), E.TD(rule.name if rule else "-"),
                                      E.TD(_severity_badge(sev)), E.TD(str(n))))
            summary.append(E.DIV(E.CLASS("panel"), E.H4("Findings by rule"), bar_chart(counts),
                                 E.DIV(E.CLASS("scroll"), E.TABLE(*rule_rows))))
        summary.extend(self._indexes(outcome))
        if outcome.findings:
            summary.append(E.DIV(E.CLASS("panel"), E.H4("Interchange, group and transaction findings"),
                                 findings_table(outcome.findings)))
        rejected = [E.H2(f"Rejected claims ({outcome.rejected})", id="rejected")]
        if self._n > self.max_sections:
            rejected.append(E.P(f"The first {self.max_sections} rejected claims are drawn in detail; the other "
                                f"{self._n - self.max_sections} are listed here, with their findings in the JSON report and --format csv.",
                                E.CLASS("muted")))
        if self._n:
            rejected.append(E.DIV(E.CLASS("panel"), E.UL(E.CLASS("index"), etree.Comment(INDEX_PLACEHOLDER))))
        else:
            rejected.append(E.P("No claim rejected.", E.CLASS("muted")))
        if warned:
            rejected.append(E.H2(f"Accepted claims with warnings ({warned})", id="warned"))
            if warned > self.max_warned:
                rejected.append(E.P(f"The first {self.max_warned} are drawn in detail; the other "
                                    f"{warned - self.max_warned} are listed here.", E.CLASS("muted")))
            rejected.append(E.DIV(E.CLASS("panel"), E.UL(E.CLASS("index"), etree.Comment(WARNED_PLACEHOLDER))))
        status = outcome.status
        head = E.HEAD(
            E.META(charset="utf-8"),
            E.META(name="viewport", content="width=device-width, initial-scale=1"),
            E.LINK(rel="icon", href="data:,"),
            E.TITLE(f"Scrub report: {outcome.name}"),
            E.STYLE(CSS),
        )
        body = E.BODY(
            etree.Element("header", {"class": "top"}),
            E.E.main(*summary, *rejected, E.H2("Claims in detail"), etree.Comment(PLACEHOLDER),
                     *self._rule_docs(), etree.Element("footer")),
        )
        top = body[0]
        top.append(E.H1("Scrub report: ", outcome.name, " ", E.SPAN(status, E.CLASS(f"badge {status}"))))
        top.append(E.P(f"as of {self.as_of.isoformat()} \u00b7 sha256 {outcome.sha256[:16]}\u2026 \u00b7 {outcome.size} bytes"
                       f" \u00b7 x12-scrubber {__version__} \u00b7 005010X222A1"))
        footer = body[1][-1]
        footer.text = ("Names, member ids, birth dates and addresses are masked. Element names from the 005010X222A1 "
                       "implementation guide; diagnosis titles and status from the CMS ICD-10-CM tables; "
                       "acknowledgment code meanings are short paraphrases.")
        return E.HTML(head, body, lang="en")

    def finish(self, outcome: FileOutcome) -> None:
        try:
            html = tostring(self.page(outcome), encoding="unicode", doctype="<!DOCTYPE html>")
        except Exception as exc:  # noqa: BLE001 - a page that cannot be drawn still says why, in one line
            log.error("html page failed", error=type(exc).__name__)
            html = ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Scrub report</title></head>"
                    f"<body><p>The page could not be drawn ({type(exc).__name__}); the JSON report has every finding.</p>"
                    f"<!--{INDEX_PLACEHOLDER}--><!--{WARNED_PLACEHOLDER}--><!--{PLACEHOLDER}--></body></html>\n")
        rest = html
        with AtomicFile(self.path, "w", self.mode, encoding="utf-8") as out:
            for marker, spool in ((INDEX_PLACEHOLDER, self._index), (WARNED_PLACEHOLDER, self._warned),
                                  (PLACEHOLDER, self._spool)):
                before, found, after = rest.partition(f"<!--{marker}-->")
                if not found:  # (no rejected claim, no warned claim: nothing to put there)
                    continue
                out.write(before)
                rest = after
                spool.seek(0)
                shutil.copyfileobj(spool, out)
            out.write(rest)
        for spool in (self._spool, self._index, self._warned):
            spool.close()
        if self.stream is not None:  # the path, not the page
            self.stream.write(f"{self.path}\n")
            self.stream.flush()
