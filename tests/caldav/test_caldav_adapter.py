"""The CalDAV adapter against real Radicale and Xandikos servers (no mocks): discovery, busy
time from events, conditional writes, incremental reads with bounded request counts, and the
failures an athlete can cause (moves, deletes, wrong password, a server that is down)."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import icalendar
import pytest

from adapters.cache import Cache
from adapters.caldav.source import CalDAVSource
from adapters.caldav.target import CalDAVTarget
from adapters.protocol import (
    Action,
    ActionKind,
    AdapterError,
    AlreadyExists,
    CalendarTarget,
    NotFound,
    Outcome,
    OwnedEvent,
    PreconditionFailed,
    SourceUnavailable,
    content_hash,
)
from planner.constraints import RuleBook
from planner.model import Session
from planner.placement import apply_placement, place
from planner.plan import build_plan
from tests.caldav.servers import (
    PASSWORD,
    Server,
    delete_event,
    get_event,
    make_calendar,
    put_event,
    start,
)
from tests.conftest import make_settings

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
FAR = (datetime(1900, 1, 1, tzinfo=UTC), datetime(2999, 1, 1, tzinfo=UTC))
TZ = "Europe/Berlin"
WINDOW = (datetime(2027, 3, 15, tzinfo=UTC), datetime(2027, 4, 12, tzinfo=UTC))
NO_WAIT: dict[str, Any] = {"retry_wait": lambda n: 0.0, "sleep": lambda s: None}


def sessions(weeks: int = 1) -> tuple[Session, ...]:
    settings = make_settings()
    plan = build_plan(settings, date(2027, 1, 4), weeks)
    result = place(plan.sessions, RuleBook.from_settings(settings), [], now=NOW)
    placed: tuple[Session, ...] = apply_placement(plan, result).sessions
    return placed


def target(server: Server, calendar: str, cache: Path, **kw: Any) -> CalDAVTarget:
    return CalDAVTarget(
        server.url,
        username=server.username,
        password=server.password,
        calendar=calendar,
        timezone=TZ,
        now=NOW,
        cache=Cache(cache),
        **{**NO_WAIT, **kw},
    )


def source(server: Server, calendar: str, cache: Path, **kw: Any) -> CalDAVSource:
    return CalDAVSource(
        server.url,
        username=server.username,
        password=server.password,
        calendar=calendar,
        timezone=TZ,
        cache=Cache(cache),
        **{**NO_WAIT, **kw},
    )


def creates(items: tuple[Session, ...]) -> list[Action]:
    return [
        Action(ActionKind.CREATE, s.id, "new", session=s, content_hash=content_hash(s, 30))
        for s in items
    ]


def ok(outcomes: list[Outcome]) -> list[OwnedEvent]:
    assert [o.error for o in outcomes if o.error] == []
    return [o.event for o in outcomes if o.event is not None]


# --------------------------------------------------------------------------------------------
# Seeding a busy calendar


def _zones(*tzids: str) -> str:
    out = []
    for tzid in tzids:
        zone = icalendar.Timezone.from_tzid(
            tzid, first_date=date(2027, 1, 1), last_date=date(2027, 12, 31)
        )
        out.append(zone.to_ical().decode())
    return "".join(out)


def _cal(body: str, *tzids: str) -> str:
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//seed//EN\r\n"
        + _zones(*tzids)
        + body
        + "END:VCALENDAR\r\n"
    )


def _event(uid: str, lines: str) -> str:
    return f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20270101T000000Z\r\n{lines}END:VEVENT\r\n"


SEED = {
    # Weekly 10:00 Berlin, across the DST change of 2027-03-28; the 22nd is excluded, the 29th
    # moved to 14:00.
    "meeting.ics": _cal(
        _event(
            "meeting@example.org",
            "SUMMARY:Team meeting\r\nDTSTART;TZID=Europe/Berlin:20270315T100000\r\n"
            "DTEND;TZID=Europe/Berlin:20270315T110000\r\nRRULE:FREQ=WEEKLY;COUNT=4\r\n"
            "EXDATE;TZID=Europe/Berlin:20270322T100000\r\n",
        )
        + _event(
            "meeting@example.org",
            "SUMMARY:Team meeting (moved)\r\nRECURRENCE-ID;TZID=Europe/Berlin:20270329T100000\r\n"
            "DTSTART;TZID=Europe/Berlin:20270329T140000\r\n"
            "DTEND;TZID=Europe/Berlin:20270329T150000\r\n",
        ),
        "Europe/Berlin",
    ),
    "allday.ics": _cal(
        _event(
            "allday@example.org",
            "SUMMARY:Conference\r\nDTSTART;VALUE=DATE:20270317\r\nDTEND;VALUE=DATE:20270318\r\n",
        )
    ),
    "transparent.ics": _cal(
        _event(
            "free@example.org",
            "SUMMARY:Reminder\r\nTRANSP:TRANSPARENT\r\nDTSTART:20270318T110000Z\r\n"
            "DTEND:20270318T120000Z\r\n",
        )
    ),
    "cancelled.ics": _cal(
        _event(
            "cancelled@example.org",
            "SUMMARY:Called off\r\nSTATUS:CANCELLED\r\nDTSTART:20270319T110000Z\r\n"
            "DTEND:20270319T120000Z\r\n",
        )
    ),
    "newyork.ics": _cal(
        _event(
            "ny@example.org",
            "SUMMARY:Call with NY\r\nDTSTART;TZID=America/New_York:20270316T090000\r\n"
            "DTEND;TZID=America/New_York:20270316T100000\r\n",
        ),
        "America/New_York",
    ),
}

EXPECTED_BUSY = {
    (datetime(2027, 3, 15, 9, 0, tzinfo=UTC), datetime(2027, 3, 15, 10, 0, tzinfo=UTC)),
    (datetime(2027, 3, 16, 13, 0, tzinfo=UTC), datetime(2027, 3, 16, 14, 0, tzinfo=UTC)),
    (datetime(2027, 3, 16, 23, 0, tzinfo=UTC), datetime(2027, 3, 17, 23, 0, tzinfo=UTC)),
    (datetime(2027, 3, 29, 12, 0, tzinfo=UTC), datetime(2027, 3, 29, 13, 0, tzinfo=UTC)),
    (datetime(2027, 4, 5, 8, 0, tzinfo=UTC), datetime(2027, 4, 5, 9, 0, tzinfo=UTC)),
}


def seed_busy(server: Server, name: str, slug: str) -> str:
    url = make_calendar(server, name, slug)
    for resource, ics in SEED.items():
        put_event(server, url + resource, ics)
    return url


def busy_set(read: Any) -> set[tuple[datetime, datetime]]:
    return {(i.start.astimezone(UTC), i.end.astimezone(UTC)) for i in read.busy.intervals}


# --------------------------------------------------------------------------------------------
# Busy source


def test_busy_from_events_by_name_and_by_url(server: Server, unique: str, tmp_path: Path) -> None:
    name = f"Work {unique}"
    url = seed_busy(server, name, f"work-{unique}")
    make_calendar(server, f"Personal {unique}", f"personal-{unique}")

    by_name = source(server, name, tmp_path / "a")
    read = by_name.read_busy(*WINDOW)
    assert read.fresh and busy_set(read) == EXPECTED_BUSY, read.busy.warnings
    assert by_name.calendar_url == url
    summaries = {i.summary for i in read.busy.intervals}
    assert summaries == {"Team meeting", "Team meeting (moved)", "Conference", "Call with NY"}
    allday = next(i for i in read.busy.intervals if i.summary == "Conference")
    assert (allday.start.hour, allday.end.hour, str(allday.start.tzinfo)) == (0, 0, TZ)

    by_url = source(server, url, tmp_path / "b")
    assert busy_set(by_url.read_busy(*WINDOW)) == EXPECTED_BUSY
    assert by_url.requests_made <= 3  # no discovery for a URL

    remembered = source(server, name, tmp_path / "c", calendar_url=url)
    assert busy_set(remembered.read_busy(*WINDOW)) == EXPECTED_BUSY
    assert remembered.requests_made <= 3


@pytest.mark.parametrize("sync", [True, False], ids=["sync-collection", "ctag"])
def test_busy_steady_state_and_changes(
    server: Server, unique: str, tmp_path: Path, sync: bool
) -> None:
    name = f"Work {unique}"
    url = seed_busy(server, name, f"work-{unique}")
    source(server, name, tmp_path, use_sync_collection=sync).read_busy(*WINDOW)

    again = source(server, name, tmp_path, use_sync_collection=sync)
    assert busy_set(again.read_busy(*WINDOW)) == EXPECTED_BUSY
    assert again.requests_made <= 2  # auth challenge (Radicale) + one REPORT/PROPFIND

    # The athlete adds an event and deletes the NY call: one cycle sees both.
    put_event(
        server,
        url + "new.ics",
        _cal(_event("new@example.org", "DTSTART:20270401T100000Z\r\nDTEND:20270401T110000Z\r\n")),
    )
    assert delete_event(server, url + "newyork.ics") in (200, 204)
    changed = source(server, name, tmp_path, use_sync_collection=sync)
    ny_call = (datetime(2027, 3, 16, 13, tzinfo=UTC), datetime(2027, 3, 16, 14, tzinfo=UTC))
    expected = (EXPECTED_BUSY - {ny_call}) | {
        (datetime(2027, 4, 1, 10, tzinfo=UTC), datetime(2027, 4, 1, 11, tzinfo=UTC))
    }
    assert busy_set(changed.read_busy(*WINDOW)) == expected
    assert changed.requests_made <= 4

    # A later window beyond what was fetched forces a full read, which still is right.
    later = source(server, name, tmp_path, use_sync_collection=sync)
    assert busy_set(later.read_busy(WINDOW[0], WINDOW[1] + timedelta(days=120))) == expected


def test_unknown_calendar_names_the_ones_there(server: Server, unique: str, tmp_path: Path) -> None:
    make_calendar(server, f"Personal {unique}", f"personal-{unique}")
    with pytest.raises(SourceUnavailable) as err:
        source(server, f"Nope {unique}", tmp_path).read_busy(*WINDOW)
    message = str(err.value)
    assert f"'Nope {unique}' not found on {server.url}" in message
    assert f"'Personal {unique}'" in message and "available:" in message


# --------------------------------------------------------------------------------------------
# Target


def test_push_list_and_steady_state(server: Server, unique: str, tmp_path: Path) -> None:
    name = f"Training {unique}"
    items = sessions()
    first = target(server, name, tmp_path)
    assert isinstance(first, CalendarTarget)
    assert first.list_owned(*FAR) == []  # MKCALENDAR'd, empty
    url = first.calendar_url
    assert url.startswith(server.home) and get_event(server, url)[0] < 400
    before = first.requests_made
    created = ok(list(first.apply(creates(items))))
    push_requests = first.requests_made - before
    assert push_requests == len(items)  # one conditional PUT each
    assert all(e.etag for e in created)

    fresh = target(server, name, tmp_path / "other-cache")  # no cache: discovery + full read
    owned = fresh.list_owned(*FAR)
    assert fresh.calendar_url == url
    assert {o.session_id for o in owned} == {s.id for s in items}
    by_id = {s.id: s for s in items}
    for event in owned:
        s = by_id[event.session_id]
        assert (event.start, event.end) == (s.start, s.end) and event.placed == (s.start, s.end)
        assert event.content_hash == content_hash(s, 30) and not event.moved_by_hand
        assert event.etag and event.remote_id.startswith(url)
    # Our own writes were remembered: the cycle after the push fetches nothing back.
    steady = target(server, name, tmp_path)
    assert {(o.session_id, o.etag) for o in steady.list_owned(*FAR)} == {
        (o.session_id, o.etag) for o in owned
    }
    assert steady.requests_made <= 3
    quiet = target(server, name, tmp_path, use_sync_collection=False)
    assert len(quiet.list_owned(*FAR)) == len(items)
    quiet2 = target(server, name, tmp_path, use_sync_collection=False)
    assert len(quiet2.list_owned(*FAR)) == len(items) and quiet2.requests_made <= 3
    remembered = target(server, name, tmp_path / "third", calendar_url=url)
    assert len(remembered.list_owned(*FAR)) == len(items)
    print(  # shown with -s: the numbers the report quotes
        f"\n{server.kind}: push of {len(items)} = {push_requests} requests; "
        f"first read {fresh.requests_made}; steady {steady.requests_made} (sync), "
        f"{quiet2.requests_made} (ctag)"
    )


def test_a_lost_damaged_or_older_cache_costs_only_a_full_read(
    server: Server, unique: str, tmp_path: Path
) -> None:
    """After an upgrade (the previous version's file is not read) or a damaged mirror, the
    target finds its calendar by name and recognises its own events by their marks."""
    name = f"Training {unique}"
    items = sessions()
    first = target(server, name, tmp_path)
    first.list_owned(*FAR)
    ok(list(first.apply(creates(items))))
    entries = list(tmp_path.glob("*.cache"))
    assert entries
    for entry in entries:
        entry.write_bytes(entry.read_bytes()[:-2])
    old = '{"version": 1, "mirror": {"url": "http://127.0.0.1:9/gone/", "items": {}}}'
    (tmp_path / "caldav-target-0123456789abcdef0123.json").write_text(old)
    again = target(server, name, tmp_path)
    assert {o.session_id for o in again.list_owned(*FAR)} == {s.id for s in items}
    assert again.calendar_url == first.calendar_url


def _athlete_moves(server: Server, event: OwnedEvent, hours: int) -> None:
    status, raw, etag = get_event(server, event.remote_id)
    assert status == 200
    cal = icalendar.Calendar.from_ical(raw)
    for vevent in cal.walk("VEVENT"):
        start, end = vevent.decoded("DTSTART"), vevent.decoded("DTEND")
        for prop in ("DTSTART", "DTEND"):
            del vevent[prop]
        vevent.add("DTSTART", start + timedelta(hours=hours))
        vevent.add("DTEND", end + timedelta(hours=hours))
    put_event(server, event.remote_id, cal.to_ical(), etag=etag)


def test_athlete_edits_foreign_events_and_replays(
    server: Server, unique: str, tmp_path: Path
) -> None:
    name = f"Training {unique}"
    items = sessions()
    pusher = target(server, name, tmp_path)
    created = {e.session_id: e for e in ok(list(pusher.apply(creates(items))))}
    url = pusher.calendar_url
    moved, gone = items[0], items[1]
    _athlete_moves(server, created[moved.id], 2)
    assert delete_event(server, created[gone.id].remote_id) in (200, 204)
    foreign = _cal(
        _event(
            f"{moved.id}@liftrun.invalid.example.org",
            "SUMMARY:Dentist\r\nDTSTART:20270105T100000Z\r\nDTEND:20270105T110000Z\r\n",
        )
    )
    put_event(server, url + "dentist.ics", foreign)
    # In our UID namespace but without X-LIFTRUN-SESSION: not ours either.
    lookalike = _cal(
        _event(
            "impostor@liftrun.invalid",
            "SUMMARY:Lookalike\r\nDTSTART:20270106T100000Z\r\nDTEND:20270106T110000Z\r\n",
        )
    )
    put_event(server, url + "lookalike.ics", lookalike)
    foreign_before = get_event(server, url + "dentist.ics")

    reader = target(server, name, tmp_path)
    owned = {o.session_id: o for o in reader.list_owned(*FAR)}
    assert set(owned) == {s.id for s in items} - {gone.id}
    assert owned[moved.id].moved_by_hand
    assert moved.start is not None
    assert owned[moved.id].start == moved.start + timedelta(hours=2)
    assert not any(o.moved_by_hand for sid, o in owned.items() if sid != moved.id)

    # A replayed push (crash after the PUTs, before the engine stored them): no duplicates.
    replay = list(target(server, name, tmp_path).apply(creates(items)))
    errors = {o.action.session_id: o.error for o in replay}
    assert all(isinstance(errors[s.id], AlreadyExists) for s in items if s.id != gone.id)
    assert errors[gone.id] is None  # deleted by the athlete: created again
    assert get_event(server, url + "dentist.ics") == foreign_before
    again = target(server, name, tmp_path / "recount")
    assert len(again.list_owned(*FAR)) == len(items)


def test_preconditions_on_update_and_cancel(server: Server, unique: str, tmp_path: Path) -> None:
    name = f"Training {unique}"
    items = sessions()
    writer = target(server, name, tmp_path)
    created = {e.session_id: e for e in ok(list(writer.apply(creates(items[:3]))))}
    a, b, c = items[:3]
    assert a.start is not None and a.end is not None
    later = Session(**{**a.__dict__, "start": a.start + timedelta(hours=1)})
    later = Session(**{**later.__dict__, "end": a.end + timedelta(hours=1)})
    stale = created[a.id]
    _athlete_moves(server, stale, 3)  # the server's ETag moves on

    update = Action(
        ActionKind.UPDATE,
        a.id,
        "moved",
        session=later,
        content_hash=content_hash(later, 30),
        current=stale,
        moved=True,
    )
    cancel_stale = Action(ActionKind.CANCEL, b.id, "dropped", current=created[b.id])
    assert delete_event(server, created[c.id].remote_id) in (200, 204)
    cancel_gone = Action(ActionKind.CANCEL, c.id, "dropped", current=created[c.id])
    _athlete_moves(server, created[b.id], 1)
    outcomes = list(writer.apply([update, cancel_stale, cancel_gone]))
    assert isinstance(outcomes[0].error, PreconditionFailed)
    assert isinstance(outcomes[1].error, PreconditionFailed)
    assert isinstance(outcomes[2].error, NotFound)
    assert str(outcomes[0].error).startswith(writer.name)

    # With the fresh ETag the update goes through, SEQUENCE rises, and it is ours again.
    fresh = {o.session_id: o for o in target(server, name, tmp_path).list_owned(*FAR)}
    redo = Action(
        ActionKind.UPDATE,
        a.id,
        "moved",
        session=later,
        content_hash=content_hash(later, 30),
        current=fresh[a.id],
        moved=True,
    )
    (done,) = ok(list(writer.apply([redo])))
    assert done.etag and done.etag != fresh[a.id].etag and done.start == later.start
    status, raw, _ = get_event(server, done.remote_id)
    (vevent,) = icalendar.Calendar.from_ical(raw).walk("VEVENT")
    assert status == 200 and str(vevent["SEQUENCE"]) == "1" and b"METHOD" not in raw
    bye = Action(ActionKind.CANCEL, b.id, "dropped", current=fresh[b.id])
    (gone,) = list(writer.apply([bye]))
    assert gone.error is None
    final = {o.session_id: o for o in target(server, name, tmp_path).list_owned(*FAR)}
    assert set(final) == {a.id} and not final[a.id].moved_by_hand


# --------------------------------------------------------------------------------------------
# Failures


@pytest.mark.parametrize("kind", ["radicale", "xandikos"])
def test_server_down(kind: str, unique: str, tmp_path: Path) -> None:
    own = start(kind, tmp_path / "server")
    try:
        seed_busy(own, "Work", "work")
        warm = source(own, "Work", tmp_path / "warm")
        assert busy_set(warm.read_busy(*WINDOW)) == EXPECTED_BUSY
        pushed = target(own, "Training", tmp_path / "t")
        ok(list(pushed.apply(creates(sessions()[:1]))))
    finally:
        own.stop()
    began = time.monotonic()
    cold = source(own, "Work", tmp_path / "cold")
    with pytest.raises(SourceUnavailable, match="cannot reach"):
        cold.read_busy(*WINDOW)
    assert cold.requests_made == 3  # bounded retries
    stale = source(own, "Work", tmp_path / "warm").read_busy(*WINDOW)
    assert not stale.fresh and stale.error and busy_set(stale) == EXPECTED_BUSY
    with pytest.raises(AdapterError, match="cannot reach"):
        target(own, "Training", tmp_path / "t").list_owned(*FAR)
    assert time.monotonic() - began < 5


def test_wrong_password_is_clear_and_secret(
    running_servers: dict[str, Server], tmp_path: Path
) -> None:
    server = running_servers["radicale"]
    wrong = "Wr0ng-" + PASSWORD[::-1]
    bad = Server(**{**server.__dict__, "password": wrong, "process": None})
    with pytest.raises(AdapterError) as err:
        target(bad, "Training", tmp_path).list_owned(*FAR)
    assert f"wrong username or password for {server.url}" in str(err.value)
    with pytest.raises(SourceUnavailable) as busy_err:
        source(bad, "Work", tmp_path).read_busy(*WINDOW)
    for message in (str(err.value), str(busy_err.value), repr(err.value)):
        assert wrong not in message and PASSWORD not in message
    assert "wrong username or password" in str(busy_err.value)


def test_an_empty_busy_calendar_is_free_time_not_an_error(
    server: Server, unique: str, tmp_path: Path
) -> None:
    make_calendar(server, f"Empty {unique}", f"empty-{unique}")
    read = source(server, f"Empty {unique}", tmp_path).read_busy(*WINDOW)
    assert read.fresh and read.busy.intervals == ()
