"""Hypothesis drives one athlete and one calendar of every kind through busy time coming and
going, edits by hand (where the kind allows them), the athlete's own events, time passing,
clean cycles and cycles killed at any write (before it or after it landed); after every clean
cycle the engine's promises must hold in the calendar as the athlete sees it."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from tests.contract.backends import Backend
from tests.contract.conftest import NewCalendar
from tests.contract.faults import Crash, Fault, Moment
from tests.contract.world import FREEZE_HOURS, START, World

FREEZE = timedelta(hours=FREEZE_HOURS)
EXAMPLES = int(os.environ.get("LIFTRUN_MACHINE_EXAMPLES", "30"))


class CalendarMachine(RuleBasedStateMachine):
    new_calendar: NewCalendar  # set by the test, per kind

    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="liftrun-contract-"))
        self.calendar: Backend = self.new_calendar(self.dir)
        self.world = World(self.dir, self.calendar)
        self.now = START
        self.deleted: set[str] = set()
        self.moved: dict[str, tuple[datetime, datetime]] = {}
        self.foreign: dict[str, str] = {}  # id in the snapshot -> its version
        self.clean = False

    def teardown(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)

    def _future(self, *, include_moved: bool = False) -> list[tuple[str, datetime, datetime]]:
        return sorted(
            (sid, start, end)
            for sid, (start, end) in self.calendar.times().items()
            if start > self.now + FREEZE and (include_moved or sid not in self.moved)
        )

    @initialize(at=st.none() | st.integers(0, 9), moment=st.sampled_from(Moment))
    def first_push(self, at: int | None, moment: Moment) -> None:
        """Every example starts from a pushed calendar, or one whose first push was killed:
        edits by hand and the athlete's own events need something to be beside."""
        if at is None:
            self.cycle()
        else:
            self.cycle_killed_at_a_write(at, moment)

    # -- the world changes ----------------------------------------------------------------------
    @rule(hours=st.integers(1, 40))
    def time_passes(self, hours: int) -> None:
        self.now += timedelta(hours=hours)
        self.clean = False

    @rule(pick=st.integers(0, 30), offset=st.integers(-60, 60), hours=st.integers(1, 3))
    def busy_on_a_session(self, pick: int, offset: int, hours: int) -> None:
        future = self._future()
        if future:
            start = future[pick % len(future)][1]
            self.world.add_busy(start + timedelta(minutes=offset), hours=hours)
            self.clean = False

    @rule()
    def busy_cleared(self) -> None:
        self.world.clear_busy()
        self.clean = False

    @precondition(lambda self: self.calendar.editable)
    @rule(pick=st.integers(0, 30), hours=st.sampled_from([-26, -3, 2, 5, 25]))
    def athlete_moves(self, pick: int, hours: int) -> None:
        future = self._future(include_moved=True)  # moving a pinned session again, too
        if future:
            sid = future[pick % len(future)][0]
            self.moved[sid] = self.calendar.move(sid, timedelta(hours=hours))
            self.clean = False

    @precondition(lambda self: self.calendar.editable)
    @rule(pick=st.integers(0, 30))
    def athlete_deletes(self, pick: int) -> None:
        future = [f for f in self._future() if f[0] not in self.deleted]
        if future:
            sid = future[pick % len(future)][0]
            self.calendar.delete(sid)
            row = self.world.rows().get(sid)
            if row is not None and row.etag and row.pending in (None, "update"):
                # liftrun knows this event landed (a move of it may be in flight), so its
                # absence can only be the athlete's doing. While its own create or cancel is
                # unconfirmed (killed between the write and the record) the two cannot be told
                # apart, and liftrun recreates rather than risk losing a session.
                self.deleted.add(sid)
            self.clean = False

    @precondition(lambda self: self.calendar.shared)
    @rule(pick=st.integers(0, 30))
    def athletes_own_event(self, pick: int) -> None:
        times = sorted(self.calendar.times().values())
        if times:
            key = self.calendar.add_foreign(*times[pick % len(times)])
            self.foreign[key] = self.calendar.snapshot()[key]

    # -- liftrun runs ---------------------------------------------------------------------------
    @rule()
    def cycle(self) -> None:
        report = self.world.cycle(self.now)
        assert not report.failed, report.as_dict()
        self.clean = True
        again = self.world.cycle(self.now)
        assert again.writes == 0, again.actions  # idempotent

    @rule(at=st.integers(0, 12), moment=st.sampled_from(Moment))
    def cycle_killed_at_a_write(self, at: int, moment: Moment) -> None:
        try:
            self.world.cycle(self.now, fault=Fault(at, moment))
        except Crash:
            self.clean = False

    # -- promises -------------------------------------------------------------------------------
    @invariant()
    def no_duplicates_and_the_athletes_events_untouched(self) -> None:
        counts = Counter(s.session_id for s in self.calendar.seen())
        assert not [sid for sid, n in counts.items() if n > 1], counts
        if self.foreign:
            snapshot = self.calendar.snapshot()
            assert {k: snapshot.get(k) for k in self.foreign} == self.foreign

    @precondition(lambda self: self.clean)
    @invariant()
    def after_a_clean_cycle(self) -> None:
        events = self.calendar.times()
        assert not (self.deleted & events.keys()), "a session deleted by hand came back"
        for sid, times in self.moved.items():
            if sid in events and sid not in self.deleted:
                assert events[sid] == times, f"{sid} was moved by hand and did not stay"
        for sid, (start, end) in events.items():
            if sid in self.moved or start < self.now + FREEZE:
                continue
            for b_start, b_end in self.world.busy:
                assert not (start < b_end and b_start < end), f"{sid} overlaps busy time"
        pinned, tombstoned = self.world.edits_taken_in()
        assert tombstoned <= self.deleted, "a session lost: taken for deleted by hand"
        assert pinned <= self.moved.keys(), "a session taken for moved by hand"
        rows = self.world.rows()
        assert not any(r.pending for r in rows.values())
        assert {s for s, r in rows.items() if not r.cancelled} == set(events)


def test_calendar_machine(new_calendar: NewCalendar, tmp_path: Path) -> None:
    cost = new_calendar(tmp_path).cost
    machine = type("Machine", (CalendarMachine,), {"new_calendar": staticmethod(new_calendar)})
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=EXAMPLES // cost or 1,
            stateful_step_count=20 if cost == 1 else 12,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
