"""``scrubber explain``: one claim as the implementation guide sees it.

Loops indented (2000A > 2000B > [2000C] > 2300 > 2400), each segment with its position in the
transaction set (ST = 1) and its elements named after the 005010X222A1 guide
(``maps/x12/837p_elements.tsv``); under the HI segment each diagnosis with its position, code,
short title and status on the date of service (``scrubber.codesets.icd10cm``); under each SV1 the
diagnoses its pointers reach (or the pointer that reaches nothing); findings at the segment they
concern (matched by position).

Values that identify a person are never shown (see :func:`masked_indexes`): they print as
``[masked]``. The HTML report (:mod:`scrubber.report.html`) uses the same masking and pointer map.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import click

from scrubber.findings import ODD_ID, Finding, odd_segment_id
from scrubber.check.structure.personal import hidden_indexes
from scrubber.mapsdir import map_path
from scrubber.report.safe import visible
from scrubber.x12.model import Claim, Diagnosis, ServiceLine
from scrubber.x12.reader import Segment

MASK = "[masked]"

# ---- masking: values that identify a person ------------------------------------------------



def masked_indexes(seg: Segment) -> frozenset[int]:
    """The element indexes (1-based) of ``seg`` whose values are never shown, decided by the
    segment, not by the position (:func:`scrubber.check.structure.personal.hidden_indexes`): in
    an NM1 of a person (NM101 IL or QC, NM102 = 1, a subscriber or patient name loop, or
    qualifiers that do not say), N3, N4, DMG, PER, PAT, NTE and a REF with a person qualifier
    (SY, 1W, IG, F6, EJ, EA, 23, Y4, 3H) or a qualifier that is not a code, every value that is
    not one of its element's code values (``IL``, ``1``, ``MI``, ``D8`` stay); every N3 and N4
    element; DMG02 on; NTE02 (free text may carry anything).
    """
    return hidden_indexes(seg.id, seg.elements, seg.loop)


def shown_id(segment_id: str) -> str:
    """A segment's id as listings show it: a longer "id" (no element separator found: the
    segment's whole text) by its first three characters and its length only."""
    return segment_id if len(segment_id) <= ODD_ID else odd_segment_id(segment_id)


def masked_values(seg: Segment) -> list[str]:
    """The segment's elements (``[0]`` = id) with personal values replaced by ``[masked]`` (:data:`MASK`)."""
    hide = masked_indexes(seg)
    if not hide:
        return list(seg.elements)
    return [v if i == 0 or i not in hide or not v else MASK for i, v in enumerate(seg.elements)]


# ---- element names ---------------------------------------------------------------------------


class ElementNames:
    """Loop, segment and element names of the 005010X222A1 guide (``maps/x12/837p_elements.tsv``)."""

    def __init__(self, rows: Iterable[tuple[str, str, str, str]]):
        self._exact: dict[tuple[str, str, str], str] = {}
        self._by_ref: dict[str, str] = {}
        for loop, qual, ref, name in rows:
            self._exact.setdefault((loop, qual, ref), name)
            self._by_ref.setdefault(ref, name)

    def name(self, loop: str, qualifier: str, ref: str) -> str:
        exact = self._exact
        return (
            exact.get((loop, qualifier, ref))
            or exact.get((loop, "*", ref))
            or self._by_ref.get(ref, "")
        )

    def loop(self, loop: str) -> str:
        return self._exact.get((loop, "*", "LOOP"), "")

    def is_composite(self, loop: str, qualifier: str, ref: str) -> bool:
        return bool(self.name(loop, qualifier, f"{ref}-1"))


@lru_cache(maxsize=1)
def element_names() -> ElementNames:
    path = map_path("x12", "837p_elements.tsv")
    rows = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("#") or not line.strip():
                continue
            parts = line.rstrip("\n").split("\t")
            if len(parts) == 4:
                rows.append(tuple(parts))
    return ElementNames(rows)


# ---- diagnoses and pointers ------------------------------------------------------------------

ICD10_QUALIFIERS = frozenset({"ABK", "ABF", "ABJ", "APR", "ADD"})


