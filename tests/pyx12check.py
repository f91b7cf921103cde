"""Validate an X12 file with pyx12 and return its errors as a structured list.

Test helper, importable from tests (``from pyx12check import pyx12_errors``).

``pyx12_errors(path)`` runs ``pyx12.x12n_document.x12n_document`` (the same
engine as pyx12's ``x12valid`` script; params from ``pyx12.params.params()``)
on a file and returns one dict per error pyx12 reports; ``[]`` means pyx12
found the file valid. ``pyx12_ok(path)`` is ``not pyx12_errors(path)``.

How the errors are collected
----------------------------
``x12n_document`` keeps its error tree (``pyx12.error_handler.err_handler``) to
itself and only exposes it through the 997/999, HTML or JSON visitors. Those
visitors do not see everything: element errors on envelope segments
(ISA/GS/ST/IEA/GE/SE) are stored in ``err_isa.elements`` etc., which no visitor
walks, and a segment error raised before the first ST is only logged
("No current segment in error_handler"). So while pyx12 runs, this helper
substitutes a subclass of ``err_handler`` that records every error at the
moment pyx12 reports it (``isa_error``/``gs_error``/``st_error``/
``seg_error``/``ele_error``), then lets the normal handler do its work. If a
future pyx12 no longer builds its handler through
``pyx12.error_handler.err_handler`` the helper falls back to the JSON error
document (``fd_json``). A per-segment callback records the segment id and the
enclosing CLM01 for each segment, so every error can be tied to a claim.

pyx12's logging is silenced for the duration of the call; ERROR records that
do not come from the error handler (e.g. "... does not look like an X12 data
file") and exceptions that escape pyx12 (e.g. ``UnicodeDecodeError`` on a
UTF-8 BOM or UTF-16 file, which pyx12 opens as ASCII, or ``EngineError``
"Map not found", or ``IndexError`` from pyx12 4.0's own bug on a composite
with too many components, e.g. SV107 ``1:2:3:4:5``) are returned as
``level == "file"`` errors instead of raising; when pyx12 raised in the
middle of the file, such an error carries the line, segment id and claim
where it stopped (pyx12 validates nothing after that point).

Each error dict has at least these keys:

``level``      "isa" | "gs" | "st" | "seg" | "ele" | "file"
``seg_id``     id of the segment being processed when pyx12 reported it
               (e.g. "SV1", "SE", "IEA"); None for file-level errors
``line``       pyx12's line number: the 1-based ordinal of that segment in
               the file (ISA = 1), counted across interchanges. It equals
               the physical line number only for one-segment-per-line files.
``seg_count``  position of the segment within its ST..SE (ST = 1), or None
``seg_pos``    the segment's position in the implementation guide map
               (e.g. 3700 for 2400/SV1), or None
``code``       pyx12's error code (for seg/ele errors the 999 IK3/IK4 code,
               for envelope errors the TA1/AK9/IK5-style code, for file
               errors the exception class or "X12Error")
``message``    pyx12's error text
``value``      offending value when pyx12 gives one, else None
``element``    reference designator of the element ("SV107-01", "HI01-02")
               for element errors, else None
``ele_ref_num`` X12 data element number for element errors, else None
``isa13``/``gs06``/``st02``  control numbers of the enclosing envelopes
``claim_id``   CLM01 of the claim (2300 loop and its 2400 lines) the
               segment belongs to, else None
``last_claim_id`` CLM01 of the most recent CLM in the same ST at or before
               the segment; useful for "missing loop" errors that pyx12
               reports on the next HL or on SE
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pyx12.error_handler
import pyx12.errors
import pyx12.params
import pyx12.x12n_document

__all__ = ["pyx12_errors", "pyx12_ok", "format_errors"]

_LOCK = threading.RLock()
_BASE_ERRH = pyx12.error_handler.err_handler
_ENVELOPE_IDS = {"ISA", "GS", "ST", "IEA", "GE", "SE"}


class _Capture(logging.Handler):
    """Collects pyx12 log records (instead of printing them)."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def _silenced_pyx12_logging() -> Iterator[_Capture]:
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
        logger.handlers, lvl, logger.propagate, logger.disabled = (
            saved[0],
            saved[1],
            saved[2],
            saved[3],
        )
        logger.setLevel(lvl)


