"""The exact search behind ``planner.placement``: one week's sessions on concrete slots.

A variable is a session, its values are (day, start) slots in the day's free time, ordered by
cost; :class:`Week` searches days first and then slots, with forward checking over bitset
domains and branch and bound, and :func:`solve` tries S10's drop sets in order. The method and
the objective are described in ``planner.placement``; the words that explain a result are in
``planner.reasons``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from math import ceil
from zoneinfo import ZoneInfo

from planner.busy import BusyInterval
from planner.constraints import Facts, RuleBook, clash_at, near_days, share_day
from planner.drops import drop_order, drop_sets
from planner.freetime import BusyIndex, DayFree, day_free
from planner.model import ExerciseKind, Session

GRID = timedelta(minutes=15)
COST_MOVE = 50_000  # above ten sessions' day and clock distance (10 x 2,087) and 7 pairs
COST_DAY = 300  # one day of distance; above any clock shift (at most 287 five-minute steps)
COST_PAIR = 3_000  # S7: a day shared that the plan did not pair; above one session's distance,
# and seven of them below one move, so fewer moves still comes first
COST_DROP = 10**8  # times 2**rank in S10 order: one more important drop outweighs all others
NODE_LIMIT = 20_000  # per drop set; hitting it is reported as a warning


class Status(StrEnum):
    NEW = "new"  # no previous placement
    KEPT = "kept"  # at its previous time
    MOVED = "moved"  # displaced and re-placed
    PINNED = "pinned"  # moved by the athlete: fixed (S9)
    FROZEN = "frozen"  # in the past or inside the freeze horizon: fixed (S9)
    FIXED = "fixed"  # race day (P4): its date is the goal's, never the placement's


@dataclass(frozen=True, order=True)
class Slot:
    start: datetime  # UTC
    end: datetime  # UTC
    day: date  # local date


@dataclass(frozen=True)
class Placement:
    session_id: str
    start: datetime  # in the plan's zone, with its UTC offset
    end: datetime
    status: Status
    previous: tuple[datetime, datetime] | None
    rules: tuple[str, ...]
    explanation: str
    avoided: tuple[BusyInterval, ...] = ()


# -- the week's problem ------------------------------------------------------------------------
@dataclass
class Item:
    index: int
    session: Session
    duration: timedelta
    previous: Slot | None = None
    candidates: list[tuple[int, Slot]] = field(default_factory=list)


def facts_of(session: Session, rules: RuleBook) -> Facts:
    plyo = any(e.kind is ExerciseKind.PLYOMETRIC for e in session.exercises)
    return Facts.of(session.focus, session.duration_minutes, session.phase, rules, plyo=plyo)


def clash(a: Facts, sa: Slot, b: Facts, sb: Slot, rules: RuleBook) -> str | None:
    """The rule id two placed sessions break together, or None (``planner.constraints``)."""
    return clash_at(a, sa, b, sb, rules)


@lru_cache(maxsize=65536)
def _local_minutes(instant: datetime, zone: ZoneInfo) -> int:
    """The wall-clock minute of an instant; every item of a week asks it of the same grid of
    starts (and of its reference time once per candidate), so it is memoised."""
    local = instant.astimezone(zone)
    return local.hour * 60 + local.minute


def to_slot(start: datetime, end: datetime, zone: ZoneInfo) -> Slot:
    return Slot(start.astimezone(UTC), end.astimezone(UTC), start.astimezone(zone).date())


class Week:
    """One week's search: movable items with slot domains, fixed items as context.

    A domain is a bitset over the item's candidate list (sorted by cost, so the lowest set bit
    is the cheapest value); the slots compatible with "item i at candidate c" are one cached
    mask per other item, so forward checking is a handful of integer ANDs.
    """

    def __init__(
        self,
        movable: list[Item],
        fixed: list[tuple[Facts, Slot]],
        week_days: list[date],
        rules: RuleBook,
        labels: list[str] | None = None,
    ) -> None:
        self.items = movable
        self.facts = [facts_of(it.session, rules) for it in movable]
        self.fixed = fixed
        self.labels = labels or ["a fixed session"] * len(fixed)
        self.rules = rules
        self.reach = rules.reach_days
        self.week_days = set(week_days)
        self.fixed_days = {s.day for _, s in fixed if s.day in self.week_days}
        self.nodes = 0
        self.limit = NODE_LIMIT
        self.gave_up = False
        self.best: tuple[int, tuple[Slot | None, ...]] | None = None
        self.cands = [self._static_domain(i) for i in range(len(movable))]
        self.day_bits: list[dict[date, int]] = []
        for domain in self.cands:
            bits: dict[date, int] = {}
            for n, (_, slot) in enumerate(domain):
                bits[slot.day] = bits.get(slot.day, 0) | (1 << n)
            self.day_bits.append(bits)
        self._masks: dict[tuple[int, int, int], int] = {}

    def _static_domain(self, i: int) -> list[tuple[int, Slot]]:
        f = self.facts[i]
        return [
            (cost, slot)
            for cost, slot in self.items[i].candidates
            if all(clash(f, slot, g, s, self.rules) is None for g, s in self.fixed)
        ]

    def _compatible(self, i: int, ci: int, k: int) -> int:
        """Mask of item ``k``'s candidates that may coexist with item ``i`` at candidate ``ci``."""
        key = (i, ci, k)
        mask = self._masks.get(key)
        if mask is None:
            f, slot = self.facts[i], self.cands[i][ci][1]
            g = self.facts[k]
            mask = (1 << len(self.cands[k])) - 1
            for day, bits in self.day_bits[k].items():
                if abs((day - slot.day).days) > self.reach:
                    continue
                m = bits
                while m:
                    low = m & -m
                    if clash(f, slot, g, self.cands[k][low.bit_length() - 1][1], self.rules):
                        mask &= ~low
                    m ^= low
            self._masks[key] = mask
        return mask

    def _min_cost(self, i: int, domain: int) -> int:
        return self.cands[i][(domain & -domain).bit_length() - 1][0]

    def search(self, excluded: frozenset[int], *, first_only: bool) -> None:
        """Two levels: days first (day-level rules prune whole days of slots at once, so the
        search never thrashes through equivalent clock times), then slots on those days."""
        open_ = [i for i in range(len(self.items)) if i not in excluded]
        if any(not self.cands[i] for i in open_):
            return
        self.limit = self.nodes + NODE_LIMIT
        self._days_dfs(open_, {}, 0, first_only=first_only)

    def _day_clash(self, i: int, day: date, chosen: Mapping[int, date]) -> bool:
        """Day-level rules against the days already chosen and the fixed sessions (S5, S7, R3,
        S4 on one day, L3, G5, P4); the slot search checks the rest to the minute."""
        f = self.facts[i]
        others = [(self.facts[j], d) for j, d in chosen.items()]
        others += [(g, s.day) for g, s in self.fixed]
        if sum(d == day for _, d in others) >= self.rules.max_per_day:
            return True  # S7 counts pins and past sessions too
        for g, d in others:
            if d == day:
                if share_day(f, g, self.rules, may_cap=False) is not None:
                    return True
            elif near_days(f, g, (day - d).days, self.rules) is not None:
                return True
        return False

    def _pair_cost(self, i: int, day: date, chosen: Mapping[int, date]) -> int:
        """S7: sharing a day the planner did not pair costs ``COST_PAIR``."""
        others = [j for j, d in chosen.items() if d == day]
        fixed = any(s.day == day for _, s in self.fixed)
        if not others and not fixed:
            return 0
        planned = self.items[i].session.date == day and all(
            self.items[j].session.date == day for j in others
        )
        return 0 if planned else COST_PAIR

    def _days_dfs(
        self,
        open_: list[int],
        chosen: dict[int, date],
        cost: int,
        *,
        first_only: bool,
        pairs: int = 0,
    ) -> bool:
        self.nodes += 1
        if self.nodes > self.limit:
            self.gave_up = True
            return False
        options: list[tuple[int, int, list[tuple[int, date]]]] = []
        limit = 7 - self.rules.rest_days
        used = (set(chosen.values()) | self.fixed_days) & self.week_days
        for i in open_:
            days = sorted(
                (self._min_cost(i, bits), d)
                for d, bits in self.day_bits[i].items()
                if not self._day_clash(i, d, chosen)
                and (d in used or d not in self.week_days or len(used) < limit)
            )
            if not days:
                return False
            options.append((len(days), i, days))
        bound = cost + pairs + sum(days[0][0] for _, _, days in options)
        if self.best is not None and bound >= self.best[0]:
            return False
        if not options:
            return self._slots(chosen, first_only=first_only, base=pairs)
        _, i, days = min(options, key=lambda o: (o[0], not self.facts[o[1]].lift, o[1]))
        rest = [k for k in open_ if k != i]
        found = False
        for day_cost, day in days:
            if self.best is not None and cost + pairs + day_cost >= self.best[0]:
                break
            extra = self._pair_cost(i, day, chosen)
            chosen[i] = day
            if self._days_dfs(
                rest, chosen, cost + day_cost, first_only=first_only, pairs=pairs + extra
            ):
                found = True
            del chosen[i]
            if (found and first_only) or self.gave_up:
                return found
        return found

    def _slots(self, chosen: dict[int, date], *, first_only: bool, base: int) -> bool:
        domains = [0] * len(self.items)
        for i, day in chosen.items():
            domains[i] = self.day_bits[i][day]
        assign: list[Slot | None] = [None] * len(self.items)
        return self._dfs(assign, sorted(chosen), domains, cost=base, first_only=first_only)

    def _dfs(
        self,
        assign: list[Slot | None],
        open_: list[int],
        domains: list[int],
        *,
        cost: int,
        first_only: bool,
    ) -> bool:
        """Slots for items whose days are chosen (S6 already holds: days are fixed)."""
        self.nodes += 1
        if self.nodes > self.limit:
            self.gave_up = True
            return False
        floor = {k: self._min_cost(k, domains[k]) for k in open_}
        if self.best is not None and cost + sum(floor.values()) >= self.best[0]:
            return False
        if not open_:
            self.best = (cost, tuple(assign))
            return True
        i = min(open_, key=lambda k: (domains[k].bit_count(), not self.facts[k].lift, k))
        rest = [k for k in open_ if k != i]
        rest_floor = sum(floor[k] for k in rest)
        found = False
        m = domains[i]
        while m:
            low = m & -m
            m ^= low
            ci = low.bit_length() - 1
            value_cost, slot = self.cands[i][ci]
            if self.best is not None and cost + value_cost + rest_floor >= self.best[0]:
                break  # values are cost-ordered: no later one can do better
            pruned = list(domains)
            for k in rest:
                pruned[k] = domains[k] & self._compatible(i, ci, k)
                if not pruned[k]:
                    break
            else:
                assign[i] = slot
                done = self._dfs(
                    assign, rest, pruned, cost=cost + value_cost, first_only=first_only
                )
                assign[i] = None
                if done:
                    found = True
                    if first_only:
                        return True
                if self.gave_up:
                    return found
        return found


