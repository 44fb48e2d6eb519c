"""A week's sessions before they have days: how many, which kind, how much (P3-P5, L1-L8, R1-R5,
G1-G5).

Each ``Planned`` carries everything needed to become a ``Session`` once the week search has
given it a day, and the rule ids that decided its existence and its dose. Ids come from the
week's Monday and the session's role ("20270104-lift-lower-1"), never from its day, so the sync
engine sees a moved session as the same session.

Race week (P3) is the seven days ending on race day, so a calendar week may hold the end of the
taper and the start of race week: the taper's sessions are then scaled to the days before race
week and kept off it, and the race-week runs are put on their exact days.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from config.models import Priority, Race, Settings, StrengthMode
from planner import templates as T
from planner.lift_load import Load, Soreness, built, lift_style, peak_sets, week_load
from planner.model import Exercise, Focus, PhaseName
from planner.phases import Timeline, monday_of
from planner.prescription import PEAK_WARMUP_DRILLS, LiftDose
from planner.runs import RunShape
from planner.volume import RunState, WeekVolume, race_week_minutes, week_runs, week_volume
from planner.week_types import Spec

PLYO_SESSIONS = {PhaseName.BASE: 1, PhaseName.BUILD: 2}  # L3: build preferably two

# race week (P4): (focus for a long race, for a short race, days before the race, minutes,
# share of the last full week's minutes); the first ``run_days`` of them are run
RACE_WEEK_RUNS = (
    (Focus.EASY, Focus.EASY, 5, 30, 0.3),
    (Focus.EASY, Focus.EASY, 1, 20, 0.2),
    (Focus.EASY, Focus.TEMPO, 3, 25, 0.25),
)


@dataclass(frozen=True)
class Planned:
    spec: Spec
    phase: PhaseName
    rules: frozenset[str]
    reason: str
    dose: LiftDose | None = None  # lifts: exercises are made once the day is known (L3)
    drills: tuple[Exercise, ...] = ()  # peak hard runs: the plyometrics of L4
    shape: RunShape = field(default_factory=RunShape)
    days_before_race: int | None = None  # race-week runs sit on their exact day (P3)
    light: bool = False


@dataclass(frozen=True)
class WeekMix:
    monday: date
    phase: PhaseName
    planned: tuple[Planned, ...]
    notes: tuple[str, ...] = field(default=())
    volume: WeekVolume | None = None


def phase_rule(phase: PhaseName, race: Race) -> str:
    if phase in (PhaseName.RACE, PhaseName.RECOVERY):
        return "P4" if phase is PhaseName.RACE else "P5"
    if race is Race.NONE:
        return "P1"
    return "P2" if race.is_long else "P3"


def _lift_count(settings: Settings, phase: PhaseName) -> tuple[int, str]:
    wanted = settings.athlete.weekly_lifts
    if phase is PhaseName.PEAK:
        return min(wanted, 2), "L4"
    if phase is PhaseName.TAPER:
        return min(wanted, 1), "L5"
    if phase is PhaseName.MAINTENANCE:
        return min(wanted, 2), "P1"
    return wanted, "L1"


def _templates(settings: Settings, phase: PhaseName, lifts: int) -> tuple[T.Template, T.Template]:
    endurance = settings.athlete.priority is Priority.ENDURANCE
    if not endurance:
        return T.STRENGTH_LIFTS[lifts], T.strength_runs(settings.goal.race)
    if phase in (PhaseName.PEAK, PhaseName.TAPER):
        return T.ENDURANCE_PEAK_LIFTS[lifts], T.ENDURANCE_PEAK_RUNS
    return T.ENDURANCE_BUILD_LIFTS[lifts], T.ENDURANCE_BUILD_RUNS


def _session_key(monday: date, focus: Focus, counts: dict[Focus, int]) -> str:
    counts[focus] = counts.get(focus, 0) + 1
    return f"{monday:%Y%m%d}-{focus.kind}-{focus}-{counts[focus]}"


@dataclass
class _Week:
    """What every session of one week shares while the mix is assembled."""

    settings: Settings
    tl: Timeline
    monday: date
    anchor: date
    phase: PhaseName
    counts: dict[Focus, int] = field(default_factory=dict)
    returned: date | None = None  # L6: the Monday the athlete came back after a long pause

    @property
    def strength(self) -> bool:
        return self.settings.athlete.priority is Priority.STRENGTH

    def key(self, focus: Focus) -> str:
        return _session_key(self.monday, focus, self.counts)

    def day(self, wd: int) -> date:
        return self.monday + timedelta(days=wd)


def week_mix(
    settings: Settings,
    tl: Timeline,
    monday: date,
    anchor: date,
    state: RunState,
    *,
    soreness: Soreness = Soreness.NONE,
    returned: date | None = None,
) -> WeekMix:
    """The sessions of the week starting ``monday`` (before days are chosen); ``returned`` is
    the Monday the athlete came back on after a pause of a week or more (L6 eases in)."""
    phase = tl.phase_on(monday).name
    race_day = tl.race_date
    race_start = tl.race_week_start
    week = _Week(settings, tl, monday, anchor, phase, returned=returned)
    if race_day is not None and race_start is not None and monday <= race_day:
        # the days of this week before race week hold the week's own phase (P3)
        normal = frozenset(wd for wd in range(7) if week.day(wd) < race_start)
    else:
        normal = frozenset(range(7))
    planned: list[Planned] = []
    notes: list[str] = []
    volume: WeekVolume | None = None
    if phase is PhaseName.RECOVERY:
        notes.append("fully off after the race (P5)")
    elif normal:
        mix = _normal_week(week, normal, state, soreness)
        planned += mix.planned
        notes += mix.notes
        volume = mix.volume
    if race_day is not None and race_start is not None and monday <= race_day:
        race_days = [wd for wd in range(7) if race_start <= week.day(wd) < race_day]
        if race_days:
            planned += _race_week(week, race_days, state)
            notes.append(
                "race week: no weights (P4)"
                if settings.goal.race.is_long
                else "race week: at most one light lift (P4)"
            )
            if not normal:
                phase = PhaseName.RACE
    return WeekMix(monday, phase, tuple(planned), tuple(notes), volume)


def _normal_week(week: _Week, days: frozenset[int], state: RunState, soreness: Soreness) -> WeekMix:
    settings, tl, monday, phase = week.settings, week.tl, week.monday, week.phase
    race = settings.goal.race
    prule = phase_rule(phase, race)
    after_race = tl.race_date is not None and monday > tl.race_date
    if phase is PhaseName.BASE and after_race:
        prule = "P5"
    n_lifts, lift_rule = _lift_count(settings, phase)
    lift_t, run_t = _templates(settings, phase, n_lifts)
    n_runs = settings.athlete.run_days
    share = len(days) / 7
    if share < 1:  # the week's share before race week (P3): fewer sessions, the most important
        n_lifts_here, n_runs = _partial_counts(settings, n_lifts, n_runs, len(days))
        lift_t = lift_t[:n_lifts_here]
    grows = tl.plan_start is not None
    volume = week_volume(settings, tl, monday, state, phase=phase, grows=grows)
    if share < 1:
        volume = WeekVolume(
            round(volume.target_minutes * share),
            volume.long_minutes,
            volume.cutback,
            volume.rules,
            volume.note,
            full=False,
        )
    four = week.strength and n_lifts >= 4
    runs = week_runs(settings, [f for f, _ in run_t[:n_runs]], volume, four_lifts=four)
    load = week_load(
        settings,
        tl,
        monday,
        week.anchor,
        soreness=soreness,
        runs=runs,
        lifts=n_lifts,
        phase=phase,
        cutback=volume.cutback,
        returned=week.returned,
    )
    notes = list(load.notes)
    if volume.note and volume.note not in notes:
        notes.append(volume.note)
    lift_days = _lift_days_before_race(settings, tl, monday) & days
    if not lift_days and lift_t:
        lift_t = ()
        notes.append(
            f"no lifting in the {settings.goal.defaults().no_lift_days_before_race} days "
            "before the race (P4)"
        )
    common = {prule, "R2" if week.strength else "R5"}
    planned = [
        *_lifts(week, lift_t, lift_days, load=load, common=common | {lift_rule}, n_lifts=n_lifts),
        *_runs(week, run_t, runs, days=days, volume=volume, common=common),
    ]
    return WeekMix(monday, phase, tuple(planned), tuple(notes), volume)


def _lifts(
    week: _Week,
    lift_t: T.Template,
    allowed: frozenset[int],
    *,
    load: Load,
    common: set[str],
    n_lifts: int,
) -> list[Planned]:
    settings, phase = week.settings, week.phase
    out: list[Planned] = []
    full_seen = 0
    for rank, (focus, day) in enumerate(lift_t):
        variant = full_seen % 2 if n_lifts > 1 else (week.monday.toordinal() // 7) % 2
        if focus is Focus.FULL:
            full_seen += 1
        dose = LiftDose(
            phase=phase,
            focus=focus,
            set_delta=load.set_delta,
            lighter=load.lighter,
            lightest=load.lightest,
            simple_plyometrics=load.easing_in,
            peak_sets=peak_sets(week.tl, week.monday, phase),
            peak_style=settings.athlete.peak_style,
            built=built(settings, week.tl, week.monday, week.anchor),
            variant=variant if focus is Focus.FULL else 0,
        )
        rules = common | {"S5", "S6", "N1"} | load.rules
        rules.add({PhaseName.PEAK: "L4", PhaseName.TAPER: "L5"}.get(phase, "L2"))
        if phase in (PhaseName.BASE, PhaseName.BUILD, PhaseName.MAINTENANCE):
            rules.add("G7")
        if n_lifts >= 3 or (week.strength and n_lifts >= 2):
            rules.add("L7")
        if len(allowed) < 7:
            rules.add("P4")
        reason = (
            f"{phase} week, {focus}-body lift {rank + 1} of {len(lift_t)}: "
            f"{lift_style(phase, settings)}"
        )
        if load.notes:
            reason += "; " + "; ".join(load.notes)
        spec = Spec(
            key=week.key(focus),
            focus=focus,
            minutes=settings.rules.lift_minutes,  # the longest it can be; plan.py fits it
            preferred=day,
            importance=rank,
            allowed=allowed,
            phase=phase,
        )
        out.append(Planned(spec, phase, frozenset(rules), reason, dose=dose))
    return out


def _runs(
    week: _Week,
    run_t: T.Template,
    runs: list[tuple[Focus, int, frozenset[str]]],
    *,
    days: frozenset[int],
    volume: WeekVolume,
    common: set[str],
) -> list[Planned]:
    settings, phase = week.settings, week.phase
    race = settings.goal.race
    fuel_from = settings.rules.fuelling_min_minutes
    out: list[Planned] = []
    for rank, ((_, day), (focus, minutes, ids)) in enumerate(zip(run_t, runs, strict=False)):
        rules = common | {"R1", "S6", "G6"} | ids | volume.rules
        if focus.is_hard_run:
            rules |= {"S4", "G5"}
        drills: tuple[Exercise, ...] = ()
        if phase is PhaseName.PEAK and focus.is_hard_run:
            drills = PEAK_WARMUP_DRILLS
            rules.add("L4")
        if focus is Focus.OPTIONAL_EASY:
            rules.add("S10")
        fuel = focus is Focus.LONG and race.is_long and minutes >= fuel_from
        what = focus.replace("_", " ")
        if "R3" in ids:
            what = "easy (the long run, at 45 min or less, is an easy run: R3)"
        if "G5" in ids:
            what = "easy (G5 allows fewer hard runs this week)"
        reason = f"{phase} week, run {rank + 1} of {len(runs)}: {what}"
        if volume.note:
            reason += f"; {volume.note}"
        spec = Spec(
            key=week.key(focus),
            focus=focus,
            minutes=minutes,
            preferred=day if day in days else max(days),
            importance=rank,
            allowed=days,
            phase=phase,
        )
        shape = RunShape(drills=bool(drills), fuel=fuel)
        out.append(Planned(spec, phase, frozenset(rules), reason, drills=drills, shape=shape))
    return out


def _lift_days_before_race(settings: Settings, tl: Timeline, monday: date) -> frozenset[int]:
    """P4: weekdays of this week that are not within ``no_lift_days_before_race`` of the race."""
    if tl.race_date is None:
        return frozenset(range(7))
    cutoff = tl.race_date - timedelta(days=settings.goal.defaults().no_lift_days_before_race)
    return frozenset(
        wd for wd in range(7) if not cutoff <= monday + timedelta(days=wd) <= tl.race_date
    )


def _race_week(week: _Week, race_days: list[int], state: RunState) -> list[Planned]:
    """P4: half/marathon no weights; 5K/10K at most one light lift; short runs on their exact
    days, none on race day. Only the race-week days that fall in this calendar week are here."""
    settings = week.settings
    race = settings.goal.race
    race_day = week.tl.race_date
    assert race_day is not None
    out: list[Planned] = []
    no_lift = settings.goal.defaults().no_lift_days_before_race
    lift_days = frozenset(
        wd for wd in race_days if week.day(wd) < race_day - timedelta(days=no_lift)
    )
    race_start = week.tl.race_week_start
    assert race_start is not None
    if not race.is_long and lift_days and light_lift_week(settings, week.tl) == week.monday:
        dose = LiftDose(phase=PhaseName.RACE, focus=Focus.FULL, light=True)
        out.append(
            Planned(
                spec=Spec(
                    key=week.key(Focus.FULL),
                    focus=Focus.FULL,
                    minutes=35,
                    preferred=min(lift_days),
                    importance=0,
                    allowed=lift_days,
                    phase=PhaseName.RACE,
                ),
                phase=PhaseName.RACE,
                rules=frozenset({"P3", "P4", "S5", "S6", "N1"}),
                reason=(f"race week: one light lift, at least {no_lift} days before the race"),
                dose=dose,
                light=True,
            )
        )
    for rank, (long_focus, short_focus, offset, minutes, share) in enumerate(
        RACE_WEEK_RUNS[: min(settings.athlete.run_days, len(RACE_WEEK_RUNS))]
    ):
        day = race_day - timedelta(days=offset)
        if monday_of(day) != week.monday or day < race_start:
            continue
        focus = long_focus if race.is_long else short_focus
        wd = day.weekday()
        rules = {"P3", "P4", "R1", "S6", "G4", "G6"}
        if focus.is_hard_run:
            rules |= {"S4", "G5"}
        out.append(
            Planned(
                spec=Spec(
                    key=week.key(focus),
                    focus=focus,
                    minutes=race_week_minutes(state, minutes, share),
                    preferred=wd,
                    importance=rank,
                    allowed=frozenset(
                        d for d in (wd - 1, wd, wd + 1) if d in race_days and 0 <= d < 7
                    ),
                    phase=PhaseName.RACE,
                ),
                phase=PhaseName.RACE,
                rules=frozenset(rules),
                reason="race week",
                shape=RunShape(race_week=True, sharpen=focus.is_hard_run),
                days_before_race=offset,
            )
        )
    return out


def _partial_counts(settings: Settings, lifts: int, runs: int, days: int) -> tuple[int, int]:
    """The lifts and runs of a week cut short by race week (P3): each scaled to the days left,
    and no more sessions than days, the accessory modality giving way first (S1, S10)."""
    share = days / 7
    n_lifts = min(lifts, round(lifts * share))
    n_runs = min(runs, round(runs * share))
    while n_lifts + n_runs > days:
        if (settings.athlete.priority is Priority.STRENGTH and n_runs) or not n_lifts:
            n_runs -= 1
        else:
            n_lifts -= 1
    return n_lifts, n_runs


def _normal_lifts(settings: Settings, tl: Timeline, monday: date) -> int:
    """How many of its own phase's lifts a calendar week holds before race week (P3)."""
    start = tl.race_week_start
    days = sum(1 for k in range(7) if start is None or monday + timedelta(days=k) < start)
    if tl.phase_on(monday).name is PhaseName.RECOVERY:
        return 0
    n, _ = _lift_count(settings, tl.phase_on(monday).name)
    return n if days == 7 else _partial_counts(settings, n, settings.athlete.run_days, days)[0]


def light_lift_week(settings: Settings, tl: Timeline) -> date | None:
    """P4: the calendar week that holds race week's one light lift (5K/10K): the first with an
    allowed day whose own lifts leave room under the athlete's lift days (L1)."""
    race_day, start = tl.race_date, tl.race_week_start
    if race_day is None or start is None or not settings.athlete.weekly_lifts:
        return None
    last = race_day - timedelta(days=settings.goal.defaults().no_lift_days_before_race + 1)
    weeks = sorted({monday_of(start + timedelta(days=k)) for k in range((last - start).days + 1)})
    for monday in weeks:
        if _normal_lifts(settings, tl, monday) < settings.athlete.weekly_lifts:
            return monday
    return None


def maintenance_warning(settings: Settings) -> str | None:
    """P1/L1: maintenance holds two lift days; say so when the athlete asked for more."""
    wanted = settings.athlete.weekly_lifts
    if settings.goal.strength_mode is StrengthMode.MAINTENANCE and wanted > 2:
        return (
            f"maintenance mode: 2 lift days a week instead of your {wanted} "
            '(athlete.lift_days); set goal.strength_mode = "building" to keep them (P1, L1)'
        )
    return None
