"""Ranked fixes for a week that cannot hold everything: every fix is re-applied here from its
description alone, solved again and must drop less; the ranking follows the kinds' order."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date, time
from typing import Any
from unittest.mock import patch

import pytest
from hypothesis import event, given, note
from hypothesis import strategies as st

import planner.fixes as fixes_module
from planner.constraints import RuleBook
from planner.drops import drop_order
from planner.fixes import (
    MAX_FIXES,
    MAX_SOLVES,
    Fix,
    FixKind,
    find_fixes,
    week_fixes,
)
from planner.model import Focus, Kind
from planner.week import solve_week
from planner.week_types import Spec, WeekLayout, WeekRules
from tests.conftest import make_settings

MON = date(2027, 1, 4)
BOTH = ["06:00-08:00", "17:00-21:00"]
ONE_HOUR = ["07:00-08:00"]
END_OF_DAY = time(23, 59, 59, 999999)


def rules_for(
    availability: dict[str, list[str]], *, endurance: bool = False, **book: Any
) -> WeekRules:
    athlete: dict[str, Any] = {"experience": "intermediate", "bodyweight_kg": 72.5}
    if endurance:
        athlete["priority"] = "endurance"
    settings = make_settings(athlete=athlete, availability=availability)
    return WeekRules(monday=MON, book=replace(RuleBook.from_settings(settings), **book))


def spec(key: str, focus: Focus, minutes: int, preferred: int, importance: int) -> Spec:
    return Spec(key=key, focus=focus, minutes=minutes, preferred=preferred, importance=importance)


LIFTS = (
    spec("lower", Focus.LOWER, 60, 0, 0),
    spec("upper", Focus.UPPER, 60, 2, 1),
    spec("full", Focus.FULL, 60, 4, 2),
)
RUNS = (spec("easy", Focus.EASY, 30, 1, 0), spec("tempo", Focus.TEMPO, 35, 3, 1))


# -- an independent check: apply a fix from its description and score the drops ---------------


def minutes_of(t: time) -> int:
    return 24 * 60 if t == END_OF_DAY else t.hour * 60 + t.minute


def with_windows(rules: WeekRules, wd: int, windows: tuple[tuple[time, time], ...]) -> WeekRules:
    days = list(rules.windows)
    days[wd] = windows
    return replace(rules, book=replace(rules.book, windows=tuple(days)))


def reapply(
    fix: Fix, specs: tuple[Spec, ...], rules: WeekRules
) -> tuple[tuple[Spec, ...], WeekRules]:
    """Build the changed week from the fix's description, checking it is the kind it says."""
    keys = [s.key for s in specs]
    if fix.kind in (FixKind.SHORTEN, FixKind.PAIR):
        i = keys.index(fix.target)
        old = specs[i]
        assert old.kind is Kind.RUN and fix.minutes is not None and fix.focus is not None
        assert fix.minutes <= old.minutes and fix.change == old.minutes - fix.minutes
        if fix.kind is FixKind.SHORTEN:
            assert fix.minutes >= 20
            assert fix.minutes == old.minutes or fix.minutes % 5 == 0
            # R3: only a long run changes its type, into an easy one of 45 min or less
            expected = Focus.EASY if old.focus is Focus.LONG and fix.minutes <= 45 else old.focus
            assert fix.focus is expected
            assert (fix.focus, fix.minutes) != (old.focus, old.minutes)
        else:
            assert rules.max_per_day >= 2
            assert fix.focus is Focus.EASY and not old.focus.is_easy_run
            if rules.strength_priority:
                assert fix.minutes <= rules.run_on_lift_day_max
        changed = replace(old, minutes=fix.minutes, focus=fix.focus)
        return (*specs[:i], changed, *specs[i + 1 :]), rules
    if fix.kind is FixKind.FEWER_LIFTS:
        i = keys.index(fix.target)
        assert specs[i].kind is Kind.LIFT and fix.removed == (fix.target,)
        return (*specs[:i], *specs[i + 1 :]), rules
    assert fix.day is not None and fix.window is not None
    start, end = fix.window
    assert start < end
    if fix.kind is FixKind.ADD_WINDOW:
        assert rules.windows[fix.day] == ()
        assert fix.change == minutes_of(end) - minutes_of(start)
        return specs, with_windows(rules, fix.day, (fix.window,))
    assert fix.kind is FixKind.LONGER_WINDOW
    old_windows = rules.windows[fix.day]
    grown = [
        k
        for k, (a, b) in enumerate(old_windows)
        if (a == start and minutes_of(end) - minutes_of(b) == fix.change)
        or (b == end and minutes_of(a) - minutes_of(start) == fix.change)
    ]
    assert fix.change in (15, 30, 45, 60) and grown
    k = grown[0]
    new = (*old_windows[:k], fix.window, *old_windows[k + 1 :])
    return specs, with_windows(rules, fix.day, new)


