"""The configuration contract: one TOML file, every key overridable from the environment.

Other tools and tests write these files, so the schema is strict: unknown keys are errors, and
every default lives here (distance-dependent defaults in ``DISTANCE_DEFAULTS``), nowhere else.
The planner reads these models but never loads them; loading (files, environment, secrets) is
``config.loader``'s job.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from datetime import date, time, timedelta
from enum import StrEnum
from typing import Annotated, Self
from zoneinfo import ZoneInfo

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from adapters.kinds import Calendar
from config.fields import Strict, printable_text, web_address

# re-exported until config.loader and adapters.google.auth import them from config.fields
from config.fields import describe as describe  # noqa: PLC0414
from config.fields import is_loopback as is_loopback  # noqa: PLC0414

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WINDOW = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")
LB_PER_KG = 2.20462
SECRET_FILE_CAP = 64 * 1024  # a *_file, *_env or secrets-directory value: a password, not a book
# Dates a plan can hold: far enough either way for any athlete, near enough that the planner's
# date arithmetic (weeks before a race, recovery after it) never leaves Python's date range.
FIRST_DATE = date(2000, 1, 1)
LAST_DATE = date(2199, 12, 31)
MAX_BLOCK_WEEKS = 150  # plan_start to race day; with recovery within the planner's 156 weeks


class Experience(StrEnum):
    BEGINNER = "beginner"
    INTERMEDIATE = "intermediate"
    ADVANCED = "advanced"


class Priority(StrEnum):
    STRENGTH = "strength"
    ENDURANCE = "endurance"


class Race(StrEnum):
    NONE = "none"
    FIVE_K = "5k"
    TEN_K = "10k"
    HALF = "half"
    MARATHON = "marathon"

    @property
    def is_long(self) -> bool:
        """Half and marathon get peak and taper phases (P2); 5K/10K keep lifting steady (P3)."""
        return self in (Race.HALF, Race.MARATHON)


class StrengthMode(StrEnum):
    """P1: without a race the athlete is building strength unless they choose to maintain it."""

    BUILDING = "building"
    MAINTENANCE = "maintenance"


class PeakStyle(StrEnum):
    """L4: heavy with less volume (default) or the muscular-endurance alternative."""

    STRENGTH = "strength"
    ENDURANCE = "endurance"


@dataclass(frozen=True)
class DistanceDefaults:
    """A distance's numbers: a table of constants, not input, so nothing to validate (and no
    pydantic model to build at start-up)."""

    block_weeks: int  # default plan length when goal.plan_start is not given
    peak_weeks: int  # P2: peak starts this many weeks before race day (race week included)
    taper_weeks: int  # P2: the last weeks, race week included
    recovery_weeks: int  # P5
    no_lift_days_before_race: int  # P4


DISTANCE_DEFAULTS: dict[Race, DistanceDefaults] = {
    Race.FIVE_K: DistanceDefaults(
        block_weeks=12, peak_weeks=0, taper_weeks=0, recovery_weeks=0, no_lift_days_before_race=2
    ),
    Race.TEN_K: DistanceDefaults(
        block_weeks=12, peak_weeks=0, taper_weeks=0, recovery_weeks=0, no_lift_days_before_race=2
    ),
    Race.HALF: DistanceDefaults(
        block_weeks=14, peak_weeks=6, taper_weeks=2, recovery_weeks=1, no_lift_days_before_race=7
    ),
    Race.MARATHON: DistanceDefaults(
        block_weeks=18, peak_weeks=8, taper_weeks=3, recovery_weeks=2, no_lift_days_before_race=7
    ),
}

# G1: where an athlete's running starts when they do not say (weekly minutes, long run minutes)
DEFAULT_RUN_VOLUME: dict[Experience, tuple[int, int]] = {
    Experience.BEGINNER: (90, 40),
    Experience.INTERMEDIATE: (150, 60),
    Experience.ADVANCED: (240, 90),
}

# G2: where weekly run minutes stop growing, by distance and experience (beginner, intermediate,
# advanced); the long run has its own ceiling (RuleNumbers.long_run_ceiling_*).
WEEKLY_RUN_CEILING: dict[Race, tuple[int, int, int]] = {
    Race.NONE: (120, 180, 270),
    Race.FIVE_K: (150, 210, 300),
    Race.TEN_K: (170, 240, 330),
    Race.HALF: (200, 280, 380),
    Race.MARATHON: (240, 330, 450),
}

# G1 fallback for a race time's length when goal.race_duration_minutes is not given
RACE_MINUTES: dict[Race, int] = {
    Race.FIVE_K: 45,
    Race.TEN_K: 75,
    Race.HALF: 150,
    Race.MARATHON: 300,
}

DEFAULT_LIFT_DAYS: dict[Experience, int] = {
    Experience.BEGINNER: 2,
    Experience.INTERMEDIATE: 3,
    Experience.ADVANCED: 3,
}


class Athlete(Strict):
    experience: Experience = Experience.INTERMEDIATE
    priority: Priority = Priority.STRENGTH
    bodyweight_kg: Annotated[float, Field(gt=25, lt=350)] | None = None
    bodyweight_lb: Annotated[float, Field(gt=55, lt=770)] | None = None
    lift_days: Annotated[int, Field(ge=1, le=4)] | None = None  # L1; default by experience
    run_days: Annotated[int, Field(ge=1, le=6)] = 2
    hard_days_hard: bool = False  # S7
    peak_style: PeakStyle = PeakStyle.STRENGTH  # L4
    weekly_run_minutes: Annotated[int, Field(ge=0, le=1200)] | None = None  # G1
    long_run_minutes: Annotated[int, Field(ge=0, le=300)] | None = None  # G1
    lifting_now: bool = False  # L6: lifting regularly already; False eases load in

    @property
    def run_volume(self) -> tuple[int, int]:
        """G1: (weekly run minutes, long run minutes) now, as given or by experience."""
        weekly, long = DEFAULT_RUN_VOLUME[self.experience]
        return (
            self.weekly_run_minutes if self.weekly_run_minutes is not None else weekly,
            self.long_run_minutes if self.long_run_minutes is not None else long,
        )

    @model_validator(mode="after")
    def _one_bodyweight(self) -> Self:
        if self.bodyweight_kg is not None and self.bodyweight_lb is not None:
            raise ValueError("give bodyweight_kg or bodyweight_lb, not both")
        return self

    @model_validator(mode="after")
    def _long_run_fits_the_week(self) -> Self:
        weekly, long = self.run_volume
        if long > weekly:
            raise ValueError(
                f"long_run_minutes = {long} is more than weekly_run_minutes = {weekly}: the "
                "longest run is part of the week's running (G1)"
            )
        return self

    @property
    def weekly_lifts(self) -> int:
        return self.lift_days if self.lift_days is not None else DEFAULT_LIFT_DAYS[self.experience]

    @property
    def bodyweight_in_lb(self) -> float | None:
        if self.bodyweight_lb is not None:
            return self.bodyweight_lb
        if self.bodyweight_kg is not None:
            return self.bodyweight_kg * LB_PER_KG
        return None


class Goal(Strict):
    race: Race = Race.NONE
    race_date: date | None = None
    plan_start: date | None = None
    strength_mode: StrengthMode = StrengthMode.BUILDING  # P1, only with race = "none"
    race_time: time | None = None  # P4: the race's local start; None = an all-day event
    race_duration_minutes: Annotated[int, Field(ge=10, le=1440)] | None = None
    peak_weeks: Annotated[int, Field(ge=1, le=16)] | None = None
    taper_weeks: Annotated[int, Field(ge=1, le=6)] | None = None
    recovery_weeks: Annotated[int, Field(ge=0, le=4)] | None = None
    no_lift_days_before_race: Annotated[int, Field(ge=1, le=21)] | None = None

    @field_validator("race_time")
    @classmethod
    def _local(cls, value: time | None) -> time | None:
        if value is not None and value.tzinfo is not None:
            raise ValueError("race_time is the race's local wall-clock time; drop the UTC offset")
        return value

    @field_validator("race_date", "plan_start")
    @classmethod
    def _plannable(cls, value: date | None) -> date | None:
        if value is not None and not FIRST_DATE <= value <= LAST_DATE:
            raise ValueError(f"a plan's dates lie between {FIRST_DATE} and {LAST_DATE}")
        return value

    @model_validator(mode="after")
    def _race_consistency(self) -> Self:
        if self.race is Race.NONE:
            if self.race_date is not None:
                raise ValueError('race_date is set but race = "none"; set race or drop race_date')
            return self
        if self.race_date is None:
            raise ValueError(f'race = "{self.race}" needs race_date (YYYY-MM-DD)')
        if self.strength_mode is StrengthMode.MAINTENANCE:
            raise ValueError(
                f'strength_mode = "maintenance" is for training without a race (P1), but '
                f'race = "{self.race}": drop strength_mode, or set race = "none"'
            )
        if self.plan_start is not None and self.race_date <= self.plan_start:
            raise ValueError(
                f"race_date {self.race_date} is not after plan_start {self.plan_start}"
            )
        if self.plan_start is not None and self.race_date - self.plan_start > timedelta(
            weeks=MAX_BLOCK_WEEKS
        ):
            raise ValueError(
                f"race_date {self.race_date} is more than {MAX_BLOCK_WEEKS} weeks after "
                f"plan_start {self.plan_start}; start the plan later"
            )
        if not self.race.is_long and (self.peak_weeks or self.taper_weeks):
            raise ValueError(f"peak_weeks/taper_weeks apply to half and marathon, not {self.race}")
        if self.peak_weeks is not None and self.taper_weeks is not None:
            if self.taper_weeks >= self.peak_weeks:
                raise ValueError(
                    f"taper_weeks {self.taper_weeks} must be less than peak_weeks {self.peak_weeks}"
                )
        elif self.race.is_long:
            d = DISTANCE_DEFAULTS[self.race]
            peak = self.peak_weeks or d.peak_weeks
            taper = self.taper_weeks or d.taper_weeks
            if taper >= peak:
                raise ValueError(f"taper_weeks {taper} must be less than peak_weeks {peak}")
        return self

    def past_race(self, today: date) -> str | None:
        """A race date before ``today``: the words for it, or None. While the race's recovery
        weeks (P5) last it is the plan's present, not a mistake, so only later is it named."""
        if self.race_date is None or self.race_date >= today:
            return None
        recovery_end = self.race_date + timedelta(weeks=self.defaults().recovery_weeks)
        if today <= recovery_end:
            return None
        return (
            f"goal.race_date = {self.race_date} is before today ({today}): set your next race, "
            'or race = "none" to keep building strength'
        )

    def defaults(self) -> DistanceDefaults:
        """The distance's defaults with the athlete's overrides applied (numbers, never rules)."""
        base = DISTANCE_DEFAULTS.get(self.race, DISTANCE_DEFAULTS[Race.FIVE_K])
        return DistanceDefaults(
            block_weeks=base.block_weeks,
            peak_weeks=self.peak_weeks or base.peak_weeks,
            taper_weeks=self.taper_weeks or base.taper_weeks,
            recovery_weeks=(
                self.recovery_weeks if self.recovery_weeks is not None else base.recovery_weeks
            ),
            no_lift_days_before_race=(
                self.no_lift_days_before_race or base.no_lift_days_before_race
            ),
        )


