"""Instants of the busy-time reader: every DATE and DATE-TIME as one comparable UTC value.

The reader compares everything in UTC, so how a DATE (a whole local day), a floating time or a
zoned time becomes an instant (RFC 5545 section 3.3.5) is decided once, here, as is what
happens near the years 1 and 9999 where ``datetime`` cannot convert: such values become
:data:`FAR_PAST` / :data:`FAR_FUTURE`, which the reader later cuts at its window.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from adapters.ical.context import Context

__all__ = ["FAR_FUTURE", "FAR_PAST", "end_utc", "later", "naive", "utc"]

# Instants beyond what ``datetime`` can hold in every zone stand for "before/after anything";
# an interval reaching one is cut at the read window (an event lasting to the year 9999).
FAR_PAST = datetime.min.replace(tzinfo=UTC) + timedelta(days=2)
FAR_FUTURE = datetime.max.replace(tzinfo=UTC) - timedelta(days=2)


def utc(value: date, ctx: Context) -> datetime:
    """An instant in UTC for a DATE, floating DATE-TIME or zoned DATE-TIME (section 3.3.5).

    A value too close to the year 1 or 9999 to be converted becomes :data:`FAR_PAST` or
    :data:`FAR_FUTURE`.
    """
    try:
        if isinstance(value, datetime):
            if value.tzinfo is None:
                value = value.replace(tzinfo=ctx.floating)
            return value.astimezone(UTC)
        # Section 3.3.4: a DATE is a whole local day; the planner's days are in ``tz``.
        return datetime(value.year, value.month, value.day, tzinfo=ctx.tz).astimezone(UTC)
    except OverflowError:
        return FAR_PAST if value.year < 5000 else FAR_FUTURE


def later(instant: datetime, delta: timedelta) -> datetime:
    """``instant + delta``, or :data:`FAR_FUTURE` if that is past what datetime holds."""
    try:
        return min(instant + delta, FAR_FUTURE)
    except OverflowError:
        return FAR_FUTURE


def end_utc(start_value: date, end_value: date, ctx: Context) -> datetime:
    """The UTC end; an all-day event whose DTEND equals its DTSTART still lasts one day.

    RFC 5545 section 3.6.1 requires a DATE DTEND to be later than DTSTART; some exporters
    write the same day meaning "this day", and reading that as nothing would free a busy day.
    """
    if (
        end_value == start_value
        and not isinstance(start_value, datetime)
        and not isinstance(end_value, datetime)
    ):
        return later(utc(start_value, ctx), timedelta(days=1))
    return utc(end_value, ctx)


def naive(value: date) -> datetime:
    """A DTSTART as dateutil can pair it with any UNTIL (for its error message only)."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    return datetime.combine(value, time())
