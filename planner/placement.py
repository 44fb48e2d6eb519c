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
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from math import ceil
from zoneinfo import ZoneInfo

from planner.busy import BusyInterval
from planner.constraints import Facts, RuleBook, Timed, near_days, share_day, timed_clash
from planner.drops import drop_order, drop_sets
from planner.freetime import BusyIndex, DayFree, day_free
from planner.model import ExerciseKind, Focus, Kind, Plan, Session, Unplaced
from planner.phases import monday_of
from planner.rules import sorted_ids

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


@dataclass(frozen=True)
class PlacementResult:
    placements: tuple[Placement, ...]
    unplaced: tuple[Unplaced, ...]
    warnings: tuple[str, ...] = ()
    suggestions: tuple[str, ...] = ()
    nodes: int = 0

    def by_id(self) -> dict[str, Placement]:
        return {p.session_id: p for p in self.placements}


# -- the week's problem ------------------------------------------------------------------------
@dataclass
class _Item:
    index: int
    session: Session
    duration: timedelta
    previous: Slot | None = None
    candidates: list[tuple[int, Slot]] = field(default_factory=list)


def _facts(session: Session, rules: RuleBook) -> Facts:
    plyo = any(e.kind is ExerciseKind.PLYOMETRIC for e in session.exercises)
    return Facts.of(session.focus, session.duration_minutes, session.phase, rules, plyo=plyo)


def clash(a: Facts, sa: Slot, b: Facts, sb: Slot, rules: RuleBook) -> str | None:
    """The rule id two placed sessions break together, or None (``planner.constraints``)."""
    return timed_clash(
        Timed(a, sa.start, sa.end, sa.day), Timed(b, sb.start, sb.end, sb.day), rules
    )


def _local_minutes(instant: datetime, zone: ZoneInfo) -> int:
    local = instant.astimezone(zone)
    return local.hour * 60 + local.minute


def _to_slot(start: datetime, end: datetime, zone: ZoneInfo) -> Slot:
    return Slot(start.astimezone(UTC), end.astimezone(UTC), start.astimezone(zone).date())


class _Week:
    """One week's search: movable items with slot domains, fixed items as context.

    A domain is a bitset over the item's candidate list (sorted by cost, so the lowest set bit
    is the cheapest value); the slots compatible with "item i at candidate c" are one cached
    mask per other item, so forward checking is a handful of integer ANDs.
    """

    def __init__(
        self,
        movable: list[_Item],
        fixed: list[tuple[Facts, Slot]],
        week_days: list[date],
        rules: RuleBook,
        labels: list[str] | None = None,
    ) -> None:
        self.items = movable
        self.facts = [_facts(it.session, rules) for it in movable]
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
class _Days:
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