def parse_window(text: str) -> tuple[time, time]:
    """Parse ``HH:MM-HH:MM``; ``24:00`` is allowed as an end (a window up to midnight)."""
    m = _WINDOW.match(text.strip())
    if not m:
        raise ValueError(f"{describe(text)} is not a window of the form HH:MM-HH:MM")
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    if h1 > 23 or m1 > 59 or m2 > 59 or h2 > 24 or (h2 == 24 and m2 != 0):
        raise ValueError(f"{text!r} is not a valid time of day range")
    start = time(h1, m1)
    end = time(23, 59, 59, 999999) if h2 == 24 else time(h2, m2)
    if end <= start:
        raise ValueError(f"{text!r} ends at or before it starts")
    return start, end


class Availability(Strict):
    """Local wall-clock windows per weekday (S8); a missing day means unavailable."""

    mon: list[str] = Field(default_factory=list)
    tue: list[str] = Field(default_factory=list)
    wed: list[str] = Field(default_factory=list)
    thu: list[str] = Field(default_factory=list)
    fri: list[str] = Field(default_factory=list)
    sat: list[str] = Field(default_factory=list)
    sun: list[str] = Field(default_factory=list)
    buffer_minutes: Annotated[int, Field(ge=0, le=240)] = 15

    @field_validator(*WEEKDAYS, mode="after")
    @classmethod
    def _windows(cls, value: list[str]) -> list[str]:
        parsed = sorted((parse_window(w), w) for w in value)
        for (a, a_text), (b, b_text) in itertools.pairwise(parsed):
            if b[0] < a[1]:
                raise ValueError(f"windows {a_text!r} and {b_text!r} overlap")
        return [w.strip() for _, w in parsed]

    def windows(self, weekday: int) -> tuple[tuple[time, time], ...]:
        """Parsed windows of a weekday (0 = Monday), sorted by start."""
        texts: list[str] = getattr(self, WEEKDAYS[weekday])
        return tuple(parse_window(w) for w in texts)