def drops(
    specs: tuple[Spec, ...], strength: bool, layout: WeekLayout, removed: tuple[str, ...] = ()
) -> tuple[int, int]:
    """(how many dropped, S10 cost): bit p for the p-th session S10 would drop."""
    order = drop_order([(s.focus, s.importance, s.key) for s in specs], strength)
    position = {specs[i].key: p for p, i in enumerate(order)}
    gone = {d.spec.key for d in layout.dropped} | set(removed)
    return len(gone), sum(1 << position[k] for k in gone)


def assert_verified(specs: tuple[Spec, ...], rules: WeekRules, found: tuple[Fix, ...]) -> None:
    before = drops(specs, rules.strength_priority, solve_week(specs, rules))
    for fix in found:
        new_specs, new_rules = reapply(fix, specs, rules)
        assert (new_specs, new_rules) == (fix.specs, fix.rules), fix.text
        after = drops(specs, rules.strength_priority, solve_week(new_specs, new_rules), fix.removed)
        assert after != before, fix.text
        assert after[0] < before[0] or after[1] < before[1], fix.text
        dropped_now = {d.spec.key for d in solve_week(new_specs, new_rules).dropped}
        for key in fix.restored:  # named as brought back: really placed now
            assert key not in dropped_now and key not in fix.removed, fix.text


def assert_ranked(found: tuple[Fix, ...]) -> None:
    assert len(found) <= MAX_FIXES
    assert [f.cost for f in found] == sorted(f.cost for f in found)
    assert len({f.text for f in found}) == len(found)
    assert len({(f.specs, f.rules) for f in found}) == len(found)


