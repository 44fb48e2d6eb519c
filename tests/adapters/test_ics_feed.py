"""The ICS feed: RFC 5545 rules checked with three independent parsers, SEQUENCE discipline,
byte-identical rewrites, cancellation retention, atomic writes, the busy-only shadow feed."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest
import vobject
from ical.calendar_stream import IcsCalendarStream

from adapters.ical.render import EventMeta, build_calendar, description, event_bytes
from adapters.ics.feed import IcsFeedTarget, _event_blocks
from adapters.ics.feed_reader import from_icalendar, read_fast
from adapters.protocol import AdapterError, content_hash
from planner.constraints import RuleBook
from planner.model import Session
from planner.placement import apply_placement, place
from planner.plan import build_plan
from tests.adapters.feed_push import FAR, push
from tests.conftest import make_settings

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
LINK = "https://coach.example/liftrun/s/"
BERLIN = ZoneInfo("Europe/Berlin")


def sessions(weeks: int = 2, **kw: object) -> tuple[Session, ...]:
    settings = make_settings(**kw)
    plan = build_plan(settings, date(2027, 1, 4), weeks)
    result = place(plan.sessions, RuleBook.from_settings(settings), [], now=NOW)
    return apply_placement(plan, result).sessions


def feed(path: Path, now: datetime = NOW, **kw: object) -> IcsFeedTarget:
    return IcsFeedTarget(path, name="feed", timezone="Europe/Berlin", now=now, **kw)  # type: ignore[arg-type]


def events_by_uid(raw: bytes) -> dict[str, icalendar.Component]:
    return {str(e["UID"]): e for e in icalendar.Calendar.from_ical(raw).walk("VEVENT")}


def sequence(ev: icalendar.Component) -> int:
    value = ev["SEQUENCE"]
    assert isinstance(value, icalendar.vInt)
    return int(value)


def categories(ev: icalendar.Component) -> list[str]:
    value = ev["CATEGORIES"]
    assert isinstance(value, icalendar.vCategory)
    return [str(c) for c in value.cats]


def test_feed_is_valid_rfc5545_for_three_parsers(tmp_path: Path) -> None:
    path = tmp_path / "out" / "liftrun.ics"
    items = sessions()
    assert push(feed(path), items) == 1
    raw = path.read_bytes()
    # CRLF everywhere, every line at most 75 octets (RFC 5545 3.1)
    lines = raw.split(b"\r\n")
    assert lines[-1] == b"" and all(b"\n" not in line for line in lines)
    assert max(len(line) for line in lines) <= 75
    cal = icalendar.Calendar.from_ical(raw)
    assert str(cal["VERSION"]) == "2.0" and "liftrun" in str(cal["PRODID"])
    assert str(cal["X-WR-TIMEZONE"]) == "Europe/Berlin" and cal["X-WR-CALNAME"]
    assert b"REFRESH-INTERVAL;VALUE=DURATION:PT1H" in raw and b"X-PUBLISHED-TTL" in raw
    tzids = {str(t["TZID"]) for t in cal.walk("VTIMEZONE")}
    used = set(re.findall(rb"TZID=([^:;]+)", raw))
    assert {u.decode() for u in used} <= tzids == {"Europe/Berlin"}
    events = cal.walk("VEVENT")
    assert len(events) == len(items)
    for ev in events:
        for prop in (
            "UID",
            "DTSTAMP",
            "DTSTART",
            "DTEND",
            "SEQUENCE",
            "LAST-MODIFIED",
            "CATEGORIES",
            "DESCRIPTION",
            "SUMMARY",
        ):
            assert prop in ev, prop
        assert str(ev["UID"]).endswith("@liftrun.invalid")
        assert "Rules: " in str(ev["DESCRIPTION"]) and "Why: " in str(ev["DESCRIPTION"])
        (alarm,) = ev.walk("VALARM")
        assert alarm.decoded("TRIGGER") == timedelta(minutes=-30)
    assert len(vobject.readOne(raw.decode()).vevent_list) == len(items)
    stream = IcsCalendarStream.calendar_from_ics(raw.decode())
    assert len(stream.events) == len(items)
    assert {e.uid for e in stream.events} == set(events_by_uid(raw))


def test_same_plan_same_bytes_and_no_rewrite(tmp_path: Path) -> None:
    path = tmp_path / "liftrun.ics"
    items = sessions()
    push(feed(path), items)
    first = path.read_bytes()
    mtime = path.stat().st_mtime_ns
    later = NOW + timedelta(hours=5)
    assert push(feed(path, later), items) == 0
    assert path.read_bytes() == first and path.stat().st_mtime_ns == mtime


def test_sequence_rises_only_when_time_or_content_changes(tmp_path: Path) -> None:
    path = tmp_path / "liftrun.ics"
    items = sessions()
    push(feed(path), items)
    before = events_by_uid(path.read_bytes())
    moved = items[0]
    assert moved.start is not None and moved.end is not None
    changed = (
        replace(
            moved, start=moved.start + timedelta(hours=11), end=moved.end + timedelta(hours=11)
        ),
        *items[1:],
    )
    later = NOW + timedelta(days=1)
    assert push(feed(path, later), changed) == 1
    after = events_by_uid(path.read_bytes())
    uid = f"{moved.id}@liftrun.invalid"
    assert sequence(after[uid]) == sequence(before[uid]) + 1
    assert after[uid].decoded("LAST-MODIFIED") == later.replace(microsecond=0)
    for other in items[1:]:
        u = f"{other.id}@liftrun.invalid"
        assert after[u].to_ical() == before[u].to_ical()  # untouched, byte for byte


def test_removed_session_is_cancelled_then_purged(tmp_path: Path) -> None:
    path = tmp_path / "liftrun.ics"
    items = sessions()
    push(feed(path), items)
    gone = items[-1]
    uid = f"{gone.id}@liftrun.invalid"
    t1 = NOW + timedelta(days=1)
    push(feed(path, t1, retention_days=14), items[:-1])
    ev = events_by_uid(path.read_bytes())[uid]
    assert str(ev["STATUS"]) == "CANCELLED" and sequence(ev) == 1
    assert not ev.walk("VALARM")
    # still cancelled, not re-bumped, a week later
    assert push(feed(path, t1 + timedelta(days=7), retention_days=14), items[:-1]) == 0
    push(feed(path, t1 + timedelta(days=14), retention_days=14), items[:-1])
    assert uid not in events_by_uid(path.read_bytes())
    # coming back gets a fresh, higher SEQUENCE than any a client saw... or a new event
    push(feed(path, t1 + timedelta(days=15)), items)
    assert str(events_by_uid(path.read_bytes())[uid]["STATUS"]) == "CONFIRMED"


def test_shadow_feed_shows_only_busy_time(tmp_path: Path) -> None:
    path, shadow = tmp_path / "liftrun.ics", tmp_path / "busy.ics"
    items = sessions()
    push(feed(path, shadow_path=shadow), items)
    evs = list(icalendar.Calendar.from_ical(shadow.read_bytes()).walk("VEVENT"))
    assert len(evs) == len(items)
    assert {str(e["SUMMARY"]) for e in evs} == {"Training"}
    assert all("DESCRIPTION" not in e and "CATEGORIES" not in e for e in evs)
    assert b"lift" not in shadow.read_bytes().lower().replace(b"liftrun", b"")


def test_atomic_write_leaves_no_temp_files_and_foreign_events_are_dropped(tmp_path: Path) -> None:
    path = tmp_path / "liftrun.ics"
    push(feed(path), sessions(weeks=1))
    assert [p.name for p in tmp_path.iterdir()] == ["liftrun.ics"]
    assert oct(path.stat().st_mode & 0o777) == "0o644"


def test_not_a_feed_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "liftrun.ics"
    path.write_text("<html>oops</html>")
    with pytest.raises(AdapterError, match="not a valid feed"):
        feed(path)


def _reference(session, meta, alarm_minutes: int | None = 30) -> icalendar.Event:  # type: ignore[no-untyped-def]
    """The same event built by icalendar's own serialiser: the independent reference."""
    ev = icalendar.Event()
    ev.add("uid", f"{session.id}@liftrun.invalid")
    ev.add("dtstamp", meta.stamp)
    ev.add("last-modified", meta.stamp)
    ev.add("sequence", meta.sequence)
    ev.add("dtstart", session.start)
    ev.add("dtend", session.end)
    ev.add("summary", session.title)
    ev.add("transp", "OPAQUE")
    ev.add("status", "CANCELLED" if meta.cancelled else "CONFIRMED")
    ev.add("description", description(session))
    if session.link:
        ev.add("url", session.link, parameters={"VALUE": "URI"})
    ev.add(
        "categories",
        ["Lift" if session.kind.value == "lift" else "Run", session.phase.value.capitalize()],
    )
    if alarm_minutes is not None and not meta.cancelled:
        alarm = icalendar.Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", session.title)
        alarm.add("trigger", timedelta(minutes=-alarm_minutes))
        ev.add_component(alarm)
    return ev


