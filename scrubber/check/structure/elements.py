"""Segment, composite, element and syntax checks: pyx12's, on one segment and its map node.

:class:`Seg` is a data segment as the checks need it (pyx12's ``Segment``: elements split at
``*``, components joined by ``:``; ISA elements never split). :func:`exact_errors` is pyx12's
``segment_if.is_valid_errors`` step by step: too many elements, each element
(``element_if.is_valid_errors`` and ``validation.py``: usage, length, control characters, trailing
spaces, code list, data type, date and time, regular expression), each composite, the syntax rules
(P, R, E, C, L), the DTP and 1250/1251 date qualifiers. Each error is a tuple
``(code, text, value, refdes, node)``, ``node`` None for a segment-level error (IK304 8), with
pyx12's code and text.

:func:`value_errors` checks one value of one element; the element check tries a fast path first
(a value seen to pass, or one that passes every check in a few comparisons) and remembers the
values that pass (bounded, :mod:`.caches`). What the map does not define (a data element with no
type, an external code list pyx12 does not ship) raises :class:`~.tables.Unsupported`.
"""

from __future__ import annotations

import re

from scrubber.check.structure.caches import KEY_MAX, USED, VALUES_MAX
from scrubber.check.structure.tables import CompNode, EleNode, SegNode, Unsupported

__all__ = ["Seg", "matches", "exact_errors", "value_errors", "valid_type", "NO_ERRORS",
           "BAD_E5", "BAD_E", "FULL_N", "FULL_R"]

NO_ERRORS: tuple = ()  # no errors (shared, never appended to)

# pyx12's patterns: characters outside the extended (5010) and basic character sets, numbers
# (N, R) as pyx12 matches them, and the same as full matches for the fast path.
BAD_E5 = re.compile(r"""[^A-Z0-9!"&'()*+,\-\./:;?= a-z%~@\[\]_{}\\|<>^`#$]""", re.S | re.ASCII)
BAD_E = re.compile(r"""[^A-Z0-9!"&'()*+,\-\./:;?= a-z%~@\[\]_{}\\|<>#$]""", re.S | re.ASCII)
_REC_N = re.compile(r"^-?[0-9]+", re.S | re.ASCII)
_REC_R = re.compile(r"^-?[0-9]*(\.[0-9]+)?", re.S | re.ASCII)
_NON_DIGIT = re.compile(r"[^0-9]+", re.S | re.ASCII)
FULL_N = re.compile(r"-?[0-9]+", re.ASCII)
FULL_R = re.compile(r"-?[0-9]*(?:\.[0-9]+)?", re.ASCII)


def _fmt(value: str) -> str:
    """A composite's value as pyx12 formats it: trailing empty components dropped."""
    return value.rstrip(":") if value.endswith(":") else value


class Seg:
    """A data segment as pyx12's ``Segment`` shows it to the checks (ISA elements are never split
    into components)."""

    __slots__ = ("id", "els", "isa")

    def __init__(self, parts: list[str]) -> None:  # the segment's text split at '*'
        self.id = parts[0]
        self.els = parts[1:]  # element strings (components joined by ':')
        self.isa = self.id == "ISA"

    def get_value(self, idx: int) -> str | None:  # 1-based element
        if idx - 1 >= len(self.els):
            return None
        v = self.els[idx - 1]
        return v if self.isa else _fmt(v)

    def get_sub(self, idx: int, sub: int) -> str | None:
        if idx - 1 >= len(self.els):
            return None
        v = self.els[idx - 1]
        comps = [v] if self.isa else v.split(":")
        if sub - 1 >= len(comps):
            return None
        return comps[sub - 1]

    def formatted(self) -> str:
        """str(pyx12's Segment) without its terminator: trailing empty elements dropped."""
        comps = [self._fmt_el(e) for e in self.els]
        i = 0
        for i in range(len(comps) - 1, -1, -1):
            if comps[i] != "":
                break
        return f"{self.id}*{'*'.join(comps[: i + 1])}"

    def _fmt_el(self, e: str) -> str:
        return e if self.isa else _fmt(e)


def matches(node: SegNode, seg: Seg) -> bool:
    """Whether ``seg`` is an instance of map segment ``node`` (its id, and its qualifier's code)."""
    if seg.id != node.id:
        return False
    if node.qual is None:
        return True
    if node.qual_sub is None:
        return seg.get_value(node.qual_idx) in node.match_values
    return seg.get_sub(node.qual_idx, node.qual_sub) in node.match_values


