"""What the athlete says about their sessions from their page: the public API the web calls.

Each action is recorded in the state store with its time (and in ``athlete_log``, the history
``liftrun status`` shows) and takes effect at the next sync cycle, which the caller asks for at
once (``sync.wake``): every calendar then shows the result.

- Done (effort 1-10, a note) and Skipped mark a session: it stays where it is (the placement
  freezes it, S9), its events carry one line saying so, and nothing is made up by doubling a
  later session (the plan is built from the config, never from what was missed).
- Soreness is ``liftrun sore`` (L6): next week's lifts get fewer sets.
- Move pins the session to a slot (``planner.alternatives`` offers the valid ones), exactly as a
  move by hand in a calendar; the rest re-flow around it at the next cycle.
- Not doing it is a tombstone, as a deletion by hand, and Restore undoes it (and a pin).
- Pause removes the sessions of whole days from every calendar, none made up; after a week or
  more the week of return eases in (``planner.pause``). Ending a pause early is one call.

Wrong input raises :class:`ActionError` with a sentence for the athlete; nothing is written.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from config.models import Settings
from planner.alternatives import Alternative, alternative_slots
from planner.constraints import RuleBook
from planner.lift_load import Soreness
from planner.pause import Pause
from planner.phases import monday_of
from planner.plan import build_plan, default_span
from sync.busy_memory import last_busy
from sync.state import Pin, StateStore, Tombstone

WEB_TARGET = "your page"  # where a pin or a tombstone made on the page says it came from
NOTE_MAX = 280
PAUSE_MAX_DAYS = 366
HISTORY_KEEP = 1000


class ActionError(ValueError):
    """An action the store cannot take as given; ``str()`` tells the athlete why."""


class Mark(StrEnum):
    DONE = "done"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class SessionMark:
    session_id: str
    mark: Mark
    effort: int | None
    note: str
    at: datetime

    def line(self) -> str:
        """The one line every calendar's event shows, e.g. ``Done - effort 7/10: felt strong``."""
        head = "Done" if self.mark is Mark.DONE else "Skipped"
        if self.effort is not None:
            head += f" - effort {self.effort}/10"
        return f"{head}: {self.note}" if self.note else head


@dataclass(frozen=True)
class PauseRow:
    id: int
    first: date
    last: date  # as asked; ``ended_at`` may cut it short
    created_at: datetime
    ended_at: datetime | None

    def effective(self, zone: ZoneInfo) -> Pause:
        """The days it covers: ended early, it stops the day before it was ended."""
        last = self.last
        if self.ended_at is not None:
            last = min(last, self.ended_at.astimezone(zone).date() - timedelta(days=1))
        return Pause(self.first, last)


@dataclass(frozen=True)
class SessionStatus:
    session_id: str
    mark: SessionMark | None
    pin: Pin | None
    tombstone: Tombstone | None


@dataclass(frozen=True)
class LogEntry:
    at: datetime
    action: str
    session_id: str | None
    detail: dict[str, Any]


# -- done and skipped ----------------------------------------------------------------------------
def record_done(
    store: StateStore, session_id: str, at: datetime, effort: int | None = None, note: str = ""
) -> SessionMark:
    if effort is not None and not 1 <= effort <= 10:
        raise ActionError(f"effort is 1 to 10, not {effort}")
    return _mark(store, SessionMark(session_id, Mark.DONE, effort, _note(note), _aware(at)))


def record_skipped(store: StateStore, session_id: str, at: datetime, note: str = "") -> SessionMark:
    return _mark(store, SessionMark(session_id, Mark.SKIPPED, None, _note(note), _aware(at)))


def clear_mark(store: StateStore, session_id: str, at: datetime) -> bool:
    """Undo done or skipped; True when there was a mark."""
    with store.transaction():
        gone = bool(store.query("SELECT 1 FROM marks WHERE session_id = ?", (session_id,)))
        store.query("DELETE FROM marks WHERE session_id = ?", (session_id,))
        if gone:
            _log(store, at, "unmark", session_id, {})
    return gone


