"""Sessions as an RFC 5545 VCALENDAR (rendered with icalendar, never by string concatenation).

Every TZID used gets a VTIMEZONE generated from the IANA database for the plan's date range only,
so the feed stays small and clients without that zone still show the right wall clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

from icalendar import Alarm, Calendar, Event, Timezone

from adapters.protocol import session_uid
from planner.model import Session

PRODID = "-//liftrun//liftrun plan//EN"


def render_calendar(
    sessions: Iterable[Session],
    *,
    timezone: str,
    stamp: datetime,
    name: str = "liftrun training",
    alarm_minutes: int | None = 30,
) -> bytes:
    items = [s for s in sessions if s.start is not None and s.end is not None]
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", timezone)
    if items:
        first: date = min(s.date for s in items) - timedelta(days=1)
        last: date = max(s.date for s in items) + timedelta(days=1)
        cal.add_component(Timezone.from_tzid(timezone, first_date=first, last_date=last))
    for s in items:
        assert s.start is not None and s.end is not None
        ev = Event()
        ev.add("uid", session_uid(s.id))
        ev.add("dtstamp", stamp)
        ev.add("dtstart", s.start)
        ev.add("dtend", s.end)
        ev.add("summary", s.title)
        why = f"Why: {s.reason}\nRules: {', '.join(s.rules)}"
        ev.add("description", f"{s.description}\n\n{why}")
        ev.add("categories", ["Lift" if s.kind.value == "lift" else "Run", s.phase.value])
        ev.add("x-liftrun-session", s.id)
        if alarm_minutes is not None:
            alarm = Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("description", s.title)
            alarm.add("trigger", timedelta(minutes=-alarm_minutes))
            ev.add_component(alarm)
        cal.add_component(ev)
    rendered: bytes = cal.to_ical()
    return rendered
