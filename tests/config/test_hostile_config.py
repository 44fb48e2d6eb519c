"""A hostile configuration, as an attacker or an unlucky user writes it (issue 13): every bad
value is one line naming its key, never a traceback, and never a secret.

Fixtures: ``fixtures/shadow`` (lines shaped like /etc/shadow, as a ``timezone_file``) and
``fixtures/binary_password.bin`` (a ``password_file`` that is not text). Deep TOML and over-cap
files are generated into ``tmp_path``: they are only size.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import available_timezones

import pytest
from hypothesis import given
from hypothesis import strategies as st

from config.fields import describe
from config.files import FileRefused, read_text_file
from config.loader import CONFIG_FILE_CAP, ConfigError, load
from config.models import SECRET_FILE_CAP, _check_timezone, zone_named

FIXTURES = Path(__file__).parent / "fixtures"

BASE = """\
timezone = "Europe/Berlin"
[athlete]
experience = "intermediate"
[goal]
race = "half"
race_date = 2027-04-18
plan_start = 2027-01-04
[availability]
mon = ["06:00-08:00"]
sat = ["07:00-12:00"]
"""


def write(tmp_path: Path, text: str, name: str = "liftrun.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error_of(path: Path, environ: dict[str, str] | None = None) -> str:
    """The ConfigError's message, loaded within a deadline: a read that blocks (a FIFO) or
    never ends (/dev/zero) fails the test instead of hanging it."""
    box: dict[str, BaseException | None] = {}

    def run() -> None:
        try:
            load(str(path), environ={} if environ is None else environ)
            box["error"] = None
        except BaseException as exc:  # handed to the test thread
            box["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    started = time.monotonic()
    thread.start()
    thread.join(10)
    assert "error" in box, "load() did not return within 10 s"
    assert time.monotonic() - started < 5
    error = box["error"]
    assert isinstance(error, ConfigError), f"expected ConfigError, got {error!r}"
    return str(error)


def quoted_forms(secret: str) -> set[str]:
    """How a message might carry a secret: raw, repr or JSON escaped, line by line."""
    forms = {secret, repr(secret), repr(secret)[1:-1], json.dumps(secret)[1:-1]}
    for raw in secret.splitlines():
        line = raw.strip()
        if len(line) >= 4:
            forms |= {line, repr(line)[1:-1], json.dumps(line)[1:-1]}
    return {f for f in forms if f}


def assert_not_leaked(output: str, secret: str) -> None:
    for form in quoted_forms(secret):
        assert form not in output, f"{form!r} leaked into {output!r}"


# --- time zones ----------------------------------------------------------------------------

BAD_ZONES = [
    "A" * 300,  # ZoneInfo: OSError "File name too long"
    "__pycache__",  # a directory inside tzdata: IsADirectoryError
    "America",  # also a directory
    "zone1970.tab",  # a file of the zone database that is not a zone
    "../../../../etc/localtime",
    "/etc/localtime",
    "Europe/../Europe/Berlin",
    "Europe/Berlin/",
    "Europe//Berlin",
    "",
    " UTC",
    "Mars/Olympus",
    "UTC\x00",
    "Europe/Berlin\n",
    "A/" * 200,
]


@pytest.mark.parametrize("zone", BAD_ZONES, ids=lambda z: repr(z)[:30])
def test_a_bad_zone_name_is_one_line_naming_the_key(tmp_path: Path, zone: str) -> None:
    text = BASE.replace('"Europe/Berlin"', json.dumps(zone))
    message = error_of(write(tmp_path, text))
    assert message.count("\n") == 0
    assert ": timezone = " in message
    assert "not an IANA time zone name" in message or "control character" in message
    assert len(message) < 400


def test_the_same_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for zone in ("B" * 300, "__pycache__", "zone1970.tab"):
        monkeypatch.setenv("LIFTRUN_TIMEZONE", zone)
        message = error_of(write(tmp_path, BASE))
        assert "(from LIFTRUN_TIMEZONE)" in message and message.count("\n") == 0


def test_every_iana_zone_is_still_accepted() -> None:
    for zone in sorted(available_timezones()):
        assert _check_timezone(zone) == zone


def test_zone_named_answers_none_for_anything_else() -> None:
    assert [zone_named(z) for z in BAD_ZONES] == [None] * len(BAD_ZONES)
    berlin = zone_named("Europe/Berlin")
    assert berlin is not None and berlin.key == "Europe/Berlin"


@given(st.text(max_size=300) | st.from_regex(r"[A-Za-z_/.]{1,300}", fullmatch=True))
def test_zone_named_never_raises(name: str) -> None:
    zone = zone_named(name)
    assert zone is None or zone.key == name


def test_a_zone_read_from_a_private_file_is_never_printed(tmp_path: Path) -> None:
    shadow = FIXTURES / "shadow"
    text = BASE.replace('timezone = "Europe/Berlin"', f'timezone_file = "{shadow}"')
    message = error_of(write(tmp_path, text))
    assert "timezone (value read from timezone_file, not shown)" in message
    assert_not_leaked(message, shadow.read_text())
    assert "SHADOWHASH" not in message and "root:" not in message


# --- secrets in messages -------------------------------------------------------------------

NASTY_SECRETS = {
    "multi-line": "hunter2-first\nsecond-line-xyz\nthird: 'quoted'\n",
    "quotes": "pa\"ss'word-xyz",
    "backslashes": "C:\\secret\\path\\xyz\\",
    "unicode": "pässwörd-ümlaut-✓-密码",
    "number": "12345678901",
    "date-like": "9999-12-31",
    "escape": "\x1b[31mred-secret\x1b[0m",
    "url": "ftp://alice:hunter2@example.com/secret-path",
    "json": '{"kind": "caldav", "url": "x"}',
    "long": "s3cret-" * 2000,
}

# (TOML section or None, key, extra lines for the section): keys that refuse every value above
SECRET_KEYS = [
    (None, "timezone", ""),
    ("athlete", "lift_days", ""),
    ("goal", "race_date", ""),
    ("feed", "listen", ""),
    ("sync", "freeze_hours", ""),
    ("availability", "tue", ""),
    ("calendars", "url", 'kind = "caldav"\n'),
    ("calendars", "kind", ""),
    ("calendars", "alarm_minutes", 'kind = "ics"\n'),
]


def config_reading(secret_file: Path, section: str | None, key: str, extra: str) -> str:
    line = f'{key}_file = "{secret_file}"\n'
    base = re.sub(rf"(?m)^{key} = .*\n", "", BASE) if section != "calendars" else BASE
    if section is None:
        return line + base
    if section == "calendars":
        return base + "[[calendars]]\n" + extra + line
    if f"[{section}]\n" in base:
        return base.replace(f"[{section}]\n", f"[{section}]\n{line}")
    return base + f"[{section}]\n{line}"


@pytest.mark.parametrize("secret", list(NASTY_SECRETS.values()), ids=list(NASTY_SECRETS))
@pytest.mark.parametrize(
    ("section", "key", "extra"), SECRET_KEYS, ids=[f"{s}.{k}" for s, k, _ in SECRET_KEYS]
)
def test_a_value_from_a_file_is_never_in_the_message(
    tmp_path: Path, section: str | None, key: str, extra: str, secret: str
) -> None:
    secret_file = tmp_path / "secret"
    secret_file.write_text(secret, encoding="utf-8")
    message = error_of(write(tmp_path, config_reading(secret_file, section, key, extra)))
    assert_not_leaked(message, secret.strip())
    assert message.count("\n") == 0
    assert f"{key} (value read from " in message and "_file, not shown)" in message


def test_a_model_check_quoting_a_file_value_does_not(tmp_path: Path) -> None:
    """goal's own check names race_date and plan_start; the one read from a file is not."""
    secret_file = tmp_path / "date"
    secret_file.write_text("2027-04-18\n")
    text = BASE.replace("race_date = 2027-04-18", f'race_date_file = "{secret_file}"')
    message = error_of(write(tmp_path, text.replace("2027-01-04", "2027-05-01")))
    assert "2027-04-18" not in message
    assert "goal (with values read from goal.race_date_file, not shown)" in message
    assert "is not after plan_start 2027-05-01" in message


