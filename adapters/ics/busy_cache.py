"""Parsed busy time kept beside a source's last good copy, so an unchanged calendar is not
parsed again every cycle.

Parsing and expanding a few thousand events costs a few hundred milliseconds of CPU; the loop
reads the same bytes every 15 minutes. The entry is keyed by the SHA-256 of the body and the
time zone, and covers a window a little wider than asked (``AHEAD``), so the daily slide of the
sync window still hits it. It is one entry of the source's :class:`~adapters.cache.Cache`;
anything odd about it (missing, corrupt, another body, another window) is a miss, never an
error: the source is then parsed as usual.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from adapters.cache import Cache, Namespace
from adapters.protocol import BusyRead
from planner.busy import BusyInterval

log = logging.getLogger(__name__)

AHEAD = timedelta(days=14)
PARSED = Namespace("ics-parsed-busy", version=1)


def _utc(value: datetime) -> str:
    # UTC on disk; read back in the zone unless that would make the interval empty (the
    # repeated hour at a DST change, which the ICS reader keeps in UTC for the same reason)
    return value.astimezone(UTC).isoformat()


class ParsedBusyCache:
    """The parsed busy time of the source ``key`` (its location) in ``cache``, for ``zone``."""

    def __init__(self, cache: Cache, key: str, zone: tzinfo) -> None:
        self.cache = cache
        self.key = key
        self.zone = zone

    def get(self, sha256: str, start: datetime, end: datetime) -> BusyRead | None:
        data: Any = self.cache.get_json(PARSED, self.key)
        try:
            if (
                data.get("sha256") != sha256
                or data.get("zone") != str(self.zone)
                or datetime.fromisoformat(data["from"]) > start
                or datetime.fromisoformat(data["to"]) < end
            ):
                return None
            intervals = []
            lo, hi = start.astimezone(UTC), end.astimezone(UTC)
            for s, e, summary, source, uid in data["intervals"]:
                a, b = datetime.fromisoformat(s), datetime.fromisoformat(e)
                if a < hi and b > lo:
                    local_a, local_b = a.astimezone(self.zone), b.astimezone(self.zone)
                    if not local_b > local_a:
                        local_a, local_b = a, b
                    intervals.append(BusyInterval(local_a, local_b, summary, source, uid))
            return BusyRead(tuple(intervals), tuple(data["warnings"]))
        except (ValueError, KeyError, TypeError, AttributeError):
            return None

    def put(self, sha256: str, start: datetime, end: datetime, busy: BusyRead) -> None:
        """Keep ``busy``, parsed from the body ``sha256`` for ``[start, end)``; an entry that
        cannot be kept only costs a parse next cycle, so it is not worth a warning."""
        data = {
            "sha256": sha256,
            "zone": str(self.zone),
            "from": start.astimezone(UTC).isoformat(),
            "to": end.astimezone(UTC).isoformat(),
            "intervals": [
                [
                    _utc(b.start),
                    _utc(b.end),
                    b.summary,
                    b.source,
                    b.uid,
                ]
                for b in busy.intervals
            ],
            "warnings": list(busy.warnings),
        }
        try:
            self.cache.put_json(PARSED, self.key, data)
        except OSError as exc:
            log.debug("cannot keep parsed busy time in %s: %s", self.cache.directory, exc.strerror)


def narrow(busy: BusyRead, start: datetime, end: datetime) -> BusyRead:
    """Only the intervals overlapping ``[start, end)``, as a direct read of that window gives."""
    kept = tuple(b for b in busy.intervals if b.start < end and b.end > start)
    return BusyRead(kept, busy.warnings)
