"""The ``liftrun`` command line, driven as a user would: real files, real output parsers."""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
from datetime import date, datetime
from pathlib import Path
from typing import Any

import icalendar
import pytest
import vobject
from click.testing import CliRunner

from cli.main import main
from config.loader import load
from planner.lift_load import Soreness
from sync.state import StateStore
from tests.plan_checks import check_all

CONFIG = """\
timezone = "{tz}"
[athlete]
experience = "{experience}"
priority = "{priority}"
bodyweight_lb = 165
run_days = {run_days}
[goal]
race = "{race}"
{race_date}
[availability]
mon = ["06:00-08:00", "17:30-21:30"]
tue = ["06:00-08:00", "17:30-21:30"]
wed = ["06:00-08:00", "17:30-21:30"]
thu = ["06:00-08:00", "17:30-21:30"]
fri = ["06:00-08:00"]
sat = ["07:00-12:00"]
sun = ["08:00-11:00"]
[state]
path = "state"
"""


def config_file(tmp_path: Path, **kw: object) -> Path:
    values = {
        "tz": "Europe/Berlin",
        "experience": "intermediate",
        "priority": "strength",
        "run_days": 3,
        "race": "half",
        "race_date": 'race_date = "2027-04-18"',
    } | kw
    path = tmp_path / "liftrun.toml"
    path.write_text(CONFIG.format(**values), encoding="utf-8")
    return path


def run(args: list[str]) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, args)
    return result.exit_code, result.stdout, result.stderr


RACES = {
    "marathon": 'race_date = "2027-10-10"',
    "half": 'race_date = "2027-04-18"',
    "10k": 'race_date = "2027-06-06"',
    "none": "",
}


@pytest.mark.parametrize(
    ("race", "priority", "experience"),
    list(
        itertools.product(
            RACES, ["strength", "endurance"], ["beginner", "intermediate", "advanced"]
        )
    ),
)
def test_json_plan_keeps_every_rule(
    tmp_path: Path, race: str, priority: str, experience: str
) -> None:
    """The issue's "done when": every distance, both priorities, every experience level."""
    run_days = 5 if priority == "endurance" else 2
    path = config_file(
        tmp_path,
        race=race,
        race_date=RACES[race],
        priority=priority,
        experience=experience,
        run_days=run_days,
    )
    code, out, _ = run(
        [
            "plan",
            "--config",
            str(path),
            "--format",
            "json",
            "--start",
            "2027-01-04",
            "--weeks",
            "44",
        ]
    )
    assert code == 0
    plan = json.loads(out)
    settings = load(str(path), environ={}).settings
    assert check_all(plan, settings) == []
    assert plan["sessions"], "a plan without sessions"
    names = {p["name"] for p in plan["phases"]}
    if race == "none":
        assert names == {"base"}
    elif race in ("half", "marathon"):
        assert {"build", "peak", "taper", "race", "recovery"} <= names
    else:
        assert {"build", "race"} <= names and "peak" not in names


def test_json_contract_shape(tmp_path: Path) -> None:
    code, out, _ = run(["plan", "--config", str(config_file(tmp_path)), "--format", "json"])
    assert code == 0
    plan = json.loads(out)
    assert set(plan) >= {"timezone", "phases", "nutrition", "sessions", "unplaced"}
    assert plan["nutrition"]["protein_g_per_day"] == [148, 182]  # 165 lb x 0.9-1.1 (N1)
    kinds = {"strength", "plyometric", "mobility", "drill"}
    for s in plan["sessions"]:
        assert set(s) >= {
            "id",
            "date",
            "kind",
            "focus",
            "phase",
            "start",
            "end",
            "duration_minutes",
            "title",
            "description",
            "rules",
            "reason",
            "exercises",
        }
        start = datetime.fromisoformat(s["start"])
        assert start.utcoffset() is not None
        assert (datetime.fromisoformat(s["end"]) - start).total_seconds() == 60 * s[
            "duration_minutes"
        ]
        assert all(e["kind"] in kinds and isinstance(e["sets"], int) for e in s["exercises"])
    # the plan runs from the default block start through recovery
    assert plan["phases"][0]["name"] == "build" and plan["phases"][-1]["name"] == "recovery"


