"""What a run holds (G6, R1): segments that add up to its length exactly, and the text made from
them, so the words never promise more than the slot holds ("15 min warm-up" in a 25-min run).

A hard run keeps a warm-up and a cool-down of at least ``MIN_WARMUP``/``MIN_COOLDOWN`` minutes
and as many work bouts as the rest holds; whatever does not make a whole bout lengthens the
warm-up and cool-down. Peak hard runs carry the plyometrics the lift sessions gave up (L4) as a
drills segment after the warm-up.
"""

from __future__ import annotations

from dataclasses import dataclass

from planner.model import Effort, Exercise, Focus, Segment, SegmentKind

MIN_WARMUP = 10
MIN_COOLDOWN = 5
DRILL_MINUTES = 5
STRIDES = 4  # 4 x (20 s stride, 40 s walk back)

_EASY = "easy, zone 2 (60-70 % of max HR), conversational"
_EFFORT_WORDS = {
    Effort.EASY: "easy",
    Effort.STEADY: "steady",
    Effort.TEMPO: "at tempo (comfortably hard)",
    Effort.INTERVAL: "hard (5K effort)",
    Effort.RACE: "at race pace",
}


@dataclass(frozen=True)
class RunShape:
    """What decides a run's segments besides its type and length."""

    race_week: bool = False
    sharpen: bool = False  # race week: a few bouts at race pace instead of tempo
    drills: bool = False  # peak: pogo and squat jumps in the warm-up (L4)
    fuel: bool = False  # G6: a long run of 75+ min toward a half or marathon


def _bouts(
    minutes: int, work: int, rest: int, effort: Effort, *, warmup: int, drills: bool
) -> tuple[Segment, ...]:
    """Warm-up, (drills,) work bouts with easy recoveries between them, cool-down."""
    fixed = warmup + MIN_COOLDOWN + (DRILL_MINUTES if drills else 0)
    room = minutes - fixed
    reps = max(1, (room + rest) // (work + rest))
    if room < work:  # too short for one whole bout: shorten the bout
        work, reps = max(1, room), 1
    used = reps * work + (reps - 1) * rest
    slack = minutes - fixed - used
    wu = warmup + slack // 2
    cd = MIN_COOLDOWN + slack - slack // 2
    out = [Segment(SegmentKind.WARMUP, wu, Effort.EASY)]
    if drills:
        out.append(Segment(SegmentKind.DRILLS, DRILL_MINUTES, Effort.EASY))
    if reps > 1:
        out.append(Segment(SegmentKind.WORK, work, effort, reps))
        out.append(Segment(SegmentKind.RECOVERY, rest, Effort.EASY, reps - 1))
    else:
        out.append(Segment(SegmentKind.WORK, work, effort))
    out.append(Segment(SegmentKind.COOLDOWN, cd, Effort.EASY))
    return tuple(out)


def segments(focus: Focus, minutes: int, shape: RunShape = RunShape()) -> tuple[Segment, ...]:
    """The run's parts; ``sum(s.total for s in result) == minutes`` always (G6)."""
    if focus in (Focus.TEMPO, Focus.INTERVALS) and minutes >= MIN_WARMUP + MIN_COOLDOWN + 5:
        warmup = MIN_WARMUP if minutes >= 30 else 5
        drills = shape.drills and minutes >= warmup + MIN_COOLDOWN + DRILL_MINUTES + 10
        if shape.sharpen:
            return _bouts(minutes, 2, 2, Effort.RACE, warmup=warmup, drills=drills)
        if focus is Focus.TEMPO:
            return _bouts(
                minutes, 8 if minutes >= 45 else 5, 2, Effort.TEMPO, warmup=warmup, drills=drills
            )
        return _bouts(minutes, 2, 2, Effort.INTERVAL, warmup=warmup, drills=drills)
    if shape.race_week and minutes >= 15:
        return (
            Segment(SegmentKind.WORK, minutes - STRIDES, Effort.EASY),
            Segment(SegmentKind.STRIDES, 1, Effort.STEADY, STRIDES),
        )
    return (Segment(SegmentKind.WORK, minutes, Effort.EASY),)


def _part(s: Segment) -> str:
    if s.kind is SegmentKind.WARMUP:
        return f"{s.minutes} min easy warm-up"
    if s.kind is SegmentKind.COOLDOWN:
        return f"{s.minutes} min easy cool-down"
    if s.kind is SegmentKind.DRILLS:
        return f"{s.minutes} min drills (pogo and squat jumps, L4)"
    if s.kind is SegmentKind.STRIDES:
        return f"{s.repeat} x 20 s relaxed strides, walking back (1 min each)"
    if s.kind is SegmentKind.RECOVERY:
        return f"{s.minutes} min easy jog between"
    if s.repeat > 1:
        return f"{s.repeat} x {s.minutes} min {_EFFORT_WORDS[s.effort]}"
    return f"{s.minutes} min {_EFFORT_WORDS[s.effort]}"


def text(focus: Focus, minutes: int, parts: tuple[Segment, ...], shape: RunShape) -> str:
    """The description's first line, made from the segments."""
    if len(parts) == 1 and parts[0].effort is Effort.EASY:
        line = f"{minutes} min {_EASY}"
        if focus is Focus.OPTIONAL_EASY:
            line = f"optional: {line}; skip it if legs are heavy"
        if focus is Focus.LONG:
            line = f"{minutes} min long run, {_EASY}"
    else:
        what = " long run: " if focus is Focus.LONG else ": "
        line = f"{minutes} min{what}" + ", ".join(_part(s) for s in parts)
    if shape.fuel:
        line += "; practise race fuelling: take a gel or drink every 30-40 min (G6)"
    return line


def drills_text(drills: tuple[Exercise, ...]) -> str:
    return "Drills: " + ", ".join(f"{e.name} {e.sets} x {e.reps}" for e in drills)
