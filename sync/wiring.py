"""From the ``[[calendars]]`` config to the sources and targets of one cycle.

The only module that knows which adapter serves which calendar kind; the engine receives
protocol objects and never asks.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from adapters.ics_feed import IcsFeedTarget
from adapters.ics_source import IcsSource
from adapters.protocol import AdapterError
from adapters.vdir import VdirSource, VdirTarget
from config.loader import LoadedConfig
from config.models import IcsCalendar, VdirCalendar
from sync.engine import TargetSpec, Wiring


def build(loaded: LoadedConfig, now: datetime) -> Wiring:
    settings = loaded.settings
    wiring = Wiring()
    for cal in settings.calendars:
        if isinstance(cal, IcsCalendar):
            _ics(loaded, cal, now, wiring)
        elif isinstance(cal, VdirCalendar):
            _vdir(loaded, cal, now, wiring)
    return wiring


def _ics(loaded: LoadedConfig, cal: IcsCalendar, now: datetime, wiring: Wiring) -> None:
    settings = loaded.settings
    for location in cal.busy_from:
        wiring.sources.append(
            IcsSource(
                location,
                cache_dir=loaded.state_dir / "sources",
                tz=settings.zone,
                timeout=cal.fetch_timeout_seconds,
                max_bytes=cal.max_source_bytes,
            )
        )
    if not cal.push_to:
        return
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
        wiring.broken[name] = str(exc)
        return
    wiring.targets.append(TargetSpec(target, cal.alarm_minutes))


def _vdir(loaded: LoadedConfig, cal: VdirCalendar, now: datetime, wiring: Wiring) -> None:
    settings = loaded.settings
    for location in cal.busy_from:
        path = loaded.resolve(location)
        wiring.sources.append(VdirSource(path, name=_shown(path), tz=settings.zone))
    if not cal.push_to:
        return
    name = cal.name or cal.push_to
    target = VdirTarget(
        loaded.resolve(cal.push_to),
        name=name,
        timezone=settings.timezone,
        now=now,
        alarm_minutes=cal.alarm_minutes,
    )
    wiring.targets.append(TargetSpec(target, cal.alarm_minutes))


def _shown(path: Path) -> str:
    return str(path)