def test_ics_output_parses_with_two_independent_parsers(tmp_path: Path) -> None:
    path = config_file(tmp_path)
    result = CliRunner().invoke(main, ["plan", "--config", str(path), "--format", "ics"])
    assert result.exit_code == 0
    raw = result.stdout_bytes
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")  # RFC 5545 CRLF
    out = raw.decode()
    _, js, _ = run(["plan", "--config", str(path), "--format", "json"])
    sessions = json.loads(js)["sessions"]
    cal = icalendar.Calendar.from_ical(out)
    events = list(cal.walk("VEVENT"))
    assert len(events) == len(sessions)
    assert len({str(e["UID"]) for e in events}) == len(events)
    assert [str(t["TZID"]) for t in cal.walk("VTIMEZONE")] == ["Europe/Berlin"]
    parsed = vobject.readOne(out)
    assert len(parsed.vevent_list) == len(sessions)
    timed = [e for e in parsed.vevent_list if isinstance(e.dtstart.value, datetime)]
    first = min(timed, key=lambda e: e.dtstart.value)
    assert first.dtstart.value.isoformat() == sessions[0]["start"]
    # race day (P4) is the one all-day event: a DATE, the exclusive end the next day
    (race,) = [s for s in sessions if s["kind"] == "race"]
    (day,) = [e for e in parsed.vevent_list if not isinstance(e.dtstart.value, datetime)]
    assert day.dtstart.value.isoformat() == race["date"]
    assert (day.dtend.value - day.dtstart.value).days == 1


def test_table_is_the_default(tmp_path: Path) -> None:
    code, out, _ = run(["plan", "--config", str(config_file(tmp_path)), "--weeks", "16"])
    assert code == 0
    for word in ("Mon", "Sun", "build", "peak", "taper", "RACE DAY", "Nutrition"):
        assert word in out


def test_embedded_default_needs_no_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = run(["plan", "--format", "json"])
    assert code == 0
    assert "embedded sample" in err
    assert json.loads(out)["timezone"] == "Europe/Berlin"


def test_the_embedded_default_still_syncs_after_its_race(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Quick start must keep working when the sample's race date has passed."""
    monkeypatch.chdir(tmp_path)
    code, _, err = run(["sync", "--once", "--now", "2027-09-01T08:00"])
    assert code == 0, err
    assert "warning: the embedded sample default.toml's goal.race_date" in err


def test_soreness_persists_and_lowers_next_week(tmp_path: Path) -> None:
    path = config_file(tmp_path)
    args = [
        "plan",
        "--config",
        str(path),
        "--format",
        "json",
        "--start",
        "2027-01-11",
        "--weeks",
        "1",
    ]
    before = json.loads(run(args)[1])
    code, out, _ = run(["sore", "severe", "--config", str(path), "--week", "2027-01-06"])
    assert code == 0 and "2027-01-04" in out
    with StateStore(tmp_path / "state") as store:
        assert store.soreness() == {date(2027, 1, 4): Soreness.SEVERE}
    after = json.loads(run(args)[1])

    def lift_load(plan: dict[str, Any]) -> tuple[int, int]:
        """Sets, and exercises at light weights: soreness takes sets, or weight once the week
        is already down to its fewest sets (an ease-in week, L6)."""
        lifts = [e for s in plan["sessions"] if s["kind"] == "lift" for e in s["exercises"]]
        return sum(e["sets"] for e in lifts), -sum(e["load"] == "light" for e in lifts)

    assert lift_load(after) < lift_load(before)
    assert any("L6" in s["rules"] for s in after["sessions"] if s["kind"] == "lift")
    assert "soreness" in next(s for s in after["sessions"] if s["kind"] == "lift")["reason"]
    run(["sore", "none", "--config", str(path), "--week", "2027-01-06"])
    assert json.loads(run(args)[1]) == before


def test_legacy_soreness_file_is_imported_once(tmp_path: Path) -> None:
    path = config_file(tmp_path)
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "soreness.json").write_text('{"2027-01-04": "moderate"}')
    code, _, _ = run(["plan", "--config", str(path), "--start", "2027-01-11", "--weeks", "1"])
    assert code == 0
    assert not (tmp_path / "state" / "soreness.json").exists()
    with StateStore(tmp_path / "state") as store:
        assert store.soreness() == {date(2027, 1, 4): Soreness.MODERATE}


@pytest.mark.parametrize(
    "args",
    [
        ["plan", "--start", "2027-13-01"],
        ["plan", "--weeks", "0"],
        ["plan", "--format", "pdf"],
        ["sore", "extreme"],
    ],
)
def test_bad_arguments_exit_2(tmp_path: Path, args: list[str]) -> None:
    code, _, err = run([*args, "--config", str(config_file(tmp_path))])
    assert code == 2
    assert "Traceback" not in err


