"""What a calendar kind needs to take part in ``liftrun init``: the asker it is handed, the
answer converters every kind uses, the TOML writing of its section, and what its answers give
back (:class:`KindAnswers`).

A converter raises ``ValueError`` with the reason for a bad answer; the command line's asker
shows it and asks again. Where the config has a validator, a converter uses it (a kind checks
its own settings model), so an answer ``init`` accepts is one the loader accepts. Default
values in a section are read from the settings models, which own them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar

from pydantic import BaseModel, ValidationError

T = TypeVar("T")

COMMENT_COLUMN = 29  # where a key's trailing comment starts (0-based), as in the samples
NONE_WORDS = ("", "none", "-")


class Asker(Protocol):
    """Asks the athlete (or, under ``init --defaults``, answers with the default)."""

    def ask(self, text: str, convert: Callable[[str], T], default: str | None = None) -> T:
        """The answer to ``text`` through ``convert``, asked again while it raises."""
        ...

    def say(self, text: str) -> None:
        """An explanation before a question; silent when nothing is asked."""
        ...


@dataclass(frozen=True)
class NextSteps:
    """A kind's steps after ``init``: ``first`` before the common ones (a password file to
    fill, a sign-in), ``last`` after them (serving the feed)."""

    first: tuple[str, ...] = ()
    last: tuple[str, ...] = ()


class KindAnswers(Protocol):
    """What ``init`` learnt about the one calendar it sets up, in the kind's own terms."""

    @property
    def kind(self) -> str: ...

    def section(self) -> list[str]:
        """The config's lines for this calendar: its ``[[calendars]]`` entry, and any section
        it needs besides (the ICS feed's ``[feed]``)."""
        ...

    def files_to_come(self) -> tuple[str, ...]:
        """Files the section names that the athlete makes after ``init`` (a password file):
        the config is checked with a stand-in for each one missing."""
        ...

    def next_steps(self, flag: str) -> NextSteps:
        """``flag`` is `` --config PATH`` when the config is not ``./liftrun.toml``, else ``""``."""
        ...


def error_text(exc: ValidationError) -> str:
    return "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())


def items(text: str) -> list[str]:
    """A comma-separated answer; 'none' or nothing is the empty list."""
    if text.strip().lower() in NONE_WORDS:
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


def optional_text(text: str) -> str | None:
    value = text.strip()
    return None if value.lower() in NONE_WORDS else value


def required_text(what: str) -> Callable[[str], str]:
    def convert(text: str) -> str:
        value = text.strip()
        if not value:
            raise ValueError(f"{what} cannot be empty")
        return value

    return convert


def q(value: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(value, ensure_ascii=False)


def q_list(values: Sequence[str]) -> str:
    return "[" + ", ".join(q(v) for v in values) + "]"


def toml(value: object) -> str:
    """A default as TOML: booleans lower-case, strings (and string enums) quoted, 12.0 as 12."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return q(value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def default(model: type[BaseModel], name: str, comment: str | None = None) -> str:
    """``name = <the model's default>``, with ``comment`` after it at the comment column."""
    line = f"{name} = {toml(model.model_fields[name].default)}"
    return f"{line.ljust(COMMENT_COLUMN - 1)} # {comment}" if comment else line