def _mark(store: StateStore, m: SessionMark) -> SessionMark:
    with store.transaction():
        store.query(
            "INSERT INTO marks(session_id, mark, effort, note, at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(session_id) DO UPDATE SET mark = excluded.mark, "
            "effort = excluded.effort, note = excluded.note, at = excluded.at",
            (m.session_id, m.mark.value, m.effort, m.note, _ts(m.at)),
        )
        _log(store, m.at, m.mark.value, m.session_id, {"effort": m.effort, "note": m.note})
    return m


def statuses(store: StateStore) -> dict[str, SessionMark]:
    rows = store.query("SELECT session_id, mark, effort, note, at FROM marks")
    return {r[0]: SessionMark(r[0], Mark(r[1]), r[2], r[3], _dt(r[4])) for r in rows}


def session_status(store: StateStore, session_id: str) -> SessionStatus:
    return SessionStatus(
        session_id,
        statuses(store).get(session_id),
        store.pins().get(session_id),
        store.tombstones().get(session_id),
    )


# -- soreness, move, not doing it, restore -------------------------------------------------------
def set_soreness(store: StateStore, day: date, level: Soreness, at: datetime) -> date:
    """``liftrun sore``: ``level`` for the week holding ``day`` (L6); returns its Monday."""
    week = monday_of(day)
    with store.transaction():
        store.set_soreness(week, level)
        _log(store, at, "soreness", None, {"week": week.isoformat(), "level": level.value})
    return week


def move_to(
    store: StateStore, session_id: str, slot: tuple[datetime, datetime], at: datetime
) -> Pin:
    """Pin the session at ``slot`` (one of ``planner.alternatives``'s), as a move by hand (S9).

    Every calendar gets the new time at the next cycle; the other sessions re-flow around it.
    """
    start, end = (_aware(t) for t in slot)
    if end <= start:
        raise ActionError("a slot ends after it starts")
    if session_id in store.tombstones():
        raise ActionError(f"{session_id} is marked not doing it: restore it first")
    with store.transaction():
        store.pin(session_id, start, end, WEB_TARGET, _aware(at))
        _log(store, at, "move", session_id, {"start": _ts(start), "end": _ts(end)})
    return store.pins()[session_id]


def offer_slots(
    store: StateStore, settings: Settings, session_id: str, now: datetime
) -> list[Alternative]:
    """The slots the page offers to move ``session_id`` to: the last cycle's placement and busy
    time (``sync.busy_memory``), every rule (``planner.alternatives``). Nothing for a session
    marked done or skipped (it stays where it was), not doing it, or not placed."""
    if session_id in statuses(store):
        return []
    placed = store.placements()
    if session_id not in placed:
        return []
    zone = settings.zone
    first, weeks = default_span(settings, now.astimezone(zone).date())
    plan = build_plan(
        settings,
        first,
        weeks,
        store.soreness(),
        suggest=False,
        pauses=effective_pauses(store, zone),
    )
    sessions = [
        replace(s, date=start.astimezone(zone).date(), start=start, end=end)
        for s in plan.sessions
        if s.id in placed
        for start, end in (placed[s.id],)
    ]
    busy, _ = last_busy(store)
    return alternative_slots(sessions, session_id, RuleBook.from_settings(settings), busy, now=now)


def not_doing(store: StateStore, session_id: str, at: datetime, title: str = "") -> None:
    """A tombstone, as a deletion by hand: the session leaves every calendar until restored."""
    with store.transaction():
        store.tombstone(session_id, WEB_TARGET, title or session_id, _aware(at))
        _log(store, at, "not_doing", session_id, {})


def restore(store: StateStore, session_id: str, at: datetime) -> bool:
    """``liftrun restore``: forget a deletion and a pin; True when there was one."""
    with store.transaction():
        done = store.restore(session_id)
        if done:
            _log(store, at, "restore", session_id, {})
    return done


