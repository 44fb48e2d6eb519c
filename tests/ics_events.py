"""iCalendar events as the sync and contract tests make and change them: one of the athlete's
own (for a busy calendar or beside liftrun's sessions; its UID is never one liftrun would use),
and a session moved as a calendar client moves it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import icalendar


def ics_event(uid: str, title: str, start: datetime, end: datetime) -> bytes:
    cal = icalendar.Calendar()
    cal.add("prodid", "-//tests//EN")
    cal.add("version", "2.0")
    ev = icalendar.Event()
    ev.add("uid", uid)
    ev.add("dtstamp", datetime(2026, 12, 1, tzinfo=UTC))
    ev.add("dtstart", start)
    ev.add("dtend", end)
    ev.add("summary", title)
    cal.add_component(ev)
    data: bytes = cal.to_ical()
    return data


def moved_ics(data: bytes, delta: timedelta) -> tuple[bytes, tuple[datetime, datetime]]:
    """``data`` with its event moved by ``delta``, SEQUENCE bumped, X- properties kept."""
    cal = icalendar.Calendar.from_ical(data)
    start = end = datetime.min.replace(tzinfo=UTC)
    for ev in cal.walk("VEVENT"):
        start, end = ev.decoded("DTSTART") + delta, ev.decoded("DTEND") + delta
        del ev["DTSTART"]
        del ev["DTEND"]
        ev.add("DTSTART", start)
        ev.add("DTEND", end)
        ev["SEQUENCE"] = int(ev.get("SEQUENCE", 0)) + 1
    return cal.to_ical(), (start, end)
