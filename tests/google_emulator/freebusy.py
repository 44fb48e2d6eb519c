"""freebusy.query with Google's limits.

Limits (documented in Google's reference and observed from the live API):

* at most 50 entries in ``items`` (``calendarExpansionMax`` caps at 50) — more is a request-level
  400 with reason ``tooManyCalendarsRequested``;
* ``timeMax`` must be after ``timeMin`` (400 ``timeRangeEmpty``);
* the window may span at most 90 days (400 ``timeRangeTooLong``, "The requested time range is too
  long.");
* an unknown calendar does not fail the request: its entry carries
  ``errors: [{"domain": "global", "reason": "notFound"}]`` and an empty ``busy`` list.

Cancelled and ``transparent`` events are free time; busy blocks are clipped to the window and
overlapping blocks merged, so adapters cannot rely on one block per event.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tests.google_emulator import recurrence
from tests.google_emulator.errors import ApiError, Json, bad_request, required
from tests.google_emulator.listing import overlaps
from tests.google_emulator.store import Store
from tests.google_emulator.timeutil import format_utc, format_zoned, instant, parse_datetime, zone

MAX_CALENDARS = 50
MAX_RANGE = timedelta(days=90)


def _busy(
    store: Store, cal_id: str, low: datetime, high: datetime
) -> list[tuple[datetime, datetime]]:
    calendar = store.calendar(cal_id)
    tz = str(calendar.resource["timeZone"])
    blocks = []
    for stored in calendar.events.values():
        event = stored.resource
        if event.get("status") == "cancelled" or event.get("transparency") == "transparent":
            continue
        pieces = recurrence.instances(event, tz, low, high) if event.get("recurrence") else [event]
        for piece in pieces:
            if overlaps(piece, tz, low, high):
                begin = max(instant(piece["start"], tz), low)
                finish = min(instant(piece["end"], tz), high)
                if finish > begin:
                    blocks.append((begin, finish))
    blocks.sort()
    merged: list[tuple[datetime, datetime]] = []
    for begin, finish in blocks:
        if merged and begin <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], finish))
        else:
            merged.append((begin, finish))
    return merged


def query(store: Store, body: Any) -> Json:
    if not isinstance(body, dict):
        raise ApiError(400, "parseError", "Parse Error")
    if not body.get("timeMin"):
        raise required("Missing timeMin parameter.", "timeMin")
    if not body.get("timeMax"):
        raise required("Missing timeMax parameter.", "timeMax")
    low = parse_datetime(str(body["timeMin"]), need_offset=True)
    high = parse_datetime(str(body["timeMax"]), need_offset=True)
    if high <= low:
        raise ApiError(
            400, "timeRangeEmpty", "The specified time range is empty.", domain="calendar"
        )
    if high - low > MAX_RANGE:
        raise ApiError(
            400, "timeRangeTooLong", "The requested time range is too long.", domain="calendar"
        )
    items = body.get("items") or []
    if len(items) > MAX_CALENDARS:
        raise ApiError(
            400,
            "tooManyCalendarsRequested",
            "The number of calendars requested is too large for a single query.",
            domain="calendar",
        )
    out_tz = zone(str(body.get("timeZone") or "UTC"))
    calendars: Json = {}
    for item in items:
        if not isinstance(item, dict) or not item.get("id"):
            raise bad_request("Invalid value for: items")
        cal_id = str(item["id"])
        try:
            busy = _busy(store, cal_id, low, high)
        except ApiError:
            calendars[cal_id] = {"errors": [{"domain": "global", "reason": "notFound"}], "busy": []}
            continue
        calendars[cal_id] = {
            "busy": [
                {
                    "start": format_zoned(b.astimezone(out_tz)),
                    "end": format_zoned(e.astimezone(out_tz)),
                }
                for b, e in busy
            ]
        }
    return {
        "kind": "calendar#freeBusy",
        "timeMin": format_utc(low),
        "timeMax": format_utc(high),
        "calendars": calendars,
    }
