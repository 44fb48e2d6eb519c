"""``liftrun status``: what the loop did lately and what needs the athlete's attention.

Read from the state store only (no calendar is contacted), so it is cheap enough for a
container HEALTHCHECK (``--check``).

The status is a JSON document (``--format json``) whose shape is public, so it is built as
plain dicts; the ``TypedDict`` classes below let mypy check every key that is read.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TypedDict
from zoneinfo import ZoneInfo

from config.models import Settings
from sync.report import CycleReport
from sync.state import Health, StateStore

RECENT = 5


class CycleStatus(TypedDict):
    started: str
    finished: str
    ok: bool
    writes: int


class CalendarStatus(TypedDict):
    name: str
    ok: bool
    checked: str
    last_ok: str | None
    error: str | None


class PinStatus(TypedDict):
    session: str
    start: str
    target: str


class TombstoneStatus(TypedDict):
    session: str
    title: str
    target: str
    at: str


class Status(TypedDict):
    now: str
    last_cycles: list[CycleStatus]
    next_cycle: str | None
    interval_minutes: int
    sources: list[CalendarStatus]
    targets: list[CalendarStatus]
    pins: list[PinStatus]
    tombstones: list[TombstoneStatus]
    warnings: list[str]
    unplaced: list[dict[str, str]]
    failing: list[str]


def collect(store: StateStore, settings: Settings, now: datetime) -> Status:
    """What ``liftrun status`` shows, every instant in the plan's zone as the sync's report
    gives them: the store keeps UTC, and a pin read as ``18:00+00:00`` by an athlete in Berlin
    is an hour off from the session in their calendar."""
    zone = settings.zone
    cycles = store.cycles(RECENT)
    report = cycles[0].report if cycles else None  # None: none yet, or the last one crashed
    health = store.health()
    next_cycle = store.get_meta("next_cycle_at")
    return {
        "now": _at(now, zone),
        "last_cycles": [
            {
                "started": _at(c.started, zone),
                "finished": _at(c.finished, zone),
                "ok": c.ok,
                "writes": c.report.writes if c.report else 0,
            }
            for c in cycles
        ],
        "next_cycle": _at(datetime.fromisoformat(next_cycle), zone) if next_cycle else None,
        "interval_minutes": settings.sync.interval_minutes,
        "sources": [_health(h, zone) for h in health if h.kind == "source"],
        "targets": [_health(h, zone) for h in health if h.kind == "target"],
        "pins": [
            {"session": p.session_id, "start": _at(p.start, zone), "target": p.target}
            for p in sorted(store.pins().values(), key=lambda p: p.start)
            if p.end >= now  # a pin in the past has done its job
        ],
        "tombstones": [
            {"session": t.session_id, "title": t.title, "target": t.target, "at": _at(t.at, zone)}
            for t in sorted(store.tombstones().values(), key=lambda t: t.session_id)
        ],
        "warnings": list(report.warnings) if report else [],
        "unplaced": [u.as_dict() for u in report.unplaced] if report else [],
        "failing": failing(report) if report else [],
    }


def _at(instant: datetime, zone: ZoneInfo) -> str:
    return instant.astimezone(zone).isoformat()


def failing(report: CycleReport) -> list[str]:
    """What failed in a journalled cycle, one line per calendar, by the identity the cycle gave
    it (two sources with one display name are two lines, never one that says ok)."""
    lines = [
        f"source {name}: {src.error or 'failed'}"
        for name, src in report.sources.items()
        if not src.ok
    ]
    lines += [
        f"target {name}: {'; '.join(t.errors)}" for name, t in report.targets.items() if t.errors
    ]
    return lines


def _health(h: Health, zone: ZoneInfo) -> CalendarStatus:
    return {
        "name": h.name,
        "ok": h.ok,
        "checked": _at(h.at, zone),
        "last_ok": _at(h.last_ok, zone) if h.last_ok else None,
        "error": h.error,
    }


def check(status: Status, now: datetime) -> str | None:
    """Why the service is unhealthy, or None: no cycle yet, the last one failed, or it is
    older than three intervals (the loop is stuck or dead)."""
    cycles = status["last_cycles"]
    if not cycles:
        return "no sync cycle has run yet"
    last = cycles[0]
    if not last["ok"]:
        why = "; ".join(status["failing"])
        detail = f": {why}" if why else ""
        return f"the last cycle ({last['started']}) failed{detail}; see `liftrun status`"
    age = now - datetime.fromisoformat(last["finished"])
    limit = timedelta(minutes=3 * status["interval_minutes"] + 5)
    if age > limit:
        return f"the last cycle finished {int(age.total_seconds() // 60)} minutes ago"
    return None


def render(status: Status) -> str:
    lines: list[str] = []
    cycles = status["last_cycles"]
    if not cycles:
        lines.append("no sync cycle has run yet: run `liftrun sync --once`")
    for c in cycles:
        state = "ok" if c["ok"] else "FAILED"
        lines.append(f"cycle {c['started']}: {state}, {c['writes']} writes")
    if status["next_cycle"]:
        lines.append(f"next cycle: {status['next_cycle']}")
    for kind, calendars in (("source", status["sources"]), ("target", status["targets"])):
        for h in calendars:
            state = (
                "ok" if h["ok"] else f"FAILING: {h['error']} (last ok {h['last_ok'] or 'never'})"
            )
            lines.append(f"{kind} {h['name']}: {state}")
    for p in status["pins"]:
        lines.append(f"pinned {p['session']} at {p['start']} (moved by hand in {p['target']})")
    for t in status["tombstones"]:
        lines.append(
            f"deleted by hand: {t['session']} {t['title']} in {t['target']} "
            f"(bring it back: liftrun restore {t['session']})"
        )
    for u in status["unplaced"]:
        lines.append(f"unplaced {u['id']}: {u['reason']}")
    for w in status["warnings"]:
        lines.append(f"warning: {w}")
    return "\n".join(lines)
