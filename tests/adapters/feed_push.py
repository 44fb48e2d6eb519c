"""Pushing sessions into a feed the way the sync engine does (create, update, cancel, commit),
for the feed tests that exercise the target without the engine."""

from __future__ import annotations

from datetime import UTC, datetime

from adapters.ics.feed import IcsFeedTarget
from adapters.protocol import TargetReset, content_hash
from planner.model import Session

FAR = (datetime(1900, 1, 1, tzinfo=UTC), datetime(2999, 1, 1, tzinfo=UTC))


def push(target: IcsFeedTarget, items: tuple[Session, ...]) -> int:
    try:
        owned = {o.session_id: o for o in target.list_owned(*FAR)}
    except TargetReset:  # no feed file yet
        owned = {}
    for s in items:
        h = content_hash(s, 30)
        cur = owned.get(s.id)
        if cur is None or cur.cancelled:
            target.create(s, h)
        elif cur.content_hash != h:
            target.update(s, h, cur)
    for sid, cur in owned.items():
        if sid not in {s.id for s in items} and not cur.cancelled:
            target.cancel(cur)
    return target.commit()
