"""The pages' views made from the planner's own objects: the placed plan, its summaries and
phases, the placement's words and ``--explain``'s account, the cycle's health rows.

Pure, like the planner: the plan, the busy time, the athlete's outcomes and ``now`` come in as
arguments (the app reads the store and the clock). Nothing here decides a rule: the volume is
the plan's ``WeekSummary``, the rule texts are :data:`planner.rules.RULES`, the exercise lines
are :func:`planner.plan.exercise_line`'s and the explanation is :func:`planner.explain.explain`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from planner.busy import BusyInterval
from planner.constraints import RuleBook
from planner.explain import explain
from planner.localtime import window_bounds
from planner.model import Exercise, ExerciseKind, Kind, PhaseName, Plan, Session
from planner.phases import monday_of
from planner.plan import exercise_line
from planner.rules import RULES, sorted_ids
from sync.state import Health
from web import move_choices
from web.views import (
    Actions,
    BusyBlock,
    DayAgenda,
    DayColumn,
    ExerciseLine,
    HealthRow,
    Links,
    Outcome,
    Overview,
    Pause,
    PhaseBand,
    Position,
    RuleLine,
    SegmentLine,
    SessionLine,
    SessionState,
    SessionView,
    SlotChoice,
    UnplacedLine,
    WeekBar,
    WeekView,
)

SessionUrl = Callable[[str], str | None]
_WEEK_OF = re.compile(r"week of (\d{4}-\d{2}-\d{2})")
_ID_WEEK = re.compile(r"^(\d{4})(\d{2})(\d{2})")


def _no_url(_: str) -> str | None:
    return None


def state_of(s: Session, outcomes: Mapping[str, Outcome], pause: Pause | None) -> SessionState:
    """The athlete's word wins; a session inside a pause they said nothing about is paused."""
    said = outcomes.get(s.id)
    if said is not None:
        return said.state
    if pause is not None and pause.start <= s.date <= pause.end and s.kind is not Kind.RACE:
        return SessionState.PAUSED
    return SessionState.PLANNED


def session_line(
    s: Session,
    zone: ZoneInfo,
    outcomes: Mapping[str, Outcome],
    pause: Pause | None = None,
    session_url: SessionUrl = _no_url,
) -> SessionLine:
    return SessionLine(
        id=s.id,
        title=s.title,
        kind=s.kind.value,
        focus=s.focus.value,
        start=s.start.astimezone(zone) if s.start else None,
        end=s.end.astimezone(zone) if s.end else None,
        duration_minutes=s.duration_minutes,
        all_day=s.all_day,
        pinned=s.status == "pinned",
        state=state_of(s, outcomes, pause),
        url=session_url(s.id),
    )


def health_rows(health: Iterable[Health]) -> tuple[HealthRow, ...]:
    """The store's health rows (what ``liftrun status`` prints), sources first."""
    rows = sorted(health, key=lambda h: (h.kind != "source", h.name))
    return tuple(HealthRow(h.kind, h.name, h.ok, h.at, h.last_ok, h.error) for h in rows)


def _week_of_text(text: str) -> date | None:
    m = _WEEK_OF.search(text)
    return date.fromisoformat(m.group(1)) if m else None


def _week_of_id(session_id: str) -> date | None:
    """Session ids start with their week's Monday (``planner.plan``'s keys)."""
    m = _ID_WEEK.match(session_id)
    if not m:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def _open(week: date | None, today: date) -> bool:
    """Still the athlete's business: not about a week that has ended."""
    return week is None or week + timedelta(days=6) >= today


def position(plan: Plan, today: date) -> Position:
    weeks = len(plan.weeks) or ((plan.end - plan.start).days + 1) // 7
    inside = plan.start <= today <= plan.end
    week = (monday_of(today) - plan.start).days // 7 + 1 if today >= plan.start else 0
    phase = next((p.name.value for p in plan.phases if p.start <= today <= p.end), None)
    race = next((s.date for s in plan.sessions if s.kind is Kind.RACE), None)
    if race is None:
        race = next((p.end for p in plan.phases if p.name is PhaseName.RACE), None)
    return Position(
        today=today,
        phase=phase if inside else None,
        week=min(week, weeks),
        weeks=weeks,
        race_date=race,
        days_to_race=(race - today).days if race else None,
    )


def week_bars(
    plan: Plan,
    today: date,
    outcomes: Mapping[str, Outcome],
    pause: Pause | None = None,
) -> tuple[WeekBar, ...]:
    """The plan's weekly summaries; a past week also counts its sessions done and skipped."""
    counts: dict[date, list[int]] = {}
    for s in plan.sessions:
        if s.kind is Kind.RACE:
            continue
        c = counts.setdefault(monday_of(s.date), [0, 0, 0])
        state = state_of(s, outcomes, pause)
        c[0] += 1
        c[1] += state is SessionState.DONE
        c[2] += state is SessionState.SKIPPED
    bars = []
    for w in plan.weeks:
        n, done, skipped = counts.get(w.start, [0, 0, 0])
        bars.append(
            WeekBar(
                start=w.start,
                phase=w.phase.value,
                run_minutes=w.run_minutes,
                long_run_minutes=w.long_run_minutes,
                lift_sets=w.lift_sets,
                cutback=w.cutback,
                past=w.start + timedelta(days=6) < today,
                sessions=n,
                done=done,
                skipped=skipped,
            )
        )
    return tuple(bars)


