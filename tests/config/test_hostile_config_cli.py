"""The hostile configurations of issue 13 through the real command line: ``liftrun plan`` and
``liftrun sync --once`` in a fresh directory (CI=true, no stdin), each bad value ending in exit
code 2 and exactly one line on stderr that names the key, without a traceback or a secret.

Each case starts a Python process (about half a second); there are about thirty, run for both
commands.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.config import test_hostile_config as hostile_config

FIXTURES = Path(__file__).parent / "fixtures"
NOW = "2027-01-05T06:00"

# the in-process tests' config, plus the feed target sync --once needs
BASE = (
    hostile_config.BASE
    + """\
[[calendars]]
kind = "ics"
push_to = "out/liftrun.ics"
"""
)

SECRET_LINES = "hunter2-first-line\nsecond 'line' \\ \"xyz\"\n✓-third-line-密码"


def _liftrun() -> list[str]:
    script = Path(sys.executable).with_name("liftrun")
    return [str(script)] if script.exists() else [sys.executable, "-m", "cli"]


def _run(tmp: Path, command: str, config: Path | None, env: dict[str, str]) -> tuple[int, str]:
    args = [*_liftrun(), command, "--now", NOW]
    if command == "sync":
        args.insert(len(_liftrun()) + 1, "--once")
    if config is not None:
        args += ["--config", str(config)]
    clean = {k: v for k, v in os.environ.items() if not k.startswith("LIFTRUN_")}
    proc = subprocess.run(
        args,
        cwd=tmp,
        env={**clean, "CI": "true", **env},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return proc.returncode, proc.stdout + proc.stderr


def _replaced(old: str, new: str) -> Callable[[Path], str]:
    def make(_: Path) -> str:
        assert old in BASE
        return BASE.replace(old, new, 1)

    return make


def _added(text: str) -> Callable[[Path], str]:
    return lambda _: BASE.replace("[availability]", text + "\n[availability]", 1)


def _secret_file(key_line: Callable[[Path], str], content: str) -> Callable[[Path], str]:
    def make(tmp: Path) -> str:
        (tmp / "secret").write_text(content, encoding="utf-8")
        return key_line(tmp)

    return make


CALDAV = '[[calendars]]\nkind = "caldav"\nurl = "https://d/"\n'


def _fifo_password(tmp: Path) -> str:
    os.mkfifo(tmp / "pw.fifo")
    return BASE + CALDAV + f'password_file = "{tmp / "pw.fifo"}"\n'


def _password_from(path: Path) -> Callable[[Path], str]:
    return lambda _: (
        BASE + f'[[calendars]]\nkind = "caldav"\nurl = "https://d/"\npassword_file = "{path}"\n'
    )


@dataclass(frozen=True)
class Case:
    id: str
    config: Callable[[Path], str]
    expected: str
    forbidden: tuple[str, ...] = ()
    env: Callable[[Path], dict[str, str]] = lambda _: {}


def _secrets_dir_with_fifo(tmp: Path) -> dict[str, str]:
    (tmp / "secrets").mkdir()
    os.mkfifo(tmp / "secrets" / "liftrun_timezone")
    return {"LIFTRUN_SECRETS_DIR": str(tmp / "secrets")}


def _secrets_dir_with(content: str) -> Callable[[Path], dict[str, str]]:
    def make(tmp: Path) -> dict[str, str]:
        (tmp / "secrets").mkdir()
        (tmp / "secrets" / "liftrun_timezone").write_text(content, encoding="utf-8")
        return {"LIFTRUN_SECRETS_DIR": str(tmp / "secrets")}

    return make


SHADOW = (FIXTURES / "shadow").read_text()
SHADOW_LINES = tuple(line for line in SHADOW.splitlines() if line)
SECRET_FORMS = (
    *SECRET_LINES.splitlines(),
    repr(SECRET_LINES)[1:-1],
    json.dumps(SECRET_LINES)[1:-1],
    "hunter2",
)

CASES = [
    Case(
        "zone-300-chars",
        _replaced('"Europe/Berlin"', '"' + "A" * 300 + '"'),
        "' (300 characters): is not an IANA time zone name",
    ),
    Case("zone-pycache", _replaced('"Europe/Berlin"', '"__pycache__"'), "not an IANA time zone"),
    Case("zone-dotdot", _replaced('"Europe/Berlin"', '"../../etc/shadow"'), "not an IANA time"),
    Case(
        "zone-from-etc-shadow-like-file",
        _replaced('timezone = "Europe/Berlin"', f'timezone_file = "{FIXTURES / "shadow"}"'),
        "timezone (value read from timezone_file, not shown)",
        (*SHADOW_LINES, "SHADOWHASH", "root:"),
    ),
    Case(
        "zone-multi-line-secret",
        _secret_file(
            lambda tmp: BASE.replace(
                'timezone = "Europe/Berlin"', f'timezone_file = "{tmp / "secret"}"'
            ),
            SECRET_LINES,
        ),
        "timezone (value read from timezone_file, not shown)",
        SECRET_FORMS,
    ),
    Case(
        "lift-days-multi-line-secret",
        _secret_file(
            lambda tmp: BASE.replace(
                "[athlete]", f'[athlete]\nlift_days_file = "{tmp / "secret"}"'
            ),
            SECRET_LINES,
        ),
        "athlete.lift_days (value read from athlete.lift_days_file, not shown)",
        SECRET_FORMS,
    ),
    Case("password-binary", _password_from(FIXTURES / "binary_password.bin"), "not UTF-8 text"),
    Case("password-dev-zero", _password_from(Path("/dev/zero")), "(a device)"),
    Case("password-fifo", _fifo_password, "(a FIFO)"),
    Case("password-directory", _password_from(Path("/")), "(a directory)"),
    Case(
        "password-wrong-type",
        lambda _: (
            BASE + '[[calendars]]\nkind = "caldav"\nurl = "https://d/"\npassword = 31415926\n'
        ),
        "calendars[1].password (not shown)",
        ("31415926",),
    ),
    Case(
        "deep-arrays",
        _replaced('"Europe/Berlin"', "[" * 100_000 + "]" * 100_000),
        "not valid TOML: nested too deeply",
    ),
    Case(
        "deep-tables",
        _replaced('"Europe/Berlin"', "{a = " * 100_000 + "1" + "}" * 100_000),
        "not valid TOML: nested too deeply",
    ),
    Case("huge-int", _added("[sync]\nhorizon_days = " + "9" * 5000), "more than 4300 digits"),
    Case("float-1e400", _added("[sync]\nfreeze_hours = 1e400"), "sync.freeze_hours = inf"),
    Case("float-nan", _added("[sync]\nfreeze_hours = nan"), "finite number"),
    Case("kcal-inf", _added("[rules]\nrun_kcal_per_minute_per_lb = [0.04, inf]"), "finite number"),
    Case("race-9999", _replaced("race_date = 2027-04-18", "race_date = 9999-12-31"), "9999-12-31"),
    Case("start-0001", _replaced("plan_start = 2027-01-04", "plan_start = 0001-01-01"), "0001"),
    Case(
        "block-too-long",
        _replaced("race_date = 2027-04-18", "race_date = 2029-12-30"),
        "more than 150 weeks after plan_start",
    ),
    Case("duration-negative", _added("[sync]\nhorizon_days = -3"), "sync.horizon_days = -3"),
    Case("state-nul", _added('[state]\npath = "st\\u0000ate"'), "state.path = 'st\\x00ate'"),
    Case(
        "name-escape",
        lambda _: BASE + 'name = "a\\u001b[2Jb"\n',
        "calendars[0].name = 'a\\x1b[2Jb': contains a control character (U+001B)",
    ),
    Case(
        "url-credentials",
        lambda _: BASE + '[[calendars]]\nkind = "caldav"\nurl = "ftp://alice:pa55word@h/"\n',
        "calendars[1].url",
        ("pa55word", "alice"),
    ),
    Case("kind-int", lambda _: BASE + "[[calendars]]\nkind = 3\n", "unknown calendar kind"),
    Case(
        "athlete-int",
        _replaced('[athlete]\nexperience = "intermediate"', "athlete = 3"),
        "athlete = 3",
    ),
    Case(
        "calendars-str",
        lambda _: 'calendars = "x"\n' + BASE.split("[[calendars]]", maxsplit=1)[0],
        "calendars = 'x'",
    ),
    Case(
        "pydantic-env-file", lambda _: '_env_file = "/etc/shadow"\n' + BASE, "unknown key _env_file"
    ),
    Case(
        "env-zone-300",
        lambda _: BASE,
        "(from LIFTRUN_TIMEZONE)",
        env=lambda _: {"LIFTRUN_TIMEZONE": "Z" * 300},
    ),
    Case(
        "env-calendars-not-json",
        lambda _: BASE,
        "calendars from LIFTRUN_CALENDARS: not valid JSON",
        env=lambda _: {"LIFTRUN_CALENDARS": "[{oops"},
    ),
    Case(
        "env-calendars-deep-json",
        lambda _: BASE,
        "nested too deeply",
        env=lambda _: {"LIFTRUN_CALENDARS": "[" * 50_000 + "]" * 50_000},
    ),
    Case(
        "env-calendars-password",
        lambda _: BASE,
        "calendars[0].password (not shown)",
        ("27182818",),
        env=lambda _: {
            "LIFTRUN_CALENDARS": '[{"kind": "caldav", "url": "https://d/", "password": 27182818}]'
        },
    ),
    Case(
        "env-huge-int",
        lambda _: BASE,
        "(from LIFTRUN_ATHLETE__RUN_DAYS)",
        env=lambda _: {"LIFTRUN_ATHLETE__RUN_DAYS": "9" * 100_000},
    ),
    Case(
        "env-race-9999",
        lambda _: BASE,
        "(from LIFTRUN_GOAL__RACE_DATE)",
        env=lambda _: {"LIFTRUN_GOAL__RACE_DATE": "9999-12-31"},
    ),
    Case(
        "env-nan",
        lambda _: BASE,
        "finite number",
        env=lambda _: {"LIFTRUN_SYNC__FREEZE_HOURS": "nan"},
    ),
    Case(
        "env-password-env-over-cap",
        lambda _: (
            BASE + '[[calendars]]\nkind = "caldav"\nurl = "https://d/"\npassword_env = "PW"\n'
        ),
        "that variable holds more than 65536 characters",
        env=lambda _: {"PW": "p" * 70_000},
    ),
    Case("secrets-dir-fifo", lambda _: BASE, "secrets file", env=_secrets_dir_with_fifo),
    Case(
        "secrets-dir-multi-line",
        lambda _: BASE,
        "timezone (value read from secrets file",
        SECRET_FORMS,
        env=_secrets_dir_with(SECRET_LINES),
    ),
]


@pytest.fixture(scope="module")
def base_works(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The base config itself is fine for both commands, so each case's failure is its own."""
    tmp = tmp_path_factory.mktemp("base")
    (tmp / "liftrun.toml").write_text(BASE, encoding="utf-8")
    for command in ("plan", "sync"):
        code, output = _run(tmp, command, tmp / "liftrun.toml", {})
        assert code == 0, output


