"""Benchmark for :func:`planner.placement.place` on a synthetic professional's year.

The issue's budgets, for a small 2-core machine:

1. a 52-week plan (~260 sessions) placed around 10,000 busy events in at most 1 s, busy index
   build included;
2. replanning one week after one new busy event in at most 50 ms.

It also shows how the 52-week time grows with the number of busy events and with the number of
weeks. The calendar is generated deterministically (fixed seed) in Europe/Berlin: stand-ups,
1:1s, meetings, early breakfasts and evening dinners that cut into the athlete's windows, late
meetings, weekend plans, travel spanning several days, all-day events and overlapping duplicates.
The conflict-making events are the same at every calendar size; only the daytime filler meetings
(and the 2% duplicates) scale. The filler's 08:00 starts still trim the end of the morning window
through the 15 min buffer on the days they fall on, so the search effort, not only the volume,
differs a little between sizes (the node counts in the growth table show it).

Run it as ``.venv/bin/python benchmarks/bench_placement.py [--profile]`` from the repository root;
it exits non-zero when budget 1 or 2 is exceeded. ``--profile`` adds a cProfile of the 52-week
placement.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from importlib import resources
from time import perf_counter
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from config.models import Settings
from planner.busy import BusyInterval
from planner.constraints import RuleBook
from planner.freetime import BusyIndex
from planner.model import Session
from planner.phases import monday_of
from planner.placement import PlacementResult, Status, place
from planner.plan import build_plan

BUDGET_FULL = 1.0  # seconds, budget 1
BUDGET_REPLAN = 0.050  # seconds, budget 2
RUNS = 5
REPLAN_RUNS = 20
SCALE_RUNS = 2
SEED = 20270104
BERLIN = ZoneInfo("Europe/Berlin")
YEAR = 2027
START = date(2027, 1, 4)
WEEKS = 52
EVENTS = 10_000
NOW = datetime(2026, 12, 1, tzinfo=UTC)
REPLAN_WEEK = 26  # 1-based week of the plan that gets the new busy event

T = TypeVar("T")


# -- the synthetic calendar ----------------------------------------------------------------------
def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=BERLIN)


def _days(weekdays_only: bool) -> list[date]:
    first = date(YEAR, 1, 1)
    every = [first + timedelta(days=k) for k in range((date(YEAR + 1, 1, 1) - first).days)]
    return [d for d in every if d.weekday() < 5] if weekdays_only else every


def _event(start: datetime, end: datetime, summary: str, source: str, uid: str) -> BusyInterval:
    return BusyInterval(start, end, summary, source, f"{uid}@bench.example")


def _skeleton(rng: random.Random) -> list[BusyInterval]:
    """The recurring and conflict-making events; the same at every calendar size."""
    weekdays = _days(weekdays_only=True)
    weekends = [d for d in _days(weekdays_only=False) if d.weekday() >= 5]
    out: list[BusyInterval] = []
    # daily stand-up, every weekday 09:00-09:15
    for d in weekdays:
        out.append(_event(_at(d, 9), _at(d, 9, 15), "Stand-up", "work", f"standup-{d}"))
    # six 1:1 series, weekly or every other week, 30 min between 10:00 and 16:30
    for n in range(6):
        weekday, hour, minute = rng.randint(0, 4), rng.randint(10, 16), rng.choice((0, 30))
        every = 2 if n % 3 == 2 else 1
        mine = [d for d in weekdays if d.weekday() == weekday][rng.randint(0, every - 1) :: every]
        for d in mine:
            start = _at(d, hour, minute)
            out.append(
                _event(start, start + timedelta(minutes=30), f"1:1 #{n}", "work", f"1on1-{n}-{d}")
            )
    # early breakfasts 07:00-08:30: a 06:00 lift ends inside their 15 min buffer
    for n, d in enumerate(sorted(rng.sample(weekdays, 30))):
        start = _at(d, 7, rng.choice((0, 0, 15)))
        end = _at(d, 8, rng.choice((0, 15, 30)))
        out.append(_event(start, end, "Breakfast meeting", "work", f"breakfast-{n}"))
    # evening dinners 18:30-21:30 and late meetings 17:00-19:00: they shrink the evening window
    for n, d in enumerate(sorted(rng.sample(weekdays, 90))):
        start = _at(d, 18, 30) + timedelta(minutes=rng.choice((0, 15, 30, 60)))
        out.append(_event(start, _at(d, 21, 30), "Dinner", "private", f"dinner-{n}"))
    for n, d in enumerate(sorted(rng.sample(weekdays, 120))):
        start = _at(d, 17) + timedelta(minutes=rng.choice((0, 15, 30, 45, 60, 90)))
        end = min(start + timedelta(minutes=rng.choice((30, 45, 60))), _at(d, 19))
        out.append(_event(start, end, "Late call", "work", f"late-{n}"))
    # weekend plans inside the Saturday and Sunday windows
    for n, d in enumerate(sorted(rng.sample(weekends, 30))):
        start = _at(d, rng.choice((8, 9, 10)))
        out.append(_event(start, start + timedelta(hours=2), "Family", "private", f"weekend-{n}"))
    # travel: leave early on a weekday, come back one to three days later in the evening
    for n, d in enumerate(sorted(rng.sample(weekdays[:-5], 12))):
        start = _at(d, rng.randint(5, 8), rng.choice((0, 30)))
        back = d + timedelta(days=rng.randint(1, 3))
        out.append(_event(start, _at(back, rng.randint(18, 22)), "Travel", "work", f"travel-{n}"))
    # all-day events, local midnight to midnight; one in five spans two to five days
    for n, d in enumerate(sorted(rng.sample(_days(weekdays_only=False)[:-6], 20))):
        length = rng.randint(2, 5) if n % 5 == 4 else 1
        end = datetime.combine(d + timedelta(days=length), time(0), tzinfo=BERLIN)
        out.append(_event(_at(d, 0), end, "Out of office", "private", f"allday-{n}"))
    return out


def _filler(rng: random.Random, count: int) -> list[BusyInterval]:
    """Daytime meetings on weekdays, 08:00-17:15, overlapping; they touch the athlete's windows
    only through the buffer (an 08:00 start closes 07:45-08:00)."""
    weekdays = _days(weekdays_only=True)
    out: list[BusyInterval] = []
    for n in range(count):
        d = rng.choice(weekdays)
        start = _at(d, 8) + timedelta(minutes=15 * rng.randint(0, 34))
        end = min(start + timedelta(minutes=rng.choice((15, 30, 45, 60, 90))), _at(d, 17, 15))
        out.append(_event(start, end, f"Meeting {n}", "work", f"meeting-{n}"))
    return out


def synthetic_year(total: int, seed: int = SEED) -> list[BusyInterval]:
    """Exactly ``total`` busy intervals over 2027 in Europe/Berlin, the same for the same seed.

    2% are duplicates of other events (another calendar's copy at the same time, or the same
    invitation sent twice, 15 minutes apart).
    """
    rng = random.Random(seed)
    skeleton = _skeleton(rng)
    duplicates = total // 50
    filler = total - len(skeleton) - duplicates
    if filler < 0:
        raise ValueError(f"at least {len(skeleton) + duplicates} events are needed, got {total}")
    events = skeleton + _filler(rng, filler)
    for n, b in enumerate(rng.sample(events, duplicates)):
        shift = timedelta(minutes=15 * (n % 2))
        events.append(
            BusyInterval(b.start + shift, b.end + shift, b.summary, "shared", f"dup-{n}-{b.uid}")
        )
    assert len(events) == total
    return events


# -- the plan ----------------------------------------------------------------------------------
def sample_settings(*, race: bool) -> Settings:
    """The embedded sample; without its half marathon unless ``race``."""
    text = resources.files("config").joinpath("samples", "default.toml").read_text("utf-8")
    data: dict[str, Any] = tomllib.loads(text)
    if not race:
        data["goal"] = {"race": "none", "plan_start": START.isoformat()}
    return Settings(**data)


def week_sessions(sessions: Sequence[Session], monday: date) -> list[Session]:
    return [s for s in sessions if monday_of(s.date) == monday]


@dataclass(frozen=True)
class Outcome:
    at_planned: int
    moved: int  # placed, but not at the planner's time (or, when replanning, status MOVED)
    dropped: int
    kept: int
    nodes: int


def outcome(sessions: Sequence[Session], result: PlacementResult) -> Outcome:
    by_id = result.by_id()
    planned = {s.id: s.start for s in sessions}
    at_planned = sum(1 for p in result.placements if p.start == planned.get(p.session_id))
    if any(p.previous is not None for p in result.placements):
        moved = sum(1 for p in result.placements if p.status is Status.MOVED)
    else:
        moved = len(by_id) - at_planned
    kept = sum(1 for p in result.placements if p.status is Status.KEPT)
    return Outcome(at_planned, moved, len(result.unplaced), kept, result.nodes)


# -- timing ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Timing:
    best: float
    median: float
    runs: int

    def __str__(self) -> str:
        return f"{_ms(self.best):>9} {_ms(self.median):>9}"


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def timed(fn: Callable[[], T], runs: int) -> tuple[Timing, T]:
    timings: list[float] = []
    value: T | None = None
    for _ in range(runs):
        t0 = perf_counter()
        value = fn()
        timings.append(perf_counter() - t0)
    assert value is not None
    return Timing(min(timings), statistics.median(timings), runs), value


def _row(label: str, timing: Timing, note: str = "") -> None:
    print(f"  {label:<54} {timing}  {note}".rstrip())


def _header(title: str) -> None:
    print(f"\n{title}\n  {'':<54} {'best':>9} {'median':>9}")


# -- the figures -------------------------------------------------------------------------------
@dataclass(frozen=True)
class FullYear:
    sessions: list[Session]
    rules: RuleBook
    result: PlacementResult
    index: Timing  # BusyIndex.build alone
    place: Timing  # place() with the index built beforehand
    both: Timing  # place() from the list: build + place, what budget 1 measures


def full_year(label: str, settings: Settings, busy: list[BusyInterval]) -> FullYear:
    """Budget 1: index build, place with a built index, and both together."""
    sessions = list(build_plan(settings, START, WEEKS).sessions)
    rules = RuleBook.from_settings(settings)
    t_index, index = timed(partial(BusyIndex.build, busy), RUNS)
    t_place, result = timed(partial(place, sessions, rules, index, now=NOW), RUNS)
    t_both, _ = timed(partial(place, sessions, rules, busy, now=NOW), RUNS)
    o = outcome(sessions, result)
    _header(f"{label}: {len(sessions)} sessions, {len(busy)} busy events (best of {RUNS})")
    _row("BusyIndex.build", t_index)
    _row("place(), index built", t_place, f"{o.nodes} search nodes")
    verdict = "ok" if t_both.best <= BUDGET_FULL else "OVER BUDGET"
    _row("place() from the list (build + place)", t_both, f"budget {BUDGET_FULL:.1f} s: {verdict}")
    print(
        f"  sessions: {o.at_planned} at the planned time, {o.moved} moved, {o.dropped} dropped; "
        f"{len(result.suggestions)} suggestions, {len(result.warnings)} warnings"
    )
    for warning in result.warnings:
        print(f"  warning: {warning}")
    return FullYear(sessions, rules, result, t_index, t_place, t_both)


def replan(
    sessions: list[Session], rules: RuleBook, busy: list[BusyInterval], first: PlacementResult
) -> tuple[Timing, int]:
    """Budget 2: one new busy event on top of a placed session in one week."""
    monday = START + timedelta(weeks=REPLAN_WEEK - 1)
    previous = {p.session_id: (p.start, p.end) for p in first.placements}
    mine = week_sessions(sessions, monday)
    ids = {s.id for s in mine}
    target = next(p for p in first.placements if p.session_id in ids)
    event = BusyInterval(target.start, target.end, "Client escalation", "work", "new@bench.example")
    busy2 = [*busy, event]
    index2 = BusyIndex.build(busy2)
    # the week and its neighbours, so S4/S5 across the week's borders see the sessions next door
    around = [s for s in sessions if abs((monday_of(s.date) - monday).days) <= 7]

    t_week, r_week = timed(
        partial(place, mine, rules, index2, now=NOW, previous=previous), REPLAN_RUNS
    )
    t_list, _ = timed(partial(place, mine, rules, busy2, now=NOW, previous=previous), REPLAN_RUNS)
    t_around, r_around = timed(
        partial(place, around, rules, index2, now=NOW, previous=previous), REPLAN_RUNS
    )
    t_all, r_all = timed(partial(place, sessions, rules, index2, now=NOW, previous=previous), RUNS)
    t_all_list, _ = timed(partial(place, sessions, rules, busy2, now=NOW, previous=previous), RUNS)
    o_week, o_around, o_all = (outcome(sessions, r) for r in (r_week, r_around, r_all))
    moved_to = r_week.by_id()[target.session_id]
    _header(
        f"Replan week {REPLAN_WEEK} ({monday}) after one new event on {target.session_id} "
        f"{target.start:%a %H:%M}-{target.end:%H:%M}, previous = the 52-week result"
    )
    verdict = "ok" if t_week.best <= BUDGET_REPLAN else "OVER BUDGET"
    budget = f"budget {BUDGET_REPLAN * 1000:.0f} ms"
    _row(
        f"week {REPLAN_WEEK} only ({len(mine)} sessions), index built",
        t_week,
        f"{budget}: {verdict} (best of {REPLAN_RUNS})",
    )
    _row(
        f"week {REPLAN_WEEK} only, from the list (build + place)",
        t_list,
        f"(best of {REPLAN_RUNS})",
    )
    _row(
        f"weeks {REPLAN_WEEK - 1}-{REPLAN_WEEK + 1} ({len(around)} sessions), index built", t_around
    )
    _row(f"all {WEEKS} weeks ({len(sessions)} sessions), index built", t_all, f"(best of {RUNS})")
    _row(f"all {WEEKS} weeks, from the list (build + place)", t_all_list, f"(best of {RUNS})")
    print(
        f"  {target.session_id} -> {moved_to.start:%a %H:%M} ({moved_to.status}); "
        f"moved/kept/dropped: week only {o_week.moved}/{o_week.kept}/{o_week.dropped},"
        f" weeks {REPLAN_WEEK - 1}-{REPLAN_WEEK + 1} {o_around.moved}/{o_around.kept}/"
        f"{o_around.dropped}, all weeks {o_all.moved}/{o_all.kept}/{o_all.dropped}"
    )
    for what, o in (("week only", o_week), ("neighbours", o_around), ("all weeks", o_all)):
        if o.moved != 1:
            print(f"  NOTE: {what} moved {o.moved} sessions, expected exactly 1")
    return t_week, o_week.moved


def growth(settings: Settings, first: Timing) -> None:
    """How the 52-week time grows with busy events, and with weeks at 10,000 events."""
    rules = RuleBook.from_settings(settings)
    _header(f"Growth (no race), best of {SCALE_RUNS}; place() with the index built beforehand")
    plan52 = list(build_plan(settings, START, WEEKS).sessions)
    for total in (1_000, 5_000, 10_000, 20_000):
        busy = synthetic_year(total)
        t_index, index = timed(partial(BusyIndex.build, busy), SCALE_RUNS)
        t_place, result = timed(partial(place, plan52, rules, index, now=NOW), SCALE_RUNS)
        o = outcome(plan52, result)
        _row(
            f"52 weeks, {total:>6} events: place()",
            t_place,
            f"+ index {_ms(t_index.best)}; {o.moved} moved, {o.dropped} dropped, {o.nodes} nodes",
        )
    index = BusyIndex.build(synthetic_year(EVENTS))
    for weeks in (13, 26):
        plan = list(build_plan(settings, START, weeks).sessions)
        t_place, result = timed(partial(place, plan, rules, index, now=NOW), SCALE_RUNS)
        o = outcome(plan, result)
        _row(
            f"{weeks} weeks ({len(plan)} sessions), {EVENTS} events: place()",
            t_place,
            f"{o.moved} moved, {o.dropped} dropped, {o.nodes} nodes",
        )
    _row(f"52 weeks ({len(plan52)} sessions), {EVENTS} events: place()", first, "(from above)")


def profile(settings: Settings, busy: list[BusyInterval]) -> None:
    """``--profile``: where the 52-week placement spends its time."""
    import cProfile  # noqa: PLC0415
    import pstats  # noqa: PLC0415

    sessions = list(build_plan(settings, START, WEEKS).sessions)
    rules = RuleBook.from_settings(settings)
    index = BusyIndex.build(busy)
    profiler = cProfile.Profile()
    profiler.runcall(place, sessions, rules, index, now=NOW)
    pstats.Stats(profiler).sort_stats("tottime").print_stats(15)


def main() -> int:
    t0 = perf_counter()
    busy = synthetic_year(EVENTS)
    spans = sum(1 for b in busy if b.end - b.start >= timedelta(hours=24))
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"{len(busy)} busy events in {YEAR} ({spans} of a day or more), now = {NOW:%Y-%m-%d}; "
        f"{os.cpu_count()} CPUs, load average {load}"
    )
    plain = sample_settings(race=False)
    year = full_year("52 weeks, no race", plain, busy)
    half = full_year("52 weeks, half marathon 2027-04-18", sample_settings(race=True), busy)
    t_replan, moved = replan(year.sessions, year.rules, busy, year.result)
    growth(plain, year.place)
    if "--profile" in sys.argv[1:]:
        profile(plain, busy)
    print(f"\ntotal benchmark time {perf_counter() - t0:.1f} s")
    failed = False
    for what, t in (("52 weeks, no race", year.both), ("52 weeks, half marathon", half.both)):
        if t.best > BUDGET_FULL:
            print(f"FAIL: {what}: {t.best:.3f} s exceeds {BUDGET_FULL:.1f} s", file=sys.stderr)
            failed = True
    if t_replan.best > BUDGET_REPLAN:
        print(
            f"FAIL: replanning one week: {t_replan.best * 1000:.1f} ms exceeds "
            f"{BUDGET_REPLAN * 1000:.0f} ms",
            file=sys.stderr,
        )
        failed = True
    if moved != 1:
        print(f"NOTE: replanning moved {moved} sessions, not exactly 1", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