# -- candidates --------------------------------------------------------------------------------
class Days:
    """Free time per local day, computed once per day."""

    def __init__(self, rules: RuleBook, busy: BusyIndex, not_before: datetime) -> None:
        self.rules = rules
        self.busy = busy
        self.not_before = not_before
        self.cache: dict[date, DayFree] = {}

    def __call__(self, day: date) -> DayFree:
        if day not in self.cache:
            self.cache[day] = day_free(
                day,
                self.rules.windows[day.weekday()],
                zone=self.rules.zone,
                busy=self.busy,
                buffer=self.rules.buffer,
                not_before=self.not_before,
            )
        return self.cache[day]


def _starts(span_start: datetime, span_end: datetime, duration: timedelta) -> list[datetime]:
    last = span_end - duration
    if last < span_start:
        return []
    out = [span_start]
    epoch = datetime(2000, 1, 1, tzinfo=UTC)
    k = ceil((span_start - epoch) / GRID)
    t = epoch + k * GRID
    while t <= last:
        if t != span_start:
            out.append(t)
        t += GRID
    if last != out[-1]:
        out.append(last)
    return out


def add_candidates(
    item: Item,
    week: list[date],
    days: Days,
    rules: RuleBook,
    fixed: Sequence[Slot] = (),
) -> None:
    """Slots for ``item``: the grid and span edges, its previous and planned starts, and the
    starts a fixed neighbour pins down to the minute (its end or start plus or minus a rule's
    gap), so a session that fits only off the grid beside a pin is still found."""
    s = item.session
    zone = rules.zone
    anchor = item.previous
    gaps = {timedelta(0), rules.same_day_gap, rules.hard_gap}
    edges = [f.end + g for f in fixed for g in gaps]
    edges += [f.start - g - item.duration for f in fixed for g in gaps]
    planned = to_slot(s.start, s.start + item.duration, zone) if s.start is not None else None
    out: list[tuple[int, Slot]] = []
    for day in week:
        if (s.not_after is not None and day > s.not_after) or (
            s.not_before is not None and day < s.not_before
        ):
            continue  # P4's last day; a race-week run's own day (P3)
        for a, b in days(day).free:
            starts = _starts(a, b, item.duration)
            for extra in (anchor, planned):
                if extra is not None and extra.day == day and a <= extra.start <= b - item.duration:
                    starts.append(extra.start)
            starts.extend(t for t in edges if a <= t <= b - item.duration)
            for start in sorted(set(starts)):
                slot = Slot(start, start + item.duration, day)
                out.append((_cost(slot, anchor, planned, zone), slot))
    out.sort(key=lambda cs: (cs[0], cs[1].start))
    item.candidates = out


