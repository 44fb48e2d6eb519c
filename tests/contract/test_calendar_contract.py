"""The promises every calendar kind keeps, one test each, run against every kind (the
``calendar`` fixture): a new kind passes these before anything else is asked of it."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from sync.report import CycleReport
from tests.contract.backends import TARGET, Backend
from tests.contract.faults import Crash, Fault, Moment
from tests.contract.world import START, World

HORIZON_SESSIONS = 10  # the shared athlete's first two weeks


def needs_hand_edits(calendar: Backend) -> None:
    if not calendar.editable:
        pytest.skip(calendar.read_only_reason)


def needs_foreign_events(calendar: Backend) -> None:
    if not calendar.shared:
        pytest.skip(calendar.read_only_reason)


def assert_once_each(world: World) -> None:
    twice = [
        sid for sid, n in Counter(s.session_id for s in world.calendar.seen()).items() if n > 1
    ]
    assert not twice, f"duplicated: {twice}"


def assert_store_agrees(world: World) -> None:
    rows = world.rows()
    assert not [sid for sid, r in rows.items() if r.pending], "a write left pending"
    live = {sid for sid, r in rows.items() if not r.cancelled}
    assert live == set(world.calendar.times()), "the state store and the calendar disagree"


def assert_steady(world: World, report: CycleReport) -> None:
    """The cycle that ended well left nothing to do for the next one at the same time."""
    assert not report.failed, report.as_dict()
    again = world.cycle(report.started)
    assert again.writes == 0, again.actions


def test_the_first_push_places_every_session(calendar: Backend, tmp_path: Path) -> None:
    world = World(tmp_path, calendar)
    world.add_busy(START.replace(day=5, hour=6), hours=3)  # Tuesday morning
    report = world.cycle(START)
    assert not report.failed, report.as_dict()
    assert report.targets[TARGET].created == HORIZON_SESSIONS
    assert set(calendar.times()) == {a.session for a in report.actions}
    assert_once_each(world)
    assert world.overlapping_busy(START) == []
    assert_store_agrees(world)


def test_an_idle_cycle_writes_nothing(calendar: Backend, tmp_path: Path) -> None:
    world = World(tmp_path, calendar)
    world.cycle(START)
    before = calendar.snapshot()
    for _ in range(2):
        again = world.cycle(START + timedelta(minutes=5))
        assert again.writes == 0 and not again.actions and not again.failed
    assert calendar.snapshot() == before


def test_a_replan_changes_only_liftruns_own_events(calendar: Backend, tmp_path: Path) -> None:
    world = World(tmp_path, calendar)
    world.cycle(START)
    times = sorted(calendar.times().items(), key=lambda kv: kv[1])
    foreign = []
    if calendar.shared:  # an event of the athlete's own, at the very time of a session
        foreign = [calendar.add_foreign(*times[3][1]), calendar.add_foreign(*times[7][1])]
    before = calendar.snapshot()
    for _, (start, _end) in times[2:5]:
        world.add_busy(start, hours=1)
    second_week = START + timedelta(days=7)
    world.add_busy(second_week.replace(hour=0), hours=24 * 7)  # nothing fits that week
    now = START + timedelta(days=1)
    report = world.cycle(now)
    counts = report.targets[TARGET]
    assert counts.moved >= 2 and counts.cancelled >= 3 and counts.created >= 1, report.actions
    assert world.overlapping_busy(now) == []
    after = calendar.snapshot()
    assert {k: after.get(k) for k in foreign} == {k: before[k] for k in foreign}
    assert_once_each(world)
    assert_store_agrees(world)
    assert_steady(world, report)


def test_foreign_events_are_never_touched(calendar: Backend, tmp_path: Path) -> None:
    needs_foreign_events(calendar)
    world = World(tmp_path, calendar)
    world.cycle(START)
    times = sorted(calendar.times().values())
    mine = {calendar.add_foreign(start, end) for start, end in times[::2]}
    before = {k: v for k, v in calendar.snapshot().items() if k in mine}
    world.clear_busy()
    for start, _ in times:
        world.add_busy(start, hours=1)  # every session has to move
    report = world.cycle(START)
    assert report.targets[TARGET].moved > 0
    assert {k: v for k, v in calendar.snapshot().items() if k in mine} == before
    assert len(calendar.times()) == len(times)


def test_a_move_by_hand_is_pinned_and_a_deletion_kept(calendar: Backend, tmp_path: Path) -> None:
    needs_hand_edits(calendar)
    world = World(tmp_path, calendar)
    world.cycle(START)
    order = sorted(calendar.times().items(), key=lambda kv: kv[1])
    moved, gone = order[4][0], order[6][0]
    where = calendar.move(moved, timedelta(hours=3))
    calendar.delete(gone)
    world.add_busy(where[0], hours=1)  # busy over the new time: the athlete's choice still wins
    report = world.cycle(START)
    assert [p.session for p in report.pinned] == [moved]
    assert [t.session for t in report.tombstoned] == [gone]
    assert not [a for a in report.actions if a.session in (moved, gone)]  # their event now
    for _ in range(2):
        assert calendar.times()[moved] == where
        assert gone not in calendar.times()
        assert world.cycle(START + timedelta(hours=1)).writes == 0
    assert_once_each(world)


def test_a_dry_run_writes_nothing(calendar: Backend, tmp_path: Path) -> None:
    world = World(tmp_path, calendar)
    first = world.cycle(START, dry_run=True)
    assert len(first.actions) == HORIZON_SESSIONS and first.writes == 0
    assert all(a.reason for a in first.actions)
    assert calendar.seen() == [] and world.rows() == {}
    world.cycle(START)
    before = calendar.snapshot()
    for start, _ in sorted(calendar.times().values())[2:6]:
        world.add_busy(start, hours=1)
    report = world.cycle(START, dry_run=True)
    assert report.actions and report.writes == 0
    assert calendar.snapshot() == before
    assert world.cycle(START).writes == len(report.actions)  # what the dry run announced


@pytest.mark.parametrize("moment", list(Moment))
@pytest.mark.parametrize("at", [0, 5, 9])  # the first, one between, the last
def test_a_cycle_killed_at_a_write_converges(
    calendar: Backend, tmp_path: Path, moment: Moment, at: int
) -> None:
    world = World(tmp_path, calendar)
    with pytest.raises(Crash):
        world.cycle(START, fault=Fault(at, moment))
    landed = at + (moment is Moment.AFTER)
    assert len(calendar.seen()) == landed
    report = world.cycle(START)
    assert report.targets[TARGET].created == HORIZON_SESSIONS - landed
    assert not report.pinned and not report.tombstoned
    assert len(calendar.times()) == HORIZON_SESSIONS
    assert_once_each(world)
    assert_store_agrees(world)
    assert_steady(world, report)


@pytest.mark.parametrize("moment", list(Moment))
def test_a_cycle_killed_while_moving_is_not_the_athletes_edit(
    calendar: Backend, tmp_path: Path, moment: Moment
) -> None:
    world = World(tmp_path, calendar)
    world.cycle(START)
    for start, _ in sorted(calendar.times().values())[3:8]:
        world.add_busy(start, hours=1)
    crashes = 0
    while True:  # each run lands at most two moves, then dies
        try:
            report = world.cycle(START, fault=Fault(1, moment))
        except Crash:
            crashes += 1
            assert crashes <= 10, "the cycle never got through"
            continue
        break
    assert crashes >= 2
    assert not report.pinned and not report.tombstoned
    assert world.overlapping_busy(START) == []
    assert_once_each(world)
    assert_store_agrees(world)
    assert_steady(world, report)