# sync reads the state directory, dates and secrets where plan does not; both load the config the
# same way, so sync runs a third of the cases (each run is a process start, ~0.7 s)
SYNC_TOO = {
    "zone-from-etc-shadow-like-file",
    "password-fifo",
    "password-dev-zero",
    "deep-arrays",
    "race-9999",
    "start-0001",
    "block-too-long",
    "state-nul",
    "url-credentials",
    "env-calendars-deep-json",
    "env-race-9999",
    "secrets-dir-fifo",
    "secrets-dir-multi-line",
}
assert {c.id for c in CASES} >= SYNC_TOO
RUNS = [(case, "plan") for case in CASES] + [(c, "sync") for c in CASES if c.id in SYNC_TOO]


@pytest.mark.usefixtures("base_works")
@pytest.mark.parametrize(("case", "command"), RUNS, ids=[f"{c.id}-{cmd}" for c, cmd in RUNS])
def test_a_hostile_config_is_exit_2_and_one_line(tmp_path: Path, case: Case, command: str) -> None:
    config = tmp_path / "liftrun.toml"
    config.write_text(case.config(tmp_path), encoding="utf-8")
    code, output = _run(tmp_path, command, config, case.env(tmp_path))
    lines = [line for line in output.splitlines() if line.strip()]
    assert code == 2, output[-2000:]
    assert "Traceback" not in output
    assert len(lines) == 1, output[-2000:]
    assert lines[0].startswith("liftrun: config error: ")
    assert case.expected in lines[0]
    assert len(lines[0]) < 600
    for secret in case.forbidden:
        assert secret not in output


@pytest.mark.parametrize("target", ["/dev/zero", "fifo", "binary"])
def test_liftrun_config_pointing_at_a_non_file_is_one_line(tmp_path: Path, target: str) -> None:
    if target == "fifo":
        os.mkfifo(tmp_path / "fifo")
        target = str(tmp_path / "fifo")
    elif target == "binary":
        target = str(FIXTURES / "binary_password.bin")
    code, output = _run(tmp_path, "plan", None, {"LIFTRUN_CONFIG": target})
    assert code == 2 and "Traceback" not in output
    assert output.strip() == output.strip().splitlines()[0]
    assert f"config file {target} cannot be read: " in output
