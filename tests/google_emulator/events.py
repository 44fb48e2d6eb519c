"""Event mutations with Google's validation rules and bookkeeping.

The rules that bite sync adapters live here: client-chosen ids must be base32hex and are never
reusable (even after deletion), deletion is a state change to ``cancelled`` rather than removal,
a second delete is 410, ``sequence`` may not go backwards, and every change gets a new etag.
An event's ``source`` is stored as given (a patch merges it, a null removes it), its URL http(s)
only.
"""

from __future__ import annotations

import copy
import re
from typing import Any
from urllib.parse import urlsplit

from tests.google_emulator import recurrence, schema
from tests.google_emulator.errors import ApiError, Json, bad_request, not_found
from tests.google_emulator.store import Calendar, Store, StoredEvent, new_event_id
from tests.google_emulator.timeutil import instant, is_all_day, normalize_when

_ID = re.compile(r"^[a-v0-9]{5,1024}$")
# Output-only fields: Google ignores them in request bodies rather than rejecting them.
_READ_ONLY = {"kind", "etag", "htmlLink", "created", "updated", "creator", "organizer"}
_ENUMS = {
    "status": {"confirmed", "tentative", "cancelled"},
    "transparency": {"opaque", "transparent"},
    "visibility": {"default", "public", "private", "confidential"},
}
# Google's documented limits for extended properties.
_MAX_KEY, _MAX_VALUE = 44, 1024
_TIME_FIELDS = ("start", "end", "recurrence")


def _check_fields(body: Json) -> None:
    for name, allowed in _ENUMS.items():
        if body.get(name) is not None and body[name] not in allowed:
            raise ApiError(400, "invalid", f"Invalid value for: {name}", location=name)
    url = (body.get("source") or {}).get("url")
    if url is not None and urlsplit(str(url)).scheme.lower() not in ("http", "https"):
        # "The URL scheme must be HTTP or HTTPS" (the Event resource's source.url)
        raise bad_request("Invalid source URL.", location="source.url")
    props = body.get("extendedProperties") or {}
    for scope in ("private", "shared"):
        for key, value in (props.get(scope) or {}).items():
            if len(key) > _MAX_KEY or (value is not None and len(value) > _MAX_VALUE):
                raise bad_request(f"Invalid extended property {key!r}: too long.")


def _check_times(event: Json, calendar_tz: str) -> None:
    recurring = bool(event.get("recurrence"))
    if event.get("start") is None:
        raise ApiError(400, "required", "Missing start time.", location="start")
    if event.get("end") is None:
        raise ApiError(400, "required", "Missing end time.", location="end")
    event["start"] = normalize_when(event["start"], "start", calendar_tz, recurring=recurring)
    event["end"] = normalize_when(event["end"], "end", calendar_tz, recurring=recurring)
    if is_all_day(event["start"]) != is_all_day(event["end"]):
        raise bad_request("Start and end times must either both be date or both be dateTime.")
    begin, finish = instant(event["start"], calendar_tz), instant(event["end"], calendar_tz)
    if finish < begin or (finish == begin and is_all_day(event["start"])):
        raise ApiError(
            400, "timeRangeEmpty", "The specified time range is empty.", domain="calendar"
        )
    if recurring:
        recurrence.validate(event, calendar_tz)


def _clean(body: Json) -> Json:
    """Drop read-only and null fields from a request body (null means 'unset')."""
    return {k: copy.deepcopy(v) for k, v in body.items() if k not in _READ_ONLY and v is not None}


def _find(calendar: Calendar, event_id: str) -> StoredEvent:
    stored = calendar.events.get(event_id)
    if stored is None:
        raise not_found()
    return stored


def check_if_match(stored: StoredEvent, if_match: str | None) -> None:
    if if_match is not None and if_match.strip() not in ("*", stored.resource["etag"]):
        raise ApiError(
            412,
            "conditionNotMet",
            "Precondition Failed",
            location="If-Match",
            location_type="header",
        )


