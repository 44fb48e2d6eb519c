"""``liftrun sync --once``: plan, place around every busy source, write every ICS feed.

The thin end-to-end path until the sync engine lands; it already keeps the engine's promises
that matter for a feed: a source that cannot be read (and has no last good copy) changes
nothing, a feed whose plan did not change is not rewritten, and sessions already in the past
stay where the feed had them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

from adapters.ics_feed import IcsFeedTarget, content_hash
from adapters.protocol import AdapterError, BusySource, OwnedEvent, SourceUnavailable
from config.loader import LoadedConfig
from planner.busy import BusyInterval
from planner.model import Session
from planner.placement import PlaceRules, apply_placement, place
from planner.plan import build_plan, default_span

SourceFactory = Callable[[str, LoadedConfig], BusySource]


@dataclass
class TargetReport:
    created: int = 0
    updated: int = 0
    moved: int = 0
    cancelled: int = 0
    unchanged: int = 0
    writes: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass
class OnceReport:
    started: datetime
    targets: dict[str, TargetReport] = field(default_factory=dict)
    sources: dict[str, dict[str, object]] = field(default_factory=dict)
    unplaced: list[dict[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return any(not s["ok"] for s in self.sources.values()) or any(
            t.errors for t in self.targets.values()
        )

    def as_dict(self) -> dict[str, object]:
        return {
            "started": self.started.isoformat(),
            "targets": {name: vars(t) for name, t in self.targets.items()},
            "sources": self.sources,
            "unplaced": self.unplaced,
            "warnings": self.warnings,
        }


def run_once(loaded: LoadedConfig, *, now: datetime, sources: SourceFactory) -> OnceReport:
    settings = loaded.settings
    zone = settings.zone
    report = OnceReport(started=now)
    first, weeks = default_span(settings, now.astimezone(zone).date())
    planned = build_plan(settings, first, weeks)
    lo = datetime.combine(planned.start - timedelta(days=1), time(0), zone)
    hi = datetime.combine(planned.end + timedelta(days=2), time(0), zone)

    busy: list[BusyInterval] = []
    blind = False
    for cal in settings.calendars:
        for location in cal.busy_from:
            source = sources(location, loaded)
            try:
                read = source.read_busy(lo, hi)
            except SourceUnavailable as exc:
                blind = True
                report.sources[source.name] = {"ok": False, "busy_events": 0, "error": str(exc)}
                continue
            busy.extend(read.busy.intervals)
            report.warnings.extend(read.busy.warnings)
            report.sources[source.name] = {
                "ok": read.fresh,
                "busy_events": len(read.busy.intervals),
                "error": read.error,
            }
    targets: list[tuple[IcsFeedTarget, int | None]] = []
    for cal in settings.calendars:
        if not cal.push_to:
            continue
        name = cal.name or cal.push_to
        try:
            target = IcsFeedTarget(
                loaded.resolve(cal.push_to),
                name=name,
                timezone=settings.timezone,
                now=now,
                calendar_name=cal.calendar_name,
                alarm_minutes=cal.alarm_minutes,
                retention_days=cal.cancelled_retention_days,
                refresh_minutes=settings.feed.refresh_minutes,
                shadow_path=(
                    loaded.resolve(cal.push_busy_shadow_to) if cal.push_busy_shadow_to else None
                ),
            )
        except AdapterError as exc:  # an unreadable feed is never overwritten blindly
            report.targets[name] = TargetReport(errors=[str(exc)])
            continue
        targets.append((target, cal.alarm_minutes))
    if blind:
        report.warnings.append(
            "a busy source could not be read and has no last good copy: nothing was re-placed "
            "or written, so no session moves into time it might cover"
        )
        return report

    far_lo, far_hi = datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)
    owned_by_target = {
        t.name: {o.session_id: o for o in t.list_owned(far_lo, far_hi)} for t, _ in targets
    }
    previous = {
        sid: (o.start, o.end)
        for owned in owned_by_target.values()
        for sid, o in owned.items()
        if not o.cancelled
    }
    placement = place(
        planned.sessions, PlaceRules.from_settings(settings), busy, now=now, previous=previous
    )
    final = apply_placement(planned, placement)
    report.unplaced = [{"id": u.id, "reason": u.reason} for u in final.unplaced]
    report.warnings.extend(final.warnings)
    for target, alarm_minutes in targets:
        report.targets[target.name] = _push(
            target, final.sessions, owned_by_target[target.name], alarm_minutes
        )
    return report


def _push(
    target: IcsFeedTarget,
    sessions: tuple[Session, ...],
    owned: dict[str, OwnedEvent],
    alarm_minutes: int | None,
) -> TargetReport:
    out = TargetReport()
    wanted = {s.id for s in sessions}
    try:
        for s in sessions:
            h = content_hash(s, alarm_minutes)
            current = owned.get(s.id)
            if current is None or current.cancelled:
                target.create(s, h)
                out.created += 1
            elif current.content_hash != h:
                target.update(s, h, current)
                moved = current.start != s.start or current.end != s.end
                out.moved += moved
                out.updated += not moved
            else:
                out.unchanged += 1
        for sid, current in owned.items():
            if sid not in wanted and not current.cancelled:
                target.cancel(current)
                out.cancelled += 1
        out.writes = target.commit()
    except (AdapterError, OSError) as exc:
        out.errors.append(str(exc))
    return out
