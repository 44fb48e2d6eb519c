"""Race day (P4) as an event in every calendar, at the adapter level: an all-day race renders as
DATE values with an exclusive end (RFC 5545 3.6.1) that three independent parsers read, a timed
race (``goal.race_time``) renders timed, and every target's read-back gives back the exact
start and end liftrun wrote, on a DST-change Sunday too. The engine end to end is in
``tests/sync/test_race_sync.py`` and the servers' tests beside their adapters."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import pytest
import vobject
from ical.calendar_stream import IcsCalendarStream

from adapters.ical.busy import read_busy
from adapters.ical.render import EventMeta, event_bytes, render_calendar
from adapters.ics.feed import IcsFeedTarget, _event_blocks
from adapters.ics.feed_reader import from_icalendar, read_fast
from adapters.protocol import Action, ActionKind, OwnedEvent, content_hash, day_start
from adapters.vdir.directory import VdirTarget
from planner.model import Kind, Session
from planner.plan import build_plan
from planner.race import race_session
from tests.adapters.feed_push import FAR, push
from tests.conftest import make_settings

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
DST_SUNDAY = date(2027, 3, 28)  # Europe/Berlin springs forward at 02:00: a 23-hour day


@pytest.fixture(autouse=True)
def _fresh_vobject_zones(monkeypatch: pytest.MonkeyPatch) -> None:
    """vobject keeps the first VTIMEZONE it parses per TZID for the whole process, so a
    calendar parsed by another test would decide how these read."""
    monkeypatch.setattr(vobject.icalendar, "__tzidMap", {"UTC": vobject.icalendar.utc})


def goal(**extra: str) -> dict[str, str]:
    return {"race": "half", "race_date": f"{DST_SUNDAY}", "plan_start": "2027-01-04", **extra}


def race(**extra: str) -> Session:
    found = race_session(make_settings(goal=goal(**extra)))
    assert found is not None
    return found


def race_week(**extra: str) -> tuple[Session, ...]:
    """Race week as the planner gives it: the last easy runs, then race day."""
    plan = build_plan(make_settings(goal=goal(**extra)), date(2027, 3, 22), 1)
    assert any(s.kind is Kind.RACE for s in plan.sessions)
    assert all(s.start is not None for s in plan.sessions)
    return plan.sessions


def vevent(raw: bytes, uid_part: str = "-race-") -> icalendar.Component:
    events = icalendar.Calendar.from_ical(raw).walk("VEVENT")
    (ev,) = [e for e in events if uid_part in str(e["UID"])]
    return ev


def categories(ev: icalendar.Component) -> list[str]:
    value = ev["CATEGORIES"]
    assert isinstance(value, icalendar.vCategory)
    return [str(c) for c in value.cats]


def content_lines(raw: bytes) -> list[bytes]:
    return raw.replace(b"\r\n ", b"").split(b"\r\n")


# -- rendering -------------------------------------------------------------------------------
def test_the_race_session_is_the_local_day_even_when_it_has_23_hours() -> None:
    r = race()
    assert r.all_day and r.date == DST_SUNDAY
    assert r.start == datetime(2027, 3, 28, tzinfo=BERLIN)
    assert r.end == datetime(2027, 3, 29, tzinfo=BERLIN)
    assert r.duration_minutes == 23 * 60
    assert (r.start, r.end) == (day_start(DST_SUNDAY, BERLIN), day_start(date(2027, 3, 29), BERLIN))


def test_an_all_day_race_renders_as_one_date_with_an_exclusive_end_for_three_parsers() -> None:
    items = race_week()
    raw = render_calendar(items, timezone="Europe/Berlin", stamp=NOW)
    lines = content_lines(raw)
    assert b"DTSTART;VALUE=DATE:20270328" in lines
    assert b"DTEND;VALUE=DATE:20270329" in lines  # the next day: RFC 5545's exclusive end
    ev = vevent(raw)
    assert ev.decoded("DTSTART") == DST_SUNDAY and ev.decoded("DTEND") == date(2027, 3, 29)
    assert categories(ev) == ["Race"]
    assert str(ev["TRANSP"]) == "OPAQUE" and str(ev["STATUS"]) == "CONFIRMED"
    assert not ev.walk("VALARM")  # 30 min before an all-day event would be 23:30 the night before
    # the exact instants (the local midnights, 23 h apart) stay in X-LIFTRUN-PLACED
    assert str(ev["X-LIFTRUN-PLACED"]) == "20270327T230000Z/20270328T220000Z"
    # the runs that week stay timed, so the calendar keeps its VTIMEZONE for them
    cal = icalendar.Calendar.from_ical(raw)
    assert [str(t["TZID"]) for t in cal.walk("VTIMEZONE")] == ["Europe/Berlin"]
    runs = [e for e in cal.walk("VEVENT") if "-run-" in str(e["UID"])]
    assert runs and all(isinstance(e.decoded("DTSTART"), datetime) for e in runs)
    assert all(e["DTSTART"].params["TZID"] == "Europe/Berlin" for e in runs)
    # vobject and ical (two more independent parsers) read the race as a date
    by_uid = {v.uid.value: v for v in vobject.readOne(raw.decode()).vevent_list}
    (vob,) = [v for uid, v in by_uid.items() if "-race-" in uid]
    assert vob.dtstart.value == DST_SUNDAY and vob.dtend.value == date(2027, 3, 29)
    assert not isinstance(vob.dtstart.value, datetime)
    stream = IcsCalendarStream.calendar_from_ics(raw.decode())
    (other,) = [e for e in stream.events if "-race-" in (e.uid or "")]
    assert other.dtstart == DST_SUNDAY and other.dtend == date(2027, 3, 29)
    assert len(stream.events) == len(items)


def test_a_calendar_holding_only_the_race_needs_no_vtimezone() -> None:
    raw = render_calendar([race()], timezone="Europe/Berlin", stamp=NOW)
    assert b"BEGIN:VTIMEZONE" not in raw and b"TZID" not in raw
    assert vevent(raw).decoded("DTSTART") == DST_SUNDAY
    (vob,) = vobject.readOne(raw.decode()).vevent_list
    assert vob.dtstart.value == DST_SUNDAY
    (ev,) = IcsCalendarStream.calendar_from_ics(raw.decode()).events
    assert ev.dtstart == DST_SUNDAY and ev.dtend == date(2027, 3, 29)


def test_a_timed_race_renders_timed_with_its_alarm() -> None:
    r = race(race_time="09:30")
    assert not r.all_day
    assert r.start == datetime(2027, 3, 28, 9, 30, tzinfo=BERLIN)
    assert r.end == r.start + timedelta(minutes=150) and r.duration_minutes == 150
    raw = render_calendar(race_week(race_time="09:30"), timezone="Europe/Berlin", stamp=NOW)
    lines = content_lines(raw)
    assert b"DTSTART;TZID=Europe/Berlin:20270328T093000" in lines
    assert b"DTEND;TZID=Europe/Berlin:20270328T120000" in lines
    assert b"VALUE=DATE" not in raw
    ev = vevent(raw)
    assert ev.decoded("DTSTART") == r.start and ev.decoded("DTEND") == r.end
    (alarm,) = ev.walk("VALARM")
    assert alarm.decoded("TRIGGER") == timedelta(minutes=-30)
    assert categories(ev) == ["Race"]
    (vob,) = [v for v in vobject.readOne(raw.decode()).vevent_list if "-race-" in v.uid.value]
    assert vob.dtstart.value == r.start
    (other,) = [
        e for e in IcsCalendarStream.calendar_from_ics(raw.decode()).events if "-race-" in e.uid
    ]
    assert other.dtstart == r.start


def test_race_week_runs_keep_their_kind_and_the_race_its_own() -> None:
    raw = render_calendar(race_week(), timezone="Europe/Berlin", stamp=NOW)
    cats = {
        str(e["UID"]).split("@")[0]: categories(e)
        for e in icalendar.Calendar.from_ical(raw).walk("VEVENT")
    }
    assert all(v == ["Run", "Race"] for k, v in cats.items() if "-run-" in k)
    assert cats["20270322-race-1"] == ["Race"]


def test_all_day_is_part_of_the_content_hash_and_timed_hashes_stay_as_they_were() -> None:
    r = race()
    same_instants_timed = replace(r, all_day=False)
    assert content_hash(r, 30) != content_hash(same_instants_timed, 30)
    timed = race(race_time="09:30")
    assert content_hash(timed, 30) == content_hash(replace(timed, all_day=False), 30)


# -- the ICS feed ----------------------------------------------------------------------------
def feed(path: Path, now: datetime = NOW, **kw: Any) -> IcsFeedTarget:
    return IcsFeedTarget(path, name="feed", timezone="Europe/Berlin", now=now, **kw)


@pytest.mark.parametrize("race_time", [None, "09:30"])
def test_the_feed_reads_its_race_back_to_the_same_times_and_rewrites_nothing(
    tmp_path: Path, race_time: str | None
) -> None:
    path = tmp_path / "liftrun.ics"
    items = race_week(race_time=race_time) if race_time else race_week()
    (r,) = [s for s in items if s.kind is Kind.RACE]
    assert push(feed(path), items) == 1
    first, mtime = path.read_bytes(), path.stat().st_mtime_ns
    back = {o.session_id: o for o in feed(path).list_owned(*FAR)}[r.id]
    assert (back.start, back.end) == (r.start, r.end) and not back.moved_by_hand
    assert back.content_hash == content_hash(r, 30)
    assert push(feed(path, NOW + timedelta(hours=3)), items) == 0
    assert path.read_bytes() == first and path.stat().st_mtime_ns == mtime
    # the fast reader and icalendar read the race alike
    raw = path.read_bytes()
    fast = read_fast(raw, _event_blocks(raw), BERLIN)
    assert fast is not None
    slow = [from_icalendar(e, BERLIN) for e in icalendar.Calendar.from_ical(raw).walk("VEVENT")]
    assert sorted(fast, key=lambda e: e.uid) == sorted(slow, key=lambda e: e.uid)
    (fast_race,) = [e for e in fast if "-race-" in e.uid]
    assert fast_race.all_day is (race_time is None)
    assert (fast_race.start, fast_race.end) == (r.start, r.end)
    # a feed rewritten by an editor (LF line endings) is read by icalendar: same times
    path.write_bytes(raw.replace(b"\r\n", b"\n"))
    again = {o.session_id: o for o in feed(path).list_owned(*FAR)}[r.id]
    assert (again.start, again.end) == (r.start, r.end)


def test_a_cancelled_race_stays_an_all_day_race_event(tmp_path: Path) -> None:
    """The cancel re-renders the event from what the feed holds (``_event_session``): its kind
    comes back from CATEGORIES and its DATE values stay DATE values."""
    path = tmp_path / "liftrun.ics"
    items = race_week()
    push(feed(path), items)
    runs = tuple(s for s in items if s.kind is not Kind.RACE)
    later = NOW + timedelta(days=1)
    target = feed(path, later)
    entry = target.entries["20270322-race-1"]
    assert entry.session.kind is Kind.RACE and entry.session.all_day
    assert (entry.session.start, entry.session.end) == (race().start, race().end)
    assert push(target, runs) == 1
    raw = path.read_bytes()
    ev = vevent(raw)
    assert str(ev["STATUS"]) == "CANCELLED" and ev.decoded("SEQUENCE") == 1
    assert b"DTSTART;VALUE=DATE:20270328" in content_lines(raw)
    assert b"DTEND;VALUE=DATE:20270329" in content_lines(raw)
    assert categories(ev) == ["Race"]
    assert ev.decoded("DTSTART") == DST_SUNDAY
    # the next cycle reads the cancelled race back and leaves the file alone
    assert push(feed(path, later + timedelta(hours=1)), runs) == 0
    assert path.read_bytes() == raw
    (cancelled,) = [o for o in feed(path).list_owned(*FAR) if o.session_id.endswith("-race-1")]
    assert cancelled.cancelled and (cancelled.start, cancelled.end) == (race().start, race().end)


def test_the_shadow_feed_blocks_race_day_as_busy_all_day(tmp_path: Path) -> None:
    """Race day is in the busy-only feed, OPAQUE, so whoever reads it as busy time (liftrun's own
    reader included) sees the whole local day taken."""
    path, shadow = tmp_path / "liftrun.ics", tmp_path / "busy.ics"
    items = race_week()
    push(feed(path, shadow_path=shadow), items)
    raw = shadow.read_bytes()
    evs = icalendar.Calendar.from_ical(raw).walk("VEVENT")
    assert len(evs) == len(items) and {str(e["SUMMARY"]) for e in evs} == {"Training"}
    (day,) = [e for e in evs if not isinstance(e.decoded("DTSTART"), datetime)]
    assert day.decoded("DTSTART") == DST_SUNDAY and day.decoded("DTEND") == date(2027, 3, 29)
    assert str(day["TRANSP"]) == "OPAQUE" and b"race" not in raw.lower()
    busy = read_busy(raw, source="shadow", tz=BERLIN, start=FAR[0], end=FAR[1])
    spans = {(b.start, b.end) for b in busy.intervals}
    assert (race().start, race().end) in spans
    (vob,) = [v for v in vobject.readOne(raw.decode()).vevent_list if v.dtstart.value == DST_SUNDAY]
    assert vob.dtend.value == date(2027, 3, 29)


# -- vdir ------------------------------------------------------------------------------------
def vdir(path: Path) -> VdirTarget:
    return VdirTarget(path, name="vdir", timezone="Europe/Berlin", now=NOW)


def create_race(path: Path, r: Session) -> OwnedEvent:
    action = Action(ActionKind.CREATE, r.id, "new", session=r, content_hash=content_hash(r, 30))
    (outcome,) = list(vdir(path).apply([action]))
    assert outcome.error is None and outcome.event is not None
    return outcome.event


def test_vdir_writes_the_race_as_dates_and_reads_it_back_unmoved(tmp_path: Path) -> None:
    r = race()
    written = create_race(tmp_path, r)
    raw = (tmp_path / written.remote_id).read_bytes()
    assert b"DTSTART;VALUE=DATE:20270328" in content_lines(raw)
    assert b"BEGIN:VTIMEZONE" not in raw and b"METHOD" not in raw
    (vob,) = vobject.readOne(raw.decode()).vevent_list
    assert vob.dtstart.value == DST_SUNDAY and vob.dtend.value == date(2027, 3, 29)
    (ev,) = IcsCalendarStream.calendar_from_ics(raw.decode()).events
    assert ev.dtstart == DST_SUNDAY
    (back,) = vdir(tmp_path).list_owned(*FAR)
    assert (back.start, back.end) == (r.start, r.end) and not back.moved_by_hand
    assert back == written


def rewrite_dates(path: Path, start: date, end: date | None) -> None:
    """What khal does when the athlete moves an all-day event: new DATE values, the rest kept."""
    cal = icalendar.Calendar.from_ical(path.read_bytes())
    for ev in cal.walk("VEVENT"):
        del ev["DTSTART"]
        del ev["DTEND"]
        ev.add("DTSTART", start)
        if end is not None:
            ev.add("DTEND", end)
    path.write_bytes(cal.to_ical())


def test_a_race_dragged_to_another_day_reads_as_moved_by_hand(tmp_path: Path) -> None:
    r = race()
    written = create_race(tmp_path, r)
    rewrite_dates(tmp_path / written.remote_id, date(2027, 3, 27), date(2027, 3, 28))
    (back,) = vdir(tmp_path).list_owned(*FAR)
    assert back.moved_by_hand
    assert (back.start, back.end) == (
        datetime(2027, 3, 27, tzinfo=BERLIN),
        datetime(2027, 3, 28, tzinfo=BERLIN),
    )
    # a client that writes DTEND equal to DTSTART for a one-day event, or none at all: one day
    for end in (date(2027, 3, 27), None):
        rewrite_dates(tmp_path / written.remote_id, date(2027, 3, 27), end)
        (back,) = vdir(tmp_path).list_owned(*FAR)
        assert back.end - back.start == timedelta(days=1)


def test_local_midnight_where_the_clock_skips_it() -> None:
    """America/Santiago springs forward at midnight: the day starts at 01:00, and a DATE read
    back gives that instant, as race day was computed."""
    zone = ZoneInfo("America/Santiago")
    settings = make_settings(
        timezone="America/Santiago",
        goal={"race": "10k", "race_date": "2026-09-06", "plan_start": "2026-06-15"},
    )
    r = race_session(settings)
    assert r is not None and r.start is not None and r.end is not None
    assert r.start.time() == time(1, 0) and r.start == day_start(date(2026, 9, 6), zone)
    raw = render_calendar([r], timezone="America/Santiago", stamp=NOW)
    assert b"DTSTART;VALUE=DATE:20260906" in content_lines(raw)
    assert b"DTEND;VALUE=DATE:20260907" in content_lines(raw)
    assert vevent(raw).decoded("DTSTART") == date(2026, 9, 6)


def test_event_bytes_of_a_race_moved_to_whole_other_days() -> None:
    """A race the athlete dragged to Saturday (a pin) is written on Saturday: the DATE values
    come from its times, not from the goal's race date."""
    r = race()
    sat = replace(
        r,
        start=datetime(2027, 3, 27, tzinfo=BERLIN),
        end=datetime(2027, 3, 28, tzinfo=BERLIN),
    )
    raw = event_bytes(sat, EventMeta(stamp=NOW))
    assert b"DTSTART;VALUE=DATE:20270327" in content_lines(raw)
    assert b"DTEND;VALUE=DATE:20270328" in content_lines(raw)
