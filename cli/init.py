"""``liftrun init`` (a first config from a few questions) and ``liftrun check`` (does it work?).

``init`` exists so nobody has to learn the schema before their first plan: it asks only what the
athlete knows (race, days, windows, calendar), writes every other key with its default and a
comment naming the rule it feeds, and proves the file loads before it says so. ``--defaults``
answers everything with the default, for scripts and CI, without reading stdin.

``check`` exists because a sync failing at 3 a.m. is a poor way to learn that a password file or
a busy feed is wrong: it reaches every calendar once, writes to none, and says per calendar what
it found. It opens no state store and points every adapter cache at a scratch directory, so
``state/`` is left exactly as it was; CalDAV and vdir targets are opened in probe mode (nothing
is created) and a Training calendar that does not exist yet is reported as one the first sync
creates, not as a failure.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

import click
from pydantic import ValidationError

from adapters.atomic import atomic_write
from adapters.protocol import AdapterError, BusySource, CalendarTarget, NotCreatedYet
from cli.common import EXIT_SOURCE_FAILED, config_option, fail, load_config
from config.loader import ConfigError, LoadedConfig, load
from config.models import (
    DISTANCE_DEFAULTS,
    WEEKDAYS,
    Availability,
    CaldavCalendar,
    IcsCalendar,
    Race,
    State,
    zone_named,
)
from sync.engine import read_sources
from sync.wiring import build

T = TypeVar("T")

# -- init: the questions -------------------------------------------------------------------

WEEKDAY_MORNING = "06:00-08:00"
WEEKDAY_EVENING = "17:30-21:00"
WEEKEND_MORNING = "08:00-11:00"
WORKDAYS = WEEKDAYS[:5]
PRESETS: dict[str, tuple[str, dict[str, list[str]]]] = {
    "mornings": (
        f"weekdays {WEEKDAY_MORNING}, weekends {WEEKEND_MORNING}",
        {d: [WEEKDAY_MORNING] for d in WORKDAYS},
    ),
    "evenings": (
        f"weekdays {WEEKDAY_EVENING}, weekends {WEEKEND_MORNING}",
        {d: [WEEKDAY_EVENING] for d in WORKDAYS},
    ),
    "both": (
        f"weekdays {WEEKDAY_MORNING} and {WEEKDAY_EVENING}, weekends {WEEKEND_MORNING}",
        {d: [WEEKDAY_MORNING, WEEKDAY_EVENING] for d in WORKDAYS},
    ),
}
CALENDAR_KINDS: dict[str, str] = {
    "ics": "a feed file any calendar app subscribes to (`liftrun serve`); no account needed",
    "caldav": "Nextcloud, Fastmail, iCloud, Radicale, ...: sessions pushed into a calendar",
    "google": "Google Calendar through its API (`liftrun auth google` once)",
    "vdir": "a directory of .ics files, as khal and vdirsyncer keep them",
}
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_NONE_WORDS = ("", "none", "-")


@dataclass(frozen=True)
class CalendarAnswers:
    """What was asked about the one calendar ``init`` sets up (fields unused by a kind stay
    empty)."""

    kind: str = "ics"
    push_to: str | None = "out/liftrun.ics"
    busy_from: tuple[str, ...] = ()
    url: str | None = None
    username: str | None = None
    password_file: str | None = None
    client_secrets_file: str | None = None


@dataclass(frozen=True)
class Answers:
    """Everything ``init`` learnt; :func:`render` turns it into the commented TOML."""

    today: date
    race: str
    race_date: date | None
    priority: str
    lift_days: int
    run_days: int
    bodyweight_kg: float | None
    timezone: str
    preset: str
    windows: dict[str, list[str]]
    calendar: CalendarAnswers = field(default_factory=CalendarAnswers)


class Asker:
    """``click.prompt``, or under ``--defaults`` the default itself: no terminal, no stdin.

    Each answer goes through a converter that raises ``click.BadParameter`` for a bad answer;
    click prints the reason and asks again.
    """

    def __init__(self, use_defaults: bool) -> None:
        self.use_defaults = use_defaults

    def ask(self, text: str, convert: Callable[[str], T], default: str | None = None) -> T:
        if self.use_defaults:
            if default is None:  # a question that only comes after a non-default answer
                fail(f"init --defaults: {text!r} has no default")
            return convert(default)
        answer: T = click.prompt(text, default=default, value_proc=convert)
        return answer

    def say(self, text: str) -> None:
        """Explanations before a question; silent under --defaults (nothing is asked)."""
        if not self.use_defaults:
            click.echo(text)


def choice(options: Sequence[str]) -> Callable[[str], str]:
    def convert(text: str) -> str:
        value = text.strip().lower()
        if value not in options:
            raise click.BadParameter(f"{text!r}: choose one of {', '.join(options)}")
        return value

    return convert


def int_range(low: int, high: int) -> Callable[[str], int]:
    def convert(text: str) -> int:
        try:
            value = int(text.strip())
        except ValueError:
            raise click.BadParameter(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise click.BadParameter(f"{value} is not between {low} and {high}")
        return value

    return convert


def race_date_after(today: date) -> Callable[[str], date]:
    """The race must lie ahead: a plan for a race already run has nothing to place."""

    def convert(text: str) -> date:
        value = text.strip()
        try:
            if not _DATE.match(value):
                raise ValueError
            day = date.fromisoformat(value)
        except ValueError:
            raise click.BadParameter(f"{text!r} is not a date of the form YYYY-MM-DD") from None
        if day <= today:
            raise click.BadParameter(f"{day} is not after today ({today})")
        return day

    return convert


def bodyweight(text: str) -> float | None:
    value = text.strip().lower()
    if value in (*_NONE_WORDS, "skip"):
        return None
    try:
        kg = float(value.removesuffix("kg").strip())
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a weight in kg (or 'skip')") from None
    if not 25 < kg < 350:
        raise click.BadParameter(f"{kg:g} kg is not between 25 and 350")
    return kg


def zone_name(text: str) -> str:
    value = text.strip()
    if zone_named(value) is None:
        raise click.BadParameter(
            f"{text!r} is not an IANA time zone name (e.g. Europe/Berlin, America/New_York)"
        )
    return value


def detect_timezone(environ: Mapping[str, str], etc: Path = Path("/etc")) -> str:
    """The machine's IANA zone, from ``$TZ``, ``/etc/timezone`` or the ``/etc/localtime`` link;
    UTC when none of them names one (a POSIX rule like ``CET-1CEST`` is no IANA name)."""
    candidates: list[str] = []
    if environ.get("TZ"):
        candidates.append(environ["TZ"].removeprefix(":"))
    with contextlib.suppress(OSError, UnicodeDecodeError):
        candidates.append((etc / "timezone").read_text(encoding="utf-8").strip())
    try:
        target = str((etc / "localtime").readlink())
    except OSError:
        target = ""
    if "zoneinfo/" in target:
        candidates.append(target.split("zoneinfo/", 1)[1].removeprefix("posix/"))
    for name in candidates:
        if not name or name.startswith("/"):
            continue
        if zone_named(name) is not None:
            return name
    return "UTC"


def _error_text(exc: ValidationError) -> str:
    return "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())


def day_windows(day: str) -> Callable[[str], list[str]]:
    """A day's windows as typed (``06:00-08:00, 17:30-21:00``), checked by the config's own
    validator, so a window ``init`` accepts is one the loader accepts."""

    def convert(text: str) -> list[str]:
        if text.strip().lower() in _NONE_WORDS:
            return []
        windows = [w.strip() for w in text.split(",") if w.strip()]
        try:
            checked = Availability.model_validate({day: windows})
        except ValidationError as exc:
            raise click.BadParameter(_error_text(exc)) from None
        result: list[str] = getattr(checked, day)
        return result

    return convert


def items(text: str) -> list[str]:
    """A comma-separated answer; 'none' or nothing is the empty list."""
    if text.strip().lower() in _NONE_WORDS:
        return []
    return [part.strip() for part in text.split(",") if part.strip()]


def local_path(text: str, base: Path, *, absolute: bool) -> str:
    """A path as typed, ``~`` expanded. Absolute when the key is read relative to the working
    directory (``password_file``) or must be absolute (ICS ``busy_from``); else left relative,
    which the loader reads relative to the config file."""
    path = Path(text.strip()).expanduser()
    if absolute and not path.is_absolute():
        path = base / path
    return str(path)


def ics_sources(base: Path) -> Callable[[str], tuple[str, ...]]:
    def convert(text: str) -> tuple[str, ...]:
        found = [i if "://" in i else local_path(i, base, absolute=True) for i in items(text)]
        try:
            IcsCalendar(busy_from=found)
        except ValidationError as exc:
            raise click.BadParameter(_error_text(exc)) from None
        return tuple(found)

    return convert


def caldav_url(text: str) -> str:
    value = text.strip()
    try:
        CaldavCalendar(kind="caldav", url=value)
    except ValidationError as exc:
        raise click.BadParameter(_error_text(exc)) from None
    return value


def optional_text(text: str) -> str | None:
    value = text.strip()
    return None if value.lower() in _NONE_WORDS else value


def required_text(what: str) -> Callable[[str], str]:
    def convert(text: str) -> str:
        value = text.strip()
        if not value:
            raise click.BadParameter(f"{what} cannot be empty")
        return value

    return convert


def ask_windows(asker: Asker) -> tuple[str, dict[str, list[str]]]:
    """A preset covers most athletes in one answer; ``custom`` asks day by day (S8)."""
    asker.say("When can you train? (rule S8: sessions are placed only inside these windows)")
    for name, (meaning, _) in PRESETS.items():
        asker.say(f"  {name:9} {meaning}")
    asker.say("  custom    enter the windows day by day")
    preset = asker.ask("Training windows", choice([*PRESETS, "custom"]), default="both")
    if preset != "custom":
        weekdays = PRESETS[preset][1]
        weekend = {d: [WEEKEND_MORNING] for d in WEEKDAYS[5:]}
        return preset, {d: list((weekdays | weekend)[d]) for d in WEEKDAYS}
    while True:
        windows = {
            day: asker.ask(
                f"  {day} windows, e.g. 06:00-08:00, 17:30-21:00 ('none': no training)",
                day_windows(day),
                default="none",
            )
            for day in WEEKDAYS
        }
        if any(windows.values()):
            return preset, windows
        click.echo("Error: no windows on any day; liftrun needs at least one to place sessions")


def ask_calendar(asker: Asker, base: Path) -> CalendarAnswers:
    asker.say("Where should the sessions go?")
    for kind, meaning in CALENDAR_KINDS.items():
        asker.say(f"  {kind:7} {meaning}")
    kind = asker.ask("Calendar", choice(list(CALENDAR_KINDS)), default="ics")
    if kind == "ics":
        return CalendarAnswers(
            kind=kind,
            push_to=asker.ask(
                "Feed file liftrun writes (relative to the config file)",
                lambda t: local_path(t, base, absolute=False),
                default="out/liftrun.ics",
            ),
            busy_from=asker.ask(
                "Busy calendars to read: secret iCal URLs or .ics paths, comma-separated",
                ics_sources(base),
                default="none",
            ),
        )
    if kind == "caldav":
        url = asker.ask("CalDAV server URL (https://...)", caldav_url)
        username = asker.ask("User name ('none' if the server asks for none)", optional_text)
        asker.say(
            "liftrun never asks for the password: put it in a file only you can read "
            "(chmod 600) and name that file here."
        )
        return CalendarAnswers(
            kind=kind,
            url=url,
            username=username,
            password_file=asker.ask(
                "Password file",
                lambda t: local_path(t, base, absolute=True),
                default=str(base / "caldav-password"),
            ),
            push_to=asker.ask(
                "Calendar liftrun writes sessions into (created if missing)",
                required_text("the calendar name"),
                default="Training",
            ),
            busy_from=tuple(
                asker.ask(
                    "Calendars to read busy time from: display names or URLs, comma-separated",
                    items,
                    default="none",
                )
            ),
        )
    if kind == "google":
        return CalendarAnswers(
            kind=kind,
            push_to="Training",
            client_secrets_file=asker.ask(
                "OAuth client file (a desktop app's JSON from the Google Cloud console)",
                lambda t: local_path(t, base, absolute=False),
                default="google-client.json",
            ),
            busy_from=tuple(
                asker.ask(
                    "Calendar ids to read busy time from, comma-separated ('primary' is yours)",
                    items,
                    default="primary",
                )
            ),
        )
    return CalendarAnswers(
        kind=kind,
        push_to=asker.ask(
            "Directory liftrun writes sessions into (relative to the config file)",
            lambda t: local_path(t, base, absolute=False),
            default="calendars/training",
        ),
        busy_from=tuple(
            local_path(p, base, absolute=False)
            for p in asker.ask(
                "Directories to read busy time from, comma-separated", items, default="none"
            )
        ),
    )


def ask_all(asker: Asker, today: date, zone: str, base: Path) -> Answers:
    race = asker.ask("Race (none, 5k, 10k, half, marathon)", choice(list(Race)), default="none")
    race_date = None
    if race != Race.NONE:
        race_date = asker.ask("Race date (YYYY-MM-DD)", race_date_after(today))
    priority = asker.ask(
        "Priority (strength, endurance)", choice(["strength", "endurance"]), default="strength"
    )
    lift_days = asker.ask("Lift sessions a week, 1-4 (rule L1)", int_range(1, 4), default="3")
    run_days = asker.ask("Runs a week, 1-6", int_range(1, 6), default="2")
    weight = asker.ask(
        "Body weight in kg, for the protein and energy numbers (N1, N2; 'skip' to leave out)",
        bodyweight,
        default="skip",
    )
    timezone = asker.ask("Time zone (IANA name)", zone_name, default=zone)
    preset, windows = ask_windows(asker)
    return Answers(
        today=today,
        race=race,
        race_date=race_date,
        priority=priority,
        lift_days=lift_days,
        run_days=run_days,
        bodyweight_kg=weight,
        timezone=timezone,
        preset=preset,
        windows=windows,
        calendar=ask_calendar(asker, base),
    )


# -- init: the file ------------------------------------------------------------------------


def q(value: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(value, ensure_ascii=False)


def q_list(values: Sequence[str]) -> str:
    return "[" + ", ".join(q(v) for v in values) + "]"


def render(a: Answers) -> str:
    """The commented config: every key ``init`` decided, plus the defaults worth knowing."""
    out = [
        f"# liftrun configuration, written by `liftrun init` on {a.today}.",
        '# Every key is listed in README.md ("Configuration"); rule ids (L1, S8, ...) name the',
        "# rules in shared/DOMAIN.md a key feeds. Any key can be overridden from the environment",
        "# as LIFTRUN_<SECTION>__<KEY> (e.g. LIFTRUN_ATHLETE__LIFT_DAYS=2). Relative paths are",
        "# relative to this file. `liftrun check` reaches every calendar without writing.",
        "",
        "# IANA time zone: every time of day below is wall-clock time there.",
        f"timezone = {q(a.timezone)}",
        "",
        "[athlete]",
        "# beginner / intermediate / advanced: the default lift count (L1) and ease-in weeks (L6).",
        'experience = "intermediate"',
        "# strength: strength first, the concurrent-training rules [CT];",
        "# endurance: running first, the lift-run programme [LR].",
        f"priority = {q(a.priority)}",
        "# Lift sessions a week, 1..4 (L1); peak and taper phases may lower it (L4, L5).",
        f"lift_days = {a.lift_days}",
        "# Runs a week, 1..6 (R1-R5 pick the week template).",
        f"run_days = {a.run_days}",
        "# Body weight for the daily protein (N1) and extra energy on run days (N2);",
        "# bodyweight_lb works too (one of the two).",
    ]
    if a.bodyweight_kg is None:
        out.append("# bodyweight_kg = 70")
    else:
        out.append(f"bodyweight_kg = {a.bodyweight_kg:g}")
    out += [
        "# S7: lift on the hard-run days to keep the easy days easy (endurance priority).",
        "hard_days_hard = false",
        '# L4: peak lifting heavy (2-4 x 3-5, "strength") or 3 x 10-15 ("endurance").',
        'peak_style = "strength"',
        "# L6: false (the default) eases sets and weights in over the first weeks; set true if",
        "# you already lift regularly.",
        "lifting_now = false",
        "# G1: where your running starts, in minutes a week and your longest run; default by",
        "# experience (beginner 90/40, intermediate 150/60, advanced 240/90).",
        "# weekly_run_minutes = 150",
        "# long_run_minutes = 60",
        "",
        "[goal]",
        "# The race (P1): none, 5k, 10k, half or marathon. Without a race the plan builds",
        '# strength continuously (or maintains it: strength_mode = "maintenance").',
        f"race = {q(a.race)}",
    ]
    if a.race_date is None:
        out += [
            '# race_date = "YYYY-MM-DD"     # needed once race is not "none"',
            'strength_mode = "building"',
        ]
    else:
        block = DISTANCE_DEFAULTS[Race(a.race)].block_weeks
        out += [
            f"race_date = {q(a.race_date.isoformat())}",
            '# race_time = "09:30"          # P4: race day is an all-day event unless set',
            f'# plan_start = "YYYY-MM-DD"    # default: {block} weeks before race day, on a Monday',
            "# P2-P5 (peak_weeks, taper_weeks, recovery_weeks, no_lift_days_before_race) default",
            "# by distance; see DISTANCE_DEFAULTS in config/models.py.",
        ]
    meaning = PRESETS[a.preset][0] if a.preset in PRESETS else "entered day by day"
    out += [
        "",
        "[availability]",
        '# When you can train (S8): local "HH:MM-HH:MM" windows per weekday, no overlaps;',
        "# [] is a day without training.",
        f"# Chosen at init: {a.preset} ({meaning}).",
        *(f"{day} = {q_list(a.windows.get(day, []))}" for day in WEEKDAYS),
        "# Minutes kept clear before and after every busy event in your calendar (S8).",
        "buffer_minutes = 15",
        "",
        "[state]",
        "# The SQLite state store, the lock, source caches and the feed token.",
        'path = "state/"',
        "",
        "[sync]",
        "interval_minutes = 15        # `liftrun sync` runs a cycle this often (10 % jitter)",
        "horizon_days = 28            # how far ahead sessions are placed and pushed",
        "freeze_hours = 12            # sessions starting sooner than this are not moved any more",
        "source_timeout_seconds = 60  # a busy calendar slower than this counts as unreadable",
        "",
        *_render_calendar(a.calendar),
    ]
    return "\n".join(out) + "\n"


def _render_calendar(c: CalendarAnswers) -> list[str]:
    out = ["[[calendars]]", f"kind = {q(c.kind)}"]
    if c.kind == "ics":
        out += [
            "# The feed liftrun writes; `liftrun serve` serves it for your calendar app to",
            '# subscribe to (see README.md, "The ICS feed").',
            f"push_to = {q(c.push_to or 'out/liftrun.ics')}",
            "# Busy time: secret iCal addresses (https, webcal) or absolute paths of .ics files;",
            "# sessions keep buffer_minutes clear of every event in them (S8).",
            f"busy_from = {q_list(c.busy_from)}",
            "alarm_minutes = 30           # a reminder before each session; remove for none",
            "",
            "[feed]",
            'listen = "127.0.0.1:8080"    # `liftrun serve` binds loopback unless told otherwise',
            '# public_url = "https://training.example.com"   # behind a reverse proxy',
        ]
    elif c.kind == "caldav":
        out += [
            'name = "training"            # how reports and `liftrun status` name it',
            "# The server's base URL; the calendars are discovered from it (RFC 6764).",
            f"url = {q(c.url or '')}",
        ]
        if c.username is not None:
            out.append(f"username = {q(c.username)}")
        out += [
            '# The password is read from this file (or use password_env = "VARIABLE");',
            "# it is never printed, not even in error messages.",
            f"password_file = {q(c.password_file or '')}",
            "# The calendar for the sessions, by display name or URL: created if missing.",
            f"push_to = {q(c.push_to or 'Training')}",
            "# Calendars whose events are busy time (display names or URLs).",
            f"busy_from = {q_list(c.busy_from)}",
            "alarm_minutes = 30",
            "timeout_seconds = 20",
            '# auth = "basic"             # or "digest"; default: what the server asks for',
            '# verify_tls = true, ca_file = "/etc/ssl/my-ca.pem"',
        ]
    elif c.kind == "google":
        out += [
            'name = "google"',
            'auth = "oauth"               # or "service_account" with service_account_file',
            "# The OAuth client (a desktop app's JSON) `liftrun auth google` signs in with.",
            f"client_secrets_file = {q(c.client_secrets_file or 'google-client.json')}",
            '# token_file = "/path/google-token.json"  # default: in the state directory (0600)',
            "# A dedicated secondary calendar for the sessions: created on the first sync.",
            f"push_to = {q(c.push_to or 'Training')}",
            "# Calendar ids whose busy time is read (freebusy only: no titles or details).",
            f"busy_from = {q_list(c.busy_from)}",
            "alarm_minutes = 30",
        ]
    else:
        out += [
            "# A directory with one .ics file per session (khal, vdirsyncer): created if missing.",
            f"push_to = {q(c.push_to or 'calendars/training')}",
            "# Directories whose events are busy time.",
            f"busy_from = {q_list(c.busy_from)}",
            "alarm_minutes = 30",
        ]
    return out


def validate(text: str, answers: Answers, path: Path) -> None:
    """Load ``text`` with the real loader before anything is written: a file ``init`` writes
    always loads. A password file that does not exist yet stands in as a placeholder, because
    creating it is one of the next steps, not a mistake in the answers."""
    with tempfile.TemporaryDirectory(prefix="liftrun-init-") as scratch:
        checked = text
        secret = answers.calendar.password_file
        if secret and not Path(secret).is_file():
            stand_in = Path(scratch) / "password"
            stand_in.write_text("placeholder", encoding="utf-8")
            checked = text.replace(
                f"password_file = {q(secret)}", f"password_file = {q(str(stand_in))}"
            )
        copy = Path(scratch) / "liftrun.toml"
        copy.write_text(checked, encoding="utf-8")
        try:
            load(str(copy))
        except ConfigError as exc:
            problem = str(exc).replace(str(copy), str(path))
            fail(f"not written, the answers do not make a valid config: {problem}")


def next_steps(path: Path, answers: Answers) -> list[str]:
    here = Path.cwd() / "liftrun.toml"
    flag = "" if path.resolve() == here.resolve() else f" --config {shlex.quote(str(path))}"
    steps: list[str] = []
    cal = answers.calendar
    if cal.kind == "caldav" and cal.password_file and not Path(cal.password_file).is_file():
        steps.append(
            f"put the CalDAV password into {cal.password_file} "
            f"(printf '%s' 'PASSWORD' > FILE; chmod 600 FILE)"
        )
    if cal.kind == "google":
        steps.append(
            f"save the OAuth client JSON as {cal.client_secrets_file}, then sign in: "
            f"liftrun auth google{flag}"
        )
    steps += [
        f"liftrun check{flag}                  # reach every calendar, write nothing",
        f"liftrun sync --once --dry-run{flag}  # the sessions it would place, and why",
        f"liftrun sync{flag}                   # keep the calendar in step, every 15 min",
    ]
    if cal.kind == "ics":
        steps.append(f"liftrun serve{flag}                  # serve the feed to subscribe to")
    return steps


@click.command()
@click.option(
    "--path",
    "path_text",
    type=click.Path(dir_okay=False),
    default="liftrun.toml",
    show_default=True,
    help="Where to write the config.",
)
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@click.option(
    "--defaults",
    is_flag=True,
    help="Answer every question with its default; reads no input (scripts, CI).",
)
@click.option("--today", "today_text", hidden=True, help="Today's date (tests).")
def init(*, path_text: str, force: bool, defaults: bool, today_text: str | None) -> None:
    """Write a commented liftrun.toml from a few questions, and check that it loads."""
    path = Path(path_text).expanduser()
    if path.is_dir():
        fail(f"{path} is a directory; give the config file's path with --path")
    if path.exists() and not force:
        fail(f"{path} already exists; pass --force to overwrite it")
    zone = detect_timezone(os.environ)
    if today_text:
        try:
            today = date.fromisoformat(today_text)
        except ValueError:
            fail(f"--today {today_text!r}: not a date of the form YYYY-MM-DD")
    else:
        today = datetime.now(ZoneInfo(zone)).date()
    base = path.absolute().parent
    answers = ask_all(Asker(defaults), today, zone, base)
    text = render(answers)
    validate(text, answers, path)
    try:  # 0600 and atomic: busy_from may hold secret iCal addresses; --force never tears
        atomic_write(path, text.encode("utf-8"), mode=0o600)
    except OSError as exc:
        fail(f"cannot write {path}: {exc.strerror or exc}")
    if not answers.calendar.password_file or Path(answers.calendar.password_file).is_file():
        try:
            load(str(path))  # the file as written, read the way every command reads it
        except ConfigError as exc:
            fail(f"config error: {exc}")
    click.echo(f"wrote {path}: it loads, {answers.calendar.kind} calendar, {answers.timezone}")
    click.echo("next steps:")
    for number, step in enumerate(next_steps(path, answers), 1):
        click.echo(f"  {number}. {step}")


# -- check -----------------------------------------------------------------------------------


def scratch_state(loaded: LoadedConfig, scratch: Path) -> LoadedConfig:
    """The config with ``state.path`` moved to a scratch directory: adapters keep their caches
    (last good copies, CalDAV and Google mirrors) under it, and a check must not change what the
    next sync starts from. Google's token file is resolved from the config file's directory, not
    from here, so it is still found."""
    settings = loaded.settings.model_copy(update={"state": State(path=str(scratch))})
    return replace(loaded, settings=settings)


def target_status(target: CalendarTarget, start: datetime, end: datetime) -> str:
    try:
        owned = target.list_owned(start, end)
    except NotCreatedYet as exc:  # opened with probe=True: the first sync creates it
        return f"ok (0 liftrun events; {exc})"
    count = sum(1 for e in owned if not e.cancelled and e.start < end and e.end > start)
    return f"ok ({count} liftrun events)"


def failure(exc: BaseException) -> str:
    """Adapter errors are written for people; anything else is named by its type as well."""
    if isinstance(exc, AdapterError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def probe_sources(
    sources: Sequence[BusySource], start: datetime, end: datetime, timeout: float, horizon: int
) -> list[tuple[bool, str]]:
    """Read as a sync cycle reads (concurrently, within ``source_timeout_seconds``), so a
    source too slow for sync is too slow here as well."""
    lines: list[tuple[bool, str]] = []
    for result in read_sources(sources, start, end, timeout):
        name, read = result.name, result.read
        if read is None or not read.fresh:
            why = result.error if read is None else read.error
            lines.append((False, f"source {name}: FAILED: {why or 'not read'}"))
            continue
        for warning in read.busy.warnings:
            click.echo(f"warning: {warning}", err=True)
        n = len(read.busy.intervals)
        lines.append((True, f"source {name}: ok ({n} busy events in the next {horizon} days)"))
    return lines


def probe_targets(
    targets: Sequence[CalendarTarget], start: datetime, end: datetime
) -> list[tuple[bool, str]]:
    """Read every target back concurrently; each adapter's own configured timeout bounds it
    (as in a sync cycle, which puts no overall limit on targets either)."""
    if not targets:
        return []
    with ThreadPoolExecutor(
        max_workers=min(8, len(targets)), thread_name_prefix="check-target"
    ) as pool:
        futures: list[tuple[CalendarTarget, Future[str]]] = [
            (t, pool.submit(target_status, t, start, end)) for t in targets
        ]
        lines: list[tuple[bool, str]] = []
        for target, future in futures:
            try:
                lines.append((True, f"target {target.name}: {future.result()}"))
            except Exception as exc:  # a check reports every failure; it never raises one
                lines.append((False, f"target {target.name}: FAILED: {failure(exc)}"))
    return lines


@click.command()
@config_option
def check(config_path: str | None) -> None:
    """Validate the config and reach every calendar once, writing to none.

    One line per busy source and per target. Exit codes: 0 all reachable, 2 configuration
    error, 3 some calendar failed.
    """
    loaded = load_config(config_path)
    settings = loaded.settings
    now = datetime.now(UTC).replace(microsecond=0)
    horizon = settings.sync.horizon_days
    end = now + timedelta(days=horizon)
    click.echo(f"config {loaded.source}: ok")
    if not settings.calendars:
        click.echo("no [[calendars]]: `liftrun sync` has nowhere to push (see liftrun init)")
        return
    with tempfile.TemporaryDirectory(prefix="liftrun-check-", ignore_cleanup_errors=True) as tmp:
        try:
            wiring = build(scratch_state(loaded, Path(tmp)), now, store=None, probe=True)
        except (AdapterError, ValueError, OSError) as exc:
            fail(f"cannot open the calendars: {failure(exc)}")
        lines = probe_sources(
            wiring.sources, now, end, settings.sync.source_timeout_seconds, horizon
        )
        lines += probe_targets([spec.target for spec in wiring.targets], now, end)
        lines += [(False, f"target {n}: FAILED: {why}") for n, why in wiring.broken.items()]
    for _, line in lines:
        click.echo(line)
    failed = sum(1 for ok, _ in lines if not ok)
    if failed:
        click.echo(f"check: {failed} of {len(lines)} failed; nothing was written")
        sys.exit(EXIT_SOURCE_FAILED)
    click.echo(f"check: {len(lines)} of {len(lines)} ok; nothing was written")
