"""A vdir (vdirsyncer's storage format, read by khal) as a calendar target and a busy source.

A vdir is a directory with one ``.ics`` file per event (https://vdirsyncer.pimutils.org/en/
stable/vdir.html). Each file is its own item with its own version, so this target behaves like
CalDAV without the network: the file name is the ``remote_id``, a hash of the file's bytes is
the etag, and every action is one file operation, made durable before its outcome is yielded.

Everything another program wrote is left alone: an event is liftrun's only when its UID is in
liftrun's namespace *and* it carries the matching ``X-LIFTRUN-SESSION``. Files are replaced
atomically by ``adapters.atomic`` (temp file in the same directory, fsync, link or rename, fsync
of the directory), so khal and vdirsyncer see the old file or the new one. The temp files start
with a dot and end in ``.tmp``, which the spec tells every reader of a vdir to ignore.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import icalendar

from adapters.atomic import atomic_write, fsync_dir
from adapters.ical.busy import MAX_CALENDAR_BYTES, IcsParseError, read_busy
from adapters.ical.render import CALENDAR_END, EventMeta, event_bytes, new_calendar
from adapters.protocol import (
    UID_DOMAIN,
    Action,
    ActionKind,
    AdapterError,
    AlreadyExists,
    BusyRead,
    NotCreatedYet,
    NotFound,
    Outcome,
    OwnedEvent,
    PreconditionFailed,
    SourceRead,
    SourceUnavailable,
    day_start,
    parse_placed,
    session_id_of,
    session_uid,
)
from config.files import FileRefused, read_regular_file
from planner.busy import BusyInterval
from planner.model import Session

__all__ = ["VdirSource", "VdirTarget", "file_etag", "file_name"]

log = logging.getLogger(__name__)

EXTENSION = ".ics"
# vdirsyncer's SAFE_UID_CHARS: a UID made only of these is used as the file name unchanged, so
# liftrun and vdirsyncer name the same event's file alike.
_SAFE_UID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-+@")
_MAX_NAME = 255  # bytes in a file name on every common file system
# Properties new_calendar adds for feed subscribers; in a vdir item they mean nothing, and
# METHOD would make some readers treat the file as an iTIP message.
_FEED_ONLY = ("METHOD", "X-WR-CALNAME", "X-WR-TIMEZONE", "REFRESH-INTERVAL", "X-PUBLISHED-TTL")
_OUR_UID = re.compile(
    rb"^UID[;:][^\r\n]*@" + re.escape(UID_DOMAIN.encode()) + rb"[ \t]*\r?$",
    re.IGNORECASE | re.MULTILINE,
)
_UNFOLD = re.compile(rb"\r?\n[ \t]")


def file_name(uid: str) -> str:
    """The file an event with ``uid`` lives in: a function of the UID alone, so a replayed
    create finds the file its first attempt made. vdirsyncer's rule for safe UIDs; anything
    else (or too long) gets a hash instead of vdirsyncer's random name."""
    name = uid + EXTENSION
    safe = bool(uid) and not uid.startswith(".") and set(uid) <= _SAFE_UID_CHARS
    if safe and len(name.encode()) <= _MAX_NAME:
        return name
    return hashlib.sha256(uid.encode()).hexdigest() + EXTENSION


def file_etag(data: bytes) -> str:
    """A hash of the bytes, not mtime and size: a rewrite within the same clock tick (or of the
    same length) must still change the etag."""
    return hashlib.sha256(data).hexdigest()


def _is_item(name: str) -> bool:
    return name.endswith(EXTENSION) and not name.startswith(".")


def _mentions_our_uid(data: bytes) -> bool:
    """A cheap look, without parsing, for a UID of liftrun's: decides whether a file that does
    not parse is someone else's problem or stops the sync."""
    return _OUR_UID.search(_UNFOLD.sub(b"", data)) is not None


def _is_ours(ev: Any) -> bool:
    """Both marks, because either alone can be copied or coincide: a foreign event is never
    touched."""
    sid = session_id_of(_text(ev.get("UID")))
    return sid is not None and _text(ev.get("X-LIFTRUN-SESSION")) == sid


