"""``liftrun plan --explain ID``: why one session exists and why it sits where it does."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from planner.busy import BusyInterval
from planner.model import Plan, Session
from planner.rules import RULES, sorted_ids


def _when(s: Session, zone: ZoneInfo) -> str:
    if s.start is None or s.end is None:
        return s.date.strftime("%a %d %b %Y")
    a, b = s.start.astimezone(zone), s.end.astimezone(zone)
    return f"{a:%a %d %b %Y %H:%M}-{b:%H:%M} (UTC{a:%z})"


def explain(
    session_id: str,
    planned: Plan,
    placed: Plan,
    busy: Sequence[BusyInterval],
    zone: ZoneInfo,
) -> str:
    """A person-readable account: prescription, reason, placement, rules, neighbours, busy."""
    plan_s = next(s for s in planned.sessions if s.id == session_id)
    final = next((s for s in placed.sessions if s.id == session_id), None)
    lines = [f"{session_id}: {plan_s.title} ({plan_s.phase} phase)"]
    if final is None:
        dropped = next((u for u in placed.unplaced if u.id == session_id), None)
        lines.append("Not placed: " + (dropped.reason if dropped else "unknown"))
        lines.extend(f"Suggestion: {t}" for t in placed.suggestions if t.startswith(session_id))
        shown = plan_s
    else:
        lines.append(f"When: {_when(final, zone)} [{final.status}]")
        lines.append(f"Why this time: {final.placement}")
        shown = final
    lines.append(f"Why this session: {plan_s.reason}")
    lines.append("Rules:")
    rules = sorted_ids(frozenset(shown.rules) | frozenset(shown.placement_rules))
    lines.extend(f"  {r:<4} {RULES.get(r, '')}" for r in rules)
    lines.append("Prescription:")
    lines.extend(f"  {line}" for line in shown.description.splitlines())
    day = shown.date
    lines.append("Neighbours:")
    near = [
        s
        for s in placed.sessions
        if s.id != session_id and abs((s.date - day).days) <= 1 and s.start is not None
    ]
    lines.extend(f"  {_when(s, zone)}  {s.title}" for s in near)
    if not near:
        lines.append("  none the day before, on the day or the day after")
    lo = datetime.combine(day, time(0), zone)
    hi = lo + timedelta(days=1)
    todays = sorted((b for b in busy if b.start < hi and b.end > lo), key=lambda b: b.start)
    lines.append(f"Busy time on {day:%a %d %b}:")
    lines.extend(
        f"  {b.start.astimezone(zone):%H:%M}-{b.end.astimezone(zone):%H:%M}  "
        f"{b.summary or 'busy'}" + (f"  ({b.source})" if b.source else "")
        for b in todays
    )
    if not todays:
        lines.append("  none")
    return "\n".join(lines)