# -- pauses --------------------------------------------------------------------------------------
def pause(store: StateStore, first: date, last: date, at: datetime) -> PauseRow:
    """Pause from ``first`` to ``last`` (local days, inclusive)."""
    if last < first:
        raise ActionError(f"a pause ends ({last}) on or after the day it starts ({first})")
    if (last - first).days + 1 > PAUSE_MAX_DAYS:
        raise ActionError(f"a pause is at most {PAUSE_MAX_DAYS} days")
    with store.transaction():
        store.query(
            "INSERT INTO pauses(first, last, created_at) VALUES (?, ?, ?)",
            (first.isoformat(), last.isoformat(), _ts(_aware(at))),
        )
        pid = int(store.query("SELECT last_insert_rowid()")[0][0])
        _log(store, at, "pause", None, {"id": pid, "first": str(first), "last": str(last)})
    return next(p for p in pauses(store) if p.id == pid)


def end_pause(store: StateStore, at: datetime) -> list[PauseRow]:
    """End every pause not over yet at ``at`` (in the athlete's zone): the sessions from that
    day on come back at the next cycle. Returns the pauses ended."""
    today = _aware(at).date()
    with store.transaction():
        open_ = [p for p in pauses(store) if p.ended_at is None and p.last >= today]
        for p in open_:
            store.query("UPDATE pauses SET ended_at = ? WHERE id = ?", (_ts(at), p.id))
            _log(store, at, "end_pause", None, {"id": p.id})
    return [p for p in pauses(store) if p.id in {q.id for q in open_}]


def pauses(store: StateStore) -> list[PauseRow]:
    rows = store.query("SELECT id, first, last, created_at, ended_at FROM pauses ORDER BY first")
    return [
        PauseRow(
            r[0],
            date.fromisoformat(r[1]),
            date.fromisoformat(r[2]),
            _dt(r[3]),
            _dt(r[4]) if r[4] else None,
        )
        for r in rows
    ]


def effective_pauses(store: StateStore, zone: ZoneInfo) -> list[Pause]:
    """The days every pause covers, as the planner takes them (empty ones left out)."""
    return [p for row in pauses(store) if (p := row.effective(zone)).days]


def active_pauses(store: StateStore, now: datetime, zone: ZoneInfo) -> list[PauseRow]:
    """Pauses still ahead or under way on ``now``'s day."""
    today = now.astimezone(zone).date()
    return [r for r in pauses(store) if (p := r.effective(zone)).days and p.last >= today]


# -- history -------------------------------------------------------------------------------------
def history(store: StateStore, limit: int = 20) -> list[LogEntry]:
    """The latest actions, newest first."""
    rows = store.query(
        "SELECT at, action, session_id, detail FROM athlete_log ORDER BY id DESC LIMIT ?",
        (limit,),
    )
    return [LogEntry(_dt(r[0]), r[1], r[2], json.loads(r[3])) for r in rows]


def _log(
    store: StateStore, at: datetime, action: str, session_id: str | None, detail: dict[str, Any]
) -> None:
    store.query(
        "INSERT INTO athlete_log(at, action, session_id, detail) VALUES (?, ?, ?, ?)",
        (_ts(_aware(at)), action, session_id, json.dumps(detail, sort_keys=True)),
    )
    store.query(
        "DELETE FROM athlete_log WHERE id <= (SELECT max(id) FROM athlete_log) - ?",
        (HISTORY_KEEP,),
    )


def _note(text: str) -> str:
    """One line: an event's description shows it as its first line."""
    line = " ".join(text.split())
    if len(line) > NOTE_MAX:
        raise ActionError(f"a note is at most {NOTE_MAX} characters")
    return line


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ActionError("a time without a time zone")
    return value


def _ts(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def _dt(value: str) -> datetime:
    return datetime.fromisoformat(value)