@pytest.mark.parametrize("secret", ["12345678", "hunter2-\nline-two", "x" * 200])
def test_a_password_is_never_shown_wherever_it_was_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, secret: str
) -> None:
    caldav = '[[calendars]]\nkind = "caldav"\nurl = "https://dav.example/"\npassword = {}\n'
    as_number = BASE + caldav.format(secret if secret.isdigit() else "[" + json.dumps(secret) + "]")
    message = error_of(write(tmp_path, as_number))
    assert "calendars[0].password (not shown)" in message
    assert_not_leaked(message, secret)
    value = int(secret) if secret.isdigit() else [secret]
    calendars = [{"kind": "caldav", "url": "https://dav.example/", "password": value}]
    monkeypatch.setenv("LIFTRUN_CALENDARS", json.dumps(calendars))
    message = error_of(write(tmp_path, BASE))
    assert "calendars[0].password (not shown)" in message
    assert_not_leaked(message, secret)


def test_a_secret_from_a_named_variable_is_not_shown_and_is_capped(tmp_path: Path) -> None:
    text = BASE.replace('timezone = "Europe/Berlin"', 'timezone_env = "MY_ZONE"')
    path = write(tmp_path, text)
    message = error_of(path, {"MY_ZONE": "hunter2-zone\nline"})
    assert "timezone (value read from timezone_env, not shown)" in message
    assert_not_leaked(message, "hunter2-zone\nline")
    message = error_of(path, {"MY_ZONE": "z" * (SECRET_FILE_CAP + 1)})
    assert message.endswith(
        f"timezone_env = 'MY_ZONE': that variable holds more than {SECRET_FILE_CAP} characters"
    )


