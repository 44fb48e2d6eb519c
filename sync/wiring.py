"""From the ``[[calendars]]`` config to the sources and targets of one cycle.

The only module that knows which adapter serves which calendar kind; the engine receives
protocol objects and never asks.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

from adapters.ics.feed import IcsFeedTarget
from adapters.protocol import AdapterError, BusySource, SourceRead, SourceUnavailable
from adapters.vdir.directory import VdirSource, VdirTarget
from config.loader import LoadedConfig
from config.models import CaldavCalendar, GoogleCalendar, IcsCalendar, VdirCalendar
from sync.engine import Learnt, TargetSpec, Wiring
from sync.sources import describe_failure
from sync.state import StateStore

log = logging.getLogger("liftrun.sync")

S = TypeVar("S", bound=BusySource)

# A source's own deadline falls a little inside the cycle's wait for it, so that a source which
# runs out of time still gets to answer with its last good copy (stale, not blind) in time.
SOURCE_DEADLINE_SHARE = 0.9


def _source_deadline(loaded: LoadedConfig) -> float:
    return loaded.settings.sync.source_timeout_seconds * SOURCE_DEADLINE_SHARE


class UnopenedSource:
    """A busy source that could not even be built (no Google token yet, a bad CA file, a
    location its adapter refuses): it stays in the cycle under its own name and fails every
    read with the reason, so the cycle is blind to it like any other failed source and the
    report, health and ``liftrun check`` name it."""

    def __init__(self, name: str, error: str) -> None:
        self.name = name
        self.error = error

    def __repr__(self) -> str:
        return f"UnopenedSource({self.name!r})"

    def read_busy(self, start: datetime, end: datetime) -> SourceRead:
        raise SourceUnavailable(self.error)


def _add_source(wiring: Wiring, name: str, make: Callable[[], S]) -> S | None:
    """``make()`` appended to the cycle's sources, or, when building it fails in any way, an
    :class:`UnopenedSource` under ``name`` (a name free of secrets) carrying why."""
    try:
        source = make()
    except Exception as exc:  # one calendar's trouble is never the whole cycle's
        log.debug("busy source %s could not be opened", name, exc_info=True)
        wiring.sources.append(UnopenedSource(name, describe_failure(exc)))
        return None
    wiring.sources.append(source)
    return source


def build(
    loaded: LoadedConfig,
    now: datetime,
    store: StateStore | None = None,
    *,
    probe: bool = False,
    persist: bool = True,
) -> Wiring:
    """The calendars of one cycle. ``store`` supplies what earlier cycles learnt (a CalDAV
    calendar's URL, remembered so a rename on the server does not start a second calendar).
    ``probe`` (``liftrun check``) opens targets without leave to create a missing calendar or
    directory (reading must leave no trace): they raise ``NotCreatedYet`` instead.
    ``persist=False`` (``sync --dry-run``) gives every adapter that keeps a cache in the state
    directory leave to read it but not to write it, so a dry run leaves no trace there."""
    settings = loaded.settings
    wiring = Wiring()
    for cal in settings.calendars:
        if isinstance(cal, IcsCalendar):
            _ics(loaded, cal, now, wiring, persist=persist)
        elif isinstance(cal, VdirCalendar):
            _vdir(loaded, cal, now, wiring, probe=probe)
        elif isinstance(cal, CaldavCalendar):
            _caldav(loaded, cal, now, wiring, store, probe=probe, persist=persist)
        else:
            _google(loaded, cal, now, wiring, store, probe=probe, persist=persist)
    return wiring


def _google(
    loaded: LoadedConfig,
    cal: GoogleCalendar,
    now: datetime,
    wiring: Wiring,
    store: StateStore | None,
    *,
    probe: bool = False,
    persist: bool = True,
) -> None:
    # imported here: the Google API client costs a cycle without a Google calendar 0.1 s or more
    from adapters.google.auth import build_credentials
    from adapters.google.source import GoogleSource
    from adapters.google.target import GoogleTarget

    settings = loaded.settings
    account = cal.name or "google"
    name = cal.name or cal.push_to or "google"
    source_name = f"{account}: {', '.join(cal.busy_from)}"
    token_file = cal.token_path(loaded.resolve, loaded.state_dir)
    try:
        credentials = build_credentials(
            cal.auth,
            token_file=token_file,
            service_account_file=(
                loaded.resolve(cal.service_account_file) if cal.service_account_file else None
            ),
            subject=cal.subject,
            api_endpoint=cal.api_endpoint,
            persist=persist,
        )
    except ValueError as exc:  # no token yet, an unreadable key: said once, per calendar
        if cal.push_to:
            wiring.broken[name] = str(exc)
        if cal.busy_from:
            wiring.sources.append(UnopenedSource(source_name, str(exc)))
        return
    cache = loaded.state_dir / "google"
    key = f"google-calendar-id:{token_file}:{cal.push_to}"
    remembered = store.get_meta(key) if store else None
    if cal.push_to:
        target = GoogleTarget(
            api_endpoint=cal.api_endpoint,
            credentials=credentials,
            calendar=cal.push_to,
            calendar_id=remembered,
            timezone=settings.timezone,
            now=now,
            cache_dir=cache,
            alarm_minutes=cal.alarm_minutes,
            name=name,
            account=str(token_file),
            create=not probe,
            persist=persist,
        )
        wiring.targets.append(TargetSpec(target, cal.alarm_minutes))
        wiring.learnt.append(Learnt(key, target))
    if cal.busy_from:
        _add_source(
            wiring,
            source_name,
            lambda: GoogleSource(
                cal.busy_from,
                api_endpoint=cal.api_endpoint,
                credentials=credentials,
                timezone=settings.timezone,
                name=source_name,
                exclude=[remembered] if remembered else [],
                cache_dir=cache,
                account=str(token_file),
                persist=persist,
            ),
        )


def _caldav(
    loaded: LoadedConfig,
    cal: CaldavCalendar,
    now: datetime,
    wiring: Wiring,
    store: StateStore | None,
    *,
    probe: bool = False,
    persist: bool = True,
) -> None:
    # imported here: caldav and its HTTP stack cost a cycle without a CalDAV calendar 0.1 s
    from adapters.caldav.source import CalDAVSource
    from adapters.caldav.target import CalDAVTarget

    settings = loaded.settings
    common: dict[str, Any] = {
        "username": cal.username,
        "password": cal.password.get_secret_value() if cal.password else None,
        "timezone": settings.timezone,
        "cache_dir": loaded.state_dir / "caldav",
        "verify_tls": cal.verify_tls,
        "ca_file": str(loaded.resolve(cal.ca_file)) if cal.ca_file else None,
        "auth_type": cal.auth,
        "timeout": cal.timeout_seconds,
        "persist": persist,
    }
    account = cal.name or urlsplit(cal.url).hostname or "caldav"
    for spec in cal.busy_from:
        key = f"caldav-url:{cal.url}:{spec}"
        source_name = f"{account}: {spec}"
        source = _add_source(
            wiring,
            source_name,
            functools.partial(
                CalDAVSource,
                cal.url,
                calendar=spec,
                calendar_url=store.get_meta(key) if store else None,
                name=source_name,
                deadline_seconds=_source_deadline(loaded),
                **common,
            ),
        )
        if source is not None:
            wiring.learnt.append(Learnt(key, source))
    if not cal.push_to:
        return
    name = cal.name or cal.push_to
    key = f"caldav-url:{cal.url}:{cal.push_to}"
    target = CalDAVTarget(
        cal.url,
        calendar=cal.push_to,
        calendar_url=store.get_meta(key) if store else None,
        name=name,
        now=now,
        alarm_minutes=cal.alarm_minutes,
        create=not probe,
        **common,
    )
    wiring.targets.append(TargetSpec(target, cal.alarm_minutes))
    wiring.learnt.append(Learnt(key, target))


def _ics(
    loaded: LoadedConfig, cal: IcsCalendar, now: datetime, wiring: Wiring, *, persist: bool = True
) -> None:
    settings = loaded.settings
    for location in cal.busy_from:
        from adapters.ics.source import IcsSource  # httpx, tenacity: only when there is a source

        _add_source(
            wiring,
            _ics_name(location),
            functools.partial(
                IcsSource,
                location,
                cache_dir=loaded.state_dir / "sources",
                tz=settings.zone,
                timeout=cal.fetch_timeout_seconds,
                deadline_seconds=_source_deadline(loaded),
                max_bytes=cal.max_source_bytes,
                persist=persist,
            ),
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


def _ics_name(location: str) -> str:
    try:
        from adapters.locations import display_name

        return display_name(location)
    except ValueError:  # the source itself refuses the location, with the reason
        return "an ICS source with a malformed address"


def _vdir(
    loaded: LoadedConfig, cal: VdirCalendar, now: datetime, wiring: Wiring, *, probe: bool = False
) -> None:
    settings = loaded.settings
    for location in cal.busy_from:
        path = loaded.resolve(location)
        _add_source(
            wiring,
            str(path),
            functools.partial(
                VdirSource,
                path,
                name=str(path),
                tz=settings.zone,
                deadline_seconds=_source_deadline(loaded),
            ),
        )
    if not cal.push_to:
        return
    name = cal.name or cal.push_to
    target = VdirTarget(
        loaded.resolve(cal.push_to),
        name=name,
        timezone=settings.timezone,
        now=now,
        alarm_minutes=cal.alarm_minutes,
        create_missing=not probe,
    )
    wiring.targets.append(TargetSpec(target, cal.alarm_minutes))
