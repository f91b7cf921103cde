"""Logging setup shared by the commands (structlog), and the processor that keeps person data out.

``configure_logging()`` writes one event per line to standard error: JSON lines when standard
error is not a terminal (a service, a pipe, a file), readable ``key=value`` lines on a terminal.

Log lines must never carry a person's name, member id, birth date or address. Rather than trying
to recognise such values, :func:`redact` lets through only an allow-list of keys, each with the
shape its value must have (a file name, a hex digest, a count, a rule code, an outcome ...):
a key not on the list is dropped (its name is listed under ``redacted``), a value of the wrong
shape is replaced by ``"[redacted]"``, and exceptions are reduced to their type name (a
traceback or an exception message can quote the input). Code that logs therefore cannot leak
segment text by accident: it would have to put it under an allowed key in an allowed shape.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import threading
from collections.abc import Callable
from typing import Any, TextIO

import structlog

REDACTED = "[redacted]"

_NAME = re.compile(r"[\w.,+=@~#-][\w .,+=@~#()-]{0,254}")  # a file name, without directories
_PATH = re.compile(r"[\w./ ~+=@#,-]{1,1024}")  # a folder the operator configured
_WORDS = re.compile(r"[a-z][a-z0-9 ,;:()/'_-]{0,119}")  # an event: a short lower-case phrase
_HEX = re.compile(r"[0-9a-f]{8,64}")
_ENUM = re.compile(r"[a-z][a-z_]{0,31}")
_REASON = re.compile(r"[a-z][a-z_]{0,31}(:[A-Za-z][A-Za-z0-9_.]{0,63})?")  # e.g. unusable:EN002
_RULE = re.compile(r"[A-Z]{2,3}\d{3}")
_TYPE = re.compile(r"[A-Za-z_][A-Za-z0-9_.]{0,99}")  # an exception type name
_JOB = re.compile(r"[0-9a-z-]{1,64}")
_SENDER = re.compile(r"[A-Za-z0-9 ._-]{1,15}")  # ISA06: the submitter's interchange id
_CONTROL = re.compile(r"\d{1,9}")  # ISA13
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_LEVEL = re.compile(r"[a-z]{1,10}")
_TIME = re.compile(r"[0-9T:.+Z-]{10,40}")
_LOGGER = re.compile(r"[a-z][a-z0-9_.]{0,40}")
_CODESETS = re.compile(r"[A-Za-z0-9 .,;:()/_-]{1,400}")  # which code sets are out of date (table names, dates)
_ADDRESS = re.compile(r"(tcp|tls)://[A-Za-z0-9.:\[\]_-]{1,200}")  # a Dask scheduler or worker
_PROBLEM = re.compile(r"[A-Za-z0-9 .,;:()/'_=@#+~\[\]-]{1,400}")  # why the cluster cannot be used now

_INT_KEYS = (
    "claims", "accepted", "rejected", "errors", "warnings", "bytes", "workers", "attempts", "attempt",
    "pending", "files", "recovered", "pid", "exit_code", "threads",
)
_FLOAT_KEYS = ("duration", "settle", "rescan", "retry_in")
_SHAPES: dict[str, re.Pattern] = {
    "event": _WORDS,
    "level": _LEVEL,
    "timestamp": _TIME,
    "logger": _LOGGER,
    "file": _NAME,
    "dropped_as": _NAME,
    "duplicate_of": _NAME,
    "previous": _NAME,
    "sha256": _HEX,
    "job": _JOB,
    "outcome": _ENUM,
    "status": _ENUM,
    "reason": _REASON,
    "rule": _RULE,
    "error": _TYPE,
    "sender": _SENDER,
    "control": _CONTROL,
    "as_of": _DATE,
    "inbox": _PATH,
    "out_dir": _PATH,
    "mode": _ENUM,
    "code_sets": _CODESETS,
    "source": _LOGGER,
    "cluster": _ADDRESS,
    "problem": _PROBLEM,
}
_PLACEHOLDER = re.compile(r"\s*%(\([a-z_]+\))?[-#0 +]*\d*(\.\d+)?[a-zA-Z%]")
_NOT_IN_EVENT = re.compile(r"[^a-z0-9 ,;:()/'_-]+")
SHA_PREFIX = 12  # log lines carry the first 12 hex digits of a file's sha256


def _shape_ok(key: str, value: Any) -> bool:
    if key in _INT_KEYS:
        return isinstance(value, int) and not isinstance(value, bool)
    if key in _FLOAT_KEYS:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    pattern = _SHAPES.get(key)
    return pattern is not None and isinstance(value, str) and pattern.fullmatch(value) is not None


def allowed_keys() -> set[str]:
    return set(_INT_KEYS) | set(_FLOAT_KEYS) | set(_SHAPES)


def redact(logger: Any, method: str, event_dict: dict) -> dict:
    """structlog processor: keep allowed keys with values of the allowed shape, nothing else."""
    out: dict[str, Any] = {}
    dropped: list[str] = []
    exc = event_dict.pop("exc_info", None)
    for key in ("exception", "stack", "stack_info"):
        if event_dict.pop(key, None) is not None:
            dropped.append(key)
    if exc:
        if exc is True:
            exc = sys.exc_info()
        if isinstance(exc, BaseException):
            name = type(exc).__name__
        elif isinstance(exc, tuple) and exc and exc[0] is not None:
            name = exc[0].__name__
        else:
            name = None
        if name and "error" not in event_dict:
            event_dict["error"] = name
    for key, value in event_dict.items():
        if not isinstance(key, str) or key not in allowed_keys():
            dropped.append(str(key) if isinstance(key, str) and _TYPE.fullmatch(key) else "?")
            continue
        if key == "sha256" and isinstance(value, str):
            value = value[:SHA_PREFIX]
        if key == "duration" and isinstance(value, float):
            value = round(value, 3)
        if key == "event" and not _shape_ok(key, value):
            value = "[redacted event]"
        elif not _shape_ok(key, value):
            value = REDACTED
        out[key] = value
    if dropped:
        out["redacted"] = sorted(set(dropped))
    return out


# syslog priorities, as the journal reads them from a "<N>" prefix (sd-daemon(3))
PRIORITIES = {"debug": 7, "info": 6, "warning": 4, "warn": 4, "error": 3, "exception": 3, "critical": 2}


def on_journal(stream: TextIO) -> bool:
    """Whether ``stream`` is the journal's (systemd sets ``$JOURNAL_STREAM`` to its device:inode)."""
    expected = os.environ.get("JOURNAL_STREAM", "")
    if not expected:
        return False
    try:
        st = os.fstat(stream.fileno())
    except (AttributeError, OSError, ValueError):
        return False
    return expected == f"{st.st_dev}:{st.st_ino}"