def overview(
    plan: Plan,
    *,
    now: datetime,
    outcomes: Mapping[str, Outcome] | None = None,
    health: Iterable[Health] = (),
    last_cycle: datetime | None = None,
    pause: Pause | None = None,
    actions: Actions | None = None,
    links: Links | None = None,
    session_url: SessionUrl = _no_url,
) -> Overview:
    """The overview of a placed plan (``planner.placement.place_plan``'s result) at ``now``."""
    zone = ZoneInfo(plan.timezone)
    today = now.astimezone(zone).date()
    said = outcomes or {}
    horizon = today + timedelta(days=7)
    by_day: dict[date, list[SessionLine]] = {}
    for s in plan.sessions:
        if today <= s.date < horizon:
            by_day.setdefault(s.date, []).append(session_line(s, zone, said, pause, session_url))
    return Overview(
        timezone=plan.timezone,
        position=position(plan, today),
        phases=tuple(PhaseBand(p.name.value, p.start, p.end) for p in plan.phases),
        weeks=week_bars(plan, today, said, pause),
        next_days=tuple(
            DayAgenda(today + timedelta(days=k), tuple(by_day.get(today + timedelta(days=k), [])))
            for k in range(7)
        ),
        warnings=tuple(w for w in plan.warnings if _open(_week_of_text(w), today)),
        unplaced=tuple(
            UnplacedLine(u.id, u.reason, u.rules)
            for u in plan.unplaced
            if _open(_week_of_id(u.id), today)
        ),
        health=health_rows(health),
        last_cycle=last_cycle,
        pause=pause if pause is not None and pause.end >= today else None,
        actions=_plan_actions(actions or Actions(), pause, today),
        links=links or Links(),
    )


def _plan_actions(actions: Actions, pause: Pause | None, today: date) -> Actions:
    pausing = pause is not None and pause.end >= today
    return replace(
        actions,
        done=None,
        skipped=None,
        move=None,
        not_doing=None,
        restore=None,
        pause=None if pausing else actions.pause,
        end_pause=actions.end_pause if pausing else None,
    )


