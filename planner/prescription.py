"""What a lift session contains: its exercises with sets, reps, load and notes (L2-L8, G3, G7).

Volume changes arrive as one ``set_delta`` (ease-in, soreness, R4, L8 added up by the caller) so
every reduction is explained once, where it was decided, and applied here uniformly.
"""

from __future__ import annotations

from dataclasses import dataclass

from config.models import PeakStyle
from planner.model import Exercise, ExerciseKind, Focus, Load, PhaseName

_S = ExerciseKind.STRENGTH


@dataclass(frozen=True)
class Lift:
    name: str
    big: bool = False  # a "big" lift that takes 5x5 in base/build (L2)
    per_leg: bool = False


# Full-body days alternate two variants, so a week of full-body sessions (maintenance, the
# endurance peak) still squats and presses as well as deadlifts (L2's big lifts).
_LIFTS: dict[tuple[Focus, int], tuple[Lift, ...]] = {
    (Focus.LOWER, 0): (
        Lift("Back squat", big=True),
        Lift("Romanian deadlift"),
        Lift("Bulgarian split squat", per_leg=True),
        Lift("Standing calf raise"),
    ),
    (Focus.UPPER, 0): (
        Lift("Bench press"),
        Lift("Bent-over row"),
        Lift("Overhead press"),
        Lift("Pull-up"),
    ),
    (Focus.FULL, 0): (
        Lift("Deadlift", big=True),
        Lift("Push press"),
        Lift("Walking lunge", per_leg=True),
        Lift("One-arm dumbbell row"),
    ),
    (Focus.FULL, 1): (
        Lift("Back squat", big=True),
        Lift("Bench press"),
        Lift("Reverse lunge", per_leg=True),
        Lift("Pull-up"),
    ),
}

MAX_SET_REDUCTION = 3
WARMUP_MINUTES = 8
SET_MINUTES = {True: 3.5, False: 2.5}  # a big lift's set takes longer: heavier, longer rest
PLYO_SET_MINUTES = 1.5


@dataclass(frozen=True)
class LiftDose:
    """Everything that shapes one lift session's volume, load and style."""

    phase: PhaseName
    focus: Focus
    set_delta: int = 0  # <= 0; sum of L6 ease-in, soreness, R4, L8 and G3 reductions
    lighter: bool = False  # L6: ease-in or soreness asks for lighter weights
    lightest: bool = False  # L6: severe soreness on top of an ease-in: light weights only
    plyometrics: bool = False  # L3 decided by the week, placed first
    simple_plyometrics: bool = False  # L6: easing in, plyometrics simpler and fewer
    peak_sets: int = 4  # L4: 4 early in the peak, 3 later
    peak_style: PeakStyle = PeakStyle.STRENGTH
    light: bool = False  # P4: the one light lift of a 5K/10K race week
    built: bool = True  # L6: a build came before, so "keep the build weight" is true
    variant: int = 0  # full-body variant A (0) or B (1)


def _sets(base: int, delta: int, floor: int = 1) -> int:
    return max(floor, base + max(delta, -MAX_SET_REDUCTION))


def _reps(reps: str, lift: Lift) -> str:
    return f"{reps} per leg" if lift.per_leg else reps


def _plyo(dose: LiftDose) -> Exercise:
    sets = max(1, 3 + max(dose.set_delta, -2))
    if dose.simple_plyometrics:
        return Exercise(
            "Low box jump (knee height or lower)",
            min(sets, 2),
            "4",
            ExerciseKind.PLYOMETRIC,
            "first, on fresh legs; step down, land softly; simpler while easing in (L3, L6)",
            Load.LIGHT,
        )
    return Exercise(
        "Box jump",
        sets,
        "5",
        ExerciseKind.PLYOMETRIC,
        "first, on fresh legs; step down; before any lifting (L3)",
        Load.WORKING,
    )


