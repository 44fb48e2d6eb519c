"""The Move form's choices: the placement engine's valid starts for one session, grouped by day
and collapsed to the few a runner picks from on a phone.

The engine (``planner.alternatives``) offers every valid start: each free span's first and last
start, the quarter-hour grid between, and the minutes a neighbour fixes. On a phone that is
dozens of radio buttons. A runner thinks "tomorrow morning", "after work", "as early as I can",
so each day offers, per run of valid starts (starts no more than a grid step apart):

- its first start (as early as that window allows) and its last (as late as it allows);
- the whole hours between, at least half an hour from the starts kept either side, coarsened to
  every 2, 3 or 4 hours on a long free day, so a day offers at most :data:`MAX_OFFERED`.

Every other valid start of the day stays one tap away (a "more times" list beside the day's
choices), so nothing the week allows is lost. Nothing is made up here: every choice is one of
the engine's starts, and the session's own time is shown in its place, marked, not offered.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from planner.slot_search import GRID
from web.views import SlotChoice, SlotDay

MAX_OFFERED = 6  # choices a day shows before its "more times"
HALF_HOUR = timedelta(minutes=30)
_STEPS_MINUTES = (60, 120, 180, 240)  # the grid of whole hours, coarsened on a long free day


def day_label(d: date) -> str:
    """ "Thu 4 Feb": a weekday and a date, as a runner says them."""
    return f"{d:%a} {d.day} {d:%b}"


def choice(start: datetime, end: datetime, zone: ZoneInfo, *, current: bool = False) -> SlotChoice:
    """A slot in the plan's zone; the form posts its start as an aware UTC instant."""
    a, b = start.astimezone(zone), end.astimezone(zone)
    return SlotChoice(a, b, f"{day_label(a.date())} {a:%H:%M}-{b:%H:%M}", _value(a), current)


def _value(start: datetime) -> str:
    return start.astimezone(UTC).isoformat()


def runs(starts: Sequence[datetime]) -> list[list[datetime]]:
    """Sorted starts cut where two neighbours are more than a grid step apart: one run per
    stretch of free time (a training window, or its part between two busy events)."""
    out: list[list[datetime]] = []
    for t in starts:
        if out and t - out[-1][-1] <= GRID:
            out[-1].append(t)
        else:
            out.append([t])
    return out


def _on_step(t: datetime, step_minutes: int) -> bool:
    return (t.hour * 60 + t.minute) % step_minutes == 0


def collapse(
    run: Sequence[datetime], step_minutes: int, keep: datetime | None = None
) -> list[datetime]:
    """The starts of one run a day offers: the first, the whole ``step_minutes`` marks at
    least half an hour from their neighbours, the last when it is half an hour past the one
    before; ``keep`` (the session's own start) always, so the marks space around it."""
    kept: list[datetime] = []
    last = run[-1]
    for i, t in enumerate(run):
        if i == 0 or t == keep:
            kept.append(t)
        elif t == last:
            if t - kept[-1] >= HALF_HOUR:
                kept.append(t)
        elif t - kept[-1] >= HALF_HOUR and last - t >= HALF_HOUR and _on_step(t, step_minutes):
            kept.append(t)
    return kept


def offered_starts(starts: Sequence[datetime], current: datetime | None = None) -> list[datetime]:
    """One day's offered starts (local, sorted; ``current`` among them if given): the finest
    hour grid that keeps the day within :data:`MAX_OFFERED` choices, or the coarsest."""
    chosen: list[datetime] = []
    for step in _STEPS_MINUTES:
        chosen = [t for run in runs(starts) for t in collapse(run, step, current)]
        if len([t for t in chosen if t != current]) <= MAX_OFFERED:
            break
    return chosen


def slot_days(
    slots: Iterable[tuple[datetime, datetime]],
    zone: ZoneInfo,
    current: tuple[datetime, datetime] | None = None,
    today: date | None = None,
) -> tuple[SlotDay, ...]:
    """The engine's ``slots`` as the form's days, earliest first: each day's offered choices
    (with the session's ``current`` time in its place, marked) and the rest of its starts.
    A day appears when it has a choice or holds the session now."""
    ends: dict[datetime, datetime] = {}
    for a, b in slots:
        ends[a.astimezone(zone)] = b.astimezone(zone)
    now_at = (current[0].astimezone(zone), current[1].astimezone(zone)) if current else None
    by_day: dict[date, list[datetime]] = {}
    for a in sorted(ends):
        by_day.setdefault(a.date(), []).append(a)
    if now_at is not None:
        by_day.setdefault(now_at[0].date(), [])
    days = []
    for day in sorted(by_day):
        valid = by_day[day]
        here = now_at[0] if now_at is not None and now_at[0].date() == day else None
        starts = sorted({*valid, *([here] if here is not None else [])})
        shown = offered_starts(starts, here)
        offered = set(shown)
        items = tuple(
            choice(t, now_at[1], zone, current=True)
            if now_at is not None and t == here
            else choice(t, ends[t], zone)
            for t in shown
        )
        more = tuple(choice(t, ends[t], zone) for t in valid if t not in offered)
        days.append(SlotDay(day, day_label(day), _relative(day, today), items, more))
    return tuple(days)


def _relative(day: date, today: date | None) -> str:
    if today is None:
        return ""
    return {0: "today", 1: "tomorrow"}.get((day - today).days, "")