@dataclass(slots=True)
class DxView:
    position: int
    qualifier: str
    code: str  # as sent
    shown: str  # with a dot when ICD-10-CM
    title: str
    status: str  # billable | not_billable | not_valid | unknown | not_checked | not_icd10 | empty
    note: str  # one phrase: "billable on 2025-03-14 (FY2025)"
    ref: str  # HI01-2
    segment: Segment

    @property
    def ok(self) -> bool:
        return self.status in ("billable", "not_icd10", "not_checked")


def diagnosis_view(dx: Diagnosis, icd, when: date | None) -> DxView:
    from scrubber.codesets.icd10cm import format_code

    code = dx.code
    if not code:
        return DxView(dx.position, dx.qualifier, code, "", "", "empty", "no code in this position", dx.ref, dx.segment)
    if dx.qualifier not in ICD10_QUALIFIERS:
        return DxView(dx.position, dx.qualifier, code, code, "", "not_icd10", f"qualifier {dx.qualifier or '(none)'}: not an ICD-10-CM code, not looked up", dx.ref, dx.segment)
    shown = format_code(code)
    if icd is None:
        return DxView(dx.position, dx.qualifier, code, shown, "", "not_checked", "not checked: no ICD-10-CM table", dx.ref, dx.segment)
    title = icd.title(code)
    if when is None:
        return DxView(dx.position, dx.qualifier, code, shown, title, "not_checked", "not checked: no date of service", dx.ref, dx.segment)
    fy = icd.fiscal_year_of(when)
    if not icd.covers(when):
        return DxView(dx.position, dx.qualifier, code, shown, title, "not_checked",
                      f"not checked: the ICD-10-CM table does not cover FY{fy} ({when.isoformat()})", dx.ref, dx.segment)
    st = icd.status(code, when)
    on = f"on {when.isoformat()} (FY{fy})"
    if st.billable:
        return DxView(dx.position, dx.qualifier, code, shown, title, "billable", f"billable {on}", dx.ref, dx.segment)
    if st.exists:
        children = icd.billable_children(code, fy, limit=4)
        more = f"; billable codes under it: {', '.join(format_code(c) for c in children[:3])}{' ...' if len(children) > 3 else ''}" if children else ""
        return DxView(dx.position, dx.qualifier, code, shown, title, "not_billable",
                      f"NOT BILLABLE {on}: a category (header) code{more}", dx.ref, dx.segment)
    years = icd.years_of(code)
    if years:
        valid = [fy_ for fy_, billable in years if billable]
        span = f"billable FY{valid[0]}-FY{valid[-1]}" if valid else f"in FY{years[0][0]}-FY{years[-1][0]} but never billable"
        return DxView(dx.position, dx.qualifier, code, shown, title, "not_valid", f"NOT VALID {on} ({span})", dx.ref, dx.segment)
    return DxView(dx.position, dx.qualifier, code, shown, "", "unknown", "NOT AN ICD-10-CM CODE in any loaded year", dx.ref, dx.segment)


@dataclass(slots=True)
class PointerLink:
    index: int  # SV107 component (1-4...)
    pointer: str  # as sent
    target: DxView | None  # the diagnosis it reaches, if any
    problem: str  # "" when it reaches a diagnosis

    @property
    def ref(self) -> str:
        return f"SV107-{self.index}"


def pointer_links(line: ServiceLine, dx_by_position: dict[int, DxView]) -> list[PointerLink]:
    links = []
    for i, p in enumerate(line.pointers, start=1):
        if not p:
            links.append(PointerLink(i, p, None, "empty pointer"))
        elif not p.isdigit():
            links.append(PointerLink(i, p, None, "not a number"))
        elif not 1 <= int(p) <= 12:
            links.append(PointerLink(i, p, None, "outside 1-12"))
        else:
            target = dx_by_position.get(int(p))
            if target is None or target.status == "empty":
                links.append(PointerLink(i, p, None, f"nothing: the claim has {sum(1 for d in dx_by_position.values() if d.status != 'empty')} diagnoses"))
            else:
                links.append(PointerLink(i, p, target, ""))
    return links


def claim_date(claim: Claim) -> date | None:
    """The date a claim's diagnoses are checked on: 2300 DTP*472, else the earliest line date."""
    start, _ = claim.claim_dates()
    if start is not None:
        return start
    dates = [d for d in (line.service_date for line in claim.lines) if d is not None]
    return min(dates) if dates else None