_CONTROL = [(chr(0x07), "BEL"), (chr(0x09), "HT"), (chr(0x0A), "LF"), (chr(0x0B), "VT"), (chr(0x0C), "FF"),
            (chr(0x0D), "CR"), (chr(0x1C), "FS"), (chr(0x1D), "GS"), (chr(0x1E), "RS"), (chr(0x1F), "US"),
            (chr(0x01), "SOH"), (chr(0x02), "STX"), (chr(0x03), "ETX"), (chr(0x04), "EOT"), (chr(0x05), "ENQ"),
            (chr(0x06), "ACK"), (chr(0x11), "DC1"), (chr(0x12), "DC2"), (chr(0x13), "DC3"), (chr(0x14), "DC4"),
            (chr(0x15), "NAK"), (chr(0x16), "SYN"), (chr(0x17), "ETB")]


def _valid_date(data_type: str, val: str) -> bool:
    if data_type == "D8" and len(val) != 8:
        return False
    if data_type == "D6" and len(val) != 6:
        return False
    m = _NON_DIGIT.search(val)
    if m and m.group(0):
        return False
    if len(val) not in (6, 8, 12):
        return False
    if len(val) == 6:
        val = "20" + val if int(val[0:2]) < 50 else "19" + val
    year, month, day = int(val[0:4]), int(val[4:6]), int(val[6:8])
    if year < 1800 or month < 1 or month > 12:
        return False
    if month in (1, 3, 5, 7, 8, 10, 12):
        if day < 1 or day > 31:
            return False
    elif month in (4, 6, 9, 11):
        if day < 1 or day > 30:
            return False
    elif not year % 4 and not (not year % 100 and year % 400):
        if day < 1 or day > 29:
            return False
    elif day < 1 or day > 28:
        return False
    if len(val) == 12 and not _valid_time(val[8:12]):
        return False
    return True


def _valid_time(val: str) -> bool:
    m = _NON_DIGIT.search(val)
    if m and m.group(0):
        return False
    if val[0:2] > "23" or val[2:4] > "59":
        return False
    if len(val) > 4:
        if len(val) < 6:
            return False
        if val[4:6] > "59":
            return False
        if len(val) > 8:
            return False
    return True


def valid_type(val: str, data_type: str | None, e5: bool) -> bool:
    """pyx12's ``IsValidDataType`` (charset E)."""
    if not data_type:
        return True
    if data_type[0] == "N":
        m = _REC_N.search(val)
        return bool(m) and m.group(0) == val
    if data_type == "R":
        m = _REC_R.search(val)
        return bool(m) and m.group(0) == val
    if data_type in ("ID", "AN"):
        m = (BAD_E5 if e5 else BAD_E).search(val)
        return not (m and m.group(0))
    if data_type == "RD8":
        if "-" in val:
            start, end = val.split("-")  # more than one '-': ValueError, as in pyx12
            return valid_type(start, "D8", False) and valid_type(end, "D8", False)
        return False
    if data_type in ("DT", "D8", "D6"):
        return _valid_date(data_type, val)
    if data_type == "TM":
        return _valid_time(val)
    if data_type == "B":
        return True
    return False


# An element error: (code, message, value, refdes, node); node None = segment-level ("8")
def _ele_errors(n: EleNode, comps: list[str] | None, type_list: list | None, e5: bool) -> list:
    if comps is not None and len(comps) > 1:
        return [("6", f'Data element "{n.name}" ({n.refdes}) is an invalid composite', _fmt(":".join(comps)), n.refdes, n)]
    val = comps[0] if comps is not None else ""
    if val == "":
        if n.usage in ("N", "S"):
            return []
        if n.usage == "R" and (n.seq != 1 or n.parent_composite is None or n.composite_usage == "R"):
            return [("1", f'Mandatory data element "{n.name}" ({n.refdes}) is missing', None, n.refdes, n)]
        return []
    if n.usage == "N":
        return [("10", f'Data element "{n.name}" ({n.refdes}) is marked as Not Used', None, n.refdes, n)]
    if n.data_type is None and n.min_len == -1:
        raise Unsupported(f"data element {n.data_ele} is not defined")
    if not type_list and val in n.good:
        return NO_ERRORS
    # fast path: a value that passes every check
    dt = n.fast_type
    if not type_list and val[-1] != " ":
        ln = len(val.replace("-", "").replace(".", "")) if n.numeric else len(val)
        if n.min_len <= ln <= n.max_len and (not n.codes and n.external is None or val in n.codes):
            if n.textual:
                ok = BAD_E5.search(val) is None if e5 else BAD_E.search(val) is None
            elif dt[:1] == "N":
                ok = FULL_N.fullmatch(val) is not None
            elif dt == "R":
                ok = FULL_R.fullmatch(val) is not None
            else:
                ok = False
            if ok and (n.regex is None or n.regex.search(val)):
                if USED["values"] < VALUES_MAX and len(val) <= KEY_MAX:
                    USED["values"] += 1
                    n.good.add(val)
                return NO_ERRORS
    return value_errors(n, val, type_list, e5)


