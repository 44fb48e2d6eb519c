"""The actions as they arrive over HTTP: a POSTed form read within a size cap and checked into
one typed :class:`ActionRequest`, or refused with a message a runner can act on.

Forms are ``application/x-www-form-urlencoded`` (the page's plain HTML forms, no JavaScript),
read here with the standard library rather than Starlette's ``request.form()``, which needs
``python-multipart`` for a format the page never sends. Every field is checked before the
backend sees it: an effort is 1-10, a note a few hundred characters of text, a pause at most
a quarter of a year, a slot an aware ISO date-time. Whether a slot is still free is the
backend's to decide (it asks the placement engine again).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from urllib.parse import parse_qsl

from web.views import SORENESS_LEVELS, Field

__all__ = [
    "MAX_FORM_BYTES",
    "ActionName",
    "ActionRefused",
    "ActionRequest",
    "parse_action",
]

MAX_FORM_BYTES = 16 * 1024
MAX_NOTE_CHARS = 500
MAX_PAUSE_DAYS = 92


class ActionName(StrEnum):
    """The last path segment of an action's URL."""

    DONE = "done"
    SKIPPED = "skipped"
    SORE = "sore"
    MOVE = "move"
    NOT_DOING = "not-doing"
    RESTORE = "restore"
    PAUSE = "pause"
    END_PAUSE = "end-pause"


SESSION_ACTIONS = frozenset(
    {
        ActionName.DONE,
        ActionName.SKIPPED,
        ActionName.SORE,
        ActionName.MOVE,
        ActionName.NOT_DOING,
        ActionName.RESTORE,
    }
)
# Pausing reaches every session in a range, so only the page token grants it, never a link
# that opens one session; soreness is the athlete's word on the week, from either.
PLAN_ACTIONS = frozenset({ActionName.SORE, ActionName.PAUSE, ActionName.END_PAUSE})


class ActionRefused(Exception):
    """An action that cannot be done as asked; ``str()`` is shown to the athlete."""


@dataclass(frozen=True)
class ActionRequest:
    """One action, checked: the fields its ``name`` needs are set, the others are None."""

    name: ActionName
    session_id: str | None = None
    effort: int | None = None  # done: 1-10
    note: str = ""  # done
    soreness: str | None = None  # sore: none | moderate | severe
    slot: datetime | None = None  # move: the start of an offered slot
    start: date | None = None  # pause, inclusive
    end: date | None = None  # pause, inclusive


def form_fields(body: bytes) -> dict[str, str]:
    """The fields of an urlencoded body; a field sent twice keeps its first value."""
    try:
        text = body.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=False, max_num_fields=32)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ActionRefused("the form could not be read; reload the page and try again") from exc
    fields: dict[str, str] = {}
    for key, value in pairs:
        fields.setdefault(key, value)
    return fields


def parse_action(name: ActionName, fields: dict[str, str], session_id: str | None) -> ActionRequest:
    """The checked request for ``name`` from a form's ``fields``."""
    if name is ActionName.DONE:
        return ActionRequest(
            name,
            session_id,
            effort=_effort(fields.get(Field.EFFORT, "")),
            note=_note(fields.get(Field.NOTE, "")),
        )
    if name is ActionName.SORE:
        level = fields.get(Field.SORENESS, "")
        if level not in SORENESS_LEVELS:
            raise ActionRefused("choose how sore you are: none, moderate or severe")
        return ActionRequest(name, session_id, soreness=level)
    if name is ActionName.MOVE:
        return ActionRequest(name, session_id, slot=_instant(fields.get(Field.SLOT, "")))
    if name is ActionName.PAUSE:
        start = _day(fields.get(Field.PAUSE_FROM, ""), "from")
        end = _day(fields.get(Field.PAUSE_TO, ""), "to")
        if end < start:
            raise ActionRefused("a pause ends on or after the day it starts")
        if (end - start).days + 1 > MAX_PAUSE_DAYS:
            raise ActionRefused(f"a pause is at most {MAX_PAUSE_DAYS} days; pause again later")
        return ActionRequest(name, None, start=start, end=end)
    return ActionRequest(name, session_id)


def _effort(text: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not text.isdigit() or not 1 <= int(text) <= 10:
        raise ActionRefused("effort is a whole number from 1 to 10, or left empty")
    return int(text)


def _note(text: str) -> str:
    note = " ".join(text.split())  # one line: it goes into an event's description
    if len(note) > MAX_NOTE_CHARS:
        raise ActionRefused(f"a note is at most {MAX_NOTE_CHARS} characters")
    return note


def _instant(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        value = None
    if value is None or value.tzinfo is None:
        raise ActionRefused("choose one of the offered times")
    return value


def _day(text: str, which: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ActionRefused(f"the pause needs a '{which}' date (YYYY-MM-DD)") from None