@pytest.mark.parametrize("alarm", [None, 0, 30, 90, 24 * 60 + 5])
def test_fast_serialiser_matches_icalendar_property_by_property(alarm: int | None) -> None:
    meta = EventMeta(sequence=3, stamp=NOW, content_hash="h" * 32)
    tricky = sessions(weeks=1)[0]
    tricky = replace(
        tricky,
        title='Lift; \\ über, "quoted" 🏋️ ' + "x" * 80,
        description="línea 1\nline 2, with; specials \\ and " + "é" * 120,
    )
    linked = replace(sessions(weeks=1)[1], link=LINK + "x" * 60)
    for s in (tricky, linked, *sessions(weeks=2)):
        raw = event_bytes(s, meta, alarm_minutes=alarm)
        assert all(len(line) <= 75 for line in raw.split(b"\r\n"))
        ours = icalendar.Event.from_ical(raw)
        ref = _reference(s, meta, alarm)
        for prop in (
            "UID",
            "DTSTAMP",
            "LAST-MODIFIED",
            "SEQUENCE",
            "DTSTART",
            "DTEND",
            "SUMMARY",
            "TRANSP",
            "STATUS",
            "DESCRIPTION",
        ):
            assert ours.decoded(prop) == ref.decoded(prop), prop
        assert ours.get("URL") == ref.get("URL")
        assert str(ours["DTSTART"].params["TZID"]) == "Europe/Berlin"
        assert categories(ours) == categories(ref)
        ours_alarms, ref_alarms = ours.walk("VALARM"), ref.walk("VALARM")
        assert [a.decoded("TRIGGER") for a in ours_alarms] == [
            a.decoded("TRIGGER") for a in ref_alarms
        ]
    # the two other parsers read the tricky event too
    cal = build_calendar([(tricky, meta)], timezone="Europe/Berlin")
    (vev,) = vobject.readOne(cal.decode()).vevent_list
    assert vev.summary.value == tricky.title and vev.description.value == description(tricky)
    (ev,) = IcsCalendarStream.calendar_from_ics(cal.decode()).events
    assert ev.summary == tricky.title


