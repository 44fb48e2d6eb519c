"""What the athlete's pages show, as frozen data: built from the plan by :mod:`web.build`,
drawn by :mod:`web.pages` and :mod:`web.charts`, and filled with URLs by the HTTP app.

The views hold values only (no plan objects, no store), so a template never reaches back into
the planner and a test can build a page from a literal. Times are aware datetimes in the plan's
zone. URLs and the CSRF token are strings the app computes; an action whose URL is None is not
offered on the page.

A busy block is a start and an end and nothing else: the page never learns an event's title, so
it cannot show one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum


class Field(StrEnum):
    """The names of the posted form fields: the pages write them, the app reads them."""

    CSRF = "csrf"
    EFFORT = "effort"  # 1-10, optional, with Done
    NOTE = "note"  # optional, with Done
    SORENESS = "soreness"  # none | moderate | severe
    SLOT = "slot"  # a SlotChoice.value, with Move
    PAUSE_FROM = "from"  # YYYY-MM-DD, inclusive
    PAUSE_TO = "to"  # YYYY-MM-DD, inclusive


SORENESS_LEVELS = ("none", "moderate", "severe")


class SessionState(StrEnum):
    """What became of a session, as the athlete said it (not where the planner put it)."""

    PLANNED = "planned"
    DONE = "done"
    SKIPPED = "skipped"
    NOT_DOING = "not doing"  # a tombstone: deleted by hand or "Not doing it" on the page
    PAUSED = "paused"  # inside a pause: removed from every calendar, not made up


@dataclass(frozen=True)
class Outcome:
    """The athlete's word on one session, as the store recorded it."""

    state: SessionState
    at: datetime | None = None
    effort: int | None = None  # 1-10, done only
    note: str = ""


@dataclass(frozen=True)
class Pause:
    """A pause (illness, travel): inclusive dates."""

    start: date
    end: date


@dataclass(frozen=True)
class Actions:
    """Form targets for the actions the page may offer, and the CSRF token every form carries.

    The app passes every URL it serves; :func:`web.build.offered` keeps the ones that make
    sense for a session's state (Restore only for a session not being done, and so on).
    """

    csrf_token: str = ""
    done: str | None = None
    skipped: str | None = None
    sore: str | None = None
    move: str | None = None
    not_doing: str | None = None
    restore: str | None = None
    pause: str | None = None
    end_pause: str | None = None

    @property
    def any(self) -> bool:
        return any(
            (
                self.done,
                self.skipped,
                self.sore,
                self.move,
                self.not_doing,
                self.restore,
                self.pause,
                self.end_pause,
            )
        )


@dataclass(frozen=True)
class Links:
    """Navigation between pages; None where the visitor's access does not reach (a session
    link opens its one session only)."""

    overview: str | None = None
    week: str | None = None
    previous_week: str | None = None
    next_week: str | None = None


# -- shared rows ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class SessionLine:
    """One session as a list or a grid shows it."""

    id: str
    title: str
    kind: str  # lift | run | race
    focus: str
    start: datetime | None
    end: datetime | None
    duration_minutes: int
    all_day: bool = False
    pinned: bool = False
    state: SessionState = SessionState.PLANNED
    url: str | None = None


@dataclass(frozen=True)
class PhaseBand:
    name: str
    start: date
    end: date  # inclusive


@dataclass(frozen=True)
class WeekBar:
    """One week's volume (G1-G4) and, for past weeks, what the athlete did of it."""

    start: date  # Monday
    phase: str
    run_minutes: int
    long_run_minutes: int
    lift_sets: int
    cutback: bool
    past: bool = False
    sessions: int = 0
    done: int = 0
    skipped: int = 0


@dataclass(frozen=True)
class DayAgenda:
    day: date
    sessions: tuple[SessionLine, ...]


@dataclass(frozen=True)
class UnplacedLine:
    id: str
    reason: str
    rules: tuple[str, ...] = ()


@dataclass(frozen=True)
class HealthRow:
    """One calendar's health after the last cycle (``liftrun status``'s rows)."""

    kind: str  # source | target
    name: str
    ok: bool
    checked: datetime | None = None
    last_ok: datetime | None = None
    error: str | None = None


