"""``liftrun init`` and ``liftrun check`` end to end, through the real CLI and the real loader."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner, Result

from adapters.caldav.settings import CaldavCalendar
from adapters.google.settings import GoogleCalendar
from adapters.ics.settings import IcsCalendar
from adapters.vdir.settings import VdirCalendar
from cli.main import main
from config.loader import load
from sync.state import DB_NAME
from tests.google_emulator import RunningEmulator, running_emulator

TODAY = "2026-06-01"


def invoke(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(
        main, list(args), input=input, env={"TZ": "Europe/Paris", **(env or {})}
    )


def read(path: Path) -> dict[str, object]:
    return tomllib.loads(path.read_text(encoding="utf-8"))


# -- init ----------------------------------------------------------------------------------


def test_init_defaults_writes_a_valid_commented_file(tmp_path: Path) -> None:
    path = tmp_path / "liftrun.toml"
    result = invoke("init", "--path", str(path), "--defaults")  # no input at all
    assert result.exit_code == 0, result.output
    loaded = load(str(path))
    settings = loaded.settings
    assert settings.timezone == "Europe/Paris"  # $TZ
    assert settings.goal.race == "none"
    assert settings.athlete.lift_days == 3 and settings.athlete.run_days == 2
    assert settings.availability.mon == ["06:00-08:00", "17:30-21:00"]
    assert settings.availability.sat == ["08:00-11:00"]
    assert isinstance(settings.calendars[0], IcsCalendar)
    assert settings.calendars[0].push_to == "out/liftrun.ics"
    text = path.read_text(encoding="utf-8")
    comments = [line for line in text.splitlines() if line.lstrip().startswith("#")]
    assert len(comments) > 20
    assert "(L1)" in text and "(S8)" in text and "(P1)" in text
    assert "liftrun sync --once --dry-run" in result.output
    assert "liftrun check" in result.output
    assert not (tmp_path / "state").exists()  # init writes the config and nothing else
    assert path.stat().st_mode & 0o777 == 0o600  # busy_from may hold secret iCal addresses


def test_init_defaults_needs_no_stdin_in_a_real_process(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "cli", "init", "--defaults"],
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert load(str(tmp_path / "liftrun.toml")).settings.calendars
    assert "--config" not in done.stdout  # ./liftrun.toml is found without it


def test_init_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    path = tmp_path / "liftrun.toml"
    path.write_text("# mine\n", encoding="utf-8")
    result = invoke("init", "--path", str(path), "--defaults")
    assert result.exit_code == 2
    assert "already exists" in result.output and "--force" in result.output
    assert "Traceback" not in result.output
    assert path.read_text(encoding="utf-8") == "# mine\n"
    forced = invoke("init", "--path", str(path), "--defaults", "--force")
    assert forced.exit_code == 0, forced.output
    load(str(path))


def test_init_interactive_caldav_with_bad_answers_asked_again(tmp_path: Path) -> None:
    path = tmp_path / "conf" / "liftrun.toml"
    secret = tmp_path / "caldav-password"
    secret.write_text("s3cret\n", encoding="utf-8")
    answers = [
        "marathon",  # race
        "2027-02-30",  # not a date: asked again
        "2026-05-01",  # in the past: asked again
        "2027-04-18",
        "endurance",
        "5",  # more than 4 lifts: asked again
        "2",
        "4",
        "heavy",  # not a weight: asked again
        "68.5",
        "Mars/Olympus_Mons",  # not a zone: asked again
        "America/New_York",
        "custom",
        "06:00-08:00, 17:30-21:00",  # mon
        "25:00-26:00",  # tue: not a time: asked again
        "06:00-07:00, 06:30-08:00",  # tue: overlapping: asked again
        "none",  # tue
        "",  # wed (default: none)
        "07:00-08:00",  # thu
        "",  # fri
        "08:00-12:00",  # sat
        "",  # sun
        "caldav",
        "ftp://cloud.example.com/",  # not http(s): asked again
        "https://cloud.example.com/remote.php/dav/",
        "me",
        str(secret),
        "",  # push_to: Training
        "Personal, Work",
    ]
    result = invoke("init", "--path", str(path), "--today", TODAY, input="\n".join(answers) + "\n")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "'2027-02-30' is not a date of the form YYYY-MM-DD" in out
    assert "2026-05-01 is not after today (2026-06-01)" in out
    assert "5 is not between 1 and 4" in out
    assert "'heavy' is not a weight" in out
    assert "'Mars/Olympus_Mons' is not an IANA time zone name" in out
    assert "is not a valid time of day range" in out
    assert "overlap" in out
    assert "a CalDAV URL starts with https://" in out
    # the password itself is never asked for, only the file that holds it
    assert not [line for line in out.splitlines() if line.lower().startswith("password:")]

    data = read(path)
    assert data["timezone"] == "America/New_York"
    assert data["athlete"] == {
        "experience": "intermediate",
        "priority": "endurance",
        "lift_days": 2,
        "run_days": 4,
        "bodyweight_kg": 68.5,
        "hard_days_hard": False,
        "peak_style": "strength",
        "lifting_now": False,
    }
    assert data["goal"] == {"race": "marathon", "race_date": "2027-04-18"}
    availability = data["availability"]
    assert isinstance(availability, dict)
    assert availability["mon"] == ["06:00-08:00", "17:30-21:00"]
    assert availability["tue"] == [] and availability["wed"] == []
    assert availability["thu"] == ["07:00-08:00"] and availability["sat"] == ["08:00-12:00"]
    calendars = data["calendars"]
    assert isinstance(calendars, list)
    assert calendars[0] == {
        "kind": "caldav",
        "name": "training",
        "url": "https://cloud.example.com/remote.php/dav/",
        "username": "me",
        "password_file": str(secret),
        "push_to": "Training",
        "busy_from": ["Personal", "Work"],
        "alarm_minutes": 30,
        "timeout_seconds": 20,
    }
    assert "feed" not in data
    cal = load(str(path)).settings.calendars[0]
    assert isinstance(cal, CaldavCalendar)
    assert cal.password is not None and cal.password.get_secret_value() == "s3cret"
    assert "s3cret" not in path.read_text(encoding="utf-8")
    assert f"--config {path}" in out  # not ./liftrun.toml: the next steps name the file


def test_init_caldav_password_file_may_come_later(tmp_path: Path) -> None:
    path = tmp_path / "liftrun.toml"
    answers = ["", "", "", "", "", "", "", "caldav", "https://dav.example.com/", "none", "", "", ""]
    result = invoke("init", "--path", str(path), "--today", TODAY, input="\n".join(answers) + "\n")
    assert result.exit_code == 0, result.output
    data = read(path)
    calendars = data["calendars"]
    assert isinstance(calendars, list)
    assert calendars[0]["password_file"] == str(tmp_path / "caldav-password")
    assert "username" not in calendars[0]
    assert f"put the CalDAV password into {tmp_path / 'caldav-password'}" in result.output
    (tmp_path / "caldav-password").write_text("pw", encoding="utf-8")
    load(str(path))


@pytest.mark.parametrize(
    ("kind", "extra", "expected"),
    [
        ("google", ["", "primary, work@example.com"], GoogleCalendar),
        ("vdir", ["~/cal/training", "/srv/cal/work"], VdirCalendar),
        ("ics", ["", "busy/work.ics, https://example.com/basic.ics"], IcsCalendar),
    ],
)
def test_init_other_calendar_kinds(
    tmp_path: Path, kind: str, extra: list[str], expected: type
) -> None:
    path = tmp_path / "liftrun.toml"
    answers = ["half", "2027-04-18", "", "", "", "", "", "", kind, *extra]
    result = invoke("init", "--path", str(path), "--today", TODAY, input="\n".join(answers) + "\n")
    assert result.exit_code == 0, result.output
    settings = load(str(path)).settings
    cal = settings.calendars[0]
    assert isinstance(cal, expected)
    assert settings.goal.race == "half"
    if isinstance(cal, GoogleCalendar):
        assert cal.client_secrets_file == "google-client.json"
        assert cal.busy_from == ["primary", "work@example.com"]
        assert cal.push_to == "Training"
        assert "liftrun auth google" in result.output
    elif isinstance(cal, VdirCalendar):
        assert cal.push_to == str(Path("~/cal/training").expanduser())
        assert cal.busy_from == ["/srv/cal/work"]
    else:
        assert isinstance(cal, IcsCalendar)
        assert cal.busy_from == [str(tmp_path / "busy/work.ics"), "https://example.com/basic.ics"]
        assert "liftrun serve" in result.output


def test_init_custom_windows_need_at_least_one(tmp_path: Path) -> None:
    path = tmp_path / "liftrun.toml"
    answers = [
        "",
        "",
        "",
        "",
        "",
        "",
        "custom",
        *[""] * 7,
        *["none"] * 6,
        "09:00-10:00",
        "",
        "",
        "",
    ]
    result = invoke("init", "--path", str(path), "--today", TODAY, input="\n".join(answers) + "\n")
    assert result.exit_code == 0, result.output
    assert "no windows on any day" in result.output
    assert load(str(path)).settings.availability.sun == ["09:00-10:00"]


def test_init_without_answers_aborts_without_writing(tmp_path: Path) -> None:
    path = tmp_path / "liftrun.toml"
    result = invoke("init", "--path", str(path), input="")
    assert result.exit_code != 0
    assert not path.exists()


# -- check ---------------------------------------------------------------------------------

CONFIG = """\
timezone = "Europe/Berlin"
[availability]
mon = ["06:00-08:00", "17:30-21:30"]
tue = ["06:00-08:00", "17:30-21:30"]
wed = ["06:00-08:00", "17:30-21:30"]
thu = ["06:00-08:00", "17:30-21:30"]
fri = ["06:00-08:00", "17:30-21:30"]
sat = ["07:00-12:00"]
[state]
path = "state"
"""


def busy_ics(start: datetime) -> str:
    stamp = f"{start:%Y%m%dT%H%M%SZ}"
    end = f"{start + timedelta(hours=1):%Y%m%dT%H%M%SZ}"
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//tests//EN\r\nBEGIN:VEVENT\r\n"
        f"UID:dentist@example.com\r\nDTSTAMP:{stamp}\r\nDTSTART:{stamp}\r\nDTEND:{end}\r\n"
        "SUMMARY:Dentist\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )


STORE_FILES = {DB_NAME, f"{DB_NAME}-wal", f"{DB_NAME}-shm"}


def snapshot(root: Path) -> dict[str, str]:
    """Every file under ``root`` with a hash of its bytes, the state store's own files aside:
    what a check must not change. (It opens the store to keep what the calendars found out
    where they live; caches, last good copies among them, it only reads.)"""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name not in STORE_FILES
    }


def only_the_store(state: Path) -> bool:
    """``state`` holds the store a check opened and nothing else: no cache was written."""
    return {p.name for p in state.rglob("*")} <= STORE_FILES


def window(days: int = 28) -> str:
    """How check names the days a sync reads for a plan that has begun: from four days before
    today (the context the cycle reads) to two days past the horizon's end, in the plan's zone
    (``CONFIG``'s)."""
    today = datetime.now(ZoneInfo("Europe/Berlin")).date()
    first, last = today - timedelta(days=4), today + timedelta(days=days + 1)
    return f"from {first:%a} {first.day} {first:%b} to {last:%a} {last.day} {last:%b}"


def test_check_ics_feed_and_file_source(tmp_path: Path) -> None:
    busy = tmp_path / "work.ics"
    busy.write_text(busy_ics(datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)))
    config = tmp_path / "liftrun.toml"
    config.write_text(
        CONFIG + f'[[calendars]]\npush_to = "out/liftrun.ics"\nbusy_from = ["{busy}"]\n'
    )
    synced = invoke("sync", "--once", "--config", str(config))
    assert synced.exit_code == 0, synced.output
    before = snapshot(tmp_path)
    result = invoke("check", "--config", str(config))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert f"source {busy}: ok (1 busy events {window()})" in lines
    feed = [line for line in lines if line.startswith("target out/liftrun.ics: ok (")]
    assert len(feed) == 1 and not feed[0].startswith("target out/liftrun.ics: ok (0 ")
    assert snapshot(tmp_path) == before  # neither the feed nor state/ was touched