def _candidates(
    item: _Item,
    week: list[date],
    days: _Days,
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
    planned = _to_slot(s.start, s.start + item.duration, zone) if s.start is not None else None
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


# -- the engine --------------------------------------------------------------------------------
@dataclass
class _Run:
    """What one call of ``place`` accumulates week by week."""

    rules: RuleBook
    days: _Days
    now: datetime
    prev: dict[str, tuple[datetime, datetime]]
    pins: dict[str, tuple[datetime, datetime]]
    frozen_before: datetime
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
) -> PlacementResult:
    """Place ``sessions`` (the planner's, with their planned day and time) around ``busy``.

    ``previous`` is the last placement (session id -> start, end), ``pinned`` the sessions the
    athlete moved by hand; sessions whose previous start is before ``freeze_until`` (default
    ``now``) stay where they are, and nothing new is placed before ``now``.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    index = busy if isinstance(busy, BusyIndex) else BusyIndex.build(busy)
    run = _Run(
        rules=rules,
        days=_Days(rules, index, now),
        now=now,
        prev=dict(previous or {}),
        pins=dict(pinned or {}),
        frozen_before=(freeze_until or now).astimezone(UTC),
    )
    weeks: dict[date, list[Session]] = {}
    for s in sorted(sessions, key=lambda s: (s.date, s.id)):
        weeks.setdefault(monday_of(s.date), []).append(s)
    # pinned and frozen sessions of every week constrain their neighbours across week borders
    for s in sessions:
        pre = _fixed_slot(s, run)
        if pre is not None:
            run.context.append((_facts(s, rules), pre[0], s))
    for monday in sorted(weeks):
        _place_week(run, monday, weeks[monday])
    for s_id in run.pins:
        if s_id in run.placed:
            run.warnings.extend(_pin_warnings(run.placed[s_id], sessions, run.placed, index, rules))
    run.warnings.extend(_rest_day_warnings(run.placed, rules))
    run.warnings.extend(_two_a_day_warnings(sessions, run.placed, rules))
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
    movable: list[_Item] = []
    for s in sessions:
        fixed = _fixed_slot(s, run)
        if fixed is not None:
            slot, status = fixed
            run.placed[s.id] = _fixed_placement(s, slot, status, run.prev.get(s.id), zone)
            continue
        item = _Item(len(movable), s, timedelta(minutes=s.duration_minutes))
        if s.id in run.prev:
            item.previous = _to_slot(*run.prev[s.id], zone)
        _candidates(item, week_days, run.days, rules, [slot for _, slot, _ in close])
        movable.append(item)
    near = [(f, slot) for f, slot, _ in close]
    labels = [_label(s, run.pins) for _, _, s in close]
    solved = _solve(movable, near, week_days, rules, labels)
    run.nodes += solved.nodes
    if solved.gave_up:
        run.warnings.append(
            f"week of {monday}: the search hit its {NODE_LIMIT}-node bound; "
            "the placement keeps every rule but may move more than needed"
        )
    for item, chosen in zip(movable, solved.slots, strict=True):
        s = item.session
        if chosen is None:
            run.unplaced.append(_explain_unplaced(item, solved, run.days, rules, run.now))
            problem = _Problem(movable, near, week_days, rules, labels, run.days)
            run.suggestions.extend(_suggest(item, solved, problem))
            continue
        run.context.append((_facts(s, rules), chosen, s))
        run.placed[s.id] = _placement(item, chosen, solved, run.days, rules)


def _fixed_slot(s: Session, run: _Run) -> tuple[Slot, Status] | None:
    zone = run.rules.zone
    if s.kind is Kind.RACE and s.start is not None and s.end is not None:
        return _to_slot(s.start, s.end, zone), Status.FIXED
    if s.id in run.pins:
        return _to_slot(*run.pins[s.id], zone), Status.PINNED
    if s.id in run.prev and run.prev[s.id][0].astimezone(UTC) < run.frozen_before:
        return _to_slot(*run.prev[s.id], zone), Status.FROZEN
    return None


@dataclass
class _Solved:
    slots: list[Slot | None]
    cost: int
    nodes: int
    gave_up: bool
    week: _Week


def _label(s: Session, pins: Mapping[str, tuple[datetime, datetime]]) -> str:
    return f"your pinned {s.title}" if s.id in pins else s.title


def _solve(
    movable: list[_Item],
    near: list[tuple[Facts, Slot]],
    week_days: list[date],
    rules: RuleBook,
    labels: list[str] | None = None,
) -> _Solved:
    week = _Week(movable, near, week_days, rules, labels)
    sessions = [(it.session.focus, it.session.rank, it.session.id) for it in movable]
    order = drop_order(sessions, rules.strength_priority)
    for excluded in drop_sets(order):
        week.best = None
        week.search(excluded, first_only=True)
        if week.best is not None:
            week.search(excluded, first_only=False)
            cost, slots = week.best
            extra = sum(COST_DROP * 2**p for p, i in enumerate(order) if i in excluded)
            return _Solved(list(slots), cost + extra, week.nodes, week.gave_up, week)
    raise AssertionError("dropping every session is always feasible")  # pragma: no cover


# -- explanations ------------------------------------------------------------------------------
def _clock(instant: datetime, zone: ZoneInfo) -> str:
    return instant.astimezone(zone).strftime("%a %H:%M")


def _span_text(b: BusyInterval, zone: ZoneInfo) -> str:
    a, e = b.start.astimezone(zone), b.end.astimezone(zone)
    end = e.strftime("%H:%M") if a.date() == e.date() else e.strftime("%a %H:%M")
    return f"'{b.summary or 'busy'}' {a.strftime('%H:%M')}-{end}"


def _why_not(
    item: _Item, slot: Slot, week: _Week, assigned: Mapping[int, Slot], days: _Days
) -> tuple[str, str]:
    """Why ``item`` cannot be at ``slot``: the busy event or rule, as (rule id, sentence)."""
    rules = week.rules
    zone = rules.zone
    free = days(slot.day)
    if not any(a <= slot.start and slot.end <= b for a, b in free.windows):
        return "S8", "outside the availability windows"
    for b in days.busy.overlapping(slot.start - rules.buffer, slot.end + rules.buffer):
        return "S8", f"{_span_text(b, zone)} is busy"
    if slot.start < days.not_before:
        return "S9", "that time has passed"
    f = _facts(item.session, rules)
    # fixed sessions first: a pin or a past session is the cause, the others only followed
    others = [(g, s, label) for (g, s), label in zip(week.fixed, week.labels, strict=True)]
    others += [(week.facts[j], s, week.items[j].session.title) for j, s in assigned.items()]
    for g, s, title in others:
        rule = clash(f, slot, g, s, rules)
        if rule is not None:
            return rule, f"{_RULE_WORDS[rule]} {title} at {_clock(s.start, zone)}"
    return "S10", "another session needed that time"


_RULE_WORDS = {
    "S2": "S2 puts it on the other side of",
    "S3": "S3 keeps the same-day gap from",
    "S4": "S4 keeps 8 h from",
    "S5": "S5 keeps two days from",
    "S7": "S7 allows no second session of its kind beside",
    "R3": "R3 allows only a short easy run beside",
    "G5": "G5 keeps a day between hard runs, away from",
    "L3": "L3 keeps plyometrics off a day that starts with",
    "P4": "P4 keeps race day clear of",
}


def _binding(item: _Item, slot: Slot, week: _Week, assigned: Mapping[int, Slot]) -> list[str]:
    """The rules that hold the chosen slot where it is (a neighbour right at the limit)."""
    rules = week.rules
    zone = rules.zone
    f = _facts(item.session, rules)
    out: list[str] = []
    earlier = Slot(slot.start - GRID, slot.end - GRID, slot.day)
    others = [(week.facts[j], s, week.items[j].session.title) for j, s in assigned.items()]
    others += [(g, s, label) for (g, s), label in zip(week.fixed, week.labels, strict=True)]
    for g, s, title in others:
        if s == slot:
            continue
        rule = clash(f, earlier, g, s, rules)
        if rule is not None and clash(f, slot, g, s, rules) is None:
            out.append(f"{rule} keeps it clear of {title} at {_clock(s.start, zone)}")
    return out


def _assigned(solved: _Solved, skip: int) -> dict[int, Slot]:
    return {j: s for j, s in enumerate(solved.slots) if s is not None and j != skip}


def _placement(item: _Item, slot: Slot, solved: _Solved, days: _Days, rules: RuleBook) -> Placement:
    zone = rules.zone
    s = item.session
    assigned = _assigned(solved, item.index)
    free = days(slot.day)
    avoided = tuple(b for b in free.busy)
    rule_ids = set(s.rules) | {"S8"}
    binding = _binding(item, slot, solved.week, assigned)
    rule_ids |= {b.split()[0] for b in binding}
    when = _clock(slot.start, zone)
    if item.previous is not None and slot.start == item.previous.start:
        status, text = Status.KEPT, f"kept at {when}"
    elif item.previous is not None:
        rule, why = _why_not(item, item.previous, solved.week, assigned, days)
        rule_ids |= {rule, "S10"}
        where = "same day" if slot.day == item.previous.day else "nearest day with room"
        text = f"moved from {_clock(item.previous.start, zone)} to {when}: {why}; {where}"
        status = Status.MOVED
    else:
        status = Status.NEW
        planned = s.start
        if planned is not None and slot.start == planned.astimezone(UTC):
            text = f"placed {when}, the planned time"
        elif planned is not None:
            ref = _to_slot(planned, planned + item.duration, zone)
            rule, why = _why_not(item, ref, solved.week, assigned, days)
            rule_ids.add(rule)
            text = f"placed {when} instead of the planned {_clock(planned, zone)}: {why}"
        else:
            text = f"placed {when}"
    if binding:
        text += "; " + "; ".join(binding)
    if avoided:
        text += "; avoids " + ", ".join(_span_text(b, zone) for b in avoided[:4])
        if len(avoided) > 4:
            text += f" and {len(avoided) - 4} more"
    previous = (
        (item.previous.start.astimezone(zone), item.previous.end.astimezone(zone))
        if item.previous
        else None
    )
    return Placement(
        s.id,
        slot.start.astimezone(zone),
        slot.end.astimezone(zone),
        status,
        previous,
        sorted_ids(frozenset(rule_ids)),
        text,
        avoided,
    )


def _fixed_placement(
    s: Session,
    slot: Slot,
    status: Status,
    previous: tuple[datetime, datetime] | None,
    zone: ZoneInfo,
) -> Placement:
    what = {
        Status.PINNED: "moved there by you (S9)",
        Status.FIXED: "race day (P4)",
    }.get(status, "already under way or past (S9)")
    rule = "P4" if status is Status.FIXED else "S9"
    at = f"on {slot.day:%a %d %b}" if s.all_day else f"at {_clock(slot.start, zone)}"
    return Placement(
        s.id,
        slot.start.astimezone(zone),
        slot.end.astimezone(zone),
        status,
        previous,
        sorted_ids(frozenset(set(s.rules) | {rule})),
        f"stays {at}: {what}",
    )


def _explain_unplaced(
    item: _Item, solved: _Solved, days: _Days, rules: RuleBook, now: datetime
) -> Unplaced:
    s = item.session
    zone = rules.zone
    week_days = sorted(solved.week.week_days)
    if all(d < now.astimezone(zone).date() for d in week_days):
        return Unplaced(s.id, "its week is in the past (S9)", ("S9",))
    assigned = _assigned(solved, item.index)
    parts: list[str] = []
    ids: set[str] = {"S10"}
    for day in week_days:
        name = day.strftime("%a")
        if s.not_after is not None and day > s.not_after:
            parts.append(f"{name} P4 (too close to race day)")
            ids.add("P4")
            continue
        if s.not_before is not None and day < s.not_before:
            parts.append(f"{name} P3 (its text names {s.not_before:%a} as the day)")
            ids.add("P3")
            continue
        options = [slot for _, slot in item.candidates if slot.day == day]
        if not days(day).windows:
            parts.append(f"{name} S8 (no availability)")
            ids.add("S8")
            continue
        if not options:
            busy = days(day).busy
            why = f"busy: {_span_text(busy[0], zone)}" if busy else "no window holds it"
            parts.append(f"{name} S8 ({why})")
            ids.add("S8")
            continue
        taken = {sl.day for sl in assigned.values()} | solved.week.fixed_days
        if day not in taken and len(taken & solved.week.week_days) >= 7 - rules.rest_days:
            parts.append(f"{name} S6 (would leave no rest day)")
            ids.add("S6")
            continue
        rule, why = _why_not(item, options[0], solved.week, assigned, days)
        ids.add(rule)
        parts.append(f"{name} {rule} ({why})")
    reason = f"no slot this week for {s.title}: " + "; ".join(parts) + " (dropped per S10)"
    return Unplaced(s.id, reason, sorted_ids(frozenset(ids)))


@dataclass(frozen=True)
class _Problem:
    movable: list[_Item]
    near: list[tuple[Facts, Slot]]
    week_days: list[date]
    rules: RuleBook
    labels: list[str]
    days: _Days


def _suggest(item: _Item, solved: _Solved, problem: _Problem) -> list[str]:
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
                    f"({_clock(shorter.start, problem.rules.zone)})"
                )
                break
    optional = [it for it in problem.movable if it.session.focus is Focus.OPTIONAL_EASY]
    if optional and all(solved.slots[it.index] is not None for it in optional):
        out.append(f"{s.id}: drop the optional easy run to make room")
    return out


def _retry_with(item: _Item, problem: _Problem, minutes: int) -> Slot | None:
    shorter = replace(item.session, duration_minutes=minutes, focus=Focus.EASY)
    clone = _Item(item.index, shorter, timedelta(minutes=minutes), previous=item.previous)
    _candidates(clone, problem.week_days, problem.days, problem.rules, [f for _, f in problem.near])
    if not clone.candidates:
        return None
    items = [clone if it.index == item.index else it for it in problem.movable]
    solved = _solve(items, problem.near, problem.week_days, problem.rules, problem.labels)
    return solved.slots[item.index]


def _pin_warnings(
    pin: Placement,
    sessions: Sequence[Session],
    placed: Mapping[str, Placement],
    busy: BusyIndex,
    rules: RuleBook,
) -> list[str]:
    """A pinned session stays even when it breaks a rule (S9); say which rule it breaks."""
    by_id = {s.id: s for s in sessions}
    me = by_id[pin.session_id]
    mine = _to_slot(pin.start, pin.end, rules.zone)
    out: list[str] = []
    for other in placed.values():
        if other.session_id <= pin.session_id and other.status is Status.PINNED:
            continue  # each pair of pins is reported once
        theirs = _to_slot(other.start, other.end, rules.zone)
        rule = clash(_facts(me, rules), mine, _facts(by_id[other.session_id], rules), theirs, rules)
        if rule is not None:
            out.append(
                f"pinned {pin.session_id} at {_clock(pin.start, rules.zone)} breaks {rule} "
                f"with {other.session_id} at {_clock(other.start, rules.zone)}; kept as you "
                "placed it (S9)"
            )
    windows = day_free(
        mine.day,
        rules.windows[mine.day.weekday()],
        zone=rules.zone,
        busy=busy,
        buffer=timedelta(0),
        not_before=None,
    ).windows
    if not any(a <= mine.start and mine.end <= b for a, b in windows):
        out.append(
            f"pinned {pin.session_id} at {_clock(pin.start, rules.zone)} is outside the "
            "availability windows (S8); kept as you placed it (S9)"
        )
    for b in busy.overlapping(mine.start - rules.buffer, mine.end + rules.buffer):
        touch = (
            "overlaps" if b.start < mine.end and mine.start < b.end else "is within the buffer of"
        )
        out.append(
            f"pinned {pin.session_id} {touch} {_span_text(b, rules.zone)} (S8); "
            "kept as you placed it (S9)"
        )
    if me.not_after is not None and mine.day > me.not_after:
        out.append(
            f"pinned {pin.session_id} on {mine.day:%a %d %b} is after its last allowed day "
            f"{me.not_after:%a %d %b} (P4); kept as you placed it (S9)"
        )
    return out


def _rest_day_warnings(placed: Mapping[str, Placement], rules: RuleBook) -> list[str]:
    """S6 over whole weeks: only pins can break it (the search keeps it for everything else)."""
    weeks: dict[date, set[date]] = {}
    pinned_weeks: set[date] = set()
    for p in placed.values():
        day = p.start.astimezone(rules.zone).date()
        weeks.setdefault(monday_of(day), set()).add(day)
        if p.status is Status.PINNED:
            pinned_weeks.add(monday_of(day))
    return [
        f"week of {monday}: your pinned sessions leave {7 - len(days)} rest days, "
        f"fewer than {rules.rest_days} (S6); kept as you placed them (S9)"
        for monday, days in sorted(weeks.items())
        if monday in pinned_weeks and 7 - len(days) < rules.rest_days
    ]


def _two_a_day_warnings(
    sessions: Sequence[Session], placed: Mapping[str, Placement], rules: RuleBook
) -> list[str]:
    """S7: a day that now holds two sessions the plan had on different days (busy time left no
    other room) is named, as the planner names its own compromises."""
    planned = {s.id: s.date for s in sessions}
    by_day: dict[date, list[Placement]] = {}
    for p in placed.values():
        by_day.setdefault(p.start.astimezone(rules.zone).date(), []).append(p)
    out = []
    for day, items in sorted(by_day.items()):
        if len(items) < 2 or all(planned.get(p.session_id) == day for p in items):
            continue
        if all(p.status in (Status.PINNED, Status.FROZEN) for p in items):
            continue
        names = " and ".join(p.session_id for p in sorted(items, key=lambda p: p.session_id))
        out.append(
            f"week of {monday_of(day)}: {day:%a} holds {names}: busy time left no other day "
            "for them (S7)"
        )
    return out


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
