"""The separation rules between two sessions and their numbers, stated once (S2-S7, R3, L3, G5, P4).

Both searches ask this module: the day search (``planner/week.py``) when it chooses a day for each
session, and the minute placement (``planner/placement.py``) when it chooses the clock time around
busy events. They once kept a copy each, and the copies drifted (the R3 cap on a lift day); now a
rule changed here changes both. The only difference between the two callers is stated as a
parameter: the day search may still shorten an easy run to R3's cap when it shares a lift day
(``may_cap``); the placement gets sessions whose length is already decided and may not.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cached_property
from math import ceil
from typing import Protocol
from zoneinfo import ZoneInfo

from config.models import Priority, Settings
from planner.daytimes import SameDayRule
from planner.model import Focus, Kind, PhaseName


@dataclass(frozen=True)
class RuleBook:
    """The rule numbers of one athlete, resolved from the settings once."""

    zone: ZoneInfo
    windows: tuple[tuple[tuple[time, time], ...], ...]  # S8, per weekday
    buffer: timedelta  # S8
    strength_priority: bool  # S1, S2, R3
    run_first_phases: frozenset[PhaseName]  # S2
    same_day_gap: timedelta  # S3
    back_to_back_run_minutes: int  # S3, endurance priority
    hard_gap: timedelta  # S4
    region_gap_days: int  # S5
    rest_days: int  # S6
    max_per_day: int  # S7
    hard_days_hard: bool  # S7
    run_on_lift_day_max: int  # R3
    hard_run_spacing_days: int = 2  # G5: two hard runs never on consecutive days

    @classmethod
    def from_settings(cls, settings: Settings) -> RuleBook:
        r = settings.rules
        endurance = settings.athlete.priority is Priority.ENDURANCE
        run_first: frozenset[PhaseName] = frozenset()
        if endurance and settings.goal.race.is_long:
            run_first = frozenset({PhaseName.BUILD, PhaseName.PEAK})  # S2
        return cls(
            zone=settings.zone,
            windows=tuple(settings.availability.windows(d) for d in range(7)),
            buffer=timedelta(minutes=settings.availability.buffer_minutes),
            strength_priority=not endurance,
            run_first_phases=run_first,
            same_day_gap=timedelta(
                hours=r.endurance_gap_hours if endurance else r.same_day_gap_hours
            ),
            back_to_back_run_minutes=r.endurance_back_to_back_run_minutes if endurance else 0,
            hard_gap=timedelta(hours=r.hard_run_lower_lift_gap_hours),
            region_gap_days=r.region_gap_days,
            rest_days=r.rest_days_per_week,
            max_per_day=r.max_sessions_per_day,
            hard_days_hard=settings.athlete.hard_days_hard and endurance,
            run_on_lift_day_max=r.run_on_lift_day_max_minutes,
        )

    @cached_property
    def reach_days(self) -> int:
        """How many days apart two sessions can still constrain each other (S4, S5, G5); asked
        for every day the searches try, so computed once."""
        return max(
            1,
            self.region_gap_days - 1,
            self.hard_run_spacing_days - 1,
            ceil(self.hard_gap / timedelta(days=1)) + 1,
        )

    def same_day(self, phase: PhaseName) -> SameDayRule:
        """S2's order and S3's gap for a day of ``phase``, as the day-level times need them."""
        return SameDayRule(
            run_first=phase in self.run_first_phases,
            gap_hours=self.same_day_gap / timedelta(hours=1),
            back_to_back_run_minutes=self.back_to_back_run_minutes,
        )


@dataclass(frozen=True)
class Facts:
    """What the rules need to know of one session."""

    lift: bool
    lower: bool
    upper: bool
    hard: bool  # S4, G5: tempo and intervals
    easy: bool
    minutes: int
    run_first: bool  # S2: on a shared day this phase puts the run first
    race: bool = False
    plyo: bool = False  # L3: holds plyometrics, so it needs fresh legs

    @classmethod
    def of(
        cls, focus: Focus, minutes: int, phase: PhaseName, book: RuleBook, *, plyo: bool = False
    ) -> Facts:
        return cls(
            lift=focus.kind is Kind.LIFT,
            lower=focus.loads_lower,
            upper=focus.loads_upper,
            hard=focus.is_hard_run,
            easy=focus.is_easy_run,
            minutes=minutes,
            run_first=phase in book.run_first_phases,
            race=focus.kind is Kind.RACE,
            plyo=plyo,
        )


def share_day(a: Facts, b: Facts, book: RuleBook, *, may_cap: bool) -> str | None:
    """The rule that keeps ``a`` and ``b`` off one calendar day, or None when they may share it.

    P4: race day holds nothing else. S7: at most two sessions, never two of a kind. R3 (strength
    priority): the run beside a lift is easy and at most ``run_on_lift_day_max`` minutes, which
    the day search may still make it (``may_cap``). S4: never a hard run on a leg day. L3: a lift
    with plyometrics never follows a run on the same day.
    """
    if a.race or b.race:
        return "P4"
    if book.max_per_day < 2 or a.lift == b.lift:
        return "S7"
    lift, run = (a, b) if a.lift else (b, a)
    if book.strength_priority and (
        not run.easy or (run.minutes > book.run_on_lift_day_max and not may_cap)
    ):
        return "R3"
    if lift.lower and run.hard:
        return "S4"
    if lift.plyo and run.run_first:
        return "L3"
    return None


QUALITY_RUNS = frozenset({Focus.TEMPO, Focus.INTERVALS, Focus.LONG})


def endorsed_two_a_day(foci: tuple[Focus, ...], *, as_template: bool, book: RuleBook) -> bool:
    """S7: ``hard_days_hard`` puts a lift on a hard-run day (tempo, intervals, long) and keeps
    R5's own pairs (``as_template``: both on the day the template gives them); any other
    shared day is a compromise the week was forced into."""
    return book.hard_days_hard and (as_template or any(f in QUALITY_RUNS for f in foci))


def shared_run_minutes(minutes: int, book: RuleBook) -> int:
    """R3: how long a run lasts on a day that also has a lift."""
    return min(minutes, book.run_on_lift_day_max) if book.strength_priority else minutes


def same_day_gap(run_minutes: int, book: RuleBook) -> timedelta:
    """S3: the gap between a lift and a run on one day."""
    b2b = book.back_to_back_run_minutes
    return timedelta(0) if b2b and run_minutes < b2b else book.same_day_gap


def near_days(a: Facts, b: Facts, days_apart: int, book: RuleBook) -> str | None:
    """Rules between sessions on different days: S5 (two days between lifts loading one region)
    and G5 (hard runs never on consecutive days)."""
    apart = abs(days_apart)
    if (
        a.lift
        and b.lift
        and ((a.lower and b.lower) or (a.upper and b.upper))
        and apart < book.region_gap_days
    ):
        return "S5"
    if a.hard and b.hard and 0 < apart < book.hard_run_spacing_days:
        return "G5"
    return None


def hard_near_lower(a: Facts, b: Facts) -> bool:
    """S4's pair: an interval or tempo run and a lift that loads the legs."""
    return (a.lower and b.hard) or (a.hard and b.lower)


