"""Sessions as an RFC 5545 VCALENDAR (rendered with icalendar, never by string concatenation).

Every TZID used gets a VTIMEZONE generated from the IANA database for the events' date range
only (RFC 5545 3.6.5), so a feed stays small and clients without that zone still show the right
wall clock. The caller decides DTSTAMP, LAST-MODIFIED and SEQUENCE: a feed copies them from its
previous version so an unchanged plan renders to the same bytes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from icalendar import Alarm, Calendar, Event, Timezone, vDuration

from adapters.protocol import session_uid
from planner.model import Kind, Session

PRODID = "-//liftrun//liftrun//EN"
SHADOW_TITLE = "Training"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class EventMeta:
    """What a calendar client uses to decide that an event changed (RFC 5545 3.8.7)."""

    sequence: int = 0
    stamp: datetime | None = None  # DTSTAMP and LAST-MODIFIED; required, supplied by the caller
    cancelled: bool = False
    content_hash: str = ""
    cancelled_at: datetime | None = None


def description(session: Session) -> str:
    """The prescription, then why the session exists, with its rule ids.

    Only what the plan decides goes in: the placement's own account ("kept at", "moved from")
    changes from one sync to the next and would raise SEQUENCE with nothing new to show.
    """
    rules = ", ".join(session.rules)
    return "\n".join([session.description, "", f"Why: {session.reason}", f"Rules: {rules}"])


def build_event(
    session: Session,
    meta: EventMeta,
    *,
    alarm_minutes: int | None = 30,
    shadow: bool = False,
) -> Event:
    """One VEVENT; ``shadow`` keeps only the time ("Training"), for sharing with colleagues."""
    assert session.start is not None and session.end is not None
    stamp = (meta.stamp or _EPOCH).astimezone(UTC)
    ev = Event()
    if shadow:  # an opaque UID: the session id would tell colleagues what the time is for
        digest = hashlib.sha256(session.id.encode()).hexdigest()[:24]
        ev.add("uid", session_uid(f"busy-{digest}"))
    else:
        ev.add("uid", session_uid(session.id))
    ev.add("dtstamp", stamp)
    ev.add("last-modified", stamp)
    ev.add("sequence", meta.sequence)
    ev.add("dtstart", session.start)
    ev.add("dtend", session.end)
    ev.add("summary", SHADOW_TITLE if shadow else session.title)
    ev.add("transp", "OPAQUE")
    if meta.cancelled:
        ev.add("status", "CANCELLED")
    else:
        ev.add("status", "CONFIRMED")
    if not shadow:
        ev.add("description", description(session))
        kind = "Lift" if session.kind is Kind.LIFT else "Run"
        ev.add("categories", [kind, session.phase.value.capitalize()])
        ev.add("x-liftrun-session", session.id)
        if meta.content_hash:
            ev.add("x-liftrun-hash", meta.content_hash)
        if meta.cancelled_at is not None:
            ev.add(
                "x-liftrun-cancelled-at",
                meta.cancelled_at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ"),
            )
        if alarm_minutes is not None and not meta.cancelled:
            alarm = Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("description", session.title)
            alarm.add("trigger", timedelta(minutes=-alarm_minutes))
            ev.add_component(alarm)
    return ev


def new_calendar(
    *,
    timezone: str,
    first: date | None,
    last: date | None,
    name: str = "liftrun training",
    refresh_minutes: int = 60,
    shadow: bool = False,
) -> Calendar:
    """The VCALENDAR shell: properties, refresh hints and one VTIMEZONE for ``[first, last]``."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", f"{name} (busy)" if shadow else name)
    cal.add("x-wr-timezone", timezone)
    refresh = vDuration(timedelta(minutes=refresh_minutes))
    cal.add("refresh-interval", refresh, parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", refresh)
    if first is not None and last is not None:
        cal.add_component(
            Timezone.from_tzid(
                timezone, first_date=first - timedelta(days=1), last_date=last + timedelta(days=1)
            )
        )
    return cal


def build_calendar(
    events: Iterable[tuple[Session, EventMeta]],
    *,
    timezone: str,
    name: str = "liftrun training",
    refresh_minutes: int = 60,
    alarm_minutes: int | None = 30,
    shadow: bool = False,
) -> bytes:
    items = sorted(
        ((s, m) for s, m in events if s.start is not None),
        key=lambda sm: (sm[0].start.astimezone(UTC) if sm[0].start else _EPOCH, sm[0].id),
    )
    cal = new_calendar(
        timezone=timezone,
        first=min((s.date for s, _ in items), default=None),
        last=max((s.date for s, _ in items), default=None),
        name=name,
        refresh_minutes=refresh_minutes,
        shadow=shadow,
    )
    for session, meta in items:
        cal.add_component(build_event(session, meta, alarm_minutes=alarm_minutes, shadow=shadow))
    rendered: bytes = cal.to_ical()
    return rendered


def render_calendar(
    sessions: Iterable[Session],
    *,
    timezone: str,
    stamp: datetime,
    name: str = "liftrun training",
    alarm_minutes: int | None = 30,
) -> bytes:
    """A one-off calendar of ``sessions`` (``liftrun plan --format ics``): all stamped ``stamp``."""
    meta = EventMeta(stamp=stamp)
    return build_calendar(
        ((s, meta) for s in sessions), timezone=timezone, name=name, alarm_minutes=alarm_minutes
    )
