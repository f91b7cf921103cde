"""The compiled structural validator: pyx12's 837P map, read once with lxml, validated in one pass.

pyx12 validates a segment by walking object trees with path strings and counters keyed by
parsed path objects; about 4 ms per claim. The compiled validator reads the same XML maps pyx12
ships (``837.5010.X222.A1.xml``, ``x12.control.00501.xml``, ``dataele.xml``, ``codes.xml``) with
lxml once per process and compiles them (:mod:`.tables`) into plain slotted nodes with everything the validator needs
precomputed: each loop's children in position order, each segment's qualifier (the element, its
place and its code set, so that ``REF*G1`` finds its node with one set lookup), each element's
data type, lengths, code set and a fast-path check.

The validator then follows pyx12's algorithm step by step (``x12n_document`` -> ``X12Reader`` ->
``walk_tree.walk_errors`` -> ``segment_if.is_valid_errors`` -> ``element_if.is_valid_errors`` and
the recording error handler of :mod:`.pyx12run`) and reports the same :class:`~.rawerror.RawError`
records: same level, code, line, segment, loop, element and text. The differential tests
(``tests/test_compiled_structure.py``) hold it to that on the corpus and on mutated fixtures.

What it does not handle, it hands back: a map other than the 837P 5010 one (a 4010 interchange,
another transaction type), a data element or code list the map does not define, or any
exception. :func:`run_compiled` then raises :class:`Unsupported` and the caller runs pyx12 itself
on the same input, so the result is never a guess.

Memory: the counters are bounded by the map (they are reset on each loop entry); pending errors
are per segment; only the recorded errors accumulate.

The modules, in the order a segment meets them:

- :mod:`.tables`: the maps compiled into nodes (once per process);
- this module: :func:`run_compiled`, the reader's own checks (pyx12's ``X12Reader``: segment ids,
  the envelope's control numbers and counts, HL and LX numbering) and ``x12n_document``'s loop;
- :mod:`.machine`: the walk from one segment's map node to the next one's, with the loop and
  segment counters (missing, repeated, unexpected segments and loops);
- :mod:`.fastpath`: a segment's errors, remembered or checked by generated code when it has none;
- :mod:`.elements`: the exact segment, composite, element and syntax checks;
- :mod:`.recorder`: each error as a :class:`~.rawerror.RawError`, handed on as it is found;
- :mod:`.caches`: the caches' budget.
"""

from __future__ import annotations

import re
from typing import Any

from scrubber.check.structure.caches import clear_full
from scrubber.check.structure.elements import Seg
from scrubber.check.structure.fastpath import segment_errors
from scrubber.check.structure.machine import QUAL_FIRST, SEG_FOUND, Walker
from scrubber.check.structure.rawerror import RawError, TooManyErrors
from scrubber.x12.reader import ENVELOPE_IDS
from scrubber.check.structure.recorder import Recorder
from scrubber.check.structure.tables import Unsupported, compiled_maps, qualifier_positions

__all__ = ["Unsupported", "run_compiled"]

ENVELOPE = ENVELOPE_IDS
_READER_SPECIAL = frozenset(("ISA", "GS", "ST", "HL", "CLM", "LX"))  # X12Reader._parse_segment's cases
_ODD_START = frozenset(("", "\n", "\r", " "))
_SEG_ID = re.compile(r"^[A-Z][A-Z0-9]{1,2}$", re.S)


def run_compiled(lines: Any, sink: Any = None) -> list[RawError]:
    """Validate the normalised segments ``lines`` (an iterable of segment texts, standard
    delimiters, no terminator) as pyx12's ``x12n_document`` would; return its errors, or hand each
    to ``sink`` as it is found (then nothing is kept and the list returned is empty).
    Raises :class:`Unsupported` when pyx12 must be run instead (what was handed to ``sink`` is
    then to be dropped)."""
    try:
        return _run(lines, sink)
    except (Unsupported, TooManyErrors):
        raise
    except Exception as exc:  # noqa: BLE001 - anything unexpected: pyx12 decides
        raise Unsupported(f"{type(exc).__name__}: {exc}") from exc