def test_the_fast_reader_agrees_with_icalendar_on_liftruns_own_feed(tmp_path: Path) -> None:
    path = tmp_path / "feed.ics"
    items = sessions(weeks=6)
    tricky = replace(
        items[0],
        title='Lauf über 10 km; schnell, ruhig\\ "ok"',
        description="Ä" * 200 + "\nline two, with; punctuation\\",
    )
    push(feed(path), (tricky, *items[1:]))
    push(feed(path, now=NOW + timedelta(days=1)), items[3:])  # three cancelled entries
    raw = path.read_bytes()
    blocks = _event_blocks(raw)
    fast = read_fast(raw, blocks, BERLIN)
    assert fast is not None and len(fast) == len(items)
    slow = [from_icalendar(e, BERLIN) for e in icalendar.Calendar.from_ical(raw).walk("VEVENT")]
    assert sorted(fast, key=lambda e: e.uid) == sorted(slow, key=lambda e: e.uid)
    assert sum(e.cancelled for e in fast) == 3


def test_a_feed_in_another_shape_is_read_by_icalendar(tmp_path: Path) -> None:
    path = tmp_path / "feed.ics"
    push(feed(path), sessions())
    raw = path.read_bytes().replace(b"\r\n", b"\n")  # an editor rewrote the line endings
    assert read_fast(raw, _event_blocks(raw), BERLIN) is None
    path.write_bytes(raw)
    assert len(feed(path).list_owned(*FAR)) == len(sessions())


