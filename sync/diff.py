"""The difference between what a target should hold and what it holds, as writes with reasons.

The engine (``sync/engine.py``) places the horizon once; this turns that placement into the
action list of one target, each action carrying the sentence the athlete is given in the cycle
report (``liftrun sync --dry-run`` prints exactly this list).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime

from adapters.protocol import Action, ActionKind, OwnedEvent, content_hash
from planner.model import Session
from sync.actions import WEB_TARGET
from sync.state import Tombstone


def diff(
    alarm_minutes: int | None,
    desired: dict[str, Session],
    owned: dict[str, OwnedEvent],
    *,
    pinned_here: Collection[str],
    tombstones: Mapping[str, Tombstone],
    marked: Collection[str] = (),
    unplaced: dict[str, str],
    ends_at: datetime,
    now: datetime,
    blind: bool,
) -> list[Action]:
    """What one target needs to hold ``desired``, each write with the reason the athlete
    reads: create what it lacks, update what changed (never what the athlete moved there,
    S9), cancel what left the plan within the horizon (``ends_at``) unless a busy source was
    unreadable (``blind``: nothing is cancelled on a partial view). The past is left as the
    calendar has it, but for the line saying a session was done or skipped."""
    actions: list[Action] = []
    for sid, s in desired.items():
        assert s.start is not None and s.end is not None
        h = content_hash(s, alarm_minutes)
        e = owned.get(sid)
        if s.start < now and not _mark_only(sid, s, e, h, marked=marked, pinned_here=pinned_here):
            continue  # what is past stays as the calendar has it
        if e is None or e.cancelled:
            why = "new in the plan" if e is None else "back in the plan"
            actions.append(
                Action(ActionKind.CREATE, sid, f"{why}: {_why(s)}", session=s, content_hash=h)
            )
        elif sid in pinned_here:
            continue  # the athlete moved this very event: their time, their event (S9)
        elif e.content_hash != h:
            moved = (e.start, e.end) != (s.start, s.end)
            reason = f"moved: {s.placement}" if moved else f"updated: {_why(s)}"
            actions.append(
                Action(
                    ActionKind.UPDATE,
                    sid,
                    reason,
                    session=s,
                    content_hash=h,
                    current=e,
                    moved=moved,
                )
            )
    if blind:
        return actions
    for sid, e in owned.items():
        if e.cancelled or sid in desired or e.start < now or e.start >= ends_at:
            continue
        if sid in tombstones and tombstones[sid].target == WEB_TARGET:
            reason = "not doing it, said on your page (S9)"
        elif sid in tombstones:
            reason = "deleted by hand in another calendar (S9)"
        elif sid in unplaced:
            reason = f"no longer fits: {unplaced[sid]}"
        else:
            reason = "no longer in the plan"
        actions.append(Action(ActionKind.CANCEL, sid, reason, current=e))
    return actions


def _mark_only(
    sid: str,
    s: Session,
    e: OwnedEvent | None,
    h: str,
    *,
    marked: Collection[str],
    pinned_here: Collection[str],
) -> bool:
    """A past event is rewritten for one thing only: the line saying it was done or skipped,
    where it stands as liftrun left it (its time is never touched, S9)."""
    return (
        sid in marked
        and sid not in pinned_here
        and e is not None
        and not e.cancelled
        and e.content_hash != h
        and (e.start, e.end) == (s.start, s.end)
    )


def _why(s: Session) -> str:
    rules = ", ".join(s.rules + tuple(r for r in s.placement_rules if r not in s.rules))
    where = s.placement or ""
    return f"{s.title}, {where} ({rules})" if where else f"{s.title} ({rules})"
