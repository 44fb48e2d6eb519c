"""The nouns of a plan: phases, sessions, exercises; frozen, so plans can be shared and compared."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

Day = date  # an alias: inside Session, ``date`` names the field


class Kind(StrEnum):
    LIFT = "lift"
    RUN = "run"
    RACE = "race"  # P4: race day itself, an event in every calendar that nothing goes on


class Focus(StrEnum):
    LOWER = "lower"
    UPPER = "upper"
    FULL = "full"
    EASY = "easy"
    TEMPO = "tempo"
    INTERVALS = "intervals"
    LONG = "long"
    OPTIONAL_EASY = "optional_easy"
    RACE = "race"

    @property
    def kind(self) -> Kind:
        if self is Focus.RACE:
            return Kind.RACE
        return Kind.LIFT if self in LIFT_FOCI else Kind.RUN

    @property
    def loads_lower(self) -> bool:
        """S4/S5: full body counts as lower body."""
        return self in (Focus.LOWER, Focus.FULL)

    @property
    def loads_upper(self) -> bool:
        return self in (Focus.UPPER, Focus.FULL)

    @property
    def is_hard_run(self) -> bool:
        """S4 names interval, speed, hill and threshold runs; a tempo run is a threshold run."""
        return self in (Focus.INTERVALS, Focus.TEMPO)

    @property
    def is_easy_run(self) -> bool:
        return self in (Focus.EASY, Focus.OPTIONAL_EASY)


LIFT_FOCI = frozenset({Focus.LOWER, Focus.UPPER, Focus.FULL})


class PhaseName(StrEnum):
    BASE = "base"
    BUILD = "build"
    PEAK = "peak"
    TAPER = "taper"
    RACE = "race"
    RECOVERY = "recovery"
    MAINTENANCE = "maintenance"


class ExerciseKind(StrEnum):
    STRENGTH = "strength"
    PLYOMETRIC = "plyometric"
    MOBILITY = "mobility"
    DRILL = "drill"


class Load(StrEnum):
    """How heavy, in words an athlete can act on (L2, L6, P4): the weight they build with,
    about 10 % under it, or clearly light."""

    WORKING = "working"
    LIGHTER = "lighter"
    LIGHT = "light"


@dataclass(frozen=True)
class Exercise:
    name: str
    sets: int
    reps: str
    kind: ExerciseKind
    note: str = ""
    load: Load = Load.WORKING
    reps_in_reserve: str = ""  # e.g. "1-2"; empty where it does not apply (mobility)
    per_leg: bool = False  # split squats, lunges: reps count each leg


class Effort(StrEnum):
    EASY = "easy"
    STEADY = "steady"
    TEMPO = "tempo"
    INTERVAL = "interval"
    RACE = "race"


class SegmentKind(StrEnum):
    WARMUP = "warmup"
    WORK = "work"
    RECOVERY = "recovery"
    COOLDOWN = "cooldown"
    STRIDES = "strides"
    DRILLS = "drills"


@dataclass(frozen=True)
class Segment:
    """One part of a run (G6): ``minutes`` per repeat, so a run lasts the sum of
    ``minutes * repeat`` over its segments, exactly."""

    kind: SegmentKind
    minutes: int
    effort: Effort
    repeat: int = 1

    @property
    def total(self) -> int:
        return self.minutes * self.repeat


@dataclass(frozen=True)
class Phase:
    name: PhaseName
    start: date
    end: date  # inclusive


@dataclass(frozen=True)
class Session:
    """One training session with its prescription and the rule ids that shaped it.

    ``id`` is stable: derived from the week and the session's role in it, never from its day or
    time, so moving a session keeps its identity (the sync engine relies on this).
    """

    id: str
    date: date
    kind: Kind
    focus: Focus
    phase: PhaseName
    duration_minutes: int
    title: str
    description: str
    rules: tuple[str, ...]
    reason: str
    exercises: tuple[Exercise, ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    rank: int = 0  # 0 = most important of its kind this week; S10 drops the highest first
    not_after: Day | None = None  # P4: the last day it may move to (race week, no-lift days)
    status: str = "planned"  # after placement: new | kept | moved | pinned | frozen
    placement: str = ""  # after placement: why it is at this time (busy events, rules)
    placement_rules: tuple[str, ...] = ()  # after placement: the rules that bound its time
    segments: tuple[Segment, ...] = ()  # runs (G6): add up to duration_minutes exactly
    all_day: bool = False  # the race without goal.race_time: start/end are local midnights
    not_before: Day | None = None  # the first day it may move to (race-week runs: their day)
    link: str | None = None  # after sync: its page, where a public URL is set (sync/links.py)


@dataclass(frozen=True)
class Unplaced:
    id: str
    reason: str
    rules: tuple[str, ...] = ()


@dataclass(frozen=True)
class Nutrition:
    protein_g_per_day: tuple[int, int] | None
    bodyweight_lb: float | None
    extra_kcal_per_week: tuple[int, int] | None
    run_minutes_per_week: int
    rules: tuple[str, ...] = ("N1", "N2")
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class WeekSummary:
    """The week-by-week volume a coach reads first (G1-G4)."""

    start: date
    phase: PhaseName
    run_minutes: int
    long_run_minutes: int
    lift_sets: int
    hard_runs: int
    cutback: bool


@dataclass(frozen=True)
class Plan:
    timezone: str
    start: date
    end: date  # inclusive
    phases: tuple[Phase, ...]
    sessions: tuple[Session, ...]
    unplaced: tuple[Unplaced, ...]
    nutrition: Nutrition
    warnings: tuple[str, ...] = field(default=())
    suggestions: tuple[str, ...] = field(default=())
    weeks: tuple[WeekSummary, ...] = field(default=())