def value_errors(n: EleNode, val: str, type_list: list | None, e5: bool) -> list:
    """Every check of element ``n`` on the non-empty value ``val``, one by one (the exact path)."""
    errors = []
    dt = n.data_type
    measured = val.replace("-", "").replace(".", "") if dt is not None and (dt == "R" or dt[0] == "N") else val
    ln = len(measured)
    if ln < n.min_len:
        errors.append(("4", f'Data element "{n.name}" ({n.refdes}) is too short: len("{val}") = {ln} < {n.min_len} (min_len)', val, n.refdes, n))
    if ln > n.max_len:
        errors.append(("5", f'Data element "{n.name}" ({n.refdes}) is too long: len("{val}") = {ln} > {n.max_len} (max_len)', val, n.refdes, n))
    for ch, label in _CONTROL:
        if ch in val:
            bad = f"<{label}>"
            errors.append(("6", f'Data element "{n.name}" ({n.refdes}), contains an invalid control character({bad})', bad, n.refdes, n))
            return errors
    if dt in ("AN", "ID") and val[-1] == " " and not len(val.rstrip()) < n.min_len:
        errors.append(("6", f'Data element "{n.name}" ({n.refdes}) has unnecessary trailing spaces. ({val})', val, n.refdes, n))
    if n.codes or n.external is not None:
        ok = val in n.codes
        if not ok and n.external is not None:
            if n.ext_set is None:
                raise Unsupported(f"external code list {n.external} is not defined")
            ok = val in n.ext_set
        if not ok:
            errors.append(("7", f"({val}) is not a valid code for {n.name} ({n.refdes})", val, n.refdes, n))
    if not valid_type(val, dt, e5):
        if dt in ("RD8", "DT", "D8", "D6"):
            errors.append(("8", f'Data element "{n.name}" ({n.refdes}) contains an invalid date ({val})', val, n.refdes, n))
        elif dt == "TM":
            errors.append(("9", f'Data element "{n.name}" ({n.refdes}) contains an invalid time ({val})', val, n.refdes, n))
        else:
            errors.append(("6", f'Data element "{n.name}" ({n.refdes}) is type {dt}, contains an invalid character({val})', val, n.refdes, n))
    if type_list:
        valid = False
        for t in type_list:
            if t is not None:
                valid |= valid_type(val, t, False)
        if not valid:
            if "TM" in type_list:
                errors.append(("9", f'Data element "{n.name}" ({n.refdes}) contains an invalid time ({val})', val, n.refdes, n))
            elif any(t in type_list for t in ("RD8", "DT", "D8", "D6")):
                errors.append(("8", f'Data element "{n.name}" ({n.refdes}) contains an invalid date ({val})', val, n.refdes, n))
    if n.regex is not None and not n.regex.search(val):
        errors.append(("7", f'Data element "{n.name}" with a value of ({val}) failed to match the regular expression "{n.res}"', val, n.refdes, n))
    return errors


def _comp_errors(c: CompNode, comps: list[str] | None, e5: bool) -> list:
    empty = comps is None or all(x == "" for x in comps)
    if empty and c.usage in ("N", "S"):
        return []
    if c.usage == "R" and empty:
        return [("1", f'Mandatory composite "{c.name}" ({c.refdes}) is missing', None, c.refdes, None)]
    if comps is None:
        raise Unsupported("composite with no data and an unknown usage")
    if c.usage == "N" and not empty:
        return [("5", f'Composite "{c.name}" ({c.refdes}) is marked as Not Used', None, c.refdes, None)]
    errors = []
    cc = len(c.children)
    if len(comps) > cc:
        errors.append(("3", f'Too many sub-elements in composite "{c.name}" ({c.refdes})', None, c.refdes, None))
    for i in range(min(len(comps), cc)):
        errors += _ele_errors(c.children[i], [comps[i]], None, e5)
    for i in range(min(len(comps), cc), cc):
        errors += _ele_errors(c.children[i], None, None, e5)
    return errors


def _split(value: str, isa: bool) -> list[str]:
    return [value] if isa else value.split(":")


def exact_errors(node: SegNode, seg: Seg, e5: bool) -> list:
    """pyx12's ``segment_if.is_valid_errors`` on ``seg`` as map segment ``node``, with
    :mod:`.pyx12run`'s repair of its crash on a composite with too many components."""
    if node.elements is None:
        raise Unsupported(f"segment {node.id}: element sequence pyx12 cannot index")
    if node.has_composite:
        for i, child in enumerate(node.elements[: len(seg.els)]):
            if child.is_composite and child.usage != "N" and len(_split(seg.els[i], seg.isa)) > len(child.children):
                return _seg_errors_repaired(node, seg, e5)
    return _seg_errors_plain(node, seg, e5)


