"""Exact times for every session around busy time, with minimal disruption (S2-S10).

Method: each week is a small constraint problem solved exactly by depth-first search with forward
checking and branch and bound, not by first-fit. A variable is a session; its values are concrete
(day, start) slots inside the day's free time (availability windows minus busy time plus
``buffer_minutes``, minus the past): every free span's first possible start, the quarter-hour
grid inside it, its last possible start, and the session's previous and planned starts when they
fit. Constraints are the rules between two sessions (S2 order, S3 gap, S4's 8 h, S5's two days,
S7 and R3 on shared days) plus S6's rest day over the week; pinned and frozen sessions are fixed
values that every other value must respect.

Why this and not CP-SAT: a week has at most ten movable sessions and a few hundred slots each;
pairwise constraints make forward checking (drop, from every open session, the slots that clash
with the one just placed; fail as soon as one has none) prune almost everything, and the search
stays pure Python with no native dependency and byte-for-byte deterministic output. Its claims
are checked against a brute-force oracle over small weeks in the tests.

The objective is lexicographic, as S10 asks:

1. drop as little as possible, in S10's order (drop sets are tried in that order, and each is
   proved feasible or infeasible exhaustively before the next);
2. move as few previously placed sessions as possible (a session that still fits keeps its exact
   time, because any move costs more than every other preference together);
3. share as few days as possible that the plan kept apart (S7: a two-a-day only when needed,
   and then a warning names it);
4. move each displaced session as little as possible: same day first, then the nearest day of
   the same week, then the smallest shift of the clock;
5. new sessions go to the planner's day and time, as early as the window allows.

This module runs the search week by week (``planner.slot_search`` holds the week's search, its
slots and costs) and asks ``planner.reasons`` for the words: each placement's explanation, each
dropped session's reason, the warnings about pins and two-a-days.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta

from planner.busy import BusyInterval
from planner.constraints import Facts, RuleBook
from planner.freetime import BusyIndex
from planner.model import Focus, Kind, Plan, Session, Unplaced
from planner.phases import monday_of
from planner.reasons import (
    clock,
    explain_placement,
    explain_unplaced,
    fixed_placement,
    pin_warnings,
    rest_day_warnings,
    two_a_day_warnings,
)
from planner.slot_search import (
    NODE_LIMIT,
    Days,
    Item,
    Placement,
    Slot,
    Solved,
    Status,
    add_candidates,
    facts_of,
    solve,
    to_slot,
)

__all__ = ["Placement", "PlacementResult", "Status", "apply_placement", "place", "place_plan"]


@dataclass(frozen=True)
class PlacementResult:
    placements: tuple[Placement, ...]
    unplaced: tuple[Unplaced, ...]
    warnings: tuple[str, ...] = ()
    suggestions: tuple[str, ...] = ()
    nodes: int = 0

    def by_id(self) -> dict[str, Placement]:
        return {p.session_id: p for p in self.placements}


# -- the engine --------------------------------------------------------------------------------
@dataclass
class _Run:
    """What one call of ``place`` accumulates week by week."""

    rules: RuleBook
    days: Days
    now: datetime
    prev: dict[str, tuple[datetime, datetime]]
    pins: dict[str, tuple[datetime, datetime]]
    frozen_before: datetime
    frozen: frozenset[str] = frozenset()
    placed: dict[str, Placement] = field(default_factory=dict)
    context: list[tuple[Facts, Slot, Session]] = field(default_factory=list)
    unplaced: list[Unplaced] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    suggestions: list[str] = field(default_factory=list)
    nodes: int = 0


def place(
    sessions: Sequence[Session],
    rules: RuleBook,
    busy: Sequence[BusyInterval] | BusyIndex = (),
    *,
    now: datetime,
    previous: Mapping[str, tuple[datetime, datetime]] | None = None,
    pinned: Mapping[str, tuple[datetime, datetime]] | None = None,
    freeze_until: datetime | None = None,
    frozen: Collection[str] = (),
) -> PlacementResult:
    """Place ``sessions`` (the planner's, with their planned day and time) around ``busy``.

    ``previous`` is the last placement (session id -> start, end), ``pinned`` the sessions the
    athlete moved by hand; sessions whose previous start is before ``freeze_until`` (default
    ``now``) stay where they are, and nothing new is placed before ``now``. ``frozen`` sessions
    stay at their previous time whenever it is: the athlete marked them done or skipped (S9).
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    index = busy if isinstance(busy, BusyIndex) else BusyIndex.build(busy)
    run = _Run(
        rules=rules,
        days=Days(rules, index, now),
        now=now,
        prev=dict(previous or {}),
        pins=dict(pinned or {}),
        frozen_before=(freeze_until or now).astimezone(UTC),
        frozen=frozenset(frozen),
    )
    weeks: dict[date, list[Session]] = {}
    for s in sorted(sessions, key=lambda s: (s.date, s.id)):
        weeks.setdefault(monday_of(s.date), []).append(s)
    # pinned and frozen sessions of every week constrain their neighbours across week borders
    for s in sessions:
        pre = _fixed_slot(s, run)
        if pre is not None:
            run.context.append((facts_of(s, rules), pre[0], s))
    for monday in sorted(weeks):
        _place_week(run, monday, weeks[monday])
    for s_id in run.pins:
        if s_id in run.placed:
            run.warnings.extend(pin_warnings(run.placed[s_id], sessions, run.placed, index, rules))
    run.warnings.extend(rest_day_warnings(run.placed, rules))
    run.warnings.extend(two_a_day_warnings(sessions, run.placed, rules))
    ordered = tuple(
        sorted(run.placed.values(), key=lambda p: (p.start.astimezone(UTC), p.session_id))
    )
    return PlacementResult(
        ordered, tuple(run.unplaced), tuple(run.warnings), tuple(run.suggestions), run.nodes
    )


def _place_week(run: _Run, monday: date, sessions: list[Session]) -> None:
    rules, zone = run.rules, run.rules.zone
    week_days = [monday + timedelta(days=k) for k in range(7)]
    lo = week_days[0] - timedelta(days=rules.reach_days)
    hi = week_days[-1] + timedelta(days=rules.reach_days)
    close = [(f, slot, s) for f, slot, s in run.context if lo <= slot.day <= hi]
    movable: list[Item] = []
    for s in sessions:
        fixed = _fixed_slot(s, run)
        if fixed is not None:
            slot, status = fixed
            run.placed[s.id] = fixed_placement(s, slot, status, run.prev.get(s.id), zone)
            continue
        item = Item(len(movable), s, timedelta(minutes=s.duration_minutes))
        if s.id in run.prev:
            item.previous = to_slot(*run.prev[s.id], zone)
        add_candidates(item, week_days, run.days, rules, [slot for _, slot, _ in close])
        movable.append(item)
    near = [(f, slot) for f, slot, _ in close]
    labels = [_label(s, run.pins) for _, _, s in close]
    solved = solve(movable, near, week_days, rules, labels)
    run.nodes += solved.nodes
    if solved.gave_up:
        run.warnings.append(
            f"week of {monday}: the search hit its {NODE_LIMIT}-node bound; "
            "the placement keeps every rule but may move more than needed"
        )
    for item, chosen in zip(movable, solved.slots, strict=True):
        s = item.session
        if chosen is None:
            run.unplaced.append(explain_unplaced(item, solved, run.days, rules, run.now))
            problem = _Problem(movable, near, week_days, rules, labels, run.days)
            run.suggestions.extend(_suggest(item, solved, problem))
            continue
        run.context.append((facts_of(s, rules), chosen, s))
        run.placed[s.id] = explain_placement(item, chosen, solved, run.days, rules)


def _fixed_slot(s: Session, run: _Run) -> tuple[Slot, Status] | None:
    zone = run.rules.zone
    if s.kind is Kind.RACE and s.start is not None and s.end is not None:
        return to_slot(s.start, s.end, zone), Status.FIXED
    if s.id in run.pins:
        return to_slot(*run.pins[s.id], zone), Status.PINNED
    if s.id in run.prev and (
        s.id in run.frozen or run.prev[s.id][0].astimezone(UTC) < run.frozen_before
    ):
        return to_slot(*run.prev[s.id], zone), Status.FROZEN
    return None


def _label(s: Session, pins: Mapping[str, tuple[datetime, datetime]]) -> str:
    return f"your pinned {s.title}" if s.id in pins else s.title


@dataclass(frozen=True)
class _Problem:
    movable: list[Item]
    near: list[tuple[Facts, Slot]]
    week_days: list[date]
    rules: RuleBook
    labels: list[str]
    days: Days


def _suggest(item: Item, solved: Solved, problem: _Problem) -> list[str]:
    """Concrete ways to get a dropped session back, each checked by solving the week again."""
    s = item.session
    out: list[str] = []
    if s.focus is Focus.OPTIONAL_EASY:
        out.append(f"{s.id}: the optional easy run is the first to go (S10); nothing to do")
        return out
    if s.kind is Kind.RUN and s.duration_minutes > 25:
        for minutes in range(s.duration_minutes - 5, 19, -5):
            shorter = _retry_with(item, problem, minutes)
            if shorter:
                out.append(
                    f"{s.id}: shorten the run to {minutes} min zone 2 and it fits "
                    f"({clock(shorter.start, problem.rules.zone)})"
                )
                break
    optional = [it for it in problem.movable if it.session.focus is Focus.OPTIONAL_EASY]
    if optional and all(solved.slots[it.index] is not None for it in optional):
        out.append(f"{s.id}: drop the optional easy run to make room")
    return out


def _retry_with(item: Item, problem: _Problem, minutes: int) -> Slot | None:
    shorter = replace(item.session, duration_minutes=minutes, focus=Focus.EASY)
    clone = Item(item.index, shorter, timedelta(minutes=minutes), previous=item.previous)
    add_candidates(
        clone, problem.week_days, problem.days, problem.rules, [f for _, f in problem.near]
    )
    if not clone.candidates:
        return None
    items = [clone if it.index == item.index else it for it in problem.movable]
    solved = solve(items, problem.near, problem.week_days, problem.rules, problem.labels)
    return solved.slots[item.index]


def place_plan(
    plan: Plan,
    rules: RuleBook,
    busy: Sequence[BusyInterval] | BusyIndex = (),
    *,
    now: datetime,
    previous: Mapping[str, tuple[datetime, datetime]] | None = None,
    pinned: Mapping[str, tuple[datetime, datetime]] | None = None,
    freeze_until: datetime | None = None,
    frozen: Collection[str] = (),
) -> Plan:
    """``plan`` with its sessions at real times around ``busy``: the one pipeline behind what
    ``liftrun plan`` prints and what a sync cycle pushes (the cycle passes the sessions of its
    horizon, its last placement, the athlete's pins and its freeze), so the two never place
    differently. The arguments are :func:`place`'s."""
    result = place(
        plan.sessions,
        rules,
        busy,
        now=now,
        previous=previous,
        pinned=pinned,
        freeze_until=freeze_until,
        frozen=frozen,
    )
    return apply_placement(plan, result)


def apply_placement(plan: Plan, result: PlacementResult) -> Plan:
    """The plan with every session at its placed time; dropped sessions join ``unplaced``."""
    by_id = result.by_id()
    sessions = []
    for s in plan.sessions:
        p = by_id.get(s.id)
        if p is None:
            continue
        sessions.append(
            replace(
                s,
                date=p.start.date(),
                start=p.start,
                end=p.end,
                placement_rules=p.rules,
                status=p.status.value,
                placement=p.explanation,
            )
        )
    sessions.sort(key=lambda s: (s.start.astimezone(UTC) if s.start else UTC_MIN, s.id))
    return replace(
        plan,
        sessions=tuple(sessions),
        unplaced=plan.unplaced + result.unplaced,
        warnings=plan.warnings + result.warnings,
        suggestions=plan.suggestions + result.suggestions,
    )


UTC_MIN = datetime.min.replace(tzinfo=UTC)
