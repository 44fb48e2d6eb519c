"""Read busy time out of iCalendar (RFC 5545) data for the planner.

The planner must never place a session on top of something in a person's calendar, and it must
never mistake a calendar it could not read for an empty one. So this module is strict about the
input as a whole (anything that is not iCalendar raises :class:`IcsParseError`) and fails safe
about single events: what can be known about a series it cannot fully read (its first
occurrence, its RDATEs, its moved instances) stays busy, and a warning naming its UID says
exactly what was not understood. Nothing a calendar holds makes this module raise anything but
:class:`IcsParseError` (:class:`IcsTooSlow` when the caller's deadline passes).

Parsing is done by ``icalendar`` and recurrence expansion by ``recurring-ical-events``; this
module decides what counts as busy and keeps the work bounded. Three things make it fast enough
for a year of a busy professional's calendar:

* Before parsing, content lines the planner never looks at (descriptions, attendees, alarms,
  to-dos, one-off events far from the window, ...) are dropped
  (:func:`adapters.ical.lines.keep_busy_lines`), because ``icalendar`` spends its time per
  content line and real-world exports are mostly attendee lists and HTML descriptions.
* Only series that actually recur (RRULE, RDATE, EXDATE or RECURRENCE-ID) go through
  ``recurring-ical-events``; a one-off event has exactly one instance, ``[DTSTART, DTEND)``,
  which is cheap to read directly.
* Occurrences are read without ``Occurrence.as_component``, which copies the component for
  every instance (see :mod:`adapters.ical.occurrences`).

The reading is split by job into :mod:`~adapters.ical.context` (the state of one read),
:mod:`~adapters.ical.events`, :mod:`~adapters.ical.instants`, :mod:`~adapters.ical.spans`,
:mod:`~adapters.ical.expansion` (the expansion budget), :mod:`~adapters.ical.recurring` and
:mod:`~adapters.ical.occurrences`; this module holds the entry points and the walk through a
calendar.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar

from adapters.ical.context import Context
from adapters.ical.errors import Deadline, IcsParseError, IcsTooSlow
from adapters.ical.events import (
    DETACHED,
    MISSING_UID,
    BrokenSeriesError,
    Event,
    is_transparent,
    master_of,
    public_uid_of,
    short,
    status_of,
    text_of,
    what,
    why,
)
from adapters.ical.expansion import check_expansion_budget
from adapters.ical.instants import FAR_FUTURE, FAR_PAST
from adapters.ical.lines import keep_busy_lines
from adapters.ical.recurring import read_recurring
from adapters.ical.repair import quote, repair_event
from adapters.ical.spans import span
from adapters.protocol import BusyRead
from config.files import FileRefused, read_regular_file
from planner.busy import BusyInterval

__all__ = [
    "MAX_CALENDAR_BYTES",
    "MAX_FILE_EVENTS",
    "IcsParseError",
    "IcsTooSlow",
    "read_busy",
    "read_busy_file",
]

# The largest calendar read from a file, the same cap the ICS source puts on a download.
MAX_CALENDAR_BYTES = 20 * 1024 * 1024
# Events near the window a file may hold (``plan --busy``): parsing costs about 0.13 ms and
# 3 kB per event, so this bounds a file read to a few seconds and tens of MB.
MAX_FILE_EVENTS = 20_000


_RECURRENCE_PROPERTIES = frozenset({"RRULE", "RDATE", "EXDATE", "RECURRENCE-ID"})


def read_busy(
    data: bytes | str,
    *,
    source: str,
    tz: ZoneInfo,
    start: datetime,
    end: datetime,
    max_events: int = 200_000,
    deadline: float | None = None,
) -> BusyRead:
    """Return the busy intervals of ``data`` that overlap ``[start, end)``.

    Intervals are not clipped to the window: a trip that started last week is returned with its
    real start (only an end past the year 9999 is cut at ``end``). All datetimes are converted
    to ``tz`` (the one exception is explained in :func:`_to_intervals`). Floating times (RFC
    5545 section 3.3.5, form #1) are read in the calendar's ``X-WR-TIMEZONE`` when it names a
    real zone, else in ``tz``; all-day events always cover whole local days in ``tz``, the
    planner's days.

    ``deadline`` is a ``time.monotonic()`` instant: parsing and expansion stop there.

    Raises:
        IcsTooSlow: ``deadline`` passed before reading finished.
        IcsParseError: ``data`` is not iCalendar at all, or has more than ``max_events``
            events or occurrences in the window (or recurrence rules that would need
            unreasonably many instances to expand). Never anything else for any ``data``.
        ValueError: ``start``/``end`` are naive or not in order (a programming error).
    """
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("read_busy needs timezone-aware start and end")
    if end <= start:
        raise ValueError(f"empty window: end {end.isoformat()} <= start {start.isoformat()}")
    ctx = Context(
        source=source,
        tz=tz,
        window_start=start.astimezone(UTC),
        window_end=end.astimezone(UTC),
        max_events=max_events,
        deadline=Deadline(deadline, source),
        floating=tz,
    )
    try:
        return _read(data, ctx)
    except IcsParseError:
        raise
    except Exception as exc:  # the last line of defence: a calendar never breaks the caller
        raise IcsParseError(
            f"{source}: could not be read ({type(exc).__name__}: {short(str(exc))})"
        ) from exc


def read_busy_file(
    path: Path,
    *,
    tz: ZoneInfo,
    start: datetime,
    end: datetime,
    max_events: int = MAX_FILE_EVENTS,
    deadline: float | None = None,
) -> BusyRead:
    """Read busy time from an ``.ics`` file; an unreadable file is an error, never free time.

    Only a regular file of at most :data:`MAX_CALENDAR_BYTES` is read (a FIFO or a device
    would hang or flood the read). Every error message starts with the path, once.
    """
    try:
        data = read_regular_file(path, MAX_CALENDAR_BYTES)
    except FileRefused as exc:
        raise IcsParseError(f"{path}: cannot read calendar file: {exc.reason}") from None
    return read_busy(
        data,
        source=str(path),
        tz=tz,
        start=start,
        end=end,
        max_events=max_events,
        deadline=deadline,
    )


def _read(data: bytes | str, ctx: Context) -> BusyRead:
    # RFC 5545 section 3.1.4 says UTF-8; "replace" keeps a stray surrogate from failing a read.
    raw = data.encode("utf-8", errors="replace") if isinstance(data, str) else data
    window = (ctx.window_start.date(), ctx.window_end.date())
    kept = keep_busy_lines(raw, ctx.source, window, ctx.max_events, ctx.deadline)
    calendars = _parse(kept, ctx.source)
    ctx.deadline.check()
    for calendar in calendars:
        _read_calendar(calendar, ctx)
    return BusyRead(
        intervals=tuple(_to_intervals(ctx)),
        warnings=tuple(dict.fromkeys(ctx.warnings)),  # once each, in order of discovery
    )


# --------------------------------------------------------------------------------------------
# Parsing


def _parse(filtered: bytes, source: str) -> list[icalendar.Calendar]:
    """Parse ``filtered`` into calendars; every way of not being iCalendar is one error."""
    try:
        calendars = icalendar.Calendar.from_ical(filtered, multiple=True)
    except Exception as exc:  # mostly ValueError, but odd input can raise other types
        raise IcsParseError(f"{source}: not a valid iCalendar file: {short(str(exc))}") from exc
    if not calendars:
        raise IcsParseError(f"{source}: no VCALENDAR found")
    for calendar in calendars:
        if calendar.name != "VCALENDAR":
            raise IcsParseError(f"{source}: expected VCALENDAR, found {quote(calendar.name)}")
    return calendars


# --------------------------------------------------------------------------------------------
# One calendar


def _read_calendar(calendar: icalendar.Calendar, ctx: Context) -> None:
    """Collect the busy instances of one VCALENDAR into ``ctx.found``."""
    scale = calendar.get("CALSCALE")
    if scale is not None and text_of(scale).strip().upper() != "GREGORIAN":
        # RFC 5545 section 3.7.1 defines no other scale; guessing would misplace everything.
        raise IcsParseError(f"{ctx.source}: unsupported CALSCALE {quote(text_of(scale))}")
    x_wr_timezone = _x_wr_timezone(calendar, ctx)
    ctx.floating = ctx.tz if x_wr_timezone is None else ZoneInfo(x_wr_timezone)

    groups: dict[str, list[Event]] = {}
    for number, component in enumerate(calendar.subcomponents):
        if component.name != "VEVENT":
            continue  # VTIMEZONEs were already applied by icalendar while parsing
        ctx.step()
        uid = text_of(component.get("UID"))
        if not uid:
            # RFC 5545 requires a UID, but the event is still busy time. A private UID keeps
            # recurring-ical-events from lumping all UID-less events into one series.
            uid = f"{MISSING_UID}{number}"
        repair = repair_event(component)
        if repair.detach:
            uid = f"{uid}{DETACHED}{number}"
        if uid != component.get("UID"):
            component["UID"] = uid
        event = Event(component, dict(component.items()))
        for note in repair.notes:
            ctx.warnings.append(f"{ctx.source}: {what(uid, event)}: {note}")
        groups.setdefault(uid, []).append(event)

    recurring: dict[str, list[Event]] = {}
    for uid, events in groups.items():
        ctx.step()
        if not any(_RECURRENCE_PROPERTIES & event.props.keys() for event in events):
            # One-off events. Several sharing a UID are exact duplicates (merged later) or an
            # exporter reusing UIDs; recurring-ical-events would keep only the highest
            # SEQUENCE, which could free time that some of them block.
            for event in events:
                try:
                    _read_single(event, uid, ctx)
                except IcsParseError:
                    raise
                except Exception as exc:
                    ctx.warnings.append(f"{ctx.source}: skipped {what(uid, event)}: {why(exc)}")
            continue
        usable = _placeable(uid, events, ctx)
        master = master_of(usable)
        if master is not None and status_of(master.props) == "CANCELLED":
            # RFC 5546 section 3.2.5: cancelling the series (no RECURRENCE-ID) cancels every
            # instance, including moved ones.
            continue
        if usable:
            recurring[uid] = usable
    if recurring:
        check_expansion_budget(recurring, ctx)
        read_recurring(recurring, x_wr_timezone, ctx)


def _placeable(uid: str, events: list[Event], ctx: Context) -> list[Event]:
    """The events of a series that can be placed in time; the others are reported.

    Without its master a series still has its moved instances; without a moved instance the
    master's instance at that time stays busy (recurring-ical-events yields it instead).
    """
    usable = []
    for event in events:
        try:
            if isinstance(event.props.get("RECURRENCE-ID"), list):
                raise BrokenSeriesError("it has more than one RECURRENCE-ID")
            span(event, ctx)
        except IcsParseError:
            raise
        except Exception as exc:
            if "RECURRENCE-ID" in event.props:
                consequence = "; the instance it moves stays busy at its original time"
                ctx.warnings.append(
                    f"{ctx.source}: skipped a moved instance of {what(uid, event)}: "
                    f"{why(exc)}{consequence}"
                )
            else:
                ctx.warnings.append(f"{ctx.source}: skipped {what(uid, event)}: {why(exc)}")
            continue
        usable.append(event)
    return usable


def _x_wr_timezone(calendar: icalendar.Calendar, ctx: Context) -> str | None:
    """The calendar's ``X-WR-TIMEZONE`` if it names a real zone (a de-facto extension)."""
    value = calendar.get("X-WR-TIMEZONE")
    if value is None:
        return None
    name = text_of(value).strip()
    try:
        ZoneInfo(name)
    except Exception:  # not found, a bad key, a name too long for a path, a directory, ...
        ctx.warnings.append(
            f"{ctx.source}: X-WR-TIMEZONE {quote(name)} is not a known time zone; floating "
            f"times are read in {ctx.tz.key}"
        )
        return None
    return name


# --------------------------------------------------------------------------------------------
# One-off events


def _read_single(event: Event, uid: str, ctx: Context) -> None:
    """Read a non-recurring VEVENT: one instance from DTSTART to its end (section 3.6.1)."""
    start, end = span(event, ctx)
    if start is None or end is None or start >= ctx.window_end or end <= ctx.window_start:
        return
    ctx.count_occurrence()
    props = event.props
    if status_of(props) == "CANCELLED" or is_transparent(props):
        return
    ctx.found[(start, end, text_of(props.get("SUMMARY")), public_uid_of(uid))] = None


def _to_intervals(ctx: Context) -> list[BusyInterval]:
    """Deduplicated intervals in ``tz``, ordered by (start, end, summary, uid) in real time."""
    result = []
    tz, source = ctx.tz, ctx.source
    for first, last, summary, uid in sorted(ctx.found):
        start, end = first, last
        if start <= FAR_PAST:
            start = min(ctx.window_start, end - timedelta(seconds=1))
        if end >= FAR_FUTURE:
            end = max(ctx.window_end, start + timedelta(seconds=1))
        local_start, local_end = start.astimezone(tz), end.astimezone(tz)
        if not local_end > local_start:
            # Python compares datetimes sharing a tzinfo by wall clock, ignoring ``fold``: an
            # event from 02:30 CEST to 02:30 CET (the repeated hour) would look empty and be
            # rejected by BusyInterval. Keep the real instants by expressing it in UTC.
            local_start, local_end = start, end
        result.append(BusyInterval(local_start, local_end, summary, source, uid))
    return result
