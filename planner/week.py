"""Which day each session of a week goes on: a complete search over days, in two stages.

Why a search and not a template lookup: a template (R2, R5) only says what the athlete would do
with every day free. Real availability removes days, and then the day-level rules interact: two
lifts of one region need two days between them (S5), even across the week boundary; intervals
and tempo stay 8 h clear of leg days (S4); a lift shares a day with a run only when nothing else
fits (S1, S7), and then only with an easy run of at most 40 minutes (R3); a day stays free (S6).
A greedy pass fails weeks that have a valid layout, so the search is complete:

1. **Which sessions** (S10). Drop sets are tried in S10 order (none; the optional easy run; then
   the accessory modality's least important session; ...). For each, a depth-first search with
   forward checking (the open session with the fewest legal days goes next; a branch dies when
   any open session has no day left) and memoised dead states decides feasibility exactly. A
   matching bound (how many lift/run pairs may share a day) discards hopeless sets first.
2. **Which days** among the valid layouts: branch and bound on the soft costs (template
   deviation, two-a-days, S1's shared days, back-to-back hard runs), starting from the first
   valid layout found, with an admissible bound, for at most ``POLISH_NODE_LIMIT`` nodes. Every
   layout it returns keeps every hard rule; the budget only limits how hard it polishes the
   soft preferences in pathological weeks (4 lifts + 6 runs).

Weeks repeat within a phase, so results are memoised by a week-relative signature.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from datetime import date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from config.models import WEEKDAYS
from planner.constraints import (
    QUALITY_RUNS,
    Facts,
    Timed,
    endorsed_two_a_day,
    near_days,
    share_day,
    shared_run_minutes,
    too_close_for_s4,
)
from planner.daytimes import SameDayRule, Slot, day_times
from planner.drops import drop_order, drop_sets
from planner.model import Focus, Kind, PhaseName
from planner.rules import sorted_ids
from planner.week_types import Dropped, Placed, Spec, WeekLayout, WeekRules

NODE_LIMIT = 50_000  # feasibility, per drop set; see solve_week's warning
POLISH_NODE_LIMIT = 3_000  # cost minimisation once a valid layout is known
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

# soft-rule penalties; hard rules are never priced
COST_OFF_TEMPLATE = 2  # plus one per day of distance
COST_TWO_A_DAY = 10_000  # S7: above every other preference, so a day is shared only when needed
COST_SHARED_STRENGTH = 100  # S1
COST_ADJACENT_HARD_RUNS = 8  # spread the hard runs (R5/R2 templates do)
DROP = -1


class _Search:
    """One week's search state: ``days[wd]`` lists the spec indexes placed on weekday ``wd``."""

    def __init__(
        self, specs: tuple[Spec, ...], rules: WeekRules, excluded: frozenset[int] = frozenset()
    ) -> None:
        self.specs = specs
        self.r = rules
        self.n = len(specs)
        self.excluded = excluded
        self.assign: list[int | None] = [None] * self.n
        self.days: list[list[int]] = [[] for _ in range(7)]
        self.best: tuple[int, tuple[int, ...]] | None = None
        self.nodes = 0
        book = rules.book
        self.book = book
        self.facts = [Facts.of(s.focus, s.minutes, s.phase, book) for s in specs]
        self.prev = [
            ((f.day - rules.monday).days, Facts.of(f.focus, 0, f.phase, book)) for f in rules.fixed
        ]
        self.hard_gap = book.hard_gap
        week_start = datetime.combine(rules.monday, time(0), rules.zone)
        self.fixed_timed = [
            Timed(g, f.start, f.end, f.day)
            for (_, g), f in zip(self.prev, rules.fixed, strict=True)
        ]
        self.fixed_near = [
            x
            for x in self.fixed_timed
            if x.end + self.hard_gap > week_start and (x.facts.lower or x.facts.hard)
        ]
        # the rule facts as flat lists: the search asks them millions of times
        self.is_lift = [f.lift for f in self.facts]
        self.lower = [f.lower for f in self.facts]
        self.hard = [f.hard for f in self.facts]
        self.quality = [s.focus in QUALITY_RUNS for s in specs]
        self._timed_cache: dict[tuple[int, tuple[int, ...]], list[Timed]] = {}
        self._times: dict[
            tuple[int, tuple[int, ...]], tuple[tuple[datetime, datetime], ...] | None
        ] = {}
        self.dead: set[tuple[tuple[tuple[Focus, int, frozenset[int], PhaseName], ...], ...]] = set()
        self.gave_up = False
        self.limit = NODE_LIMIT

    # -- day-level facts ------------------------------------------------------------------
    def _minutes(self, i: int, day_members: Iterable[int]) -> int:
        spec = self.specs[i]
        if spec.kind is Kind.RUN and any(self.is_lift[j] for j in day_members if j != i):
            return shared_run_minutes(spec.minutes, self.book)  # R3
        return spec.minutes

    def slots(self, wd: int, members: list[int]) -> tuple[Slot, ...]:
        return tuple(Slot(self.specs[i].focus, self._minutes(i, members)) for i in members)

    def times(self, wd: int, members: list[int]) -> tuple[tuple[datetime, datetime], ...] | None:
        key = (wd, tuple(members))
        if key not in self._times:
            phases = {self.specs[i].phase for i in members}
            phase = PhaseName.BUILD if phases & self.book.run_first_phases else PhaseName.BASE
            self._times[key] = _day_times_cached(
                self.r.monday + timedelta(days=wd),
                self.r.windows[wd],
                self.slots(wd, members),
                self.book.same_day(phase),
                self.r.zone,
            )
        return self._times[key]

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
        f = self.facts[i]
        for j in members:
            rule = share_day(f, self.facts[j], self.book, may_cap=True)
            if rule is not None:
                return rule, _SHARE_WORDS[rule].format(self.specs[j].focus, spec.focus)
        reach = self.book.reach_days
        for d in range(max(0, wd - reach), min(7, wd + reach + 1)):
            if d == wd:
                continue
            for j in self.days[d]:
                rule = near_days(f, self.facts[j], wd - d, self.book)
                if rule is not None:
                    return rule, f"{self.specs[j].focus} on {DAY_NAMES[d]}"
        for d, g in self.prev:
            rule = near_days(f, g, wd - d, self.book)
            if rule is not None:
                return rule, f"last week's {DAY_NAMES[d % 7]}"
        if not members and self._busy_days() >= 7 - self.r.rest_days:
            return "S6", "would leave no rest day"
        if self.times(wd, [*members, i]) is None:
            what = "the pair" if members else f"{spec.minutes} min"
            return "S8" if not members else "S3", f"windows cannot hold {what}"
        if self.lower[i] or self.hard[i] or members:
            members.append(i)
            near = self._s4_ok_around(wd)
            members.pop()
            if not near:
                return "S4", "within 8 h of a lower-body lift / hard run"
        return None

    def _timed(self, wd: int) -> list[Timed]:
        """The sessions on ``wd`` at their day-level times, memoised per content."""
        members = self.days[wd]
        if not members:
            return []
        key = (wd, tuple(members))
        found = self._timed_cache.get(key)
        if found is None:
            times = self.times(wd, members) or ()
            day = self.r.monday + timedelta(days=wd)
            found = [
                Timed(self.facts[j], a, b, day) for j, (a, b) in zip(members, times, strict=False)
            ]
            self._timed_cache[key] = found
        return found

    def _s4_ok_around(self, wd: int) -> bool:
        """S4 at minute level between day ``wd`` and its neighbours (and last week's tail)."""
        here = self._timed(wd)
        if not any(x.facts.lower or x.facts.hard for x in here):
            return True
        near = [*here, *self.fixed_near]
        if wd > 0:
            near += self._timed(wd - 1)
        if wd < 6:
            near += self._timed(wd + 1)
        return not any(too_close_for_s4(x, y, self.book) for x in here for y in near)

    def _busy_days(self) -> int:
        return sum(1 for d in self.days if d)

    def endorsed_pair(self, i: int, j: int, wd: int) -> bool:
        """S7: hard_days_hard puts the lift on a hard-run day (and keeps R5's own pairs); any
        other pair is a compromise."""
        as_template = wd == self.specs[i].preferred == self.specs[j].preferred
        foci = (self.specs[i].focus, self.specs[j].focus)
        return endorsed_two_a_day(foci, as_template=as_template, book=self.book)

    def step_cost(self, i: int, wd: int) -> int:
        spec = self.specs[i]
        cost = 0
        if wd != spec.preferred:
            cost += COST_OFF_TEMPLATE + abs(wd - spec.preferred)
        for j in self.days[wd]:
            if not self.endorsed_pair(i, j, wd):
                cost += COST_TWO_A_DAY
            if self.r.strength_priority:
                cost += COST_SHARED_STRENGTH
        if self.quality[i]:
            for d in (wd - 1, wd + 1):
                if 0 <= d < 7 and any(self.quality[j] for j in self.days[d]):
                    cost += COST_ADJACENT_HARD_RUNS
        return cost

    # -- search ---------------------------------------------------------------------------
    def run(self, *, first_only: bool) -> None:
        self.limit = self.nodes + (NODE_LIMIT if first_only else POLISH_NODE_LIMIT)
        self._dfs(0, first_only=first_only)

    def _open(self) -> list[int]:
        return [i for i in range(self.n) if self.assign[i] is None and i not in self.excluded]

    def _dfs(self, cost: int, *, first_only: bool) -> bool:
        """Depth-first with forward checking: the open session with the fewest days goes next,
        and a branch dies as soon as some open session has no day left."""
        self.nodes += 1
        if self.nodes > self.limit:
            self.gave_up = first_only
            return False
        if self.best is not None and cost >= self.best[0]:
            return False
        state = self._state() if first_only else None
        if state is not None and state in self.dead:
            return False
        found = self._branch(cost, first_only=first_only)
        if state is not None and not found:
            self.dead.add(state)  # same sessions on the same days: fails again, whoever they are
        return found

    def _state(self) -> tuple[tuple[tuple[Focus, int, frozenset[int], PhaseName], ...], ...]:
        return tuple(
            tuple(
                sorted(
                    (
                        self.specs[j].focus,
                        self.specs[j].minutes,
                        self.specs[j].allowed,
                        self.specs[j].phase,
                    )
                    for j in members
                )
            )
            for members in self.days
        )

    def _branch(self, cost: int, *, first_only: bool) -> bool:
        open_ = self._open()
        if not open_:
            if self.rest_ok() and self.hard_gaps_ok():
                self.best = (cost, tuple(DROP if a is None else a for a in self.assign))
                return True
            return False
        options: list[tuple[int, int, list[tuple[int, int]]]] = []
        for i in open_:
            days = [
                (self.step_cost(i, wd), wd)
                for wd in sorted(self.specs[i].allowed)
                if self.block_reason(i, wd) is None
            ]
            if not days:
                return False
            options.append((len(days), i, days))
        if self.best is not None and self._bound(cost, options, len(open_)) >= self.best[0]:
            return False
        _, i, days = min(
            options, key=lambda o: (o[0], self.specs[o[1]].kind is not Kind.LIFT, o[1])
        )
        for step, wd in sorted(days):
            self.assign[i] = wd
            self.days[wd].append(i)
            found = self._dfs(cost + step, first_only=first_only)
            self.days[wd].pop()
            self.assign[i] = None
            if found and first_only:
                return True
        return False

    def _bound(
        self, cost: int, options: list[tuple[int, int, list[tuple[int, int]]]], n_open: int
    ) -> int:
        """Admissible: step costs only grow as a week fills, and sessions beyond the days still
        free must share one, which costs S1's penalty under strength priority."""
        bound = cost + sum(min(step for step, _ in days) for _, _, days in options)
        free = min(7 - self.r.rest_days, sum(1 for w in self.r.windows if w))
        forced = max(0, n_open - max(0, free - self._busy_days()))
        if self.r.strength_priority:
            bound += forced * COST_SHARED_STRENGTH
        if not self.book.hard_days_hard:
            bound += forced * COST_TWO_A_DAY
        return bound

    def rest_ok(self) -> bool:
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

    def hard_gaps_ok(self) -> bool:
        """S4 at minute level, also against the previous week's tail."""
        items = [
            Timed(self.facts[j], s, e, s.astimezone(self.r.zone).date())
            for j, (s, e, _) in self.placed_times().items()
        ]
        items += self.fixed_timed
        return not any(
            too_close_for_s4(x, y, self.book) for x in items if x.facts.hard for y in items
        )


