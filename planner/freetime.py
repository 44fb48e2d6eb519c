"""Free time of one local day: availability windows minus busy time (with its buffer) and the past.

Busy intervals arrive sorted once per plan (``BusyIndex``) and each day looks up only the events
that touch it (bisect on starts, plus the longest event's length as look-back), so a day costs
O(log n + k) however many thousands of events the calendars hold (rule S8).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from planner.busy import BusyInterval
from planner.localtime import window_bounds

Span = tuple[datetime, datetime]  # [start, end), UTC


@dataclass(frozen=True)
class BusyIndex:
    """Busy intervals in UTC sorted by start, with the longest duration for look-back."""

    items: tuple[BusyInterval, ...]
    starts: tuple[datetime, ...]
    longest: timedelta

    @classmethod
    def build(cls, busy: Iterable[BusyInterval]) -> BusyIndex:
        items = tuple(
            sorted(
                (
                    BusyInterval(
                        b.start.astimezone(UTC), b.end.astimezone(UTC), b.summary, b.source, b.uid
                    )
                    for b in busy
                ),
                key=lambda b: (b.start, b.end, b.summary, b.uid),
            )
        )
        longest = max((b.end - b.start for b in items), default=timedelta(0))
        return cls(items, tuple(b.start for b in items), longest)

    def overlapping(self, start: datetime, end: datetime) -> list[BusyInterval]:
        """Every busy interval that intersects ``[start, end)``."""
        lo = bisect_left(self.starts, start - self.longest)
        hi = bisect_left(self.starts, end)
        return [b for b in self.items[lo:hi] if b.end > start]


def subtract(spans: list[Span], cuts: Iterable[Span]) -> list[Span]:
    """``spans`` minus the union of ``cuts``; both half-open."""
    out = spans
    for c_start, c_end in cuts:
        nxt: list[Span] = []
        for s, e in out:
            if c_end <= s or c_start >= e:
                nxt.append((s, e))
                continue
            if s < c_start:
                nxt.append((s, c_start))
            if c_end < e:
                nxt.append((c_end, e))
        out = nxt
    return out


@dataclass(frozen=True)
class DayFree:
    day: date
    windows: tuple[Span, ...]  # the availability windows of the day, UTC
    free: tuple[Span, ...]  # windows minus busy(+buffer) minus the past
    busy: tuple[BusyInterval, ...]  # busy events that cut into the windows (+buffer)


def day_free(
    day: date,
    windows: tuple[tuple[time, time], ...],
    *,
    zone: ZoneInfo,
    busy: BusyIndex,
    buffer: timedelta,
    not_before: datetime | None,
) -> DayFree:
    spans = [window_bounds(day, a, b, zone) for a, b in windows]
    if not spans:
        return DayFree(day, (), (), ())
    lo, hi = min(s for s, _ in spans), max(e for _, e in spans)
    hits = busy.overlapping(lo - buffer, hi + buffer)
    cuts = [(b.start - buffer, b.end + buffer) for b in hits]
    if not_before is not None:
        cuts.append((lo - timedelta(days=1), not_before.astimezone(UTC)))
    free = subtract(spans, cuts)
    touching = tuple(
        b for b in hits if any(b.start - buffer < e and b.end + buffer > s for s, e in spans)
    )
    return DayFree(day, tuple(spans), tuple(free), touching)
