"""The busy time of the last cycle that could read every source, kept for between cycles.

The athlete's page offers the valid slots to move a session to (``planner.alternatives``); it
must answer at once, with the busy time the placement engine last saw rather than by reading
every calendar again. Only the spans are kept, never an event's title or calendar: the page
shows busy time as "busy" and nothing here needs more (least data in a store that outlives
the read).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from planner.busy import BusyInterval
from sync.state import StateStore

READ_AT = "busy_read_at"


def remember_busy(store: StateStore, busy: Sequence[BusyInterval], at: datetime) -> None:
    """Replace the kept busy time with this cycle's read (call only when no source was blind:
    a partial read would offer slots that an unread calendar covers)."""
    with store.transaction():
        store.query("DELETE FROM busy_read")
        for b in busy:
            store.query(
                "INSERT INTO busy_read(start, end) VALUES (?, ?)",
                (b.start.astimezone(UTC).isoformat(), b.end.astimezone(UTC).isoformat()),
            )
        store.set_meta(READ_AT, at.astimezone(UTC).isoformat())


def last_busy(store: StateStore) -> tuple[list[BusyInterval], datetime | None]:
    """The kept busy spans and when they were read (``None``: no clear read yet)."""
    rows = store.query("SELECT start, end FROM busy_read ORDER BY start")
    spans = [
        BusyInterval(datetime.fromisoformat(r[0]), datetime.fromisoformat(r[1]), summary="busy")
        for r in rows
    ]
    read_at = store.get_meta(READ_AT)
    return spans, datetime.fromisoformat(read_at) if read_at else None
