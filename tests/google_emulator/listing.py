"""events.list: windowing, expansion, ordering, filters, paging and incremental sync.

Page and sync tokens are opaque base64 JSON.  A page token remembers the offset, a fingerprint
of the query (Google rejects a token replayed with different filters) and the change counter at
the first page; the last page hands that counter out as ``nextSyncToken`` so nothing modified
while a client paged is ever lost.  A sync token also carries the calendar's token epoch, which
:meth:`Store.invalidate_sync_tokens` bumps to force the 410 ``fullSyncRequired`` path.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from datetime import datetime
from typing import Any

from tests.google_emulator import recurrence
from tests.google_emulator.errors import ApiError, Json, bad_request
from tests.google_emulator.store import Calendar, Store
from tests.google_emulator.timeutil import instant, parse_datetime

Query = dict[str, list[str]]
DEFAULT_PAGE, MAX_PAGE = 250, 2500
# Parameters Google refuses to combine with syncToken.
_NOT_WITH_SYNC = (
    "iCalUID",
    "orderBy",
    "privateExtendedProperty",
    "q",
    "sharedExtendedProperty",
    "timeMin",
    "timeMax",
    "updatedMin",
)


def encode_token(data: Json) -> str:
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode()


def decode_token(token: str) -> Json | None:
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


def one(query: Query, name: str) -> str | None:
    values = query.get(name)
    return values[-1] if values else None


def flag(query: Query, name: str) -> bool:
    return (one(query, name) or "false").lower() == "true"


def page_size(query: Query, default: int, maximum: int) -> int:
    raw = one(query, "maxResults")
    if raw is None:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise bad_request(f"Invalid value '{raw}'. Values must be within the range: [1, {maximum}]")
    return min(int(raw), maximum)


def overlaps(item: Json, tz: str, low: datetime | None, high: datetime | None) -> bool:
    """Google's window test: end after timeMin (exclusive) and start before timeMax."""
    begin, finish = instant(item["start"], tz), instant(item["end"], tz)
    if high is not None and begin >= high:
        return False
    if low is None:
        return True
    return finish > low or (finish == begin and begin >= low)


def _matches_props(item: Json, query: Query) -> bool:
    props = item.get("extendedProperties") or {}
    for param, scope in (
        ("privateExtendedProperty", "private"),
        ("sharedExtendedProperty", "shared"),
    ):
        have = props.get(scope) or {}
        for spec in query.get(param, []):
            key, sep, value = spec.partition("=")
            if not sep:
                raise bad_request(f"Invalid extended property constraint: {spec}")
            if have.get(key) != value:
                return False
    return True


def _matches_text(item: Json, text: str) -> bool:
    hay = " ".join(str(item.get(f) or "") for f in ("summary", "description", "location"))
    return all(word.lower() in hay.lower() for word in text.split())


def _minimal(item: Json) -> Json:
    """How an incremental sync reports a deletion: identity and status only."""
    return {k: item[k] for k in ("kind", "etag", "id", "status") if k in item}


def _expand(items: list[Json], tz: str, low: datetime | None, high: datetime | None) -> list[Json]:
    out: list[Json] = []
    for item in items:
        if item.get("recurrence") and item.get("status") != "cancelled":
            out.extend(recurrence.instances(item, tz, low, high))
        else:
            out.append(item)
    return out


def _series_overlaps(item: Json, tz: str, low: datetime | None, high: datetime | None) -> bool:
    if not item.get("recurrence"):
        return overlaps(item, tz, low, high)
    return any(overlaps(i, tz, low, high) for i in recurrence.instances(item, tz, low, high))


def _sync_since(query: Query, calendar: Calendar) -> int:
    for name in _NOT_WITH_SYNC:
        if name in query:
            raise bad_request(
                f"Sync token is not valid with the {name} parameter.", location="syncToken"
            )
    data = decode_token(one(query, "syncToken") or "")
    if data is None or "s" not in data:
        raise bad_request("Invalid sync token value.", location="syncToken")
    if data.get("c") != calendar.id or data.get("e") != calendar.token_epoch:
        raise ApiError(
            410,
            "fullSyncRequired",
            "Sync token is no longer valid, a full sync is required.",
            domain="calendar",
            location="syncToken",
        )
    return int(data["s"])


