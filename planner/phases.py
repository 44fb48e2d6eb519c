"""The phase timeline of a goal (rules P1, P2, P5).

Phases are aligned to Monday-to-Sunday weeks, because the week templates (R2, R5) are weekly:
a ``plan_start`` in mid-week starts the block on that week's Monday. The exception is race week
(P3): always the seven days that end on race day, whatever weekday the race is on, so a Wednesday
race's race week runs Thursday to Wednesday and the calendar weeks around it hold two phases
(taper, then race; race, then recovery).

Marathon, race on Sunday 2027-10-10, defaults (peak 8, taper 3, recovery 2 weeks)::

    build ... 2027-08-15 | peak 08-16 .. 09-19 | taper 09-20 .. 10-03 | race 10-04 .. 10-10
    | recovery 10-11 .. 10-24 | base 10-25 ...

"Peak starts 8 weeks before race day" counts race week as the 8th; the 3-week taper likewise.
A block more than twice the distance's usual length starts with base weeks, so the build keeps
its usual length (``build_start``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from config.models import Goal, Race, StrengthMode
from planner.model import Phase, PhaseName

_FAR_PAST = date(1900, 1, 1)
_FAR_FUTURE = date(2999, 12, 31)


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def sunday_of(day: date) -> date:
    return monday_of(day) + timedelta(days=6)


@dataclass(frozen=True)
class Timeline:
    """Every phase from the distant past to the distant future; gaps never occur."""

    segments: tuple[Phase, ...]
    race_date: date | None
    plan_start: date | None
    build_start: date | None = None  # later than plan_start only for a block over twice usual

    @property
    def race_week_start(self) -> date | None:
        """P3: race week is the seven days that end on race day."""
        return None if self.race_date is None else self.race_date - timedelta(days=6)

    @property
    def block_weeks(self) -> int | None:
        """Weeks from plan start through race week (None without a race)."""
        if self.race_date is None or self.plan_start is None:
            return None
        return (monday_of(self.race_date) - self.plan_start).days // 7 + 1

    def phase_on(self, day: date) -> Phase:
        for seg in self.segments:
            if seg.start <= day <= seg.end:
                return seg
        raise ValueError(f"{day} is outside the timeline")  # pragma: no cover - total by design

    def clipped(self, start: date, end: date) -> tuple[Phase, ...]:
        """The phases overlapping ``[start, end]``, cut to it, for display and JSON."""
        out = []
        for seg in self.segments:
            if seg.end < start or seg.start > end:
                continue
            out.append(Phase(seg.name, max(seg.start, start), min(seg.end, end)))
        return tuple(out)

    def weeks_into(self, day: date) -> int:
        """0 for the first week of the phase containing ``day``."""
        return (monday_of(day) - monday_of(self.phase_on(day).start)).days // 7


def default_plan_start(goal: Goal) -> date | None:
    """P2: without ``plan_start`` the block has the distance's standard length."""
    if goal.race is Race.NONE or goal.race_date is None:
        return monday_of(goal.plan_start) if goal.plan_start else None
    if goal.plan_start is not None:
        return monday_of(goal.plan_start)
    weeks = goal.defaults().block_weeks
    return monday_of(goal.race_date) - timedelta(weeks=weeks - 1)


def timeline(goal: Goal) -> Timeline:
    if goal.race is Race.NONE or goal.race_date is None:
        name = (
            PhaseName.MAINTENANCE
            if goal.strength_mode is StrengthMode.MAINTENANCE
            else PhaseName.BASE
        )
        return Timeline((Phase(name, _FAR_PAST, _FAR_FUTURE),), None, default_plan_start(goal))

    race_day = goal.race_date
    d = goal.defaults()
    plan_start = default_plan_start(goal)
    assert plan_start is not None
    race_week = monday_of(race_day)
    race_start = race_day - timedelta(days=6)  # P3
    day = timedelta(days=1)
    build_start = plan_start
    if (race_week - plan_start).days // 7 + 1 > 2 * d.block_weeks:
        build_start = race_week - timedelta(weeks=d.block_weeks - 1)  # base weeks first
    if goal.race.is_long:
        peak_start = race_week - timedelta(weeks=d.peak_weeks - 1)
        taper_start = race_week - timedelta(weeks=d.taper_weeks - 1)
    else:
        peak_start = taper_start = race_week  # P3: no peak or taper for 5K/10K
    recovery_end = sunday_of(race_day) + timedelta(weeks=d.recovery_weeks)

    raw = [
        (PhaseName.BASE, _FAR_PAST, min(build_start, race_start) - day),  # race week wins (P3)
        (PhaseName.BUILD, build_start, min(peak_start, race_start) - day),
        (PhaseName.PEAK, max(peak_start, plan_start), min(taper_start, race_start) - day),
        (PhaseName.TAPER, max(taper_start, plan_start), race_start - day),
        (PhaseName.RACE, race_start, race_day),
        (PhaseName.RECOVERY, race_day + day, recovery_end),
        (PhaseName.BASE, recovery_end + day, _FAR_FUTURE),
    ]
    segments: list[Phase] = []
    cursor = _FAR_PAST
    for name, wanted_start, end in raw:
        start = max(wanted_start, cursor)
        if start > end:
            continue
        segments.append(Phase(name, start, end))
        cursor = end + day
    return Timeline(tuple(segments), race_day, plan_start, build_start)
