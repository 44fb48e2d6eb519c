"""Hypothesis drives the engine through busy changes, the athlete's edits, crashes at any
write (before or after it lands), time passing and clean cycles; after every clean cycle the
engine's promises must hold."""

from __future__ import annotations

import os
import shutil
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from sync.state import StateStore
from tests.sync.harness import START, Crash, Rig, dies_before_recording

FREEZE = timedelta(hours=12)


class SyncMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="liftrun-sm-"))
        self.rig = Rig(self.dir, horizon=14)
        self.now = START
        self.deleted: set[str] = set()
        self.moved: dict[str, tuple[datetime, datetime]] = {}
        self.clean = False

    def teardown(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)

    def _future(self, *, include_moved: bool = False) -> list[str]:
        return sorted(
            sid
            for sid, (start, _) in self.rig.times().items()
            if start > self.now + FREEZE and (include_moved or sid not in self.moved)
        )

    # -- the world changes ----------------------------------------------------------------------
    @rule(pick=st.integers(0, 30), offset=st.integers(-60, 60), hours=st.integers(1, 3))
    def busy_on_a_session(self, pick: int, offset: int, hours: int) -> None:
        future = self._future()
        if future:
            start = self.rig.times()[future[pick % len(future)]][0]
            self.rig.add_busy(start + timedelta(minutes=offset), hours=hours)
            self.clean = False

    @rule()
    def busy_cleared(self) -> None:
        for path in self.rig.busy.glob("*.ics"):
            path.unlink()
        self.clean = False

    @rule(pick=st.integers(0, 30), hours=st.integers(-30, 30).filter(lambda h: h != 0))
    def athlete_moves(self, pick: int, hours: int) -> None:
        future = self._future(include_moved=True)  # moving a pinned session again, too
        if future:
            sid = future[pick % len(future)]
            self.moved[sid] = self.rig.move(sid, timedelta(hours=hours))
            self.clean = False

    @rule(pick=st.integers(0, 30))
    def athlete_deletes(self, pick: int) -> None:
        future = [s for s in self._future() if s not in self.deleted]
        if future:
            sid = future[pick % len(future)]
            self.rig.delete(sid)
            with StateStore(self.dir / "state") as store:
                row = store.events("training").get(sid)
            if row is not None and row.pending is None:
                # liftrun knows this event landed, so its absence can only be the athlete's
                # doing. While its own create is unconfirmed (a crash between the write and
                # the record) the two cannot be told apart, and liftrun recreates rather than
                # risk losing a session.
                self.deleted.add(sid)
            self.clean = False

    @rule(pick=st.integers(0, 30))
    def foreign_event(self, pick: int) -> None:
        times = sorted(self.rig.times().values())
        if times:
            self.rig.add_foreign("Easy run", times[pick % len(times)][0])

    @rule(hours=st.integers(1, 40))
    def time_passes(self, hours: int) -> None:
        self.now += timedelta(hours=hours)
        self.clean = False

    # -- liftrun runs ---------------------------------------------------------------------------
    @rule(k=st.integers(0, 12))
    def crash_before_a_write(self, k: int) -> None:
        try:
            self.rig.cycle(self.now, crash_at=k)
        except Crash:
            self.clean = False

    @rule(k=st.integers(0, 12))
    def crash_after_a_write_before_its_record(self, k: int) -> None:
        try:
            with dies_before_recording(k):
                self.rig.cycle(self.now)
        except Crash:
            self.clean = False

    @rule()
    def cycle(self) -> None:
        report = self.rig.cycle(self.now)
        assert not report.failed, report.as_dict()
        self.clean = True
        again = self.rig.cycle(self.now)
        assert again.writes == 0, again.actions  # idempotent

    # -- promises -------------------------------------------------------------------------------
    @invariant()
    def no_duplicates_and_foreign_untouched(self) -> None:
        for sid, files in self.rig.events().items():
            assert len(files) == 1, f"{sid} in {len(files)} files"
        for name, data in self.rig.foreign.items():
            assert (self.rig.training / name).read_bytes() == data

    @precondition(lambda self: self.clean)
    @invariant()
    def after_a_clean_cycle(self) -> None:
        events = self.rig.times()
        assert not (self.deleted & events.keys()), "a session deleted by hand came back"
        for sid, times in self.moved.items():
            if sid in events and sid not in self.deleted:
                assert events[sid] == times, f"{sid} was moved by hand and did not stay"
        busy = self.rig.busy_intervals()
        for sid, (start, end) in events.items():
            if sid in self.moved or start < self.now + FREEZE:
                continue
            for b_start, b_end in busy:
                assert not (start < b_end and b_start < end), f"{sid} overlaps busy time"
        with StateStore(self.dir / "state") as store:
            rows = {s: r for s, r in store.events("training").items() if not r.cancelled}
        assert set(rows) == set(events), "state store and calendar disagree"
        assert not any(r.pending for r in rows.values())


SyncMachine.TestCase.settings = settings(
    max_examples=int(os.environ.get("LIFTRUN_MACHINE_EXAMPLES", "30")),
    stateful_step_count=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_sync_machine = SyncMachine.TestCase