def _cost(slot: Slot, previous: Slot | None, planned: Slot | None, zone: ZoneInfo) -> int:
    ref = previous or planned
    if ref is None:
        return 0
    if previous is not None and slot.start == previous.start:
        return 0
    shift = abs(_local_minutes(slot.start, zone) - _local_minutes(ref.start, zone)) // 5
    cost = COST_DAY * abs((slot.day - ref.day).days) + shift
    return cost + (COST_MOVE if previous is not None else 0)


@dataclass
class Solved:
    slots: list[Slot | None]
    cost: int
    nodes: int
    gave_up: bool
    week: Week


def solve(
    movable: list[Item],
    near: list[tuple[Facts, Slot]],
    week_days: list[date],
    rules: RuleBook,
    labels: list[str] | None = None,
) -> Solved:
    week = Week(movable, near, week_days, rules, labels)
    sessions = [(it.session.focus, it.session.rank, it.session.id) for it in movable]
    order = drop_order(sessions, rules.strength_priority)
    for excluded in drop_sets(order):
        week.best = None
        week.search(excluded, first_only=True)
        if week.best is not None:
            week.search(excluded, first_only=False)
            cost, slots = week.best
            extra = sum(COST_DROP * 2**p for p, i in enumerate(order) if i in excluded)
            return Solved(list(slots), cost + extra, week.nodes, week.gave_up, week)
    raise AssertionError("dropping every session is always feasible")  # pragma: no cover
