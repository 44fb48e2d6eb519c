"""The one contract every calendar integration keeps (ICS now; CalDAV and Google implement it too).

Two roles, because a calendar can be both: a ``BusySource`` yields busy time, a ``CalendarTarget``
holds the events liftrun owns. Targets follow vdirsyncer's storage contract: list what we own
with a version (``etag``), then create, update and delete with preconditions, failing with a few
typed errors. Writes are idempotent by construction: a create names its own id (the session's
UID), so replaying it after a crash finds ``AlreadyExists`` instead of making a duplicate.

The sync engine talks to adapters only through this module and never asks which kind it holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from adapters.ics_busy import BusyRead
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


class PreconditionFailed(AdapterError):
    """The event changed since it was read (ETag mismatch, HTTP 412): re-read, let the engine
    decide; it may be the athlete's own move."""


@dataclass(frozen=True)
class OwnedEvent:
    """An event liftrun created, as read back from a target."""

    session_id: str
    remote_id: str  # CalDAV href, Google event id, the UID in a feed
    etag: str | None
    start: datetime
    end: datetime
    content_hash: str | None  # what liftrun wrote, kept in the event (X-LIFTRUN-HASH)
    cancelled: bool = False


@dataclass(frozen=True)
class SourceRead:
    """Busy time from one source, and whether it is fresh or the last good copy."""

    name: str
    busy: BusyRead
    fresh: bool = True
    error: str | None = None  # set when the source failed and the last good copy was used


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
        """Every event liftrun owns in this calendar overlapping ``[start, end)``."""
        ...

    def create(self, session: Session, content_hash: str) -> OwnedEvent:
        """Create the session's event; ``AlreadyExists`` if its UID is already there."""
        ...

    def update(self, session: Session, content_hash: str, current: OwnedEvent) -> OwnedEvent:
        """Replace the event if it is still ``current`` (If-Match), else ``PreconditionFailed``."""
        ...

    def cancel(self, current: OwnedEvent) -> None:
        """Remove the event (a feed keeps it as STATUS:CANCELLED for a while)."""
        ...

    def commit(self) -> int:
        """Make the writes durable (a feed writes its file once, atomically); returns how many
        remote writes that took (0 when nothing changed)."""
        ...
