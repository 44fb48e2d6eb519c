"""In-memory calendars and events with the bookkeeping Google's sync protocol depends on.

A single monotonically increasing change counter stamps every modification.  Etags, sync tokens
and "what changed since" all derive from it, so a sync token is simply "the counter when the
listing started" and an etag can never repeat.  Deleted events stay in the calendar as
``cancelled`` forever, because Google never frees an event id and reports deletions to syncs.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tests.google_emulator.errors import Json, not_found
from tests.google_emulator.timeutil import format_utc

_BASE32HEX = "0123456789abcdefghijklmnopqrstuv"


def new_event_id() -> str:
    return "".join(secrets.choice(_BASE32HEX) for _ in range(26))


@dataclass
class StoredEvent:
    resource: Json
    change: int


@dataclass
class Calendar:
    id: str
    resource: Json
    primary: bool = False
    events: dict[str, StoredEvent] = field(default_factory=dict)
    token_epoch: int = 0
    change: int = 0


class Store:
    """All emulator state; one lock because uvicorn's loop and the test thread both touch it."""

    def __init__(
        self,
        *,
        primary_id: str = "athlete@example.com",
        primary_time_zone: str = "Europe/Berlin",
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.lock = threading.RLock()
        self.clock = clock or (lambda: datetime.now(UTC))
        self._counter = 0
        self.calendars: dict[str, Calendar] = {}
        self.primary_id = primary_id
        self._add_calendar(primary_id, primary_id, primary_time_zone, primary=True)

    # -- counters -------------------------------------------------------------------------------
    def next_change(self) -> int:
        with self.lock:
            self._counter += 1
            return self._counter

    @property
    def current_change(self) -> int:
        return self._counter

    @staticmethod
    def etag(change: int) -> str:
        """Quoted like Google's (``"3181159875584000"``); derived from the change counter."""
        return f'"{3_400_000_000_000_000 + change}"'

    def now_text(self) -> str:
        return format_utc(self.clock())

    # -- calendars ------------------------------------------------------------------------------
    def _add_calendar(
        self, cal_id: str, summary: str, tz: str, *, primary: bool = False
    ) -> Calendar:
        change = self.next_change()
        resource: Json = {
            "kind": "calendar#calendar",
            "etag": self.etag(change),
            "id": cal_id,
            "summary": summary,
            "timeZone": tz,
            "conferenceProperties": {"allowedConferenceSolutionTypes": ["hangoutsMeet"]},
        }
        calendar = Calendar(id=cal_id, resource=resource, primary=primary, change=change)
        self.calendars[cal_id] = calendar
        return calendar

    def create_calendar(self, summary: str, tz: str | None = None, **extra: Any) -> Calendar:
        with self.lock:
            cal_id = f"c_{secrets.token_hex(32)}@group.calendar.google.com"
            calendar = self._add_calendar(cal_id, summary, tz or self.primary.resource["timeZone"])
            calendar.resource.update({k: v for k, v in extra.items() if v is not None})
            return calendar

    @property
    def primary(self) -> Calendar:
        return self.calendars[self.primary_id]

    def calendar(self, cal_id: str) -> Calendar:
        """Resolve ``primary`` and raise Google's 404 for unknown or deleted calendars."""
        with self.lock:
            found = self.calendars.get(self.primary_id if cal_id == "primary" else cal_id)
            if found is None:
                raise not_found()
            return found

    def delete_calendar(self, cal_id: str) -> None:
        with self.lock:
            del self.calendars[self.calendar(cal_id).id]

    # -- events ---------------------------------------------------------------------------------
    def put_event(self, calendar: Calendar, resource: Json) -> StoredEvent:
        """Store a new version of an event, stamping etag/updated from a fresh change."""
        with self.lock:
            change = self.next_change()
            resource["etag"] = self.etag(change)
            resource["updated"] = self.now_text()
            stored = StoredEvent(resource=resource, change=change)
            calendar.events[str(resource["id"])] = stored
            calendar.change = change
            return stored

    def invalidate_sync_tokens(self, cal_id: str | None = None) -> None:
        """Make every earlier sync token answer 410 fullSyncRequired, as Google does at will."""
        with self.lock:
            targets = [self.calendar(cal_id)] if cal_id else list(self.calendars.values())
            for calendar in targets:
                calendar.token_epoch += 1

    def live_events(self, cal_id: str) -> list[Json]:
        """Test helper: the non-cancelled events of a calendar as the API would return them."""
        with self.lock:
            calendar = self.calendar(cal_id)
            return [
                dict(ev.resource)
                for ev in calendar.events.values()
                if ev.resource.get("status") != "cancelled"
            ]