def load_icd():
    try:
        from scrubber.codesets.icd10cm import load_icd10cm

        return load_icd10cm()
    except (OSError, ValueError):
        return None


def claim_diagnoses(claim: Claim, icd, when: date | None) -> list[DxView]:
    return [diagnosis_view(dx, icd, when) for dx in claim.diagnoses]


# ---- element references in findings ----------------------------------------------------------

_REF_RE = re.compile(r"^([A-Z][A-Z0-9]{1,2}?)(\d{2})(?:-(\d+))?$")


def parse_ref(ref: str | None, segment: str | None = None) -> tuple[int, int | None] | None:
    """``"SV107-2"`` -> ``(7, 2)``; ``"CLM02"`` -> ``(2, None)``; None when not an element ref."""
    if not ref:
        return None
    if segment and ref.startswith(segment):
        rest = ref[len(segment):]
        m = re.fullmatch(r"(\d{2})(?:-(\d+))?", rest)
        if m:
            return int(m.group(1)), int(m.group(2)) if m.group(2) else None
    m = _REF_RE.match(ref)
    if not m:
        return None
    return int(m.group(2)), int(m.group(3)) if m.group(3) else None


# ---- the text view ---------------------------------------------------------------------------


def loop_depth(loop: str, has_patient: bool) -> int:
    hl = {"2000A": 0, "2000B": 1, "2000C": 2}
    if loop in hl:
        return hl[loop]
    if loop.startswith("2010") and len(loop) == 6:
        return {"A": 1, "B": 2, "C": 3}.get(loop[4], 1)
    base = 3 if has_patient else 2
    if loop == "2300":
        return base
    if loop.startswith(("231", "232")):
        return base + 1
    if loop.startswith("233"):
        return base + 2
    if loop == "2400":
        return base + 1
    if loop.startswith("24"):
        return base + 2
    return base


def claim_hierarchy_segments(claim: Claim) -> Iterator[Segment]:
    """The segments that make the claim: its 2000A, 2000B, [2000C] loops, then 2300/2400."""
    for node in (claim.billing, claim.subscriber, claim.patient):
        if node is not None:
            yield from node.segments
    yield from claim.segments


_SEV_COLOUR = {"error": "red", "warning": "yellow", "info": "blue", "not_checked": "magenta"}
_DX_COLOUR = {"billable": "green", "not_billable": "red", "not_valid": "red", "unknown": "red",
              "empty": "red", "not_checked": "yellow", "not_icd10": "yellow"}


def finding_line(f: Finding, style=click.style) -> str:
    at = f.element or f.segment or ""
    value = f" = {f.value}" if f.value not in (None, "") else ""
    ack = f"  [277CA {f.ack}]" if f.ack else ""
    head = style(f"{f.severity.upper()} {f.rule}", fg=_SEV_COLOUR.get(f.severity), bold=True)
    return f"{head} {visible(at + value)}: {visible(f.message)}{ack}"