def test_installed_console_script(tmp_path: Path) -> None:
    exe = shutil.which("liftrun") or str(Path(__import__("sys").executable).with_name("liftrun"))
    proc = subprocess.run(
        [exe, "plan", "--config", str(config_file(tmp_path)), "--weeks", "1", "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["sessions"]


BUSY_ICS = """BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//tests//EN\r
BEGIN:VEVENT\r
UID:flight@example.com\r
DTSTAMP:20261201T000000Z\r
DTSTART;TZID=Europe/Berlin:20270105T050000\r
DTEND;TZID=Europe/Berlin:20270105T090000\r
SUMMARY:Early flight\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:standup@example.com\r
DTSTAMP:20261201T000000Z\r
DTSTART;TZID=Europe/Berlin:20270104T060000\r
DTEND;TZID=Europe/Berlin:20270104T063000\r
RRULE:FREQ=WEEKLY;BYDAY=MO,WE\r
EXDATE;TZID=Europe/Berlin:20270106T060000\r
SUMMARY:Stand-up\r
END:VEVENT\r
END:VCALENDAR\r
"""


def test_plan_places_around_busy_files(tmp_path: Path) -> None:
    path = config_file(tmp_path, run_days=2)
    busy = tmp_path / "work.ics"
    busy.write_text(BUSY_ICS, encoding="utf-8")
    args = [
        "plan",
        "--config",
        str(path),
        "--format",
        "json",
        "--start",
        "2027-01-04",
        "--weeks",
        "2",
        "--busy",
        str(busy),
        "--now",
        "2026-12-01T00:00",
    ]
    code, out, _ = run(args)
    assert code == 0
    plan = json.loads(out)
    by_day = {s["date"]: s for s in plan["sessions"]}
    mon = by_day["2027-01-04"]
    assert mon["start"] == "2027-01-04T06:45:00+01:00"  # stand-up + 15 min buffer
    assert "'Stand-up' 06:00-06:30" in mon["placement"]
    wed = by_day["2027-01-06"]
    assert wed["start"] == "2027-01-06T06:00:00+01:00"  # the EXDATE freed Wednesday
    tue = by_day["2027-01-05"]
    assert tue["start"] == "2027-01-05T17:30:00+01:00" and "'Early flight'" in tue["placement"]
    assert check_all(plan, load(str(path), environ={}).settings) == []


def test_explain_names_rules_neighbours_and_busy(tmp_path: Path) -> None:
    path = config_file(tmp_path, run_days=2)
    busy = tmp_path / "work.ics"
    busy.write_text(BUSY_ICS, encoding="utf-8")
    code, out, _ = run(
        [
            "plan",
            "--config",
            str(path),
            "--start",
            "2027-01-04",
            "--weeks",
            "1",
            "--busy",
            str(busy),
            "--explain",
            "20270104-run-easy-1",
            "--now",
            "2026-12-01T00:00",
        ]
    )
    assert code == 0
    assert "When: Tue 05 Jan 2027 17:30-" in out
    assert "instead of the planned Tue 06:00: 'Early flight' 05:00-09:00 is busy" in out
    assert "R2   strength priority" in out
    assert "Neighbours:" in out and "Lower-body lift" in out
    assert "05:00-09:00  Early flight" in out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("<html>nope</html>", "not an iCalendar file"),
        (None, "cannot read calendar file"),
        ("fifo", "not a regular file (a FIFO)"),
    ],
)
def test_unreadable_busy_file_is_a_clear_error(
    tmp_path: Path, content: str | None, message: str
) -> None:
    busy = tmp_path / "bad.ics"
    if content == "fifo":
        os.mkfifo(busy)  # would hang a plain read
    elif content is not None:
        busy.write_text(content, encoding="utf-8")
    code, _, err = run(["plan", "--config", str(config_file(tmp_path)), "--busy", str(busy)])
    assert code == 2
    assert str(busy) in err and message in err and "Traceback" not in err
    assert err.count(str(busy)) == 1  # the path once


def test_explain_unknown_session(tmp_path: Path) -> None:
    code, _, err = run(["plan", "--config", str(config_file(tmp_path)), "--explain", "nope"])
    assert code == 2 and "no such session" in err


def test_maintenance_with_a_race_is_a_config_error(tmp_path: Path) -> None:
    path = config_file(tmp_path)
    path.write_text(
        path.read_text().replace('race = "half"', 'race = "half"\nstrength_mode = "maintenance"')
    )
    code, out, err = run(["plan", "--config", str(path)])
    assert code == 2 and out == ""
    assert 'goal: strength_mode = "maintenance" is for training without a race' in err
    assert "Traceback" not in err


def test_a_past_race_stops_sync_and_warns_in_plan(tmp_path: Path) -> None:
    path = config_file(tmp_path, race_date='race_date = "2026-03-01"')
    code, _, err = run(["sync", "--once", "--config", str(path), "--now", "2026-12-01T08:00"])
    assert code == 2
    assert "goal.race_date = 2026-03-01 is before today (2026-12-01)" in err
    assert "Traceback" not in err
    code, out, err = run(
        ["plan", "--config", str(path), "--now", "2026-12-01T08:00", "--format", "json"]
    )
    assert code == 0
    assert "is before today" in err
    assert any("is before today" in w for w in json.loads(out)["warnings"])
    # during the race's recovery weeks (P5) the plan is where it should be: no complaint
    code, _, err = run(["sync", "--once", "--config", str(path), "--now", "2026-03-05T08:00"])
    assert "is before today" not in err


def test_plan_table_has_a_volume_column(tmp_path: Path) -> None:
    code, out, _ = run(["plan", "--config", str(config_file(tmp_path)), "--weeks", "5"])
    assert code == 0
    assert "Volume" in out and "run " in out and "sets" in out and "cutback" in out
