"""Read busy time out of iCalendar (RFC 5545) data for the planner.

The planner must never place a session on top of something in a person's calendar, and it must
never mistake a calendar it could not read for an empty one. So this module is strict about the
input as a whole (anything that is not iCalendar raises :class:`IcsParseError`) and forgiving
about single events (a broken series is skipped with a warning naming its UID, and everything
else is still read).

Parsing is done by ``icalendar`` and recurrence expansion by ``recurring-ical-events``; this
module decides what counts as busy and keeps the work bounded. Three things make it fast enough
for a year of a busy professional's calendar:

* Before parsing, content lines the planner never looks at (descriptions, attendees, alarms,
  to-dos, ...) are dropped, because ``icalendar`` spends its time per content line and
  real-world exports are mostly attendee lists and HTML descriptions.
* Only series that actually recur (RRULE, RDATE, EXDATE or RECURRENCE-ID) go through
  ``recurring-ical-events``; a one-off event has exactly one instance, ``[DTSTART, DTEND)``,
  which is cheap to read directly.
* Occurrences are read without ``Occurrence.as_component``, which copies the component for
  every instance (see :class:`_Occurrence`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import icalendar
import recurring_ical_events

from planner.busy import BusyInterval

__all__ = ["BusyRead", "IcsParseError", "read_busy", "read_busy_file"]


@dataclass(frozen=True)
class BusyRead:
    """The busy intervals of one source plus what had to be skipped to get them.

    Warnings travel with the result instead of being logged so the caller can show the person
    which events were ignored: a skipped event is busy time the planner cannot see.
    """

    intervals: tuple[BusyInterval, ...]
    warnings: tuple[str, ...]


class IcsParseError(ValueError):
    """The source as a whole could not be read, so none of its time may be treated as free."""


# Properties of a VEVENT that decide whether and when it is busy (RFC 5545 section 3.6.1).
# Everything else is dropped before parsing. EXRULE (RFC 2445, removed in RFC 5545) is not
# supported by recurring-ical-events either; ignoring it can only make an event *more* busy.
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
_VEVENT_INITIALS = bytes(sorted({n[0] for n in (*_VEVENT_PROPERTIES, b"BEGIN", b"END")}))
_VEVENT_INITIALS += _VEVENT_INITIALS.lower()
_RECURRENCE_PROPERTIES = frozenset({"RRULE", "RDATE", "EXDATE", "RECURRENCE-ID"})
_TIME_PROPERTIES = frozenset({"DTSTART", "DTEND", "DURATION"} | _RECURRENCE_PROPERTIES)
_MISSING_UID = "\x00missing-uid-"

# Occurrences are fetched from recurring-ical-events over a window widened by this much and
# then filtered exactly: the library compares floating times and dates in the zone of the query
# bounds, which may differ from the zone we read them in by up to 26 hours.
_QUERY_MARGIN = timedelta(days=2)

# How many recurrence instances, counted from each series' DTSTART (dateutil always iterates
# from there), may be generated per allowed in-window occurrence; about 1.5 us each.
_EXPANSION_BUDGET_FACTOR = 10
# The estimate of in-window occurrences is an upper bound, so it only stops the expansion when
# it exceeds max_events by this factor; the exact count does the rest.
_WINDOW_ESTIMATE_SLACK = 2

# Shortest possible length of one FREQ period, so that the instance estimate is an upper bound.
_PERIOD = {
    "SECONDLY": timedelta(seconds=1),
    "MINUTELY": timedelta(minutes=1),
    "HOURLY": timedelta(hours=1),
    "DAILY": timedelta(days=1),
    "WEEKLY": timedelta(weeks=1),
    "MONTHLY": timedelta(days=28),
    "YEARLY": timedelta(days=365),
}
_FREQ_RANK = {name: rank for rank, name in enumerate(_PERIOD)}
_DAYS_PER_PERIOD = {"WEEKLY": 7, "MONTHLY": 31, "YEARLY": 366}
_DAY_FILTERS = ("BYMONTH", "BYWEEKNO", "BYYEARDAY", "BYMONTHDAY", "BYDAY")
_TIME_FILTERS = (("BYHOUR", "HOURLY"), ("BYMINUTE", "MINUTELY"), ("BYSECOND", "SECONDLY"))

_Key = tuple[datetime, datetime, str, str]  # (start UTC, end UTC, summary, uid)


class _BrokenSeriesError(Exception):
    """One series cannot be read; the message says why and ends up in a warning."""


@dataclass
class _Event:
    """A parsed VEVENT plus a plain-dict view of its properties.

    ``icalendar`` stores property names upper-cased in a case-insensitive dict whose lookups
    cost several times a plain ``dict``'s; a one-off event is looked at a dozen times.
    """

    component: icalendar.Component
    props: dict[str, Any]


@dataclass
class _Context:
    """State of one :func:`read_busy` call, shared by all calendars in the stream.

    One context means one ``max_events`` count and one set of found intervals even when a feed
    concatenates several VCALENDARs.
    """

    source: str
    tz: ZoneInfo
    window_start: datetime  # UTC
    window_end: datetime  # UTC
    max_events: int
    floating: tzinfo  # zone for floating times of the calendar being read
    warnings: list[str] = field(default_factory=list)
    found: dict[_Key, None] = field(default_factory=dict)  # an ordered set
    in_window: int = 0

    def count_occurrence(self) -> None:
        """Count one instance in the window; the limit bounds memory and the planner's work."""
        self.in_window += 1
        if self.in_window > self.max_events:
            raise IcsParseError(
                f"{self.source}: more than {self.max_events} event occurrences between "
                f"{self.window_start.isoformat()} and {self.window_end.isoformat()}; "
                "refusing to read a calendar this large"
            )