class State(Strict):
    path: str = "state/"


class Sync(Strict):
    """The loop: how often, how far ahead, and how close to a session it stops moving it."""

    interval_minutes: Annotated[int, Field(ge=1, le=1440)] = 15  # jittered by up to 10 %
    horizon_days: Annotated[int, Field(ge=1, le=366)] = 28
    freeze_hours: Annotated[float, Field(ge=0, le=168)] = 12.0
    source_timeout_seconds: Annotated[float, Field(gt=0, le=600)] = 60.0


_LISTEN = re.compile(r"^(?P<host>\[[0-9a-fA-F:]+\]|[A-Za-z0-9.\-]+):(?P<port>\d{1,5})$")


class Feed(Strict):
    listen: str = "127.0.0.1:8080"
    public_url: str | None = None  # https address of a reverse proxy in front of liftrun serve
    refresh_minutes: Annotated[int, Field(ge=5, le=10080)] = 60  # REFRESH-INTERVAL, TTL

    @field_validator("public_url")
    @classmethod
    def _public(cls, value: str | None) -> str | None:
        return None if value is None else web_address(value)

    @field_validator("listen")
    @classmethod
    def _listen(cls, value: str) -> str:
        m = _LISTEN.match(value)
        if not m or not 0 < int(m.group("port")) < 65536:
            raise ValueError(f"{describe(value)} is not HOST:PORT")
        return value

    @property
    def host(self) -> str:
        m = _LISTEN.match(self.listen)
        assert m is not None
        return m.group("host").strip("[]")

    @property
    def port(self) -> int:
        m = _LISTEN.match(self.listen)
        assert m is not None
        return int(m.group("port"))


