"""The questions of ``liftrun init`` and the answers it collects.

Each answer goes through a converter that uses the config's own validators where there is one
(windows, busy sources, the CalDAV URL), so an answer ``init`` accepts is one the loader
accepts. ``--defaults`` answers every question with its default (:class:`Asker`).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TypeVar

import click
from pydantic import ValidationError

from cli.common import fail
from config.models import (
    WEEKDAYS,
    Availability,
    CaldavCalendar,
    IcsCalendar,
    Race,
    zone_named,
)

T = TypeVar("T")

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
