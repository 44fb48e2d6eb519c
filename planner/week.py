"""Which day each session of a week goes on: an exact branch-and-bound search over the days.

Why a search and not a template lookup: a template (R2, R5) only says what the athlete would do
with every day free. Real availability removes days, and then the day-level rules interact: two
lifts of one region need two days between them (S5), even across the week boundary; intervals
and tempo stay off leg days (S4); a lift shares a day with a run only when nothing else fits
(S1, S7), and then only with an easy run of at most 40 minutes (R3); one day stays free (S6). A
greedy pass fails weeks that have a valid layout, so the search is exhaustive: every session tries
every allowed day, cheapest first, and a branch is cut as soon as its cost reaches the best full
layout found. Costs are template deviation plus soft-rule penalties; hard rules are never traded.

The search space is at most 7 days for each of at most 10 sessions (4 lifts + 6 runs); pruning by
the hard rules and the bound keeps it to a few thousand nodes. ``NODE_LIMIT`` bounds the
pathological case and is reported if ever hit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from config.models import WEEKDAYS
from planner.daytimes import SameDayRule, Slot, day_times
from planner.model import Focus, Kind

NODE_LIMIT = 400_000
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

# soft-rule penalties; hard rules are never priced
COST_OFF_TEMPLATE = 2  # plus one per day of distance
COST_TWO_A_DAY = 30  # S7
COST_SHARED_STRENGTH = 100  # S1
COST_ADJACENT_HARD_RUNS = 8  # spread the hard runs (R5/R2 templates do)


@dataclass(frozen=True)
class Spec:
    """A session before it has a day: what it is and where it would like to be."""

    key: str
    focus: Focus
    minutes: int
    preferred: int  # weekday, 0 = Monday
    importance: int  # 0 = most important; S10 drops the highest first within a modality
    allowed: frozenset[int] = frozenset(range(7))

    @property
    def kind(self) -> Kind:
        return self.focus.kind


@dataclass(frozen=True)
class Fixed:
    """A session outside the week being solved (the previous week's tail) that rules still see."""

    day: date
    focus: Focus
    start: datetime
    end: datetime


@dataclass(frozen=True)
class WeekRules:
    monday: date
    windows: tuple[tuple[tuple[time, time], ...], ...]  # per weekday, parsed windows
    zone: ZoneInfo
    same_day: SameDayRule
    strength_priority: bool
    hard_days_hard: bool
    region_gap_days: int
    rest_days: int
    max_per_day: int
    run_on_lift_day_max: int
    hard_run_gap_hours: float
    fixed: tuple[Fixed, ...] = ()


@dataclass(frozen=True)
class Placed:
    spec: Spec
    weekday: int
    minutes: int  # after R3's cap on a shared day
    start: datetime
    end: datetime
    shares_day: bool


@dataclass(frozen=True)
class Dropped:
    spec: Spec
    reason: str
    rules: tuple[str, ...]


@dataclass(frozen=True)
class WeekLayout:
    placed: tuple[Placed, ...]
    dropped: tuple[Dropped, ...] = ()
    cost: int = 0
    nodes: int = 0
    warnings: tuple[str, ...] = field(default=())


def _regions_clash(a: Focus, b: Focus) -> bool:
    return (a.loads_lower and b.loads_lower) or (a.loads_upper and b.loads_upper)


def _lower_vs_hard(a: Focus, b: Focus) -> bool:
    return (a.loads_lower and b.is_hard_run) or (b.loads_lower and a.is_hard_run)


class _Search:
    def __init__(self, specs: tuple[Spec, ...], rules: WeekRules) -> None:
        self.specs = specs
        self.r = rules
        self.n = len(specs)
        self.order = sorted(
            range(self.n), key=lambda i: (specs[i].kind is not Kind.LIFT, specs[i].importance)
        )
        self.assign: list[int | None] = [None] * self.n
        self.days: list[list[int]] = [[] for _ in range(7)]
        self.best: tuple[int, tuple[int, ...]] | None = None
        self.nodes = 0
        self.prev_lifts = [
            ((f.day - rules.monday).days, f.focus) for f in rules.fixed if f.focus.kind is Kind.LIFT
        ]

    # -- day-level facts ------------------------------------------------------------------
    def _minutes(self, i: int, day_members: Iterable[int]) -> int:
        spec = self.specs[i]
        if (
            self.r.strength_priority
            and spec.kind is Kind.RUN
            and any(self.specs[j].kind is Kind.LIFT for j in day_members if j != i)
        ):
            return min(spec.minutes, self.r.run_on_lift_day_max)  # R3
        return spec.minutes

    def slots(self, wd: int, members: list[int]) -> tuple[Slot, ...]:
        return tuple(Slot(self.specs[i].focus, self._minutes(i, members)) for i in members)

    def times(self, wd: int, members: list[int]) -> tuple[tuple[datetime, datetime], ...] | None:
        return _day_times_cached(
            self.r.monday + timedelta(days=wd),
            self.r.windows[wd],
            self.slots(wd, members),
            self.r.same_day,
            self.r.zone,
        )

    def block_reason(self, i: int, wd: int) -> tuple[str, str] | None:
        """Why spec ``i`` cannot join day ``wd`` now, as (rule id, explanation), or None."""
        spec = self.specs[i]
        members = self.days[wd]
        if wd not in spec.allowed:
            return "P4", "not allowed this close to race day"
        if not self.r.windows[wd]:
            return "S8", "no availability window"
        if len(members) >= self.r.max_per_day:
            return "S7", f"already {len(members)} sessions"
        for j in members:
            other = self.specs[j].focus
            if other.kind is spec.kind:
                return "S7", f"already has a {other.kind} session"
            if _lower_vs_hard(other, spec.focus):
                return "S4", f"{other} and {spec.focus} on one day"
            if self.r.strength_priority:
                run = spec.focus if spec.kind is Kind.RUN else other
                if not run.is_easy_run:
                    return "R3", f"a {run} run cannot share a day with a lift"
        if spec.kind is Kind.LIFT:
            lifts = [(d, self.specs[j].focus) for d in range(7) for j in self.days[d]]
            lifts = [(d, f) for d, f in lifts if f.kind is Kind.LIFT] + self.prev_lifts
            for d, f in lifts:
                if abs(d - wd) < self.r.region_gap_days and _regions_clash(f, spec.focus):
                    day = DAY_NAMES[d % 7] if d >= 0 else f"last {DAY_NAMES[d % 7]}"
                    return "S5", f"{f} lift on {day} loads the same region"
        if not members and self._busy_days() >= 7 - self.r.rest_days:
            return "S6", "would leave no rest day"
        if self.times(wd, [*members, i]) is None:
            what = "the pair" if members else f"{spec.minutes} min"
            return "S8" if not members else "S3", f"windows cannot hold {what}"
        return None

    def _busy_days(self) -> int:
        return sum(1 for d in self.days if d)

    def step_cost(self, i: int, wd: int) -> int:
        spec = self.specs[i]
        cost = 0
        if wd != spec.preferred:
            cost += COST_OFF_TEMPLATE + abs(wd - spec.preferred)
        for j in self.days[wd]:
            other = self.specs[j]
            pair_hard = {spec.kind, other.kind} == {Kind.LIFT, Kind.RUN} and (
                spec.focus in (Focus.INTERVALS, Focus.TEMPO, Focus.LONG)
                or other.focus in (Focus.INTERVALS, Focus.TEMPO, Focus.LONG)
            )
            as_template = wd == spec.preferred == other.preferred
            if not (as_template or (self.r.hard_days_hard and pair_hard)):
                cost += COST_TWO_A_DAY
            if self.r.strength_priority:
                cost += COST_SHARED_STRENGTH
        if spec.focus in (Focus.INTERVALS, Focus.TEMPO, Focus.LONG):
            for d in (wd - 1, wd + 1):
                if 0 <= d < 7 and any(
                    self.specs[j].focus in (Focus.INTERVALS, Focus.TEMPO, Focus.LONG)
                    for j in self.days[d]
                ):
                    cost += COST_ADJACENT_HARD_RUNS
        return cost

    # -- search ---------------------------------------------------------------------------
    def run(self) -> None:
        self._dfs(0, 0)

    def _dfs(self, k: int, cost: int) -> None:
        self.nodes += 1
        if self.best is not None and cost >= self.best[0]:
            return
        if self.nodes > NODE_LIMIT:
            return
        if k == self.n:
            if self._rest_ok() and self._hard_gaps_ok():
                self.best = (cost, tuple(a if a is not None else -1 for a in self.assign))
            return
        i = self.order[k]
        candidates = sorted(
            (cost + self.step_cost(i, wd), wd)
            for wd in sorted(self.specs[i].allowed)
            if self.block_reason(i, wd) is None
        )
        for new_cost, wd in candidates:
            self.assign[i] = wd
            self.days[wd].append(i)
            self._dfs(k + 1, new_cost)
            self.days[wd].pop()
            self.assign[i] = None

    def _rest_ok(self) -> bool:
        return 7 - self._busy_days() >= self.r.rest_days

    def placed_times(self) -> dict[int, tuple[datetime, datetime, int]]:
        out: dict[int, tuple[datetime, datetime, int]] = {}
        for wd in range(7):
            members = self.days[wd]
            if not members:
                continue
            times = self.times(wd, members)
            assert times is not None
            for j, (s, e) in zip(members, times, strict=True):
                out[j] = (s, e, self._minutes(j, members))
        return out

    def _hard_gaps_ok(self) -> bool:
        """S4 at minute level, also against the previous week's tail."""
        times = self.placed_times()
        items = [(self.specs[j].focus, s, e) for j, (s, e, _) in times.items()]
        items += [(f.focus, f.start, f.end) for f in self.r.fixed]
        gap = timedelta(hours=self.r.hard_run_gap_hours)
        for a_focus, a_start, a_end in items:
            if not a_focus.is_hard_run:
                continue
            for b_focus, b_start, b_end in items:
                if b_focus.loads_lower and not (b_start >= a_end + gap or a_start >= b_end + gap):
                    return False
        return True


@cache
def _day_times_cached(
    day: date,
    windows: tuple[tuple[time, time], ...],
    slots: tuple[Slot, ...],
    rule: SameDayRule,
    zone: ZoneInfo,
) -> tuple[tuple[datetime, datetime], ...] | None:
    return day_times(day, windows, slots, rule, zone)


def drop_order(specs: tuple[Spec, ...], strength_priority: bool) -> list[int]:
    """S10: optional easy runs first, then the accessory modality, then the primary one."""
    accessory = Kind.RUN if strength_priority else Kind.LIFT

    def rank(i: int) -> tuple[int, int]:
        s = specs[i]
        if s.focus is Focus.OPTIONAL_EASY:
            return (0, -s.importance)
        return (1 if s.kind is accessory else 2, -s.importance)

    return sorted(range(len(specs)), key=rank)


def solve_week(specs: tuple[Spec, ...], rules: WeekRules) -> WeekLayout:
    """The cheapest layout keeping every hard rule; sessions dropped per S10 only if none exists."""
    remaining = list(specs)
    dropped: list[Dropped] = []
    nodes = 0
    while True:
        search = _Search(tuple(remaining), rules)
        search.run()
        nodes += search.nodes
        if search.best is not None:
            break
        victim_index = drop_order(tuple(remaining), rules.strength_priority)[0]
        victim = remaining.pop(victim_index)
        dropped.append(_explain_drop(victim, tuple(remaining), rules))
    cost, assignment = search.best
    for i, wd in enumerate(assignment):
        search.assign[i] = wd
        search.days[wd].append(i)
    times = search.placed_times()
    placed = tuple(
        Placed(
            spec=search.specs[i],
            weekday=assignment[i],
            minutes=times[i][2],
            start=times[i][0],
            end=times[i][1],
            shares_day=len(search.days[assignment[i]]) > 1,
        )
        for i in range(len(remaining))
    )
    warnings: tuple[str, ...] = ()
    if nodes > NODE_LIMIT:
        warnings = (f"week of {rules.monday}: search stopped at {NODE_LIMIT} nodes",)
    return WeekLayout(placed, tuple(dropped), cost, nodes, warnings)


def _explain_drop(victim: Spec, others: tuple[Spec, ...], rules: WeekRules) -> Dropped:
    """Name, day by day, the rule that kept the dropped session out of the best layout."""
    probe = _Search(others, rules)
    probe.run()
    if probe.best is not None:
        for i, wd in enumerate(probe.best[1]):
            probe.days[wd].append(i)
    probe.specs = (*others, victim)
    probe.n = len(probe.specs)
    idx = len(others)
    parts: list[str] = []
    ids: set[str] = {"S10"}
    for wd in sorted(victim.allowed) or range(7):
        why = probe.block_reason(idx, wd)
        if why is None:
            probe.days[wd].append(idx)
            if not probe._rest_ok():
                why = ("S6", "would leave no rest day")
            else:
                why = ("S4", "too close to a lower-body lift")
            probe.days[wd].pop()
        ids.add(why[0])
        parts.append(f"{WEEKDAYS[wd].capitalize()} {why[0]} ({why[1]})")
    reason = f"no day fits this {victim.focus} session: " + "; ".join(parts) + " (dropped per S10)"
    order = ("S4", "S5", "S6", "S7", "S8", "S10", "P4", "R3", "S3")
    return Dropped(victim, reason, tuple(sorted(ids, key=order.index)))