class Web(Strict):
    """The athlete's page, served by ``liftrun serve`` beside the feed (``liftrun web url``)."""

    # where a phone reaches the page (a reverse proxy's https address, a path allowed); unset:
    # [feed] public_url, else the listen address. Every event's link to its session uses it.
    public_url: str | None = None

    @field_validator("public_url")
    @classmethod
    def _public(cls, value: str | None) -> str | None:
        return None if value is None else web_address(value)


class RuleNumbers(Strict):
    """The numbers behind the rules of DOMAIN.md; a user may change a number, never drop a rule."""

    same_day_gap_hours: Annotated[float, Field(ge=0, le=16)] = 6.0  # S3, strength priority
    endurance_back_to_back_run_minutes: Annotated[int, Field(ge=0, le=180)] = 55  # S3
    endurance_gap_hours: Annotated[float, Field(ge=0, le=16)] = 2.0  # S3, longer runs
    hard_run_lower_lift_gap_hours: Annotated[float, Field(ge=0, le=48)] = 8.0  # S4
    region_gap_days: Annotated[int, Field(ge=1, le=4)] = 2  # S5
    rest_days_per_week: Annotated[int, Field(ge=1, le=4)] = 1  # S6
    max_sessions_per_day: Annotated[int, Field(ge=1, le=2)] = 2  # S7
    run_on_lift_day_max_minutes: Annotated[int, Field(ge=15, le=90)] = 40  # R3
    four_lift_week_run_minutes: Annotated[int, Field(ge=15, le=60)] = 25  # R4
    long_run_minutes: Annotated[int, Field(ge=30, le=180)] = 60  # L8: what counts as long
    long_runs_for_maintenance: Annotated[int, Field(ge=1, le=7)] = 2  # L8: "several times"
    protein_g_per_lb: tuple[float, float] = (0.9, 1.1)  # N1
    run_kcal_per_minute_per_lb: tuple[float, float] = (0.0444, 0.0556)  # N2: 400-600 kcal, 2x30'
    lift_minutes: Annotated[int, Field(ge=20, le=150)] = 60
    ease_in_weeks: Annotated[int, Field(ge=0, le=8)] = 3  # L6
    cutback_every_weeks: Annotated[int, Field(ge=0, le=8)] = 4  # G3; 0 = no cutback weeks
    cutback_run_fraction: Annotated[float, Field(gt=0, le=1)] = 0.75  # G3: about 25 % fewer
    weekly_run_growth: Annotated[float, Field(ge=0, le=0.5)] = 0.10  # G2
    long_run_step_minutes: Annotated[int, Field(ge=0, le=30)] = 10  # G2
    long_run_ceiling_none_minutes: Annotated[int, Field(ge=20, le=300)] = 60  # G2, no race
    long_run_ceiling_5k_minutes: Annotated[int, Field(ge=20, le=300)] = 60  # G2
    long_run_ceiling_10k_minutes: Annotated[int, Field(ge=20, le=300)] = 75  # G2
    long_run_ceiling_half_minutes: Annotated[int, Field(ge=20, le=300)] = 120  # G2
    long_run_ceiling_marathon_minutes: Annotated[int, Field(ge=20, le=300)] = 180  # G2
    restart_run_fraction: Annotated[float, Field(gt=0, le=1)] = 0.5  # G4: after recovery
    max_hard_runs: Annotated[int, Field(ge=0, le=3)] = 2  # G5; beginners and <= 3 runs: 1
    fuelling_min_minutes: Annotated[int, Field(ge=30, le=300)] = 75  # G6
    run_progression: bool = True  # G1-G4 on; off keeps every week at the starting volume

    def long_run_ceiling(self, race: Race) -> int:
        return {
            Race.NONE: self.long_run_ceiling_none_minutes,
            Race.FIVE_K: self.long_run_ceiling_5k_minutes,
            Race.TEN_K: self.long_run_ceiling_10k_minutes,
            Race.HALF: self.long_run_ceiling_half_minutes,
            Race.MARATHON: self.long_run_ceiling_marathon_minutes,
        }[race]

    @field_validator("protein_g_per_lb", "run_kcal_per_minute_per_lb")
    @classmethod
    def _ordered(cls, value: tuple[float, float]) -> tuple[float, float]:
        if not 0 < value[0] <= value[1]:
            raise ValueError("needs [low, high] with 0 < low <= high")
        return value


