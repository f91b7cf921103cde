"""A structural error as the scrubber reports it: pyx12's error classified into an SX rule.

Both validators report pyx12's errors (:class:`~.rawerror.RawError`: level, pyx12's code and
text, segment, loop, element). :func:`classify` turns one into a :class:`StructuralError`: its
rule (SX001 missing segment, SX002 missing loop, SX003 unexpected segment, SX004/SX005 segment or
loop repeated too often, SX006-SX011 element problems, SX012 HL/LX numbering, SX020 envelope),
a message that quotes no data (only code values), and the codes a 999 would carry (IK304 for a
segment, IK403 with IK401/IK402 for an element, IK502 for a transaction set). Its place in the
file (transaction set, position) is set by :mod:`.index`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from scrubber.check.structure.personal import PERSON_SEGMENTS, shape
from scrubber.check.structure.rawerror import RawError
from scrubber.x12.reader import ENVELOPE_IDS

__all__ = ["ENVELOPE_IDS", "StructuralError", "classify", "strip_values"]



@dataclass(slots=True)
class StructuralError:
    rule: str
    message: str
    loop: str | None
    segment: str | None
    position: int | None  # position in the transaction set (ST = 1), as a 999 reports it
    element: str | None = None
    value: str | None = None  # only code values (never names, ids, dates)
    ik3: str | None = None  # IK304 code
    ik4: str | None = None  # IK403 code
    ik4_pos: str | None = None  # IK401 ("7:1")
    ik4_ref: str | None = None  # IK402 (data element number)
    ik5: str | None = None  # IK502 for transaction-level envelope errors
    attach: int | None = None  # the position used to find the claim it belongs to
    tx: int | None = None  # transaction ordinal (file order), None for envelope-level
    isa: int | None = None  # interchange ordinal
    gs: int | None = None  # group ordinal
    pyx12_code: str = ""
    level: str = ""

    def where(self) -> str:
        parts = [p for p in (self.loop, self.segment) if p]
        if self.position is not None:
            parts.append(f"#{self.position}")
        if self.element:
            parts.append(self.element)
        return " ".join(parts)


_NUMS = re.compile(r"=\s*(\d+)\s*([<>])\s*(\d+)")
_REF = re.compile(r"\(([A-Z][A-Z0-9]{1,2}\d{2}(?:-\d{1,2})?)\)")
_LOOP_MAX = re.compile(r"Loop (\w+) exceeded max count")
_NOT_FOUND = re.compile(r"Started at (\S+)")


def _ref(ref: str) -> str:
    m = re.fullmatch(r"([A-Z][A-Z0-9]{1,2}\d{2})(?:-(\d{1,2}))?", ref)
    if not m:
        return ref
    return m.group(1) + (f"-{int(m.group(2))}" if m.group(2) else "")


def classify(raw: RawError) -> StructuralError | None:
    """pyx12's error as the scrubber's structural error (without its place in the file)."""
    code, msg, seg, loop = raw.code, raw.message, raw.seg_id, raw.loop
    name = raw.name or ""
    if raw.level in ("isa", "gs", "st"):
        text = {"isa": "interchange", "gs": "functional group", "st": "transaction set"}[raw.level]
        return StructuralError("SX020", f"{text} envelope error: {msg} (pyx12 {raw.level.upper()} code {code})",
                               raw.level.upper(), seg or raw.level.upper(), None, ik5=code if raw.level == "st" else None)
    if raw.level == "ele":
        ref = raw.element or seg
        what = f"{ref} ({name})" if name else f"{ref}"
        if seg in ENVELOPE_IDS or (ref or "")[:-2] in ENVELOPE_IDS or (ref or "")[:3] in ENVELOPE_IDS:
            env = seg if seg in ENVELOPE_IDS else next((r for r in (ref[:3], ref[:2]) if r in ENVELOPE_IDS), None)
            return StructuralError("SX020", f"envelope element {what} is not valid (pyx12 element code {code})",
                                   env, env, None, ref, ik4=code)
        if code in ("1", "2", "I9"):
            rule, text = "SX006", f"required element {what} is missing"
        elif code in ("4", "5"):
            m = _NUMS.search(msg)
            size = f" ({m.group(1)} characters, {'at least' if m.group(2) == '<' else 'at most'} {m.group(3)})" if m else ""
            rule, text = "SX007", f"element {what} is too {'short' if code == '4' else 'long'}{size}"
        elif code in ("7", "I6"):
            if seg in PERSON_SEGMENTS or len(raw.value or "") > 30:  # a shifted name, id, date or address
                # (or a value too long to quote): described, not quoted
                rule, text = "SX008", f"{shape(raw.value)} is not a valid code for {what}"
            else:
                rule, text = "SX008", f"{raw.value!r} is not a valid code for {what}"
        elif code in ("8", "9"):
            rule, text = "SX009", f"element {what} is not a valid {'date' if code == '8' else 'time'}"
        elif code in ("6", "I12"):
            rule, text = "SX010", f"element {what} holds a character its data type does not allow"
        else:
            rule, text = "SX011", f"element {what}: {strip_values(msg, seg in PERSON_SEGMENTS)}"
        value = raw.value if rule == "SX008" and raw.value and len(raw.value) <= 30 and seg not in PERSON_SEGMENTS else None
        return StructuralError(rule, f"{text} (999 IK403 {code})", loop, seg, None, ref, value,
                               ik3="8", ik4=code, ik4_pos=raw.ele_pos, ik4_ref=raw.ele_ref_num)
    if raw.level != "seg":
        return None
    if code == "3":
        if raw.missing_loop or "Mandatory loop" in msg:
            missing = raw.missing_loop or _paren(msg)
            return StructuralError("SX002", f"required loop {missing} ({name}) is missing from loop {loop} (999 IK304 3)",
                                   loop, seg, None, value=missing, ik3="3")
        missing = seg or _paren(msg)
        return StructuralError("SX001", f"required segment {missing} ({name}) is missing from loop {loop} (999 IK304 3)",
                               loop, missing, None, ik3="3")
    if code in ("1", "2", "6", "7", "I4", "I9"):
        m = _NOT_FOUND.search(msg)
        if m:
            parts = [p for p in m.group(1).split("/") if p]
            loops = [p for p in parts[:-1] if not p.endswith("_LOOP") and p not in ("DETAIL",)]
            loop = loops[-1] if loops else loop
        # the segment's own id (never the map node's: an unknown segment with no id keeps none)
        sid = _seg_of(msg) or (("" if raw.data_id is None else raw.data_id) if "not found" in msg
                               else seg if seg and "Segment identifier" not in msg else "")
        kind = {"1": "is not recognised here", "2": "is not expected here", "6": "is not in the transaction set",
                "7": "is out of sequence"}.get(code, "is not used by the guide")
        if "Segment identifier" in msg:
            kind = "has an invalid segment identifier"
        return StructuralError("SX003", f"segment {sid or '(with no id)'} {kind} (loop {loop}) (999 IK304 {code})",
                               loop, sid or None, None, ik3=code)
    if code == "5":
        return StructuralError("SX004", f"segment {seg} repeats more often than the guide allows in loop {loop} (999 IK304 5)",
                               loop, seg, None, ik3="5")
    if code == "4":
        m = _LOOP_MAX.search(msg)
        which = m.group(1) if m else (loop or "")
        first = raw.data_id or (seg if seg and not seg[:1].isdigit() else None)
        return StructuralError("SX005", f"loop {which} repeats more often than the guide allows (999 IK304 4)",
                               _parent_loop(which, loop), first, None, value=which, ik3="4")
    if code in ("HL1", "HL2", "LX"):
        text = {
            "HL1": "HL01 does not number the hierarchical levels 1, 2, 3 ... in order",
            "HL2": "HL02 names a parent that is not an open hierarchical level",
            "LX": "LX01 does not number the claim's service lines 1, 2, 3 ... in order",
        }[code]
        return StructuralError("SX012", f"{text} (pyx12 {code}; 999 IK304 8)", loop, seg or code[:2], None,
                               "HL01" if code == "HL1" else "HL02" if code == "HL2" else "LX01", ik3="8")
    # code 8 and pyx12's SEG1: element problems seen at segment level
    if "Mandatory composite" in msg:
        ref = _paren(msg)
        return StructuralError("SX006", f"required composite {ref} is missing (999 IK304 8, IK403 1)",
                               loop, seg, None, _ref(ref) if ref else None, ik3="8", ik4="1")
    if "Too many sub-elements" in msg:
        ref = _paren(msg)
        return StructuralError("SX011", f"composite {ref} has more components than the guide allows (999 IK403 13)",
                               loop, seg, None, _ref(ref) if ref else None, ik3="8", ik4="13")
    if "Too many elements" in msg:
        m = re.search(r"Has (\d+), should have (\d+)", msg)
        element = f"{seg}{int(m.group(2)) + 1:02d}" if m and seg else None
        return StructuralError("SX011", f"segment {seg} has more elements than the guide allows (999 IK403 3)",
                               loop, seg, None, element, ik3="8", ik4="3")
    if code == "SEG1":
        return StructuralError("SX011", f"segment {seg} ends with empty elements (trailing separators) (999 IK304 8)",
                               loop, seg, None, ik3="8")
    return StructuralError("SX011", f"segment {seg}: {strip_values(msg, seg in PERSON_SEGMENTS)} (999 IK304 8)",
                           loop, seg, None, ik3="8")


def _paren(msg: str) -> str:
    found = re.findall(r"\(([A-Z0-9]{2,6}(?:-\d{2})?)\)", msg)
    return found[-1] if found else ""


def _seg_of(msg: str) -> str:
    """The segment id pyx12's text names ("Segment NM31*IL not found", 'Segment identifier "Nd4"')."""
    m = re.search(r'Segment identifier "([^"]*)"', msg) or re.search(r"Segment (\S*?)(?:\*|\s+not found)", msg)
    return (m.group(1) if m else "")[:6]