def _seg_errors_plain(node: SegNode, seg: Seg, e5: bool) -> list:
    errors = []
    els = seg.els
    cc = len(node.elements)
    n = len(els)
    isa = seg.isa
    if n > cc:
        ref = "%02i" % (cc + 1)
        errors.append(("3", f'Too many elements in segment "{node.name}" ({seg.id}). Has {n}, should have {cc}',
                       seg.get_value(cc + 1), ref, None))
    dtype: list = []
    type_list: list = []
    sid = seg.id
    for i in range(min(n, cc)):
        child = node.elements[i]
        raw = els[i]
        if child.is_composite:
            errors += _comp_errors(child, _split(raw, isa), e5)
            continue
        if i == 1 and sid == "DTP":
            v = _fmt(raw)
            if v in ("RD8", "D8", "D6", "DT", "TM"):
                dtype = [v]
        if child.data_ele == "1250":
            type_list.extend(child.code_list)
        comps = [raw] if isa or ":" not in raw else raw.split(":")
        if i == 2 and sid == "DTP":
            errors += _ele_errors(child, comps, dtype, e5)
        elif child.data_ele == "1251" and type_list:
            errors += _ele_errors(child, comps, type_list, e5)
        else:
            errors += _ele_errors(child, comps, None, e5)
    for i in range(min(n, cc), cc):
        child = node.elements[i]
        if child.is_composite:
            errors += _comp_errors(child, None, e5)
        else:
            errors += _ele_errors(child, None, None, e5)
    for syn in node.syntax:
        ok, text = _syntax(seg, syn)
        if not ok:
            errors.append(("10" if syn[0] == "E" else "2", text, None, syn[1], None))
    return errors


def _seg_errors_repaired(node: SegNode, seg: Seg, e5: bool) -> list:
    extra = []
    texts = []
    for i in range(len(seg.els)):
        value = seg.get_value(i + 1) or ""
        child = node.elements[i] if i < len(node.elements) else None
        if child is not None and child.is_composite:
            comps = value.split(":")
            if len(comps) > len(child.children):
                extra.append(("%02d" % (i + 1), child, value))
                value = ":".join(comps[: len(child.children)])
        texts.append(value)
    fixed = Seg([seg.id, *texts])
    errors = _seg_errors_plain(node, fixed, e5)
    for ref, child, value in extra:
        errors.append(("3", f'Too many sub-elements in composite "{child.name}" ({seg.id}{ref})', value, ref, None))
    return errors


def _syntax_ids(seg_id: str, idx: list[int]) -> str:
    out = f"{seg_id}{idx[0]:02d}"
    for i in range(len(idx) - 1):
        out += (" or " if i == len(idx) - 2 else ", ") + f"{seg_id}{idx[i + 1]:02d}"
    return out


def _syntax(seg: Seg, syn: list) -> tuple[bool, str | None]:
    code = syn[0]
    idx = [int(s) for s in syn[1:]]
    label = str(code) + "".join(f"{int(i):02d}" for i in syn[1:])
    if len(syn) < 3:
        return False, f"Syntax string must have at least two comparators {label}"
    n = len(seg.els)

    def present(s: int) -> bool:
        return n >= s and seg.get_value(s) != ""

    if code == "P":
        count = sum(1 for s in idx if present(s))
        if count != 0 and count != len(idx):
            return False, f"Syntax Error ({label}): If any of {_syntax_ids(seg.id, idx)} is present, then all are required"
        return True, None
    if code == "R":
        if not any(present(s) for s in idx):
            return False, f"Syntax Error ({label}): At least one element is required"
        return True, None
    if code == "E":
        if sum(1 for s in idx if present(s)) > 1:
            return False, f"Syntax Error ({label}): At most one of {_syntax_ids(seg.id, idx)} may be present"
        return True, None
    if code == "C":
        if n >= idx[0] and seg.get_value(idx[0]) != "":
            count = sum(1 for s in idx[1:] if present(s))
            if count != len(idx) - 1:
                verb = "are" if len(idx[1:]) > 1 else "is"
                return False, (f"Syntax Error ({label}): If {seg.id}{idx[0]:02d} is present, then "
                               f"{_syntax_ids(seg.id, idx[1:])} {verb} required")
        return True, None
    if code == "L":
        if n > idx[0] - 1 and seg.get_value(idx[0]) != "":
            if not any(present(s) for s in idx[1:]):
                return False, (f"Syntax Error ({label}): If {seg.id}{idx[0]:02d} is present, then at least one of "
                               f"{_syntax_ids(seg.id, idx[1:])} is required")
        return True, None
    return False, f"Syntax Type {label} Not Found"

