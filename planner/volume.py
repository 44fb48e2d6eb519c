"""How much running a week holds (G1-G4), and how it is split into the week's runs (R3, R4, G5).

Volume is carried from week to week, because G2 limits growth against what the athlete actually
ran in the last full week: ``RunState`` is what one week hands the next. Growth counts from the
plan's first week (``goal.plan_start``, or the start of a race block); a plan without one holds
the athlete's own volume (G1) with cutback weeks, since a "first week" that moves with today
would make every week of the sync horizon a first week.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from config.models import WEEKLY_RUN_CEILING, Experience, Priority, Settings
from planner.model import Focus, PhaseName
from planner.phases import Timeline

# the shortest and longest a run of each type is worth, before the week's caps (R3, R4)
RUN_BOUNDS: dict[Focus, tuple[int, int]] = {
    Focus.EASY: (15, 60),
    Focus.OPTIONAL_EASY: (15, 40),
    Focus.TEMPO: (25, 60),
    Focus.INTERVALS: (30, 60),
}
LONG_MIN = 50  # R3: a "long" run is longer than 45 minutes
EASY_MAX_FOR_LONG = 45  # R3: a long run capped to this or less is an easy run
SHARES = {Focus.EASY: 1.0, Focus.OPTIONAL_EASY: 0.7, Focus.TEMPO: 1.0, Focus.INTERVALS: 1.0}
LONG_SHARE = (1.0, 0.65, 0.5, 0.45, 0.4, 0.4)  # of the week's minutes, by runs a week
TAPER_STEPS = (0.8, 0.65, 0.5, 0.4, 0.35, 0.3)  # G4: of the last full week, week by week


def round5(minutes: float) -> int:
    return int(5 * (minutes // 5))


@dataclass(frozen=True)
class RunState:
    """What G2-G4 remember: the last full week's run minutes and its long run."""

    full_minutes: int
    full_long: int
    restarted: bool = False  # G4: the restart after the race recovery has happened


@dataclass(frozen=True)
class WeekVolume:
    target_minutes: int
    long_minutes: int
    cutback: bool
    rules: frozenset[str]
    note: str
    full: bool  # a full week: its actual minutes become the next baseline (G2)


def start_volume(settings: Settings) -> tuple[int, int]:
    """G1: the athlete's weekly and long-run minutes, in the 5-minute steps runs are made of."""
    weekly, long = settings.athlete.run_volume
    return round5(weekly), round5(long)


def initial_state(settings: Settings) -> RunState:
    weekly, long = start_volume(settings)
    return RunState(weekly, long)


def ceilings(settings: Settings) -> tuple[int, int]:
    """G2: where weekly minutes and the long run stop growing (never below where they start)."""
    race = settings.goal.race
    exp = list(Experience).index(settings.athlete.experience)
    weekly, long = start_volume(settings)
    return (
        max(WEEKLY_RUN_CEILING[race][exp], weekly),
        max(settings.rules.long_run_ceiling(race), long),
    )


def cutback_week(settings: Settings, anchor: date | None, monday: date) -> bool:
    """G3: every Nth week of base and build counted from the plan's first week (or, without
    one, from a fixed Monday, so the sync sees the same weeks as cutbacks every cycle)."""
    n = settings.rules.cutback_every_weeks
    if not n:
        return False
    origin = anchor or date(2001, 1, 1)  # a Monday
    k = (monday - origin).days // 7
    return k > 0 and (k + 1) % n == 0


def _scaled(
    state: RunState, f: float, rule: str, note: str, *, full: bool = False, cutback: bool = False
) -> WeekVolume:
    """A week at ``f`` of the last full week (G3's cutback, G4's taper and restart)."""
    return WeekVolume(
        round5(state.full_minutes * f),
        round5(state.full_long * f),
        cutback,
        frozenset({rule}),
        f"{note} ({rule})",
        full=full,
    )


def week_volume(
    settings: Settings,
    tl: Timeline,
    monday: date,
    state: RunState,
    *,
    phase: PhaseName,
    grows: bool,
) -> WeekVolume:
    """The week's run-minute target and long run (G1-G4).

    ``grows`` is False before the plan's first week and for plans without one: volume then holds
    the athlete's own (G1).
    """
    r = settings.rules
    start_w, start_l = start_volume(settings)
    max_w, max_l = ceilings(settings)
    anchor = tl.plan_start
    if not r.run_progression:
        return WeekVolume(start_w, start_l, False, frozenset({"G1"}), "", full=False)
    after_race = tl.race_date is not None and monday > tl.race_date
    if phase is PhaseName.TAPER:
        k = tl.weeks_into(monday)
        f = TAPER_STEPS[min(k, len(TAPER_STEPS) - 1)]
        return _scaled(state, f, "G4", f"taper: {round(f * 100)} % of the last full week's running")
    if after_race and not state.restarted:
        f = r.restart_run_fraction
        note = f"back after the race: running restarts at {round(f * 100)} %"
        return _scaled(state, f, "G4", note, full=True)
    if phase in (PhaseName.BASE, PhaseName.BUILD) and cutback_week(
        settings, anchor if grows else None, monday
    ):
        f = r.cutback_run_fraction
        note = f"cutback week: {round((1 - f) * 100)} % less running, one set fewer"
        return _scaled(state, f, "G3", note, cutback=True)
    if not grows or (anchor is not None and monday <= anchor):
        return WeekVolume(
            start_w, min(start_l, max_l), False, frozenset({"G1"}), "", full=not after_race
        )
    weekly = min(max_w, round5(state.full_minutes * (1 + r.weekly_run_growth)))
    long = min(max_l, state.full_long + r.long_run_step_minutes)
    return WeekVolume(
        weekly,
        long,
        False,
        frozenset({"G2"}),
        "",
        full=True,
    )


