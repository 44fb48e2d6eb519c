"""The one contract every calendar integration keeps (ICS now; CalDAV and Google implement it too).

Two roles, because a calendar can be both: a ``BusySource`` yields busy time, a ``CalendarTarget``
holds the events liftrun owns. Targets follow vdirsyncer's storage contract: list what we own
with a version (``etag``), then create, update and delete with preconditions, failing with a few
typed errors. Writes are idempotent by construction: a create names its own id (the session's
UID), so replaying it after a crash finds ``AlreadyExists`` instead of making a duplicate.
The engine hands a target its whole action list at once, so a target that can batch (one feed
file, Google's batch endpoint) does, and one that cannot (CalDAV) writes one by one.

The sync engine talks to adapters only through this module and never asks which kind it holds:
what a source yields (:class:`BusyRead`, :class:`SourceRead`), every error an adapter raises
(one class per cause, whichever calendar kind raised it), the content hash that tells the
engine whether an event still says what the plan says, and what a calendar found out that the
next run should start from (:class:`Learns`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from enum import StrEnum
from typing import Protocol, runtime_checkable
from zoneinfo import ZoneInfo

from planner.busy import BusyInterval
from planner.localtime import resolve
from planner.model import Session

UID_DOMAIN = "liftrun.invalid"  # RFC 2606: reserved, so our UIDs never collide with a real host


def session_uid(session_id: str) -> str:
    """The UID a session has in every calendar: derived from the stable session id."""
    return f"{session_id}@{UID_DOMAIN}"


def session_id_of(uid: str) -> str | None:
    """The session id behind one of our UIDs, or None for a foreign event (never touched)."""
    suffix = f"@{UID_DOMAIN}"
    return uid[: -len(suffix)] if uid.endswith(suffix) else None


class AdapterError(Exception):
    """A calendar could not be read or written; the message names the calendar and the cause."""


class SourceUnavailable(AdapterError):
    """Busy time could not be read: never treat the source as free (the last good copy may be)."""


class NotFound(AdapterError):
    """The event is gone from the calendar (deleted by the athlete or another client)."""


class AlreadyExists(AdapterError):
    """A create found the event already there: a replayed create after a crash."""


class NotCreatedYet(AdapterError):
    """The target's calendar does not exist and this target was opened without leave to create
    it (``liftrun check``): not a failure, the first sync creates it."""


class TargetReset(AdapterError):
    """The whole calendar was gone and has been created again, empty (the athlete deleted the
    Training calendar): what liftrun recorded for it no longer applies, and the missing events
    are not deletions by hand. The engine forgets the target's records; the next cycle pushes."""


class PreconditionFailed(AdapterError):
    """The event changed since it was read (ETag mismatch, HTTP 412): re-read, let the engine
    decide; it may be the athlete's own move."""


class AuthFailed(AdapterError):
    """The server refused the credentials or the account's rights (401/403, a refused token
    refresh): no retry helps, new credentials or a new login do."""


class Unreachable(AdapterError):
    """The server did not answer usefully after every attempt (network, 5xx, rate limits)."""


def content_hash(session: Session, alarm_minutes: int | None) -> str:
    """What a subscriber sees of a session; a new hash means a new SEQUENCE. Whether it is an
    all-day event is part of it (a race given a start time is a new event for clients even if
    it covered the same instants), added only for all-day sessions so that the hashes of every
    timed session, and with them their SEQUENCEs, stay what they were."""
    # ics_render imports this module, so its description is fetched when a hash is made
    from adapters.ical.render import description  # noqa: PLC0415

    assert session.start is not None and session.end is not None
    parts = [
        session.start.astimezone(UTC).isoformat(),
        session.end.astimezone(UTC).isoformat(),
        session.title,
        description(session),
        session.kind.value,
        session.phase.value,
        str(alarm_minutes),
    ]
    if session.all_day:
        parts.append("all-day")
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def day_start(day: date, zone: ZoneInfo) -> datetime:
    """The instant local ``day`` begins in ``zone``, reckoned as the planner reckons race day
    (``planner.race``): an all-day event read back from any calendar (a DATE value, or Google's
    ``{"date": ...}``) must give the very start and end liftrun wrote, or it would look moved by
    hand. On a DST-change day the day is 23 or 25 hours long; where midnight falls in a
    spring-forward gap, the day begins when the gap ends.
    """
    return resolve(day, time(0), zone).astimezone(zone)


def placed_value(start: datetime, end: datetime) -> str:
    """The X-LIFTRUN-PLACED value: the times liftrun wrote, kept inside the event itself.

    A calendar client that moves the event changes DTSTART/DTEND but carries this property
    along, so a move by hand shows as a difference between the two, with no need of the
    state store, and a write of liftrun's own that a crash kept out of the store does not.
    """
    return f"{start.astimezone(UTC):%Y%m%dT%H%M%SZ}/{end.astimezone(UTC):%Y%m%dT%H%M%SZ}"


def parse_placed(value: str | None) -> tuple[datetime, datetime] | None:
    if not value:
        return None
    try:
        a, b = value.strip().split("/")
        fmt = "%Y%m%dT%H%M%SZ"
        return (
            datetime.strptime(a, fmt).replace(tzinfo=UTC),
            datetime.strptime(b, fmt).replace(tzinfo=UTC),
        )
    except ValueError:
        return None