@pytest.mark.parametrize("problem", ["missing", "garbage"])
def test_check_reports_a_broken_source(tmp_path: Path, problem: str) -> None:
    busy = tmp_path / "work.ics"
    if problem == "garbage":
        busy.write_text("this is not iCalendar\n")
    config = tmp_path / "liftrun.toml"
    config.write_text(
        CONFIG + f'[[calendars]]\npush_to = "out/liftrun.ics"\nbusy_from = ["{busy}"]\n'
    )
    result = invoke("check", "--config", str(config))
    assert result.exit_code == 3, result.output
    failed = [line for line in result.output.splitlines() if line.startswith(f"source {busy}: ")]
    assert len(failed) == 1 and "FAILED: " in failed[0]
    assert "target out/liftrun.ics: ok (0 liftrun events)" in result.output
    assert "Traceback" not in result.output
    assert only_the_store(tmp_path / "state") and not (tmp_path / "out").exists()


def test_check_vdir_target_creates_nothing(tmp_path: Path) -> None:
    config = tmp_path / "liftrun.toml"
    work = tmp_path / "work"
    work.mkdir()
    (work / "dentist.ics").write_text(busy_ics(datetime.now(UTC) + timedelta(days=1)))
    config.write_text(
        CONFIG
        + '[[calendars]]\nkind = "vdir"\nname = "khal"\npush_to = "training"\n'
        + f'busy_from = ["{work}"]\n'
    )
    result = invoke("check", "--config", str(config))
    assert result.exit_code == 0, result.output
    assert "target khal: ok (0 liftrun events; " in result.output
    assert "does not exist yet; the first sync creates it" in result.output
    assert f"source {work}: ok (1 busy events {window()})" in result.output
    assert not (tmp_path / "training").exists()
    assert only_the_store(tmp_path / "state")
    (tmp_path / "training").mkdir()
    again = invoke("check", "--config", str(config))
    assert again.exit_code == 0, again.output
    assert "target khal: ok (0 liftrun events)" in again.output.splitlines()