def _text(value: Any) -> str:
    if isinstance(value, list):
        return _text(value[0]) if value else ""
    return "" if value is None else str(value)


@dataclass(frozen=True)
class _Item:
    """One of liftrun's files as read back: what list_owned reports plus the SEQUENCE."""

    event: OwnedEvent
    sequence: int


class VdirTarget:
    """``CalendarTarget`` for a vdir: one file per session, named after its UID."""

    name: str

    def __init__(
        self,
        path: Path,
        *,
        name: str,
        timezone: str,
        now: datetime,
        alarm_minutes: int | None = 30,
        create_missing: bool = True,
    ) -> None:
        self.name = name
        self.path = path
        self.timezone = timezone
        self.zone = ZoneInfo(timezone)
        self.now = now.astimezone(UTC).replace(microsecond=0)
        self.alarm_minutes = alarm_minutes
        self.create_missing = create_missing

    def __repr__(self) -> str:
        return f"VdirTarget({self.name!r}, {str(self.path)!r})"

    # -- reading ---------------------------------------------------------------------------
    def _directory(self) -> Path:
        if not self.path.exists() and not self.create_missing:
            raise NotCreatedYet(f"{self.path} does not exist yet; the first sync creates it")
        if not self.path.exists():
            try:
                self.path.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise self._error(f"cannot create {self.path}", exc) from None
        if not self.path.is_dir():
            raise AdapterError(f"{self.name}: {self.path} is not a directory")
        return self.path

    def _error(self, what: str, exc: OSError) -> AdapterError:
        return AdapterError(f"{self.name}: {what}: {exc.strerror or exc.__class__.__name__}")

    def list_owned(self, start: datetime, end: datetime) -> list[OwnedEvent]:
        """Every event liftrun owns in the vdir, whatever the window: reading a few hundred
        small files is cheap, and an event moved far away by hand is still ours to see.
        Several files holding one session (a copied file) are all returned, by file name."""
        directory = self._directory()
        try:
            names = sorted(e.name for e in os.scandir(directory) if _is_item(e.name))
        except OSError as exc:
            raise self._error(f"cannot list {directory}", exc) from None
        owned: list[OwnedEvent] = []
        for fname in names:
            path = directory / fname
            try:
                data = read_regular_file(path, MAX_CALENDAR_BYTES)
            except FileRefused as exc:
                if not path.exists() or path.is_dir():
                    continue  # deleted since the listing, or not an item after all
                raise AdapterError(f"{self.name}: cannot read {fname}: {exc.reason}") from None
            item = self._parse(fname, data)
            if item is not None:
                owned.append(item.event)
        return owned

    def _parse(self, fname: str, data: bytes) -> _Item | None:
        """The file's event if it is liftrun's, else None. A file that is liftrun's but cannot
        be read stops the sync: guessing could duplicate or lose a session."""
        try:
            cal = icalendar.Calendar.from_ical(data)
        except Exception as exc:  # icalendar raises many types on bad input
            if _mentions_our_uid(data):
                raise AdapterError(f"{self.name}: {fname} is not valid iCalendar: {exc}") from None
            log.info("%s: skipping %s, not valid iCalendar and not liftrun's", self.name, fname)
            return None
        events = cal.walk("VEVENT")
        ours = [ev for ev in events if _is_ours(ev)]
        if not ours:
            return None
        uids = {_text(ev.get("UID")) for ev in events}
        masters = [ev for ev in ours if ev.get("RECURRENCE-ID") is None]
        if len(uids) > 1 or len(masters) != 1:
            raise AdapterError(
                f"{self.name}: {fname} holds liftrun's event together with other events; "
                "liftrun will not rewrite it (a vdir item holds one event)"
            )
        ev = masters[0]
        sid = _text(ev.get("X-LIFTRUN-SESSION"))
        try:
            begin, finish = self._times(ev)
            sequence = int(_text(ev.get("SEQUENCE")) or 0)
        except (KeyError, TypeError, ValueError) as exc:
            raise AdapterError(f"{self.name}: {fname}: unusable time or SEQUENCE: {exc}") from None
        hash_value = _text(ev.get("X-LIFTRUN-HASH"))
        event = OwnedEvent(
            session_id=sid,
            remote_id=fname,
            etag=file_etag(data),
            start=begin,
            end=finish,
            content_hash=hash_value or None,
            cancelled=_text(ev.get("STATUS")).strip().upper() == "CANCELLED",
            placed=parse_placed(_text(ev.get("X-LIFTRUN-PLACED"))),
        )
        return _Item(event, sequence)

    def _times(self, ev: Any) -> tuple[datetime, datetime]:
        """Aware start and end, however a client rewrote them: TZID, UTC, floating (read in
        the athlete's zone), all day (whole local days), DTEND or DURATION."""
        start_value = ev.decoded("DTSTART")
        if "DTEND" in ev:
            end_value = ev.decoded("DTEND")
        elif "DURATION" in ev:
            end_value = start_value + ev.decoded("DURATION")
        elif isinstance(start_value, datetime):
            end_value = start_value
        else:
            end_value = start_value + timedelta(days=1)
        if not isinstance(start_value, datetime) and not isinstance(end_value, datetime):
            # some clients write an all-day event's DTEND equal to its DTSTART: one day
            end_value = max(end_value, start_value + timedelta(days=1))
        start, end = self._aware(start_value), self._aware(end_value)
        if end < start:
            raise ValueError(f"it ends ({end.isoformat()}) before it starts ({start.isoformat()})")
        return start, end

    def _aware(self, value: date) -> datetime:
        if isinstance(value, datetime):
            return value if value.tzinfo is not None else value.replace(tzinfo=self.zone)
        if isinstance(value, date):
            return day_start(value, self.zone)
        raise TypeError(f"not a date or date-time: {value!r}")

    def _read_current(self, fname: str, current: OwnedEvent) -> _Item:
        """The file an update or cancel is about, checked against the etag it was read with."""
        if fname != Path(fname).name or not _is_item(fname):
            raise NotFound(f"{self.name}: {fname!r} is not an item of this vdir")
        try:
            data = read_regular_file(self.path / fname, MAX_CALENDAR_BYTES)
        except FileRefused as exc:
            if not (self.path / fname).exists():
                raise NotFound(f"{self.name}: {fname} is gone") from None
            raise AdapterError(f"{self.name}: cannot read {fname}: {exc.reason}") from None
        if file_etag(data) != current.etag:
            raise PreconditionFailed(f"{self.name}: {fname} changed since it was read")
        item = self._parse(fname, data)
        if item is None:
            raise NotFound(f"{self.name}: {fname} no longer holds liftrun's event")
        return item

    # -- writing ---------------------------------------------------------------------------
    def render(self, session: Session, sequence: int, content_hash: str) -> bytes:
        """One vdir item: the VCALENDAR shell (without the feed's subscription properties),
        a VTIMEZONE and the VEVENT.

        The VTIMEZONE spans the year before to the year after the session, not just its day:
        khal keeps it when the athlete moves the event, and readers that trust it (or, like
        vobject, cache the first VTIMEZONE seen per TZID for every later file) would otherwise
        put a session moved across a DST switch an hour off. An all-day session (race day) has
        DATE values, which name no zone: it gets no VTIMEZONE.
        """
        year = session.date.year
        cal = new_calendar(
            timezone=self.timezone,
            first=None if session.all_day else date(year - 1, 1, 2),
            last=None if session.all_day else date(year + 1, 12, 30),
        )
        for prop in _FEED_ONLY:
            cal.pop(prop, None)
        shell: bytes = cal.to_ical()
        meta = EventMeta(sequence=sequence, stamp=self.now, content_hash=content_hash)
        body = event_bytes(session, meta, alarm_minutes=self.alarm_minutes)
        return shell[: -len(CALENDAR_END)] + body + CALENDAR_END

    def apply(self, actions: Sequence[Action]) -> Iterator[Outcome]:
        """One file operation per action, each durable before its outcome is yielded.

        The etag check and the rename are two steps: a client writing the same file between
        them is overwritten, a window no plain file system lets a vdir writer close (vdirsyncer
        has the same). A failure of the directory itself (full disk, permissions) is raised.
        """
        directory = self._directory()
        for action in actions:
            try:
                event = self._one(directory, action)
            except (AlreadyExists, PreconditionFailed, NotFound) as exc:
                yield Outcome(action, error=exc)
                continue
            except OSError as exc:
                raise self._error(f"cannot write {directory}", exc) from None
            yield Outcome(action, event=event)

    def _one(self, directory: Path, action: Action) -> OwnedEvent | None:
        if action.kind is ActionKind.CREATE:
            assert action.session is not None
            fname = file_name(session_uid(action.session.id))
            data = self.render(action.session, 0, action.content_hash or "")
            self._commit(directory, fname, data, create=True)
            return self._written(fname, data)
        assert action.current is not None
        fname = action.current.remote_id
        item = self._read_current(fname, action.current)
        if action.kind is ActionKind.CANCEL:
            try:
                (directory / fname).unlink()
            except FileNotFoundError:
                raise NotFound(f"{self.name}: {fname} is gone") from None
            fsync_dir(directory)
            return None
        assert action.session is not None
        data = self.render(action.session, item.sequence + 1, action.content_hash or "")
        self._commit(directory, fname, data, create=False)
        return self._written(fname, data)

    def _written(self, fname: str, data: bytes) -> OwnedEvent:
        item = self._parse(fname, data)
        assert item is not None  # liftrun's own rendering always carries the marker
        return item.event

    def _commit(self, directory: Path, fname: str, data: bytes, *, create: bool) -> None:
        """The atomic write, linked for a create (fails if the file exists: If-None-Match: *)
        and renamed over the file for an update."""
        try:
            atomic_write(directory / fname, data, exclusive=create)
        except FileExistsError:
            raise AlreadyExists(f"{self.name}: {fname} already exists") from None


