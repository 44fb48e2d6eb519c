"""Sessions as an RFC 5545 VCALENDAR (rendered with icalendar, never by string concatenation).

Every TZID used gets a VTIMEZONE generated from the IANA database for the events' date range
only (RFC 5545 3.6.5), so a feed stays small and clients without that zone still show the right
wall clock. The caller decides DTSTAMP, LAST-MODIFIED and SEQUENCE: a feed copies them from its
previous version so an unchanged plan renders to the same bytes.

An all-day session (race day without ``goal.race_time``, P4) is written as DATE values:
``DTSTART;VALUE=DATE`` on its day and ``DTEND;VALUE=DATE`` on the next, the exclusive end of
RFC 5545 3.6.1, so every client shows one day whatever its own zone and however long the local
day is (23 hours on a spring-forward Sunday). DATE values use no TZID, so an all-day event needs
no VTIMEZONE; a calendar of all-day events only gets none (:func:`timed_span`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import quote

from adapters.protocol import placed_value, session_uid
from planner.model import Kind, Session

if TYPE_CHECKING:
    from icalendar import Calendar

KIND_CATEGORY = {Kind.LIFT: "Lift", Kind.RUN: "Run", Kind.RACE: "Race"}

PRODID = "-//liftrun//liftrun//EN"
SHADOW_TITLE = "Training"
LINK_LINE = "Open in liftrun: "  # the description's last line, before the session's link
_URI_SAFE = ":/?#[]@!$&'()*+,;=%-._~"  # RFC 3986's reserved and unreserved marks
CALENDAR_END = b"END:VCALENDAR\r\n"
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
    """The prescription, then why the session exists, with its rule ids, and last the link to
    the session's page where it has one (many phone apps show a description, few the URL).

    Only what the plan decides goes in: the placement's own account ("kept at", "moved from")
    changes from one sync to the next and would raise SEQUENCE with nothing new to show. The
    link is in because the content hash covers the description
    (:func:`adapters.protocol.content_hash`): a new link (a rotated page secret, a new public
    URL) updates every event, and a session without one hashes as it always did.
    """
    rules = ", ".join(session.rules)
    lines = [session.description, "", f"Why: {session.reason}", f"Rules: {rules}"]
    if session.link:
        lines += ["", f"{LINK_LINE}{session.link}"]
    return "\n".join(lines)


def uri(link: str) -> str:
    """``link`` as a URI value (RFC 5545 3.3.13), which is not escaped like TEXT: anything
    outside RFC 3986's characters (a space, a control character that came in with the
    configured public URL) is percent-encoded, so it can neither end the content line nor
    start another property."""
    return quote(link, safe=_URI_SAFE)


def _fold(line: bytes) -> bytes:
    """RFC 5545 3.1 folding: at most 75 octets per line, continuation lines start with a space;
    never inside a UTF-8 sequence and never right after a backslash (icalendar's rule, for
    clients that mis-read a split escape)."""
    if len(line) <= 75:
        return line + b"\r\n"
    out: list[bytes] = []
    limit = 75
    while len(line) > limit:
        cut = limit
        while cut > 1 and (0x80 <= line[cut] < 0xC0 or line[cut - 1 : cut] == b"\\"):
            cut -= 1
        out.append(line[:cut])
        line = line[cut:]
        limit = 74  # the leading space counts
    out.append(line)
    return b"\r\n ".join(out) + b"\r\n"


def _text(value: str) -> bytes:
    """A TEXT value escaped as RFC 5545 3.3.11 says (icalendar's own encoder).

    icalendar is imported where an event or a calendar is rendered, never at the top: every
    sync cycle imports this module for :func:`description` (the content hash), and a cycle that
    changes nothing renders nothing, so it need not load icalendar (``bench_startup.py``)."""
    from icalendar import vText  # noqa: PLC0415

    encoded: bytes = vText(value).to_ical()
    return encoded


def _before(minutes: int) -> bytes:
    """A negative DURATION (RFC 5545 3.3.6) for an alarm ``minutes`` before the start."""
    if minutes == 0:
        return b"PT0S"
    hours, rest = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    date_part = f"{days}D" if days else ""
    time_part = (f"{hours}H" if hours else "") + (f"{rest}M" if rest else "")
    return f"-P{date_part}{'T' + time_part if time_part else ''}".encode()


def _utc(instant: datetime) -> bytes:
    return instant.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ").encode()


def _local(name: bytes, instant: datetime) -> bytes:
    zone = instant.tzinfo
    key = getattr(zone, "key", None)
    if key is None:
        return name + b":" + _utc(instant)
    return b"%s;TZID=%s:%s" % (name, key.encode(), instant.strftime("%Y%m%dT%H%M%S").encode())


def all_day_dates(session: Session) -> tuple[date, date]:
    """An all-day session's first day and the day after its last (RFC 5545's exclusive DTEND):
    the local dates of its start and end, which are local midnights in the plan's zone
    (``planner.race``). The dates are those of the times themselves, not ``session.date``, so a
    race the athlete dragged to another day (a pin) is written on the day they chose."""
    assert session.start is not None and session.end is not None
    first = session.start.date()
    # the day of the last instant covered, reckoned in UTC: wall-clock arithmetic would step
    # back into a gap where a DST switch falls at midnight
    last_instant = session.end.astimezone(UTC) - timedelta(microseconds=1)
    last = last_instant.astimezone(session.start.tzinfo).date()
    return first, max(last, first) + timedelta(days=1)


def category_names(session: Session) -> list[str]:
    """CATEGORIES: the kind (Lift, Run, Race), then the phase, once each (race day's phase is
    "race" too, so it is just ``Race``)."""
    names = [KIND_CATEGORY[session.kind], session.phase.value.capitalize()]
    return list(dict.fromkeys(names))


def timed_span(sessions: Iterable[Session]) -> tuple[date | None, date | None]:
    """The first and last day of the timed sessions: the range a VTIMEZONE must cover. All-day
    events are left out (DATE values carry no TZID)."""
    days = [s.date for s in sessions if not s.all_day]
    return (min(days), max(days)) if days else (None, None)


def event_bytes(
    session: Session,
    meta: EventMeta,
    *,
    alarm_minutes: int | None = 30,
    shadow: bool = False,
) -> bytes:
    """One VEVENT's content lines; ``shadow`` keeps only the time ("Training").

    Values are encoded by icalendar's value types; the lines are assembled and folded here
    because icalendar's generic serialiser costs about 0.3 ms an event, too slow for a year's
    feed in the 50 ms budget. ``tests/adapters/test_ics_feed.py`` checks the result against an
    icalendar-built event, property by property, and with three independent parsers.

    An all-day session (race day, P4) gets DATE values with the exclusive end (see the module
    docstring) and is **OPAQUE** like every session: race day is the one day the athlete is
    certainly not free, and the P4 rule keeps everything else off it, so a calendar that reads
    liftrun's events as busy time (the shadow feed exists for exactly that, and liftrun's own
    busy reader skips TRANSPARENT events) must see the day as busy. It gets no VALARM: an alarm
    ``alarm_minutes`` before an all-day event would ring at 23:30 on the eve of the race, and
    clients disagree on what a trigger relative to a DATE start means. X-LIFTRUN-PLACED still
    holds the exact instants (the local midnights), which is what a read-back gets from the
    DATE values (``adapters.protocol.day_start``), so an untouched race day never looks moved.
    """
    assert session.start is not None and session.end is not None
    stamp = _utc(meta.stamp or _EPOCH)
    if shadow:  # an opaque UID: the session id would tell colleagues what the time is for
        uid = session_uid(f"busy-{hashlib.sha256(session.id.encode()).hexdigest()[:24]}")
    else:
        uid = session_uid(session.id)
    lines = [
        b"BEGIN:VEVENT",
        b"UID:" + _text(uid),
        b"DTSTAMP:" + stamp,
        b"LAST-MODIFIED:" + stamp,
        b"SEQUENCE:%d" % meta.sequence,
        *_times(session),
        b"SUMMARY:" + _text(SHADOW_TITLE if shadow else session.title),
        b"TRANSP:OPAQUE",
        b"STATUS:" + (b"CANCELLED" if meta.cancelled else b"CONFIRMED"),
    ]
    if not shadow:
        lines.append(b"DESCRIPTION:" + _text(description(session)))
        lines.append(b"CATEGORIES:" + b",".join(_text(c) for c in category_names(session)))
        if session.link:  # RFC 5545 3.8.4.6; the shadow never links: it names no session
            lines.append(b"URL;VALUE=URI:" + uri(session.link).encode("ascii"))
        lines.append(b"X-LIFTRUN-SESSION:" + _text(session.id))
        lines.append(b"X-LIFTRUN-PLACED:" + placed_value(session.start, session.end).encode())
        if meta.content_hash:
            lines.append(b"X-LIFTRUN-HASH:" + _text(meta.content_hash))
        if meta.cancelled_at is not None:
            lines.append(b"X-LIFTRUN-CANCELLED-AT:" + _utc(meta.cancelled_at))
        if alarm_minutes is not None and not meta.cancelled and not session.all_day:
            trigger = _before(alarm_minutes)
            lines += [
                b"BEGIN:VALARM",
                b"ACTION:DISPLAY",
                b"DESCRIPTION:" + _text(session.title),
                b"TRIGGER:" + trigger,
                b"END:VALARM",
            ]
    lines.append(b"END:VEVENT")
    return b"".join(_fold(line) for line in lines)


def _times(session: Session) -> list[bytes]:
    assert session.start is not None and session.end is not None
    if session.all_day:
        first, after = all_day_dates(session)
        return [
            b"DTSTART;VALUE=DATE:" + first.strftime("%Y%m%d").encode(),
            b"DTEND;VALUE=DATE:" + after.strftime("%Y%m%d").encode(),
        ]
    return [_local(b"DTSTART", session.start), _local(b"DTEND", session.end)]


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
    from icalendar import Calendar, Timezone, vDuration  # noqa: PLC0415 (see _text)

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
    first, last = timed_span(s for s, _ in items)
    cal = new_calendar(
        timezone=timezone,
        first=first,
        last=last,
        name=name,
        refresh_minutes=refresh_minutes,
        shadow=shadow,
    )
    shell: bytes = cal.to_ical()
    body = b"".join(
        event_bytes(session, meta, alarm_minutes=alarm_minutes, shadow=shadow)
        for session, meta in items
    )
    return shell[: -len(CALENDAR_END)] + body + CALENDAR_END


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