def test_check_bad_config_is_exit_2_without_traceback(tmp_path: Path) -> None:
    config = tmp_path / "liftrun.toml"
    config.write_text(CONFIG + "[athlete]\nlift_days = 7\n")
    result = invoke("check", "--config", str(config))
    assert result.exit_code == 2
    assert "config error" in result.output and "athlete.lift_days = 7" in result.output
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)


def test_check_without_calendars(tmp_path: Path) -> None:
    config = tmp_path / "liftrun.toml"
    config.write_text(CONFIG)
    result = invoke("check", "--config", str(config))
    assert result.exit_code == 0, result.output
    assert "no [[calendars]]" in result.output


@pytest.fixture
def emu() -> Iterator[RunningEmulator]:
    with running_emulator() as running:
        yield running


def test_check_google_does_not_create_the_training_calendar(
    tmp_path: Path, emu: RunningEmulator
) -> None:
    config = tmp_path / "liftrun.toml"
    config.write_text(
        CONFIG
        + '[[calendars]]\nkind = "google"\nname = "google"\nauth = "none"\n'
        + f'api_endpoint = "{emu.api_endpoint}"\npush_to = "Training"\nbusy_from = ["primary"]\n'
    )
    result = invoke("check", "--config", str(config))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert f"source google: primary: ok (0 busy events {window()})" in lines
    assert (
        "target google: ok (0 liftrun events; calendar 'Training' does not exist yet; "
        "it will be created on the first sync)" in lines
    )
    listed = emu.service().calendarList().list().execute()
    assert "Training" not in [c.get("summary") for c in listed.get("items", [])]
    assert only_the_store(tmp_path / "state")
