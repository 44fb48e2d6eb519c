"""The plan: phases, then week by week the session mix, its days and day-level times.

Weeks are solved in order because rules reach across the week boundary (S5's two days between
same-region lifts, S4's 8 hours): each week sees the previous week's sessions as fixed. The week
before ``start`` is solved too, as context only, so a plan asked from week 9 lays out week 9
exactly as the plan from week 1 does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from config.models import Priority, Settings
from planner.daytimes import SameDayRule
from planner.model import Kind, Phase, PhaseName, Plan, Session, Unplaced
from planner.nutrition import protein_range, summarise
from planner.phases import Timeline, monday_of, timeline
from planner.prescription import run_text
from planner.race import race_session
from planner.rules import sorted_ids
from planner.sessions import Planned, Soreness, WeekMix, run_first, week_mix
from planner.week import DAY_NAMES, Fixed, Placed, WeekLayout, WeekRules, solve_week

MAX_WEEKS = 156


@dataclass(frozen=True)
class WeekPlan:
    mix: WeekMix
    layout: WeekLayout
    sessions: tuple[Session, ...]
    unplaced: tuple[Unplaced, ...]


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


def week_rules(
    settings: Settings, monday: date, phase_mix: WeekMix, fixed: tuple[Fixed, ...]
) -> WeekRules:
    r = settings.rules
    endurance = settings.athlete.priority is Priority.ENDURANCE
    same_day = SameDayRule(
        run_first=run_first(settings, phase_mix.phase),
        gap_hours=r.endurance_gap_hours if endurance else r.same_day_gap_hours,
        back_to_back_run_minutes=r.endurance_back_to_back_run_minutes if endurance else 0,
    )
    return WeekRules(
        monday=monday,
        windows=tuple(settings.availability.windows(d) for d in range(7)),
        zone=settings.zone,
        same_day=same_day,
        strength_priority=not endurance,
        hard_days_hard=settings.athlete.hard_days_hard and endurance,
        region_gap_days=r.region_gap_days,
        rest_days=r.rest_days_per_week,
        max_per_day=r.max_sessions_per_day,
        run_on_lift_day_max=r.run_on_lift_day_max_minutes,
        hard_run_gap_hours=r.hard_run_lower_lift_gap_hours,
        fixed=fixed,
    )


def _title(p: Planned, minutes: int) -> str:
    focus = p.spec.focus
    if focus.kind is Kind.LIFT:
        name = {"lower": "Lower-body", "upper": "Upper-body", "full": "Full-body"}[focus.value]
        return f"{name} lift{' (light)' if p.light else ''} {minutes} min"
    name = {
        "easy": "Easy run",
        "tempo": "Tempo run",
        "intervals": "Intervals",
        "long": "Long run",
        "optional_easy": "Optional easy run",
    }[focus.value]
    return f"{name} {minutes} min"


def _session(p: Planned, placed: Placed, settings: Settings, protein: str) -> Session:
    rules = set(p.rules) | {"S8"}
    notes: list[str] = []
    if placed.shares_day:
        rules |= {"S2", "S3", "S7"}
        if settings.athlete.priority is Priority.STRENGTH:
            rules.add("S1")
            if p.spec.kind is Kind.RUN:
                rules.add("R3")
        notes.append("shares the day with a " + ("run" if p.spec.kind is Kind.LIFT else "lift"))
    if placed.minutes < p.spec.minutes:
        notes.append(f"capped at {placed.minutes} min on a lift day (R3)")
    if placed.weekday != p.spec.preferred:
        notes.append(
            f"on {DAY_NAMES[placed.weekday]} instead of the template's "
            f"{DAY_NAMES[p.spec.preferred]}"
        )
    reason = p.reason + ("; " + "; ".join(notes) if notes else "")
    if p.spec.kind is Kind.LIFT:
        lines = [f"{e.name}: {e.sets} x {e.reps}" for e in p.exercises]
        notes = list(dict.fromkeys(e.note for e in p.exercises if e.note))  # each note once
        description = "\n".join([*lines, *notes, protein] if protein else [*lines, *notes])
    else:
        description = run_text(p.spec.focus, placed.minutes, race_week=p.race_week)
        if p.exercises:
            description += "\nWarm-up: " + ", ".join(
                f"{e.name} {e.sets} x {e.reps}" for e in p.exercises
            )
    return Session(
        id=p.spec.key,
        date=placed.start.astimezone(settings.zone).date(),
        kind=p.spec.kind,
        focus=p.spec.focus,
        phase=p.phase,
        duration_minutes=placed.minutes,
        title=_title(p, placed.minutes),
        description=description,
        rules=sorted_ids(frozenset(rules)),
        reason=reason,
        exercises=p.exercises,
        start=placed.start.astimezone(settings.zone),
        end=placed.end.astimezone(settings.zone),
        rank=p.spec.importance,
        not_after=_not_after(p),
    )


def _not_after(p: Planned) -> date | None:
    """P4's allowed days are always a prefix of the week (the days before the cutoff)."""
    if len(p.spec.allowed) == 7:
        return None
    monday = date.fromisoformat(f"{p.spec.key[:4]}-{p.spec.key[4:6]}-{p.spec.key[6:8]}")
    return monday + timedelta(days=max(p.spec.allowed, default=-1))


