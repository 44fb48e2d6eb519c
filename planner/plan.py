"""The plan: phases, then week by week the session mix, its days and day-level times.

Weeks are solved in order because rules reach across the week boundary (S5's two days between
same-region lifts, S4's 8 hours) and because run volume grows from what the last full week held
(G2): each week sees the previous week's sessions as fixed and its run minutes as the baseline.
Weeks from the plan's first week (``goal.plan_start``) up to ``start`` are solved too, as context
only, so a plan asked from week 9 lays out week 9 exactly as the plan from week 1 does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta

from config.models import Priority, Race, Settings
from planner.constraints import RuleBook, endorsed_two_a_day
from planner.lift_load import Soreness
from planner.model import (
    Exercise,
    ExerciseKind,
    Focus,
    Kind,
    Load,
    Phase,
    PhaseName,
    Plan,
    Segment,
    Session,
    Unplaced,
    WeekSummary,
)
from planner.nutrition import protein_range, summarise
from planner.pause import Pause, returned_from_break
from planner.phases import Timeline, monday_of, timeline
from planner.prescription import BIG_LIFTS, lift_exercises, lift_minutes
from planner.race import RACE_NAMES, race_session
from planner.rules import sorted_ids
from planner.runs import drills_text, segments, text
from planner.sessions import (
    PLYO_SESSIONS,
    Planned,
    WeekMix,
    maintenance_warning,
    week_mix,
)
from planner.volume import RunState, after_week, initial_state
from planner.week import DAY_NAMES, solve_week
from planner.week_types import Fixed, Placed, Spec, WeekLayout, WeekRules

MAX_WEEKS = 156
MAX_CONTEXT_WEEKS = 160  # weeks solved before ``start`` for run volume and last week's tail
SHORT_BLOCK = 2 / 3  # of the distance's usual block: shorter is warned about (P2, L6, G2)


@dataclass(frozen=True)
class WeekPlan:
    mix: WeekMix
    layout: WeekLayout
    sessions: tuple[Session, ...]
    unplaced: tuple[Unplaced, ...]
    warnings: tuple[str, ...]
    suggestions: tuple[str, ...]
    summary: WeekSummary
    state: RunState


def default_span(settings: Settings, today: date) -> tuple[date, int]:
    """The start and length shown when the user gives neither: the whole race block through
    recovery, or twelve weeks from this week without a race."""
    tl = timeline(settings.goal)
    if tl.race_date is not None and tl.plan_start is not None:
        recovery = [p.end for p in tl.segments if p.name is PhaseName.RECOVERY]
        end = recovery[0] if recovery else tl.race_date
        weeks = (monday_of(end) - tl.plan_start).days // 7 + 1
        return tl.plan_start, weeks
    if tl.plan_start is not None:
        return tl.plan_start, 12
    return monday_of(today), 12


_LIFT_NAMES = {"lower": "Lower-body", "upper": "Upper-body", "full": "Full-body"}
_RUN_NAMES = {
    "easy": "Easy run",
    "tempo": "Tempo run",
    "intervals": "Intervals",
    "long": "Long run",
    "optional_easy": "Optional easy run",
}
_LOAD_WORDS = {
    Load.WORKING: "working weight",
    Load.LIGHTER: "about 10 % under working weight",
    Load.LIGHT: "light",
}


def _title(p: Planned, minutes: int) -> str:
    focus = p.spec.focus
    if focus.kind is Kind.LIFT:
        return f"{_LIFT_NAMES[focus.value]} lift{' (light)' if p.light else ''} {minutes} min"
    return f"{_RUN_NAMES[focus.value]} {minutes} min"


def exercise_line(e: Exercise) -> str:
    """One exercise with its load guidance and its note beside it."""
    if e.kind is ExerciseKind.MOBILITY:
        line = f"{e.name}: {e.reps}"
    else:
        line = f"{e.name}: {e.sets} x {e.reps}"
        guide = [_LOAD_WORDS[e.load]] if e.kind is ExerciseKind.STRENGTH else []
        if e.reps_in_reserve:
            guide.append(f"{e.reps_in_reserve} reps in reserve")
        if guide:
            line += ", " + ", ".join(guide)
    return f"{line}; {e.note}" if e.note else line


def _days_text(days: int) -> str:
    return "the day before the race" if days == 1 else f"{days} days before the race"


def _session(
    p: Planned,
    placed: Placed,
    settings: Settings,
    *,
    protein: str,
    plyo: bool,
    race_day: date | None,
) -> Session:
    zone = settings.zone
    rules = set(p.rules) | {"S8"}
    notes: list[str] = []
    day = placed.start.astimezone(zone).date()
    if placed.shares_day:
        rules |= {"S2", "S3", "S7"}
        if settings.athlete.priority is Priority.STRENGTH:
            rules.add("S1")
            if p.spec.kind is Kind.RUN:
                rules.add("R3")
        notes.append("shares the day with a " + ("run" if p.spec.kind is Kind.LIFT else "lift"))
    if placed.minutes < p.spec.minutes and p.spec.kind is Kind.RUN:
        notes.append(f"capped at {placed.minutes} min on a lift day (R3)")
    if placed.weekday != p.spec.preferred:
        notes.append(
            f"on {DAY_NAMES[placed.weekday]} instead of the template's "
            f"{DAY_NAMES[p.spec.preferred]}"
        )
    reason = p.reason
    not_before = not_after = None
    if p.days_before_race is not None and race_day is not None:
        days = (race_day - day).days
        kind = "shake-out" if days == 1 else ("sharpening" if p.spec.focus.is_hard_run else "easy")
        reason = f"race week: {kind} run, {_days_text(days)}"
        not_before = not_after = day  # the text names the day: the session keeps it (P3)
    elif p.light and race_day is not None:
        reason = f"race week: one light lift, {_days_text((race_day - day).days)}"
    reason += "; " + "; ".join(notes) if notes else ""
    exercises: tuple[Exercise, ...] = ()
    segs: tuple[Segment, ...] = ()
    if p.dose is not None:
        exercises = lift_exercises(replace(p.dose, plyometrics=plyo))
        if plyo:
            rules.add("L3")
        minutes = min(placed.minutes, lift_minutes(exercises, BIG_LIFTS))
        lines = [exercise_line(e) for e in exercises]
        description = "\n".join([*lines, protein] if protein else lines)
    else:
        minutes = placed.minutes
        segs = segments(p.spec.focus, minutes, p.shape)
        description = text(p.spec.focus, minutes, segs, p.shape)
        if p.drills:
            description += "\n" + drills_text(p.drills)
        exercises = p.drills
    start = placed.start.astimezone(zone)
    return Session(
        id=p.spec.key,
        date=day,
        kind=p.spec.kind,
        focus=p.spec.focus,
        phase=p.phase,
        duration_minutes=minutes,
        title=_title(p, minutes),
        description=description,
        rules=sorted_ids(frozenset(rules)),
        reason=reason,
        exercises=exercises,
        start=start,
        end=(placed.start + timedelta(minutes=minutes)).astimezone(zone),
        rank=p.spec.importance,
        not_after=not_after or _not_after(p),
        not_before=not_before,
        segments=segs,
    )


def _not_after(p: Planned) -> date | None:
    """P4's allowed days are always a prefix of the week (the days before the cutoff)."""
    if len(p.spec.allowed) == 7:
        return None
    monday = date.fromisoformat(f"{p.spec.key[:4]}-{p.spec.key[4:6]}-{p.spec.key[6:8]}")
    return monday + timedelta(days=max(p.spec.allowed, default=-1))


