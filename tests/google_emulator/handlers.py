"""The REST surface: one small function per API method, and the route table that finds them.

Handlers take the parsed request and return ``(status, body)``; they raise
:class:`~tests.google_emulator.errors.ApiError` for failures.  Transport concerns (auth, faults,
logging, conditional GET, batching) live in :mod:`dispatch` so a batch part and a plain request
reach exactly the same code.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from tests.google_emulator import events, freebusy, listing, schema
from tests.google_emulator.errors import ApiError, Json, bad_request, not_found, required
from tests.google_emulator.store import Store

PREFIX = "/calendar/v3/"
CALENDAR_LIST_PAGE, CALENDAR_LIST_MAX = 100, 250


@dataclass
class ApiRequest:
    method: str
    path: str
    query: dict[str, list[str]] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def json(self) -> Any:
        if not self.body.strip():
            return {}
        try:
            return json.loads(self.body)
        except ValueError as exc:
            raise ApiError(400, "parseError", "Parse Error") from exc


Result = tuple[int, Json | None]
Handler = Callable[..., Result]


def _list_entry(store: Store, cal_id: str) -> Json:
    calendar = store.calendar(cal_id)
    entry: Json = {
        "kind": "calendar#calendarListEntry",
        **{k: v for k, v in calendar.resource.items() if k not in ("kind", "conferenceProperties")},
        "colorId": "14",
        "backgroundColor": "#9fe1e7",
        "foregroundColor": "#000000",
        "selected": True,
        "accessRole": "owner",
        "defaultReminders": [] if not calendar.primary else [{"method": "popup", "minutes": 10}],
        "conferenceProperties": calendar.resource["conferenceProperties"],
    }
    if calendar.primary:
        entry["primary"] = True
    return entry


def calendar_list(store: Store, req: ApiRequest) -> Result:
    if "syncToken" in req.query:
        raise bad_request("The emulator does not support calendarList sync.", location="syncToken")
    size = listing.page_size(req.query, CALENDAR_LIST_PAGE, CALENDAR_LIST_MAX)
    ids = list(store.calendars)
    offset = 0
    if (token := listing.one(req.query, "pageToken")) is not None:
        data = listing.decode_token(token)
        if data is None or "o" not in data:
            raise bad_request("Invalid page token value.", location="pageToken")
        offset = int(data["o"])
    body: Json = {
        "kind": "calendar#calendarList",
        "etag": store.etag(store.current_change),
        "items": [_list_entry(store, i) for i in ids[offset : offset + size]],
    }
    if offset + size < len(ids):
        body["nextPageToken"] = listing.encode_token({"o": offset + size})
    else:
        body["nextSyncToken"] = listing.encode_token({"cl": store.current_change})
    return 200, body


def calendar_list_get(store: Store, req: ApiRequest, cal: str) -> Result:
    return 200, _list_entry(store, cal)


def calendars_insert(store: Store, req: ApiRequest) -> Result:
    body = schema.validate(req.json(), "Calendar")
    if not body.get("summary"):
        raise required("Missing title.", "summary")
    created = store.create_calendar(
        str(body["summary"]),
        body.get("timeZone"),
        description=body.get("description"),
        location=body.get("location"),
    )
    return 200, created.resource


def calendars_get(store: Store, req: ApiRequest, cal: str) -> Result:
    return 200, store.calendar(cal).resource


def calendars_delete(store: Store, req: ApiRequest, cal: str) -> Result:
    if store.calendar(cal).primary:
        raise bad_request("Cannot delete primary calendar.", "cannotDeletePrimaryCalendar")
    store.delete_calendar(cal)
    return 204, None


def events_list(store: Store, req: ApiRequest, cal: str) -> Result:
    return 200, listing.list_events(store, store.calendar(cal), req.query)


def events_insert(store: Store, req: ApiRequest, cal: str) -> Result:
    return 200, events.insert(store, store.calendar(cal), req.json())


def events_get(store: Store, req: ApiRequest, cal: str, event: str) -> Result:
    return 200, events.get(store.calendar(cal), event)


def events_patch(store: Store, req: ApiRequest, cal: str, event: str) -> Result:
    calendar = store.calendar(cal)
    return 200, events.patch(store, calendar, event, req.json(), req.headers.get("if-match"))


def events_update(store: Store, req: ApiRequest, cal: str, event: str) -> Result:
    calendar = store.calendar(cal)
    return 200, events.update(store, calendar, event, req.json(), req.headers.get("if-match"))


def events_delete(store: Store, req: ApiRequest, cal: str, event: str) -> Result:
    events.delete(store, store.calendar(cal), event, req.headers.get("if-match"))
    return 204, None


def freebusy_query(store: Store, req: ApiRequest) -> Result:
    return 200, freebusy.query(store, req.json())


_SEG = r"([^/]+)"
ROUTES: list[tuple[str, re.Pattern[str], Handler]] = [
    ("GET", re.compile(r"^users/me/calendarList$"), calendar_list),
    ("GET", re.compile(rf"^users/me/calendarList/{_SEG}$"), calendar_list_get),
    ("POST", re.compile(r"^calendars$"), calendars_insert),
    ("GET", re.compile(rf"^calendars/{_SEG}$"), calendars_get),
    ("DELETE", re.compile(rf"^calendars/{_SEG}$"), calendars_delete),
    ("GET", re.compile(rf"^calendars/{_SEG}/events$"), events_list),
    ("POST", re.compile(rf"^calendars/{_SEG}/events$"), events_insert),
    ("GET", re.compile(rf"^calendars/{_SEG}/events/{_SEG}$"), events_get),
    ("PATCH", re.compile(rf"^calendars/{_SEG}/events/{_SEG}$"), events_patch),
    ("PUT", re.compile(rf"^calendars/{_SEG}/events/{_SEG}$"), events_update),
    ("DELETE", re.compile(rf"^calendars/{_SEG}/events/{_SEG}$"), events_delete),
    ("POST", re.compile(r"^freeBusy$"), freebusy_query),
]


def route(store: Store, req: ApiRequest) -> Result:
    """Find and run the handler; unknown paths get Google's plain 404."""
    if not req.path.startswith(PREFIX):
        raise not_found()
    rest = req.path[len(PREFIX) :]
    known_path = False
    for method, pattern, handler in ROUTES:
        match = pattern.match(rest)
        if match is None:
            continue
        known_path = True
        if method == req.method:
            return handler(store, req, *(unquote(g) for g in match.groups()))
    if known_path:
        raise ApiError(405, "httpMethodNotAllowed", f"Method {req.method} not allowed.")
    raise not_found()