class _Recorder:
    """Shared state between the recording error handler and the callback."""

    def __init__(self) -> None:
        self.errors: list[dict[str, Any]] = []
        self.src: Any = None
        self.used = False
        self.last_seg: tuple[int | None, str | None] = (None, None)  # (line, seg_id)
        # per pyx12 line: (seg_id, claim_id, last_claim_id, isa13, gs06, st02, seg_count)
        self.lines: dict[int, tuple[Any, ...]] = {}
        self._claim: str | None = None
        self._last_claim: str | None = None
        self._isa: str | None = None
        self._gs: str | None = None
        self._st: str | None = None

    # ---- callback from x12n_document, once per segment, after its errors ----
    def callback(self, seg: Any, src: Any, node: Any, valid: Any) -> None:
        try:
            seg_id = seg.get_seg_id()
            if seg_id == "ISA":
                self._isa = seg.get_value("ISA13")
                self._gs = self._st = self._claim = self._last_claim = None
            elif seg_id == "GS":
                self._gs = seg.get_value("GS06")
                self._st = self._claim = self._last_claim = None
            elif seg_id == "ST":
                self._st = seg.get_value("ST02")
                self._claim = self._last_claim = None
            elif seg_id == "CLM":
                self._claim = self._last_claim = seg.get_value("CLM01")
            elif seg_id in ("HL", "SE", "GE", "IEA"):
                self._claim = None
            self.lines[src.get_cur_line()] = (
                seg_id,
                self._claim,
                self._last_claim,
                self._isa,
                self._gs,
                self._st,
                None if seg_id in ("ISA", "GS", "GE", "IEA") else src.get_seg_count(),
            )
        except Exception:  # never let the callback disturb pyx12
            pass

    def cur_line(self) -> int | None:
        try:
            return int(self.src.get_cur_line()) if self.src is not None else None
        except Exception:
            return None

    def add(self, level: str, code: Any, message: Any, **extra: Any) -> None:
        err: dict[str, Any] = {
            "level": level,
            "seg_id": None,
            "line": None,
            "seg_count": None,
            "seg_pos": None,
            "code": None if code is None else str(code),
            "message": None if message is None else str(message),
            "value": None,
            "element": None,
            "ele_ref_num": None,
            "isa13": None,
            "gs06": None,
            "st02": None,
            "claim_id": None,
            "last_claim_id": None,
        }
        err.update(extra)
        self.errors.append(err)

    def resolve(self) -> list[dict[str, Any]]:
        """Fill segment id / envelope / claim context from the per-line map."""
        for err in self.errors:
            line = err.get("line")
            ctx = self.lines.get(line) if line is not None else None
            if ctx is None:
                continue
            seg_id, claim, last_claim, isa, gs, st, seg_count = ctx
            err["seg_id"] = seg_id
            err["claim_id"] = claim
            err["last_claim_id"] = last_claim
            err["isa13"] = isa
            err["gs06"] = gs if err["level"] != "isa" else None
            err["st02"] = st if err["level"] not in ("isa", "gs") else None
            if err.get("seg_count") is None:
                err["seg_count"] = seg_count
        return self.errors