def read_busy(
    data: bytes | str,
    *,
    source: str,
    tz: ZoneInfo,
    start: datetime,
    end: datetime,
    max_events: int = 200_000,
) -> BusyRead:
    """Return the busy intervals of ``data`` that overlap ``[start, end)``.

    Intervals are not clipped to the window: a trip that started last week is returned with its
    real start. All datetimes are converted to ``tz`` (the one exception is explained in
    :func:`_to_intervals`). Floating times (RFC 5545 section 3.3.5,
    form #1) are read in the calendar's ``X-WR-TIMEZONE`` when it names a real zone, else in
    ``tz``; all-day events always cover whole local days in ``tz``, the planner's days.

    Raises:
        IcsParseError: ``data`` is not iCalendar at all, or has more than ``max_events``
            occurrences in the window (or recurrence rules that would need unreasonably many
            instances to expand).
        ValueError: ``start``/``end`` are naive or not in order (a programming error).
    """
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("read_busy needs timezone-aware start and end")
    if end <= start:
        raise ValueError(f"empty window: end {end.isoformat()} <= start {start.isoformat()}")
    # RFC 5545 section 3.1.4 says UTF-8; "replace" keeps a stray surrogate from failing a read.
    raw = data.encode("utf-8", errors="replace") if isinstance(data, str) else data
    calendars = _parse(raw, source)
    ctx = _Context(
        source=source,
        tz=tz,
        window_start=start.astimezone(UTC),
        window_end=end.astimezone(UTC),
        max_events=max_events,
        floating=tz,
    )
    for calendar in calendars:
        _read_calendar(calendar, ctx)
    return BusyRead(
        intervals=tuple(_to_intervals(ctx)),
        warnings=tuple(dict.fromkeys(ctx.warnings)),  # once each, in order of discovery
    )