@cache
def _day_times_cached(
    day: date,
    windows: tuple[tuple[time, time], ...],
    slots: tuple[Slot, ...],
    rule: SameDayRule,
    zone: ZoneInfo,
) -> tuple[tuple[datetime, datetime], ...] | None:
    return day_times(day, windows, slots, rule, zone)


_SHARE_WORDS = {
    "P4": "race day holds nothing else ({} and {})",
    "S7": "already has a {} session, no second {}",
    "R3": "a {1} run cannot share a day with a lift",
    "S4": "{} and {} on one day",
    "L3": "plyometrics need fresh legs: {} after {}",
}


def _max_pairs(lifts: list[Facts], runs: list[Facts], rules: WeekRules) -> int:
    """Maximum matching of lifts to runs that may share a day (augmenting paths; tiny graph)."""
    match: dict[int, int] = {}

    def augment(li: int, seen: set[int]) -> bool:
        for ri, run in enumerate(runs):
            if ri in seen or share_day(lifts[li], run, rules.book, may_cap=True) is not None:
                continue
            seen.add(ri)
            if ri not in match or augment(match[ri], seen):
                match[ri] = li
                return True
        return False

    return sum(augment(li, set()) for li in range(len(lifts)))


def _could_fit(specs: tuple[Spec, ...], rules: WeekRules, excluded: frozenset[int]) -> bool:
    """Necessary counts, so hopeless drop sets never reach the search: lifts and runs each need
    their own days, and a lift and a run share a day only when S4 and R3 allow it."""
    open_days = [wd for wd in range(7) if rules.windows[wd]]
    kept = [s for i, s in enumerate(specs) if i not in excluded]
    usable = min(len(open_days), 7 - rules.rest_days)
    lifts = [Facts.of(s.focus, s.minutes, s.phase, rules.book) for s in kept if s.kind is Kind.LIFT]
    runs = [Facts.of(s.focus, s.minutes, s.phase, rules.book) for s in kept if s.kind is Kind.RUN]
    if len(lifts) > usable or len(runs) > usable:
        return False
    shared = _max_pairs(lifts, runs, rules) if rules.max_per_day > 1 else 0
    return len(lifts) + len(runs) - shared <= usable