def _make_errh_class(rec: _Recorder) -> type:
    class RecordingErrHandler(_BASE_ERRH):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            rec.used = True

        def add_isa_loop(self, seg_data: Any, src: Any) -> None:
            rec.src = src
            super().add_isa_loop(seg_data, src)

        def add_gs_loop(self, seg_data: Any, src: Any) -> None:
            rec.src = src
            super().add_gs_loop(seg_data, src)

        def add_st_loop(self, seg_data: Any, src: Any) -> None:
            rec.src = src
            super().add_st_loop(seg_data, src)

        def add_seg(self, map_node: Any, seg_data: Any, *args: Any, **kwargs: Any) -> None:
            try:
                rec.last_seg = (rec.cur_line(), seg_data.get_seg_id())
            except Exception:
                pass
            super().add_seg(map_node, seg_data, *args, **kwargs)

        def isa_error(self, err_cde: str, err_str: str) -> None:
            rec.add("isa", err_cde, err_str, line=rec.cur_line())
            super().isa_error(err_cde, err_str)

        def gs_error(self, err_cde: str, err_str: str) -> None:
            rec.add("gs", err_cde, err_str, line=rec.cur_line())
            super().gs_error(err_cde, err_str)

        def st_error(self, err_cde: str, err_str: str) -> None:
            rec.add("st", err_cde, err_str, line=rec.cur_line())
            super().st_error(err_cde, err_str)

        def seg_error(
            self,
            err_cde: str,
            err_str: str,
            err_value: str | None = None,
            src_line: int | None = None,
        ) -> None:
            line = src_line if src_line else rec.cur_line()
            node = self.cur_seg_node
            seg_pos = seg_count = None
            if node is not None and getattr(node, "id", None) == "SEG":
                if node.get_cur_line() == line:
                    seg_pos, seg_count = node.pos, node.seg_count
            rec.add(
                "seg",
                err_cde,
                err_str,
                value=err_value,
                line=line,
                seg_pos=seg_pos,
                seg_count=seg_count,
            )
            super().seg_error(err_cde, err_str, err_value, src_line)

        def ele_error(
            self,
            err_cde: str,
            err_str: str,
            bad_value: str | None,
            refdes: str | None = None,
        ) -> None:
            ele = self.cur_ele_node
            node = self.cur_seg_node
            seg_pos = None
            if node is not None and getattr(node, "id", None) == "SEG":
                seg_pos = node.pos
            rec.add(
                "ele",
                err_cde,
                err_str,
                value=bad_value,
                line=rec.cur_line(),
                seg_pos=seg_pos,
                element=refdes,
                ele_ref_num=getattr(ele, "ele_ref_num", None),
            )
            super().ele_error(err_cde, err_str, bad_value, refdes)

    return RecordingErrHandler


def _errors_from_json(text: str, rec: _Recorder) -> None:
    """Fallback: flatten pyx12's JSON error document (errh_json)."""
    try:
        doc = json.loads(text)
    except ValueError:
        return
    for isa in doc.get("interchanges", []):
        for e in isa.get("errors", []):
            rec.add("isa", e.get("err_cde"), e.get("err_str"), line=isa.get("cur_line"))
        for gs in isa.get("groups", []):
            for e in gs.get("errors", []):
                rec.add("gs", e.get("err_cde"), e.get("err_str"), line=gs.get("cur_line"))
            for st in gs.get("transactions", []):
                for e in st.get("errors", []):
                    rec.add("st", e.get("err_cde"), e.get("err_str"), line=st.get("cur_line"))
                for seg in st.get("segments", []):
                    base = {
                        "line": seg.get("cur_line"),
                        "seg_pos": seg.get("pos"),
                        "seg_count": seg.get("seg_count"),
                    }
                    for e in seg.get("errors", []):
                        rec.add(
                            "seg",
                            e.get("err_cde"),
                            e.get("err_str"),
                            value=e.get("err_val"),
                            **base,
                        )
                    for ele in seg.get("elements", []):
                        ref = f"{seg.get('seg_id')}{ele.get('ele_pos') or 0:02d}"
                        if ele.get("subele_pos"):
                            ref += f"-{ele['subele_pos']:02d}"
                        for e in ele.get("errors", []):
                            rec.add(
                                "ele",
                                e.get("err_cde"),
                                e.get("err_str"),
                                value=e.get("err_val"),
                                element=ref,
                                ele_ref_num=ele.get("ele_ref_num"),
                                **base,
                            )


_LOG_RE = re.compile(r"Line:(\d+) (ISA|GS|ST|SEG|ELE):(\S+) - (.*)$", re.S)


def _add_from_log(rec: _Recorder, msg: str) -> None:
    """Fallback: rebuild an error from an error_handler log line."""
    m = _LOG_RE.search(msg)
    if m is None:
        rec.add("file", "LOG", msg)
        return
    line, kind, code, text = m.groups()
    rec.add(kind.lower(), code, text, line=int(line))


