"""The sync engine's state machine again, with a real CalDAV server as the athlete's calendar:
hypothesis interleaves busy meetings, the athlete's moves and deletions made over HTTP (as a
calendar app makes them), foreign events, crashes before a PUT and after a write landed, time
passing and clean cycles; after each clean cycle the engine's promises must hold on the server.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from datetime import UTC, datetime, timedelta
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

from adapters.caldav import client as caldav_client
from adapters.caldav.target import CalDAVTarget
from adapters.protocol import OwnedEvent
from config.loader import load
from sync.engine import run_cycle
from sync.state import StateStore
from sync.wiring import build
from tests.caldav.servers import PASSWORD, Server, delete_event, get_event, make_calendar
from tests.caldav.servers import put_event as put
from tests.caldav.test_caldav_adapter import _athlete_moves, _cal, _event
from tests.caldav.test_caldav_sync import CONFIG, NOW
from tests.sync.harness import Crash, dies_before_recording

FREEZE = timedelta(hours=12)
FAR = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
EXAMPLES = int(os.environ.get("LIFTRUN_MACHINE_EXAMPLES", "30")) // 5 or 1


class CalDAVSyncMachine(RuleBasedStateMachine):
    server: Server  # set by the test before the machine runs

    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="liftrun-dav-sm-"))
        unique = uuid.uuid4().hex[:8]
        self.work = make_calendar(self.server, f"Work {unique}", f"work-{unique}")
        self.training_name = f"Training {unique}"
        auth = (
            f'username = "{self.server.username}"\npassword = "{PASSWORD}"'
            if self.server.username
            else ""
        )
        self.config = self.dir / "liftrun.toml"
        self.config.write_text(
            CONFIG.format(
                url=self.server.url, auth=auth, push_to=self.training_name, busy=f"Work {unique}"
            ).replace(
                'plan_start = "2027-03-08"', 'plan_start = "2027-03-08"\n[sync]\nhorizon_days = 14'
            )
        )
        self.now = NOW
        self.deleted: set[str] = set()
        self.moved: dict[str, tuple[datetime, datetime]] = {}
        self.foreign: dict[str, str] = {}  # href -> etag
        self.busy: list[tuple[datetime, datetime]] = []
        self.clean = False
        self.count = 0

    def teardown(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- the athlete's view of the server -------------------------------------------------------
    def owned(self) -> dict[str, list[OwnedEvent]]:
        scratch = Path(tempfile.mkdtemp(dir=self.dir))
        target = CalDAVTarget(
            self.server.url,
            username=self.server.username,
            password=self.server.password,
            calendar=self.training_name,
            timezone="Europe/Berlin",
            now=self.now,
            cache_dir=scratch,
            create=True,
        )
        out: dict[str, list[OwnedEvent]] = {}
        for e in target.list_owned(*FAR):
            out.setdefault(e.session_id, []).append(e)
        return out

    def _future(self, *, include_moved: bool = False) -> list[OwnedEvent]:
        return sorted(
            (
                evs[0]
                for sid, evs in self.owned().items()
                if evs[0].start > self.now + FREEZE and (include_moved or sid not in self.moved)
            ),
            key=lambda e: e.session_id,
        )

    def _cycle(self) -> Any:
        loaded = load(str(self.config), {})
        with StateStore(loaded.state_dir) as store:
            wiring = build(loaded, self.now, store)
            report = run_cycle(loaded.settings, store, wiring, now=self.now)
            for remember in wiring.learnt:
                remember(store)
        return report

    # -- the world changes ----------------------------------------------------------------------
    @rule(pick=st.integers(0, 30), offset=st.integers(-45, 45))
    def a_meeting_on_a_session(self, pick: int, offset: int) -> None:
        future = self._future()
        if future:
            start = future[pick % len(future)].start + timedelta(minutes=offset)
            end = start + timedelta(hours=2)
            self.count += 1
            body = (
                f"SUMMARY:Meeting\r\nDTSTART:{start.astimezone(UTC):%Y%m%dT%H%M%SZ}\r\n"
                f"DTEND:{end.astimezone(UTC):%Y%m%dT%H%M%SZ}\r\n"
            )
            put(
                self.server, f"{self.work}m{self.count}.ics", _cal(_event(f"m{self.count}@x", body))
            )
            self.busy.append((start, end))
            self.clean = False

    @rule(pick=st.integers(0, 30), hours=st.sampled_from([-26, -3, 2, 5, 25]))
    def athlete_moves(self, pick: int, hours: int) -> None:
        future = self._future(include_moved=True)  # moving a pinned session again, too
        if future:
            e = future[pick % len(future)]
            _athlete_moves(self.server, e, hours)
            self.moved[e.session_id] = (
                e.start + timedelta(hours=hours),
                e.end + timedelta(hours=hours),
            )
            self.clean = False

    @rule(pick=st.integers(0, 30))
    def athlete_deletes(self, pick: int) -> None:
        future = [e for e in self._future() if e.session_id not in self.deleted]
        if future:
            e = future[pick % len(future)]
            assert delete_event(self.server, e.remote_id) in (200, 204)
            with StateStore(self.dir / "state") as store:
                row = store.events("training").get(e.session_id)
            if row is not None and row.pending is None:
                self.deleted.add(e.session_id)  # see tests/sync/test_state_machine.py
            self.clean = False

    @rule()
    def a_foreign_event(self) -> None:
        evs = self.owned()
        if not evs:
            return
        first = next(iter(evs.values()))[0]
        calendar = first.remote_id.rsplit("/", 1)[0] + "/"
        self.count += 1
        body = (
            f"SUMMARY:Easy run 40 min\r\nDTSTART:{first.start.astimezone(UTC):%Y%m%dT%H%M%SZ}\r\n"
            f"DTEND:{first.end.astimezone(UTC):%Y%m%dT%H%M%SZ}\r\n"
        )
        href = f"{calendar}foreign{self.count}.ics"
        self.foreign[href] = put(self.server, href, _cal(_event(f"f{self.count}@x", body)))

    @rule(hours=st.integers(1, 40))
    def time_passes(self, hours: int) -> None:
        self.now += timedelta(hours=hours)
        self.clean = False

    # -- liftrun runs ---------------------------------------------------------------------------
    @rule(k=st.integers(0, 8))
    def crash_before_a_put(self, k: int) -> None:
        real = caldav_client.CalDAVClient.put
        calls = iter(range(1000))

        def put_or_die(client: caldav_client.CalDAVClient, *a: Any, **kw: Any) -> Any:
            if next(calls) == k:
                raise Crash("before the PUT")
            return real(client, *a, **kw)

        caldav_client.CalDAVClient.put = put_or_die  # type: ignore[method-assign, assignment]
        try:
            self._cycle()
        except Crash:
            self.clean = False
        finally:
            caldav_client.CalDAVClient.put = real  # type: ignore[method-assign]

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
        for href, etag in self.foreign.items():
            status, _, now_etag = get_event(self.server, href)
            assert status == 200 and now_etag == etag, href

    @precondition(lambda self: self.clean)
    @invariant()
    def after_a_clean_cycle(self) -> None:
        owned = self.owned()
        for sid, evs in owned.items():
            assert len(evs) == 1, f"{sid} is on the server {len(evs)} times"
        assert not (self.deleted & owned.keys()), "a session deleted by hand came back"
        for sid, times in self.moved.items():
            if sid in owned and sid not in self.deleted:
                assert (owned[sid][0].start, owned[sid][0].end) == times
        for sid, (e,) in owned.items():
            if sid in self.moved or e.start < self.now + FREEZE:
                continue
            for b_start, b_end in self.busy:
                assert not (e.start < b_end and b_start < e.end), f"{sid} overlaps a meeting"
        with StateStore(self.dir / "state") as store:
            rows = {s for s, r in store.events("training").items() if not r.cancelled}
            assert not any(r.pending for r in store.events("training").values())
        assert rows == set(owned), "state store and server disagree"


def test_caldav_sync_machine(server: Server) -> None:
    CalDAVSyncMachine.server = server
    run_state_machine_as_test(
        CalDAVSyncMachine,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=12,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
