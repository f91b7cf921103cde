"""Outputs for pipelines (``--format junit|sarif|github``): a scrub that runs in CI next to the
claim generator reports the way test runners and code scanners do.

- ``junit``: one JUnit XML document on standard output, a ``<testsuite>`` per input and a
  ``<testcase>`` per claim (rejected = failure, with its errors; warnings in ``system-out``); an
  unusable input is one test case in error.
- ``sarif``: one SARIF 2.1.0 log, one run for all inputs, a result per finding (rule, level,
  message, the input and the segment's byte offset, the claim as logical location).
- ``github``: one GitHub Actions workflow command a finding (``::error file=...::...``), as they
  come.

A :class:`CiOutput` is made once for the run (``begin``/``end`` frame the document) and gives one
sink per input (:meth:`CiOutput.sink`). Claims stream: each input's test cases or results are
spooled to a temporary file, never held in memory.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import IO
from xml.sax.saxutils import escape, quoteattr

from scrubber import __version__
from scrubber.findings import Finding
from scrubber.report.outcome import ClaimOutcome, FileOutcome
from scrubber.report.sink import Sink
from scrubber.report.xmlsafe import xml_text
from scrubber.rules import REGISTRY

CI_FORMATS = ("junit", "sarif", "github")
_SARIF_LEVEL = {"error": "error", "warning": "warning", "info": "note", "not_checked": "note"}
DOCS = "docs/rules/{code}.md"


def _x(text: object) -> str:
    return escape(xml_text(str(text)))


def _qa(text: object) -> str:
    return quoteattr(xml_text(str(text)))


def _line(f: Finding | dict) -> str:
    if isinstance(f, dict):
        from scrubber.report.jsonreport import finding_from_json

        f = finding_from_json(f)
    where = f.where()
    return f"{f.rule} {f.severity} {where + ': ' if where else ''}{f.message}"


class CiOutput:
    """The document of one run on ``stream`` in one of :data:`CI_FORMATS`."""

    def __init__(self, fmt: str, stream: IO[str]):
        if fmt not in CI_FORMATS:
            raise ValueError(fmt)
        self.fmt, self.stream = fmt, stream
        self._results: IO[str] | None = None
        self._rules: set[str] = set()
        self._first_result = True

    def begin(self) -> None:
        if self.fmt == "junit":
            self.stream.write('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="x12-scrubber">\n')
        elif self.fmt == "sarif":
            self._results = tempfile.TemporaryFile("w+", encoding="utf-8")

    def sink(self, path: Path) -> Sink:
        return {"junit": _Junit, "sarif": _Sarif, "github": _Github}[self.fmt](self, Path(path))

    def end(self) -> None:
        out = self.stream
        if self.fmt == "junit":
            out.write("</testsuites>\n")
        elif self.fmt == "sarif":
            rules = []
            for code in sorted(self._rules):
                rule = REGISTRY.get(code)
                entry = {"id": code, "helpUri": DOCS.format(code=code)}
                if rule is not None:
                    entry["name"] = rule.name
                    entry["shortDescription"] = {"text": rule.summary}
                    entry["defaultConfiguration"] = {"level": _SARIF_LEVEL.get(rule.severity, "note")}
                rules.append(entry)
            driver = {"name": "x12-scrubber", "version": __version__, "rules": rules,
                      "informationUri": "https://x12.org/products/transaction-sets"}
            head = {"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0"}
            text = json.dumps(head, ensure_ascii=False)[:-1]
            out.write(text + ', "runs": [{"tool": {"driver": ' + json.dumps(driver, ensure_ascii=False)
                      + '}, "results": [\n')
            self._results.seek(0)
            shutil.copyfileobj(self._results, out)
            out.write("\n]}]}\n")
            self._results.close()
        out.flush()


class _Junit(Sink):
    def __init__(self, owner: CiOutput, path: Path):
        self.owner, self.path = owner, path
        self._cases: IO[str] | None = None

    def start(self, outcome: FileOutcome) -> None:
        self._cases = tempfile.TemporaryFile("w+", encoding="utf-8")

    def claim(self, result: ClaimOutcome) -> None:
        claim = result.claim
        name = f"{claim.claim_id} (ISA13 {claim.interchange_control}, ST02 {claim.transaction_control})"
        w = self._cases.write
        w(f"    <testcase classname={_qa(self.path.name)} name={_qa(name)}>\n")
        errors = [f for f in result.findings if f.severity == "error"]
        if errors:
            rules = ", ".join(sorted({f.rule for f in errors}))
            w(f"      <failure message={_qa('rejected: ' + rules)} type=\"rejected\">"
              + _x("\n".join(_line(f) for f in errors)) + "</failure>\n")
        others = [f for f in result.findings if f.severity != "error"]
        if others:
            w("      <system-out>" + _x("\n".join(_line(f) for f in others)) + "</system-out>\n")
        w("    </testcase>\n")

    def discard(self) -> None:
        pass

    def finish(self, outcome: FileOutcome) -> None:
        out = self.owner.stream
        unusable = 1 if outcome.unusable else 0
        out.write(f"  <testsuite name={_qa(self.path.name)} tests=\"{outcome.claims + unusable}\" "
                  f"failures=\"{outcome.rejected if not unusable else 0}\" errors=\"{unusable}\" skipped=\"0\">\n")
        if unusable:
            out.write(f"    <testcase classname={_qa(self.path.name)} name=\"(input)\">\n"
                      f"      <error message={_qa('unusable: ' + outcome.unusable)} type=\"unusable\">"
                      + _x(_line(outcome.fatal) if outcome.fatal else outcome.unusable) + "</error>\n    </testcase>\n")
        else:
            top = [f for f in outcome.findings]
            if top:
                out.write(f"    <testcase classname={_qa(self.path.name)} name=\"(envelopes)\">\n"
                          "      <system-out>" + _x("\n".join(_line(f) for f in top)) + "</system-out>\n    </testcase>\n")
            self._cases.seek(0)
            shutil.copyfileobj(self._cases, out)
        self._cases.close()
        out.write("  </testsuite>\n")
        out.flush()


class _Sarif(Sink):
    def __init__(self, owner: CiOutput, path: Path):
        self.owner, self.path = owner, path

    def _result(self, f: Finding, claim_id: str | None = None) -> None:
        o = self.owner
        o._rules.add(f.rule)
        location: dict = {"physicalLocation": {"artifactLocation": {"uri": self.path.as_posix()}}}
        if f.offset is not None:
            location["physicalLocation"]["region"] = {"byteOffset": f.offset}
        names = [p for p in (f.loop, f.segment, f.element) if p]
        if claim_id is not None or names:
            location["logicalLocations"] = [{"name": claim_id or "(envelopes)",
                                             "fullyQualifiedName": " ".join([claim_id or "-"] + names)}]
        result = {"ruleId": f.rule, "level": _SARIF_LEVEL.get(f.severity, "note"),
                  "message": {"text": (f"{claim_id}: " if claim_id else "") + f.message},
                  "locations": [location],
                  "properties": {"severity": f.severity, "position": f.position, "value": f.value,
                                 "ack": str(f.ack) if f.ack else None}}
        if not o._first_result:
            o._results.write(",\n")
        o._first_result = False
        o._results.write(json.dumps(result, ensure_ascii=False))

    def claim(self, result: ClaimOutcome) -> None:
        for f in result.findings:
            self._result(f, result.claim.claim_id)

    def finish(self, outcome: FileOutcome) -> None:
        for f in outcome.findings:
            self._result(f)


def _gh_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_prop(text: str) -> str:
    return _gh_data(text).replace(":", "%3A").replace(",", "%2C")


class _Github(Sink):
    _LEVEL = {"error": "error", "warning": "warning"}

    def __init__(self, owner: CiOutput, path: Path):
        self.owner, self.path = owner, path

    def _write(self, f: Finding, claim_id: str | None = None) -> None:
        rule = REGISTRY.get(f.rule)
        title = f"{f.rule} {rule.name}" if rule else f.rule
        where = f.where()
        text = f"{claim_id + ' ' if claim_id else ''}{where + ': ' if where else ''}{f.message}"
        level = self._LEVEL.get(f.severity, "notice")
        self.owner.stream.write(f"::{level} file={_gh_prop(str(self.path))},title={_gh_prop(title)}::{_gh_data(text)}\n")

    def claim(self, result: ClaimOutcome) -> None:
        for f in result.findings:
            self._write(f, result.claim.claim_id)

    def finish(self, outcome: FileOutcome) -> None:
        for f in outcome.findings:
            self._write(f)
        self.owner.stream.flush()