def read_busy_file(path: Path, *, tz: ZoneInfo, start: datetime, end: datetime) -> BusyRead:
    """Read busy time from an ``.ics`` file; an unreadable file is an error, never free time."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        reason = exc.strerror or exc.__class__.__name__
        raise IcsParseError(f"{path}: cannot read calendar file: {reason}") from exc
    return read_busy(data, source=str(path), tz=tz, start=start, end=end)


# --------------------------------------------------------------------------------------------
# Parsing


def _parse(raw: bytes, source: str) -> list[icalendar.Calendar]:
    """Parse ``raw`` into calendars, turning every way of not being iCalendar into one error."""
    filtered = _drop_unused_lines(raw, source)
    try:
        calendars = icalendar.Calendar.from_ical(filtered, multiple=True)
    except Exception as exc:  # mostly ValueError, but odd input can raise other types
        raise IcsParseError(f"{source}: not a valid iCalendar file: {exc}") from exc
    if not calendars:
        raise IcsParseError(f"{source}: no VCALENDAR found")
    for calendar in calendars:
        if calendar.name != "VCALENDAR":
            raise IcsParseError(f"{source}: expected VCALENDAR, found {calendar.name}")
    return calendars


def _drop_unused_lines(raw: bytes, source: str) -> bytes:
    """Keep only the content lines that can affect busy time, checking the overall structure.

    This is a lexical pass over content lines (RFC 5545 section 3.1): a line starting with a
    space or tab continues the previous one, and a property name ends at the first ``;`` or
    ``:``. It does not interpret values; ``icalendar`` still parses everything that is kept.
    Kept: calendar properties, whole VTIMEZONEs (TZIDs refer to them, section 3.6.5) and the
    busy-relevant properties of VEVENTs. Dropped: other components (VTODO, VJOURNAL,
    VFREEBUSY, VALARM, ...), which never make a person busy.
    """
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    elif raw[:2] in {b"\xff\xfe", b"\xfe\xff"}:
        # Not allowed by section 3.1.4, but Outlook on Windows can save UTF-16.
        raw = raw.decode("utf-16", errors="replace").encode("utf-8")
    out: list[bytes] = []
    stack: list[bytes] = []
    keep = False
    initials: bytes | None = None  # first letters a kept line can have here; None: any
    for line in raw.splitlines():
        first = line[:1]
        if first in {b" ", b"\t"}:
            if keep:
                out.append(line)
            continue
        if initials is not None and first not in initials:
            keep = False  # the cheap test drops most lines: attendees, descriptions, ...
            continue
        if not line:
            continue
        head = line.split(b":", 1)[0].split(b";", 1)[0].strip().upper()
        if head == b"BEGIN":
            name = line.partition(b":")[2].strip().upper()
            if not stack and name != b"VCALENDAR":
                raise IcsParseError(
                    f"{source}: not an iCalendar file (expected BEGIN:VCALENDAR, "
                    f"found {_excerpt(line)})"
                )
            stack.append(name)
            keep = _keep_component(stack)
            initials = _initials(stack)
        elif head == b"END":
            name = line.partition(b":")[2].strip().upper()
            if not stack or stack[-1] != name:
                expected = f"END:{stack[-1].decode(errors='replace')}" if stack else "nothing"
                raise IcsParseError(
                    f"{source}: malformed iCalendar ({_excerpt(line)} where {expected} "
                    "was expected)"
                )
            keep = _keep_component(stack)
            stack.pop()
            initials = _initials(stack)
        elif not stack:
            raise IcsParseError(
                f"{source}: not an iCalendar file (expected BEGIN:VCALENDAR, "
                f"found {_excerpt(line)})"
            )
        elif len(stack) == 1 or stack[1] == b"VTIMEZONE":
            keep = True
        else:
            keep = len(stack) == 2 and stack[1] == b"VEVENT" and head in _VEVENT_PROPERTIES
        if keep:
            out.append(line)
    if not out:
        raise IcsParseError(f"{source}: not an iCalendar file (it is empty)")
    if stack:
        raise IcsParseError(
            f"{source}: truncated iCalendar data (BEGIN:{stack[-1].decode(errors='replace')} "
            "is never closed)"
        )
    out.append(b"")
    return b"\r\n".join(out)


def _keep_component(stack: list[bytes]) -> bool:
    """Whether the component on top of ``stack`` survives :func:`_drop_unused_lines`."""
    if len(stack) == 1 or stack[1] == b"VTIMEZONE":
        return True
    return len(stack) == 2 and stack[1] == b"VEVENT"


def _initials(stack: list[bytes]) -> bytes | None:
    """First letters of the lines :func:`_drop_unused_lines` may keep inside ``stack``."""
    if len(stack) <= 1 or stack[1] == b"VTIMEZONE":
        return None
    if len(stack) == 2 and stack[1] == b"VEVENT":
        return _VEVENT_INITIALS
    return b"BEbe"  # only BEGIN/END matter inside a dropped component


def _excerpt(line: bytes) -> str:
    text = line[:60].decode("utf-8", errors="replace")
    return repr(text + ("..." if len(line) > 60 else ""))


# --------------------------------------------------------------------------------------------
# One calendar


def _read_calendar(calendar: icalendar.Calendar, ctx: _Context) -> None:
    """Collect the busy instances of one VCALENDAR into ``ctx.found``."""
    scale = calendar.get("CALSCALE")
    if scale is not None and _text(scale).strip().upper() != "GREGORIAN":
        # RFC 5545 section 3.7.1 defines no other scale; guessing would misplace everything.
        raise IcsParseError(f"{ctx.source}: unsupported CALSCALE {_text(scale)!r}")
    x_wr_timezone = _x_wr_timezone(calendar, ctx)
    ctx.floating = ctx.tz if x_wr_timezone is None else ZoneInfo(x_wr_timezone)

    groups: dict[str, list[_Event]] = {}
    for component in calendar.subcomponents:
        if component.name != "VEVENT":
            continue  # VTIMEZONEs were already applied by icalendar while parsing
        props = dict(component.items())
        uid = _text(props.get("UID"))
        if not uid:
            # RFC 5545 requires a UID, but the event is still busy time. A private UID keeps
            # recurring-ical-events from lumping all UID-less events into one series.
            uid = f"{_MISSING_UID}{len(groups)}"
            component["UID"] = props["UID"] = uid
        groups.setdefault(uid, []).append(_Event(component, props))

    recurring: dict[str, list[_Event]] = {}
    for uid, events in groups.items():
        if not any(_RECURRENCE_PROPERTIES & event.props.keys() for event in events):
            # One-off events. Several sharing a UID are exact duplicates (merged later) or an
            # exporter reusing UIDs; recurring-ical-events would keep only the highest
            # SEQUENCE, which could free time that some of them block.
            for event in events:
                try:
                    _read_single(event, uid, ctx)
                except _BrokenSeriesError as exc:
                    _warn_skipped(ctx, uid, [event], str(exc))
            continue
        try:
            for event in events:
                _check_recurring(event, ctx)
        except _BrokenSeriesError as exc:
            _warn_skipped(ctx, uid, events, str(exc))
            continue
        master = _master(events)
        if master is not None and _status(master.props) == "CANCELLED":
            # RFC 5546 section 3.2.5: cancelling the series (no RECURRENCE-ID) cancels every
            # instance, including moved ones.
            continue
        recurring[uid] = events
    if recurring:
        _check_expansion_budget(recurring, ctx)
        _read_recurring(recurring, x_wr_timezone, ctx)


def _x_wr_timezone(calendar: icalendar.Calendar, ctx: _Context) -> str | None:
    """The calendar's ``X-WR-TIMEZONE`` if it names a real zone (a de-facto extension)."""
    value = calendar.get("X-WR-TIMEZONE")
    if value is None:
        return None
    name = _text(value).strip()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        ctx.warnings.append(
            f"{ctx.source}: X-WR-TIMEZONE {name!r} is not a known time zone; floating times "
            f"are read in {ctx.tz.key}"
        )
        return None
    return name


