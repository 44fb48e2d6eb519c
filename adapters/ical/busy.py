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
  every instance (see :class:`_Occurrence`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events
from dateutil.rrule import rrulestr  # type: ignore[import-untyped]
from icalendar import vBroken

from adapters.ical.errors import Deadline, IcsParseError, IcsTooSlow
from adapters.ical.lines import keep_busy_lines
from adapters.ical.repair import ONLY_KNOWN, quote, repair_event
from adapters.ical.rrule_bounds import as_list, bound_rule, first_value
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
_MISSING_UID = "\x00missing-uid-"
_DETACHED = "\x00detached-"  # suffix of the private UID of an override read on its own
_SHORT = 160  # characters of a library's message quoted in an error or warning
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")

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
_MAX_INTERVAL = 10**6  # larger INTERVALs all mean "one instance" to the estimate

# Instants beyond what ``datetime`` can hold in every zone stand for "before/after anything";
# an interval reaching one is cut at the read window (an event lasting to the year 9999).
_FAR_PAST = datetime.min.replace(tzinfo=UTC) + timedelta(days=2)
_FAR_FUTURE = datetime.max.replace(tzinfo=UTC) - timedelta(days=2)
_DEADLINE_EVERY = 256  # events or occurrences between two deadline checks

_Key = tuple[datetime, datetime, str, str]  # (start UTC, end UTC, summary, uid)


class _BrokenSeriesError(Exception):
    """One event cannot be placed in time; the message says why and ends up in a warning."""


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
    deadline: Deadline
    floating: tzinfo  # zone for floating times of the calendar being read
    warnings: list[str] = field(default_factory=list)
    found: dict[_Key, None] = field(default_factory=dict)  # an ordered set
    in_window: int = 0
    steps: int = 0

    def count_occurrence(self) -> None:
        """Count one instance in the window; the limit bounds memory and the planner's work."""
        self.in_window += 1
        if self.in_window > self.max_events:
            raise IcsParseError(
                f"{self.source}: more than {self.max_events} event occurrences between "
                f"{self.window_start.isoformat()} and {self.window_end.isoformat()}; "
                "refusing to read a calendar this large"
            )

    def step(self) -> None:
        """One unit of work (an event, an occurrence); checks the deadline now and then."""
        self.steps += 1
        if not self.steps % _DEADLINE_EVERY:
            self.deadline.check()


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
    ctx = _Context(
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
            f"{source}: could not be read ({type(exc).__name__}: {_short(str(exc))})"
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


def _read(data: bytes | str, ctx: _Context) -> BusyRead:
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
        raise IcsParseError(f"{source}: not a valid iCalendar file: {_short(str(exc))}") from exc
    if not calendars:
        raise IcsParseError(f"{source}: no VCALENDAR found")
    for calendar in calendars:
        if calendar.name != "VCALENDAR":
            raise IcsParseError(f"{source}: expected VCALENDAR, found {quote(calendar.name)}")
    return calendars


# --------------------------------------------------------------------------------------------
# One calendar


def _read_calendar(calendar: icalendar.Calendar, ctx: _Context) -> None:
    """Collect the busy instances of one VCALENDAR into ``ctx.found``."""
    scale = calendar.get("CALSCALE")
    if scale is not None and _text(scale).strip().upper() != "GREGORIAN":
        # RFC 5545 section 3.7.1 defines no other scale; guessing would misplace everything.
        raise IcsParseError(f"{ctx.source}: unsupported CALSCALE {quote(_text(scale))}")
    x_wr_timezone = _x_wr_timezone(calendar, ctx)
    ctx.floating = ctx.tz if x_wr_timezone is None else ZoneInfo(x_wr_timezone)

    groups: dict[str, list[_Event]] = {}
    for number, component in enumerate(calendar.subcomponents):
        if component.name != "VEVENT":
            continue  # VTIMEZONEs were already applied by icalendar while parsing
        ctx.step()
        uid = _text(component.get("UID"))
        if not uid:
            # RFC 5545 requires a UID, but the event is still busy time. A private UID keeps
            # recurring-ical-events from lumping all UID-less events into one series.
            uid = f"{_MISSING_UID}{number}"
        repair = repair_event(component)
        if repair.detach:
            uid = f"{uid}{_DETACHED}{number}"
        if uid != component.get("UID"):
            component["UID"] = uid
        event = _Event(component, dict(component.items()))
        for note in repair.notes:
            ctx.warnings.append(f"{ctx.source}: {_what(uid, event)}: {note}")
        groups.setdefault(uid, []).append(event)

    recurring: dict[str, list[_Event]] = {}
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
                    ctx.warnings.append(f"{ctx.source}: skipped {_what(uid, event)}: {_why(exc)}")
            continue
        usable = _placeable(uid, events, ctx)
        master = _master(usable)
        if master is not None and _status(master.props) == "CANCELLED":
            # RFC 5546 section 3.2.5: cancelling the series (no RECURRENCE-ID) cancels every
            # instance, including moved ones.
            continue
        if usable:
            recurring[uid] = usable
    if recurring:
        _check_expansion_budget(recurring, ctx)
        _read_recurring(recurring, x_wr_timezone, ctx)


def _placeable(uid: str, events: list[_Event], ctx: _Context) -> list[_Event]:
    """The events of a series that can be placed in time; the others are reported.

    Without its master a series still has its moved instances; without a moved instance the
    master's instance at that time stays busy (recurring-ical-events yields it instead).
    """
    usable = []
    for event in events:
        try:
            if isinstance(event.props.get("RECURRENCE-ID"), list):
                raise _BrokenSeriesError("it has more than one RECURRENCE-ID")
            _span(event, ctx)
        except IcsParseError:
            raise
        except Exception as exc:
            if "RECURRENCE-ID" in event.props:
                consequence = "; the instance it moves stays busy at its original time"
                ctx.warnings.append(
                    f"{ctx.source}: skipped a moved instance of {_what(uid, event)}: "
                    f"{_why(exc)}{consequence}"
                )
            else:
                ctx.warnings.append(f"{ctx.source}: skipped {_what(uid, event)}: {_why(exc)}")
            continue
        usable.append(event)
    return usable


def _x_wr_timezone(calendar: icalendar.Calendar, ctx: _Context) -> str | None:
    """The calendar's ``X-WR-TIMEZONE`` if it names a real zone (a de-facto extension)."""
    value = calendar.get("X-WR-TIMEZONE")
    if value is None:
        return None
    name = _text(value).strip()
    try:
        ZoneInfo(name)
    except Exception:  # not found, a bad key, a name too long for a path, a directory, ...
        ctx.warnings.append(
            f"{ctx.source}: X-WR-TIMEZONE {quote(name)} is not a known time zone; floating "
            f"times are read in {ctx.tz.key}"
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


def _values(event: _Event) -> tuple[date, date | None]:
    """DTSTART and the end as written (``None``: past the year 9999).

    Raises :class:`_BrokenSeriesError` when the event cannot be placed in time.
    """
    props = event.props
    dtstart = props.get("DTSTART")
    dtend = props.get("DTEND")
    duration = props.get("DURATION")
    if dtstart is None:
        raise _BrokenSeriesError("it has no DTSTART (RFC 5545 section 3.6.1)")
    if isinstance(dtstart, list) or isinstance(dtend, list) or isinstance(duration, list):
        raise _BrokenSeriesError("it has more than one DTSTART, DTEND or DURATION")
    for name, prop in (("DTSTART", dtstart), ("DTEND", dtend), ("DURATION", duration)):
        if isinstance(prop, vBroken):
            error = _short(str(getattr(prop, "parse_error", "") or "unreadable"))
            raise _BrokenSeriesError(f"{name} {quote(str(prop))} could not be read ({error})")
    start_value = dtstart.dt
    if not isinstance(start_value, date):
        raise _BrokenSeriesError(f"DTSTART has an unusable value {quote(repr(start_value))}")
    if dtend is not None:
        end_value = dtend.dt
        if not isinstance(end_value, date):
            raise _BrokenSeriesError(f"DTEND has an unusable value {quote(repr(end_value))}")
        return start_value, end_value
    if duration is not None:
        delta = duration.dt
        if not isinstance(delta, timedelta):
            raise _BrokenSeriesError(f"DURATION has an unusable value {quote(repr(delta))}")
        try:
            if not isinstance(start_value, datetime) and delta % timedelta(days=1):
                # A DATE plus a duration with a time part: read as recurring-ical-events does.
                return start_value, datetime.combine(start_value, time()) + delta  # floating
            return start_value, start_value + delta
        except OverflowError:
            if delta < timedelta(0):
                raise _BrokenSeriesError("its DURATION reaches back before the year 1") from None
            return start_value, None
    if isinstance(start_value, datetime):
        # Section 3.6.1: a DATE-TIME DTSTART without DTEND/DURATION ends when it starts.
        return start_value, start_value
    return start_value, start_value + timedelta(days=1)  # section 3.6.1: a DATE lasts one day


def _span(event: _Event, ctx: _Context) -> tuple[datetime, datetime] | tuple[None, None]:
    """The UTC span of a VEVENT, ``(None, None)`` if it takes no time.

    An end before the start is read with the two swapped (as recurring-ical-events does for
    series), an end past the year 9999 as the end of the window; both with a warning.
    Raises :class:`_BrokenSeriesError` when the event cannot be placed in time.
    """
    start_value, end_value = _values(event)
    _warn_unknown_tzid(event, ctx)
    uid = _text(event.props.get("UID"))
    start = _utc(start_value, ctx)
    if end_value is None:
        ctx.warnings.append(
            f"{ctx.source}: {_what(uid, event)}: it lasts past the year 9999 (DURATION "
            f"{quote(_text(event.props['DURATION'].to_ical().decode()))}); busy from its "
            "start to the end of the window"
        )
        return start, max(_FAR_FUTURE, start + timedelta(seconds=1))
    end = _end_utc(start_value, end_value, ctx)
    if end < start:
        ctx.warnings.append(
            f"{ctx.source}: {_what(uid, event)}: it ends ({end_value.isoformat()}) before it "
            f"starts ({start_value.isoformat()}); read with the two swapped"
        )
        start, end = min(start, end), max(start, end)
    if end == start:
        return None, None  # takes no time, so it blocks nothing
    return start, end


# --------------------------------------------------------------------------------------------
# Recurring series


def _check_expansion_budget(groups: dict[str, list[_Event]], ctx: _Context) -> None:
    """Refuse up front to expand rules that would generate far too many instances.

    dateutil (under recurring-ical-events) builds the complete list of instances from DTSTART
    to the end of the query before any of them can be counted, so ``FREQ=MINUTELY`` would take
    seconds and ``FREQ=SECONDLY`` started years ago minutes and gigabytes before the
    ``max_events`` count could stop it. The estimates are upper bounds: BY* filters that only
    remove instances are ignored. Rules whose BY* filters can never match were already removed
    (:func:`adapters.ical.rrule_bounds.never_matches`); the rest is bounded by the deadline.
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
            f"(limit {total_limit}); the largest series is UID "
            f"{quote(_public_uid(worst_uid))}. Refusing to expand them"
        )


def _instance_estimate(event: _Event, ctx: _Context) -> tuple[int, int]:
    """Upper bounds on the instances dateutil generates for ``event``: (in all, in the window).

    "In all" counts from DTSTART, because that is where dateutil starts iterating.
    """
    rdates = sum(len(getattr(value, "dts", ())) for value in as_list(event.props.get("RDATE")))
    total = in_window = 1 + rdates
    first = _utc(event.props["DTSTART"].dt, ctx)  # placeable: checked before
    window_start = ctx.window_start - _QUERY_MARGIN
    for rule in as_list(event.props.get("RRULE")):
        freq = _text(rule.get("FREQ")).upper()
        interval = first_value(rule.get("INTERVAL")) or 1  # validated by the repair
        step = _PERIOD[freq] * min(interval, _MAX_INTERVAL)
        stop = ctx.window_end + _QUERY_MARGIN
        until = first_value(rule.get("UNTIL"))
        if isinstance(until, date):
            stop = min(stop, _later(_utc(until, ctx), timedelta(days=1)))
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
        count = first_value(rule.get("COUNT"))
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
    unreported (the library's own ``skip_bad_series`` would drop it silently). A series that
    cannot be expanded keeps what is certain busy (:func:`_read_known`).
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
                _read_known(uid, events, ctx, _expansion_error(exc, events))
    for series in series_list:
        uid = str(series.uid)
        for rule in getattr(getattr(series, "recurrence", None), "rrules", ()):
            bound_rule(rule, ctx.deadline)
        found: list[_Key] = []
        try:
            found.extend(_occurrences(series, query_start, query_end, uid, ctx))
        except IcsParseError:
            raise
        except Exception as exc:  # as above: one bad series must not stop the others
            _read_known(uid, groups.get(uid, []), ctx, _expansion_error(exc, groups.get(uid, [])))
        for key in found:
            ctx.found[key] = None


def _read_known(uid: str, events: list[_Event], ctx: _Context, reason: str) -> None:
    """What is certain of a series that could not be expanded: the DTSTART instance (unless
    an EXDATE removes it), the RDATEs and the moved instances, each with its own status."""
    ctx.warnings.append(
        f"{ctx.source}: {_what(uid, events[0] if events else None)}: its recurrence could not "
        f"be expanded ({reason}); {ONLY_KNOWN}"
    )
    master = _master(events)
    public_uid = _public_uid(uid)
    for event in events:
        try:
            start, end = _span(event, ctx)
            if start is None or end is None:
                continue
            spans = [(start, end)]
            if event is master:
                spans = [(start, end)] if not _excluded(event, start, ctx) else []
                spans.extend(_rdate_spans(event, end - start, ctx))
        except IcsParseError:
            raise
        except Exception:
            continue  # placeable events were checked before; nothing more is certain here
        props = event.props
        busy = _status(props) != "CANCELLED" and not _transparent(props)
        for span_start, span_end in spans:
            if span_start >= ctx.window_end or span_end <= ctx.window_start:
                continue
            ctx.count_occurrence()
            if busy:
                ctx.found[(span_start, span_end, _text(props.get("SUMMARY")), public_uid)] = None


def _excluded(event: _Event, start: datetime, ctx: _Context) -> bool:
    for exdate in as_list(event.props.get("EXDATE")):
        for value in getattr(exdate, "dts", ()):
            if isinstance(value.dt, date) and _utc(value.dt, ctx) == start:
                return True
    return False


def _rdate_spans(
    event: _Event, length: timedelta, ctx: _Context
) -> list[tuple[datetime, datetime]]:
    """The spans the RDATEs of ``event`` add (section 3.8.5.2), read with the event's length."""
    spans = []
    for rdate in as_list(event.props.get("RDATE")):
        for value in getattr(rdate, "dts", ()):
            when = value.dt
            if isinstance(when, tuple) and len(when) == 2:
                first = _utc(when[0], ctx)
                last = first + when[1] if isinstance(when[1], timedelta) else _utc(when[1], ctx)
            elif isinstance(when, date):
                first = _utc(when, ctx)
                last = _later(first, length)
            else:
                continue
            spans.append((min(first, last), max(first, last)))
    return spans


def _expansion_error(exc: Exception, events: list[_Event]) -> str:
    """What the library could not read, in words about the calendar rather than the library.

    recurring-ical-events reports every rule dateutil rejects as "UNTIL parameter is missing";
    dateutil's own message says what is wrong.
    """
    if type(exc).__name__ != "BadRuleStringFormat":
        return _why(exc)
    master = _master(events)
    rules = as_list(master.props.get("RRULE")) if master is not None else []
    for rule in rules:
        text = rule.to_ical().decode("utf-8", errors="replace")
        try:
            rrulestr(text, dtstart=_naive(master.props["DTSTART"].dt) if master else None)
        except Exception as error:
            return f"RRULE {quote(text)}: {_why(error)}"
    shown = ", ".join(quote(rule.to_ical().decode("utf-8", errors="replace")) for rule in rules)
    return f"RRULE {shown} is not understood by recurring-ical-events"


def _naive(value: date) -> datetime:
    """A DTSTART as dateutil can pair it with any UNTIL (for its error message only)."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    return datetime.combine(value, time())


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
        ctx.step()
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
    """An instant in UTC for a DATE, floating DATE-TIME or zoned DATE-TIME (section 3.3.5).

    A value too close to the year 1 or 9999 to be converted becomes :data:`_FAR_PAST` or
    :data:`_FAR_FUTURE`.
    """
    try:
        if isinstance(value, datetime):
            if value.tzinfo is None:
                value = value.replace(tzinfo=ctx.floating)
            return value.astimezone(UTC)
        # Section 3.3.4: a DATE is a whole local day; the planner's days are in ``tz``.
        return datetime(value.year, value.month, value.day, tzinfo=ctx.tz).astimezone(UTC)
    except OverflowError:
        return _FAR_PAST if value.year < 5000 else _FAR_FUTURE


def _later(instant: datetime, delta: timedelta) -> datetime:
    """``instant + delta``, or :data:`_FAR_FUTURE` if that is past what datetime holds."""
    try:
        return min(instant + delta, _FAR_FUTURE)
    except OverflowError:
        return _FAR_FUTURE


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
        return _later(_utc(start_value, ctx), timedelta(days=1))
    return _utc(end_value, ctx)


def _warn_unknown_tzid(event: _Event, ctx: _Context) -> None:
    """A TZID with neither a VTIMEZONE nor a tz database entry leaves the time floating."""
    unknown = sorted(
        {
            quote(str(prop.params["TZID"]))
            for prop in (event.props.get("DTSTART"), event.props.get("DTEND"))
            if prop is not None
            and not isinstance(prop, (list, vBroken))
            and isinstance(prop.dt, datetime)
            and prop.dt.tzinfo is None
            and "TZID" in prop.params
        }
    )
    if unknown:
        zone = getattr(ctx.floating, "key", str(ctx.floating))
        ctx.warnings.append(
            f"{ctx.source}: {_what(_text(event.props.get('UID')), event)}: TZID "
            f"{', '.join(unknown)} is not defined (RFC 5545 section 3.2.19); its times are "
            f"read in {zone}"
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


def _public_uid(uid: str) -> str:
    """The UID as the calendar wrote it ("" if it had none)."""
    if uid.startswith(_MISSING_UID):
        return ""
    return uid.partition(_DETACHED)[0]


def _what(uid: str, event: _Event | None) -> str:
    """How a warning names an event: its UID, or its SUMMARY if it has no UID."""
    public = _public_uid(uid)
    if public:
        return f"UID {quote(public)}"
    summary = _text(event.props.get("SUMMARY")) if event is not None else ""
    return f"an event without UID (SUMMARY {quote(summary)})"


def _why(exc: Exception) -> str:
    """An exception as the reason in a warning (the library's type if it says nothing)."""
    return _short(str(exc)) or type(exc).__name__


def _short(text: str) -> str:
    """A library's message cut short and kept on one line (it may quote the calendar)."""
    text = _CONTROL.sub(lambda match: repr(match.group())[1:-1], text[: _SHORT + 1])
    return text[:_SHORT] + ("..." if len(text) > _SHORT else "")


def _to_intervals(ctx: _Context) -> list[BusyInterval]:
    """Deduplicated intervals in ``tz``, ordered by (start, end, summary, uid) in real time."""
    result = []
    tz, source = ctx.tz, ctx.source
    for first, last, summary, uid in sorted(ctx.found):
        start, end = first, last
        if start <= _FAR_PAST:
            start = min(ctx.window_start, end - timedelta(seconds=1))
        if end >= _FAR_FUTURE:
            end = max(ctx.window_end, start + timedelta(seconds=1))
        local_start, local_end = start.astimezone(tz), end.astimezone(tz)
        if not local_end > local_start:
            # Python compares datetimes sharing a tzinfo by wall clock, ignoring ``fold``: an
            # event from 02:30 CEST to 02:30 CET (the repeated hour) would look empty and be
            # rejected by BusyInterval. Keep the real instants by expressing it in UTC.
            local_start, local_end = start, end
        result.append(BusyInterval(local_start, local_end, summary, source, uid))
    return result
