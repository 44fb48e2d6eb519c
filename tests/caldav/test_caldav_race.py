"""Race day (P4) in a real CalDAV calendar (Radicale and Xandikos): the all-day race goes in as
DATE values with an exclusive end, reads back to the same start and end (so a second cycle
writes nothing, on a DST-change Sunday too), and a race the athlete drags to another day is
pinned and left alone. A timed race (``goal.race_time``) round-trips as a timed event."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import icalendar
import pytest
import vobject
from ical.calendar_stream import IcsCalendarStream

from tests.athlete import athlete_toml
from tests.caldav.servers import Server, get_event, put_event
from tests.caldav.test_caldav_sync import BERLIN, cycle, owned
from tests.caldav.test_caldav_sync import write_config as sync_config

RACE = "20270322-race-1"
RACE_DAY = date(2027, 3, 28)  # a Sunday, and the night Europe/Berlin springs forward
NOW = datetime(2027, 3, 15, 5, 0, tzinfo=BERLIN)  # race day is 13 days ahead: in the horizon


@pytest.fixture(autouse=True)
def _fresh_vobject_zones(monkeypatch: pytest.MonkeyPatch) -> None:
    """vobject keeps the first VTIMEZONE it parses per TZID for the whole process."""
    monkeypatch.setattr(vobject.icalendar, "__tzidMap", {"UTC": vobject.icalendar.utc})


def write_config(tmp_path: Path, server: Server, unique: str, race_time: str | None) -> Path:
    athlete = athlete_toml(race_date=f"{RACE_DAY}", plan_start="2027-01-04", race_time=race_time)
    return sync_config(tmp_path, server, unique, athlete=athlete)


@pytest.mark.parametrize("race_time", [None, "09:30"])
def test_race_day_round_trips_and_a_second_cycle_writes_nothing(
    server: Server, unique: str, tmp_path: Path, race_time: str | None
) -> None:
    config = write_config(tmp_path, server, unique, race_time)
    report, _ = cycle(config, NOW)
    assert not report.failed, report.as_dict()
    assert any(a.session == RACE and a.action == "create" for a in report.actions)
    race = owned(config)[RACE]
    assert not race.moved_by_hand
    status, raw, _ = get_event(server, race.remote_id)
    assert status == 200
    ev = next(iter(icalendar.Calendar.from_ical(raw).walk("VEVENT")))
    (vob,) = vobject.readOne(raw.decode()).vevent_list
    (other,) = IcsCalendarStream.calendar_from_ics(raw.decode()).events
    if race_time is None:
        assert (race.start, race.end) == (
            datetime(2027, 3, 28, tzinfo=BERLIN),
            datetime(2027, 3, 29, tzinfo=BERLIN),
        )
        assert race.end.astimezone(UTC) - race.start.astimezone(UTC) == timedelta(hours=23)
        lines = raw.replace(b"\r\n ", b"").split(b"\r\n")
        assert b"DTSTART;VALUE=DATE:20270328" in lines
        assert b"DTEND;VALUE=DATE:20270329" in lines
        assert b"BEGIN:VTIMEZONE" not in raw
        assert ev.decoded("DTSTART") == RACE_DAY and ev.decoded("DTEND") == date(2027, 3, 29)
        assert vob.dtstart.value == RACE_DAY and vob.dtend.value == date(2027, 3, 29)
        assert other.dtstart == RACE_DAY and other.dtend == date(2027, 3, 29)
    else:
        start = datetime(2027, 3, 28, 9, 30, tzinfo=BERLIN)
        assert (race.start, race.end) == (start, start + timedelta(minutes=150))
        assert ev.decoded("DTSTART") == start and vob.dtstart.value == start
        assert other.dtstart == start
    for _ in range(2):
        again, _ = cycle(config, NOW)
        assert again.writes == 0 and not again.failed, again.actions
    assert owned(config)[RACE].etag == race.etag


def test_a_race_dragged_to_another_day_is_pinned_and_left_alone(
    server: Server, unique: str, tmp_path: Path
) -> None:
    config = write_config(tmp_path, server, unique, None)
    cycle(config, NOW)
    race = owned(config)[RACE]
    status, raw, etag = get_event(server, race.remote_id)
    assert status == 200
    cal = icalendar.Calendar.from_ical(raw)
    for ev in cal.walk("VEVENT"):  # a calendar app moving the all-day event to Friday
        del ev["DTSTART"]
        del ev["DTEND"]
        ev.add("DTSTART", date(2027, 3, 26))
        ev.add("DTEND", date(2027, 3, 27))
    put_event(server, race.remote_id, cal.to_ical(), etag=etag)
    moved = owned(config)[RACE]
    assert moved.moved_by_hand
    assert (moved.start, moved.end) == (
        datetime(2027, 3, 26, tzinfo=BERLIN),
        datetime(2027, 3, 27, tzinfo=BERLIN),
    )
    report, _ = cycle(config, NOW)
    assert [p.session for p in report.pinned] == [RACE]
    assert all(a.session != RACE for a in report.actions)
    assert not [w for w in report.warnings if RACE in w]
    for _ in range(2):
        again, _ = cycle(config, NOW)
        assert again.writes == 0, again.actions
    assert owned(config)[RACE].etag == moved.etag  # never rewritten