def _fresh_legs(layout: WeekLayout, book: RuleBook) -> dict[str, bool]:
    """L3: a lift is on fresh legs unless a run comes before it on the same day (S2)."""
    runs_first = {
        pl.weekday
        for pl in layout.placed
        if pl.spec.kind is Kind.RUN and pl.spec.phase in book.run_first_phases
    }
    return {
        pl.spec.key: not (pl.shares_day and pl.weekday in runs_first)
        for pl in layout.placed
        if pl.spec.kind is Kind.LIFT
    }


def _plyometrics(mix: WeekMix, layout: WeekLayout, book: RuleBook) -> tuple[set[str], str]:
    """L3: which placed lifts hold the week's plyometrics (one in base, two in build), chosen
    among lifts on fresh legs, leg days first; and a warning when none can."""
    by_key = {p.spec.key: p for p in mix.planned}
    fresh = _fresh_legs(layout, book)
    lifts = [
        pl for pl in layout.placed if pl.spec.kind is Kind.LIFT and not by_key[pl.spec.key].light
    ]
    want = max((PLYO_SESSIONS.get(by_key[pl.spec.key].phase, 0) for pl in lifts), default=0)
    if not want:
        return set(), ""
    ordered = sorted(
        (pl for pl in lifts if fresh[pl.spec.key]),
        key=lambda pl: (not pl.spec.focus.loads_lower, pl.spec.importance),
    )
    chosen = {pl.spec.key for pl in ordered[:want]}
    if chosen:
        return chosen, ""
    return set(), (
        f"week of {mix.monday}: every lift follows a run on its day, so none holds "
        "plyometrics (L3 needs fresh legs)"
    )


