"""``liftrun init``: a first config from a few questions.

``init`` exists so nobody has to learn the schema before their first plan: it asks only what the
athlete knows (race, days, windows, calendar; :mod:`cli.init_questions`), writes every other key
with its default and a comment naming the rule it feeds (:mod:`cli.init_template`), and proves
the file loads before it says so. ``--defaults`` answers everything with the default, for
scripts and CI, without reading stdin.
"""

from __future__ import annotations

import os
import shlex
import tempfile
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import click

from cli.common import fail

if TYPE_CHECKING:
    from cli.init_questions import Answers


def validate(text: str, answers: Answers, path: Path) -> None:
    """Load ``text`` with the real loader before anything is written: a file ``init`` writes
    always loads. A file the athlete makes later (a password file) that does not exist yet has a
    placeholder stand in for it, because making it is one of the next steps, not a mistake in
    the answers."""
    from adapters.wizard import q
    from config.loader import ConfigError, load

    with tempfile.TemporaryDirectory(prefix="liftrun-init-") as scratch:
        checked = text
        for number, later in enumerate(answers.calendar.files_to_come()):
            if not Path(later).is_file():
                stand_in = Path(scratch) / f"to-come-{number}"
                stand_in.write_text("placeholder", encoding="utf-8")
                checked = checked.replace(q(later), q(str(stand_in)))
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
    kind = answers.calendar.next_steps(flag)
    return [
        *kind.first,
        f"liftrun check{flag}                  # reach every calendar, write nothing",
        f"liftrun sync --once --dry-run{flag}  # the sessions it would place, and why",
        f"liftrun sync{flag}                   # keep the calendar in step, every 15 min",
        *kind.last,
    ]


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
    from adapters.atomic import atomic_write
    from cli.init_questions import Asker, ask_all, detect_timezone
    from cli.init_template import render
    from config.loader import ConfigError, load

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
    if all(Path(later).is_file() for later in answers.calendar.files_to_come()):
        try:
            load(str(path))  # the file as written, read the way every command reads it
        except ConfigError as exc:
            fail(f"config error: {exc}")
    click.echo(f"wrote {path}: it loads, {answers.calendar.kind} calendar, {answers.timezone}")
    click.echo("next steps:")
    for number, step in enumerate(next_steps(path, answers), 1):
        click.echo(f"  {number}. {step}")
