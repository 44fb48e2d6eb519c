"""Where one VEVENT sits in time: its DTSTART and its end as a UTC span.

The end comes from DTEND, DURATION or the defaults of RFC 5545 section 3.6.1; what had to be
guessed (an end before the start, an end past the year 9999, an unknown TZID) becomes a
warning. One-off events, series masters and moved instances are all placed by :func:`span`, so
an event the reader skips is skipped for the same reason wherever it is met.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from icalendar import vBroken

from adapters.ical.context import Context
from adapters.ical.events import BrokenSeriesError, Event, short, text_of, what
from adapters.ical.instants import FAR_FUTURE, end_utc, utc
from adapters.ical.repair import quote

__all__ = ["span"]


def _values(event: Event) -> tuple[date, date | None]:
    """DTSTART and the end as written (``None``: past the year 9999).

    Raises :class:`BrokenSeriesError` when the event cannot be placed in time.
    """
    props = event.props
    dtstart = props.get("DTSTART")
    dtend = props.get("DTEND")
    duration = props.get("DURATION")
    if dtstart is None:
        raise BrokenSeriesError("it has no DTSTART (RFC 5545 section 3.6.1)")
    if isinstance(dtstart, list) or isinstance(dtend, list) or isinstance(duration, list):
        raise BrokenSeriesError("it has more than one DTSTART, DTEND or DURATION")
    for name, prop in (("DTSTART", dtstart), ("DTEND", dtend), ("DURATION", duration)):
        if isinstance(prop, vBroken):
            error = short(str(getattr(prop, "parse_error", "") or "unreadable"))
            raise BrokenSeriesError(f"{name} {quote(str(prop))} could not be read ({error})")
    start_value = dtstart.dt
    if not isinstance(start_value, date):
        raise BrokenSeriesError(f"DTSTART has an unusable value {quote(repr(start_value))}")
    if dtend is not None:
        end_value = dtend.dt
        if not isinstance(end_value, date):
            raise BrokenSeriesError(f"DTEND has an unusable value {quote(repr(end_value))}")
        return start_value, end_value
    if duration is not None:
        delta = duration.dt
        if not isinstance(delta, timedelta):
            raise BrokenSeriesError(f"DURATION has an unusable value {quote(repr(delta))}")
        try:
            if not isinstance(start_value, datetime) and delta % timedelta(days=1):
                # A DATE plus a duration with a time part: read as recurring-ical-events does.
                return start_value, datetime.combine(start_value, time()) + delta  # floating
            return start_value, start_value + delta
        except OverflowError:
            if delta < timedelta(0):
                raise BrokenSeriesError("its DURATION reaches back before the year 1") from None
            return start_value, None
    if isinstance(start_value, datetime):
        # Section 3.6.1: a DATE-TIME DTSTART without DTEND/DURATION ends when it starts.
        return start_value, start_value
    return start_value, start_value + timedelta(days=1)  # section 3.6.1: a DATE lasts one day


def span(event: Event, ctx: Context) -> tuple[datetime, datetime] | tuple[None, None]:
    """The UTC span of a VEVENT, ``(None, None)`` if it takes no time.

    An end before the start is read with the two swapped (as recurring-ical-events does for
    series), an end past the year 9999 as the end of the window; both with a warning.
    Raises :class:`BrokenSeriesError` when the event cannot be placed in time.
    """
    start_value, end_value = _values(event)
    _warn_unknown_tzid(event, ctx)
    uid = text_of(event.props.get("UID"))
    start = utc(start_value, ctx)
    if end_value is None:
        ctx.warnings.append(
            f"{ctx.source}: {what(uid, event)}: it lasts past the year 9999 (DURATION "
            f"{quote(text_of(event.props['DURATION'].to_ical().decode()))}); busy from its "
            "start to the end of the window"
        )
        return start, max(FAR_FUTURE, start + timedelta(seconds=1))
    end = end_utc(start_value, end_value, ctx)
    if end < start:
        ctx.warnings.append(
            f"{ctx.source}: {what(uid, event)}: it ends ({end_value.isoformat()}) before it "
            f"starts ({start_value.isoformat()}); read with the two swapped"
        )
        start, end = min(start, end), max(start, end)
    if end == start:
        return None, None  # takes no time, so it blocks nothing
    return start, end


def _warn_unknown_tzid(event: Event, ctx: Context) -> None:
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
            f"{ctx.source}: {what(text_of(event.props.get('UID')), event)}: TZID "
            f"{', '.join(unknown)} is not defined (RFC 5545 section 3.2.19); its times are "
            f"read in {zone}"
        )
