"""The questions of ``liftrun init`` and the answers it collects.

Each answer goes through a converter that uses the config's own validators where there is one
(windows; a calendar kind checks its own answers, :mod:`adapters.wizard`), so an answer
``init`` accepts is one the loader accepts. The calendar questions are the chosen kind's.
``--defaults`` answers every question with its default (:class:`Asker`).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TypeVar

import click
from pydantic import ValidationError

from adapters.kinds import DEFAULT_KIND, KINDS, behaviour
from adapters.wizard import NONE_WORDS, KindAnswers, error_text
from cli.common import fail
from config.models import WEEKDAYS, Availability, Race, zone_named

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
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


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
    calendar: KindAnswers


class Asker:
    """``click.prompt``, or under ``--defaults`` the default itself: no terminal, no stdin.

    Each answer goes through a converter that raises ``click.BadParameter`` or ``ValueError``
    for a bad answer; click prints the reason and asks again.
    """

    def __init__(self, use_defaults: bool) -> None:
        self.use_defaults = use_defaults

    def ask(self, text: str, convert: Callable[[str], T], default: str | None = None) -> T:
        def checked(answer: str) -> T:
            try:
                return convert(answer)
            except ValueError as exc:  # a kind's converter says why in a plain ValueError
                raise click.BadParameter(str(exc)) from None

        if self.use_defaults:
            if default is None:  # a question that only comes after a non-default answer
                fail(f"init --defaults: {text!r} has no default")
            return checked(default)
        answer: T = click.prompt(text, default=default, value_proc=checked)
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
    if value in (*NONE_WORDS, "skip"):
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


def day_windows(day: str) -> Callable[[str], list[str]]:
    """A day's windows as typed (``06:00-08:00, 17:30-21:00``), checked by the config's own
    validator, so a window ``init`` accepts is one the loader accepts."""

    def convert(text: str) -> list[str]:
        if text.strip().lower() in NONE_WORDS:
            return []
        windows = [w.strip() for w in text.split(",") if w.strip()]
        try:
            checked = Availability.model_validate({day: windows})
        except ValidationError as exc:
            raise click.BadParameter(error_text(exc)) from None
        result: list[str] = getattr(checked, day)
        return result

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


def ask_calendar(asker: Asker, base: Path) -> KindAnswers:
    """Which kind of calendar, then that kind's own questions."""
    asker.say("Where should the sessions go?")
    for kind in KINDS:
        asker.say(f"  {kind:7} {behaviour(kind).summary}")
    kind = asker.ask("Calendar", choice(list(KINDS)), default=DEFAULT_KIND)
    return behaviour(kind).questions(asker, base)


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