def linked(items: tuple[Session, ...], base: str = LINK) -> tuple[Session, ...]:
    return tuple(replace(s, link=f"{base}{s.id}/sig") for s in items)


def test_each_event_links_to_its_session_and_the_shadow_never(tmp_path: Path) -> None:
    path, shadow = tmp_path / "liftrun.ics", tmp_path / "busy.ics"
    items = linked(sessions())
    push(feed(path, shadow_path=shadow), items)
    raw = path.read_bytes()
    for ev in icalendar.Calendar.from_ical(raw).walk("VEVENT"):
        sid = str(ev["X-LIFTRUN-SESSION"])
        assert str(ev["URL"]) == f"{LINK}{sid}/sig"
        assert str(ev["DESCRIPTION"]).endswith(f"\n\nOpen in liftrun: {LINK}{sid}/sig")
    for parsed in vobject.readOne(raw.decode()).vevent_list:  # a second parser agrees
        assert parsed.url.value.startswith(LINK)
    assert read_fast(raw, _event_blocks(raw), BERLIN) is not None  # still liftrun's shape
    busy = shadow.read_bytes()
    assert b"URL" not in busy and b"liftrun:" not in busy and LINK.encode() not in busy
    assert len(icalendar.Calendar.from_ical(busy).walk("VEVENT")) == len(items)


def test_a_new_link_updates_every_event_and_none_leaves_the_hash_as_it_was(
    tmp_path: Path,
) -> None:
    path, shadow = tmp_path / "liftrun.ics", tmp_path / "busy.ics"
    plain = sessions()
    assert all("Open in liftrun" not in description(s) for s in plain)
    assert {content_hash(s, 30) for s in plain}.isdisjoint(
        content_hash(s, 30) for s in linked(plain)
    )
    push(feed(path, shadow_path=shadow), linked(plain))
    assert push(feed(path, shadow_path=shadow), linked(plain)) == 0  # idle: nothing written
    rotated = linked(plain, "https://coach.example/liftrun/s2/")
    push(feed(path, NOW + timedelta(hours=1), shadow_path=shadow), rotated)
    evs = events_by_uid(path.read_bytes()).values()
    assert {sequence(e) for e in evs} == {1}
    assert all(str(e["URL"]).startswith("https://coach.example/liftrun/s2/") for e in evs)
    assert b"URL" not in shadow.read_bytes()


def test_a_link_cannot_break_out_of_its_content_line() -> None:
    s = sessions(weeks=1)[0]
    meta = EventMeta(stamp=NOW)
    evil = replace(s, link="https://coach.example/a b\r\nATTENDEE:mailto:x@example.com\x00é")
    raw = event_bytes(evil, meta)
    ev = icalendar.Event.from_ical(raw)
    assert "ATTENDEE" not in ev
    assert str(ev["URL"]) == (
        "https://coach.example/a%20b%0D%0AATTENDEE:mailto:x@example.com%00%C3%A9"
    )