def after_week(
    state: RunState, volume: WeekVolume, minutes: int, long: int, *, after_race: bool
) -> RunState:
    """The state the next week sees: a full week's actual minutes become the baseline (G2)."""
    if not volume.full:
        return state
    return replace(
        state,
        full_minutes=max(minutes, 1),
        full_long=long,
        restarted=state.restarted or after_race,
    )


def hard_run_limit(settings: Settings) -> int:
    """G5: at most two hard runs; beginners, and intermediates running three times or less, one."""
    a = settings.athlete
    if a.experience is Experience.BEGINNER or (
        a.experience is Experience.INTERMEDIATE and a.run_days <= 3
    ):
        return min(1, settings.rules.max_hard_runs)
    return settings.rules.max_hard_runs


def week_runs(
    settings: Settings, foci: list[Focus], volume: WeekVolume, *, four_lifts: bool
) -> list[tuple[Focus, int, frozenset[str]]]:
    """The week's runs as (focus, minutes, rule ids): hard runs limited (G5), the long run at
    the week's long-run minutes (a long run of 45 min or less is an easy run, R3), the rest of
    the target shared by the other runs within their bounds, then R4's cap for a 4th lift day."""
    limit = hard_run_limit(settings)
    hard = 0
    picked: list[tuple[Focus, frozenset[str]]] = []
    for focus in foci:
        if focus.is_hard_run:
            if hard >= limit:
                picked.append((Focus.EASY, frozenset({"G5"})))
                continue
            hard += 1
        picked.append((focus, frozenset()))
    cap = settings.rules.four_lift_week_run_minutes if four_lifts else None
    strength = settings.athlete.priority is Priority.STRENGTH
    minutes = _share(settings, [f for f, _ in picked], volume)
    out: list[tuple[Focus, int, frozenset[str]]] = []
    for (picked_focus, rules), share in zip(picked, minutes, strict=True):
        focus, ids, m = picked_focus, set(rules), share
        if cap is not None and strength and m > cap:
            m = cap
            ids.add("R4")
        if focus is Focus.LONG and m <= EASY_MAX_FOR_LONG:
            focus = Focus.EASY
            ids.add("R3")
        out.append((focus, m, frozenset(ids)))
    return _trim(out, volume.target_minutes)


def _share(settings: Settings, foci: list[Focus], volume: WeekVolume) -> list[int]:
    """The other runs share what the long run leaves of the week, in 5-minute steps within
    their bounds (hard runs first to take a step that does not divide evenly); the long run
    then takes the rest up to its own step (G2). The long run is planned at its share of the
    week at most (``LONG_SHARE``) so the other runs are never cut to feed it, except that the
    athlete's own long run stays (G1)."""
    strength = settings.athlete.priority is Priority.STRENGTH
    week = volume.target_minutes
    has_long = Focus.LONG in foci
    share = LONG_SHARE[min(len(foci), len(LONG_SHARE)) - 1] if foci else 1.0
    rest = week - round5(share * week) if has_long else week
    bounds: dict[int, tuple[int, int]] = {}
    for i, focus in enumerate(foci):
        if focus is not Focus.LONG:
            lo, hi = RUN_BOUNDS[focus]
            if strength:  # the accessory's runs stay within R3's cap; the long run grows
                hi = min(hi, settings.rules.run_on_lift_day_max_minutes)
            bounds[i] = (lo, hi)
    weight = sum(SHARES[foci[i]] for i in bounds) or 1.0
    out = [0 for _ in foci]
    for i, (lo, hi) in bounds.items():
        out[i] = min(hi, max(lo, round5(rest * SHARES[foci[i]] / weight)))
    order = sorted(bounds, key=lambda i: (not foci[i].is_hard_run, i))
    left = rest - sum(out[i] for i in bounds)
    while left >= 5:
        grown = False
        for i in order:
            if left >= 5 and out[i] + 5 <= bounds[i][1]:
                out[i] += 5
                left -= 5
                grown = True
        if not grown:
            break
    if has_long:
        _, start_long = start_volume(settings)
        room = max(week - sum(out[i] for i in bounds), min(start_long, volume.long_minutes))
        out[foci.index(Focus.LONG)] = min(volume.long_minutes, room)
    return out


def _trim(
    runs: list[tuple[Focus, int, frozenset[str]]], target: int
) -> list[tuple[Focus, int, frozenset[str]]]:
    """G2: the week's runs never add up to more than its target, as far as the shortest worth
    running allows: the longest non-long run gives 5 minutes at a time."""
    runs = list(runs)
    while sum(m for _, m, _ in runs) > target:
        options = [
            (m, i)
            for i, (f, m, _) in enumerate(runs)
            if f is not Focus.LONG and m - 5 >= RUN_BOUNDS.get(f, (20, 0))[0]
        ]
        if not options:
            longs = [
                (m, i) for i, (f, m, _) in enumerate(runs) if f is Focus.LONG and m - 5 >= LONG_MIN
            ]
            if not longs:
                break
            options = longs
        _, i = max(options)
        f, m, ids = runs[i]
        runs[i] = (f, m - 5, ids)
    return runs


def race_week_minutes(state: RunState, default: int, share: float) -> int:
    """P4/G4: race-week runs stay short, and shorter still for an athlete who runs little."""
    return max(15, min(default, round5(state.full_minutes * share)))