def _week_signature(specs: tuple[Spec, ...], rules: WeekRules) -> Hashable:
    """Everything the search depends on, relative to the week: two weeks with the same
    signature have the same best layout (the same sessions on the same weekdays)."""
    zone = rules.zone
    offsets = tuple(
        (
            datetime.combine(rules.monday + timedelta(days=d), time(0), zone).utcoffset(),
            datetime.combine(rules.monday + timedelta(days=d), time(23, 59), zone).utcoffset(),
        )
        for d in range(7)
    )
    origin = datetime.combine(rules.monday, time(0), zone)
    fixed = tuple(
        ((f.day - rules.monday).days, f.focus, f.phase, f.start - origin, f.end - origin)
        for f in rules.fixed
    )
    shape = tuple(
        (s.focus, s.minutes, s.preferred, s.importance, s.allowed, s.phase) for s in specs
    )
    return (shape, rules.book, offsets, fixed)


_LAYOUTS: dict[Hashable, tuple[tuple[int, ...], int, int, bool]] = {}
_LAYOUT_CACHE_SIZE = 4096


def solve_week(specs: tuple[Spec, ...], rules: WeekRules) -> WeekLayout:
    """The cheapest layout keeping every hard rule; sessions are dropped (S10) only when no
    layout holds them all: optional easy runs first, then the accessory modality.

    Weeks of one phase are mostly alike, so layouts are memoised by ``_week_signature``."""
    key = _week_signature(specs, rules)
    hit = _LAYOUTS.get(key)
    if hit is None:
        hit = _search_week(specs, rules)
        if len(_LAYOUTS) >= _LAYOUT_CACHE_SIZE:
            _LAYOUTS.clear()
        _LAYOUTS[key] = hit
    assignment, cost, nodes, gave_up = hit
    search = _Search(specs, rules)
    return _layout(search, assignment, cost, nodes, gave_up)


