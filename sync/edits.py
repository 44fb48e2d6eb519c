"""What the athlete did to liftrun's events by hand, taken in before anything is written (S9).

A move by hand becomes a pin (liftrun keeps their time and never rewrites that event), a
deletion or cancellation by hand a tombstone (the session is not recreated until ``liftrun
restore``). What an interrupted run left behind (a row still ``pending``) is liftrun's own
unfinished business and is adopted, never mistaken for the athlete's edit.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from adapters.protocol import ActionKind, OwnedEvent
from planner.model import Session
from sync.report import CycleReport
from sync.report import Pin as PinEntry
from sync.report import Tombstone as TombstoneEntry
from sync.state import EventRow, Pin, StateStore

log = logging.getLogger("liftrun.sync")


def take_in_edits(
    store: StateStore,
    target: str,
    events: Sequence[OwnedEvent],
    *,
    window: tuple[datetime, datetime],
    by_id: dict[str, Session],
    now: datetime,
    report: CycleReport,
) -> dict[str, OwnedEvent]:
    """Fold what a target holds into the state store, and return it by session id.

    A difference from what liftrun last wrote is the athlete's doing only when liftrun had no
    write of its own in flight for that event (``pending``); otherwise it is a write that an
    interrupted run made and did not get to record, and it is adopted. An event gone from
    the target counts as deleted by hand only when it lay within ``window``, the span read.
    """
    rows = store.events(target)
    seen: dict[str, OwnedEvent] = {}
    for e in events:
        if e.session_id in seen:
            report.warnings.append(
                f"{target}: two events for session {e.session_id} "
                f"({seen[e.session_id].remote_id}, {e.remote_id}); keeping the first"
            )
            continue
        seen[e.session_id] = e
    pins = store.pins()
    with store.transaction():
        for sid, e in seen.items():
            row = rows.get(sid)
            if (
                e.cancelled
                and row is not None
                and _was_live(row)
                and row.pending is None
                and e.etag != row.etag
            ):
                _tombstone(
                    store, sid, target, by_id=by_id, now=now, report=report, how="cancelled by hand"
                )
            elif not e.cancelled and _moved_again(e, pins.get(sid), target):
                pin = pins.get(sid)
                if pin is None or (pin.start, pin.end) != (e.start, e.end):
                    store.pin(sid, e.start, e.end, target, now)
                    report.pinned.append(PinEntry(target, sid, e.start))
                    log.info("%s: %s moved by hand to %s: pinned (S9)", target, sid, e.start)
            if row is None or row.pending is not None or row.etag != e.etag:
                store.put_event(
                    target,
                    sid,
                    remote_id=e.remote_id,
                    etag=e.etag,
                    content_hash=e.content_hash,
                    start=e.start,
                    end=e.end,
                    cancelled=e.cancelled,
                )
        for sid, row in rows.items():
            if sid in seen:
                continue
            if _was_live(row):
                if not _within(row, window):
                    continue  # outside what was read: no conclusion either way
                _tombstone(
                    store, sid, target, by_id=by_id, now=now, report=report, how="deleted by hand"
                )
            store.drop_event(target, sid)
    return seen


def _moved_again(e: OwnedEvent, pin: Pin | None, target: str) -> bool:
    """The athlete's time for this event: moved away from where liftrun put it, or a pinned
    event (which liftrun never rewrites) moved again, even back to liftrun's own time."""
    if e.moved_by_hand:
        return True
    return pin is not None and pin.target == target and (pin.start, pin.end) != (e.start, e.end)


def _was_live(row: EventRow) -> bool:
    """liftrun wrote it, knows it landed, and had nothing in flight for it."""
    return (
        row.pending in (None, ActionKind.UPDATE.value)
        and not row.cancelled
        and row.etag is not None
    )


def _within(row: EventRow, window: tuple[datetime, datetime]) -> bool:
    return row.start is not None and window[0] <= row.start < window[1]


def _tombstone(
    store: StateStore,
    sid: str,
    target: str,
    *,
    by_id: dict[str, Session],
    now: datetime,
    report: CycleReport,
    how: str,
) -> None:
    session = by_id.get(sid)
    title = session.title if session else sid
    store.tombstone(sid, target, title, now)
    report.tombstoned.append(TombstoneEntry(target, sid, how))
    log.info("%s: %s %s: not recreated (S9; `liftrun restore %s`)", target, sid, how, sid)
