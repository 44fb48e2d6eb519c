"""How heavy a week's lifting is (L4, L6, L8, R4, G3): the sets taken off for easing in, soreness,
many runs or long runs and a cutback week; lighter weights; the peak's sets; whether the build
weight is kept; the words for the phase's lifting.

Why a module of its own: the week's mix (``planner.sessions``) decides which sessions a week
holds, this how much its lifts carry (``planner.prescription`` turns that into exercises); the
athlete's ``Soreness`` report, which the sync state and the commands keep, lives here with the
one rule that reads it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from config.models import Experience, Priority, Settings
from planner.model import Focus, PhaseName
from planner.phases import Timeline, monday_of


class Soreness(StrEnum):
    """L6: how the athlete felt; the week after a report carries less load."""

    NONE = "none"
    MODERATE = "moderate"  # sore enough to hurt run quality: one set fewer
    SEVERE = "severe"  # dreading the stairs: two sets fewer and lighter weights


SORENESS_SET_DELTA = {Soreness.NONE: 0, Soreness.MODERATE: -1, Soreness.SEVERE: -2}


@dataclass(frozen=True)
class Load:
    """The week's lift-volume adjustments, each with the rule behind it."""

    set_delta: int
    lighter: bool
    easing_in: bool
    rules: frozenset[str]
    notes: tuple[str, ...]
    lightest: bool = False


def _ease_in(
    settings: Settings, tl: Timeline, monday: date, anchor: date, returned: date | None = None
) -> tuple[int, str]:
    """L6: beginners, athletes not lifting regularly yet (``lifting_now = false``) and everyone
    back after a break (the race's, or a pause of a week or more that ended so the athlete
    came back in the week of ``returned``) start under target volume and load, and ramp up
    week by week; of two reasons at once, the one further from its target counts."""
    weeks = settings.rules.ease_in_weeks
    if not weeks:
        return 0, ""
    a = settings.athlete
    after_break = tl.race_date is not None and monday > tl.race_date
    reasons: list[tuple[int, str]] = []
    if after_break and tl.phase_on(monday).name is PhaseName.BASE:
        reasons.append((tl.weeks_into(monday), "back after the race break: start lighter"))
    elif a.experience is Experience.BEGINNER or not a.lifting_now:
        k = max(0, (monday - monday_of(anchor)).days // 7)
        reasons.append(
            (k, "beginner ease-in" if a.experience is Experience.BEGINNER else "easing in")
        )
    if returned is not None and monday >= returned:
        reasons.append(((monday - returned).days // 7, "back after a break: start lighter"))
    if not reasons:
        return 0, ""
    k, why = min(reasons, key=lambda r: r[0])
    step = -max(0, weeks - 1 - k)
    return step, (f"{why}, week {k + 1} of {weeks}" if step else "")


def week_load(
    settings: Settings,
    tl: Timeline,
    monday: date,
    anchor: date,
    *,
    soreness: Soreness,
    runs: list[tuple[Focus, int, frozenset[str]]],
    lifts: int,
    phase: PhaseName,
    cutback: bool,
    returned: date | None = None,
) -> Load:
    delta, lighter, easing = 0, False, False
    rules: set[str] = set()
    notes: list[str] = []
    step, why = _ease_in(settings, tl, monday, anchor, returned)
    if step:
        delta += step
        lighter = easing = True
        rules.add("L6")
        notes.append(f"{why} ({step} sets, lighter weights, more reps in reserve)")
    lightest = False
    if soreness is not Soreness.NONE:
        delta += SORENESS_SET_DELTA[soreness]
        lightest = lighter and soreness is Soreness.SEVERE  # already lighter: lighter still
        lighter = lighter or soreness is Soreness.SEVERE
        rules.add("L6")
        notes.append(
            f"last week's {soreness} soreness: fewer sets, plyometrics too"
            + (", lighter" if soreness is Soreness.SEVERE else "")
        )
    strength = settings.athlete.priority is Priority.STRENGTH
    if strength and len(runs) >= 3 and lifts >= 3:
        delta -= 1
        rules.add("R4")
        notes.append(f"{len(runs)} runs with {lifts} lifts: one working set fewer per lift")
    long_runs = sum(1 for _, m, _ in runs if m >= settings.rules.long_run_minutes)
    if long_runs >= settings.rules.long_runs_for_maintenance and phase in (
        PhaseName.BASE,
        PhaseName.BUILD,
    ):
        delta -= 2
        rules.add("L8")
        notes.append(f"{long_runs} runs of 60+ min: maintenance volume, same weights")
    if cutback:
        delta -= 1
        rules.add("G3")
        notes.append("cutback week: one set fewer per exercise")
    return Load(delta, lighter, easing, frozenset(rules), tuple(notes), lightest)


def peak_sets(tl: Timeline, monday: date, phase: PhaseName) -> int:
    """L4: sets step down through the peak, 4 in its first half and 3 in its second."""
    if phase is not PhaseName.PEAK:
        return 4
    seg = tl.phase_on(monday)
    length = (seg.end - seg.start).days // 7 + 1
    return 4 if tl.weeks_into(monday) < (length + 1) // 2 else 3


def built(settings: Settings, tl: Timeline, monday: date, anchor: date) -> bool:
    """L6: "keep the build weight" only after enough weeks of lifting in this plan."""
    seg = tl.phase_on(monday)
    start = monday_of(seg.start)
    return (start - monday_of(anchor)).days // 7 >= max(1, settings.rules.ease_in_weeks)


_LIFT_STYLE = {
    PhaseName.PEAK: "heavy, low volume",
    PhaseName.TAPER: "one heavy, short session plus mobility",
    PhaseName.MAINTENANCE: "maintenance volume",
}


def lift_style(phase: PhaseName, settings: Settings) -> str:
    if phase is PhaseName.PEAK and settings.athlete.peak_style.value == "endurance":
        return "lighter weights, 3 x 10-15 for muscular endurance"
    return _LIFT_STYLE.get(phase, "heavy strength building")