@pytest.fixture
def solves(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Counts the re-solves the fixes make."""
    count = [0]

    def counting(specs: tuple[Spec, ...], rules: WeekRules) -> WeekLayout:
        count[0] += 1
        return solve_week(specs, rules)

    monkeypatch.setattr(fixes_module, "solve_week", counting)
    yield count


# -- examples -----------------------------------------------------------------------------------


def test_three_one_hour_windows_three_lifts_two_runs(solves: list[int]) -> None:
    specs = LIFTS + RUNS
    rules = rules_for({"mon": ONE_HOUR, "wed": ONE_HOUR, "fri": ONE_HOUR})
    layout = solve_week(specs, rules)
    assert {d.spec.key for d in layout.dropped} == {"easy", "tempo"}
    found = find_fixes(specs, rules, layout)
    assert solves[0] <= MAX_SOLVES
    assert found
    assert week_fixes(specs, rules, layout) == tuple(f.text for f in found)
    assert_verified(specs, rules, found)
    assert_ranked(found)
    # a one-hour window holds one session: only a new window helps; the nearest free day to
    # where the runs would be (Tue, Thu) comes first, with the athlete's own window times
    first = found[0]
    assert first.kind is FixKind.ADD_WINDOW and first.day == 1
    assert first.window == (time(7), time(8))
    assert first.text == (
        "Add a window on Tuesday (07:00-08:00, like Monday's) and the easy run (30 min) "
        "fits on Tuesday (S8)."
    )
    assert all("S8" in f.relaxes for f in found)


def test_long_run_shortened_becomes_easy_beside_a_lift(solves: list[int]) -> None:
    specs = (*LIFTS, spec("long", Focus.LONG, 60, 5, 0))
    rules = rules_for({"mon": BOTH, "wed": BOTH, "fri": BOTH})
    layout = solve_week(specs, rules)
    assert [d.spec.key for d in layout.dropped] == ["long"]
    found = find_fixes(specs, rules, layout)
    assert_verified(specs, rules, found)
    assert_ranked(found)
    first = found[0]
    assert first.kind is FixKind.SHORTEN and first.target == "long"
    assert (first.minutes, first.focus) == (40, Focus.EASY)  # R3: 40 min beside a lift
    assert first.text.startswith("Shorten the long run (60 min) to 40 min, an easy run (R3)")
    assert "beside the" in first.text and first.restored == ("long",)
    assert "R3" in first.relaxes
    # the next longer step would be capped to 40 min on the lift day anyway: 40 is what it is
    assert all(p.minutes == 40 for p in first.layout.placed if p.spec.key == "long")


def test_a_short_long_run_is_just_called_easy() -> None:
    """The 25-min "long" run of a four-lift week (R4) is an easy run (R3) and may pair."""
    lifts = (
        spec("lower1", Focus.LOWER, 60, 0, 0),
        spec("upper1", Focus.UPPER, 60, 1, 1),
        spec("lower2", Focus.LOWER, 60, 3, 2),
        spec("upper2", Focus.UPPER, 60, 4, 3),
    )
    runs = (
        spec("easy", Focus.EASY, 25, 1, 0),
        spec("tempo", Focus.TEMPO, 25, 2, 1),
        spec("long", Focus.LONG, 25, 5, 2),
    )
    weekdays = dict.fromkeys(("mon", "tue", "wed", "thu", "fri"), BOTH)
    specs, rules = lifts + runs, rules_for(weekdays)
    layout = solve_week(specs, rules)
    assert [d.spec.key for d in layout.dropped] == ["long"]
    found = find_fixes(specs, rules, layout)
    assert_verified(specs, rules, found)
    assert_ranked(found)
    first = found[0]
    assert (first.kind, first.change, first.minutes, first.focus) == (
        FixKind.SHORTEN,
        0,
        25,
        Focus.EASY,
    )
    assert first.text.startswith("Run the long run (25 min) as an easy run (R3")
    kinds = [f.kind for f in found]
    assert FixKind.PAIR in kinds  # the tempo run as an easy one frees a day for the long run
    assert kinds == sorted(kinds)


def test_ranking_follows_the_kinds() -> None:
    """Shorten (10 min) before a new window before a window 15 min longer."""
    availability = {"mon": ONE_HOUR, "tue": ["07:00-07:20"], "wed": ONE_HOUR, "fri": ONE_HOUR}
    specs = (*LIFTS, RUNS[0])
    rules = rules_for(availability)
    layout = solve_week(specs, rules)
    assert [d.spec.key for d in layout.dropped] == ["easy"]
    found = find_fixes(specs, rules, layout)
    assert_verified(specs, rules, found)
    assert_ranked(found)
    kinds = [f.kind for f in found]
    assert kinds[0] is FixKind.SHORTEN and found[0].minutes == 20
    assert FixKind.ADD_WINDOW in kinds and FixKind.LONGER_WINDOW in kinds
    assert kinds == sorted(kinds)
    longer = [f for f in found if f.kind is FixKind.LONGER_WINDOW]
    assert longer[0].change == 15 and longer[0].day == 1  # the smallest step that works
    assert "Tuesday's window 15 min" in longer[0].text


def test_shortening_takes_the_longest_step_that_works() -> None:
    availability = {"mon": ONE_HOUR, "tue": ["07:00-07:35"], "wed": ONE_HOUR, "fri": ONE_HOUR}
    specs = (*LIFTS, spec("tempo", Focus.TEMPO, 50, 1, 0))
    rules = rules_for(availability)
    layout = solve_week(specs, rules)
    found = [f for f in find_fixes(specs, rules, layout) if f.kind is FixKind.SHORTEN]
    assert [(f.target, f.minutes, f.focus) for f in found] == [("tempo", 35, Focus.TEMPO)]
    assert found[0].text == (
        "Shorten the tempo run (50 min) to 35 min (S8) and it fits on Tuesday."
    )


def test_one_lift_fewer_only_when_it_leaves_fewer_out() -> None:
    """Leaving out the full-body lift frees Friday for one run: one session out for one back is
    no fix (the lift counts as dropped), so it is not offered."""
    specs = LIFTS + RUNS
    rules = rules_for({"mon": ONE_HOUR, "wed": ONE_HOUR, "fri": ONE_HOUR})
    without_full = solve_week((*LIFTS[:2], *RUNS), rules)
    assert len(without_full.dropped) == 1  # the check below is about a real trade
    found = find_fixes(specs, rules, solve_week(specs, rules))
    assert all(f.kind is not FixKind.FEWER_LIFTS for f in found)


def test_no_pairing_when_two_a_days_are_off() -> None:
    specs = LIFTS + RUNS
    rules = rules_for({"mon": BOTH, "wed": BOTH, "fri": BOTH, "sat": ONE_HOUR}, max_per_day=1)
    layout = solve_week(specs, rules)
    assert layout.dropped
    found = find_fixes(specs, rules, layout)
    assert found and all(f.kind is not FixKind.PAIR for f in found)
    assert_verified(specs, rules, found)


def test_endurance_never_cuts_a_run_only_for_a_lift() -> None:
    """S10: lifts give way first under endurance priority, so the long run is not cut for one."""
    specs = (
        *LIFTS,
        spec("long", Focus.LONG, 100, 5, 0),
        spec("intervals", Focus.INTERVALS, 50, 2, 1),
    )
    availability = {"mon": ONE_HOUR, "wed": ONE_HOUR, "fri": ONE_HOUR, "sat": ["07:00-09:00"]}
    rules = rules_for(availability, endurance=True)
    layout = solve_week(specs, rules)
    assert [d.spec.key for d in layout.dropped] == ["full"]
    found = find_fixes(specs, rules, layout)
    assert found
    assert all(f.kind not in (FixKind.SHORTEN, FixKind.PAIR) for f in found)
    assert_verified(specs, rules, found)
    assert_ranked(found)


def test_a_week_that_holds_everything_gets_nothing(solves: list[int]) -> None:
    specs = LIFTS + RUNS
    rules = rules_for({"mon": BOTH, "tue": BOTH, "wed": BOTH, "thu": BOTH, "fri": BOTH})
    layout = solve_week(specs, rules)
    assert not layout.dropped
    assert week_fixes(specs, rules, layout) == ()
    assert solves[0] == 0


def test_nothing_small_helps_gives_nothing() -> None:
    """Every day is already full of sessions it cannot share: no window, no shortening helps
    the fifth lift of a week that allows at most four lift days."""
    specs = (
        spec("lower1", Focus.LOWER, 60, 0, 0),
        spec("upper1", Focus.UPPER, 60, 1, 1),
        spec("lower2", Focus.LOWER, 60, 2, 2),
        spec("upper2", Focus.UPPER, 60, 3, 3),
        spec("lower3", Focus.LOWER, 60, 4, 4),
        spec("upper3", Focus.UPPER, 60, 5, 5),
        spec("lower4", Focus.LOWER, 60, 6, 6),
    )
    rules = rules_for(dict.fromkeys(("mon", "tue", "wed", "thu", "fri", "sat", "sun"), BOTH))
    layout = solve_week(specs, rules)
    assert layout.dropped
    found = find_fixes(specs, rules, layout)
    assert_verified(specs, rules, found)  # S5 and S6 bind, not windows: whatever is offered works


# -- property: every fix of a random small week is verified -------------------------------------

WINDOW_CHOICES: list[list[str]] = [
    [],
    [],
    [],
    ["07:00-08:00"],
    ["07:00-07:40"],
    ["06:00-07:30", "18:00-19:00"],
    BOTH,
]
LIFT_FOCI = [Focus.LOWER, Focus.UPPER, Focus.FULL]
RUN_FOCI = [Focus.EASY, Focus.TEMPO, Focus.INTERVALS, Focus.LONG, Focus.OPTIONAL_EASY]
DAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@st.composite
def small_weeks(draw: st.DrawFn) -> tuple[tuple[Spec, ...], WeekRules]:
    availability = {d: draw(st.sampled_from(WINDOW_CHOICES)) for d in DAY_KEYS}
    availability = {d: w for d, w in availability.items() if w}
    if not availability:
        availability = {"mon": ["07:00-08:00"]}
    lifts = draw(st.lists(st.sampled_from(LIFT_FOCI), min_size=1, max_size=3))
    runs = draw(
        st.lists(
            st.tuples(st.sampled_from(RUN_FOCI), st.sampled_from([25, 30, 40, 45, 50, 60, 75])),
            min_size=1,
            max_size=3,
        )
    )
    specs = [
        spec(f"lift{k}", focus, draw(st.sampled_from([45, 60])), draw(st.integers(0, 6)), k)
        for k, focus in enumerate(lifts)
    ]
    specs += [
        spec(f"run{k}", focus, minutes, draw(st.integers(0, 6)), k)
        for k, (focus, minutes) in enumerate(runs)
    ]
    rules = rules_for(
        availability,
        endurance=draw(st.booleans()),
        max_per_day=draw(st.sampled_from([1, 2, 2])),
    )
    return tuple(specs), rules


@given(small_weeks())
def test_every_fix_is_verified(week: tuple[tuple[Spec, ...], WeekRules]) -> None:
    specs, rules = week
    layout = solve_week(specs, rules)
    count = [0]

    def counting(s: tuple[Spec, ...], r: WeekRules) -> WeekLayout:
        count[0] += 1
        return solve_week(s, r)

    with patch.object(fixes_module, "solve_week", counting):
        found = find_fixes(specs, rules, layout)
    note(f"dropped: {[d.spec.key for d in layout.dropped]}")
    event(f"fixes: {sorted({f.kind.name for f in found})}")
    note("\n".join(f.text for f in found))
    assert count[0] <= MAX_SOLVES
    if not layout.dropped:
        assert found == ()
    assert_ranked(found)
    assert_verified(specs, rules, found)
    for fix in found:
        assert fix.text.endswith(".") and fix.text[0].isupper()
        assert fix.relaxes and all(r[0] in "PLRSG" for r in fix.relaxes)