def explain_claim(
    claim: Claim,
    findings: list[Finding],
    status: str,
    icd,
    file_name: str = "",
    as_of: date | None = None,
    names: ElementNames | None = None,
) -> Iterator[str]:
    """The explanation of one claim, line by line (with click styles; click.echo strips them
    when the output is not a terminal)."""
    names = names or element_names()
    s = click.style
    when = claim_date(claim)
    dxs = claim_diagnoses(claim, icd, when)
    dx_by_pos = {d.position: d for d in dxs}
    has_patient = claim.patient is not None

    by_position: dict[int, list[Finding]] = {}
    loose: list[Finding] = []
    positions = {seg.position for seg in claim_hierarchy_segments(claim)}
    for f in findings:
        if f.position is not None and f.position in positions:
            by_position.setdefault(f.position, []).append(f)
        else:
            loose.append(f)

    verdict = s(status.upper(), fg="red" if status == "rejected" else "green", bold=True)
    yield (f"{s('claim ' + visible(claim.claim_id), bold=True)}  {verdict}  "
           + visible(f"(file {file_name}, ISA13 {claim.interchange_control}, GS06 {claim.group_control}, "
                     f"ST02 {claim.transaction_control}, charge {claim.charge}, {len(claim.lines)} service lines)"))
    errors = sum(1 for f in findings if f.severity == "error")
    yield (f"date of service {when.isoformat() if when else 'unknown'}; as of {as_of.isoformat() if as_of else '-'}; "
           f"{len(findings)} findings ({errors} errors). Personal values are shown as {MASK}.")
    for f in loose:
        yield "  " + finding_line(f)
    yield ""

    current_loop = None
    st02 = f"ST02 {claim.transaction_control} "  # beside each position: a position counts in its set only
    line_by_sv1 = {id(line.sv1): line for line in claim.lines if line.sv1 is not None}
    for seg in claim_hierarchy_segments(claim):
        loop = seg.loop or ""
        depth = loop_depth(loop, has_patient)
        pad = "  " * depth
        if loop != current_loop:
            current_loop = loop
            title = names.loop(loop)
            yield f"{pad}{s(loop, fg='cyan', bold=True)}  {s(title, fg='cyan')}"
        pad += "  "
        values = masked_values(seg)
        pos = f"{st02}#{seg.position}" if seg.position is not None else "#-"
        yield f"{pad}{s(f'{pos:>14}', dim=True)} {s(visible(f'{shown_id(seg.id):<3}'), bold=True)}  {visible(seg.delims.element.join(values))}"
        sub = pad + "       "
        qualifier = seg.el(1)
        if seg.id == "HI" and seg in claim.hi_segments:
            for d in (d for d in dxs if d.segment is seg):
                label = f"{d.shown or '(empty)':<8}"
                yield (f"{sub}{d.ref:<8} diagnosis {d.position:<2} {d.qualifier:<4} {s(label, bold=True)} "
                       f"{d.title or '-'}  {s(d.note, fg=_DX_COLOUR.get(d.status))}")
        else:
            yield from _element_lines(seg, values, loop, qualifier, names, sub)
        line = line_by_sv1.get(id(seg))
        if line is not None:
            dos = line.service_date or when
            yield (f"{sub}{s(f'service line {line.number}', bold=True)}: procedure {line.procedure or '-'}"
                   f"{' ' + ':'.join(line.modifiers) if line.modifiers else ''}, "
                   f"date of service {dos.isoformat() if dos else 'unknown'}")
            links = pointer_links(line, dx_by_pos)
            if not links:
                yield f"{sub}  {s('no diagnosis pointer (SV107 absent): the line reaches no diagnosis', fg='red')}"
            line_dxs = {d.position: diagnosis_view(_dx_of(claim, d.position), icd, dos) for d in dxs} if dos != when else dx_by_pos
            for link in links:
                if link.target is None:
                    yield f"{sub}  {link.ref} pointer {link.pointer or '(empty)'} -> {s(link.problem, fg='red', bold=True)}"
                else:
                    d = line_dxs.get(link.target.position, link.target)
                    yield (f"{sub}  {link.ref} pointer {link.pointer} -> diagnosis {d.position} {d.shown} "
                           f"{d.title or '-'}  {s(d.note, fg=_DX_COLOUR.get(d.status))}")
        for f in by_position.get(seg.position, ()):
            yield f"{sub}{finding_line(f)}"


def _dx_of(claim: Claim, position: int) -> Diagnosis:
    for dx in claim.diagnoses:
        if dx.position == position:
            return dx
    raise KeyError(position)  # pragma: no cover - positions come from the claim


def _element_lines(seg: Segment, values: list[str], loop: str, qualifier: str, names: ElementNames, pad: str) -> Iterator[str]:
    comp = seg.delims.component
    for i in range(1, len(values)):
        value = values[i]
        if not value:
            continue
        ref = f"{seg.id}{i:02d}"
        if value != MASK and comp in value and names.is_composite(loop, qualifier, ref):
            for j, part in enumerate(value.split(comp), start=1):
                if part:
                    sref = f"{ref}-{j}"
                    yield f"{pad}{sref:<8} {names.name(loop, qualifier, sref) or '?':<42} {visible(part)}"
        else:
            shown = click.style(value, dim=True) if value == MASK else visible(value)
            yield f"{pad}{ref:<8} {names.name(loop, qualifier, ref) or '?':<42} {shown}"
