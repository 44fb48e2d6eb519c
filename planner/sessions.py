"""A week's sessions before they have days: how many, which kind, how much (P3-P5, L1-L8, R1-R5).

Each ``Planned`` carries everything needed to become a ``Session`` once the week search has
given it a day, and the rule ids that decided its existence and its dose. Ids come from the
week's Monday and the session's role ("20270104-lift-lower-1"), never from its day, so the sync
engine sees a moved session as the same session.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

from config.models import Priority, Race, Settings
from planner import templates as T
from planner.model import Exercise, Focus, PhaseName
from planner.phases import Timeline, monday_of
from planner.prescription import (
    PEAK_WARMUP_DRILLS,
    LiftDose,
    lift_exercises,
    run_minutes,
)
from planner.week import Spec


class Soreness(StrEnum):
    """L6: how the athlete felt; the week after a report carries less load."""

    NONE = "none"
    MODERATE = "moderate"  # sore enough to hurt run quality: one set fewer
    SEVERE = "severe"  # dreading the stairs: two sets fewer and lighter weights


SORENESS_SET_DELTA = {Soreness.NONE: 0, Soreness.MODERATE: -1, Soreness.SEVERE: -2}


@dataclass(frozen=True)
class Planned:
    spec: Spec
    phase: PhaseName
    rules: frozenset[str]
    reason: str
    exercises: tuple[Exercise, ...] = ()
    notes: tuple[str, ...] = ()
    race_week: bool = False
    light: bool = False


@dataclass(frozen=True)
class WeekMix:
    monday: date
    phase: PhaseName
    planned: tuple[Planned, ...]
    notes: tuple[str, ...] = field(default=())


def phase_rule(phase: PhaseName, race: Race) -> str:
    if phase in (PhaseName.RACE, PhaseName.RECOVERY):
        return "P4" if phase is PhaseName.RACE else "P5"
    if race is Race.NONE:
        return "P1"
    return "P2" if race.is_long else "P3"


def run_first(settings: Settings, phase: PhaseName) -> bool:
    """S2: endurance priority runs first during a half/full build and peak; otherwise lift first."""
    return (
        settings.athlete.priority is Priority.ENDURANCE
        and settings.goal.race.is_long
        and phase in (PhaseName.BUILD, PhaseName.PEAK)
    )


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


@dataclass(frozen=True)
class Load:
    """The week's lift-volume adjustments, each with the rule behind it."""

    set_delta: int
    lighter: bool
    rules: frozenset[str]
    notes: tuple[str, ...]


def _ease_in(settings: Settings, tl: Timeline, monday: date, anchor: date) -> tuple[int, str]:
    """L6: beginners from the plan's first week, everyone in the first weeks after the race."""
    weeks = settings.rules.ease_in_weeks
    if not weeks:
        return 0, ""
    after_break = tl.race_date is not None and monday > tl.race_date
    if after_break and tl.phase_on(monday).name is PhaseName.BASE:
        k = tl.weeks_into(monday)
        why = "back after the race break: start lighter"
    elif settings.athlete.experience.value == "beginner":
        k = (monday - monday_of(anchor)).days // 7
        why = "beginner ease-in"
    else:
        return 0, ""
    step = -max(0, weeks - 1 - k)
    return step, (f"{why}, week {k + 1} of {weeks}" if step else "")


