"""Reading liftrun's own feed back, fast.

The feed target needs each event's UID, times, SEQUENCE, stamps, status and hash every cycle;
icalendar's generic parser spends about 2 ms an event on that, most of a steady cycle's budget
for a year's feed. The feed is written by ``adapters.ical.render`` in a fixed shape, so its lines
are read directly here; anything outside that shape (a hand-edited or foreign file) makes
:func:`read_fast` return None and the caller parses the file with icalendar instead.

Both readers give an all-day event (``VALUE=DATE``, race day) as the local midnights of the
plan's ``zone`` (:func:`adapters.protocol.day_start`), the very instants liftrun rendered it from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from adapters.protocol import day_start
from config.models import zone_named


@dataclass(frozen=True)
class FeedEvent:
    uid: str
    sequence: int
    stamp: datetime
    start: datetime
    end: datetime
    cancelled: bool
    content_hash: str
    cancelled_at: datetime | None
    summary: str
    description: str
    categories: tuple[str, ...]
    all_day: bool = False  # DATE values: start and end are the plan zone's local midnights


class _Unexpected(Exception):
    pass


def _utc(value: str) -> datetime:
    if len(value) != 16 or not value.endswith("Z"):
        raise _Unexpected(value)
    return datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


def _when(params: str, value: str, zone: ZoneInfo) -> datetime:
    if not params:
        return _utc(value)
    if params == ";VALUE=DATE":
        if len(value) != 8 or not value.isdigit():
            raise _Unexpected(value)
        return day_start(date.fromisoformat(value), zone)
    if not params.startswith(";TZID=") or len(value) != 15:
        raise _Unexpected(params)
    named = zone_named(params[len(";TZID=") :])
    if named is None:
        raise _Unexpected(params)
    return datetime.strptime(value, "%Y%m%dT%H%M%S").replace(tzinfo=named)


_ESCAPES = {"\\\\": "\\", "\\;": ";", "\\,": ",", "\\n": "\n", "\\N": "\n"}
_ESCAPED = re.compile(r"\\[\\;,nN]")


def _text(value: str) -> str:
    """A TEXT value unescaped as RFC 5545 3.3.11 says."""
    return _ESCAPED.sub(lambda m: _ESCAPES[m.group(0)], value)


def _event(block: bytes, zone: ZoneInfo) -> FeedEvent:
    lines = block.replace(b"\r\n ", b"").decode("utf-8").split("\r\n")
    props: dict[str, tuple[str, str]] = {}
    depth = 0
    for line in lines[1:]:
        if not line:
            continue
        if line.startswith("BEGIN:"):
            depth += 1
            continue
        if line.startswith("END:"):
            depth -= 1
            continue
        if depth:
            continue  # inside a VALARM
        head, sep, value = line.partition(":")
        if not sep:
            raise _Unexpected(line)
        name, _, params = head.partition(";")
        props[name] = (";" + params if params else "", value)
    try:
        cancelled_at = props.get("X-LIFTRUN-CANCELLED-AT")
        all_day = props["DTSTART"][0] == ";VALUE=DATE"
        if all_day != (props["DTEND"][0] == ";VALUE=DATE"):
            raise _Unexpected("DTSTART and DTEND of different value types")
        return FeedEvent(
            uid=_text(props["UID"][1]),
            sequence=int(props.get("SEQUENCE", ("", "0"))[1]),
            stamp=_utc(props["DTSTAMP"][1]),
            start=_when(*props["DTSTART"], zone),
            end=_when(*props["DTEND"], zone),
            cancelled=props.get("STATUS", ("", ""))[1].upper() == "CANCELLED",
            content_hash=props.get("X-LIFTRUN-HASH", ("", ""))[1],
            cancelled_at=_utc(cancelled_at[1]) if cancelled_at else None,
            summary=_text(props.get("SUMMARY", ("", ""))[1]),
            description=_text(props.get("DESCRIPTION", ("", ""))[1]),
            categories=tuple(_text(c) for c in props.get("CATEGORIES", ("", ""))[1].split(",")),
            all_day=all_day,
        )
    except (KeyError, ValueError) as exc:
        raise _Unexpected(str(exc)) from None


def read_fast(raw: bytes, blocks: dict[str, bytes], zone: ZoneInfo) -> list[FeedEvent] | None:
    """Every VEVENT of a feed liftrun wrote, or None if the file is not in liftrun's shape;
    ``zone`` is the plan's, in which all-day events begin and end."""
    if not raw.startswith(b"BEGIN:VCALENDAR\r\n") or not raw.endswith(b"END:VCALENDAR\r\n"):
        return None
    if raw.count(b"BEGIN:VEVENT\r\n") != len(blocks):
        return None
    try:
        return [_event(block, zone) for block in blocks.values()]
    except (_Unexpected, UnicodeDecodeError):
        return None


def _aware(value: date, zone: ZoneInfo) -> datetime:
    """A decoded DTSTART or DTEND as an aware instant: a DATE is the local midnight of the plan's
    zone (as liftrun wrote it), a floating time is read in that zone."""
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=zone)
    return day_start(value, zone)


def from_icalendar(ev: Any, zone: ZoneInfo) -> FeedEvent:
    cancelled_at = ev.get("x-liftrun-cancelled-at")
    categories = ev.get("categories")
    start = ev.decoded("dtstart")
    return FeedEvent(
        uid=str(ev.get("uid", "")),
        sequence=int(ev.get("sequence", 0)),
        stamp=ev.decoded("dtstamp"),
        start=_aware(start, zone),
        end=_aware(ev.decoded("dtend"), zone),
        cancelled=str(ev.get("status", "")).upper() == "CANCELLED",
        content_hash=str(ev.get("x-liftrun-hash", "")),
        cancelled_at=(
            datetime.strptime(str(cancelled_at), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
            if cancelled_at is not None
            else None
        ),
        summary=str(ev.get("summary", "")),
        description=str(ev.get("description", "")),
        categories=tuple(str(c) for c in categories.cats) if categories is not None else (),
        all_day=not isinstance(start, datetime),
    )
