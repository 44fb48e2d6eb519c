"""One VEVENT as the busy-time reader sees it, and how its warnings name one.

Every step of the reader looks at events the same way: through a plain-dict view of their
properties, with the UID as the calendar wrote it (the reader gives UID-less and detached
events private UIDs, which must never reach the planner or a warning), and with a library's
message cut short before a warning quotes it (it may quote the hostile calendar).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import icalendar

from adapters.ical.repair import quote

__all__ = [
    "DETACHED",
    "MISSING_UID",
    "BrokenSeriesError",
    "Event",
    "is_transparent",
    "master_of",
    "public_uid_of",
    "short",
    "status_of",
    "text_of",
    "what",
    "why",
]

MISSING_UID = "\x00missing-uid-"
DETACHED = "\x00detached-"  # suffix of the private UID of an override read on its own
_SHORT = 160  # characters of a library's message quoted in an error or warning
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class BrokenSeriesError(Exception):
    """One event cannot be placed in time; the message says why and ends up in a warning."""


@dataclass
class Event:
    """A parsed VEVENT plus a plain-dict view of its properties.

    ``icalendar`` stores property names upper-cased in a case-insensitive dict whose lookups
    cost several times a plain ``dict``'s; a one-off event is looked at a dozen times.
    """

    component: icalendar.Component
    props: dict[str, Any]


def master_of(events: list[Event]) -> Event | None:
    """The event recurring-ical-events uses as the series core: the first highest SEQUENCE."""
    best: Event | None = None
    best_sequence = 0
    for event in events:
        if "RECURRENCE-ID" in event.props:
            continue
        sequence = event.props.get("SEQUENCE", -1)
        sequence = sequence if isinstance(sequence, int) else -1
        if best is None or sequence > best_sequence:
            best, best_sequence = event, sequence
    return best


def status_of(props: dict[str, Any]) -> str:
    return text_of(props.get("STATUS")).strip().upper()


def is_transparent(props: dict[str, Any]) -> bool:
    """Section 3.8.2.7: TRANSPARENT events do not take up time on a calendar."""
    return text_of(props.get("TRANSP")).strip().upper() == "TRANSPARENT"


def text_of(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return text_of(value[0]) if value else ""
    return str(value)


def public_uid_of(uid: str) -> str:
    """The UID as the calendar wrote it ("" if it had none)."""
    if uid.startswith(MISSING_UID):
        return ""
    return uid.partition(DETACHED)[0]


def what(uid: str, event: Event | None) -> str:
    """How a warning names an event: its UID, or its SUMMARY if it has no UID."""
    public = public_uid_of(uid)
    if public:
        return f"UID {quote(public)}"
    summary = text_of(event.props.get("SUMMARY")) if event is not None else ""
    return f"an event without UID (SUMMARY {quote(summary)})"


def why(exc: Exception) -> str:
    """An exception as the reason in a warning (the library's type if it says nothing)."""
    return short(str(exc)) or type(exc).__name__


def short(text: str) -> str:
    """A library's message cut short and kept on one line (it may quote the calendar)."""
    text = _CONTROL.sub(lambda match: repr(match.group())[1:-1], text[: _SHORT + 1])
    return text[:_SHORT] + ("..." if len(text) > _SHORT else "")