def week_load(
    settings: Settings,
    tl: Timeline,
    monday: date,
    anchor: date,
    *,
    soreness: Soreness,
    runs: list[tuple[Focus, int]],
    lifts: int,
    phase: PhaseName,
) -> Load:
    delta, lighter = 0, False
    rules: set[str] = set()
    notes: list[str] = []
    step, why = _ease_in(settings, tl, monday, anchor)
    if step:
        delta += step
        rules.add("L6")
        notes.append(f"{why} ({step} sets)")
    if soreness is not Soreness.NONE:
        delta += SORENESS_SET_DELTA[soreness]
        lighter = soreness is Soreness.SEVERE
        rules.add("L6")
        notes.append(
            f"last week's {soreness} soreness: fewer sets" + (", lighter" if lighter else "")
        )
    strength = settings.athlete.priority is Priority.STRENGTH
    if strength and len(runs) >= 3 and lifts >= 3:
        delta -= 1
        rules.add("R4")
        notes.append(f"{len(runs)} runs with {lifts} lifts: one working set fewer per lift")
    long_runs = sum(1 for _, m in runs if m >= settings.rules.long_run_minutes)
    if long_runs >= settings.rules.long_runs_for_maintenance and phase in (
        PhaseName.BASE,
        PhaseName.BUILD,
    ):
        delta -= 2
        rules.add("L8")
        notes.append(f"{long_runs} runs of 60+ min: maintenance volume, same weights")
    return Load(delta, lighter, frozenset(rules), tuple(notes))


def _progress(settings: Settings, tl: Timeline, monday: date) -> float:
    """0 at plan start, 1 in the last peak week: drives the long run's growth."""
    race = tl.race_date
    if race is None or tl.plan_start is None:
        return 0.0
    peak_end = monday_of(race) - timedelta(weeks=settings.goal.defaults().taper_weeks)
    span = (peak_end - tl.plan_start).days // 7
    return 1.0 if span <= 0 else (monday - tl.plan_start).days / 7 / span


def _taper_factor(settings: Settings, tl: Timeline, monday: date) -> float:
    if tl.phase_on(monday).name is not PhaseName.TAPER:
        return 1.0
    weeks = settings.goal.defaults().taper_weeks - 1
    k = tl.weeks_into(monday)
    return 0.7 if weeks <= 1 else 0.8 - 0.2 * k / (weeks - 1)


@dataclass
class _Week:
    """What every session of one week shares while the mix is assembled."""

    settings: Settings
    tl: Timeline
    monday: date
    phase: PhaseName
    phase_rule: str
    template_rule: str
    n_lifts: int
    lift_rule: str
    load: Load
    counts: dict[Focus, int] = field(default_factory=dict)

    @property
    def strength(self) -> bool:
        return self.settings.athlete.priority is Priority.STRENGTH

    def key(self, focus: Focus) -> str:
        return _session_key(self.monday, focus, self.counts)


def week_mix(
    settings: Settings,
    tl: Timeline,
    monday: date,
    anchor: date,
    soreness: Soreness = Soreness.NONE,
) -> WeekMix:
    """The sessions of the week starting ``monday`` (before days are chosen)."""
    phase = tl.phase_on(monday).name
    race_day = tl.race_date
    if race_day is not None and monday <= race_day <= monday + timedelta(days=6):
        return _race_week(settings, monday, race_day)
    if phase is PhaseName.RECOVERY:
        return WeekMix(monday, phase, (), ("fully off after the race (P5)",))

    race = settings.goal.race
    prule = phase_rule(phase, race)
    if phase is PhaseName.BASE and race_day is not None and monday > race_day:
        prule = "P5"
    n_lifts, lift_rule = _lift_count(settings, phase)
    lift_t, run_t = _templates(settings, phase, n_lifts)
    strength = settings.athlete.priority is Priority.STRENGTH
    progress = _progress(settings, tl, monday)
    taper = _taper_factor(settings, tl, monday)

    runs: list[tuple[Focus, int]] = []
    for focus, _ in run_t[: settings.athlete.run_days]:
        minutes = run_minutes(race, focus, phase, progress, taper)
        if strength and n_lifts >= 4:
            minutes = min(minutes, settings.rules.four_lift_week_run_minutes)  # R4
        runs.append((focus, minutes))
    load = week_load(
        settings, tl, monday, anchor, soreness=soreness, runs=runs, lifts=n_lifts, phase=phase
    )
    week = _Week(
        settings=settings,
        tl=tl,
        monday=monday,
        phase=phase,
        phase_rule=prule,
        template_rule="R2" if strength else "R5",
        n_lifts=n_lifts,
        lift_rule=lift_rule,
        load=load,
    )
    notes = list(load.notes)
    lift_allowed = _lift_days_before_race(settings, tl, monday)
    if not lift_allowed:
        lift_t = ()
        notes.append(
            f"no lifting in the {settings.goal.defaults().no_lift_days_before_race} days "
            "before the race (P4)"
        )
    planned = [*_lifts(week, lift_t, lift_allowed), *_runs(week, run_t, runs, taper)]
    return WeekMix(monday, phase, tuple(planned), tuple(notes))