def _run(lines: Any, sink: Any = None) -> list[RawError]:
    control, m837 = compiled_maps()
    clear_full(control, m837)
    rec = Recorder(sink)
    walker = Walker(qualifier_positions())
    isa_node = control.index["/ISA_LOOP/ISA"]
    gs_node = m837.index["/ISA_LOOP/GS_LOOP/GS"]
    node: Any = isa_node
    reader_errors: list[tuple] = []  # X12Reader.err_list: popped only where x12n_document pops it
    loops: list[tuple[str, str | None]] = []
    # Control numbers seen (sets: pyx12's lists made file size squared work on many envelopes).
    isa_ids: set = set()
    gs_ids: set = set()
    st_ids: set = set()
    gs_count = st_count = hl_count = seg_count = lx_count = 0
    hl_stack: list[int] = []
    on_stack: set[int] = set()  # the numbers in hl_stack (a membership test in one step)
    check_lx = False
    icvn = None
    first = True
    map_loaded = False

    def handle() -> None:
        nonlocal reader_errors
        errs, reader_errors = reader_errors, []
        for kind, code, text, value, src_line in errs:
            if kind == "seg":
                rec.seg_error(code, text, value, src_line)
            else:
                rec.env(kind, code, text)

    valid_ids: set[str] = set()
    plain_ids: set[str] = set()  # valid ids the reader has nothing special to do for
    walk = walker.walk
    programs, counts, register = walker.programs, walker.counts, walker.register
    first_ids = {k for k, v in walker.qual_pos.items() if v == QUAL_FIRST}
    for raw in lines:
        # ---- the common case, inlined: an ordinary segment (same steps as below)
        if raw[:1] not in _ODD_START and raw[-1] != "*" and not first:
            parts = raw.split("*")
            sid = parts[0]
            if sid in plain_ids and raw[len(sid):].strip("*:"):
                seg_count += 1
                line = rec.line = rec.line + 1
                seg = Seg(parts)
                orig_node = node
                # the walker's commonest program, inlined (see Walker.walk): required things
                # passed, all present, then the segment found within its repeat count
                found = programs.get((node, sid, parts[1] if len(parts) > 1 else None)) if sid in first_ids else None
                last = found[3] if found is not None else None
                if last is not None and last[0] == SEG_FOUND:
                    for path in found[2]:
                        if path not in counts:
                            break
                    else:
                        child = last[1]
                        path = child.path
                        n = counts.get(path, 0) + 1
                        if n <= child.max_repeat:
                            counts[path] = n
                            if n == 1:
                                register(path)
                            node = found[1]
                            last = True
                if last is not True:
                    node, pending = walk(node, seg, line)
                    for code, text, src_line, map_node, data_id in pending:
                        if map_node is not None:
                            rec.add_seg(map_node, data_id, src_line)
                        rec.seg_error(code, text, None, src_line)
                    if node is None:
                        node = orig_node
                        continue
                rec.seg_map = node
                rec.seg_line = line
                rec.seg_data_id = rec.cur_seg_id = sid
                rec.seg_added = False
                if reader_errors:
                    handle()
                if node.kind != "seg":
                    raise Unsupported("matched a node that is not a segment")
                errs = node.cache.get(raw)
                if errs is None:
                    errs = segment_errors(node, seg, node.e5, raw)
                for code, text, value, refdes, enode in errs:
                    if enode is None:
                        rec.seg_error("8", text, value)
                    else:
                        rec.ele_error(enode, code, text, value, refdes)
                continue
        line_text = raw.lstrip("\n\r") if raw[:1] in ("\n", "\r") else raw
        if line_text == "":
            break
        if first:
            first = False
            if not line_text.startswith("ISA") or len(line_text) != 105 or line_text[84 + 0:89] != "00501":
                raise Unsupported("not a 5010 interchange pyx12 reads as such")
        # ---- X12Reader.__iter__ and _parse_segment
        cur = rec.line
        if line_text[0] == " ":
            reader_errors.append(("seg", "1", "Segment contains a leading space", None, cur + 1))
            line_text = line_text.lstrip()
        if line_text[-1] == "*":
            reader_errors.append(("seg", "SEG1", "Segment contains trailing element terminators", None, cur + 1))
        seg = Seg(line_text.split("*"))
        sid = seg.id
        if not line_text[len(sid):].strip("*" if sid == "ISA" else "*:"):  # Segment.is_empty()
            reader_errors.append(("seg", "8", f'Segment "{seg.formatted()}~" is empty', None, cur + 1))
        if sid not in valid_ids:
            if not sid or len(sid) < 2 or len(sid) > 3 or not _SEG_ID.search(sid):
                reader_errors.append(("seg", "1", f'Segment identifier "{sid}" is invalid', None, cur + 1))
            else:
                valid_ids.add(sid)
                if sid not in _READER_SPECIAL and sid not in ENVELOPE:
                    plain_ids.add(sid)
        if sid not in _READER_SPECIAL:
            pass
        elif sid == "ISA":
            if len(seg.els) != 16:
                raise Unsupported("ISA without 16 elements")
            icn = seg.get_value(13)
            if icn in isa_ids:
                reader_errors.append(("isa", "025", f"ISA Interchange Control Number {icn} not unique within file", None, None))
            loops.append(("ISA", icn))
            isa_ids.add(icn)
            gs_count = 0
            gs_ids = set()
        elif sid == "GS":
            gcn = seg.get_value(6)
            if gcn in gs_ids:
                reader_errors.append(("gs", "6", f"GS Interchange Control Number {gcn} not unique within file", None, None))
            gs_count += 1
            gs_ids.add(gcn)
            loops.append(("GS", gcn))
            st_count = 0
            st_ids = set()
        elif sid == "ST":
            hl_stack = []
            on_stack = set()
            tcn = seg.get_value(2)
            if tcn in st_ids:
                reader_errors.append(("st", "23", f"ST Interchange Control Number {tcn} not unique within file", None, None))
            st_count += 1
            st_ids.add(tcn)
            loops.append(("ST", tcn))
            seg_count = 1
            hl_count = 0
        elif sid == "HL":
            hl_count += 1
            hl01 = seg.get_value(1)
            if hl_count != _int(hl01):
                reader_errors.append(("seg", "HL1", f"My HL count {hl_count:d} does not match your HL count {hl01}", None, None))
            if seg.get_value(2) != "":
                parent = _int(seg.get_value(2))
                if parent not in on_stack:
                    reader_errors.append(("seg", "HL2", f"HL parent ({parent}) is not a valid parent", None, None))
                while hl_stack and parent != hl_stack[-1]:
                    on_stack.discard(hl_stack.pop())
            hl_stack.append(hl_count)
            on_stack.add(hl_count)
        elif check_lx and sid == "CLM":
            lx_count = 0
        elif check_lx and sid == "LX":
            lx_count += 1
            lx01 = seg.get_value(1)
            if lx01 != f"{lx_count:d}":
                reader_errors.append(("seg", "LX", f"Your 2400/LX01 Service Line Number {lx01} does not match my count of {lx_count:d}", None, None))
        rec.line = cur + 1
        if sid not in ENVELOPE:
            seg_count += 1
        elif sid == "IEA":
            if loops[-1][0] != "ISA":
                reader_errors.append(("isa", "024", f"Unterminated Loop {loops[-1][0]}", None, None))
                del loops[-1]
            if loops[-1][1] != seg.get_value(2):
                reader_errors.append(("isa", "001", f"IEA id={seg.get_value(2)} does not match ISA id={loops[-1][1]}", None, None))
            if _int(seg.get_value(1)) != gs_count:
                reader_errors.append(("isa", "021", f"IEA count for IEA02={seg.get_value(2)} is wrong", None, None))
            del loops[-1]
        elif sid == "GE":
            if loops[-1][0] != "GS":
                reader_errors.append(("gs", "3", f"Unterminated segment {loops[-1][1]}", None, None))
                del loops[-1]
            if loops[-1][1] != seg.get_value(2):
                reader_errors.append(("gs", "4", f"GE id={seg.get_value(2)} does not match GS id={loops[-1][1]}", None, None))
            if _int(seg.get_value(1)) != st_count:
                reader_errors.append(("gs", "5", f"GE count of {seg.get_value(1)} for GE02={seg.get_value(2)} is wrong. I count {st_count}", None, None))
            del loops[-1]
        elif sid == "SE":
            se02 = seg.get_value(2)
            if loops[-1][0] != "ST" or loops[-1][1] != se02:
                reader_errors.append(("st", "3", f"SE id={se02} does not match ST id={loops[-1][1]}", None, None))
            if _int(seg.get_value(1)) != seg_count + 1:
                reader_errors.append(("st", "4", f"SE count of {seg.get_value(1)} for SE02={se02} is wrong. I count {seg_count + 1}", None, None))
            del loops[-1]
        line = rec.line
        # ---- x12n_document
        orig_node = node
        if sid not in ENVELOPE:
            node, pending = walker.walk(node, seg, line)
            for code, text, src_line, map_node, data_id in pending:
                if map_node is not None:
                    rec.add_seg(map_node, data_id, src_line)
                rec.seg_error(code, text, None, src_line)
            if node is None:
                node = orig_node
                continue
            rec.add_seg(node, sid, line)
            if reader_errors:
                handle()
            if node.kind != "seg":
                raise Unsupported("matched a node that is not a segment")
            for code, text, value, refdes, enode in segment_errors(node, seg, node.e5, line_text):
                if enode is None:
                    rec.seg_error("8", text, value)
                else:
                    rec.ele_error(enode, code, text, value, refdes)
            continue
        if sid == "ISA":
            node = isa_node
            walker.force("/ISA_LOOP", "/ISA_LOOP/ISA")
        elif sid == "GS":
            node = control.index["/ISA_LOOP/GS_LOOP/GS"]
            walker.force("/ISA_LOOP/GS_LOOP", "/ISA_LOOP/GS_LOOP/GS")
        else:
            node, pending = walker.walk(node, seg, line)
            for code, text, src_line, map_node, data_id in pending:
                if map_node is not None:
                    rec.add_seg(map_node, data_id, src_line)
                rec.seg_error(code, text, None, src_line)
        if node is None:
            node = orig_node
            continue
        if sid == "ISA":
            rec.open_loop("isa")
            icvn = seg.get_value(12)
            handle()
        elif sid == "IEA":
            handle()
            rec.close_loop("isa")
        elif sid == "GS":
            if (icvn, seg.get_value(8), seg.get_value(1)) != ("00501", "005010X222A1", "HC"):
                raise Unsupported("a functional group other than 837P 005010X222A1")
            if not map_loaded:
                map_loaded = True
                check_lx = m837.id == "837"
            node = gs_node
            rec.open_loop("gs")
            handle()
        elif sid == "GE":
            handle()
            rec.close_loop("gs")
            try:  # pyx12's err_gs.close: int(GE01); a crash there ends its validation
                int(seg.get_value(1))  # type: ignore[arg-type]
            except (TypeError, ValueError):
                raise Unsupported("GE01 is not a number (pyx12 stops there)") from None
        elif sid == "ST":
            rec.open_loop("st")
            handle()
        elif sid == "SE":
            handle()
            rec.close_loop("st")
        else:
            rec.add_seg(node, sid, line)
            handle()
        if node.kind != "seg":
            raise Unsupported("matched a node that is not a segment")
        for code, text, value, refdes, enode in segment_errors(node, seg, node.e5, line_text):
            if enode is None:
                rec.seg_error("8", text, value)
            else:
                rec.ele_error(enode, code, text, value, refdes)
    # X12Reader.cleanup
    for kind, cid in loops:
        if kind == "ST":
            reader_errors.append(("st", "2", f'Mandatory segment "Transaction Set Trailer" (SE={cid}) missing', None, None))
        elif kind == "GS":
            reader_errors.append(("gs", "3", f'Mandatory segment "Functional Group Trailer" (GE={cid}) missing', None, None))
        elif kind == "ISA":
            reader_errors.append(("isa", "023", f'Mandatory segment "Interchange Control Trailer" (IEA={cid}) missing', None, None))
    handle()
    return rec.errors


def _int(value: str | None) -> int | None:
    try:
        return int(value)  # type: ignore[arg-type]
    except (ValueError, TypeError):
        return None
