"""The calendars the contract suite runs against, one small class per kind that can be a target.

Each backend knows three things and nothing about liftrun's adapters:

- the ``[[calendars]]`` entry that makes it the cycle's target (so the suite drives the real
  wiring, ``sync.wiring.build``, from a config, as the athlete's own runs do);
- what the athlete sees in it, read on its own terms (the files on disk, the feed parsed by
  icalendar, a plain WebDAV REPORT, the Google emulator's store);
- what the athlete can do to it by hand (move or delete an event, add one of their own), and
  whether they can at all: a capability flag with its reason, so tests skip on what a kind is
  and never on what it is called.

This module holds the contract and the two kinds on the local file system; the CalDAV and
Google backends are in ``tests/contract/remote.py``.
"""

from __future__ import annotations

import hashlib
import itertools
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import ClassVar
from zoneinfo import ZoneInfo

import icalendar

from adapters.protocol import day_start, session_id_of
from tests.ics_events import ics_event, moved_ics

BERLIN = ZoneInfo("Europe/Berlin")
TARGET = "training"  # the target's name in every backend's config, reports and store


@dataclass(frozen=True)
class Seen:
    """One of liftrun's events as the athlete's calendar app shows it."""

    session_id: str
    start: datetime
    end: datetime


class Backend(ABC):
    """One fresh, empty calendar of one kind."""

    kind: ClassVar[str]
    editable: ClassVar[bool] = True  # the athlete can move and delete liftrun's events by hand
    shared: ClassVar[bool] = True  # the athlete's own events live in the same calendar
    read_only_reason: ClassVar[str] = ""
    cost: ClassVar[int] = 1  # a cycle's price against a local vdir: the state machine's budget

    @abstractmethod
    def calendar_toml(self) -> str:
        """The ``[[calendars]]`` entry that pushes to this calendar under the name TARGET."""

    @abstractmethod
    def seen(self) -> list[Seen]:
        """liftrun's live events in the calendar; a session twice is a duplicate."""

    @abstractmethod
    def snapshot(self) -> dict[str, str]:
        """Every event of the calendar, liftrun's or not, by a stable id -> a version of it
        (bytes hashed, an ETag): equal snapshots mean nothing was written."""

    def move(self, session_id: str, delta: timedelta) -> tuple[datetime, datetime]:
        """Move a session as a calendar app does (new times, everything else kept)."""
        raise NotImplementedError(self.read_only_reason)

    def delete(self, session_id: str) -> None:
        raise NotImplementedError(self.read_only_reason)

    def add_foreign(self, start: datetime, end: datetime) -> str:
        """An event of the athlete's own in the calendar; returns its id in ``snapshot``."""
        raise NotImplementedError(self.read_only_reason)

    def times(self) -> dict[str, tuple[datetime, datetime]]:
        return {s.session_id: (s.start, s.end) for s in self.seen()}


def as_instant(value: date | datetime) -> datetime:
    """A DTSTART or DTEND as an instant; an all-day value begins where liftrun reckons it."""
    if isinstance(value, datetime):
        return value
    return day_start(value, BERLIN)


def seen_in(data: bytes) -> list[Seen]:
    """liftrun's live events in one iCalendar object (a cancelled one is not shown)."""
    out = []
    for ev in icalendar.Calendar.from_ical(data).walk("VEVENT"):
        sid = session_id_of(str(ev.get("UID", "")))
        if sid is None or str(ev.get("STATUS", "")).upper() == "CANCELLED":
            continue
        out.append(Seen(sid, as_instant(ev.decoded("DTSTART")), as_instant(ev.decoded("DTEND"))))
    return out


_foreign_ids = itertools.count()


def foreign_ics(
    start: datetime, end: datetime, title: str = "Easy run 40 min"
) -> tuple[str, bytes]:
    """An event of the athlete's own (a title liftrun might use, a UID it never would)."""
    uid = f"foreign-{next(_foreign_ids)}@example.com"
    return uid, ics_event(uid, title, start, end)


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class VdirBackend(Backend):
    """A vdir the athlete's khal or vdirsyncer edits by rewriting files."""

    kind = "vdir"

    def __init__(self, root: Path) -> None:
        self.path = root / "training"

    def calendar_toml(self) -> str:
        return f'[[calendars]]\nkind = "vdir"\nname = "{TARGET}"\npush_to = "training"\n'

    def _files(self) -> dict[Path, list[Seen]]:
        if not self.path.exists():
            return {}
        return {p: seen_in(p.read_bytes()) for p in sorted(self.path.glob("*.ics"))}

    def _file_of(self, session_id: str) -> Path:
        (path,) = [
            p for p, seen in self._files().items() if any(s.session_id == session_id for s in seen)
        ]
        return path

    def seen(self) -> list[Seen]:
        return [s for seen in self._files().values() for s in seen]

    def snapshot(self) -> dict[str, str]:
        if not self.path.exists():
            return {}
        return {p.name: digest(p.read_bytes()) for p in sorted(self.path.iterdir())}

    def move(self, session_id: str, delta: timedelta) -> tuple[datetime, datetime]:
        path = self._file_of(session_id)
        data, times = moved_ics(path.read_bytes(), delta)
        path.write_bytes(data)
        return times

    def delete(self, session_id: str) -> None:
        self._file_of(session_id).unlink()

    def add_foreign(self, start: datetime, end: datetime) -> str:
        uid, data = foreign_ics(start, end)
        self.path.mkdir(parents=True, exist_ok=True)
        (self.path / f"{uid}.ics").write_bytes(data)
        return f"{uid}.ics"


class FeedBackend(Backend):
    """The ICS feed: a file liftrun alone writes and calendar apps subscribe to."""

    kind = "ics-feed"
    editable = False
    shared = False
    read_only_reason = "a subscribed feed is read-only: the athlete cannot edit it by hand"

    def __init__(self, root: Path) -> None:
        self.path = root / "out" / "training.ics"

    def calendar_toml(self) -> str:
        return f'[[calendars]]\nkind = "ics"\nname = "{TARGET}"\npush_to = "out/training.ics"\n'

    def seen(self) -> list[Seen]:
        return seen_in(self.path.read_bytes()) if self.path.exists() else []

    def snapshot(self) -> dict[str, str]:
        return {self.path.name: digest(self.path.read_bytes())} if self.path.exists() else {}
