"""The recurring-ical-events adapters: a series' busy occurrences, read without copies.

The library's extension points (``ComponentsWithName(adapter=..., occurrence=...)``) let each
occurrence remember the VEVENT it comes from, so its STATUS, TRANSP and SUMMARY are read there
rather than through ``Occurrence.as_component``, which copies the component for every instance
and took half of the expansion time in the benchmark (``benchmarks/bench_ics_read.py``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import icalendar
import recurring_ical_events

from adapters.ical.context import Context, Key
from adapters.ical.events import (
    BrokenSeriesError,
    Event,
    is_transparent,
    public_uid_of,
    status_of,
    text_of,
)
from adapters.ical.instants import end_utc, utc

__all__ = ["occurrences", "series_of"]


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


def series_of(groups: list[list[Event]], x_wr_timezone: str | None) -> list[Any]:
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


def occurrences(
    series: Any, query_start: datetime, query_end: datetime, uid: str, ctx: Context
) -> Iterator[Key]:
    """Busy instances of one series in the window (cancelled and transparent ones removed)."""
    public_uid = public_uid_of(uid)
    labels: dict[int, str | None] = {}  # id(VEVENT) -> SUMMARY, or None if it is not busy
    occurrence: _Occurrence
    for occurrence in series.between(query_start, query_end):
        ctx.step()
        start_value, end_value = occurrence.start, occurrence.end
        start = utc(start_value, ctx)
        end = end_utc(start_value, end_value, ctx)
        if end < start:
            raise BrokenSeriesError(f"an instance ends before it starts ({start_value})")
        if end == start or start >= ctx.window_end or end <= ctx.window_start:
            continue
        ctx.count_occurrence()
        vevent = occurrence.vevent
        if id(vevent) in labels:
            label = labels[id(vevent)]
        else:
            # A cancelled RECURRENCE-ID override is still returned as an occurrence.
            props = dict(vevent.items())
            busy = status_of(props) != "CANCELLED" and not is_transparent(props)
            label = labels[id(vevent)] = text_of(props.get("SUMMARY")) if busy else None
        if label is not None:
            yield start, end, label, public_uid