def pyx12_errors(path: str | os.PathLike[str], *, strip_bom: bool = False) -> list[dict[str, Any]]:
    """Validate ``path`` with pyx12; return the list of errors ([] if valid).

    By default the file is handed to pyx12 by name, exactly as pyx12's own
    ``x12valid`` script does (pyx12 then opens it as ASCII). With
    ``strip_bom=True`` the file is opened as ``utf-8-sig`` and the open file
    is passed instead, so a UTF-8 byte order mark is dropped before pyx12
    sees the text.
    """
    path = os.fspath(path)
    rec = _Recorder()
    fd_json = io.StringIO()
    returned: bool | None = None
    exc: BaseException | None = None
    with _LOCK, _silenced_pyx12_logging() as cap:
        param = pyx12.params.params()
        pyx12.error_handler.err_handler = _make_errh_class(rec)  # type: ignore[misc]
        src: Any = path
        fh = None
        try:
            if strip_bom:
                fh = open(path, encoding="utf-8-sig", newline="")
                src = fh
            returned = pyx12.x12n_document.x12n_document(
                param,
                src,
                fd_997=None,
                fd_html=None,
                fd_xmldoc=None,
                fd_json=fd_json,
                callback=rec.callback,
            )
        except Exception as e:  # pyx12 lets some input errors escape
            exc = e
        finally:
            pyx12.error_handler.err_handler = _BASE_ERRH  # type: ignore[misc]
            if fh is not None:
                fh.close()
        records = list(cap.records)

    if not rec.used and exc is None:
        _errors_from_json(fd_json.getvalue(), rec)
    # ERROR log records. Those of pyx12.error_handler mirror the errors
    # recorded above; they are only used when the recorder was not in place
    # and pyx12 produced no JSON document either (it raised mid-file). The
    # others are file-level, e.g. x12n_document's
    # '"<file>" does not look like an X12 data file'.
    use_errh_log = not rec.used and not fd_json.getvalue()
    for r in records:
        msg = r.getMessage()
        if r.name == "pyx12.error_handler":
            if use_errh_log:
                _add_from_log(rec, msg)
            continue
        if msg.startswith("Failed to write JSON error output"):
            continue  # concerns only the fallback output, not the file
        code = "X12Error" if "does not look like an X12 data file" in msg else "LOG"
        rec.add("file", code, msg)
    rec.resolve()
    if exc is not None:
        # Where pyx12 was when it gave up (the segment it was validating).
        line = rec.cur_line()
        last_line, last_id = rec.last_seg
        rec.add(
            "file",
            type(exc).__name__,
            str(exc),
            line=line,
            seg_id=last_id if last_line == line else None,
            claim_id=rec._claim,
            last_claim_id=rec._last_claim,
            isa13=rec._isa,
            gs06=rec._gs,
            st02=rec._st,
        )
    if returned is False and not rec.errors:
        rec.add("file", "INVALID", "pyx12 reported the file invalid without an error message")
    return rec.errors


def pyx12_ok(path: str | os.PathLike[str], *, strip_bom: bool = False) -> bool:
    """True if pyx12 reports no errors for ``path``."""
    return not pyx12_errors(path, strip_bom=strip_bom)


def format_errors(errors: list[dict[str, Any]]) -> str:
    """One line per error, for assertion messages."""
    out = []
    for e in errors:
        where = f"line {e['line']} {e['seg_id']}" if e.get("line") is not None else "file"
        if e.get("element"):
            where += f" {e['element']}"
        claim = e.get("claim_id") or e.get("last_claim_id")
        if claim:
            where += f" [claim {claim}]"
        out.append(f"{e['level']}:{e['code']} {where}: {e['message']}")
    return "\n".join(out)


if __name__ == "__main__":  # python tests/pyx12check.py FILE...
    import sys

    status = 0
    for p in sys.argv[1:]:
        errs = pyx12_errors(p)
        print(f"{p}: {len(errs)} error(s)")
        if errs:
            status = 1
            print(format_errors(errs))
    sys.exit(status)