def test_credentials_in_a_url_are_not_echoed(tmp_path: Path) -> None:
    caldav = '[[calendars]]\nkind = "caldav"\nurl = "ftp://alice:pa55word@dav.example/"\n'
    message = error_of(write(tmp_path, BASE + caldav))
    assert "pa55word" not in message and "alice" not in message
    assert "calendars[0].url = 'ftp://***@dav.example/'" in message
    ics = '[[calendars]]\nbusy_from = ["gopher://bob:s3cr3tpw@host/x", "relative.ics"]\n'
    message = error_of(write(tmp_path, BASE + ics))
    assert "s3cr3tpw" not in message and "bob" not in message


# --- files that are not files --------------------------------------------------------------


def _huge(tmp_path: Path, size: int) -> Path:
    path = tmp_path / "huge"
    with path.open("wb") as f:
        f.truncate(size)  # sparse: the size is what matters
    return path


CALDAV = '[[calendars]]\nkind = "caldav"\nurl = "https://dav.example/"\n'

SECRET_SOURCES: dict[str, tuple[Callable[[Path], Path], str]] = {
    "binary": (lambda _: FIXTURES / "binary_password.bin", "not UTF-8 text"),
    "dev-zero": (lambda _: Path("/dev/zero"), "not a regular file (a device)"),
    "fifo": (lambda tmp: _fifo(tmp / "fifo"), "not a regular file (a FIFO)"),
    "directory": (lambda tmp: tmp, "not a regular file (a directory)"),
    "over-the-cap": (lambda tmp: _huge(tmp, SECRET_FILE_CAP + 1), "more than 65536"),
    "missing": (lambda tmp: tmp / "nope", "no such file or directory"),
}


def _fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


@pytest.mark.parametrize("kind", list(SECRET_SOURCES))
def test_a_secret_file_that_is_not_a_text_file_is_one_line(tmp_path: Path, kind: str) -> None:
    make, reason = SECRET_SOURCES[kind]
    source = make(tmp_path)
    caldav = CALDAV + f'password_file = "{source}"\n'
    message = error_of(write(tmp_path, BASE + caldav, "c.toml"))
    assert message.startswith(
        f"{tmp_path / 'c.toml'}: calendars[0].password_file = {source}: cannot read secret file ("
    )
    assert reason in message and message.count("\n") == 0


