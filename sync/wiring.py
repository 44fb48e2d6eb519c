"""From the ``[[calendars]]`` config to the sources and targets of one cycle.

Each calendar's kind opens it (:mod:`adapters.kinds` names the kinds; each kind's package says
which adapters serve it); this module only collects what they open, keeps a source that could not
even be opened in the cycle under its name, and pairs what a calendar learns with its store key.
The engine receives protocol objects and never asks which kind it holds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from adapters.kinds import OpenContext, behaviour
from adapters.protocol import BusySource, Learns, SourceRead, SourceUnavailable
from config.loader import LoadedConfig
from sync.engine import Learnt, TargetSpec, Wiring
from sync.sources import describe_failure
from sync.state import StateStore

log = logging.getLogger("liftrun.sync")

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


def _add_source(wiring: Wiring, name: str, make: Callable[[], BusySource]) -> BusySource | None:
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


def _nothing_learnt(key: str) -> str | None:
    return None


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
    context = OpenContext(
        loaded=loaded,
        now=now,
        recall=store.get_meta if store else _nothing_learnt,
        source_deadline=_source_deadline(loaded),
        probe=probe,
        persist=persist,
    )
    wiring = Wiring()
    for cal in loaded.settings.calendars:
        opened = behaviour(cal.kind).open(cal, context)
        for opening in opened.sources:
            source = _add_source(wiring, opening.name, opening.open)
            if opening.remember_as is not None and isinstance(source, Learns):
                wiring.learnt.append(Learnt(opening.remember_as, source))
        wiring.sources += [UnopenedSource(n, why) for n, why in opened.unopened.items()]
        wiring.targets += [TargetSpec(t.target, t.alarm_minutes) for t in opened.targets]
        wiring.broken.update(opened.broken)
        wiring.learnt += [Learnt(key, calendar) for key, calendar in opened.learns]
    return wiring