def plan_week(
    settings: Settings,
    tl: Timeline,
    monday: date,
    *,
    anchor: date,
    soreness: Soreness,
    fixed: tuple[Fixed, ...],
    protein: str,
) -> WeekPlan:
    mix = week_mix(settings, tl, monday, anchor, soreness)
    specs = tuple(p.spec for p in mix.planned)
    layout = solve_week(specs, week_rules(settings, monday, mix, fixed))
    by_key = {p.spec.key: p for p in mix.planned}
    sessions = tuple(
        sorted(
            (_session(by_key[pl.spec.key], pl, settings, protein) for pl in layout.placed),
            key=lambda s: (s.start, s.id),
        )
    )
    unplaced = tuple(Unplaced(d.spec.key, d.reason, d.rules) for d in layout.dropped)
    return WeekPlan(mix, layout, sessions, unplaced)


def build_plan(
    settings: Settings,
    start: date,
    weeks: int,
    soreness: Mapping[date, Soreness] | None = None,
) -> Plan:
    """The plan for ``weeks`` weeks from the Monday of ``start``.

    ``soreness`` maps the Monday of a week to what the athlete reported in it (L6); the report
    lowers the load of the following week.
    """
    if not 1 <= weeks <= MAX_WEEKS:
        raise ValueError(f"weeks must be between 1 and {MAX_WEEKS}, got {weeks}")
    reports = soreness or {}
    tl = timeline(settings.goal)
    first = monday_of(start)
    anchor = tl.plan_start or first
    nutrition_note = ""
    lb = settings.athlete.bodyweight_in_lb
    if lb is not None:
        low, high = protein_range(lb, settings.rules)
        nutrition_note = f"Protein today: {low}-{high} g (N1)"

    fixed: tuple[Fixed, ...] = ()
    sessions: list[Session] = []
    unplaced: list[Unplaced] = []
    warnings: list[str] = []
    run_minutes: list[int] = []
    for k in range(-1, weeks):
        monday = first + timedelta(weeks=k)
        sore = reports.get(monday - timedelta(weeks=1), Soreness.NONE)
        week = plan_week(
            settings, tl, monday, anchor=anchor, soreness=sore, fixed=fixed, protein=nutrition_note
        )
        fixed = tuple(
            Fixed(s.date, s.focus, s.start, s.end)
            for s in week.sessions
            if s.start is not None and s.end is not None
        )
        if k < 0:
            continue
        sessions.extend(week.sessions)
        unplaced.extend(week.unplaced)
        warnings.extend(week.layout.warnings)
        minutes = sum(s.duration_minutes for s in week.sessions if s.kind is Kind.RUN)
        if minutes:
            run_minutes.append(minutes)
    end = first + timedelta(weeks=weeks) - timedelta(days=1)
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
        warnings=tuple(warnings),
    )