@pytest.mark.parametrize("kind", list(SECRET_SOURCES))
def test_a_config_file_that_is_not_a_text_file_is_one_line(tmp_path: Path, kind: str) -> None:
    make, reason = SECRET_SOURCES[kind]
    source = make(tmp_path)
    if kind == "over-the-cap":
        source = _huge(tmp_path, CONFIG_FILE_CAP + 1)
        reason = f"more than {CONFIG_FILE_CAP}"
    message = error_of(source)
    expected = "does not exist" if kind == "missing" else "cannot be read: "
    assert message.startswith(f"config file {source} ") and expected in message
    assert kind == "missing" or reason in message
    assert message.count("\n") == 0


@pytest.mark.parametrize("kind", ["binary", "dev-zero", "fifo", "over-the-cap"])
def test_a_secrets_directory_entry_that_is_not_a_text_file_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    make, reason = SECRET_SOURCES[kind]
    entry = secrets / "liftrun_timezone"
    target = make(tmp_path)
    if kind == "fifo":
        target.rename(entry)
    else:
        entry.symlink_to(target) if kind == "dev-zero" else entry.write_bytes(target.read_bytes())
    monkeypatch.setenv("LIFTRUN_SECRETS_DIR", str(secrets))
    message = error_of(write(tmp_path, BASE), {"LIFTRUN_SECRETS_DIR": str(secrets)})
    assert message.endswith(f"timezone: secrets file {entry}: {reason}") or (
        kind == "over-the-cap" and "more than 65536" in message
    )
    assert message.count("\n") == 0


def test_a_secrets_directory_value_is_never_printed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "liftrun_timezone").write_text("hunter2-zone-name")
    monkeypatch.setenv("LIFTRUN_SECRETS_DIR", str(secrets))
    message = error_of(write(tmp_path, BASE), {"LIFTRUN_SECRETS_DIR": str(secrets)})
    assert "hunter2" not in message
    assert (
        f"timezone (value read from secrets file {secrets / 'liftrun_timezone'}, not shown)"
        in message
    )


def test_read_text_file_refuses_without_reading(tmp_path: Path) -> None:
    with pytest.raises(FileRefused) as err:
        read_text_file("/dev/zero", 10)
    assert (err.value.path, err.value.reason) == ("/dev/zero", "not a regular file (a device)")
    assert str(FileRefused("one whole message")) == "one whole message"
    with pytest.raises(FileRefused, match=r"^'a\\x00b': a NUL character cannot be"):
        read_text_file("a\x00b", 10)
    with pytest.raises(FileRefused, match=r"/a\\nb': no such file or directory$"):
        read_text_file(tmp_path / "a\nb", 10)
    text = BASE.replace('timezone = "Europe/Berlin"', 'timezone_file = "a\\u0000b"')
    message = error_of(write(tmp_path, text))
    assert message.endswith(
        "timezone_file = 'a\\x00b': cannot read secret file "
        "(a NUL character cannot be in a file name)"
    )


# --- shapes TOML allows ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "[" * 100_000 + "]" * 100_000,
        "{a = " * 100_000 + "1" + "}" * 100_000,
        "[" * 900 + "]" * 900,
        "{a = " * 900 + "1" + "}" * 900,
    ],
    ids=["arrays-100000", "tables-100000", "arrays-900", "tables-900"],
)
def test_deeply_nested_toml_is_one_line(tmp_path: Path, value: str) -> None:
    message = error_of(write(tmp_path, BASE.replace('"Europe/Berlin"', value)))
    assert message.count("\n") == 0 and len(message) < 400
    assert "nested too deeply" in message or "timezone = " in message


