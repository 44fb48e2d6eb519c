"""Day-level times: where a day's one or two sessions go in its windows (S2, S3, S8).

This is the planner core's own, calendar-blind answer: the earliest start in the day's windows
that keeps the same-day order (S2) and gap (S3). It lets the week search reject a day that cannot
hold a pair of sessions, and gives every session a real start before any busy time is known.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from planner.localtime import add_minutes, window_bounds
from planner.model import Focus, Kind


@dataclass(frozen=True)
class SameDayRule:
    """How two sessions share a day: who goes first (S2) and the gap between them (S3)."""

    run_first: bool
    gap_hours: float  # used when the run is long, or always when back_to_back_run_minutes is 0
    back_to_back_run_minutes: int  # a run shorter than this may follow/precede with no gap

    def gap_minutes(self, run_minutes: int) -> float:
        if self.back_to_back_run_minutes and run_minutes < self.back_to_back_run_minutes:
            return 0.0
        return self.gap_hours * 60


@dataclass(frozen=True)
class Slot:
    focus: Focus
    minutes: int


def ordered(slots: tuple[Slot, ...], rule: SameDayRule) -> tuple[Slot, ...]:
    """S2: lift first, or run first for endurance priority in a half/full build and peak."""
    first_kind = Kind.RUN if rule.run_first else Kind.LIFT
    return tuple(sorted(slots, key=lambda s: 0 if s.focus.kind is first_kind else 1))


def day_times(
    day: date,
    windows: tuple[tuple[time, time], ...],
    slots: tuple[Slot, ...],
    rule: SameDayRule,
    zone: ZoneInfo,
) -> tuple[tuple[datetime, datetime], ...] | None:
    """Start/end (UTC) per slot in S2 order, or None when the windows cannot hold them."""
    bounds = [window_bounds(day, a, b, zone) for a, b in windows]
    out: list[tuple[datetime, datetime]] = []
    earliest: datetime | None = None
    seq = ordered(slots, rule)
    for i, slot in enumerate(seq):
        placed = None
        for w_start, w_end in bounds:
            start = w_start if earliest is None else max(w_start, earliest)
            end = add_minutes(start, slot.minutes)
            if end <= w_end:
                placed = (start, end)
                break
        if placed is None:
            return None
        out.append(placed)
        if i + 1 < len(seq):
            run = next((s for s in seq if s.focus.kind is Kind.RUN), None)
            gap = rule.gap_minutes(run.minutes) if run else 0.0
            earliest = add_minutes(placed[1], gap)
    order = {id(s): i for i, s in enumerate(seq)}
    return tuple(out[order[id(s)]] for s in slots) if slots != seq else tuple(out)
