"""The ICS feed as a calendar target: the feed file is both what clients subscribe to and the
record of what liftrun published.

Reading the previous feed back gives each event's SEQUENCE, DTSTAMP, LAST-MODIFIED and the hash
of the content it was rendered from (X-LIFTRUN-HASH), so:

* an unchanged plan renders to the same bytes, and ``commit`` does not touch the file at all;
* SEQUENCE rises exactly when a session's time or content changes (RFC 5545 3.8.7.4);
* a session that leaves the plan stays as STATUS:CANCELLED with a raised SEQUENCE for
  ``cancelled_retention_days``, so clients that cached it remove it, and then disappears.

The file is replaced atomically (temp file, fsync, rename, fsync of the directory): a client
fetching mid-write sees the old feed or the new one, never half of either.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from adapters.atomic import atomic_write
from adapters.ical.render import (
    CALENDAR_END,
    EventMeta,
    event_bytes,
    new_calendar,
    timed_span,
)
from adapters.ics.feed_reader import FeedEvent, from_icalendar, read_fast
from adapters.protocol import (
    Action,
    ActionKind,
    AdapterError,
    AlreadyExists,
    NotFound,
    Outcome,
    OwnedEvent,
    PreconditionFailed,
    TargetReset,
    session_id_of,
)
from planner.model import Focus, Kind, PhaseName, Session

__all__ = ["IcsFeedTarget"]


@dataclass
class _Entry:
    session: Session
    meta: EventMeta
    raw: bytes | None = None  # the VEVENT's bytes in the previous feed, re-emitted unchanged


MINUTE = timedelta(minutes=1)
_KINDS = {"Lift": Kind.LIFT, "Run": Kind.RUN, "Race": Kind.RACE}
_FOCUS = {Kind.LIFT: Focus.FULL, Kind.RUN: Focus.EASY, Kind.RACE: Focus.RACE}


def _event_session(ev: FeedEvent, sid: str) -> Session:
    """Enough of a session to re-render a cancelled event we no longer have in the plan.

    The kind is the first category liftrun wrote (a race-week run is ``Run,Race``: a run in the
    race phase; race day itself is just ``Race``), and an all-day event stays one, so a cancelled
    race day is re-rendered with its DATE values."""
    kind = next((_KINDS[c] for c in ev.categories if c in _KINDS), Kind.RUN)
    phase = next((p for p in PhaseName if p.value.capitalize() in ev.categories), PhaseName.BASE)
    return Session(
        id=sid,
        date=ev.start.date(),
        kind=kind,
        focus=_FOCUS[kind],
        phase=phase,
        duration_minutes=int((ev.end.astimezone(UTC) - ev.start.astimezone(UTC)) // MINUTE),
        title=ev.summary,
        description=ev.description.split("\n\nWhy: ")[0],
        rules=(),
        reason="",
        start=ev.start,
        end=ev.end,
        all_day=ev.all_day,
    )


class IcsFeedTarget:
    """``CalendarTarget`` for a feed file (and its optional busy-only shadow feed)."""

    def __init__(
        self,
        path: Path,
        *,
        name: str,
        timezone: str,
        now: datetime,
        calendar_name: str = "liftrun training",
        alarm_minutes: int | None = 30,
        retention_days: int = 14,
        refresh_minutes: int = 60,
        shadow_path: Path | None = None,
    ) -> None:
        self.name = name
        self.path = path
        self.shadow_path = shadow_path
        self.timezone = timezone
        self.zone = ZoneInfo(timezone)
        self.now = now.astimezone(UTC).replace(microsecond=0)
        self.calendar_name = calendar_name
        self.alarm_minutes = alarm_minutes
        self.retention = timedelta(days=retention_days)
        self.refresh_minutes = refresh_minutes
        self._found = True  # False: no feed file (new, or lost), not events deleted by hand
        self.entries: dict[str, _Entry] = self._read()
        self.writes = 0  # files written by the last apply (0: the plan did not change)

    # -- reading back ----------------------------------------------------------------------
    def _read(self) -> dict[str, _Entry]:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            self._found = False
            return {}
        except OSError as exc:
            raise AdapterError(f"{self.name}: cannot read {self.path}: {exc.strerror}") from None
        blocks = _event_blocks(raw)
        events = read_fast(raw, blocks, self.zone)
        if events is None:  # not in the shape liftrun writes: let icalendar judge it
            import icalendar  # noqa: PLC0415 - only then: a feed liftrun wrote never needs it

            try:
                cal = icalendar.Calendar.from_ical(raw)
            except ValueError as exc:
                raise AdapterError(f"{self.name}: {self.path} is not a valid feed: {exc}") from None
            events = [from_icalendar(ev, self.zone) for ev in cal.walk("VEVENT")]
        out: dict[str, _Entry] = {}
        for ev in events:
            sid = session_id_of(ev.uid)
            if sid is None:
                continue  # not ours; a feed should hold none, and we never carry them over
            meta = EventMeta(
                sequence=ev.sequence,
                stamp=ev.stamp,
                cancelled=ev.cancelled,
                content_hash=ev.content_hash,
                cancelled_at=ev.cancelled_at,
            )
            out[sid] = _Entry(_event_session(ev, sid), meta, raw=blocks.get(ev.uid))
        return out

    def _owned(self, sid: str, entry: _Entry) -> OwnedEvent:
        s = entry.session
        assert s.start is not None and s.end is not None
        return OwnedEvent(
            session_id=sid,
            remote_id=sid,
            etag=f"{entry.meta.content_hash}-{entry.meta.sequence}",
            start=s.start,
            end=s.end,
            content_hash=entry.meta.content_hash,
            cancelled=entry.meta.cancelled,
            placed=(s.start, s.end),  # nobody edits a feed: its events are where liftrun put them
        )

    def list_owned(self, start: datetime, end: datetime) -> list[OwnedEvent]:
        if not self._found:  # nobody deletes events from a subscribed feed: the file went
            raise TargetReset(
                f"{self.path} does not exist: the sync writes it from the plan, and no session "
                "in it counts as deleted by hand"
            )
        owned = [self._owned(sid, e) for sid, e in sorted(self.entries.items())]
        return [o for o in owned if o.start < end and o.end > start]

    # -- writes ----------------------------------------------------------------------------
    def create(self, session: Session, content_hash: str) -> OwnedEvent:
        current = self.entries.get(session.id)
        if current is not None and not current.meta.cancelled:
            raise AlreadyExists(f"{self.name}: {session.id} is already in the feed")
        sequence = current.meta.sequence + 1 if current is not None else 0
        meta = EventMeta(sequence=sequence, stamp=self.now, content_hash=content_hash)
        self.entries[session.id] = _Entry(session, meta)
        return self._owned(session.id, self.entries[session.id])

    def update(self, session: Session, content_hash: str, current: OwnedEvent) -> OwnedEvent:
        entry = self.entries.get(session.id)
        if entry is None:
            raise NotFound(f"{self.name}: {session.id} is not in the feed")
        if self._owned(session.id, entry).etag != current.etag:
            raise PreconditionFailed(f"{self.name}: {session.id} changed since it was read")
        if entry.meta.content_hash == content_hash and not entry.meta.cancelled:
            return self._owned(session.id, entry)  # same content: same bytes, same SEQUENCE
        meta = EventMeta(
            sequence=entry.meta.sequence + 1, stamp=self.now, content_hash=content_hash
        )
        self.entries[session.id] = _Entry(session, meta)
        return self._owned(session.id, self.entries[session.id])

    def cancel(self, current: OwnedEvent) -> None:
        entry = self.entries.get(current.session_id)
        if entry is None:
            raise NotFound(f"{self.name}: {current.session_id} is not in the feed")
        if entry.meta.cancelled:
            return
        entry.meta = replace(
            entry.meta,
            sequence=entry.meta.sequence + 1,
            stamp=self.now,
            cancelled=True,
            cancelled_at=self.now,
        )
        entry.raw = None

    def apply(self, actions: Sequence[Action]) -> Iterator[Outcome]:
        """All actions in memory, then one atomic write of the feed: the outcomes are yielded
        only once the file holds them."""
        outcomes: list[Outcome] = []
        for action in actions:
            try:
                outcomes.append(Outcome(action, event=self._one(action)))
            except AdapterError as exc:
                outcomes.append(Outcome(action, error=exc))
        self.writes = self.commit()
        yield from outcomes

    def _one(self, action: Action) -> OwnedEvent | None:
        if action.kind is ActionKind.CANCEL:
            assert action.current is not None
            self.cancel(action.current)
            return None
        assert action.session is not None and action.content_hash is not None
        if action.kind is ActionKind.CREATE:
            return self.create(action.session, action.content_hash)
        assert action.current is not None
        return self.update(action.session, action.content_hash, action.current)

    def render(self, *, shadow: bool = False) -> bytes:
        """The feed's bytes. Unchanged events are copied byte for byte from the previous feed
        (no re-serialisation: the same plan gives the same file, and cheaply)."""
        entries = sorted(
            (e for e in self.entries.values() if not (shadow and e.meta.cancelled)),
            key=lambda e: (
                e.session.start.astimezone(UTC) if e.session.start else self.now,
                e.session.id,
            ),
        )
        first, last = timed_span(e.session for e in entries)
        cal = new_calendar(
            timezone=self.timezone,
            first=first,
            last=last,
            name=self.calendar_name,
            refresh_minutes=self.refresh_minutes,
            shadow=shadow,
        )
        shell: bytes = cal.to_ical()
        body = [
            e.raw
            if e.raw is not None and not shadow
            else event_bytes(e.session, e.meta, alarm_minutes=self.alarm_minutes, shadow=shadow)
            for e in entries
        ]
        return shell[: -len(CALENDAR_END)] + b"".join(body) + CALENDAR_END

    def commit(self) -> int:
        """Drop cancellations past retention, then write each feed whose bytes changed."""
        for sid, entry in list(self.entries.items()):
            at = entry.meta.cancelled_at
            if entry.meta.cancelled and at is not None and self.now - at >= self.retention:
                del self.entries[sid]
        writes = _write_if_changed(self.path, self.render())
        if self.shadow_path is not None:
            writes += _write_if_changed(self.shadow_path, self.render(shadow=True))
        return writes


def _event_blocks(raw: bytes) -> dict[str, bytes]:
    """Each VEVENT's exact bytes by UID (VEVENTs do not nest; a VALARM inside stays inside)."""
    out: dict[str, bytes] = {}
    pos = 0
    while (start := raw.find(b"BEGIN:VEVENT\r\n", pos)) != -1:
        stop = raw.find(b"END:VEVENT\r\n", start)
        if stop == -1:
            break
        pos = stop + len(b"END:VEVENT\r\n")
        block = raw[start:pos]
        for line in block.split(b"\r\n"):
            if line.startswith(b"UID:"):
                out[line[4:].decode()] = block
                break
    return out


def _write_if_changed(path: Path, data: bytes) -> int:
    try:
        if path.read_bytes() == data:
            return 0
    except FileNotFoundError:
        pass
    atomic_write(path, data, mode=0o644)  # a feed is meant to be served
    return 1