def test_nesting_that_parses_still_fails_in_one_short_line(tmp_path: Path) -> None:
    text = BASE.replace('"Europe/Berlin"', "[" * 200 + "]" * 200)
    message = error_of(write(tmp_path, text))
    assert message.endswith("timezone = [[[[...]]]]: Input should be a valid string")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ("experience = ", "lift_days = " + "9" * 5000 + "\nexperience = "),
            "more than 4300 digits",
        ),
        (
            ("experience = ", "bodyweight_kg = 1e400\nexperience = "),
            "= inf: Input should be a finite number",
        ),
        (
            ("experience = ", "bodyweight_kg = nan\nexperience = "),
            "= nan: Input should be a finite number",
        ),
        (
            ("[availability]", "[rules]\nrun_kcal_per_minute_per_lb = [0.04, inf]\n[availability]"),
            "finite number",
        ),
        (("race_date = 2027-04-18", "race_date = 9999-12-31"), "between 2000-01-01 and 2199-12-31"),
        (
            ("plan_start = 2027-01-04", "plan_start = 0001-01-01"),
            "between 2000-01-01 and 2199-12-31",
        ),
        (
            ("race_date = 2027-04-18", "race_date = 2029-12-30"),
            "more than 150 weeks after plan_start",
        ),
        (
            ("[availability]", '[state]\npath = "a\\u0000b"\n[availability]'),
            "state.path = 'a\\x00b': contains a control character (U+0000)",
        ),
        (
            ("[availability]", '[feed]\nlisten = "x\\u001b[2J:80"\n[availability]'),
            "control character (U+001B)",
        ),
        (("timezone =", '_env_file = "/etc/shadow"\ntimezone ='), "unknown key _env_file"),
        (("timezone =", '_secrets_dir = "/etc"\ntimezone ='), "unknown key _secrets_dir"),
        (("[athlete]", '[athlete]\n"a\\nb\\u001b" = 1'), "unknown key athlete.'a\\nb\\x1b'"),
        (("mon = [", 'mon = ["' + "x" * 10_000 + '", '), "(10000 characters) is not a window"),
        (("[availability]", "[sync]\nhorizon_days = -5\n[availability]"), "sync.horizon_days = -5"),
        (
            ("[availability]", "[sync]\nsource_timeout_seconds = 1e308\n[availability]"),
            "less than or equal to 600",
        ),
        (
            (
                "[availability]",
                "[[calendars]]\nmax_source_bytes = 9223372036854775808\n[availability]",
            ),
            "less than or equal to 1073741824",
        ),
    ],
)
def test_hostile_values_are_one_line(
    tmp_path: Path, change: tuple[str, str], expected: str
) -> None:
    message = error_of(write(tmp_path, BASE.replace(*change, 1)))
    assert expected in message
    assert message.count("\n") == 0 and len(message) < 500


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        ('[feed]\npublic_url = "javascript:alert(1)"', "not an http(s) address with a host"),
        ('[feed]\npublic_url = "https://u:hunter22@feed.example/"', "a user or password"),
        ('[feed]\npublic_url = "https://feed.example:99999/"', "not an http(s) address"),
        ('[[calendars]]\nkind = "google"\napi_endpoint = "file:///etc/passwd"', "http(s)"),
    ],
)
def test_addresses_liftrun_prints_or_calls_are_web_addresses(
    tmp_path: Path, section: str, expected: str
) -> None:
    text = BASE.replace("[availability]", section + "\n[availability]")
    message = error_of(write(tmp_path, text))
    assert expected in message and "hunter22" not in message and message.count("\n") == 0


def test_a_race_time_with_an_offset_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LIFTRUN_GOAL__RACE_TIME", "07:00:00+05:00")
    message = error_of(write(tmp_path, BASE))
    assert "goal.race_time" in message and "drop the UTC offset" in message


def test_describe_is_short_single_line_and_credential_free() -> None:
    assert describe("x" * 300) == "'" + "x" * 80 + "...' (300 characters)"
    assert describe("a\nb\x1b") == "'a\\nb\\x1b'"
    assert describe("https://u:p@h/x") == "'https://***@h/x'"
    assert describe(10**5000) == "a 16610-bit integer"
    assert describe([[[[[1]]]]]) == "[[[[...]]]]"
    assert len(describe(["06:00-07:00"] * 50_000)) < 200
    nested: Any = {"password": "x"}
    assert "x" in describe(nested)  # describe is not the secret filter; the loader is
