"""Race day (P4) through the sync engine: pushed once as an event in every target, an idle
cycle after it writes nothing, and a race the athlete drags to another day is pinned like any
other session (their calendar is left alone, the other targets follow, the week keeps clear of
the new day). Real files: a vdir calendar (the harness) and ``liftrun sync --once`` writing the
ICS feed and a vdir. CalDAV and Google have the same checks beside their adapters."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import icalendar
import pytest
from click.testing import CliRunner

from cli.main import main
from tests.athlete import athlete_toml
from tests.sync.harness import BERLIN, Rig

RACE = "20270322-race-1"  # the Monday of race week, kind race, first of it
RACE_DAY = date(2027, 3, 28)  # a Sunday, and the night Europe/Berlin springs forward
NOW = datetime(2027, 3, 15, 5, 0, tzinfo=BERLIN)  # race day is 13 days ahead: in the horizon


def race_rig(tmp_path: Path, *, race_time: str | None = None) -> Rig:
    toml = athlete_toml(race_date=f"{RACE_DAY}", plan_start="2027-01-04", race_time=race_time)
    return Rig(tmp_path, athlete=toml)


def categories(ev: icalendar.Component) -> list[str]:
    value = ev["CATEGORIES"]
    assert isinstance(value, icalendar.vCategory)
    return [str(c) for c in value.cats]


def local_day(value: date) -> date:
    return value.astimezone(BERLIN).date() if isinstance(value, datetime) else value


@pytest.mark.parametrize("race_time", [None, "09:30"])
def test_race_day_is_pushed_once_then_an_idle_cycle_writes_nothing(
    tmp_path: Path, race_time: str | None
) -> None:
    rig = race_rig(tmp_path, race_time=race_time)
    report = rig.cycle(NOW)
    assert not report.failed, report.as_dict()
    assert any(a.session == RACE and a.action == "create" for a in report.actions)
    start, end = rig.times()[RACE]
    if race_time is None:  # one date, the exclusive end the next day, on a 23-hour Sunday too
        assert (start, end) == (RACE_DAY, RACE_DAY + timedelta(days=1))
        (path, _), *_ = rig.events()[RACE]
        raw = path.read_bytes().replace(b"\r\n ", b"")
        assert b"DTSTART;VALUE=DATE:20270328\r\n" in raw
        assert b"DTEND;VALUE=DATE:20270329\r\n" in raw
    else:
        assert start == datetime(2027, 3, 28, 9, 30, tzinfo=BERLIN)
        assert end == start + timedelta(minutes=150)
    # P4: race day holds nothing else
    others = [
        sid for sid, (s, _) in rig.times().items() if sid != RACE and local_day(s) == RACE_DAY
    ]
    assert others == []
    stamps = {p.name: p.stat().st_mtime_ns for p in rig.training.iterdir()}
    for minutes in (0, 15, 60 * 24):
        again = rig.cycle(NOW + timedelta(minutes=minutes))
        assert again.writes == 0, again.actions
        assert not again.failed
    assert {p.name: p.stat().st_mtime_ns for p in rig.training.iterdir()} == stamps


def test_a_race_dragged_to_another_day_is_pinned_and_the_week_keeps_clear_of_it(
    tmp_path: Path,
) -> None:
    rig = race_rig(tmp_path)
    rig.cycle(NOW)
    new_start, new_end = rig.move(RACE, timedelta(days=-1))  # the athlete races on Saturday
    assert (new_start, new_end) == (date(2027, 3, 27), date(2027, 3, 28))
    (path, _), *_ = rig.events()[RACE]
    theirs = path.read_bytes()
    report = rig.cycle(NOW)
    assert [p.session for p in report.pinned] == [RACE]
    assert all(a.session != RACE for a in report.actions)
    assert not [w for w in report.warnings if RACE in w]
    assert path.read_bytes() == theirs  # their event, as they left it (S9)
    with rig.store() as store:
        pin = store.pins()[RACE]
    assert (pin.start, pin.end) == (
        datetime(2027, 3, 27, tzinfo=BERLIN),
        datetime(2027, 3, 28, tzinfo=BERLIN),
    )
    # P4 follows the race: Saturday is cleared of the run it held
    saturday = [
        sid
        for sid, (s, _) in rig.times().items()
        if sid != RACE and local_day(s) == date(2027, 3, 27)
    ]
    assert saturday == []
    for _ in range(2):
        assert rig.cycle(NOW).writes == 0
    assert path.read_bytes() == theirs


# -- liftrun sync --once: the ICS feed, its shadow, and a vdir ----------------------------------
FEED_AND_VDIR = """\
[sync]
horizon_days = 28
[[calendars]]
kind = "ics"
name = "feed"
push_to = "out/liftrun.ics"
push_busy_shadow_to = "out/busy.ics"
[[calendars]]
kind = "vdir"
name = "khal"
push_to = "khal"
"""


def sync_once(tmp_path: Path) -> dict[str, Any]:
    result = CliRunner().invoke(
        main,
        [
            "sync",
            "--once",
            "--config",
            str(tmp_path / "liftrun.toml"),
            "--now",
            NOW.strftime("%Y-%m-%dT%H:%M"),
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.stdout + result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def feed_race(tmp_path: Path) -> icalendar.Component:
    cal = icalendar.Calendar.from_ical((tmp_path / "out" / "liftrun.ics").read_bytes())
    (ev,) = [e for e in cal.walk("VEVENT") if str(e["X-LIFTRUN-SESSION"]) == RACE]
    return ev


def test_sync_once_twice_with_race_day_in_the_feed_and_a_vdir(tmp_path: Path) -> None:
    toml = athlete_toml(race_date=f"{RACE_DAY}", plan_start="2027-01-04")
    (tmp_path / "liftrun.toml").write_text(toml + FEED_AND_VDIR)
    first = sync_once(tmp_path)
    assert first["writes"] > 0 and first["targets"]["feed"]["errors"] == []
    created = {(a["target"], a["session"]) for a in first["actions"] if a["action"] == "create"}
    assert {("feed", RACE), ("khal", RACE)} <= created
    ev = feed_race(tmp_path)
    assert ev.decoded("DTSTART") == RACE_DAY and ev.decoded("DTEND") == date(2027, 3, 29)
    assert categories(ev) == ["Race"]
    shadow = icalendar.Calendar.from_ical((tmp_path / "out" / "busy.ics").read_bytes())
    assert any(e.decoded("DTSTART") == RACE_DAY for e in shadow.walk("VEVENT"))
    files = {
        p: p.read_bytes() for p in [*(tmp_path / "out").iterdir(), *(tmp_path / "khal").iterdir()]
    }
    second = sync_once(tmp_path)
    assert second["writes"] == 0, second["actions"]
    assert {p: p.read_bytes() for p in files} == files

    # the athlete drags the race to Friday in khal: the feed follows, khal is left alone
    (khal_race,) = [p for p in (tmp_path / "khal").iterdir() if RACE in p.name]
    cal = icalendar.Calendar.from_ical(khal_race.read_bytes())
    for e in cal.walk("VEVENT"):
        del e["DTSTART"]
        del e["DTEND"]
        e.add("DTSTART", date(2027, 3, 26))
        e.add("DTEND", date(2027, 3, 27))
    khal_race.write_bytes(cal.to_ical())
    theirs = khal_race.read_bytes()
    third = sync_once(tmp_path)
    assert [p["session"] for p in third["pinned"]] == [RACE]
    moves = [(a["target"], a["action"]) for a in third["actions"] if a["session"] == RACE]
    assert moves == [("feed", "update")]
    assert khal_race.read_bytes() == theirs
    ev = feed_race(tmp_path)
    assert ev.decoded("DTSTART") == date(2027, 3, 26) and ev.decoded("DTEND") == date(2027, 3, 27)
    assert sync_once(tmp_path)["writes"] == 0
