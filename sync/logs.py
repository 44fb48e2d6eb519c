"""One logger tree: every log line liftrun's process writes, in one of two shapes.

``--log-format text`` (default) is for people, ``--log-format json`` one JSON object a line for log
collectors. The single handler sits on the root logger, so the lines of ``adapters.*``,
``sync.*``, ``planner.*``, ``config.*``, ``liftrun.*``, httpx and uvicorn all take the same
shape; handlers a library installed on its own loggers are removed, because they would write
lines in their own format around ours.

What is logged often comes from outside (paths, source names, HTTP request paths, event
summaries, exception messages), so the formatter, which every record passes through whatever
logger created it, makes each line safe before it is written:

* every URL is shown as ``adapters.locations.display_name`` shows it (scheme, host, last path
  segment): a subscribed calendar's address is a password, and httpx logs full URLs;
* a run of 32 or more ``[A-Za-z0-9_-]`` characters holding a digit or a capital letter becomes
  ``<token>``: the feed token (43 such characters) wherever it turns up, also mistyped,
  revoked or percent-encoded in an odd request path; snake_case names and UUIDs are spared;
* control characters (C0, DEL, C1, the Unicode line and paragraph separators and bidi
  overrides) are escaped (``\\x1b``, ``\\n``), so a ``%0a`` in a request path cannot forge a
  line and a ``%1b`` cannot reach a terminal as an escape sequence. A traceback keeps its line
  breaks; each of its lines is made safe the same way. JSON escapes C0 itself; the rest is
  written as ``\\u`` escapes, so every JSON line stays one valid line.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TextIO

from adapters.locations import display_name

FORMATS = ("text", "json")

# Loggers of liftrun's own packages: INFO, or DEBUG with -v. Everything else (httpx, uvicorn,
# googleapiclient, caldav...) inherits the root's WARNING, or INFO with -v.
OWN_LOGGERS = ("liftrun", "adapters", "sync", "planner", "config")

_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s'\"<>]+")
_RUN = re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{32,}(?![A-Za-z0-9_-])")
_UUID = re.compile(r"[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")
_SECRET_LOOKING = re.compile(r"[0-9A-Z]")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_NOT_ESCAPED_BY_JSON = re.compile("[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escaped(match: re.Match[str]) -> str:
    char = match.group(0)
    code = ord(char)
    return _NAMED.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def escape_controls(text: str) -> str:
    """``text`` on one line, with every control character written as an escape."""
    return _CONTROL.sub(_escaped, text)


def _token(match: re.Match[str]) -> str:
    run = match.group(0)
    if _UUID.fullmatch(run) or not _SECRET_LOOKING.search(run):
        return run
    return "<token>"


def _shortened(match: re.Match[str]) -> str:
    """A URL as ``display_name`` shows it; punctuation that ends the sentence around it
    (``…, not http://h:1:``) stays outside, and a scheme with no host is prose, not a URL."""
    url = match.group(0)
    core = url.rstrip(".,;:!?)]}")
    if not core.partition("://")[2]:
        return url
    try:
        shown = display_name(core)
    except ValueError:  # "http://[x/": too malformed to parse; a log line must not raise
        shown = f"{core.split(':', 1)[0]}://…"
    return shown + url[len(core) :]


def redact(text: str) -> str:
    """``text`` with URLs shortened and token-shaped runs replaced; control characters kept."""
    if "://" in text:
        text = _URL.sub(_shortened, text)
    return _RUN.sub(_token, text)


def safe_line(text: str) -> str:
    """What any log line may show of ``text``: redacted, then on one line."""
    return escape_controls(redact(text))


def safe_lines(text: str) -> str:
    """A multi-line ``text`` (a traceback, a list of config errors), each line made safe."""
    return "\n".join(safe_line(line) for line in text.split("\n"))


class _Safe(logging.Formatter):
    def _details(self, record: logging.LogRecord, clean: Callable[[str], str]) -> str:
        """The traceback and stack of ``record``, each line passed through ``clean``, or ``""``."""
        parts = []
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            parts.append(record.exc_text)
        if record.stack_info:
            parts.append(self.formatStack(record.stack_info))
        return "\n".join(clean(line) for line in "\n".join(parts).split("\n")) if parts else ""


class TextLines(_Safe):
    """``time LEVEL logger: message``, one line, then the traceback if any, every line of it
    indented: only a record's first line starts with a time, whatever an exception says."""

    def format(self, record: logging.LogRecord) -> str:
        line = (
            f"{self.formatTime(record)} {record.levelname} {escape_controls(record.name)}: "
            f"{safe_line(record.getMessage())}"
        )
        details = self._details(record, lambda text: "  " + safe_line(text))
        return f"{line}\n{details}" if details else line


class JsonLines(_Safe):
    """One JSON object a line: ``time`` (UTC, ISO 8601), ``level``, ``logger``, ``message``,
    and ``error`` (the traceback) when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        details = self._details(record, redact)
        if details:
            entry["error"] = details
        return json_line(entry)


def json_line(entry: object) -> str:
    """``entry`` as JSON on one line, with no raw control character left in it."""
    text = json.dumps(entry, ensure_ascii=False, default=str)
    return _NOT_ESCAPED_BY_JSON.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)


class _Handler(logging.StreamHandler):  # type: ignore[type-arg]
    """The one handler of the tree. Without a stream of its own it writes to whatever
    ``sys.stderr`` is at the time (click's test runner swaps it, then closes its copy)."""

    def __init__(self, stream: TextIO | None) -> None:
        super().__init__(stream if stream is not None else sys.stderr)
        self._follow_stderr = stream is None

    def emit(self, record: logging.LogRecord) -> None:
        if self._follow_stderr:
            self.stream = sys.stderr
        super().emit(record)


def _theirs(handler: logging.Handler) -> bool:
    """A handler a library or an earlier setup put up to print lines (uvicorn's, basicConfig's):
    plain stream handlers on the standard streams. A test's capture handler stays."""
    if isinstance(handler, _Handler):
        return True
    if type(handler) is not logging.StreamHandler:
        return False
    stream = getattr(handler, "stream", None)
    return stream in (sys.stderr, sys.stdout, sys.__stderr__, sys.__stdout__)


def setup(fmt: str, *, verbose: bool = False, stream: TextIO | None = None) -> None:
    """Route every logger's records to one handler on the root, in ``fmt`` (``text`` or
    ``json``); ``verbose`` lowers liftrun's loggers to DEBUG and the libraries' to INFO.

    ``stream`` is for tests; the default is the process's stderr.
    """
    if fmt not in FORMATS:
        raise ValueError(f"log format {fmt!r}: use one of {', '.join(FORMATS)}")
    handler = _Handler(stream)
    handler.setFormatter(JsonLines() if fmt == "json" else TextLines())
    root = logging.getLogger()
    root.handlers[:] = [h for h in root.handlers if not _theirs(h)] + [handler]
    root.setLevel(logging.INFO if verbose else logging.WARNING)
    for logger in _existing_loggers():
        own = [h for h in logger.handlers if _theirs(h)]
        for h in own:
            logger.removeHandler(h)
        if own or not logger.handlers:
            logger.propagate = True
    for name in OWN_LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG if verbose else logging.INFO)
    # Libraries also speak through ``warnings`` (icalendar guessing a vendor TZID): those lines
    # must be JSON under --log-format json and as safe as any other.
    logging.captureWarnings(True)


def _existing_loggers() -> list[logging.Logger]:
    return [
        logger
        for logger in list(logging.root.manager.loggerDict.values())
        if isinstance(logger, logging.Logger)
    ]


def active_format() -> str | None:
    """The format of the last ``setup`` in this process (None before any)."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler, _Handler):
            return "json" if isinstance(handler.formatter, JsonLines) else "text"
    return None