def _peak_sets(week: _Week) -> int:
    """L4: sets step down through the peak, 4 in its first half and 3 in its second."""
    if week.phase is not PhaseName.PEAK:
        return 4
    seg = week.tl.phase_on(week.monday)
    length = (seg.end - seg.start).days // 7 + 1
    return 4 if week.tl.weeks_into(week.monday) < (length + 1) // 2 else 3


_LIFT_STYLE = {
    PhaseName.PEAK: "heavy, low volume",
    PhaseName.TAPER: "one heavy, short session plus mobility",
    PhaseName.MAINTENANCE: "maintenance volume",
}


def _lifts(week: _Week, lift_t: T.Template, allowed: frozenset[int]) -> list[Planned]:
    phase = week.phase
    plyo_sessions = {PhaseName.BASE: 1, PhaseName.BUILD: 2}.get(phase, 0)  # L3
    plyo_targets = [f for f, _ in lift_t if f.loads_lower][:plyo_sessions]
    out: list[Planned] = []
    for rank, (focus, day) in enumerate(lift_t):
        plyo = focus in plyo_targets
        if plyo:
            plyo_targets.remove(focus)
        dose = LiftDose(
            phase=phase,
            focus=focus,
            set_delta=week.load.set_delta,
            lighter=week.load.lighter,
            plyometrics=plyo,
            peak_sets=_peak_sets(week),
            peak_style=week.settings.athlete.peak_style,
        )
        rules = {week.phase_rule, week.lift_rule, week.template_rule, "S5", "S6", "N1"}
        rules |= week.load.rules
        rules.add({PhaseName.PEAK: "L4", PhaseName.TAPER: "L5"}.get(phase, "L2"))
        if week.n_lifts >= 3 or (week.strength and week.n_lifts >= 2):
            rules.add("L7")
        if plyo:
            rules.add("L3")
        if len(allowed) < 7:
            rules.add("P4")
        style = _LIFT_STYLE.get(phase, "heavy strength building")
        reason = f"{phase} week, {focus}-body lift {rank + 1} of {week.n_lifts}: {style}"
        if week.load.notes:
            reason += "; " + "; ".join(week.load.notes)
        spec = Spec(
            key=week.key(focus),
            focus=focus,
            minutes=_lift_minutes(week.settings, phase),
            preferred=day,
            importance=rank,
            allowed=allowed,
        )
        out.append(Planned(spec, phase, frozenset(rules), reason, lift_exercises(dose)))
    return out


def _runs(
    week: _Week, run_t: T.Template, runs: list[tuple[Focus, int]], taper: float
) -> list[Planned]:
    phase = week.phase
    out: list[Planned] = []
    for rank, ((focus, day), (_, minutes)) in enumerate(zip(run_t, runs, strict=False)):
        rules = {week.phase_rule, week.template_rule, "R1", "S6"}
        if week.strength and week.n_lifts >= 4:
            rules.add("R4")
        if focus.is_hard_run:
            rules.add("S4")
        drills: tuple[Exercise, ...] = ()
        if phase is PhaseName.PEAK and focus in (Focus.TEMPO, Focus.INTERVALS):
            drills = PEAK_WARMUP_DRILLS
            rules.add("L4")
        if focus is Focus.OPTIONAL_EASY:
            rules.add("S10")
        reason = f"{phase} week, run {rank + 1} of {len(runs)}: {focus.replace('_', ' ')}"
        if taper < 1:
            reason += f", taper at {round(taper * 100)} % volume"
        spec = Spec(
            key=week.key(focus), focus=focus, minutes=minutes, preferred=day, importance=rank
        )
        out.append(Planned(spec, phase, frozenset(rules), reason, drills))
    return out