def insert(store: Store, calendar: Calendar, body: Any) -> Json:
    body = schema.validate(body, "Event")
    _check_fields(body)
    event = _clean(body)
    event_id = str(event.get("id") or new_event_id())
    if not _ID.match(event_id):
        raise bad_request("Invalid resource id value.")
    if event_id in calendar.events:
        raise ApiError(409, "duplicate", "The requested identifier already exists.")
    tz = str(calendar.resource["timeZone"])
    _check_times(event, tz)
    now = store.now_text()
    owner = {"email": store.primary_id}
    organizer: Json = {"email": calendar.id, "self": True}
    if not calendar.primary:
        organizer["displayName"] = calendar.resource["summary"]
    event.update(
        {
            "kind": "calendar#event",
            "id": event_id,
            "status": event.get("status", "confirmed"),
            "htmlLink": f"https://www.google.com/calendar/event?eid={event_id}",
            "created": now,
            "creator": owner if not calendar.primary else {**owner, "self": True},
            "organizer": organizer,
            "iCalUID": event.get("iCalUID") or f"{event_id}@google.com",
            "sequence": int(event.get("sequence", 0)),
            "reminders": event.get("reminders", {"useDefault": True}),
            "eventType": event.get("eventType", "default"),
        }
    )
    return store.put_event(calendar, event).resource


def get(calendar: Calendar, event_id: str) -> Json:
    return _find(calendar, event_id).resource


def _merge(target: Json, patch: Json) -> None:
    """Patch semantics: objects are merged field by field, a null removes the field. ``start``
    and ``end`` too, as Google does: patching an all-day event with only a ``dateTime`` leaves
    its ``date`` in place, and the result (both set) is refused with 400; the client has to send
    ``"date": null`` (and the reverse for a timed event made all-day)."""
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif key == "originalStartTime" or not isinstance(value, dict):
            target[key] = copy.deepcopy(value)
        else:
            existing = target.get(key)
            if not isinstance(existing, dict):
                existing = {}
                target[key] = existing
            _merge(existing, value)


def _commit(store: Store, calendar: Calendar, old: Json, new: Json, body: Json) -> Json:
    if body.get("iCalUID") not in (None, old["iCalUID"]):
        raise bad_request("Cannot change the iCalUID of an event.")
    new["id"], new["kind"] = old["id"], "calendar#event"
    for keep in ("created", "creator", "organizer", "htmlLink", "iCalUID"):
        new[keep] = old[keep]
    _check_fields(new)
    _check_times(new, str(calendar.resource["timeZone"]))
    current = int(old.get("sequence", 0))
    if body.get("sequence") is not None:
        asked = int(body["sequence"])
        if asked < current:
            raise bad_request(
                "Invalid sequence value. The specified sequence number is below the current "
                "sequence number of the resource.",
            )
        new["sequence"] = asked
    else:
        changed = any(new.get(f) != old.get(f) for f in _TIME_FIELDS)
        new["sequence"] = current + 1 if changed else current
    return store.put_event(calendar, new).resource


def patch(store: Store, calendar: Calendar, event_id: str, body: Any, if_match: str | None) -> Json:
    stored = _find(calendar, event_id)
    check_if_match(stored, if_match)
    body = schema.validate(body, "Event")
    if body.get("id") not in (None, event_id):
        raise bad_request("Invalid resource id value.")
    new = copy.deepcopy(stored.resource)
    _merge(new, {k: v for k, v in body.items() if k not in _READ_ONLY})
    return _commit(store, calendar, stored.resource, new, body)


def update(
    store: Store, calendar: Calendar, event_id: str, body: Any, if_match: str | None
) -> Json:
    stored = _find(calendar, event_id)
    check_if_match(stored, if_match)
    body = schema.validate(body, "Event")
    if body.get("id") not in (None, event_id):
        raise bad_request("Invalid resource id value.")
    new = _clean(body)
    new.setdefault("status", "confirmed")
    new.setdefault("reminders", {"useDefault": True})
    new.setdefault("eventType", stored.resource.get("eventType", "default"))
    return _commit(store, calendar, stored.resource, new, body)


def delete(store: Store, calendar: Calendar, event_id: str, if_match: str | None) -> None:
    stored = _find(calendar, event_id)
    if stored.resource.get("status") == "cancelled":
        raise ApiError(410, "deleted", "Resource has been deleted")
    check_if_match(stored, if_match)
    gone = copy.deepcopy(stored.resource)
    gone["status"] = "cancelled"
    store.put_event(calendar, gone)