@dataclass(frozen=True)
class Timed:
    """A session at a time: its facts, its start and end, and its local day."""

    facts: Facts
    start: datetime
    end: datetime
    day: date


class Place(Protocol):
    """Where a session is: its start and end (aware instants) and its local day."""

    @property
    def start(self) -> datetime: ...

    @property
    def end(self) -> datetime: ...

    @property
    def day(self) -> date: ...


def timed_clash(x: Timed, y: Timed, book: RuleBook, *, may_cap: bool = False) -> str | None:
    """The rule two timed sessions break together, or None: the day rules above, plus S2's order,
    S3's gap and S4's 8 hours to the minute."""
    return clash_at(x.facts, x, y.facts, y, book, may_cap=may_cap)


def clash_at(
    a: Facts, x: Place, b: Facts, y: Place, book: RuleBook, *, may_cap: bool = False
) -> str | None:
    """:func:`timed_clash` for facts and places held apart: the minute placement asks it for
    every pair of candidate slots, thousands of times a week, and wrapping each pair in
    :class:`Timed` first cost more than the rules."""
    if x.day == y.day:
        rule = share_day(a, b, book, may_cap=may_cap)
        if rule is not None:
            return rule
        lp, rp, run = (x, y, b) if a.lift else (y, x, a)  # the lift's place, the run's
        first, second = (rp, lp) if run.run_first else (lp, rp)
        if second.start < first.end:
            return "S2"
        if second.start < first.end + same_day_gap(run.minutes, book):
            return "S3"
    elif x.start < y.end and y.start < x.end:
        return "S7"
    else:
        rule = near_days(a, b, (x.day - y.day).days, book)
        if rule is not None:
            return rule
    return "S4" if _too_close(a, x, b, y, book) else None


def too_close_for_s4(x: Timed, y: Timed, book: RuleBook) -> bool:
    """S4 to the minute: a hard run and a leg-loading lift less than ``hard_gap`` apart."""
    return _too_close(x.facts, x, y.facts, y, book)


def _too_close(a: Facts, x: Place, b: Facts, y: Place, book: RuleBook) -> bool:
    if not hard_near_lower(a, b):
        return False
    gap = book.hard_gap
    return not (y.start >= x.end + gap or x.start >= y.end + gap)