def _master(events: list[_Event]) -> _Event | None:
    """The event recurring-ical-events uses as the series core: the first highest SEQUENCE."""
    best: _Event | None = None
    best_sequence = 0
    for event in events:
        if "RECURRENCE-ID" in event.props:
            continue
        sequence = event.props.get("SEQUENCE", -1)
        sequence = sequence if isinstance(sequence, int) else -1
        if best is None or sequence > best_sequence:
            best, best_sequence = event, sequence
    return best


# --------------------------------------------------------------------------------------------
# One-off events


def _read_single(event: _Event, uid: str, ctx: _Context) -> None:
    """Read a non-recurring VEVENT: one instance from DTSTART to its end (section 3.6.1)."""
    start, end = _span(event, ctx)
    if start is None or end is None or start >= ctx.window_end or end <= ctx.window_start:
        return
    ctx.count_occurrence()
    props = event.props
    if _status(props) == "CANCELLED" or _transparent(props):
        return
    ctx.found[(start, end, _text(props.get("SUMMARY")), _public_uid(uid))] = None


def _span(event: _Event, ctx: _Context) -> tuple[datetime, datetime] | tuple[None, None]:
    """The UTC span of a VEVENT, ``(None, None)`` if it takes no time.

    Raises :class:`_BrokenSeriesError` when the event cannot be placed in time.
    """
    props = event.props
    for name, message in event.component.errors:
        if name in _TIME_PROPERTIES:
            raise _BrokenSeriesError(f"{name} could not be parsed ({message})")
    dtstart = props.get("DTSTART")
    dtend = props.get("DTEND")
    duration = props.get("DURATION")
    if dtstart is None:
        raise _BrokenSeriesError("it has no DTSTART (RFC 5545 section 3.6.1)")
    if isinstance(dtstart, list) or isinstance(dtend, list) or isinstance(duration, list):
        raise _BrokenSeriesError("it has more than one DTSTART, DTEND or DURATION")
    start_value = dtstart.dt
    if not isinstance(start_value, date):
        raise _BrokenSeriesError(f"DTSTART has an unusable value {start_value!r}")
    _warn_unknown_tzid(event, dtstart, dtend, ctx)
    if dtend is not None:
        end_value = dtend.dt
        if not isinstance(end_value, date):
            raise _BrokenSeriesError(f"DTEND has an unusable value {end_value!r}")
    elif duration is not None:
        delta = duration.dt
        if not isinstance(delta, timedelta):
            raise _BrokenSeriesError(f"DURATION has an unusable value {delta!r}")
        if not isinstance(start_value, datetime) and delta % timedelta(days=1):
            # A DATE plus a duration with a time part: read as recurring-ical-events does.
            end_value = datetime.combine(start_value, time()) + delta  # floating
        else:
            end_value = start_value + delta
    elif isinstance(start_value, datetime):
        # Section 3.6.1: a DATE-TIME DTSTART without DTEND/DURATION ends when it starts.
        return None, None
    else:
        end_value = start_value + timedelta(days=1)  # section 3.6.1: a DATE lasts one day
    start = _utc(start_value, ctx)
    end = _end_utc(start_value, end_value, ctx)
    if end < start:
        raise _BrokenSeriesError(
            f"it ends ({end_value.isoformat()}) before it starts ({start_value.isoformat()})"
        )
    if end == start:
        return None, None  # takes no time, so it blocks nothing
    return start, end