def _day_busy(busy: Sequence[BusyInterval], lo: datetime, hi: datetime) -> tuple[BusyBlock, ...]:
    """Busy time within one local day, overlaps merged, titles dropped."""
    spans = sorted(
        (max(b.start.astimezone(UTC), lo), min(b.end.astimezone(UTC), hi))
        for b in busy
        if b.start < hi and b.end > lo
    )
    merged: list[list[datetime]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return tuple(BusyBlock(a, b) for a, b in merged)


def week(
    plan: Plan,
    monday: date,
    rules: RuleBook,
    *,
    now: datetime,
    busy: Sequence[BusyInterval] = (),
    outcomes: Mapping[str, Outcome] | None = None,
    pause: Pause | None = None,
    links: Links | None = None,
    session_url: SessionUrl = _no_url,
) -> WeekView:
    """One week as a time grid: the training windows of ``rules`` (S8), busy time as blocks
    without titles, the placed sessions."""
    zone = rules.zone
    monday = monday_of(monday)
    said = outcomes or {}
    days = []
    for k in range(7):
        day = monday + timedelta(days=k)
        lo, hi = window_bounds(day, _MIDNIGHT, _END_OF_DAY, zone)
        windows = tuple(
            (a.astimezone(zone), b.astimezone(zone))
            for a, b in (window_bounds(day, s, e, zone) for s, e in rules.windows[day.weekday()])
        )
        blocks = tuple(
            BusyBlock(b.start.astimezone(zone), b.end.astimezone(zone))
            for b in _day_busy(busy, lo, hi)
        )
        sessions = tuple(
            session_line(s, zone, said, pause, session_url) for s in plan.sessions if s.date == day
        )
        days.append(DayColumn(day, windows, blocks, sessions))
    summary = next(
        (b for b in week_bars(plan, now.astimezone(zone).date(), said, pause) if b.start == monday),
        None,
    )
    phase = next(
        (
            p.name.value
            for p in plan.phases
            if p.start <= monday + timedelta(days=6) and p.end >= monday
        ),
        summary.phase if summary else "",
    )
    return WeekView(
        timezone=plan.timezone,
        monday=monday,
        today=now.astimezone(zone).date(),
        phase=phase,
        days=tuple(days),
        summary=summary,
        links=links or Links(),
    )


_MIDNIGHT = datetime.min.time()
_END_OF_DAY = datetime.max.time()  # "24:00": the next local midnight (planner.localtime)


def exercise(e: Exercise) -> ExerciseLine:
    """An exercise in :func:`planner.plan.exercise_line`'s words, cut into its parts."""
    dose = e.reps if e.kind is ExerciseKind.MOBILITY else f"{e.sets} x {e.reps}"
    line = exercise_line(e)
    if e.note:
        line = line.removesuffix(f"; {e.note}")
    guidance = line.removeprefix(f"{e.name}: {dose}").removeprefix(", ")
    return ExerciseLine(e.name, dose, guidance, e.note, e.kind.value)


def offered(
    actions: Actions,
    state: SessionState,
    *,
    kind: str,
    started: bool,
    can_move: bool,
    pausing: bool,
) -> Actions:
    """The actions that make sense for a session in ``state``: a session not being done can
    only be restored; done or skipped can be said again (a correction) once it has begun; race
    day is never moved or dropped (P4); a pause is ended, not started twice."""
    if state is SessionState.NOT_DOING:
        return Actions(csrf_token=actions.csrf_token, restore=actions.restore)
    planned = state is SessionState.PLANNED
    fixed = kind == Kind.RACE.value
    return Actions(
        csrf_token=actions.csrf_token,
        done=actions.done if started and state is not SessionState.PAUSED else None,
        skipped=actions.skipped if started and state is not SessionState.PAUSED else None,
        sore=actions.sore,
        move=actions.move if planned and can_move and not fixed else None,
        not_doing=actions.not_doing if planned and not fixed else None,
        restore=None,
        pause=None if pausing else actions.pause,
        end_pause=actions.end_pause if pausing else None,
    )


Slot = tuple[datetime, datetime]  # a start and end the engine offers for a move


def slot_choices(slots: Iterable[Slot], zone: ZoneInfo) -> tuple[SlotChoice, ...]:
    """The move's alternatives (the engine's), in time order; the form posts the start and the
    page words each itself (``web.move_choices``)."""
    return tuple(move_choices.choice(a, b, zone) for a, b in sorted(slots))


def _anonymous(busy: Sequence[BusyInterval]) -> list[BusyInterval]:
    """Busy time as the page may show it: when, not what or from which calendar."""
    return [BusyInterval(b.start, b.end) for b in busy]


def untitled(text: str, busy: Sequence[BusyInterval]) -> str:
    """``text`` with every busy event's quoted title (``planner.reasons`` writes
    ``'Dentist' 08:00-10:00``) said as ``'busy'``: a session link sits in calendars that
    others may see, and must not carry the titles of the athlete's other calendars."""
    for title in sorted({b.summary for b in busy if b.summary}, key=len, reverse=True):
        text = text.replace(f"'{title}'", "'busy'")
    return text


def session(
    session_id: str,
    planned: Plan,
    placed: Plan,
    *,
    now: datetime,
    busy: Sequence[BusyInterval] = (),
    outcome: Outcome | None = None,
    pause: Pause | None = None,
    slots: Iterable[Slot] = (),
    actions: Actions | None = None,
    links: Links | None = None,
) -> SessionView | None:
    """One session's page, or None when neither plan holds it. ``planned`` is the plan before
    placement (``build_plan``), ``placed`` after it, as ``liftrun plan --explain`` takes them;
    ``slots`` are the alternative (start, end) the engine offers for a move."""
    zone = ZoneInfo(placed.timezone)
    base = next((s for s in planned.sessions if s.id == session_id), None)
    final = next((s for s in placed.sessions if s.id == session_id), None)
    shown = final or base
    if shown is None or base is None:
        return None
    today = now.astimezone(zone).date()
    dropped = next((u for u in placed.unplaced if u.id == session_id), None)
    state = state_of(shown, {session_id: outcome} if outcome else {}, pause)
    pausing = pause is not None and pause.end >= today
    choices = slot_choices(slots, zone) if final is not None else ()
    here = (final.start, final.end) if final and final.start and final.end else None
    days = move_choices.slot_days(((c.start, c.end) for c in choices), zone, here, today)
    started = shown.date <= today
    future = final is not None and final.start is not None and final.start > now
    rules = sorted_ids(frozenset(shown.rules) | frozenset(shown.placement_rules))
    return SessionView(
        timezone=placed.timezone,
        id=shown.id,
        title=shown.title,
        kind=shown.kind.value,
        focus=shown.focus.value,
        phase=shown.phase.value,
        start=final.start.astimezone(zone) if final and final.start else None,
        end=final.end.astimezone(zone) if final and final.end else None,
        duration_minutes=shown.duration_minutes,
        all_day=shown.all_day,
        exercises=tuple(exercise(e) for e in shown.exercises),
        segments=tuple(
            SegmentLine(g.kind.value, g.minutes, g.effort.value, g.repeat) for g in shown.segments
        ),
        description=shown.description,
        rules=tuple(RuleLine(r, RULES.get(r, "")) for r in rules),
        reason=base.reason,
        placement=untitled(final.placement, busy) if final else "",
        explanation=untitled(explain(session_id, planned, placed, _anonymous(busy), zone), busy),
        placement_status=final.status if final else "unplaced",
        state=state,
        outcome=outcome,
        unplaced_reason=dropped.reason if final is None and dropped else None,
        slots=choices,
        slot_days=days if choices else (),
        pause=pause if pausing else None,
        actions=offered(
            actions or Actions(),
            state,
            kind=shown.kind.value,
            started=started,
            can_move=future and bool(choices),
            pausing=pausing,
        ),
        links=links or Links(),
    )
