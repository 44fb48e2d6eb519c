"""Busy time from Google calendars (``busy_from`` ids), as a ``BusySource``, via freebusy.query.

Free/busy rather than reading events, because it needs only the narrow
``calendar.freebusy`` scope (liftrun never sees what the athlete's appointments are) and Google
applies its own rules: transparent ("free") and cancelled events and declined invitations are
not busy, recurrences are expanded, shared calendars the account may only see as busy work.
The price is that a busy block has no title, so a move is explained as "busy in <calendar>".

Google caps a query at 50 calendars and a window of about three months, so the calendars and
the window are split into as many queries as needed, and blocks split at a window boundary are
joined again. A calendar Google could not read comes back with ``errors`` inside a 200 answer:
that is never read as free time, ``read_busy`` raises :class:`SourceUnavailable` naming it.
When Google cannot be reached at all (or refuses the credentials), the last good copy is used
if it covers the window, marked stale, as the CalDAV and ICS sources do.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from google.auth.credentials import Credentials

from adapters.cache import Cache, Namespace
from adapters.google.client import GoogleClient, Json
from adapters.protocol import (
    AdapterError,
    BusyRead,
    SourceRead,
    SourceUnavailable,
    fell_back,
    saved_instant,
)
from planner.busy import BusyInterval

__all__ = ["MAX_CALENDARS_PER_QUERY", "MAX_QUERY_RANGE", "GoogleSource"]

log = logging.getLogger(__name__)

MAX_CALENDARS_PER_QUERY = 50
MAX_QUERY_RANGE = timedelta(days=90)
LAST_GOOD = Namespace("google-busy", version=1)

_Block = tuple[datetime, datetime, str]  # start UTC, end UTC, calendar id


class _CalendarErrors(AdapterError):
    """Some calendars came back with errors: never free time, and no stale copy for them."""


class GoogleSource:
    """Busy time of ``calendar_ids`` (``"primary"`` or calendar ids) of one Google account.

    ``exclude`` lists ids never read (the Training calendar's, remembered by the engine).
    ``cache`` keeps the last good copy; without it an unreachable Google raises.
    """

    name: str

    def __init__(
        self,
        calendar_ids: Sequence[str],
        *,
        api_endpoint: str | None = None,
        credentials: Credentials | None = None,
        timezone: str,
        name: str | None = None,
        exclude: Collection[str] = (),
        cache: Cache | None = None,
        account: str | None = None,
        timeout: float = 20.0,
        retry_wait: Callable[[int], float] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        client: GoogleClient | None = None,
    ) -> None:
        ids = list(dict.fromkeys(calendar_ids))
        self.name = name or (
            f"Google calendar {ids[0]!r}" if len(ids) == 1 else f"{len(ids)} Google calendars"
        )
        self.calendar_ids = ids
        self.exclude = exclude
        self._tz = ZoneInfo(timezone)
        self.client = client or GoogleClient(
            api_endpoint=api_endpoint,
            credentials=credentials,
            label=self.name,
            timeout=timeout,
            retry_wait=retry_wait,
            sleep=sleep,
        )
        self._cache = cache
        self._key = (self.client.api_endpoint, account or "", *sorted(ids))

    def __repr__(self) -> str:
        return f"GoogleSource({self.name!r}, {self.client.host!r})"

    @property
    def requests_made(self) -> int:
        return self.client.requests_made

    def read_busy(self, start: datetime, end: datetime) -> SourceRead:
        """Busy time overlapping ``[start, end)``, from Google or else the last good copy.

        Raises:
            SourceUnavailable: a calendar came back with errors, or Google cannot be read and
                no copy covers the window.
            ValueError: ``start``/``end`` are naive or out of order (a programming error).
        """
        if start.tzinfo is None or end.tzinfo is None or end <= start:
            raise ValueError("read_busy needs an aware window with start < end")
        ids = [i for i in self.calendar_ids if i not in self.exclude]
        try:
            blocks = self._query(ids, start, end)
        except _CalendarErrors as exc:
            log.warning("%s", exc)
            raise SourceUnavailable(str(exc)) from None
        except AdapterError as exc:
            return self._fall_back(str(exc), ids, start, end)
        self._save(ids, start, end, blocks)
        return SourceRead(self.name, self._busy(blocks))

    def _query(self, ids: list[str], start: datetime, end: datetime) -> list[_Block]:
        blocks: list[_Block] = []
        problems: list[str] = []
        low = start.astimezone(UTC)
        high = end.astimezone(UTC)
        while low < high and ids:
            upper = min(high, low + MAX_QUERY_RANGE)
            for first in range(0, len(ids), MAX_CALENDARS_PER_QUERY):
                group = ids[first : first + MAX_CALENDARS_PER_QUERY]
                answer = self.client.call(
                    self.client.service.freebusy().query(body=self._body(group, low, upper)),
                    f"reading busy time of {len(group)} calendar(s)",
                )
                blocks.extend(self._blocks(answer, group, problems))
            low = upper
        if problems:
            raise _CalendarErrors(
                f"{self.name}: Google could not read busy time of {', '.join(problems)}; "
                "none of its time is treated as free"
            )
        return _joined(blocks)

    @staticmethod
    def _body(group: list[str], low: datetime, high: datetime) -> Json:
        return {
            "timeMin": low.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "timeMax": high.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "timeZone": "UTC",
            "items": [{"id": i} for i in group],
        }

    @staticmethod
    def _blocks(answer: Json, group: list[str], problems: list[str]) -> list[_Block]:
        found: list[_Block] = []
        calendars = answer.get("calendars") or {}
        for cal_id in group:
            entry = calendars.get(cal_id)
            if not isinstance(entry, dict):
                problems.append(f"{cal_id!r} (missing from the answer)")
                continue
            errors = entry.get("errors") or []
            if errors:
                reasons = sorted({str(e.get("reason", "?")) for e in errors if isinstance(e, dict)})
                problems.append(f"{cal_id!r} ({', '.join(reasons) or 'error'})")
                continue
            for block in entry.get("busy") or []:
                try:
                    b_start = datetime.fromisoformat(block["start"]).astimezone(UTC)
                    b_end = datetime.fromisoformat(block["end"]).astimezone(UTC)
                except (KeyError, TypeError, ValueError):
                    problems.append(f"{cal_id!r} (an unreadable busy block)")
                    break
                if b_end > b_start:
                    found.append((b_start, b_end, cal_id))
        return found

    def _busy(self, blocks: list[_Block]) -> BusyRead:
        intervals = []
        for b_start, b_end, cal_id in blocks:
            local_start, local_end = b_start.astimezone(self._tz), b_end.astimezone(self._tz)
            if not local_end > local_start:  # the repeated hour at a DST change: keep UTC
                local_start, local_end = b_start, b_end
            intervals.append(BusyInterval(local_start, local_end, f"busy ({cal_id})", self.name))
        return BusyRead(tuple(sorted(intervals)), ())

    # -- the last good copy ------------------------------------------------------------------
    def _save(self, ids: list[str], start: datetime, end: datetime, blocks: list[_Block]) -> None:
        if self._cache is None:
            return
        payload = {
            "ids": sorted(ids),
            "window": [start.astimezone(UTC).isoformat(), end.astimezone(UTC).isoformat()],
            "busy": [[a.isoformat(), b.isoformat(), c] for a, b, c in blocks],
            "saved_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        try:
            self._cache.put_json(LAST_GOOD, self._key, payload)
        except OSError as exc:
            log.warning("%s: cannot save the busy copy: %s", self.name, exc.strerror or exc)

    def _load(
        self, ids: list[str], start: datetime, end: datetime
    ) -> tuple[list[_Block], datetime | None] | None:
        """The copy's blocks and when it was kept (None for a copy from before that was said)."""
        if self._cache is None:
            return None
        data: Any = self._cache.get_json(LAST_GOOD, self._key)
        try:
            if data.get("ids") != sorted(ids):
                return None
            low, high = (datetime.fromisoformat(w) for w in data["window"])
            if not (low <= start and end <= high):
                return None
            blocks = [
                (datetime.fromisoformat(a), datetime.fromisoformat(b), str(c))
                for a, b, c in data["busy"]
            ]
        except (ValueError, TypeError, KeyError, AttributeError):
            return None
        return blocks, saved_instant(data.get("saved_at"))

    def _fall_back(self, reason: str, ids: list[str], start: datetime, end: datetime) -> SourceRead:
        cached = self._load(ids, start, end)
        if cached is None:
            message = fell_back(reason, copy=False)
            log.warning("%s", message)
            raise SourceUnavailable(message) from None
        blocks, saved_at = cached
        when = saved_at.astimezone(self._tz) if saved_at else None
        message = fell_back(reason, copy=True, saved_at=when)
        log.warning("%s", message)
        return SourceRead(self.name, self._busy(blocks), fresh=False, error=message)


def _joined(blocks: list[_Block]) -> list[_Block]:
    """Blocks of one calendar that touch (split at a query boundary) become one again."""
    out: list[_Block] = []
    for block in sorted(blocks, key=lambda b: (b[2], b[0], b[1])):
        last = out[-1] if out else None
        if last is not None and last[2] == block[2] and block[0] <= last[1]:
            out[-1] = (last[0], max(last[1], block[1]), last[2])
        else:
            out.append(block)
    return sorted(out)
