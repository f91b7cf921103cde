"""The views of a responses document: ``NAME.responses.json``, the text summary, CSV and HTML.

The text summary: the counts by payer verdict, each rejected or denied claim with its codes, the
segment the payer points at and what the scrub predicted, then a table of predicted against payer
verdicts. CSV: one row per code of each claim (a claim without codes gets one row), as the scrub
report's CSV. HTML: the same summary, and for each rejected or denied claim its segments (masked)
with the segments the payer points at highlighted (the claims are read again from the submitted
file, one at a time).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from lxml.html import builder as E
from lxml.html import tostring

from scrubber.atomic import write_text_atomic
from scrubber.findings import Finding
from scrubber.report.html import CSS, segments_block
from scrubber.responses.tie import BAD, STATUSES
from scrubber.x12.model import Claim, walk
from scrubber.x12.reader import read_segments

JSON_NAME, TEXT_NAME, CSV_NAME, HTML_NAME = "responses.json", "responses.txt", "responses.csv", "responses.html"
CSV_COLUMNS = ("claim_id", "interchange", "group", "transaction", "payer_status", "source", "code", "kind", "text",
               "line", "loop", "segment", "position", "element", "value", "predicted", "rules", "agrees")
_HTML_CLAIMS = 500  # claims shown in full on the page; the others are in the JSON and CSV


def write_json(path: Path, document: dict, mode: int = 0o600) -> Path:
    claims = document["claims"]
    head = {k: v for k, v in document.items() if k != "claims"}
    text = json.dumps(head, ensure_ascii=False)[:-1] + ', "claims": [\n'
    text += ",\n".join(json.dumps(c, ensure_ascii=False) for c in claims) + "\n]}\n"
    return write_text_atomic(path, text, mode)


def counts(document: dict) -> dict[str, int]:
    out = dict.fromkeys(STATUSES, 0)
    for c in document["claims"]:
        out[c["payer"]["status"]] += 1
    return out


def where_text(w: dict) -> str:
    parts = [p for p in (w.get("loop"), w.get("segment")) if p]
    if w.get("position") is not None:
        parts.append(f"#{w['position']}")
    if w.get("element"):
        parts.append(w["element"])
    text = " ".join(parts)
    if w.get("value"):
        text += f" = {w['value']}"
    return text


def code_text(c: dict) -> str:
    line = f" (line {c['line']})" if c.get("line") is not None else ""
    return f"{c['kind']} {c['code']}{line}" + (f": {c['text']}" if c.get("text") else "")


def text_lines(document: dict) -> list[str]:
    n = counts(document)
    claims = document["claims"]
    out = [f"{document['submitted']['name']}: {len(claims)} claims; payer verdicts: "
           + ", ".join(f"{k} {v}" for k, v in n.items() if v or k in ("accepted", "rejected"))]
    for r in document["responses"]:
        out.append(f"  {r['kind']:<5} {r['name']}: {r['matched']} matched, {len(r['unmatched'])} unmatched")
        for u in r["unmatched"]:
            out.append(f"        unmatched: {u}")
    bad = [c for c in claims if c["payer"]["status"] in BAD]
    if bad:
        out.append("")
    for c in bad:
        p = c["payer"]
        pred = c["predicted"]
        said = pred["status"] + (f" ({', '.join(pred['rules'])})" if pred["rules"] else "")
        mark = "" if c["agrees"] else "   <- the scrubber did not predict this"
        out.append(f"claim {c['claim_id']} {p['status'].upper()} by the {p['source']} "
                   f"(ISA13 {c['interchange']}, GS06 {c['group']}, ST02 {c['transaction']}); predicted {said}{mark}")
        for code in p["codes"]:
            out.append(f"    {code_text(code)}")
        for w in p["where"]:
            out.append(f"    at {where_text(w)}")
        for note in p.get("notes", ()):
            out.append(f"    note: {note}")
    missed = [c for c in claims if c["agrees"] is False and c["payer"]["status"] not in BAD]
    for c in missed:
        out.append(f"claim {c['claim_id']} {c['payer']['status'].upper()} by the {c['payer']['source']}; "
                   f"predicted rejected ({', '.join(c['predicted']['rules'])})   <- the payer took what the scrubber held back")
    out.append("")
    out.append("predicted \\ payer  " + "".join(f"{s:>9}" for s in STATUSES))
    for pred in ("accepted", "rejected"):
        row = [sum(1 for c in claims if c["predicted"]["status"] == pred and c["payer"]["status"] == s) for s in STATUSES]
        out.append(f"{pred:<18} " + "".join(f"{v:>9}" for v in row))
    return out


def csv_text(document: dict, header: bool = True) -> str:
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\r\n")
    if header:
        w.writerow(CSV_COLUMNS)
    for c in document["claims"]:
        p, pred = c["payer"], c["predicted"]
        base = [c["claim_id"], c["interchange"], c["group"], c["transaction"], p["status"], p["source"] or ""]
        tail = [pred["status"], " ".join(pred["rules"]), "" if c["agrees"] is None else str(c["agrees"]).lower()]
        where = p["where"][0] if p["where"] else {}
        rows = p["codes"] or [None]
        for code in rows:
            w_ = where
            if code is not None and code.get("line") is not None:
                w_ = next((x for x in p["where"] if x.get("segment") == "SV1"), where)
            cells = ["", "", "", ""] if code is None else [code["code"], code["kind"], code["text"],
                                                          "" if code.get("line") is None else str(code["line"])]
            loc = [w_.get("loop") or "", w_.get("segment") or "",
                   "" if w_.get("position") is None else str(w_["position"]), w_.get("element") or "",
                   w_.get("value") or ""]
            w.writerow([_cell(v) for v in base + cells + loc + tail])
    return buf.getvalue()


def _cell(value: str) -> str:
    """A cell a spreadsheet shows as text: a leading = + - @ (a formula) gets a quote."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