def _fingerprint(query: Query) -> str:
    relevant = {k: v for k, v in sorted(query.items()) if k not in ("pageToken", "maxResults")}
    return hashlib.sha1(json.dumps(relevant).encode()).hexdigest()[:12]


def _select(store: Store, calendar: Calendar, query: Query) -> list[Json]:
    tz = str(calendar.resource["timeZone"])
    single = flag(query, "singleEvents")
    order = one(query, "orderBy")
    if order not in (None, "startTime", "updated"):
        raise bad_request(f"Invalid value '{order}'.", location="orderBy")
    if order == "startTime" and not single:
        raise bad_request(
            "The requested ordering is not available for the particular query.", "badRequest"
        )
    stored = list(calendar.events.values())
    if "syncToken" in query:
        since = _sync_since(query, calendar)
        changed = [
            ev.resource for ev in sorted(stored, key=lambda e: e.change) if ev.change > since
        ]
        items = _expand(changed, tz, None, None) if single else changed
        return [_minimal(i) if i.get("status") == "cancelled" else i for i in items]
    low = _bound(query, "timeMin")
    high = _bound(query, "timeMax")
    if low is not None and high is not None and high <= low:
        raise ApiError(
            400,
            "timeRangeEmpty",
            "The specified time range is empty.",
            domain="calendar",
            location="timeMax",
        )
    updated_min = one(query, "updatedMin")
    show_deleted = flag(query, "showDeleted") or updated_min is not None
    items = [ev.resource for ev in stored]
    if order == "updated":
        items = [ev.resource for ev in sorted(stored, key=lambda e: e.change)]
    if updated_min is not None:
        floor = parse_datetime(updated_min, need_offset=True)
        items = [i for i in items if parse_datetime(str(i["updated"]), need_offset=True) > floor]
    if not show_deleted:
        items = [i for i in items if i.get("status") != "cancelled"]
    if (uid := one(query, "iCalUID")) is not None:
        items = [i for i in items if i.get("iCalUID") == uid]
    items = [i for i in items if _matches_props(i, query)]
    if (text := one(query, "q")) is not None:
        items = [i for i in items if _matches_text(i, text)]
    if single:
        items = [i for i in _expand(items, tz, low, high) if overlaps(i, tz, low, high)]
    else:
        items = [i for i in items if _series_overlaps(i, tz, low, high)]
    if order == "startTime":
        items.sort(key=lambda i: instant(i["start"], tz))
    return items


def _bound(query: Query, name: str) -> datetime | None:
    raw = one(query, name)
    return None if raw is None else parse_datetime(raw, need_offset=True)


def list_events(store: Store, calendar: Calendar, query: Query) -> Json:
    size = page_size(query, DEFAULT_PAGE, MAX_PAGE)
    fingerprint = _fingerprint(query)
    offset, snapshot = 0, store.current_change
    if (token := one(query, "pageToken")) is not None:
        data = decode_token(token)
        if data is None or data.get("f") != fingerprint:
            raise bad_request("Invalid page token value.", location="pageToken")
        offset, snapshot = int(data["o"]), int(data["s"])
    items = _select(store, calendar, query)
    page = items[offset : offset + size]
    result: Json = {
        "kind": "calendar#events",
        "etag": store.etag(calendar.change),
        "summary": calendar.resource["summary"],
        "description": calendar.resource.get("description", ""),
        "updated": store.now_text(),
        "timeZone": calendar.resource["timeZone"],
        "accessRole": "owner",
        "defaultReminders": [],
        "items": page,
    }
    if offset + size < len(items):
        result["nextPageToken"] = encode_token(
            {"o": offset + size, "s": snapshot, "f": fingerprint}
        )
    else:
        sync: dict[str, Any] = {"c": calendar.id, "s": snapshot, "e": calendar.token_epoch}
        result["nextSyncToken"] = encode_token(sync)
    return result
