"""What the day search (``planner.week``) takes and gives back: a ``Spec`` per session, the
``WeekRules`` it is solved under (with last week's ``Fixed`` tail), and the ``WeekLayout`` of
``Placed`` and ``Dropped`` sessions it returns.

Why a module of its own: these types are the search's contract with the rest of the planner (the
week's mix in ``planner.sessions`` makes specs without the search; the fixes and the plan build
rules and read layouts), and ``week.py`` stays the search alone, within issue 14's ~500 lines.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from planner.constraints import RuleBook
from planner.daytimes import SameDayRule
from planner.model import Focus, Kind, PhaseName


@dataclass(frozen=True)
class Spec:
    """A session before it has a day: what it is and where it would like to be."""

    key: str
    focus: Focus
    minutes: int
    preferred: int  # weekday, 0 = Monday
    importance: int  # 0 = most important; S10 drops the highest first within a modality
    allowed: frozenset[int] = frozenset(range(7))
    phase: PhaseName = PhaseName.BASE  # S2's order on a shared day depends on it

    @property
    def kind(self) -> Kind:
        return self.focus.kind


@dataclass(frozen=True)
class Fixed:
    """A session outside the week being solved (the previous week's tail) that rules still see."""

    day: date
    focus: Focus
    start: datetime
    end: datetime
    phase: PhaseName = PhaseName.BASE


@dataclass(frozen=True)
class WeekRules:
    """The week being solved: its Monday, the athlete's rule book and last week's tail."""

    monday: date
    book: RuleBook
    fixed: tuple[Fixed, ...] = ()

    @property
    def windows(self) -> tuple[tuple[tuple[time, time], ...], ...]:
        return self.book.windows

    @property
    def zone(self) -> ZoneInfo:
        return self.book.zone

    @property
    def strength_priority(self) -> bool:
        return self.book.strength_priority

    @property
    def rest_days(self) -> int:
        return self.book.rest_days

    @property
    def max_per_day(self) -> int:
        return self.book.max_per_day

    @property
    def run_on_lift_day_max(self) -> int:
        return self.book.run_on_lift_day_max

    def same_day(self, phase: PhaseName) -> SameDayRule:
        return self.book.same_day(phase)


@dataclass(frozen=True)
class Placed:
    spec: Spec
    weekday: int
    minutes: int  # after R3's cap on a shared day
    start: datetime
    end: datetime
    shares_day: bool


@dataclass(frozen=True)
class Dropped:
    spec: Spec
    reason: str
    rules: tuple[str, ...]


@dataclass(frozen=True)
class WeekLayout:
    placed: tuple[Placed, ...]
    dropped: tuple[Dropped, ...] = ()
    cost: int = 0
    nodes: int = 0
    warnings: tuple[str, ...] = field(default=())