# --------------------------------------------------------------------------------------------
# Recurring series


def _check_recurring(event: _Event, ctx: _Context) -> None:
    """Validate one VEVENT of a recurring series before recurring-ical-events sees it.

    The library silently swaps an end that lies before the start, and dateutil loops forever
    on ``INTERVAL=0``; both are caught here.
    """
    _span(event, ctx)
    if isinstance(event.props.get("RECURRENCE-ID"), list):
        raise _BrokenSeriesError("it has more than one RECURRENCE-ID")
    for rule in _as_list(event.props.get("RRULE")):
        freq = _text(rule.get("FREQ")).upper()
        if freq not in _PERIOD:
            raise _BrokenSeriesError(f"RRULE has no valid FREQ ({freq!r})")
        interval = _first(rule.get("INTERVAL"))
        if interval is None:
            interval = 1
        if not isinstance(interval, int) or isinstance(interval, bool) or interval < 1:
            raise _BrokenSeriesError(
                f"RRULE INTERVAL must be a positive integer (RFC 5545 section 3.3.10), "
                f"got {interval!r}"
            )


def _check_expansion_budget(groups: dict[str, list[_Event]], ctx: _Context) -> None:
    """Refuse up front to expand rules that would generate far too many instances.

    dateutil (under recurring-ical-events) builds the complete list of instances from DTSTART
    to the end of the query before any of them can be counted, so ``FREQ=MINUTELY`` would take
    seconds and ``FREQ=SECONDLY`` started years ago minutes and gigabytes before the
    ``max_events`` count could stop it. The estimates are upper bounds: BY* filters that only
    remove instances are ignored.

    Not caught: rules whose BY* filters can never match (``BYMONTH=2;BYMONTHDAY=30``), for
    which dateutil scans on to the year 9999; that is slow (0.3 s for MONTHLY, seconds for
    DAILY) but finite, and telling such rules apart would mean re-implementing RRULE logic.
    """
    total_limit = ctx.max_events * _EXPANSION_BUDGET_FACTOR
    window_limit = ctx.max_events * _WINDOW_ESTIMATE_SLACK
    total = in_window = 0
    worst, worst_uid = 0, ""
    for uid, events in groups.items():
        series_total = 0
        for event in events:
            event_total, event_in_window = _instance_estimate(event, ctx)
            series_total += event_total
            in_window += event_in_window
        total += series_total
        if series_total > worst:
            worst, worst_uid = series_total, uid
    if in_window > window_limit or total > total_limit:
        raise IcsParseError(
            f"{ctx.source}: the recurring events would expand to up to {in_window} occurrences "
            f"between {ctx.window_start.isoformat()} and {ctx.window_end.isoformat()} (limit "
            f"{ctx.max_events}) and {total} instances counted from their first occurrence "
            f"(limit {total_limit}); the largest series is UID {_public_uid(worst_uid)!r}. "
            "Refusing to expand them"
        )


