"""The lexical pass over an iCalendar stream that runs before ``icalendar`` parses it.

``icalendar`` spends its time (and most of its memory) per content line, and real exports are
mostly lines the busy reader never looks at: attendee lists, HTML descriptions, alarms, to-dos,
years of past meetings. This pass keeps only what can decide busy time in the read window, so
a 100,000-event file costs what its events near the window cost, and it refuses a stream with
more events there than the reader may read before anything is parsed.

It reads the structure the way ``icalendar`` does, so it never refuses a file the library
reads: content lines outside any component (a Podio export's trailing ``X-COMMENT``) are
ignored and an ``END`` closes the innermost open component whatever name it carries (a
mistyped ``END:VTOOD`` or ``END:VCALENDARD``). What is not iCalendar at all (an HTML page, a
JSON body, a line that is not a content line outside the calendar) raises
:class:`IcsParseError` naming the source.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from adapters.ical.errors import Deadline, IcsParseError

__all__ = ["keep_busy_lines"]

# Properties of a VEVENT that decide whether and when it is busy (RFC 5545 section 3.6.1).
# EXRULE (RFC 2445, removed in RFC 5545) is not supported by recurring-ical-events either;
# dropping it can only make an event *more* busy.
_VEVENT_PROPERTIES = frozenset(
    {
        b"UID",
        b"DTSTART",
        b"DTEND",
        b"DURATION",
        b"RRULE",
        b"RDATE",
        b"EXDATE",
        b"RECURRENCE-ID",
        b"SEQUENCE",
        b"STATUS",
        b"TRANSP",
        b"SUMMARY",
    }
)
_RECURRENCE = frozenset({b"RRULE", b"RDATE", b"EXDATE", b"RECURRENCE-ID"})
_WHEN = frozenset({b"DTSTART", b"DTEND", b"DURATION", b"STATUS"})
_PLACING = _WHEN | _RECURRENCE
_VEVENT_INITIALS = bytes(sorted({n[0] for n in (*_VEVENT_PROPERTIES, b"BEGIN", b"END")}))
_VEVENT_INITIALS += _VEVENT_INITIALS.lower()
_CONTENT_LINE = re.compile(rb"[A-Za-z0-9-]+[;:]")  # RFC 5545 section 3.1: name, then ; or :
_EIGHT_DIGITS = re.compile(rb"[0-9]{8}")
# Local dates in a file differ from UTC by at most 26 hours, and the reader queries
# recurrence two days wider than its window; one more day of margin keeps this pass exact.
_MARGIN = timedelta(days=3)
_CHECK_EVERY = 1 << 16  # lines between two deadline checks


def keep_busy_lines(
    raw: bytes,
    source: str,
    window: tuple[date, date],
    max_events: int,
    deadline: Deadline,
) -> bytes:
    """The content lines of ``raw`` that can affect busy time in ``window`` (UTC dates).

    Kept: calendar properties, whole VTIMEZONEs (TZIDs refer to them, section 3.6.5) and the
    busy-relevant properties of VEVENTs that may overlap the window: any VEVENT that recurs,
    or whose DTSTART/DTEND cannot be placed from their text, is kept. Dropped: other
    components (VTODO, VJOURNAL, VFREEBUSY, VALARM, ...), which never make a person busy.

    Raises:
        IcsParseError: not iCalendar; truncated; more than ``max_events`` VEVENTs that may
            fall in the window.
    """
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    elif raw[:2] in {b"\xff\xfe", b"\xfe\xff"}:
        # Not allowed by section 3.1.4, but Outlook on Windows can save UTF-16.
        raw = raw.decode("utf-16", errors="replace").encode("utf-8")
    state = _Structure(source, window, max_events)
    out = state.out
    keep = False
    initials: bytes | None = None  # first letters a kept line can have here; None: any
    head = b""
    for number, line in enumerate(raw.splitlines()):
        if not number % _CHECK_EVERY:
            deadline.check()
        first = line[:1]
        if first in {b" ", b"\t"}:
            if keep:
                out.append(line)
                if head in _WHEN:
                    state.placeable = False  # a folded date: leave it to icalendar
            continue
        if initials is not None and first not in initials:
            keep = False  # the cheap test drops most lines: attendees, descriptions, ...
            continue
        if not line:
            continue
        head = line.split(b":", 1)[0].split(b";", 1)[0].strip().upper()
        stack = state.stack
        if head == b"BEGIN":
            keep = state.begin(line)
            initials = _initials(stack)
        elif head == b"END":
            keep = state.end(line)
            initials = _initials(stack)
        elif not stack:
            if not _CONTENT_LINE.match(line):
                raise IcsParseError(
                    f"{source}: not an iCalendar file (expected BEGIN:VCALENDAR, "
                    f"found {_excerpt(line)})"
                )
            keep = False  # a property outside any component: icalendar ignores it too
        elif len(stack) == 1 or stack[1] == b"VTIMEZONE":
            keep = True
        else:
            keep = len(stack) == 2 and stack[1] == b"VEVENT" and head in _VEVENT_PROPERTIES
            if keep and head in _PLACING:
                state.note(head, line)
        if keep:
            out.append(line)
    return state.finish(raw)


class _Structure:
    """The open components of the stream and what the open VEVENT needs to be judged."""

    def __init__(self, source: str, window: tuple[date, date], max_events: int) -> None:
        self.source = source
        self.window = window
        self.low = (window[0] - _MARGIN).strftime("%Y%m%d").encode()
        self.high = (window[1] + _MARGIN).strftime("%Y%m%d").encode()
        self.max_events = max_events
        self.out: list[bytes] = []
        self.stack: list[bytes] = []
        self.calendars = 0
        self.events = 0  # VEVENTs kept so far
        self.event_at = -1  # index in ``out`` of the open top-level VEVENT's BEGIN, or -1
        self.when: dict[bytes, bytes] = {}  # its DTSTART, DTEND, DURATION, STATUS values
        self.placeable = True  # False once it recurs or has a time not readable as text

    def begin(self, line: bytes) -> bool:
        """Open a component; whether its BEGIN line is kept."""
        name = line.partition(b":")[2].strip().upper()
        stack = self.stack
        if not stack:
            if name != b"VCALENDAR":
                raise IcsParseError(
                    f"{self.source}: not an iCalendar file (expected BEGIN:VCALENDAR, "
                    f"found {_excerpt(line)})"
                )
            self.calendars += 1
        stack.append(name)
        keep = _keep_component(stack)
        if keep and len(stack) == 2 and name == b"VEVENT":
            self.event_at, self.placeable = len(self.out), True
            self.when.clear()
        return keep

    def end(self, line: bytes) -> bool:
        """Close the innermost component whatever name the END carries, as icalendar does;
        whether the END line is kept (a VEVENT outside the window is removed whole)."""
        stack = self.stack
        if not stack:
            raise IcsParseError(
                f"{self.source}: malformed iCalendar ({_excerpt(line)} without a BEGIN)"
            )
        keep = _keep_component(stack)
        if len(stack) == 2 and self.event_at >= 0:
            if self.placeable and _outside(self.when, self.low, self.high):
                del self.out[self.event_at :]
                keep = False
            else:
                self.events += 1
                if self.events > self.max_events:
                    raise IcsParseError(
                        f"{self.source}: more than {self.max_events} events between "
                        f"{self.window[0].isoformat()} and {self.window[1].isoformat()} "
                        "(give or take three days); refusing to read a calendar this large"
                    )
            self.event_at = -1
        stack.pop()
        return keep

    def note(self, head: bytes, line: bytes) -> None:
        """Remember a kept property of the open VEVENT that decides whether it can be dropped."""
        if self.event_at < 0:
            return
        if head in _RECURRENCE or head in self.when:
            self.placeable = False  # recurs, or a time twice (the reader reports that)
        else:
            self.when[head] = line.rpartition(b":")[2].strip()

    def finish(self, raw: bytes) -> bytes:
        if not self.calendars:
            if not raw.strip():
                raise IcsParseError(f"{self.source}: not an iCalendar file (it is empty)")
            raise IcsParseError(f"{self.source}: not an iCalendar file (no BEGIN:VCALENDAR in it)")
        if self.stack:
            name = self.stack[-1].decode(errors="replace")
            shown = name if name.replace("-", "").isalnum() else repr(name)
            raise IcsParseError(
                f"{self.source}: truncated iCalendar data (BEGIN:{shown} is never closed)"
            )
        self.out.append(b"")
        return b"\r\n".join(self.out)


def _outside(when: dict[bytes, bytes], low: bytes, high: bytes) -> bool:
    """Whether a one-off VEVENT certainly lies outside ``[low, high]`` (``YYYYMMDD`` bytes).

    Only the date digits are compared, so the answer is certain whatever the time zone.
    """
    start = when.get(b"DTSTART", b"")[:8]
    if not _EIGHT_DIGITS.fullmatch(start) or when.get(b"STATUS", b"").upper() == b"CANCELLED":
        # A cancelled event may be the master of moved instances it cancels; keep it.
        return False
    if b"DTEND" in when:
        end = when[b"DTEND"][:8]
        if not _EIGHT_DIGITS.fullmatch(end):
            return False
        first, last = min(start, end), max(start, end)  # the reader swaps a backwards event
        return last < low or first > high
    if b"DURATION" in when:
        return start > high and not when[b"DURATION"].startswith(b"-")
    return start < low or start > high


def _keep_component(stack: list[bytes]) -> bool:
    """Whether the component on top of ``stack`` survives :func:`keep_busy_lines`."""
    if len(stack) == 1 or stack[1] == b"VTIMEZONE":
        return True
    return len(stack) == 2 and stack[1] == b"VEVENT"


def _initials(stack: list[bytes]) -> bytes | None:
    """First letters of the lines :func:`keep_busy_lines` may keep inside ``stack``."""
    if len(stack) <= 1 or stack[1] == b"VTIMEZONE":
        return None
    if len(stack) == 2 and stack[1] == b"VEVENT":
        return _VEVENT_INITIALS
    return b"BEbe"  # only BEGIN/END matter inside a dropped component


def _excerpt(line: bytes) -> str:
    text = line[:60].decode("utf-8", errors="replace")
    return repr(text + ("..." if len(line) > 60 else ""))
