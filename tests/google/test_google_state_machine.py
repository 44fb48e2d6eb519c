"""The sync engine's state machine with Google Calendar (the v3 emulator through the real
client): meetings in the primary calendar, the athlete's moves and deletions made by another
client, foreign events, crashes before a batch and after a write landed, time passing and clean
cycles; after each clean cycle the engine's promises must hold in the emulator."""

from __future__ import annotations

import os
import shutil
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from adapters.google import client as google_client
from config.loader import load
from sync.engine import run_cycle
from sync.state import StateStore
from sync.wiring import build
from tests.google.test_google_sync import CONFIG, NOW, add_busy, events, training
from tests.google_emulator import RunningEmulator, running_emulator
from tests.sync.harness import Crash, dies_before_recording

FREEZE = timedelta(hours=12)
EXAMPLES = int(os.environ.get("LIFTRUN_MACHINE_EXAMPLES", "30")) // 3 or 1


class GoogleSyncMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self._running = running_emulator()  # a fresh, empty Google per example
        self.emu: RunningEmulator = self._running.__enter__()
        self.dir = Path(tempfile.mkdtemp(prefix="liftrun-google-sm-"))
        self.config = self.dir / "liftrun.toml"
        self.config.write_text(
            CONFIG.format(horizon=14, auth="none", token="", endpoint=self.emu.api_endpoint)
        )
        self.now = NOW
        self.deleted: set[str] = set()
        self.moved: dict[str, tuple[datetime, datetime]] = {}
        self.foreign: dict[str, str] = {}  # event id -> etag
        self.busy: list[tuple[datetime, datetime]] = []
        self.clean = False

    def teardown(self) -> None:
        self._running.__exit__(None, None, None)
        shutil.rmtree(self.dir, ignore_errors=True)

    def _cycle(self) -> Any:
        loaded = load(str(self.config), {})
        with StateStore(loaded.state_dir) as store:
            wiring = build(loaded, self.now, store)
            report = run_cycle(loaded.settings, store, wiring, now=self.now)
            wiring.remember(store)
        return report

    def _events(self) -> dict[str, dict[str, Any]]:
        try:
            return events(self.emu)
        except ValueError:  # no Training calendar yet
            return {}

    def _future(self) -> list[tuple[str, dict[str, Any]]]:
        return sorted(
            (sid, e)
            for sid, e in self._events().items()
            if datetime.fromisoformat(e["start"]["dateTime"]) > self.now + FREEZE
        )

    # -- the world changes ----------------------------------------------------------------------
    @rule(pick=st.integers(0, 30), offset=st.integers(-45, 45))
    def a_meeting_on_a_session(self, pick: int, offset: int) -> None:
        future = self._future()
        if future:
            start = datetime.fromisoformat(future[pick % len(future)][1]["start"]["dateTime"])
            start += timedelta(minutes=offset)
            add_busy(self.emu, start, hours=2)
            self.busy.append((start, start + timedelta(hours=2)))
            self.clean = False

    @rule(pick=st.integers(0, 30), hours=st.sampled_from([-26, -3, 2, 5, 25]))
    def athlete_moves(self, pick: int, hours: int) -> None:
        future = self._future()
        if future:
            sid, e = future[pick % len(future)]
            shift = timedelta(hours=hours)
            start = datetime.fromisoformat(e["start"]["dateTime"]) + shift
            end = datetime.fromisoformat(e["end"]["dateTime"]) + shift
            self.emu.service().events().patch(
                calendarId=training(self.emu),
                eventId=e["id"],
                body={
                    "start": {"dateTime": start.isoformat()},
                    "end": {"dateTime": end.isoformat()},
                },
            ).execute()
            self.moved[sid] = (start, end)
            self.clean = False

    @rule(pick=st.integers(0, 30))
    def athlete_deletes(self, pick: int) -> None:
        future = [(sid, e) for sid, e in self._future() if sid not in self.deleted]
        if future:
            sid, e = future[pick % len(future)]
            self.emu.service().events().delete(
                calendarId=training(self.emu), eventId=e["id"]
            ).execute()
            with StateStore(self.dir / "state") as store:
                row = store.events("google").get(sid)
            if row is not None and row.pending is None:
                self.deleted.add(sid)  # see tests/sync/test_state_machine.py
            self.moved.pop(sid, None)
            self.clean = False

    @rule(pick=st.integers(0, 30))
    def a_foreign_event(self, pick: int) -> None:
        future = self._future()
        if future:
            e = future[pick % len(future)][1]
            made = (
                self.emu.service()
                .events()
                .insert(
                    calendarId=training(self.emu),
                    body={"summary": e["summary"], "start": e["start"], "end": e["end"]},
                )
                .execute()
            )
            self.foreign[made["id"]] = made["etag"]

    @rule(hours=st.integers(1, 40))
    def time_passes(self, hours: int) -> None:
        self.now += timedelta(hours=hours)
        self.clean = False

    # -- liftrun runs ---------------------------------------------------------------------------
    @rule()
    def crash_before_a_batch(self) -> None:
        real = google_client.GoogleClient.batch

        def dies(client: google_client.GoogleClient, *a: Any, **kw: Any) -> Any:
            raise Crash("before the batch")

        google_client.GoogleClient.batch = dies  # type: ignore[method-assign, assignment]
        try:
            self._cycle()
        except Crash:
            self.clean = False
        finally:
            google_client.GoogleClient.batch = real  # type: ignore[method-assign]

    @rule(k=st.integers(0, 8))
    def crash_after_a_write_before_its_record(self, k: int) -> None:
        try:
            with dies_before_recording(k):
                self._cycle()
        except Crash:
            self.clean = False

    @rule()
    def cycle(self) -> None:
        report = self._cycle()
        assert not report.failed, report.as_dict()
        self.clean = True
        again = self._cycle()
        assert again.writes == 0, again.actions

    # -- promises -------------------------------------------------------------------------------
    @invariant()
    def foreign_events_untouched(self) -> None:
        if self.foreign:
            svc, cal = self.emu.service(), training(self.emu)
            for event_id, etag in self.foreign.items():
                got = svc.events().get(calendarId=cal, eventId=event_id).execute()
                assert got["etag"] == etag and got.get("status") != "cancelled"

    @precondition(lambda self: self.clean)
    @invariant()
    def after_a_clean_cycle(self) -> None:
        found = self._events()
        ids = [e["id"] for e in found.values()]
        assert len(ids) == len(set(ids))
        assert not (self.deleted & found.keys()), "a session deleted by hand came back"
        for sid, (start, end) in self.moved.items():
            if sid in found:
                e = found[sid]
                got = (
                    datetime.fromisoformat(e["start"]["dateTime"]),
                    datetime.fromisoformat(e["end"]["dateTime"]),
                )
                assert got == (start, end), f"{sid} was moved by hand and did not stay"
        for sid, e in found.items():
            start = datetime.fromisoformat(e["start"]["dateTime"])
            end = datetime.fromisoformat(e["end"]["dateTime"])
            if sid in self.moved or start < self.now + FREEZE:
                continue
            for b_start, b_end in self.busy:
                assert not (start < b_end and b_start < end), f"{sid} overlaps a meeting"
        with StateStore(self.dir / "state") as store:
            rows = store.events("google")
        assert not any(r.pending for r in rows.values())
        assert {s for s, r in rows.items() if not r.cancelled} == set(found)


def test_google_sync_machine() -> None:
    run_state_machine_as_test(
        GoogleSyncMachine,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=12,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