def _instance_estimate(event: _Event, ctx: _Context) -> tuple[int, int]:
    """Upper bounds on the instances dateutil generates for ``event``: (in all, in the window).

    "In all" counts from DTSTART, because that is where dateutil starts iterating.
    """
    rdates = sum(len(rdate_list.dts) for rdate_list in _as_list(event.props.get("RDATE")))
    total = in_window = 1 + rdates
    first = _utc(event.props["DTSTART"].dt, ctx)
    window_start = ctx.window_start - _QUERY_MARGIN
    for rule in _as_list(event.props.get("RRULE")):
        freq = _text(rule.get("FREQ")).upper()
        step = _PERIOD[freq] * (_first(rule.get("INTERVAL")) or 1)  # validated before
        stop = ctx.window_end + _QUERY_MARGIN
        until = _first(rule.get("UNTIL"))
        if isinstance(until, date):
            stop = min(stop, _utc(until, ctx) + timedelta(days=1))
        per_period = 1
        if any(name in rule for name in _DAY_FILTERS):
            per_period = _DAYS_PER_PERIOD.get(freq, 1)
        for name, unit in _TIME_FILTERS:
            values = rule.get(name)
            if values and _FREQ_RANK[freq] > _FREQ_RANK[unit]:
                per_period *= len(values)
        rule_total = (max(timedelta(0), stop - first) // step + 1) * per_period
        rule_in_window = (
            max(timedelta(0), stop - max(first, window_start)) // step + 1
        ) * per_period
        count = _first(rule.get("COUNT"))
        if isinstance(count, int) and count >= 0:
            rule_total, rule_in_window = min(rule_total, count), min(rule_in_window, count)
        total += rule_total
        in_window += rule_in_window
    return total, in_window


def _read_recurring(
    groups: dict[str, list[_Event]], x_wr_timezone: str | None, ctx: _Context
) -> None:
    """Expand the recurring series, isolating failures to the series that caused them.

    The fast path sets up one query for all series; only if the library refuses that is each
    series set up on its own, so that one bad series neither hides the others nor goes
    unreported (the library's own ``skip_bad_series`` would drop it silently).
    """
    query_start = ctx.window_start - _QUERY_MARGIN
    query_end = ctx.window_end + _QUERY_MARGIN
    try:
        series_list = _series_of(list(groups.values()), x_wr_timezone)
    except Exception:  # the library raises many types on bad input; isolate per series below
        series_list = []
        for uid, events in groups.items():
            try:
                series_list.extend(_series_of([events], x_wr_timezone))
            except Exception as exc:
                _warn_skipped(ctx, uid, events, f"its recurrence is invalid ({exc})")
    for series in series_list:
        uid = str(series.uid)
        try:
            found = list(_occurrences(series, query_start, query_end, uid, ctx))
        except IcsParseError:
            raise
        except Exception as exc:  # as above: one bad series must not stop the others
            _warn_skipped(ctx, uid, groups.get(uid, []), f"its recurrence is invalid ({exc})")
            continue
        for key in found:
            ctx.found[key] = None


class _EventAdapter(recurring_ical_events.EventAdapter):  # type: ignore[misc]  # untyped
    """Keeps a handle on the VEVENT behind each adapter.

    Custom adapters and occurrences are the library's extension points
    (``ComponentsWithName(adapter=..., occurrence=...)``).
    """

    def __init__(self, component: icalendar.Component) -> None:
        super().__init__(component)
        self.vevent = component


class _Occurrence(recurring_ical_events.Occurrence):  # type: ignore[misc]  # untyped
    """An occurrence that remembers which VEVENT (master or override) it comes from.

    Reading STATUS, TRANSP and SUMMARY from that VEVENT avoids ``as_component``, which copies
    the component for every instance and took half of the expansion time in the benchmark.
    """

    def __init__(
        self,
        adapter: _EventAdapter,
        start: date | None = None,
        end: date | timedelta | None = None,
        sequence: int = -1,
    ) -> None:
        super().__init__(adapter, start, end, sequence)
        self.vevent: icalendar.Component = adapter.vevent


_VEVENTS = recurring_ical_events.ComponentsWithName(
    "VEVENT", adapter=_EventAdapter, occurrence=_Occurrence
)


def _series_of(groups: list[list[_Event]], x_wr_timezone: str | None) -> list[Any]:
    """Set up recurring-ical-events for ``groups``: one ``Series`` per UID."""
    calendar = icalendar.Calendar()
    if x_wr_timezone is not None:
        # Lets the library apply X-WR-TIMEZONE the way Google Calendar means it: UTC and
        # floating DTSTARTs of a series recur at the same wall-clock time in that zone.
        calendar["X-WR-TIMEZONE"] = x_wr_timezone
    for events in groups:
        for event in events:
            calendar.add_component(event.component)
    return list(recurring_ical_events.of(calendar, components=[_VEVENTS]).series)


def _occurrences(
    series: Any, query_start: datetime, query_end: datetime, uid: str, ctx: _Context
) -> Iterator[_Key]:
    """Busy instances of one series in the window (cancelled and transparent ones removed)."""
    public_uid = _public_uid(uid)
    labels: dict[int, str | None] = {}  # id(VEVENT) -> SUMMARY, or None if it is not busy
    occurrence: _Occurrence
    for occurrence in series.between(query_start, query_end):
        start_value, end_value = occurrence.start, occurrence.end
        start = _utc(start_value, ctx)
        end = _end_utc(start_value, end_value, ctx)
        if end < start:
            raise _BrokenSeriesError(f"an instance ends before it starts ({start_value})")
        if end == start or start >= ctx.window_end or end <= ctx.window_start:
            continue
        ctx.count_occurrence()
        vevent = occurrence.vevent
        if id(vevent) in labels:
            label = labels[id(vevent)]
        else:
            # A cancelled RECURRENCE-ID override is still returned as an occurrence.
            props = dict(vevent.items())
            busy = _status(props) != "CANCELLED" and not _transparent(props)
            label = labels[id(vevent)] = _text(props.get("SUMMARY")) if busy else None
        if label is not None:
            yield start, end, label, public_uid


# --------------------------------------------------------------------------------------------
# Values


def _utc(value: date, ctx: _Context) -> datetime:
    """An instant in UTC for a DATE, floating DATE-TIME or zoned DATE-TIME (section 3.3.5)."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=ctx.floating)
        return value.astimezone(UTC)
    # Section 3.3.4: a DATE is a whole local day; the planner's days are in ``tz``.
    return datetime(value.year, value.month, value.day, tzinfo=ctx.tz).astimezone(UTC)


def _end_utc(start_value: date, end_value: date, ctx: _Context) -> datetime:
    """The UTC end; an all-day event whose DTEND equals its DTSTART still lasts one day.

    RFC 5545 section 3.6.1 requires a DATE DTEND to be later than DTSTART; some exporters
    write the same day meaning "this day", and reading that as nothing would free a busy day.
    """
    if (
        end_value == start_value
        and not isinstance(start_value, datetime)
        and not isinstance(end_value, datetime)
    ):
        end_value = start_value + timedelta(days=1)
    return _utc(end_value, ctx)


def _warn_unknown_tzid(event: _Event, dtstart: Any, dtend: Any, ctx: _Context) -> None:
    """A TZID with neither a VTIMEZONE nor a tz database entry leaves the time floating."""
    unknown = sorted(
        {
            str(prop.params["TZID"])
            for prop in (dtstart, dtend)
            if prop is not None
            and isinstance(prop.dt, datetime)
            and prop.dt.tzinfo is None
            and "TZID" in prop.params
        }
    )
    if unknown:
        uid = _public_uid(_text(event.props.get("UID")))
        zone = getattr(ctx.floating, "key", str(ctx.floating))
        ctx.warnings.append(
            f"{ctx.source}: UID {uid!r}: TZID {', '.join(unknown)} is not defined "
            f"(RFC 5545 section 3.2.19); its times are read in {zone}"
        )


def _status(props: dict[str, Any]) -> str:
    return _text(props.get("STATUS")).strip().upper()


def _transparent(props: dict[str, Any]) -> bool:
    """Section 3.8.2.7: TRANSPARENT events do not take up time on a calendar."""
    return _text(props.get("TRANSP")).strip().upper() == "TRANSPARENT"


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return _text(value[0]) if value else ""
    return str(value)


def _first(values: Any) -> Any:
    if isinstance(values, list):
        return values[0] if values else None
    return values


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _public_uid(uid: str) -> str:
    return "" if uid.startswith(_MISSING_UID) else uid


def _warn_skipped(ctx: _Context, uid: str, events: list[_Event], reason: str) -> None:
    public = _public_uid(uid)
    if public:
        what = f"UID {public!r}"
    else:
        summary = _text(events[0].props.get("SUMMARY")) if events else ""
        what = f"an event without UID (SUMMARY {summary!r})"
    ctx.warnings.append(f"{ctx.source}: skipped {what}: {reason}")


def _to_intervals(ctx: _Context) -> list[BusyInterval]:
    """Deduplicated intervals in ``tz``, ordered by (start, end, summary, uid) in real time."""
    result = []
    tz, source = ctx.tz, ctx.source
    for start, end, summary, uid in sorted(ctx.found):
        local_start, local_end = start.astimezone(tz), end.astimezone(tz)
        if not local_end > local_start:
            # Python compares datetimes sharing a tzinfo by wall clock, ignoring ``fold``: an
            # event from 02:30 CEST to 02:30 CET (the repeated hour) would look empty and be
            # rejected by BusyInterval. Keep the real instants by expressing it in UTC.
            local_start, local_end = start, end
        result.append(BusyInterval(local_start, local_end, summary, source, uid))
    return result
