"""What a session contains: the exercise list of a lift (L2-L6, L8) and the shape of a run (R1).

Volume changes arrive as one ``set_delta`` (ease-in, soreness, R4, L8 added up by the caller) so
every reduction is explained once, where it was decided, and applied here uniformly.
"""

from __future__ import annotations

from dataclasses import dataclass

from config.models import PeakStyle, Race
from planner.model import Exercise, ExerciseKind, Focus, PhaseName

_S = ExerciseKind.STRENGTH

# (name, is a "big" lift that takes 5x5 in base/build, L2)
_LIFTS: dict[Focus, tuple[tuple[str, bool], ...]] = {
    Focus.LOWER: (
        ("Back squat", True),
        ("Romanian deadlift", False),
        ("Bulgarian split squat", False),
        ("Standing calf raise", False),
    ),
    Focus.UPPER: (
        ("Bench press", False),
        ("Bent-over row", False),
        ("Overhead press", False),
        ("Pull-up", False),
    ),
    Focus.FULL: (
        ("Deadlift", True),
        ("Push press", False),
        ("Walking lunge", False),
        ("One-arm dumbbell row", False),
    ),
}

MAX_SET_REDUCTION = 3


@dataclass(frozen=True)
class LiftDose:
    """Everything that shapes one lift session's volume and style."""

    phase: PhaseName
    focus: Focus
    set_delta: int = 0  # <= 0; sum of L6 ease-in, soreness, R4 and L8 reductions
    lighter: bool = False  # soreness asked for lighter weights (L6)
    plyometrics: bool = False  # L3 decided by the week, placed first
    peak_sets: int = 4  # L4: 4 early in the peak, 3 later
    peak_style: PeakStyle = PeakStyle.STRENGTH
    light: bool = False  # P4: the one light lift of a 5K/10K race week


def _sets(base: int, delta: int, floor: int = 1) -> int:
    return max(floor, base + max(delta, -MAX_SET_REDUCTION))


def lift_exercises(dose: LiftDose) -> tuple[Exercise, ...]:
    """The structured exercise list; plyometrics always come first (L3)."""
    lifts = _LIFTS[dose.focus]
    out: list[Exercise] = []
    if dose.plyometrics:
        out.append(
            Exercise(
                "Box jump",
                3,
                "5",
                ExerciseKind.PLYOMETRIC,
                "fresh legs, step down; before any lifting (L3)",
            )
        )
    phase = dose.phase
    if dose.light:
        out.extend(
            Exercise(name, 2, "5", _S, "about 60 % of working weight, crisp reps (P4)")
            for name, _ in lifts[:3]
        )
        out.append(Exercise("Hip and ankle mobility", 1, "8 min", ExerciseKind.MOBILITY))
        return tuple(out)
    if phase is PhaseName.TAPER:
        out.extend(
            Exercise(name, _sets(2, dose.set_delta), "5", _S, "same heavy weight as build (L5)")
            for name, _ in lifts[:3]
        )
        out.append(Exercise("Hip mobility flow", 1, "10 min", ExerciseKind.MOBILITY, "L5"))
        out.append(Exercise("Thoracic and ankle mobility", 1, "5 min", ExerciseKind.MOBILITY))
        return tuple(out)
    if phase is PhaseName.PEAK:
        if dose.peak_style is PeakStyle.ENDURANCE:
            note = "lighter weight, muscular endurance (L4 alternative)"
            out.extend(
                Exercise(name, _sets(3, dose.set_delta, 2), "10-15", _S, note)
                for name, _ in lifts[:3]
            )
        else:
            note = "keep the build weight; fast but controlled reps (L4)"
            out.extend(
                Exercise(name, _sets(dose.peak_sets, dose.set_delta, 2), "3-5", _S, note)
                for name, _ in lifts[:3]
            )
        return tuple(out)
    # base, build, maintenance: heavy, slow eccentrics, 1-2 reps in reserve (L2)
    lighter = "; use ~10 % lighter weights this week (L6)" if dose.lighter else ""
    maintenance = phase is PhaseName.MAINTENANCE
    for name, big in lifts:
        base_sets = 5 if big else 4
        reps = "5" if big else "6-8"
        if maintenance:
            base_sets -= 2  # L8 volume: fewer sets, same intensity
        note = "3 s lowering, stop 1-2 reps short of failure (L2)" + lighter
        out.append(
            Exercise(name, _sets(base_sets, dose.set_delta, 2 if big else 1), reps, _S, note)
        )
    return tuple(out)