def _search_week(
    specs: tuple[Spec, ...], rules: WeekRules
) -> tuple[tuple[int, ...], int, int, bool]:
    order = drop_order([(x.focus, x.importance, x.key) for x in specs], rules.strength_priority)
    nodes = 0
    gave_up = False
    search = _Search(specs, rules)
    for excluded in drop_sets(order):
        if not _could_fit(specs, rules, excluded):
            continue
        search = _Search(specs, rules, excluded)
        search.run(first_only=True)
        if search.best is not None:
            search.run(first_only=False)  # now minimise the layout cost for this set
        nodes += search.nodes
        gave_up = gave_up or search.gave_up
        if search.best is not None:
            break
    if search.best is None:  # pragma: no cover - dropping everything is always a layout
        raise RuntimeError(f"week of {rules.monday}: no layout")
    cost, assignment = search.best
    return assignment, cost, nodes, gave_up


def _layout(
    search: _Search, assignment: tuple[int, ...], cost: int, nodes: int, gave_up: bool
) -> WeekLayout:
    specs, rules = search.specs, search.r
    for i, wd in enumerate(assignment):
        search.assign[i] = wd
        if wd != DROP:
            search.days[wd].append(i)
    times = search.placed_times()
    placed = tuple(
        Placed(
            spec=specs[i],
            weekday=wd,
            minutes=times[i][2],
            start=times[i][0],
            end=times[i][1],
            shares_day=len(search.days[wd]) > 1,
        )
        for i, wd in enumerate(assignment)
        if wd != DROP
    )
    dropped = tuple(_explain_drop(search, i) for i, wd in enumerate(assignment) if wd == DROP)
    warnings: tuple[str, ...] = ()
    if gave_up:
        warnings = (
            f"week of {rules.monday}: a layout search hit its {NODE_LIMIT}-node bound; "
            "the week may carry more drops than strictly needed",
        )
    return WeekLayout(placed, dropped, cost, nodes, warnings)


def _explain_drop(search: _Search, idx: int) -> Dropped:
    """Name, day by day, the rule that kept the dropped session out of the chosen layout."""
    victim = search.specs[idx]
    parts: list[str] = []
    ids: set[str] = {"S10"}
    for wd in sorted(victim.allowed) or range(7):
        why = search.block_reason(idx, wd)
        if why is None:
            search.days[wd].append(idx)
            if not search.rest_ok():
                why = ("S6", "would leave no rest day")
            elif not search.hard_gaps_ok():
                why = ("S4", "too close to a lower-body lift")
            else:
                why = ("S10", "only by dropping a more important session")
            search.days[wd].pop()
        ids.add(why[0])
        parts.append(f"{WEEKDAYS[wd].capitalize()} {why[0]} ({why[1]})")
    reason = f"no day fits this {victim.focus} session: " + "; ".join(parts) + " (dropped per S10)"
    return Dropped(victim, reason, sorted_ids(frozenset(ids)))