# IANA names: "UTC", "Europe/Berlin", "America/Argentina/Buenos_Aires", "Etc/GMT+5". No dots, so
# no ".." and no file names from the zone database's directory ("zone1970.tab").
_ZONE_NAME = re.compile(r"[A-Za-z0-9_+\-]+(?:/[A-Za-z0-9_+\-]+)*")


def zone_named(name: str) -> ZoneInfo | None:
    """The IANA zone ``name``, or None for anything that is not one; for any text from outside
    liftrun (a config, a TZID, an X-WR-TIMEZONE). A zone name is a file name inside the zone
    database: a name too long for the file system, ``..`` or a NUL is refused before it is
    opened, and a directory there (``Europe``, ``__pycache__``) fails to open with an OSError,
    which ``ZoneInfo`` lets through."""
    if len(name) > 255 or not _ZONE_NAME.fullmatch(name):
        return None
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError, OSError):  # ZoneInfoNotFoundError is a KeyError
        return None


def _check_timezone(value: str) -> str:
    if zone_named(value) is None:
        raise ValueError(
            f"{describe(value)} is not an IANA time zone name (such as 'Europe/Berlin')"
        )
    return value


class Settings(BaseModel):
    """The whole configuration. ``config.loader`` gives it the file's values with
    ``LIFTRUN_<SECTION>__<KEY>`` variables and the secrets directory merged over them
    (:mod:`config.environment`); defaults are validated too."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, allow_inf_nan=False, validate_default=True
    )

    timezone: str = "UTC"
    athlete: Athlete = Field(default_factory=Athlete)
    goal: Goal = Field(default_factory=Goal)
    availability: Availability = Field(default_factory=Availability)
    state: State = Field(default_factory=State)
    rules: RuleNumbers = Field(default_factory=RuleNumbers)
    calendars: list[Calendar] = Field(default_factory=list)
    sync: Sync = Field(default_factory=Sync)
    feed: Feed = Field(default_factory=Feed)
    web: Web = Field(default_factory=Web)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        return _check_timezone(printable_text(value))

    @model_validator(mode="after")
    def _has_availability(self) -> Self:
        if not any(self.availability.windows(d) for d in range(7)):
            raise ValueError(
                "availability has no windows on any day; add e.g. mon = ['07:00-08:00']"
            )
        return self

    @model_validator(mode="after")
    def _unique_targets(self) -> Self:
        seen: set[str] = set()
        for i, cal in enumerate(self.calendars):
            if cal.push_to is None:
                continue
            name = cal.name or cal.push_to
            if name in seen:
                raise ValueError(
                    f"calendars[{i}]: a second calendar named {describe(name)}; give each a "
                    "unique name"
                )
            seen.add(name)
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)
