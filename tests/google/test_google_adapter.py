"""The Google Calendar adapter against the v3 emulator through the real googleapiclient (no
mocks): pushes in batches within a request budget, incremental reads, the athlete's moves and
deletes, foreign events, the 409 id trap, stale etags, expired sync tokens, rate limits and
dropped connections, free/busy chunking and per-calendar errors, a deleted Training calendar,
and credentials (token files, refresh, revocation)."""

from __future__ import annotations

import json
import logging
import math
import os
import stat
import threading
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import google.oauth2.credentials
import pytest

from adapters.cache import Cache
from adapters.google.auth import (
    KEY_FILE_CAP,
    SCOPES,
    TokenFileCredentials,
    build_credentials,
    load_token,
    run_flow,
    save_token,
)
from adapters.google.client import MAX_ATTEMPTS, GoogleClient
from adapters.google.source import GoogleSource
from adapters.google.target import CalendarRecreated, GoogleTarget, event_id, parse_event_id
from adapters.protocol import (
    Action,
    ActionKind,
    AdapterError,
    AlreadyExists,
    AuthFailed,
    BusySource,
    CalendarTarget,
    NotFound,
    Outcome,
    OwnedEvent,
    PreconditionFailed,
    SourceUnavailable,
    TargetReset,
    Unreachable,
    content_hash,
)
from config.fields import is_loopback
from planner.model import Focus, Kind, PhaseName, Session
from tests.google_emulator import RunningEmulator, running_emulator
from tests.google_emulator.dispatch import Emulator
from tests.google_emulator.faults import Fault

TZ = "Europe/Berlin"
ZONE = ZoneInfo(TZ)
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
FAR = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
Json = dict[str, Any]


# --------------------------------------------------------------------------------------------
# Helpers


class Waits:
    """Records every back-off instead of sleeping it."""

    def __init__(self) -> None:
        self.slept: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.slept.append(seconds)


@pytest.fixture
def waits() -> Waits:
    return Waits()