_EASY = "easy, zone 2 (60-70 % of max HR), conversational"

# minutes per run type; long runs ramp between (start, peak) over a long race's block
_RUN_MINUTES: dict[Race, dict[Focus, int]] = {
    Race.NONE: {Focus.EASY: 30, Focus.TEMPO: 35, Focus.INTERVALS: 40, Focus.LONG: 50},
    Race.FIVE_K: {Focus.EASY: 30, Focus.TEMPO: 35, Focus.INTERVALS: 40, Focus.LONG: 50},
    Race.TEN_K: {Focus.EASY: 35, Focus.TEMPO: 40, Focus.INTERVALS: 45, Focus.LONG: 60},
    Race.HALF: {Focus.EASY: 40, Focus.TEMPO: 45, Focus.INTERVALS: 50, Focus.LONG: 70},
    Race.MARATHON: {Focus.EASY: 45, Focus.TEMPO: 50, Focus.INTERVALS: 50, Focus.LONG: 90},
}
_PEAK_LONG: dict[Race, int] = {Race.HALF: 100, Race.MARATHON: 150}
OPTIONAL_EASY_MINUTES = 25


def _round5(minutes: float) -> int:
    return max(15, int(5 * round(minutes / 5)))


def run_minutes(race: Race, focus: Focus, phase: PhaseName, progress: float, taper: float) -> int:
    """Base duration before the week's caps (R3, R4).

    ``progress`` runs 0 -> 1 from plan start to the end of the peak (long runs grow), ``taper``
    is the fraction of peak volume kept in a taper week (1.0 elsewhere).
    """
    if focus is Focus.OPTIONAL_EASY:
        return OPTIONAL_EASY_MINUTES
    minutes = float(_RUN_MINUTES[race][focus])
    ramps = phase in (PhaseName.BUILD, PhaseName.PEAK, PhaseName.TAPER)
    if focus is Focus.LONG and race in _PEAK_LONG and ramps:
        minutes += (_PEAK_LONG[race] - minutes) * min(max(progress, 0.0), 1.0)
    if phase is PhaseName.TAPER:
        minutes *= taper
    return _round5(minutes)


def run_text(focus: Focus, minutes: int, *, race_week: bool = False) -> str:
    """One line a person can follow on the road."""
    if focus is Focus.EASY:
        if race_week:
            return f"{minutes} min {_EASY}; 4 x 20 s relaxed strides at the end"
        return f"{minutes} min {_EASY}"
    if focus is Focus.OPTIONAL_EASY:
        return f"optional: {minutes} min {_EASY}; skip it if legs are heavy"
    if focus is Focus.TEMPO:
        if race_week:
            return f"{minutes} min: 10 min easy, 3 x 2 min at race pace with 2 min jog, easy home"
        reps = max(2, (minutes - 20) // 7)
        block = 5 if minutes < 45 else 8
        return (
            f"{minutes} min: 10 min easy warm-up, {reps} x {block} min at tempo "
            "(comfortably hard) with 2 min easy between, easy cool-down"
        )
    if focus is Focus.INTERVALS:
        reps = max(4, (minutes - 25) // 4)
        return (
            f"{minutes} min: 15 min warm-up with strides, {reps} x 2 min hard (5K effort) "
            "with 2 min jog, easy cool-down"
        )
    return f"{minutes} min long run, steady and easy; practise race fuelling past 75 min"


PEAK_WARMUP_DRILLS: tuple[Exercise, ...] = (
    Exercise("Pogo jumps", 2, "15", ExerciseKind.DRILL, "in the warm-up (L4)"),
    Exercise("Squat jumps", 2, "6", ExerciseKind.DRILL, "in the warm-up (L4)"),
)