def lift_exercises(dose: LiftDose) -> tuple[Exercise, ...]:
    """The structured exercise list; plyometrics always come first (L3)."""
    lifts = _LIFTS[(dose.focus, dose.variant if dose.focus is Focus.FULL else 0)]
    out: list[Exercise] = []
    if dose.plyometrics:
        out.append(_plyo(dose))
    phase = dose.phase
    if dose.light:
        out.extend(
            Exercise(
                lift.name,
                2,
                _reps("5", lift),
                _S,
                "about 60 % of working weight, crisp reps (P4)",
                Load.LIGHT,
                "4+",
                lift.per_leg,
            )
            for lift in lifts[:3]
        )
        out.append(Exercise("Hip and ankle mobility", 1, "8 min", ExerciseKind.MOBILITY))
        return tuple(out)
    load = Load.LIGHT if dose.lightest else Load.LIGHTER if dose.lighter else Load.WORKING
    if phase is PhaseName.TAPER:
        weight = "same heavy weight as your last weeks" if dose.built else "a weight you own"
        out.extend(
            Exercise(
                lift.name,
                _sets(2, dose.set_delta),
                _reps("5", lift),
                _S,
                f"{weight}, short and sharp (L5)",
                load,
                "2-3",
                lift.per_leg,
            )
            for lift in lifts[:3]
        )
        out.append(
            Exercise("Hip mobility flow", 1, "10 min", ExerciseKind.MOBILITY, "mobility (L5)")
        )
        out.append(Exercise("Thoracic and ankle mobility", 1, "5 min", ExerciseKind.MOBILITY))
        return tuple(out)
    if phase is PhaseName.PEAK:
        if dose.peak_style is PeakStyle.ENDURANCE:
            note = "lighter weight, muscular endurance (L4 alternative)"
            out.extend(
                Exercise(
                    lift.name,
                    _sets(3, dose.set_delta, 2),
                    _reps("10-15", lift),
                    _S,
                    note,
                    Load.LIGHTER,
                    "2-3",
                    lift.per_leg,
                )
                for lift in lifts[:3]
            )
        else:
            if dose.lighter:
                note = "a moderate weight while easing in, no build behind you; fast reps (L4, L6)"
            elif dose.built:
                note = "keep the build weight; fast but controlled reps (L4)"
            else:
                note = "the heaviest weight you have lifted cleanly these weeks; fast reps (L4)"
            out.extend(
                Exercise(
                    lift.name,
                    _sets(dose.peak_sets, dose.set_delta, 2),
                    _reps("3-5", lift),
                    _S,
                    note,
                    load,
                    "3-4" if dose.lighter else "2",
                    lift.per_leg,
                )
                for lift in lifts[:3]
            )
        return tuple(out)
    # base, build, maintenance: heavy, slow eccentrics, 1-2 reps in reserve (L2)
    maintenance = phase is PhaseName.MAINTENANCE
    rir = "4+" if dose.lightest else "3-4" if dose.lighter else "1-2"
    for lift in lifts:
        base_sets = 5 if lift.big else 4
        reps = "5" if lift.big else "6-8"
        if maintenance:
            base_sets -= 2  # L8 volume: fewer sets, same intensity
        note = "3 s lowering (L2)"
        note += (
            "; lighter this week (L6)"
            if dose.lighter
            else "; more than 2 reps left: add weight next time (G7)"
        )
        out.append(
            Exercise(
                lift.name,
                _sets(base_sets, dose.set_delta, 2 if lift.big else 1),
                _reps(reps, lift),
                _S,
                note,
                load,
                rir,
                lift.per_leg,
            )
        )
    return tuple(out)


def lift_minutes(exercises: tuple[Exercise, ...], big: frozenset[str]) -> int:
    """L6: a session lasts as long as the work it holds: a warm-up, then each set with its rest."""
    total = float(WARMUP_MINUTES)
    for e in exercises:
        if e.kind is ExerciseKind.MOBILITY:
            total += int(e.reps.split()[0]) * e.sets
        elif e.kind is ExerciseKind.PLYOMETRIC:
            total += PLYO_SET_MINUTES * e.sets
        else:
            total += SET_MINUTES[e.name in big] * e.sets
    return max(20, int(5 * -(-total // 5)))


BIG_LIFTS = frozenset(lift.name for lifts in _LIFTS.values() for lift in lifts if lift.big)


PEAK_WARMUP_DRILLS: tuple[Exercise, ...] = (
    Exercise("Pogo jumps", 2, "15", ExerciseKind.DRILL, "in the warm-up (L4)"),
    Exercise("Squat jumps", 2, "6", ExerciseKind.DRILL, "in the warm-up (L4)"),
)