def make_sessions(n: int, first: date = date(2027, 1, 4)) -> list[Session]:
    out = []
    for i in range(n):
        day = first + timedelta(days=i // 2)
        start = datetime(day.year, day.month, day.day, 7 if i % 2 == 0 else 18, tzinfo=ZONE)
        kind = Kind.RUN if i % 2 == 0 else Kind.LIFT
        out.append(
            Session(
                id=f"{day:%Y%m%d}-{kind.value}-{i % 2 + 1}",
                date=day,
                kind=kind,
                focus=Focus.EASY if kind is Kind.RUN else Focus.FULL,
                phase=PhaseName.BASE,
                duration_minutes=45,
                title=f"{'Easy run' if kind is Kind.RUN else 'Full-body lift'} 45 min",
                description="Conversational pace.",
                rules=("R1", "S3"),
                reason="base phase volume",
                start=start,
                end=start + timedelta(minutes=45),
            )
        )
    return out


def target(
    emu: RunningEmulator, cache: Path, waits: Waits | None = None, **kw: Any
) -> GoogleTarget:
    options: dict[str, Any] = {
        "api_endpoint": emu.api_endpoint,
        "credentials": None,
        "timezone": TZ,
        "now": NOW,
        "cache": Cache(cache),
        "retry_wait": lambda n: 0.0,
        "sleep": waits or Waits(),
    }
    options.update(kw)
    return GoogleTarget(**options)


def creates(items: list[Session]) -> list[Action]:
    return [
        Action(ActionKind.CREATE, s.id, "new", session=s, content_hash=content_hash(s, 30))
        for s in items
    ]


def ok(outcomes: list[Outcome]) -> list[OwnedEvent]:
    assert [o.error for o in outcomes if o.error] == []
    return [o.event for o in outcomes if o.event is not None]


def push(t: GoogleTarget, items: list[Session]) -> list[OwnedEvent]:
    t.list_owned(*FAR)
    return ok(list(t.apply(creates(items))))


def training_id(emu: RunningEmulator) -> str:
    return next(c.id for c in emu.store.calendars.values() if c.resource["summary"] == "Training")


def batches(emu: RunningEmulator) -> int:
    """HTTP requests the emulator saw: plain ones plus one per batch (parts are logged)."""
    return emu.log.count(in_batch=False)


# --------------------------------------------------------------------------------------------
# Ids


def test_event_ids_are_base32hex_deterministic_and_reversible() -> None:
    eid = event_id("20270104-run-easy-1", 0)
    assert set(eid) <= set("0123456789abcdefghijklmnopqrstuv")
    assert 5 <= len(eid) <= 1024
    assert eid == event_id("20270104-run-easy-1", 0) != event_id("20270104-run-easy-1", 1)
    assert parse_event_id(eid) == ("20270104-run-easy-1", 0)
    assert parse_event_id(event_id("a/b", 12)) == ("a/b", 12)
    for foreign in ("abcdef12345", "lr", "lrzz", "lr" + eid[2:-1]):
        assert parse_event_id(foreign) is None


# --------------------------------------------------------------------------------------------
# Pushing and reading back


@pytest.mark.parametrize("count", [20, 120])
def test_full_push_in_batches_then_quiet_cycles(
    emu: RunningEmulator, tmp_path: Path, count: int
) -> None:
    t = target(emu, tmp_path)
    assert isinstance(t, CalendarTarget)
    items = make_sessions(count)
    assert t.list_owned(*FAR) == []
    events = ok(list(t.apply(creates(items))))
    budget = math.ceil(count / 50) + 3  # calendarList, calendars.insert, events.list + batches
    assert t.requests_made <= budget
    assert batches(emu) == 3  # everything else went in batches
    assert emu.log.count("POST", "/events", in_batch=True) == count
    assert len(events) == count and {e.remote_id for e in events} == {event_id(s.id) for s in items}
    assert t.learned() == training_id(emu)
    live = emu.store.live_events(t.calendar_id)
    assert len(live) == count
    one = next(e for e in live if e["id"] == event_id(items[0].id))
    assert one["summary"] == items[0].title
    assert one["reminders"] == {
        "useDefault": False,
        "overrides": [{"method": "popup", "minutes": 30}],
    }
    assert one["transparency"] == "opaque"
    assert one["start"] == {"dateTime": "2027-01-04T07:00:00+01:00", "timeZone": TZ}
    assert one["extendedProperties"]["private"]["liftrunSession"] == items[0].id

    owned = t.list_owned(*FAR)
    assert {o.session_id for o in owned} == {s.id for s in items}
    assert not any(o.moved_by_hand or o.cancelled for o in owned)
    by_id = {o.session_id: o for o in owned}
    assert by_id[items[0].id].start == items[0].start
    assert by_id[items[0].id].content_hash == content_hash(items[0], 30)

    before = t.requests_made
    again = target(emu, tmp_path)  # a new process: the cache file carries the sync token
    assert {o.session_id for o in again.list_owned(*FAR)} == {s.id for s in items}
    assert list(again.apply([])) == []
    assert again.requests_made <= 3 and again.requests_made == 1
    assert t.requests_made == before


def test_a_lost_damaged_or_older_cache_costs_only_a_full_read(
    emu: RunningEmulator, tmp_path: Path
) -> None:
    """After an upgrade (the previous version's file is not read) or a damaged cache, the
    target finds its calendar by name and recognises its own events by their marks."""
    items = make_sessions(3)
    first = target(emu, tmp_path)
    push(first, items)
    entries = list(tmp_path.glob("*.cache"))
    assert entries
    for entry in entries:
        entry.write_bytes(entry.read_bytes()[:-2])
    old = {"version": 1, "calendar_id": "gone", "events": {}, "deleted": {}}
    (tmp_path / "google-target-0123456789abcdef0123.json").write_text(json.dumps(old))
    emu.log.clear()
    again = target(emu, tmp_path)
    assert {o.session_id for o in again.list_owned(*FAR)} == {s.id for s in items}
    assert again.calendar_id == first.calendar_id
    assert emu.log.count("POST", "/calendars") == 0  # found, not created a second time


def test_list_owned_filters_by_window(emu: RunningEmulator, tmp_path: Path) -> None:
    t = target(emu, tmp_path)
    items = make_sessions(6)
    push(t, items)
    day = datetime(2027, 1, 5, tzinfo=ZONE)
    inside = t.list_owned(day, day + timedelta(days=1))
    assert {o.session_id for o in inside} == {s.id for s in items if s.date == day.date()}


def test_remembered_calendar_id_is_used_without_lookup(
    emu: RunningEmulator, tmp_path: Path
) -> None:
    made = emu.store.create_calendar("Mine")
    t = target(emu, tmp_path, calendar_id=made.id)
    push(t, make_sessions(2))
    assert emu.log.count("GET", "calendarList") == 0
    assert len(emu.store.live_events(made.id)) == 2
    assert t.learned() == made.id


def test_existing_training_calendar_is_found_by_name(emu: RunningEmulator, tmp_path: Path) -> None:
    made = emu.store.create_calendar("Training")
    t = target(emu, tmp_path)
    assert t.calendar_id == made.id
    assert emu.log.count("POST", "/calendars") == 0


def test_athlete_moves_and_deletes(emu: RunningEmulator, tmp_path: Path) -> None:
    t = target(emu, tmp_path)
    items = make_sessions(4)
    push(t, items)
    t.list_owned(*FAR)
    svc = emu.service()  # the athlete's calendar app, another client
    moved_id, deleted_id = event_id(items[0].id), event_id(items[1].id)
    svc.events().patch(
        calendarId=t.calendar_id,
        eventId=moved_id,
        body={
            "start": {"dateTime": "2027-01-04T09:00:00+01:00"},
            "end": {"dateTime": "2027-01-04T09:45:00+01:00"},
        },
    ).execute()
    svc.events().delete(calendarId=t.calendar_id, eventId=deleted_id).execute()
    emu.log.clear()
    owned = {o.session_id: o for o in t.list_owned(*FAR)}
    assert batches(emu) == 1
    assert owned[items[0].id].moved_by_hand
    assert owned[items[0].id].start == datetime(2027, 1, 4, 9, tzinfo=ZONE)
    assert owned[items[0].id].placed == (items[0].start, items[0].end)
    assert items[1].id not in owned
    assert not owned[items[2].id].moved_by_hand


def test_foreign_events_are_never_listed_or_touched(emu: RunningEmulator, tmp_path: Path) -> None:
    t = target(emu, tmp_path)
    items = make_sessions(2)
    push(t, items)
    svc = emu.service()
    cal = t.calendar_id
    when = {
        "start": {"dateTime": "2027-01-04T12:00:00+01:00"},
        "end": {"dateTime": "2027-01-04T13:00:00+01:00"},
    }
    svc.events().insert(calendarId=cal, body={"summary": "Physio", **when}).execute()
    mimic = {  # claims to be ours, but its id is not one of ours
        "id": "abcdef0123456",
        "summary": "Fake",
        "extendedProperties": {"private": {"liftrun": "1", "liftrunSession": items[0].id}},
        **when,
    }
    svc.events().insert(calendarId=cal, body=mimic).execute()
    borrowed = {  # our id scheme, but not marked as ours
        "id": event_id("someone-else"),
        "summary": "Borrowed",
        **when,
    }
    svc.events().insert(calendarId=cal, body=borrowed).execute()
    owned = t.list_owned(*FAR)
    assert {o.session_id for o in owned} == {s.id for s in items}
    cancels = [Action(ActionKind.CANCEL, o.session_id, "gone", current=o) for o in owned]
    assert all(o.error is None for o in t.apply(cancels))
    assert sorted(e["summary"] for e in emu.store.live_events(cal)) == [
        "Borrowed",
        "Fake",
        "Physio",
    ]
    assert t.list_owned(*FAR) == []


def test_update_patches_and_keeps_the_athletes_fields(emu: RunningEmulator, tmp_path: Path) -> None:
    t = target(emu, tmp_path)
    items = make_sessions(1)
    push(t, items)
    emu.service().events().patch(
        calendarId=t.calendar_id, eventId=event_id(items[0].id), body={"location": "Track"}
    ).execute()
    current = t.list_owned(*FAR)[0]
    later = make_sessions(1, first=date(2027, 1, 5))[0]
    later = Session(**{**later.__dict__, "id": items[0].id})
    h = content_hash(later, 30)
    action = Action(
        ActionKind.UPDATE, later.id, "moved", session=later, content_hash=h, current=current
    )
    (outcome,) = list(t.apply([action]))
    assert outcome.error is None and outcome.event is not None
    assert outcome.event.start == later.start and not outcome.event.moved_by_hand
    assert outcome.event.etag != current.etag
    stored = emu.store.live_events(t.calendar_id)[0]
    assert stored["location"] == "Track" and stored["start"]["dateTime"].startswith("2027-01-05")
    assert stored["extendedProperties"]["private"]["liftrunHash"] == h


def test_replayed_create_after_a_crash_is_already_exists(
    emu: RunningEmulator, tmp_path: Path
) -> None:
    items = make_sessions(3)
    first = target(emu, tmp_path / "a")
    push(first, items)
    # the process died before the engine recorded anything; the next run creates again
    second = target(emu, tmp_path / "b", calendar_id=first.calendar_id)
    outcomes = list(second.apply(creates(items)))
    assert all(isinstance(o.error, AlreadyExists) for o in outcomes)
    assert len(emu.store.live_events(first.calendar_id)) == 3  # no duplicate
    # the same with a warm cache (the create replayed by the same process)
    outcomes = list(first.apply(creates(items[:1])))
    assert isinstance(outcomes[0].error, AlreadyExists)
    assert {o.session_id for o in second.list_owned(*FAR)} == {s.id for s in items}


def test_create_after_deletion_uses_the_next_generation(
    emu: RunningEmulator, tmp_path: Path
) -> None:
    items = make_sessions(3)
    t = target(emu, tmp_path / "a")
    push(t, items)
    cal = t.calendar_id
    svc = emu.service()
    for s in items[:2]:
        svc.events().delete(calendarId=cal, eventId=event_id(s.id)).execute()

    # a cache that knows nothing of the deletions walks through the 409
    cold = target(emu, tmp_path / "b", calendar_id=cal)
    emu.log.clear()
    events = ok(list(cold.apply(creates(items[:1]))))
    assert events[0].remote_id == event_id(items[0].id, 1)
    assert emu.log.count("POST", "/events", in_batch=True) == 2  # 409, then generation 1
    assert emu.log.count("GET", "/events/", in_batch=True) == 1
    assert cold.requests_made == 3

    # a cache that saw the deletion in its sync goes straight to generation 1
    t.list_owned(*FAR)
    before = t.requests_made
    events = ok(list(t.apply(creates(items[1:2]))))
    assert events[0].remote_id == event_id(items[1].id, 1)
    assert t.requests_made - before == 1
    # and deleting generation 1 again leads to generation 2
    svc.events().delete(calendarId=cal, eventId=event_id(items[1].id, 1)).execute()
    t.list_owned(*FAR)
    assert ok(list(t.apply(creates(items[1:2]))))[0].remote_id == event_id(items[1].id, 2)
    owned = {o.session_id: o.remote_id for o in t.list_owned(*FAR)}
    assert owned == {
        items[0].id: event_id(items[0].id, 1),
        items[1].id: event_id(items[1].id, 2),
        items[2].id: event_id(items[2].id, 0),
    }


def test_stale_etag_is_precondition_failed_and_gone_is_not_found(
    emu: RunningEmulator, tmp_path: Path
) -> None:
    t = target(emu, tmp_path)
    items = make_sessions(3)
    push(t, items)
    owned = {o.session_id: o for o in t.list_owned(*FAR)}
    svc = emu.service()
    cal = t.calendar_id
    svc.events().patch(
        calendarId=cal, eventId=event_id(items[0].id), body={"summary": "mine now"}
    ).execute()
    svc.events().delete(calendarId=cal, eventId=event_id(items[1].id)).execute()
    s0 = items[0]
    actions = [
        Action(
            ActionKind.UPDATE,
            s0.id,
            "update",
            session=s0,
            content_hash="x",
            current=owned[s0.id],
        ),
        Action(ActionKind.CANCEL, s0.id, "cancel", current=owned[s0.id]),
        Action(ActionKind.CANCEL, items[1].id, "cancel", current=owned[items[1].id]),
        Action(ActionKind.CANCEL, items[2].id, "cancel", current=owned[items[2].id]),
    ]
    outcomes = list(t.apply(actions))
    assert isinstance(outcomes[0].error, PreconditionFailed)
    assert isinstance(outcomes[1].error, PreconditionFailed)
    assert isinstance(outcomes[2].error, NotFound)
    assert outcomes[3].error is None
    assert [e["summary"] for e in emu.store.live_events(cal)] == ["mine now"]


def test_expired_sync_token_means_a_full_read(
    emu: RunningEmulator, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    t = target(emu, tmp_path)
    items = make_sessions(4)
    push(t, items)
    t.list_owned(*FAR)
    emu.service().events().delete(calendarId=t.calendar_id, eventId=event_id(items[0].id)).execute()
    emu.store.invalidate_sync_tokens()
    emu.log.clear()
    with caplog.at_level(logging.WARNING):
        owned = t.list_owned(*FAR)
    assert "fullSyncRequired" in caplog.text
    assert {o.session_id for o in owned} == {s.id for s in items[1:]}
    lists = [e for e in emu.log.entries if e.method == "GET"]
    assert [e.status for e in lists] == [410, 200]
    assert lists[1].query.get("showDeleted") == ["true"]
    # the deletion seen in the full read still steers the next create to generation 1
    assert ok(list(t.apply(creates(items[:1]))))[0].remote_id == event_id(items[0].id, 1)


def test_pagination_is_followed(
    emu: RunningEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("adapters.google.target.PAGE_SIZE", 7)
    t = target(emu, tmp_path)
    items = make_sessions(20)
    push(t, items)
    emu.log.clear()
    assert len(t.list_owned(*FAR)) == 20  # the delta of our own writes, in pages
    assert emu.log.count("GET", "/events") == 3
    fresh = target(emu, tmp_path / "cold", calendar_id=t.calendar_id)
    assert len(fresh.list_owned(*FAR)) == 20
    assert fresh.requests_made == 3


# --------------------------------------------------------------------------------------------
# Failures and retries


def test_429_waits_as_long_as_retry_after_says(
    emu: RunningEmulator, tmp_path: Path, waits: Waits
) -> None:
    t = target(emu, tmp_path, waits)
    t.list_owned(*FAR)
    emu.faults.too_many_requests(times=1, retry_after=7, path=r"/events$", target="request")
    t.list_owned(*FAR)
    assert waits.slept == [7.0]
    emu.faults.too_many_requests(times=2, retry_after=3, method="POST", target="batch_part")
    events = ok(list(t.apply(creates(make_sessions(5)))))
    assert len(events) == 5
    assert waits.slept == [7.0, 3.0]  # the two failed calls went again in one smaller batch
    assert emu.log.count("POST", "/events", in_batch=True) == 7


def test_rate_limit_403_and_5xx_are_retried(
    emu: RunningEmulator, tmp_path: Path, waits: Waits
) -> None:
    t = target(emu, tmp_path, waits)
    emu.faults.rate_limited_403("rateLimitExceeded", times=1, path="calendarList")
    emu.faults.rate_limited_403("userRateLimitExceeded", times=1, path="calendarList")
    emu.faults.server_error(503, times=1, method="POST", path=r"/calendars$")
    emu.faults.server_error(500, times=1, path=r"/events$")
    assert t.list_owned(*FAR) == []
    assert len(waits.slept) == 4
    assert len(emu.store.calendars) == 2  # the failed insert was not repeated blindly
    emu.faults.server_error(503, times=1, target="batch_part")
    assert len(ok(list(t.apply(creates(make_sessions(3)))))) == 3
    assert len(waits.slept) == 5


def test_forbidden_403_is_not_retried(emu: RunningEmulator, tmp_path: Path, waits: Waits) -> None:
    t = target(emu, tmp_path, waits)
    emu.faults.add(Fault(403, "forbidden", message="Forbidden", path="calendarList"))
    with pytest.raises(AdapterError, match="403 forbidden"):
        t.list_owned(*FAR)
    assert waits.slept == [] and t.requests_made == 1


def test_dropped_connection_is_retried(emu: RunningEmulator, tmp_path: Path, waits: Waits) -> None:
    t = target(emu, tmp_path, waits)
    t.list_owned(*FAR)
    emu.faults.drop_connection(times=2, path=r"/events$")
    assert t.list_owned(*FAR) == []
    assert len(waits.slept) == 1
    emu.faults.drop_connection(times=2, target="batch_part")
    assert len(ok(list(t.apply(creates(make_sessions(2)))))) == 2
    assert len(waits.slept) == 2


def test_persistent_failure_is_bounded(emu: RunningEmulator, tmp_path: Path, waits: Waits) -> None:
    t = target(emu, tmp_path, waits)
    t.list_owned(*FAR)
    before = t.requests_made
    emu.faults.server_error(503, times=1000)
    with pytest.raises(Unreachable, match=f"{MAX_ATTEMPTS} attempts"):
        t.list_owned(*FAR)
    assert t.requests_made - before == MAX_ATTEMPTS
    assert len(waits.slept) == MAX_ATTEMPTS - 1
    outcomes = t.apply(creates(make_sessions(2)))
    with pytest.raises(Unreachable):
        next(outcomes)
    assert t.requests_made - before == 2 * MAX_ATTEMPTS
    emu.faults.clear()


def test_a_failed_calendar_insert_looks_again_before_it_inserts_again(
    emu: RunningEmulator, tmp_path: Path, waits: Waits
) -> None:
    emu.faults.server_error(503, times=1, method="POST", path=r"/calendars$")
    t = target(emu, tmp_path, waits)
    made = t.calendar_id
    assert made in emu.store.calendars and len(waits.slept) == 1
    # calendarList, the failed insert, calendarList again, the insert
    assert t.requests_made == 4
    assert sum(c.resource["summary"] == "Training" for c in emu.store.calendars.values()) == 1


def test_calendar_insert_gives_up_after_three_attempts(
    emu: RunningEmulator, tmp_path: Path, waits: Waits
) -> None:
    emu.faults.server_error(503, times=1000, method="POST", path=r"/calendars$")
    t = target(emu, tmp_path, waits)
    with pytest.raises(Unreachable, match="creating calendar 'Training'"):
        _ = t.calendar_id
    assert len(waits.slept) == 2 and t.requests_made == 6
    emu.faults.clear()


def test_default_backoff_is_exponential_with_jitter(emu: RunningEmulator, waits: Waits) -> None:
    client = GoogleClient(api_endpoint=emu.api_endpoint, sleep=waits)
    emu.faults.server_error(503, times=3)
    client.call(client.service.calendars().get(calendarId="primary"), "reading")
    assert len(waits.slept) == 3
    assert 1 <= waits.slept[0] <= 2 and 2 <= waits.slept[1] <= 3 and 4 <= waits.slept[2] <= 5


# --------------------------------------------------------------------------------------------
# The Training calendar deleted


def test_deleted_training_calendar_is_recreated_and_reset(
    emu: RunningEmulator, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    t = target(emu, tmp_path)
    items = make_sessions(3)
    push(t, items)
    old = t.calendar_id
    emu.service().calendars().delete(calendarId=old).execute()
    with caplog.at_level(logging.WARNING), pytest.raises(CalendarRecreated) as info:
        t.list_owned(*FAR)
    assert isinstance(info.value, TargetReset)
    assert "was deleted" in str(info.value) and "pushed next cycle" in str(info.value)
    assert "creating it again" in caplog.text
    new = t.learned()
    assert new is not None and new != old and new in emu.store.calendars
    # the next cycle (even a new process that still remembers the old id) reads the new one
    again = target(emu, tmp_path, calendar_id=old)
    assert again.list_owned(*FAR) == []
    assert again.calendar_id == new
    assert len(ok(list(again.apply(creates(items))))) == 3
    assert len(emu.store.live_events(new)) == 3
    assert sum(c.resource["summary"] == "Training" for c in emu.store.calendars.values()) == 1


def test_creates_into_a_vanished_calendar_raise(emu: RunningEmulator, tmp_path: Path) -> None:
    t = target(emu, tmp_path)
    t.list_owned(*FAR)
    emu.store.delete_calendar(t.calendar_id)
    with pytest.raises(AdapterError, match="is gone"):
        list(t.apply(creates(make_sessions(2))))
    with pytest.raises(CalendarRecreated):
        t.list_owned(*FAR)


# --------------------------------------------------------------------------------------------
# Busy time


def test_freebusy_over_sixty_calendars_is_chunked(emu: RunningEmulator, tmp_path: Path) -> None:
    ids = [emu.store.create_calendar(f"Cal {i}").id for i in range(59)]
    ids.append("primary")
    svc = emu.service()
    svc.events().insert(
        calendarId=ids[55],
        body={
            "summary": "Dentist",
            "start": {"dateTime": "2027-01-05T10:00:00Z"},
            "end": {"dateTime": "2027-01-05T11:00:00Z"},
        },
    ).execute()
    for summary, extra in (("Free", {"transparency": "transparent"}), ("Busy", {})):
        svc.events().insert(
            calendarId="primary",
            body={
                "summary": summary,
                "start": {"dateTime": "2027-01-06T10:00:00Z"},
                "end": {"dateTime": "2027-01-06T12:00:00Z"},
                **extra,
            },
        ).execute()
    source = GoogleSource(
        ids, api_endpoint=emu.api_endpoint, timezone=TZ, name="Google", retry_wait=lambda n: 0
    )
    assert isinstance(source, BusySource)
    start = datetime(2027, 1, 1, tzinfo=UTC)
    read = source.read_busy(start, start + timedelta(days=30))
    assert emu.log.count("POST", "freeBusy") == 2 and source.requests_made == 2
    assert read.fresh and read.name == "Google"
    spans = [(b.start.astimezone(UTC), b.end.astimezone(UTC)) for b in read.busy.intervals]
    assert spans == [
        (datetime(2027, 1, 5, 10, tzinfo=UTC), datetime(2027, 1, 5, 11, tzinfo=UTC)),
        (datetime(2027, 1, 6, 10, tzinfo=UTC), datetime(2027, 1, 6, 12, tzinfo=UTC)),
    ]
    assert all(b.start.tzinfo == ZONE and b.source == "Google" for b in read.busy.intervals)

    emu.log.clear()  # a 200-day window: three time slices of two calendar groups each
    long = source.read_busy(start, start + timedelta(days=200))
    assert emu.log.count("POST", "freeBusy") == 6
    assert len(long.busy.intervals) == 2


def test_freebusy_joins_blocks_split_at_a_window_boundary(emu: RunningEmulator) -> None:
    emu.service().events().insert(
        calendarId="primary",
        body={
            "summary": "Trip",
            "start": {"dateTime": "2027-03-30T00:00:00Z"},
            "end": {"dateTime": "2027-04-05T00:00:00Z"},
        },
    ).execute()
    source = GoogleSource(["primary"], api_endpoint=emu.api_endpoint, timezone=TZ)
    start = datetime(2027, 1, 1, tzinfo=UTC)  # + 90 days = 2027-04-01: inside the trip
    read = source.read_busy(start, start + timedelta(days=120))
    assert emu.log.count("POST", "freeBusy") == 2
    (trip,) = read.busy.intervals
    assert (trip.start, trip.end) == (
        datetime(2027, 3, 30, tzinfo=UTC),
        datetime(2027, 4, 5, tzinfo=UTC),
    )


def test_calendar_with_errors_is_never_free(emu: RunningEmulator, tmp_path: Path) -> None:
    source = GoogleSource(
        ["primary", "gone@group.calendar.google.com"],
        api_endpoint=emu.api_endpoint,
        timezone=TZ,
        cache=Cache(tmp_path),
        exclude={"training-id"},
    )
    start = datetime(2027, 1, 1, tzinfo=UTC)
    with pytest.raises(SourceUnavailable, match=r"gone@group\.calendar\.google\.com.*notFound"):
        source.read_busy(start, start + timedelta(days=7))


def test_training_calendar_is_excluded_and_last_good_copy_is_used(
    emu: RunningEmulator, tmp_path: Path
) -> None:
    training = emu.store.create_calendar("Training").id
    source = GoogleSource(
        ["primary", training],
        api_endpoint=emu.api_endpoint,
        timezone=TZ,
        cache=Cache(tmp_path),
        exclude={training},
        retry_wait=lambda n: 0,
        sleep=lambda s: None,
    )
    start = datetime(2027, 1, 1, tzinfo=UTC)
    assert source.read_busy(start, start + timedelta(days=7)).fresh
    assert emu.log.entries[-1].path.endswith("freeBusy")
    emu.faults.server_error(503, times=100)
    stale = source.read_busy(start + timedelta(days=1), start + timedelta(days=6))
    assert not stale.fresh and stale.error is not None and "503" in stale.error
    kept = datetime.now(ZONE)  # the copy says when it was kept, in the plan's zone
    assert f"; using the last good copy from {kept:%a} {kept.day} {kept:%b} " in stale.error
    with pytest.raises(SourceUnavailable, match=r"; no last good copy$"):
        source.read_busy(start, start + timedelta(days=30))  # the copy does not cover it
    emu.faults.clear()


# --------------------------------------------------------------------------------------------
# Credentials


class TokenEndpoint:
    """A local OAuth token endpoint answering one fixed JSON reply to every POST."""

    def __init__(self, status: int, reply: Json) -> None:
        self.status, self.reply = status, reply
        self.bodies: list[dict[str, list[str]]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                owner.bodies.append(parse_qs(self.rfile.read(length).decode()))
                data = json.dumps(owner.reply).encode()
                self.send_response(owner.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/token"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> TokenEndpoint:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def user_credentials(**fields: Any) -> google.oauth2.credentials.Credentials:
    made: google.oauth2.credentials.Credentials = cast(Any, google.oauth2.credentials).Credentials(
        **fields
    )
    return made


def write_token(path: Path, token_uri: str, *, expired: bool) -> None:
    expiry = "2020-01-01T00:00:00Z" if expired else "2999-01-01T00:00:00Z"
    info = {
        "token": "old-access-token",
        "refresh_token": "secret-refresh-token",
        "token_uri": token_uri,
        "client_id": "cid.apps.googleusercontent.com",
        "client_secret": "client-secret",
        "scopes": list(SCOPES),
        "expiry": expiry,
    }
    path.write_text(json.dumps(info))


def test_none_mode_only_for_loopback() -> None:
    assert is_loopback("http://127.0.0.1:9/calendar/v3/") and is_loopback("http://[::1]:9/")
    assert is_loopback("http://localhost:8080/") and not is_loopback("https://www.googleapis.com/")
    assert build_credentials("none", api_endpoint="http://127.0.0.1:1/calendar/v3/") is None
    with pytest.raises(ValueError, match="loopback"):
        build_credentials("none", api_endpoint="https://www.googleapis.com/calendar/v3/")
    with pytest.raises(ValueError, match="loopback"):
        build_credentials("none")
    with pytest.raises(ValueError, match="loopback"):
        GoogleClient(api_endpoint="https://calendar.example.com/calendar/v3/", credentials=None)


@pytest.mark.parametrize("persist", [True, False])
def test_expired_token_is_refreshed_and_saved_back_unless_a_dry_run(
    tmp_path: Path, persist: bool
) -> None:
    """A dry run (``persist=False``) keeps the refreshed token in memory: the file keeps its
    bytes, and the next real run refreshes again."""
    token_file = tmp_path / "google-token.json"
    reply = {"access_token": "fresh-token", "expires_in": 3600, "token_type": "Bearer"}
    with (
        TokenEndpoint(200, reply) as endpoint,
        running_emulator(Emulator(required_token="fresh-token")) as emu,
    ):
        write_token(token_file, endpoint.url, expired=True)
        before = token_file.read_bytes()
        creds = build_credentials("oauth", token_file=token_file, persist=persist)
        assert isinstance(creds, TokenFileCredentials)
        # google-auth pins token_uri to Google's when loading; point it at the local endpoint
        t = target(emu, tmp_path / "cache", credentials=creds.with_token_uri(endpoint.url))
        assert t.list_owned(*FAR) == []
        assert len(ok(list(t.apply(creates(make_sessions(2)))))) == 2
        assert len(endpoint.bodies) == 1
        assert endpoint.bodies[0]["grant_type"] == ["refresh_token"]
    if not persist:
        assert token_file.read_bytes() == before
        return
    saved = json.loads(token_file.read_text())
    assert saved["token"] == "fresh-token" and saved["refresh_token"] == "secret-refresh-token"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600


def test_refused_refresh_is_a_clear_error(tmp_path: Path) -> None:
    token_file = tmp_path / "google-token.json"
    refusal = {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}
    with TokenEndpoint(400, refusal) as endpoint, running_emulator() as emu:
        write_token(token_file, endpoint.url, expired=True)
        creds = load_token(token_file).with_token_uri(endpoint.url)
        t = target(emu, tmp_path / "cache", credentials=creds)
        with pytest.raises(AuthFailed) as info:
            t.list_owned(*FAR)
    message = str(info.value)
    assert "Google refused the credentials: run `liftrun auth google` again" in message
    assert "secret-refresh-token" not in message and "old-access-token" not in message
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_revoked_token_is_a_clear_error(tmp_path: Path) -> None:
    with running_emulator(Emulator(required_token="good")) as emu:
        revoked = user_credentials(token="revoked-token")
        t = target(emu, tmp_path, credentials=revoked, calendar_id="primary")
        with pytest.raises(AuthFailed, match="run `liftrun auth google` again") as info:
            t.list_owned(*FAR)
        assert "revoked-token" not in str(info.value)
        good = user_credentials(token="good")
        source = GoogleSource(
            ["primary"], api_endpoint=emu.api_endpoint, credentials=good, timezone=TZ
        )
        start = datetime(2027, 1, 1, tzinfo=UTC)
        assert source.read_busy(start, start + timedelta(days=1)).fresh
        t = target(emu, tmp_path / "b", credentials=revoked)
        with pytest.raises(AuthFailed):
            list(t.apply(creates(make_sessions(1))))


def test_token_file_is_json_0600_and_loads(tmp_path: Path) -> None:
    creds = user_credentials(
        token="t",
        refresh_token="r",
        token_uri="https://oauth2.googleapis.com/token",
        client_id="c",
        client_secret="s",
        scopes=list(SCOPES),
    )
    path = tmp_path / "state" / "token.json"
    save_token(creds, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text())["refresh_token"] == "r"
    loaded = load_token(path)
    assert loaded.refresh_token == "r" and loaded.token_file == path
    (tmp_path / "bad.json").write_text("not json")
    with pytest.raises(ValueError, match="liftrun auth google"):
        load_token(tmp_path / "bad.json")
    with pytest.raises(ValueError, match="first"):
        load_token(tmp_path / "missing.json")


@pytest.mark.parametrize("kind", ["fifo", "device", "binary", "huge"])
def test_key_files_that_are_not_small_text_files_are_refused_at_once(
    tmp_path: Path, kind: str
) -> None:
    """A FIFO would hang the read and /dev/zero would fill memory; either named as a token or a
    service-account key is one clear error, at once."""
    path = tmp_path / "key.json"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "device":
        path = Path("/dev/zero")
    elif kind == "binary":
        path.write_bytes(b"\xff\xfe\x00secret")
    else:
        path.write_bytes(b" " * (KEY_FILE_CAP + 1))
    with pytest.raises(ValueError, match="liftrun auth google") as token_error:
        load_token(path)
    with pytest.raises(ValueError, match="service account key") as key_error:
        build_credentials("service_account", service_account_file=path)
    for error in (token_error, key_error):
        assert str(path) in str(error.value) and "secret" not in str(error.value)


def test_console_flow_writes_the_token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the local token endpoint is http
    reply = {
        "access_token": "new-access",
        "refresh_token": "new-refresh",
        "expires_in": 3600,
        "token_type": "Bearer",
        "scope": " ".join(SCOPES),
    }
    shown: list[str] = []

    def paste(_prompt: str) -> str:
        url = next(w for w in shown[0].split() if w.startswith("https://"))
        state = parse_qs(urlsplit(url).query)["state"][0]
        return f"http://localhost:8080/?state={state}&code=the-code&scope=x"

    with TokenEndpoint(200, reply) as endpoint:
        secrets = tmp_path / "client_secret.json"
        secrets.write_text(
            json.dumps(
                {
                    "installed": {
                        "client_id": "cid.apps.googleusercontent.com",
                        "client_secret": "shh",
                        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
                        "token_uri": endpoint.url,
                        "redirect_uris": ["http://localhost"],
                    }
                }
            )
        )
        token_file = tmp_path / "token.json"
        creds = run_flow(secrets, token_file, console=True, prompt=paste, show=shown.append)
        assert endpoint.bodies[0]["code"] == ["the-code"]
        assert "code_verifier" in endpoint.bodies[0]  # PKCE
    assert creds.token == "new-access"
    assert "calendar.app.created" in shown[0] and "calendar.freebusy" in shown[0]
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert json.loads(token_file.read_text())["refresh_token"] == "new-refresh"