@dataclass(frozen=True)
class Position:
    """Where the athlete stands today."""

    today: date
    phase: str | None  # None outside the plan's span
    week: int  # 1-based week of the plan containing today; 0 before it starts
    weeks: int
    race_date: date | None = None
    days_to_race: int | None = None  # negative after the race


# -- the three pages -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Overview:
    timezone: str
    position: Position
    phases: tuple[PhaseBand, ...]
    weeks: tuple[WeekBar, ...]
    next_days: tuple[DayAgenda, ...]
    warnings: tuple[str, ...] = ()
    unplaced: tuple[UnplacedLine, ...] = ()
    health: tuple[HealthRow, ...] = ()
    last_cycle: datetime | None = None
    pause: Pause | None = None
    actions: Actions = field(default_factory=Actions)
    links: Links = field(default_factory=Links)


@dataclass(frozen=True)
class BusyBlock:
    """Busy time on the week grid: when, never what."""

    start: datetime
    end: datetime


@dataclass(frozen=True)
class DayColumn:
    day: date
    windows: tuple[tuple[datetime, datetime], ...]  # training windows (S8)
    busy: tuple[BusyBlock, ...]
    sessions: tuple[SessionLine, ...]


@dataclass(frozen=True)
class WeekView:
    timezone: str
    monday: date
    today: date
    phase: str
    days: tuple[DayColumn, ...]  # Monday to Sunday
    summary: WeekBar | None = None
    links: Links = field(default_factory=Links)


@dataclass(frozen=True)
class ExerciseLine:
    name: str
    dose: str  # "3 x 5" or the mobility's reps
    guidance: str  # load words and reps in reserve; may be empty
    note: str
    kind: str  # strength | plyometric | mobility | drill


@dataclass(frozen=True)
class SegmentLine:
    kind: str  # warmup | work | recovery | cooldown | strides | drills
    minutes: int
    effort: str
    repeat: int = 1


@dataclass(frozen=True)
class RuleLine:
    id: str
    text: str


@dataclass(frozen=True)
class SlotChoice:
    """An alternative time for a move: ``value`` is what the form posts back. ``current``
    marks the session's own time, shown among the choices of its day but not offered."""

    start: datetime
    end: datetime
    label: str  # "Thu 4 Feb 07:00-07:45", in the plan's zone
    value: str
    current: bool = False

    @property
    def times(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


@dataclass(frozen=True)
class SlotDay:
    """One day of the Move form (``web.move_choices``): a few choices, and every other valid
    start of the day a tap away, so none the week allows is lost."""

    day: date
    label: str  # "Thu 4 Feb"
    relative: str  # "today", "tomorrow" or ""
    choices: tuple[SlotChoice, ...]  # in time order; the session's own time marked current
    more: tuple[SlotChoice, ...] = ()


@dataclass(frozen=True)
class SessionView:
    timezone: str
    id: str
    title: str
    kind: str
    focus: str
    phase: str
    start: datetime | None
    end: datetime | None
    duration_minutes: int
    all_day: bool
    exercises: tuple[ExerciseLine, ...]
    segments: tuple[SegmentLine, ...]
    description: str  # the prescription as the calendar event carries it
    rules: tuple[RuleLine, ...]
    reason: str  # why this session exists
    placement: str  # why it is at this time ("" when not placed)
    explanation: str  # what ``liftrun plan --explain`` prints
    placement_status: str  # new | kept | moved | pinned | frozen | fixed | unplaced
    state: SessionState = SessionState.PLANNED
    outcome: Outcome | None = None
    unplaced_reason: str | None = None
    slots: tuple[SlotChoice, ...] = ()  # every valid time the engine offers
    slot_days: tuple[SlotDay, ...] = ()  # the same, as the Move form groups them
    pause: Pause | None = None
    actions: Actions = field(default_factory=Actions)
    links: Links = field(default_factory=Links)

    @property
    def pinned(self) -> bool:
        return self.placement_status == "pinned"