def _lift_days_before_race(settings: Settings, tl: Timeline, monday: date) -> frozenset[int]:
    """P4: weekdays of this week that are not within ``no_lift_days_before_race`` of the race."""
    if tl.race_date is None:
        return frozenset(range(7))
    cutoff = tl.race_date - timedelta(days=settings.goal.defaults().no_lift_days_before_race)
    return frozenset(
        wd for wd in range(7) if not cutoff <= monday + timedelta(days=wd) <= tl.race_date
    )


def _lift_minutes(settings: Settings, phase: PhaseName) -> int:
    full = settings.rules.lift_minutes
    if phase is PhaseName.TAPER:
        return max(30, round(full * 0.67))
    if phase in (PhaseName.PEAK, PhaseName.MAINTENANCE):
        return max(30, round(full * 0.75))
    return full


def _race_week(settings: Settings, monday: date, race_day: date) -> WeekMix:
    """P4: half/marathon no weights; 5K/10K at most one light lift; short runs, none on race day."""
    race = settings.goal.race
    counts: dict[Focus, int] = {}
    planned: list[Planned] = []
    days_before = (race_day - monday).days  # weekdays available before race day
    no_lift = settings.goal.defaults().no_lift_days_before_race
    lift_allowed = frozenset(
        wd
        for wd in range(days_before)
        if monday + timedelta(days=wd) < race_day - timedelta(no_lift)
    )
    if not race.is_long and lift_allowed and settings.athlete.weekly_lifts:
        dose = LiftDose(phase=PhaseName.RACE, focus=Focus.FULL, light=True)
        planned.append(
            Planned(
                spec=Spec(
                    key=_session_key(monday, Focus.FULL, counts),
                    focus=Focus.FULL,
                    minutes=30,
                    preferred=min(lift_allowed),
                    importance=0,
                    allowed=lift_allowed,
                ),
                phase=PhaseName.RACE,
                rules=frozenset({"P3", "P4", "S5", "S6", "N1"}),
                reason=f"race week: one light lift, at least {no_lift} days before the race",
                exercises=lift_exercises(dose),
                light=True,
            )
        )
    shape = (
        (Focus.EASY, 5),
        (Focus.EASY, 1),
        (Focus.EASY if race.is_long else Focus.TEMPO, 3),
    )
    run_allowed = frozenset(range(days_before))
    picks = [(f, off) for f, off in shape][: min(settings.athlete.run_days, 3, days_before)]
    minutes = {5: 30, 3: 25, 1: 20}
    for rank, (focus, offset) in enumerate(picks):
        preferred = max(0, days_before - offset)
        rules = {"P4", "R1", "S6"}
        if focus.is_hard_run:
            rules.add("S4")
        planned.append(
            Planned(
                spec=Spec(
                    key=_session_key(monday, focus, counts),
                    focus=focus,
                    minutes=minutes[offset],
                    preferred=preferred,
                    importance=rank,
                    allowed=run_allowed,
                ),
                phase=PhaseName.RACE,
                rules=frozenset(rules),
                reason=(
                    f"race week: {'shake-out' if offset == 1 else 'short sharpening'} run, "
                    f"{offset} day{'s' if offset > 1 else ''} before the race"
                ),
                race_week=True,
            )
        )
    note = "race week: no weights (P4)" if race.is_long else "race week: one light lift (P4)"
    return WeekMix(monday, PhaseName.RACE, tuple(planned), (note,))