def _journal_priority(logger, method_name: str, rendered):
    """Prefix each rendered line with its priority, so that ``journalctl -p warning`` filters them."""
    return f"<{PRIORITIES.get(method_name, 6)}>{rendered}"


def configure_logging(stream: TextIO | None = None, json_lines: bool | None = None, level: str = "info") -> bool:
    """Send structlog events to ``stream`` (standard error); JSON lines unless it is a terminal.

    Under systemd (the stream is the journal's) each line starts with its syslog priority
    (``<4>`` for a warning ...), which the journal takes as the entry's priority and strips.
    Returns whether JSON lines were chosen (worker processes are configured the same way).
    """
    stream = stream or sys.stderr
    if json_lines is None:
        try:
            json_lines = not stream.isatty()
        except (AttributeError, ValueError):
            json_lines = True
    renderer: Callable = (
        structlog.processors.JSONRenderer(sort_keys=False)
        if json_lines
        else structlog.dev.ConsoleRenderer(colors=False, pad_event_to=24)
    )
    levels = {"debug": 10, "info": 20, "warning": 30, "error": 40}
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            redact,
            renderer,
            *([_journal_priority] if on_journal(stream) else []),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(levels.get(level, 20)),
        logger_factory=structlog.WriteLoggerFactory(file=stream),
        cache_logger_on_first_use=False,
    )
    _route_stdlib(levels.get(level, 20))
    return json_lines


class _ToStructlog(logging.Handler):
    """Messages of the libraries (the standard ``logging`` module: watchdog's observer thread, say)
    and Python's warnings, as events of this log: one line each, through :func:`redact`, so that a
    JSON log stays JSON. The message's template (without its arguments), in lower case and with
    the characters an event may not carry made blanks, becomes the event (``library message``
    when nothing is left); the library's logger name is kept as ``source``."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            # the message's template, never its arguments (a path, a value): no data can come through
            template = _PLACEHOLDER.sub("", str(record.msg)).lower()
            template = " ".join(_NOT_IN_EVENT.sub(" ", template).split()).lstrip("0123456789 ,;:()/'_-")[:120].rstrip()
            text = template if record.name != "py.warnings" else "python warning"
            event = text if _WORDS.fullmatch(text) else "library message"
            name = record.name.lower() if _LOGGER.fullmatch(record.name.lower()) else "library"
            method = {logging.DEBUG: "debug", logging.INFO: "info", logging.WARNING: "warning"}.get(record.levelno, "error")
            fields = {"source": name}
            if record.exc_info and record.exc_info[0] is not None:
                fields["error"] = record.exc_info[0].__name__
            getattr(structlog.get_logger("scrubber.library"), method)(event, **fields)
        except Exception:  # noqa: BLE001 - logging must never raise
            pass


def _thread_failed(args) -> None:
    """An exception that ends a thread (watchdog's observer, say): one log event, its type only."""
    if args.exc_type is SystemExit:
        return
    structlog.get_logger("scrubber").error("thread failed", error=args.exc_type.__name__,
                                           source=_thread_name(args.thread))


def _thread_name(thread) -> str:
    name = (getattr(thread, "name", "") or "thread").lower()
    return name if _LOGGER.fullmatch(name) else "thread"


def _route_stdlib(level: int) -> None:
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, _ToStructlog):
            root.removeHandler(handler)
    handler = _ToStructlog(level=max(level, logging.WARNING))
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > handler.level:
        root.setLevel(handler.level)
    logging.captureWarnings(True)
    threading.excepthook = _thread_failed


def get_logger(name: str = "scrubber"):
    return structlog.get_logger(name)
