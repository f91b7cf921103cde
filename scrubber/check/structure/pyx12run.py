"""Run pyx12's validator (``x12n_document``) on a text stream and record every error it reports.

Adapted from ``tests/pyx12check.py``. ``x12n_document`` keeps its error tree to itself and only
shows it through its 997/999, HTML or JSON visitors, which miss some errors (element errors on
envelope segments, segment errors before the first ST). So while pyx12 runs, its
``error_handler.err_handler`` class is replaced by a subclass that records each error at the
moment pyx12 reports it (``isa_error``/``gs_error``/``st_error``/``seg_error``/``ele_error``),
with the map node it concerns, then lets the normal handler do its work.

pyx12 4.0 crashes with ``IndexError`` on a composite with more components than its map allows
(``SV107`` ``1:2:3:4:5``: ``map_if/_segment.py`` indexes ``children[subele_count + 1]``). While
pyx12 runs, ``segment_if.is_valid_errors`` is wrapped: on that crash the segment is validated
again with the extra components cut off, and a "too many components" error (IK4 code 3, as pyx12
meant it) is added, so the validation goes on past the segment.

Maps are loaded once per process (:func:`_cached_load_map`). All replacements are undone when the run ends, and runs are serialised by a lock. pyx12's
logging is silenced during the run. Exceptions that escape pyx12 are returned, not raised.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pyx12.error_handler
import pyx12.error_item
import pyx12.map_if
import pyx12.params
import pyx12.segment
import pyx12.x12n_document
from pyx12.map_if._segment import segment_if

from scrubber.check.structure.rawerror import RawError

_LOCK = threading.RLock()
_BASE_ERRH = pyx12.error_handler.err_handler
_BASE_IS_VALID_ERRORS = segment_if.is_valid_errors


def _loop_id(node: Any) -> str | None:
    """The id of the loop a map node belongs to (``2010AA``, ``HEADER`` ...)."""
    try:
        parent = node.get_parent() if node is not None else None
        while parent is not None and not parent.is_loop():
            parent = parent.get_parent()
        return parent.id if parent is not None else None
    except Exception:
        return None


class _Recorder:
    def __init__(self) -> None:
        self.errors: list[RawError] = []
        self.src: Any = None
        self.seg_map: Any = None  # map node of the segment add_seg was last called with
        self.seg_line: int | None = None
        self.seg_data_id: str | None = None

    def cur_line(self) -> int | None:
        try:
            return int(self.src.get_cur_line()) if self.src is not None else None
        except Exception:
            return None


def _make_errh_class(rec: _Recorder) -> type:
    class RecordingErrHandler(_BASE_ERRH):  # type: ignore[misc, valid-type]
        def add_isa_loop(self, seg_data: Any, src: Any) -> None:
            rec.src = src
            super().add_isa_loop(seg_data, src)

        def add_gs_loop(self, seg_data: Any, src: Any) -> None:
            rec.src = src
            super().add_gs_loop(seg_data, src)

        def add_st_loop(self, seg_data: Any, src: Any) -> None:
            rec.src = src
            super().add_st_loop(seg_data, src)

        def add_seg(self, map_node: Any, seg_data: Any, seg_count: Any, cur_line: Any, ls_id: Any) -> None:
            rec.seg_map = map_node
            rec.seg_line = cur_line
            try:
                rec.seg_data_id = seg_data.get_seg_id()
            except Exception:
                rec.seg_data_id = None
            super().add_seg(map_node, seg_data, seg_count, cur_line, ls_id)

        def isa_error(self, err_cde: str, err_str: str) -> None:
            rec.errors.append(RawError("isa", str(err_cde), str(err_str), rec.cur_line(), "ISA"))
            super().isa_error(err_cde, err_str)

        def gs_error(self, err_cde: str, err_str: str) -> None:
            rec.errors.append(RawError("gs", str(err_cde), str(err_str), rec.cur_line(), "GS"))
            super().gs_error(err_cde, err_str)

        def st_error(self, err_cde: str, err_str: str) -> None:
            rec.errors.append(RawError("st", str(err_cde), str(err_str), rec.cur_line(), "ST"))
            super().st_error(err_cde, err_str)

        def seg_error(self, err_cde: str, err_str: str, err_value: Any = None, src_line: Any = None) -> None:
            line = src_line if src_line else rec.cur_line()
            err = RawError("seg", str(err_cde), str(err_str), line, value=err_value)
            node = rec.seg_map if rec.seg_line == line else None
            if node is not None:
                err.seg_id = getattr(node, "id", None)
                err.loop = _loop_id(node)
                err.name = getattr(node, "name", None)
                if "Mandatory loop" in err.message:
                    missing = node.get_parent()
                    err.missing_loop = getattr(missing, "id", None)
                    err.loop = _loop_id(missing)
            if rec.seg_line == line:
                err.data_id = rec.seg_data_id
                if err.seg_id is None:
                    err.seg_id = rec.seg_data_id
            rec.errors.append(err)
            super().seg_error(err_cde, err_str, err_value, src_line)

        def ele_error(self, err_cde: str, err_str: str, bad_value: Any, refdes: Any = None) -> None:
            ele = self.cur_ele_node
            err = RawError("ele", str(err_cde), str(err_str), rec.cur_line(), value=bad_value)
            if ele is not None:
                err.ele_ref_num = getattr(ele, "ele_ref_num", None)
                err.name = getattr(ele, "name", None)
                pos, sub = getattr(ele, "ele_pos", None), getattr(ele, "subele_pos", None)
                if pos:
                    err.ele_pos = f"{pos}:{sub}" if sub else f"{pos}"
            seg = self.cur_seg_node
            if seg is not None:
                err.seg_id = getattr(seg, "seg_id", None)
            node = rec.seg_map if rec.seg_line == err.line else None
            if node is not None:
                err.loop = _loop_id(node)
            if refdes:
                err.element = _refdes(str(refdes), err.seg_id)
            rec.errors.append(err)
            super().ele_error(err_cde, err_str, bad_value, refdes)

    return RecordingErrHandler


def _refdes(refdes: str, seg_id: str | None) -> str:
    """pyx12's ``SV107-01`` / ``07`` as the guide writes it: ``SV107-1``."""
    m = re.fullmatch(r"([A-Z][A-Z0-9]{1,2})?(\d{2})(?:-(\d{1,2}))?", refdes)
    if not m:
        return refdes
    seg = m.group(1) or seg_id or ""
    out = f"{seg}{m.group(2)}"
    if m.group(3):
        out += f"-{int(m.group(3))}"
    return out