class VdirSource:
    """``BusySource`` for a vdir: every event in it is busy time, except liftrun's own (a vdir
    that is also the target must not push its sessions off their own slots).

    A directory or file that cannot be read fails the whole read: busy time we could not see
    must never look free.
    """

    name: str

    def __init__(
        self, path: Path, *, name: str, tz: ZoneInfo, deadline_seconds: float = 60.0
    ) -> None:
        self.name = name
        self.path = path
        self._deadline_seconds = deadline_seconds
        self.tz = tz

    def __repr__(self) -> str:
        return f"VdirSource({self.name!r}, {str(self.path)!r})"

    def read_busy(self, start: datetime, end: datetime) -> SourceRead:
        """Raises ``SourceUnavailable`` for a missing or unreadable directory or any file that
        does not parse; ``ValueError`` for a naive or empty window (a programming error)."""
        try:
            names = sorted(e.name for e in os.scandir(self.path) if _is_item(e.name))
        except OSError as exc:
            reason = exc.strerror or exc.__class__.__name__
            raise SourceUnavailable(f"{self.name}: cannot list {self.path}: {reason}") from None
        intervals: dict[BusyInterval, None] = {}
        warnings: list[str] = []
        until = time.monotonic() + self._deadline_seconds
        for fname in names:
            item = self.path / fname
            try:
                data = read_regular_file(item, MAX_CALENDAR_BYTES)
            except FileRefused as exc:
                if not item.exists() or item.is_dir():
                    continue  # removed since the listing (another client's sync), or a folder
                raise SourceUnavailable(f"{self.name}: cannot read {fname}: {exc.reason}") from None
            try:
                busy = read_busy(
                    data,
                    source=f"{self.name}/{fname}",
                    tz=self.tz,
                    start=start,
                    end=end,
                    deadline=until,
                )
            except IcsParseError as exc:
                raise SourceUnavailable(str(exc)) from None
            warnings.extend(busy.warnings)
            for interval in busy.intervals:
                if session_id_of(interval.uid) is None:
                    intervals[replace(interval, source=self.name)] = None
        return SourceRead(self.name, BusyRead(tuple(sorted(intervals)), tuple(warnings)))
