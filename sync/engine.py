"""One sync cycle: busy time in, placement, the athlete's edits honoured, only changes out.

The order matters and each step guards the next:

1. every busy source is read concurrently, each on a daemon thread, all within a timeout
   (``sync/sources.py``); one that cannot be read (whatever it raised, or no answer in time)
   makes the cycle *blind*: sessions stay where they were, nothing new is placed and nothing
   is cancelled, because any of it could land in time that source covers. A read left behind
   never holds the process and is not started again while it lives; a stop request ends the
   wait and the cycle;
2. every target is read back; what the athlete did there is taken in first (S9: a move by hand
   becomes a pin, a deletion by hand a tombstone), and what an interrupted run left behind is
   adopted rather than duplicated;
3. the horizon is placed around busy time, pins and the previous placement, with what the
   athlete said on their page (``sync/actions.py``): sessions marked done or skipped stay where
   they are and say so in their description, paused days hold nothing; each session gets the
   link to its page where a public URL is set (``sync/links.py``), the same in every target;
4. the difference between what should be and what each target holds becomes an action list
   (``sync/diff.py``), each action with the reason it gives the athlete; then the list is
   carried out, every outcome recorded as soon as it is durable.

The engine only knows the adapter protocol; it never asks what kind of calendar it writes to.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta

from adapters.protocol import (
    Action,
    ActionKind,
    AdapterError,
    AlreadyExists,
    BusySource,
    CalendarTarget,
    Learns,
    NotFound,
    Outcome,
    OwnedEvent,
    PreconditionFailed,
    TargetReset,
    day_start,
)
from config.models import Settings
from planner.busy import BusyInterval
from planner.constraints import RuleBook
from planner.model import Kind, Plan, Session, Unplaced
from planner.pause import Pause, split_paused
from planner.placement import place_plan
from sync.actions import SessionMark, effective_pauses, statuses
from sync.busy_memory import remember_busy
from sync.diff import diff
from sync.edits import take_in_edits
from sync.links import session_links
from sync.plan_of_cycle import cycle_plan
from sync.progress import WriteProgress
from sync.report import Action as ActionEntry
from sync.report import CycleReport, SourceReport, TargetReport
from sync.report import Unplaced as UnplacedEntry
from sync.sources import read_busy_time
from sync.state import Pin, StateStore, Tombstone

log = logging.getLogger("liftrun.sync")

CONTEXT_DAYS = 3  # sessions this far before the horizon still constrain it (S4, S5 gaps)
FAR_FUTURE = datetime.max.replace(tzinfo=UTC)


@dataclass(frozen=True)
class TargetSpec:
    """A target and what its content depends on besides the session (the alarm is content)."""

    target: CalendarTarget
    alarm_minutes: int | None = 30


@dataclass(frozen=True)
class Learnt:
    """Where the store keeps what one calendar found out (its URL or id): the next run opens the
    calendar from it. Applied to the store after a cycle that was not a dry run."""

    key: str
    calendar: Learns


@dataclass
class Wiring:
    """The calendars of one cycle, built from the config; ``broken`` are targets that could
    not even be opened (their error is reported, nothing is written to them)."""

    sources: list[BusySource] = field(default_factory=list)
    targets: list[TargetSpec] = field(default_factory=list)
    broken: dict[str, str] = field(default_factory=dict)
    learnt: list[Learnt] = field(default_factory=list)

    def remember(self, store: StateStore) -> None:
        """Keep what the calendars found out this cycle, where it is new."""
        for learnt in self.learnt:
            value = learnt.calendar.learned()
            if value is not None and store.get_meta(learnt.key) != value:
                store.set_meta(learnt.key, value)


@dataclass(frozen=True)
class Horizon:
    """The days this cycle places and pushes: from today (or the plan's first day, when it has
    not begun) for ``horizon_days``; the window read from calendars has a margin around it."""

    first: date
    end: date  # exclusive
    read_from: datetime
    read_to: datetime
    ends_at: datetime


def horizon(settings: Settings, plan: Plan, now: datetime) -> Horizon:
    zone = settings.zone
    first = max(now.astimezone(zone).date(), plan.start)
    end = first + timedelta(days=settings.sync.horizon_days)
    return Horizon(
        first=first,
        end=end,
        read_from=datetime.combine(first - timedelta(days=CONTEXT_DAYS + 1), time(0), zone),
        read_to=datetime.combine(end + timedelta(days=2), time(0), zone),
        ends_at=datetime.combine(end, time(0), zone),
    )


def run_cycle(
    settings: Settings,
    store: StateStore,
    wiring: Wiring,
    *,
    now: datetime,
    dry_run: bool = False,
    stop: threading.Event | None = None,
    progress: WriteProgress | None = None,
) -> CycleReport:
    """One cycle. ``dry_run`` goes through every step, reports the action list and rolls the
    state store back: nothing is written anywhere. ``stop`` ends the wait for busy sources (the
    cycle then writes nothing) and is checked between writes. ``progress`` is told of each
    write (a dry run and an idle cycle write nothing, so tell it nothing)."""
    stop = stop or threading.Event()
    report = CycleReport(started=now, dry_run=dry_run)
    with store.rollback_after() if dry_run else nullcontext():
        _cycle(
            settings,
            store,
            wiring,
            now=now,
            report=report,
            dry_run=dry_run,
            stop=stop,
            progress=progress,
        )
    return report


def _cycle(
    settings: Settings,
    store: StateStore,
    wiring: Wiring,
    *,
    now: datetime,
    report: CycleReport,
    dry_run: bool,
    stop: threading.Event,
    progress: WriteProgress | None,
) -> None:
    marks = statuses(store)
    plan = cycle_plan(settings, store, now)
    pauses = effective_pauses(store, settings.zone)  # placement keeps the paused days clear
    hz = horizon(settings, plan, now)
    by_id = {s.id: s for s in plan.sessions}

    timeout = settings.sync.source_timeout_seconds
    busy = read_busy_time(wiring.sources, hz.read_from, hz.read_to, timeout, stop)
    report.sources = busy.sources
    report.warnings.extend(busy.warnings)
    blind = bool(busy.blind_to)
    if not blind and not stop.is_set():
        remember_busy(store, busy.intervals, now)  # what the page's "move" offers around
    if stop.is_set():  # told to stop while reading: no verdict on anything, nothing written
        report.stopped = True
        _record_health(store, busy.sources, {}, now)
        return
    targets = {name: TargetReport(errors=[error]) for name, error in wiring.broken.items()}
    report.targets = targets
    owned = _read_back(store, wiring, targets, hz=hz, by_id=by_id, now=now, report=report)
    _record_health(store, busy.sources, targets, now)

    previous = store.placements()
    pins = store.pins()
    tombstones = store.tombstones()
    desired, unplaced, placement_warnings = _place(
        settings,
        plan,
        busy.intervals,
        now=now,
        hz=hz,
        previous=previous,
        pins=pins,
        tombstones=tombstones,
        blind_to=busy.blind_to,
        pauses=pauses,
        marks=marks,
    )
    report.unplaced = [UnplacedEntry(sid, why) for sid, why in unplaced.items()]
    report.warnings.extend(placement_warnings)
    # the store lives in the state directory, beside the page secret the links are signed with
    links = session_links(settings, store.path.parent, create=not dry_run)
    if links.warning:
        report.warnings.append(links.warning)
    if links.make is not None:
        desired = {sid: replace(s, link=links.of(sid)) for sid, s in desired.items()}

    for spec in wiring.targets:
        name = spec.target.name
        if name not in owned:
            continue
        actions = diff(
            spec.alarm_minutes,
            desired,
            owned[name],
            pinned_here={sid for sid, pin in pins.items() if pin.target == name},
            tombstones=tombstones,
            marked=marks.keys(),
            unplaced=unplaced,
            ends_at=hz.ends_at,
            now=now,
            blind=blind,
        )
        acted = {a.session_id for a in actions}
        targets[name].unchanged = sum(
            1
            for sid in desired
            if sid in owned[name] and not owned[name][sid].cancelled and sid not in acted
        )
        for a in actions:
            report.actions.append(ActionEntry(name, a.kind.value, a.session_id, a.reason))
            log.debug("%s %s %s: %s", name, a.kind.value, a.session_id, a.reason)
        if dry_run or not actions:
            continue
        if stop.is_set():
            report.stopped = True
            break
        _execute(
            store,
            spec.target,
            actions,
            out=targets[name],
            report=report,
            now=now,
            stop=stop,
            progress=progress,
        )

    if not dry_run:
        store.replace_placements(
            {
                sid: (s.start, s.end)
                for sid, s in desired.items()
                if s.start is not None and s.end is not None
            }
            if not blind
            else previous
        )


def _read_back(
    store: StateStore,
    wiring: Wiring,
    targets: dict[str, TargetReport],
    *,
    hz: Horizon,
    by_id: dict[str, Session],
    now: datetime,
    report: CycleReport,
) -> dict[str, dict[str, OwnedEvent]]:
    """What each target holds, by session id, with the athlete's edits taken in; a target that
    cannot be read back is left out (and so not written), its error in ``targets``."""
    owned: dict[str, dict[str, OwnedEvent]] = {}
    for spec in wiring.targets:
        name = spec.target.name
        targets[name] = TargetReport()
        try:
            events = spec.target.list_owned(hz.read_from, hz.read_to)
        except TargetReset as exc:
            if store.events(name):
                store.forget_target(name)
                report.warnings.append(f"{name}: {exc}")
                continue
            events = []  # nothing recorded for it yet: a first push, not a reset
        except AdapterError as exc:
            targets[name].errors.append(f"cannot read back: {exc}")
            continue
        window = (hz.read_from, hz.read_to)
        owned[name] = take_in_edits(
            store, name, events, window=window, by_id=by_id, now=now, report=report
        )
    return owned


def _place(
    settings: Settings,
    plan: Plan,
    busy: list[BusyInterval],
    *,
    now: datetime,
    hz: Horizon,
    previous: dict[str, tuple[datetime, datetime]],
    pins: Mapping[str, Pin],
    tombstones: Mapping[str, Tombstone],
    blind_to: Sequence[str],
    pauses: Sequence[Pause] = (),
    marks: Mapping[str, SessionMark] | None = None,
) -> tuple[dict[str, Session], dict[str, str], list[str]]:
    """The horizon's sessions at their times, the ones that found no time (with why), and
    what the athlete should be warned of. Paused sessions are not placed (nothing is made up
    for them); marked ones stay at their last time and carry their mark's line first in their
    description, so every calendar shows it."""
    marks = marks or {}
    context_from = hz.first - timedelta(days=CONTEXT_DAYS)
    by_date = {s.id: s.date for s in plan.sessions}
    scope = [
        s
        for s in plan.sessions
        if s.id not in tombstones
        and s.date < hz.end
        and (s.date >= hz.first or (s.id in previous and s.date >= context_from))
    ]
    scope, paused = split_paused(scope, pauses)
    paused = [u for u in paused if by_date[u.id] >= hz.first]  # the past is as it was
    freeze_until = now + timedelta(hours=settings.sync.freeze_hours)
    waiting: list[Unplaced] = list(paused)
    warnings: list[str] = []
    if blind_to:
        freeze_until = FAR_FUTURE
        blind_names = ", ".join(blind_to)
        waiting = [
            Unplaced(s.id, f"waiting for busy source {blind_names}, which could not be read")
            for s in scope
            if s.id not in previous and s.id not in pins
        ]
        scope = [s for s in scope if s.id in previous or s.id in pins]
        warnings.append(
            f"busy source {blind_names} could not be read: sessions stay where they are, "
            "nothing new is placed and nothing is cancelled until it can"
        )
    scope_ids = {s.id for s in scope}
    pinned = {k: (p.start, p.end) for k, p in pins.items() if k in scope_ids}
    for i, s in enumerate(scope):
        if s.kind is Kind.RACE and s.id in pinned:  # race day moved by hand: its own times
            scope[i] = _race_where_pinned(s, pinned.pop(s.id), settings)
    final = place_plan(
        replace(plan, sessions=tuple(scope), unplaced=()),
        RuleBook.from_settings(settings),
        busy,
        now=now,
        previous={k: v for k, v in previous.items() if k in scope_ids},
        pinned=pinned,
        freeze_until=freeze_until,
        frozen=marks.keys(),
    )
    unplaced = {u.id: u.reason for u in (*final.unplaced, *waiting)}
    warnings.extend(final.warnings)
    desired = {
        s.id: _marked(s, marks[s.id]) if s.id in marks else s
        for s in final.sessions
        if s.start is not None
    }
    return desired, unplaced, warnings


def _marked(s: Session, mark: SessionMark) -> Session:
    return replace(s, description=f"{mark.line()}\n\n{s.description}")


def _race_where_pinned(
    race: Session, pin: tuple[datetime, datetime], settings: Settings
) -> Session:
    """Race day as the athlete left it after moving it by hand (S9), like any pinned session.

    Placement keeps race day at the session's own times (P4) and takes no pin for it, so the
    athlete's time becomes the session's (and the pin is not passed on as well, which would
    only warn that the race breaks P4 with itself and lies outside the training windows):
    every other target then shows the day they chose, and P4 keeps the other sessions off that
    day. Whole local days stay an all-day event; a time they gave it makes it a timed one.
    """
    zone = settings.zone
    start, end = pin[0].astimezone(zone), pin[1].astimezone(zone)
    length = end.astimezone(UTC) - start.astimezone(UTC)  # in UTC: not by wall clock
    whole_days = end > start and all(
        t.astimezone(UTC) == day_start(t.date(), zone).astimezone(UTC) for t in (start, end)
    )
    return replace(
        race,
        date=start.date(),
        start=start,
        end=end,
        all_day=whole_days,
        duration_minutes=round(length / timedelta(minutes=1)),
    )


def _record_health(
    store: StateStore,
    sources: Mapping[str, SourceReport],
    targets: Mapping[str, TargetReport],
    now: datetime,
) -> None:
    for name, src in sources.items():
        store.set_health("source", name, ok=src.ok, at=now, error=src.error or None)
    for name, t in targets.items():
        store.set_health("target", name, ok=not t.errors, at=now, error="; ".join(t.errors) or None)


def _execute(
    store: StateStore,
    target: CalendarTarget,
    actions: list[Action],
    *,
    out: TargetReport,
    report: CycleReport,
    now: datetime,
    stop: threading.Event,
    progress: WriteProgress | None,
) -> None:
    name = target.name
    store.mark_pending(name, [(a.session_id, a.kind.value) for a in actions])
    if progress is not None:
        progress.on_write(name, 0, len(actions))
    outcomes = target.apply(actions)
    try:
        for done, outcome in enumerate(outcomes, start=1):
            _record(store, name, outcome, out=out, report=report, now=now)
            if progress is not None:
                progress.on_write(name, done, len(actions))
            if stop.is_set():
                report.stopped = True
                break
    except (AdapterError, OSError) as exc:
        out.errors.append(str(exc))
        log.error("%s: %s", name, exc)
    finally:
        close = getattr(outcomes, "close", None)
        if close is not None:
            close()


def _record(
    store: StateStore,
    name: str,
    outcome: Outcome,
    *,
    out: TargetReport,
    report: CycleReport,
    now: datetime,
) -> None:
    a = outcome.action
    if outcome.error is not None:
        store.clear_pending(name, a.session_id)
        err = outcome.error
        if isinstance(err, AlreadyExists | PreconditionFailed | NotFound):
            report.warnings.append(f"{name}: {a.session_id}: {err} (read again next cycle)")
        else:
            out.errors.append(f"{a.kind.value} {a.session_id}: {err}")
        return
    if a.kind is ActionKind.CANCEL:
        store.drop_event(name, a.session_id)
        out.cancelled += 1
        return
    e = outcome.event
    assert e is not None
    store.put_event(
        name,
        a.session_id,
        remote_id=e.remote_id,
        etag=e.etag,
        content_hash=e.content_hash,
        start=e.start,
        end=e.end,
        pushed_at=now,
    )
    if a.kind is ActionKind.CREATE:
        out.created += 1
    elif a.moved:
        out.moved += 1
    else:
        out.updated += 1