def _safe_is_valid_errors(self: Any, seg_data: Any) -> Any:
    try:
        return _BASE_IS_VALID_ERRORS(self, seg_data)
    except IndexError:
        pass
    # pyx12 4.0's crash on a composite with too many components: cut them, validate, report.
    extra = []
    text_elements = []
    for i in range(len(seg_data)):
        ref = f"{i + 1:02d}"
        value = seg_data.get_value(ref) or ""
        child = self.get_child_node_by_idx(i) if i < self.get_child_count() else None
        if isinstance(child, pyx12.map_if.composite_if):
            comps = value.split(":")
            if len(comps) > child.get_child_count():
                extra.append((ref, child, value))
                value = ":".join(comps[: child.get_child_count()])
        text_elements.append(value)
    fixed = pyx12.segment.Segment("*".join([seg_data.get_seg_id(), *text_elements]), "~", "*", ":")
    ok, errors = _BASE_IS_VALID_ERRORS(self, fixed)
    for ref, child, value in extra:
        errors.append(pyx12.error_item.EleError(
            err_cde="3",
            err_str=f'Too many sub-elements in composite "{child.name}" ({seg_data.get_seg_id()}{ref})',
            err_val=value,
            refdes=ref,
        ))
    return False, errors


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name != "pyx12.error_handler" and len(self.records) < 100:
            self.records.append(record)


@contextmanager
def _silenced() -> Iterator[_Capture]:
    logger = logging.getLogger("pyx12")
    saved = (logger.handlers[:], logger.level, logger.propagate, logger.disabled)
    cap = _Capture()
    logger.handlers = [cap]
    logger.setLevel(logging.ERROR)
    logger.propagate = False
    logger.disabled = False
    try:
        yield cap
    finally:
        logger.handlers, level, logger.propagate, logger.disabled = saved
        logger.setLevel(level)


_PARAMS: Any = None
_BASE_LOAD_MAP = pyx12.map_if.load_map_file
_MAPS: dict[tuple, Any] = {}


def _cached_load_map(map_file: str, param: Any, map_path: Any = None) -> Any:
    """pyx12's maps, loaded once per process (0.9 s for the 837P map). The validator keeps its
    counts in its walker, not in the map, so a map is the same for every run."""
    key = (map_file, map_path)
    found = _MAPS.get(key)
    if found is None:
        found = _MAPS[key] = _BASE_LOAD_MAP(map_file, param, map_path)
    return found


def run_pyx12(stream: Any) -> tuple[list[RawError], BaseException | None, list[str]]:
    """Validate ``stream`` (an open text stream); return (errors, exception raised, log messages)."""
    global _PARAMS
    rec = _Recorder()
    exc: BaseException | None = None
    with _LOCK, _silenced() as cap:
        if _PARAMS is None:
            _PARAMS = pyx12.params.params()
        pyx12.error_handler.err_handler = _make_errh_class(rec)  # type: ignore[misc]
        segment_if.is_valid_errors = _safe_is_valid_errors  # type: ignore[method-assign]
        pyx12.map_if.load_map_file = _cached_load_map
        try:
            pyx12.x12n_document.x12n_document(_PARAMS, stream, fd_997=None, fd_html=None)
        except Exception as e:  # noqa: BLE001 - pyx12 lets some input errors escape
            exc = e
        finally:
            pyx12.error_handler.err_handler = _BASE_ERRH  # type: ignore[misc]
            segment_if.is_valid_errors = _BASE_IS_VALID_ERRORS  # type: ignore[method-assign]
            pyx12.map_if.load_map_file = _BASE_LOAD_MAP
        logs = [r.getMessage() for r in cap.records]
    if exc is not None:
        rec.errors.append(RawError("file", type(exc).__name__, str(exc), rec.cur_line()))
    return rec.errors, exc, logs