def _two_a_day_warnings(layout: WeekLayout, book: RuleBook, monday: date) -> list[str]:
    """S7: a shared day that hard_days_hard did not ask for is a compromise; say so."""
    by_day: dict[int, list[Placed]] = {}
    for pl in layout.placed:
        by_day.setdefault(pl.weekday, []).append(pl)
    out = []
    for wd, items in sorted(by_day.items()):
        as_template = all(pl.spec.preferred == wd for pl in items)
        foci = tuple(pl.spec.focus for pl in items)
        if len(items) < 2 or endorsed_two_a_day(foci, as_template=as_template, book=book):
            continue
        names = " and ".join(
            f"the {pl.spec.focus.value.replace('_', ' ')} {pl.spec.kind}" for pl in items
        )
        out.append(
            f"week of {monday}: {DAY_NAMES[wd]} holds {names}: the available days cannot "
            "hold the week otherwise (S7)"
        )
    return out


def _suggestions(
    specs: tuple[Spec, ...], rules: WeekRules, layout: WeekLayout, monday: date
) -> tuple[str, ...]:
    """The ranked fixes of a week that drops something new, each naming the first session it
    brings back so --explain shows it beside that one. The fix search (:mod:`planner.fixes`,
    ~700 lines) is imported here: most plans drop nothing, and every ``liftrun plan`` and sync
    cycle would compile it for nothing (``benchmarks/bench_startup.py``)."""
    from planner.fixes import find_fixes  # noqa: PLC0415

    return tuple(
        f"{fix.restored[0]}: {fix.text}" if fix.restored else f"week of {monday}: {fix.text}"
        for fix in find_fixes(specs, rules, layout)
    )


def plan_week(
    settings: Settings,
    tl: Timeline,
    book: RuleBook,
    monday: date,
    *,
    anchor: date,
    state: RunState,
    soreness: Soreness,
    fixed: tuple[Fixed, ...],
    protein: str,
    known_drops: frozenset[tuple[Focus, PhaseName]] | None = frozenset(),
    returned: date | None = None,
) -> WeekPlan:
    """One week: its mix, its days, its sessions, and the ranked fixes when it drops a kind of
    session (focus and phase) not in ``known_drops`` (None: no fixes). A fix search costs up to
    ``fixes.MAX_SOLVES`` solves of the week, and weeks of a phase drop alike."""
    mix = week_mix(settings, tl, monday, anchor, state, soreness=soreness, returned=returned)
    specs = tuple(p.spec for p in mix.planned)
    rules = WeekRules(monday=monday, book=book, fixed=fixed)
    layout = solve_week(specs, rules)
    by_key = {p.spec.key: p for p in mix.planned}
    plyo, plyo_warning = _plyometrics(mix, layout, book)
    sessions = tuple(
        sorted(
            (
                _session(
                    by_key[pl.spec.key],
                    pl,
                    settings,
                    protein=protein,
                    plyo=pl.spec.key in plyo,
                    race_day=tl.race_date,
                )
                for pl in layout.placed
            ),
            key=lambda s: (s.start, s.id),
        )
    )
    unplaced = tuple(Unplaced(d.spec.key, d.reason, d.rules) for d in layout.dropped)
    warnings = [*layout.warnings, *_two_a_day_warnings(layout, book, monday)]
    if plyo_warning:
        warnings.append(plyo_warning)
    drops = {(d.spec.focus, d.spec.phase) for d in layout.dropped}
    new_drops = known_drops is not None and not drops <= known_drops
    suggestions = _suggestions(specs, rules, layout, monday) if new_drops else ()
    runs = [s for s in sessions if s.kind is Kind.RUN and s.phase is not PhaseName.RACE]
    run_minutes = sum(s.duration_minutes for s in runs)
    longest = max((s.duration_minutes for s in runs), default=0)
    summary = WeekSummary(
        start=monday,
        phase=mix.phase,
        run_minutes=sum(s.duration_minutes for s in sessions if s.kind is Kind.RUN),
        long_run_minutes=longest,
        lift_sets=sum(
            e.sets for s in sessions for e in s.exercises if e.kind is ExerciseKind.STRENGTH
        ),
        hard_runs=sum(1 for s in sessions if s.focus.is_hard_run),
        cutback=bool(mix.volume and mix.volume.cutback),
    )
    after_race = tl.race_date is not None and monday > tl.race_date
    new_state = state
    if mix.volume is not None:
        new_state = after_week(state, mix.volume, run_minutes, longest, after_race=after_race)
    return WeekPlan(
        mix, layout, sessions, unplaced, tuple(warnings), tuple(suggestions), summary, new_state
    )