# ---- HTML ------------------------------------------------------------------------------------
def _findings(c: dict) -> list[Finding]:
    out = []
    texts = "; ".join(code_text(x) for x in c["payer"]["codes"])
    for w in c["payer"]["where"]:
        out.append(Finding(c["payer"]["source"] or "payer", "error", texts, w.get("loop"), w.get("segment"),
                           w.get("position"), w.get("element"), w.get("value")))
    return out


def html_page(document: dict, submitted: Path) -> str:
    claims = document["claims"]
    n = counts(document)
    show = {c["claim_id"]: c for c in claims if c["payer"]["status"] in BAD or c["agrees"] is False}
    shown = dict(list(show.items())[:_HTML_CLAIMS])
    blocks: dict[int, object] = {}
    if shown:
        index = 0
        for event in walk(read_segments(submitted)):
            if type(event) is Claim:
                c = claims[index] if index < len(claims) else None
                if c is not None and c["claim_id"] in shown and c["claim_id"] == event.claim_id:
                    blocks[index] = segments_block(event, _findings(c))
                index += 1
    rows = [E.TR(E.TH("predicted \\ payer"), *[E.TH(s) for s in STATUSES])]
    for pred in ("accepted", "rejected"):
        rows.append(E.TR(E.TH(pred), *[E.TD(str(sum(1 for c in claims if c["predicted"]["status"] == pred
                                                    and c["payer"]["status"] == s))) for s in STATUSES]))
    resp = [E.TR(E.TH("response"), E.TH("kind"), E.TH("matched"), E.TH("unmatched"))]
    for r in document["responses"]:
        resp.append(E.TR(E.TD(r["name"]), E.TD(r["kind"]), E.TD(str(r["matched"])),
                         E.TD(*[E.DIV(u) for u in r["unmatched"]])))
    sections = []
    for i, c in enumerate(claims):
        if i not in blocks:
            continue
        p, pred = c["payer"], c["predicted"]
        codes = E.TABLE(E.TR(E.TH("kind"), E.TH("code"), E.TH("line"), E.TH("what it says")),
                        *[E.TR(E.TD(x["kind"]), E.TD(x["code"]), E.TD("" if x.get("line") is None else str(x["line"])),
                               E.TD(x["text"] or "")) for x in p["codes"]])
        sections.append(E.DIV(
            E.H2(f"claim {c['claim_id']}: {p['status']} by the {p['source']}; predicted {pred['status']}"
                 + (f" ({', '.join(pred['rules'])})" if pred["rules"] else "")),
            E.P(f"ISA13 {c['interchange']}, GS06 {c['group']}, ST02 {c['transaction']}; the payer points at: "
                + ("; ".join(where_text(w) for w in p["where"]) or "-")),
            codes, blocks[i], E.CLASS("claim " + ("disagree" if c["agrees"] is False else "agree")),
        ))
    page = E.HTML(
        E.HEAD(E.META(charset="utf-8"), E.TITLE(f"payer responses: {document['submitted']['name']}"), E.STYLE(CSS)),
        E.BODY(
            E.H1(f"payer responses to {document['submitted']['name']}"),
            E.P(", ".join(f"{k} {v}" for k, v in n.items())),
            E.TABLE(*rows), E.TABLE(*resp),
            *sections,
            E.P(f"{len(show) - len(shown)} more claims are in the JSON and CSV.") if len(show) > len(shown) else E.P(""),
        ),
    )
    return tostring(page, encoding="unicode", doctype="<!DOCTYPE html>")