@dataclass(frozen=True)
class OwnedEvent:
    """An event liftrun created, as read back from a target."""

    session_id: str
    remote_id: str  # CalDAV href, Google event id, a vdir file name, the UID in a feed
    etag: str | None
    start: datetime
    end: datetime
    content_hash: str | None  # what liftrun wrote, kept in the event (X-LIFTRUN-HASH)
    cancelled: bool = False
    placed: tuple[datetime, datetime] | None = None  # X-LIFTRUN-PLACED: the times liftrun wrote

    @property
    def moved_by_hand(self) -> bool:
        """Someone moved the event since liftrun last wrote it (S9: their time wins)."""
        if self.placed is None:
            return False
        return (self.start, self.end) != self.placed


class ActionKind(StrEnum):
    CREATE = "create"
    UPDATE = "update"  # content or time (a move) changes
    CANCEL = "cancel"


@dataclass(frozen=True)
class Action:
    """One write the engine decided on, with the reason it gives the athlete."""

    kind: ActionKind
    session_id: str
    reason: str
    session: Session | None = None  # what to write (create, update)
    content_hash: str | None = None
    current: OwnedEvent | None = None  # what was read back (update, cancel): If-Match on it
    moved: bool = False  # an update that changes the time


@dataclass(frozen=True)
class Outcome:
    """What became of one action: the event as it now is, or the typed error."""

    action: Action
    event: OwnedEvent | None = None
    error: AdapterError | None = None


@dataclass(frozen=True)
class BusyRead:
    """The busy intervals of one source plus what had to be skipped to get them.

    Warnings travel with the result instead of being logged so the caller can show the person
    which events were ignored: a skipped event is busy time the planner cannot see.
    """

    intervals: tuple[BusyInterval, ...]
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class SourceRead:
    """Busy time from one source, and whether it is fresh or the last good copy."""

    name: str
    busy: BusyRead
    fresh: bool = True
    error: str | None = None  # set when the source failed and the last good copy was used


def fell_back(
    reason: str,
    *,
    copy: bool,
    saved_at: datetime | None = None,
    unreadable: str | None = None,
) -> str:
    """How a busy source that could not be read says what it did instead, in one wording for
    every kind, the sync's report, ``liftrun check`` and the page: ``"<reason>; using the last
    good copy from <when>"`` (``copy``; ``saved_at`` in the zone it is given in, left out when
    the copy does not say), ``"<reason>; the last good copy is unreadable: <why>"`` or
    ``"<reason>; no last good copy"``. Without it ``check`` and the sync once described one
    wrong password in two ways."""
    if copy:
        when = f" from {saved_at:%a} {saved_at.day} {saved_at:%b %H:%M}" if saved_at else ""
        return f"{reason}; using the last good copy{when}"
    if unreadable is not None:
        return f"{reason}; the last good copy is unreadable: {unreadable}"
    return f"{reason}; no last good copy"


def saved_instant(value: object) -> datetime | None:
    """When a last good copy was kept, as its cache entry wrote it (ISO 8601, aware); None for
    an entry from before copies said so, or one that says it in any other way."""
    if not isinstance(value, str):
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    return when if when.tzinfo is not None else None


@runtime_checkable
class BusySource(Protocol):
    name: str

    def read_busy(self, start: datetime, end: datetime) -> SourceRead:
        """Busy time overlapping ``[start, end)``; raises ``SourceUnavailable`` when neither the
        source nor a last good copy can be read."""
        ...


@runtime_checkable
class CalendarTarget(Protocol):
    name: str

    def list_owned(self, start: datetime, end: datetime) -> list[OwnedEvent]:
        """Every event liftrun owns in this calendar overlapping ``[start, end)`` (adapters may
        return more); raises ``AdapterError`` when the calendar cannot be read."""
        ...

    def apply(self, actions: Sequence[Action]) -> Iterator[Outcome]:
        """Carry out ``actions`` in order, yielding each outcome once it is durable.

        Creates name their own id and fail with ``AlreadyExists`` (If-None-Match: *); updates and
        cancels carry ``If-Match`` on ``action.current`` and fail with ``PreconditionFailed`` or
        ``NotFound``; those per-action errors come back in the outcome. A failure of the whole
        calendar (unreachable, auth) is raised. The engine may stop iterating between outcomes
        (graceful stop); no write is started after that. Batching targets (a feed file, Google's
        batch endpoint) yield a group of outcomes after each durable write.
        """
        ...


@runtime_checkable
class Learns(Protocol):
    """A calendar that finds out where it lives while it works (a CalDAV calendar's URL, a Google
    calendar's id). The next run starts from that, so a calendar renamed on the server is still
    the one liftrun writes to rather than a second one it creates. The wiring that opened the
    calendar keeps it under a store key of its choosing; the engine never asks what kind it is."""

    def learned(self) -> str | None:
        """What this run found out, or None while the calendar has not been resolved (nothing
        asked it anything) or it has nothing to tell."""
        ...


@runtime_checkable
class Remarks(Protocol):
    """A calendar with something the athlete should know about how liftrun treats it (a server
    that ignores ``If-Match``, so each change is preceded by a re-read). ``liftrun check`` shows
    the remarks on the calendar's line; the engine never asks what kind said them."""

    def remarks(self) -> list[str]:
        """Short clauses, each readable on its own after a semicolon; empty when nothing to say."""
        ...
