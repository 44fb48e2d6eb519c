"""The configuration contract: resolution order, environment overrides, one-line errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from config.loader import ConfigError, load
from config.models import Settings

SAMPLE = """\
timezone = "Europe/Berlin"
[athlete]
experience = "intermediate"
priority = "strength"
bodyweight_kg = 72.5
lift_days = 3
run_days = 2
hard_days_hard = false
[goal]
race = "half"
race_date = "2027-04-18"
plan_start = "2027-01-04"
[availability]
mon = ["06:00-08:00", "17:30-21:30"]
tue = ["06:00-08:00", "17:30-21:30"]
sat = ["07:00-12:00"]
buffer_minutes = 15
"""


def write(tmp_path: Path, text: str, name: str = "liftrun.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_issue_schema_loads(tmp_path: Path) -> None:
    loaded = load(str(write(tmp_path, SAMPLE)), environ={})
    s = loaded.settings
    assert s.timezone == "Europe/Berlin"
    assert s.athlete.weekly_lifts == 3
    assert s.availability.windows(0)[1][0].hour == 17
    assert s.availability.windows(2) == ()


def test_resolution_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert load(None, environ={}).source.startswith("embedded sample")
    write(tmp_path, SAMPLE)
    assert load(None, environ={}).source == "liftrun.toml"
    other = write(tmp_path, SAMPLE.replace("72.5", "80"), "other.toml")
    assert load(None, environ={"LIFTRUN_CONFIG": str(other)}).source == str(other)
    assert load(str(tmp_path / "liftrun.toml"), {"LIFTRUN_CONFIG": str(other)}).source.endswith(
        "liftrun.toml"
    )


def test_environment_overrides_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIFTRUN_ATHLETE__LIFT_DAYS", "2")
    monkeypatch.setenv("LIFTRUN_TIMEZONE", "America/New_York")
    monkeypatch.setenv("LIFTRUN_AVAILABILITY__SUN", '["08:00-10:00"]')
    s = load(str(write(tmp_path, SAMPLE)), environ={}).settings
    assert s.athlete.lift_days == 2
    assert s.athlete.run_days == 2  # untouched keys of the same section survive
    assert s.timezone == "America/New_York"
    assert s.availability.sun == ["08:00-10:00"]


def test_secrets_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "liftrun_timezone").write_text("Asia/Tokyo")
    monkeypatch.setenv("LIFTRUN_SECRETS_DIR", str(secrets))
    s = load(str(write(tmp_path, SAMPLE)), environ={"LIFTRUN_SECRETS_DIR": str(secrets)}).settings
    assert s.timezone == "Asia/Tokyo"  # a file named like the environment variable
    monkeypatch.setenv("LIFTRUN_TIMEZONE", "Europe/Paris")
    s = load(str(write(tmp_path, SAMPLE)), environ={"LIFTRUN_SECRETS_DIR": str(secrets)}).settings
    assert s.timezone == "Europe/Paris"  # the environment still wins


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ('mon = ["06:00-08:00", "17:30-21:30"]', 'mon = ["25:00-26:00"]'),
            "availability.mon = ['25:00-26:00']: '25:00-26:00' is not a valid time of day range",
        ),
        (
            ('mon = ["06:00-08:00", "17:30-21:30"]', 'mon = ["06:00-08:00", "07:30-09:00"]'),
            "windows '06:00-08:00' and '07:30-09:00' overlap",
        ),
        (("lift_days = 3", "lift_days = 7"), "athlete.lift_days = 7: Input should be less than"),
        (
            ('plan_start = "2027-01-04"', 'plan_start = "2027-05-01"'),
            "race_date 2027-04-18 is not after plan_start 2027-05-01",
        ),
        (
            ('timezone = "Europe/Berlin"', 'timezone = "Mars/Olympus"'),
            "timezone = 'Mars/Olympus': is not an IANA time zone name",
        ),
        (('priority = "strength"', 'priority = "speed"'), "athlete.priority = 'speed'"),
        (("run_days = 2", "run_days = 2\nrun_dayz = 3"), "unknown key athlete.run_dayz"),
        (("[goal]", "[goals]\nx = 1\n[goal]"), "unknown key goals"),
        (('race_date = "2027-04-18"', ""), 'race = "half" needs race_date'),
        (('race_date = "2027-04-18"', 'race_date = "2027-02-30"'), "goal.race_date = '2027-02-30'"),
        (
            ("bodyweight_kg = 72.5", "bodyweight_kg = 72.5\nbodyweight_lb = 160"),
            "give bodyweight_kg or bodyweight_lb, not both",
        ),
        (
            ("lift_days = 3", "lift_days = 3\n[rules]\nsame_day_gap_hours = -1"),
            "rules.same_day_gap_hours = -1",
        ),
    ],
)
def test_bad_values_name_key_and_value(
    tmp_path: Path, change: tuple[str, str], expected: str
) -> None:
    path = write(tmp_path, SAMPLE.replace(*change))
    with pytest.raises(ConfigError) as err:
        load(str(path), environ={})
    message = str(err.value)
    assert expected in message
    assert str(path) in message
    assert "Traceback" not in message


def test_toml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, SAMPLE.replace("lift_days = 3", "lift_days = = 3"))
    with pytest.raises(ConfigError, match=r"not valid TOML: .*line 6"):
        load(str(path), environ={})


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load(str(tmp_path / "nope.toml"), environ={})


def test_environment_error_names_the_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIFTRUN_ATHLETE__RUN_DAYS", "9")
    with pytest.raises(
        ConfigError, match=r"athlete.run_days = '9' \(from LIFTRUN_ATHLETE__RUN_DAYS\)"
    ):
        load(str(write(tmp_path, SAMPLE)), environ={})


def test_cli_config_error_exit_code_2_no_traceback(tmp_path: Path) -> None:
    path = write(tmp_path, SAMPLE.replace("lift_days = 3", "lift_days = 7"))
    proc = subprocess.run(
        [sys.executable, "-m", "cli", "plan", "--config", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "athlete.lift_days = 7" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""


def test_defaults_live_in_one_place() -> None:
    s = Settings(availability={"mon": ["06:00-07:00"]})
    assert s.athlete.priority.value == "strength"
    assert s.goal.race.value == "none"
    assert s.availability.buffer_minutes == 15
    assert s.rules.same_day_gap_hours == 6


def test_any_key_can_come_from_a_file(tmp_path: Path) -> None:
    (tmp_path / "tz").write_text("Asia/Tokyo\n")
    path = write(
        tmp_path,
        SAMPLE.replace('timezone = "Europe/Berlin"', f'timezone_file = "{tmp_path / "tz"}"'),
    )
    assert load(str(path), environ={}).settings.timezone == "Asia/Tokyo"


def test_file_values_are_never_printed(tmp_path: Path) -> None:
    (tmp_path / "secret").write_text("hunter2-not-a-zone")
    path = write(
        tmp_path,
        SAMPLE.replace('timezone = "Europe/Berlin"', f'timezone_file = "{tmp_path / "secret"}"'),
    )
    with pytest.raises(ConfigError) as err:
        load(str(path), environ={})
    assert "hunter2" not in str(err.value)
    assert "timezone (value read from timezone_file, not shown)" in str(err.value)


def test_file_key_errors(tmp_path: Path) -> None:
    both = write(
        tmp_path,
        SAMPLE.replace('timezone = "Europe/Berlin"', 'timezone = "UTC"\ntimezone_file = "/x"'),
    )
    with pytest.raises(ConfigError, match="give timezone or timezone_file, not both"):
        load(str(both), environ={})
    missing = write(
        tmp_path, SAMPLE.replace('timezone = "Europe/Berlin"', 'timezone_file = "/nonexistent/tz"')
    )
    with pytest.raises(
        ConfigError, match="timezone_file = /nonexistent/tz: cannot read secret file"
    ):
        load(str(missing), environ={})


CALDAV = """
[[calendars]]
kind = "caldav"
url = "https://cloud.example.com/remote.php/dav/"
username = "me"
push_to = "Training"
busy_from = ["Work"]
"""


def test_a_caldav_password_from_a_file_or_a_named_variable_is_never_shown(
    tmp_path: Path,
) -> None:
    (tmp_path / "pw").write_text("s3cret-from-file\n")
    path = write(tmp_path, SAMPLE + CALDAV + f'password_file = "{tmp_path / "pw"}"\n')
    cal = load(str(path), environ={}).settings.calendars[-1]
    assert cal.kind == "caldav" and cal.password is not None
    assert cal.password.get_secret_value() == "s3cret-from-file"
    assert "s3cret" not in repr(cal) and "s3cret" not in str(cal)
    path = write(tmp_path, SAMPLE + CALDAV + 'password_env = "MY_DAV_PW"\n')
    cal = load(str(path), environ={"MY_DAV_PW": "s3cret-env"}).settings.calendars[-1]
    assert cal.kind == "caldav" and cal.password is not None
    assert cal.password.get_secret_value() == "s3cret-env"
    with pytest.raises(ConfigError, match="password_env = 'MY_DAV_PW': that variable is not set"):
        load(str(path), environ={})


def test_caldav_config_errors_name_the_key(tmp_path: Path) -> None:
    path = write(tmp_path, SAMPLE + CALDAV.replace("https://cloud", "ftp://cloud"))
    with pytest.raises(ConfigError, match=r"calendars\[\d\]\.url = 'ftp://"):
        load(str(path), environ={})
    path = write(tmp_path, SAMPLE + CALDAV + "verify_tls = 3\n")
    with pytest.raises(ConfigError, match=r"calendars\[\d\]\.verify_tls = 3"):
        load(str(path), environ={})


def test_a_ca_file_stays_a_path(tmp_path: Path) -> None:
    path = write(tmp_path, SAMPLE + CALDAV + 'ca_file = "/etc/ssl/my-ca.pem"\n')
    cal = load(str(path), environ={}).settings.calendars[-1]
    assert cal.kind == "caldav" and cal.ca_file == "/etc/ssl/my-ca.pem"


def test_google_auth_none_is_only_for_a_loopback_endpoint(tmp_path: Path) -> None:
    google = '\n[[calendars]]\nkind = "google"\nauth = "none"\napi_endpoint = "{}"\n'
    path = write(tmp_path, SAMPLE + google.format("https://www.googleapis.com/calendar/v3/"))
    with pytest.raises(ConfigError, match="only for emulators"):
        load(str(path), environ={})
    path = write(tmp_path, SAMPLE + google.format("http://127.0.0.1:8099/calendar/v3/"))
    assert load(str(path), environ={}).settings.calendars[-1].kind == "google"