def plan_warnings(settings: Settings, tl: Timeline) -> list[str]:
    """Plan-level compromises a coach would name before the first session."""
    out: list[str] = []
    goal = settings.goal
    blocks = tl.block_weeks
    if goal.race is not Race.NONE and blocks is not None:
        usual = goal.defaults().block_weeks
        name = RACE_NAMES[goal.race]
        weekly, long = settings.athlete.run_volume
        if blocks < usual * SHORT_BLOCK:
            out.append(
                f"the block is {blocks} weeks; a {name} is usually built over {usual}. "
                f"Running grows from your {weekly} min a week and {long}-min long run by at "
                "most 10 % and 10 min a week (G2) and lifting eases in (L6), so race day may "
                "come before the long run is where it should be: a later race or a shorter "
                "distance would be safer (P2)"
            )
        if blocks > 2 * usual:
            out.append(
                f"the block is {blocks} weeks, more than twice the usual {usual} for a {name}: "
                f"the first {blocks - usual} weeks are base (strength building, G2 growth) "
                f"and the build starts {tl.build_start} (P2)"
            )
    warning = maintenance_warning(settings)
    if warning:
        out.append(warning)
    return out


def build_plan(
    settings: Settings,
    start: date,
    weeks: int,
    soreness: Mapping[date, Soreness] | None = None,
    *,
    suggest: bool = True,
    pauses: Sequence[Pause] = (),
) -> Plan:
    """The plan for ``weeks`` weeks from the Monday of ``start``.

    ``soreness`` maps the Monday of a week to what the athlete reported in it (L6); the report
    lowers the load of the following week. ``suggest`` computes the ranked fixes of weeks that
    drop sessions, once per kind of drop (the same sessions of the same kind dropped again in a
    later week get the same fixes): the sync loop, which reports drops but not fixes, skips it.
    ``pauses`` are the athlete's breaks: lifting eases in after a long one (L6); taking their
    sessions out is the caller's (``planner.pause.split_paused``), so every session keeps its id.
    """
    if not 1 <= weeks <= MAX_WEEKS:
        raise ValueError(f"weeks must be between 1 and {MAX_WEEKS}, got {weeks}")
    reports = soreness or {}
    tl = timeline(settings.goal)
    book = RuleBook.from_settings(settings)
    first = monday_of(start)
    anchor = tl.plan_start or first
    nutrition_note = ""
    lb = settings.athlete.bodyweight_in_lb
    if lb is not None:
        low, high = protein_range(lb, settings.rules)
        nutrition_note = f"Protein today: {low}-{high} g (N1)"

    context_from = first - timedelta(weeks=1)
    if tl.plan_start is not None and tl.plan_start < context_from:
        context_from = max(tl.plan_start, first - timedelta(weeks=MAX_CONTEXT_WEEKS))
    fixed: tuple[Fixed, ...] = ()
    state = initial_state(settings)
    sessions: list[Session] = []
    unplaced: list[Unplaced] = []
    warnings: list[str] = plan_warnings(settings, tl)
    suggestions: list[str] = []
    seen: set[tuple[Focus, PhaseName]] = set()  # kinds of drop already given their fixes
    summaries: list[WeekSummary] = []
    run_minutes: list[int] = []
    monday = context_from
    end = first + timedelta(weeks=weeks) - timedelta(days=1)
    while monday <= end:
        sore = reports.get(monday - timedelta(weeks=1), Soreness.NONE)
        if tl.plan_start is not None and monday <= tl.plan_start:
            state = initial_state(settings)  # G1: volume starts at the plan's first week
        week = plan_week(
            settings,
            tl,
            book,
            monday,
            anchor=anchor,
            state=state,
            soreness=sore,
            fixed=fixed,
            protein=nutrition_note,
            known_drops=frozenset(seen) if suggest and monday >= first else None,
            returned=returned_from_break(pauses, monday),
        )
        seen |= {(d.spec.focus, d.spec.phase) for d in week.layout.dropped}
        state = week.state
        fixed = tuple(
            Fixed(s.date, s.focus, s.start, s.end, s.phase)
            for s in week.sessions
            if s.start is not None and s.end is not None
        )
        if monday >= first:
            sessions.extend(week.sessions)
            unplaced.extend(week.unplaced)
            warnings.extend(week.warnings)
            suggestions.extend(week.suggestions)
            summaries.append(week.summary)
            if week.summary.run_minutes:
                run_minutes.append(week.summary.run_minutes)
        monday += timedelta(weeks=1)
    race = race_session(settings)
    if race is not None and first <= race.date <= end:
        sessions.append(race)
        sessions.sort(key=lambda s: (s.start, s.id))
    avg_run = round(sum(run_minutes) / len(run_minutes)) if run_minutes else 0
    phases: tuple[Phase, ...] = tl.clipped(first, end)
    return Plan(
        timezone=settings.timezone,
        start=first,
        end=end,
        phases=phases,
        sessions=tuple(sessions),
        unplaced=tuple(unplaced),
        nutrition=summarise(lb, avg_run, settings.rules),
        warnings=tuple(dict.fromkeys(warnings)),
        suggestions=tuple(dict.fromkeys(suggestions)),
        weeks=tuple(summaries),
    )