def strip_values(msg: str, strict: bool = False) -> str:
    """pyx12's text without the data it quotes; ``strict`` (a segment that can carry a person's
    data): only element references (``(NM109)``) and syntax rule codes (``(P0809)``) are kept."""
    msg = re.sub(r'"[^"]*"\s*\(', "(", msg)
    msg = re.sub(r'"[^"]*"', '"..."', msg)  # a quoted segment or value (may be the rest of the file)
    if strict:
        msg = re.sub(r'"[^"]*"|\'[^\']*\'', "...", msg)
        return re.sub(r"\(([^)]*)\)", lambda m: m.group(0) if _REF.fullmatch(m.group(0)) or _SYNTAX.fullmatch(m.group(1))
                      else "(...)", msg).rstrip(".")
    msg = re.sub(r"\(([^)]*)\)", lambda m: m.group(0) if _REF.fullmatch(m.group(0)) or m.group(1).isupper() and len(m.group(1)) <= 8 else "(...)", msg)
    return msg.rstrip(".")


_SYNTAX = re.compile(r"[PRCELU]\d{4,6}")


def _parent_loop(loop_id: str, fallback: str | None) -> str | None:
    parents = {"2010AA": "2000A", "2010AB": "2000A", "2010AC": "2000A", "2010BA": "2000B", "2010BB": "2000B",
               "2010CA": "2000C", "2300": "2000B", "2400": "2300", "2000B": "2000A", "2000C": "2000B"}
    if loop_id.startswith("231") or loop_id.startswith("232"):
        return "2300"
    if loop_id.startswith("233"):
        return "2320"
    if loop_id.startswith("24") and loop_id != "2400":
        return "2400"
    return parents.get(loop_id, fallback)

