"""Race day (P4) in Google Calendar, through the real google-api-python-client and the Calendar
v3 emulator: the all-day race is ``{"date": ...}`` with the exclusive end date, reads back to
the same start and end (a second cycle writes nothing, on a DST-change Sunday too), a race the
athlete drags to another day is pinned and left alone, and a race given a start time later (or
losing it) is patched between all-day and timed, which Google only accepts with the other
field nulled."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from googleapiclient.errors import HttpError

from adapters.google.target import GoogleTarget
from config.loader import load
from sync.state import StateStore
from sync.wiring import build
from tests.athlete import athlete_toml
from tests.google.test_google_sync import BERLIN, cycle, events, training
from tests.google.test_google_sync import write_config as sync_config
from tests.google_emulator import RunningEmulator

RACE = "20270322-race-1"
NOW = datetime(2027, 3, 15, 5, 0, tzinfo=BERLIN)  # race day (Sun 28 Mar 2027) 13 days ahead


def write_config(tmp_path: Path, emu: RunningEmulator, race_time: str | None) -> Path:
    athlete = athlete_toml(race_date="2027-03-28", plan_start="2027-01-04", race_time=race_time)
    return sync_config(tmp_path, emu, athlete=athlete)


def race_event(emu: RunningEmulator) -> dict[str, Any]:
    return events(emu)[RACE]


def owned_race(config: Path) -> Any:
    loaded = load(str(config), {})
    with StateStore(loaded.state_dir) as store:
        (spec,) = build(loaded, NOW, store).targets
    assert isinstance(spec.target, GoogleTarget)
    far = (datetime(2000, 1, 1, tzinfo=BERLIN), datetime(2100, 1, 1, tzinfo=BERLIN))
    return {e.session_id: e for e in spec.target.list_owned(*far)}[RACE]


@pytest.mark.parametrize("race_time", [None, "09:30"])
def test_race_day_is_pushed_once_and_a_second_cycle_writes_nothing(
    emu: RunningEmulator, tmp_path: Path, race_time: str | None
) -> None:
    config = write_config(tmp_path, emu, race_time)
    report, _, _ = cycle(config, NOW)
    assert not report.failed, report.as_dict()
    assert any(a.session == RACE and a.action == "create" for a in report.actions)
    ev = race_event(emu)
    assert ev["transparency"] == "opaque"
    if race_time is None:
        assert ev["start"] == {"date": "2027-03-28"}
        assert ev["end"] == {"date": "2027-03-29"}  # Google's all-day end is exclusive too
        # no reminder: it would ring at 23:30 on the eve of the race
        assert ev["reminders"]["useDefault"] is False
        assert ev["reminders"].get("overrides", []) == []
        back = owned_race(config)
        assert (back.start, back.end) == (
            datetime(2027, 3, 28, tzinfo=BERLIN),
            datetime(2027, 3, 29, tzinfo=BERLIN),
        )
        assert not back.moved_by_hand
    else:
        assert ev["start"] == {"dateTime": "2027-03-28T09:30:00+02:00", "timeZone": "Europe/Berlin"}
        assert ev["end"] == {"dateTime": "2027-03-28T12:00:00+02:00", "timeZone": "Europe/Berlin"}
        assert ev["reminders"]["overrides"] == [{"method": "popup", "minutes": 30}]
    for _ in range(2):
        again, target_requests, _ = cycle(config, NOW)
        assert again.writes == 0 and not again.failed, again.actions
        assert target_requests <= 3
    assert race_event(emu)["etag"] == ev["etag"]


def test_a_race_dragged_to_another_day_is_pinned_and_left_alone(
    emu: RunningEmulator, tmp_path: Path
) -> None:
    config = write_config(tmp_path, emu, None)
    cycle(config, NOW)
    ev = race_event(emu)
    moved = (
        emu.service()
        .events()
        .patch(
            calendarId=training(emu),
            eventId=ev["id"],
            body={"start": {"date": "2027-03-26"}, "end": {"date": "2027-03-27"}},
        )
        .execute()
    )
    report, _, _ = cycle(config, NOW)
    assert [p.session for p in report.pinned] == [RACE]
    assert all(a.session != RACE for a in report.actions)
    assert not [w for w in report.warnings if RACE in w]
    for _ in range(2):
        again, _, _ = cycle(config, NOW)
        assert again.writes == 0, again.actions
    after = race_event(emu)
    assert after["etag"] == moved["etag"] and after["start"] == {"date": "2027-03-26"}


def test_a_race_given_a_start_time_and_losing_it_again_is_patched_each_way(
    emu: RunningEmulator, tmp_path: Path
) -> None:
    config = write_config(tmp_path, emu, None)
    cycle(config, NOW)
    assert race_event(emu)["start"] == {"date": "2027-03-28"}
    for race_time, start in (
        ("09:30", {"dateTime": "2027-03-28T09:30:00+02:00", "timeZone": "Europe/Berlin"}),
        (None, {"date": "2027-03-28"}),
    ):
        write_config(tmp_path, emu, race_time)
        report, _, _ = cycle(config, NOW)
        assert not report.failed, report.as_dict()
        (action,) = [a for a in report.actions if a.session == RACE]
        assert action.action == "update"
        assert race_event(emu)["start"] == start
        assert cycle(config, NOW)[0].writes == 0


def test_the_emulator_merges_start_and_end_in_a_patch_as_google_does(
    emu: RunningEmulator,
) -> None:
    """Google's patch merges ``start`` field by field: a ``dateTime`` alone on an all-day event
    leaves its ``date`` there too, which is refused; nulling the ``date`` converts it."""
    svc = emu.service()
    day = (
        svc.events()
        .insert(
            calendarId="primary",
            body={
                "summary": "race",
                "start": {"date": "2027-03-28"},
                "end": {"date": "2027-03-29"},
            },
        )
        .execute()
    )
    start = {"dateTime": "2027-03-28T09:30:00+02:00", "timeZone": "Europe/Berlin"}
    end = {"dateTime": "2027-03-28T12:00:00+02:00", "timeZone": "Europe/Berlin"}
    with pytest.raises(HttpError) as refused:
        svc.events().patch(
            calendarId="primary", eventId=day["id"], body={"start": start, "end": end}
        ).execute()
    assert refused.value.resp.status == 400
    timed = (
        svc.events()
        .patch(
            calendarId="primary",
            eventId=day["id"],
            body={"start": {**start, "date": None}, "end": {**end, "date": None}},
        )
        .execute()
    )
    assert timed["start"] == start and timed["end"] == end
    back = (
        svc.events()
        .patch(
            calendarId="primary",
            eventId=day["id"],
            body={
                "start": {"date": "2027-03-28", "dateTime": None, "timeZone": None},
                "end": {"date": "2027-03-29", "dateTime": None, "timeZone": None},
            },
        )
        .execute()
    )
    assert back["start"] == {"date": "2027-03-28"} and back["end"] == {"date": "2027-03-29"}
    assert back["sequence"] == 2  # each change of time raises it
