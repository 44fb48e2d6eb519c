"""``liftrun check``: validate the config and reach every calendar once, writing to none.

It exists because a sync failing at 3 a.m. is a poor way to learn that a password file or a
busy feed is wrong: it reaches every calendar once, writes to none, and says per calendar what
it found, as the next sync would find it. So it reads the window the next sync reads (its plan's
horizon, which starts at the plan's first week when that is still ahead), and it opens the real
state: calendars are opened as ``sync --dry-run`` opens them (``persist=False``: the adapters'
caches, last good copies among them, are read but never written, so a failing source says
whether the sync would fall back on a copy), and what they found out where they live (a CalDAV
calendar's URL) is kept in the store, as a first sync keeps it, so that sync need not walk
discovery again. CalDAV and vdir targets are opened in probe mode (nothing is created) and a
Training calendar that does not exist yet is reported as one the first sync creates, not as a
failure. The one write a check may make is CalDAV's test of whether an existing Training
calendar enforces If-Match (once per calendar, ever): a scratch event, removed at once, and the
calendar's line says so.

The adapters and the engine's source reader are imported inside the command: ``liftrun
--help`` imports this module for its one line of help.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

import click

from cli.common import EXIT_SOURCE_FAILED, config_option, fail, load_config, open_store
from cli.progress import Reaching, on_terminal

if TYPE_CHECKING:
    from concurrent.futures import Future

    from adapters.protocol import BusySource, CalendarTarget
    from config.models import Settings
    from sync.engine import Horizon
    from sync.state import StateStore


def sync_window(settings: Settings, store: StateStore, now: datetime) -> Horizon:
    """The window the next sync cycle reads every calendar over: its plan made as the cycle
    makes it (``sync.engine``'s ``_cycle``: the default span, the athlete's soreness and pauses,
    no fixes suggested), then that plan's horizon."""
    from sync.engine import horizon
    from sync.plan_of_cycle import cycle_plan

    plan = cycle_plan(settings, store, now)
    return horizon(settings, plan, now)


def _day(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b}"


def window_words(window: Horizon) -> str:
    """``"from Thu 11 Mar to Tue 13 Apr"``: the days read, both included, in the plan's zone
    (the window's own)."""
    last = window.read_to.date() - timedelta(days=1)  # read_to is that day's midnight
    return f"from {_day(window.read_from.date())} to {_day(last)}"


def target_status(target: CalendarTarget, window: Horizon) -> str:
    from adapters.protocol import NotCreatedYet, TargetReset

    start, end = window.read_from, window.read_to
    try:
        owned = target.list_owned(start, end)
    except NotCreatedYet as exc:  # opened with probe=True: the first sync creates it
        return f"ok (0 liftrun events; {exc})" + remarks(target)
    except TargetReset:  # a feed file not written yet (or lost): the next sync writes it
        return "ok (0 liftrun events)" + remarks(target)
    count = sum(1 for e in owned if not e.cancelled and e.start < end and e.end > start)
    return f"ok ({count} liftrun events)" + remarks(target)


def remarks(target: CalendarTarget) -> str:
    """What the calendar says of how liftrun treats it (``adapters.protocol.Remarks``), each
    after a semicolon; asked after it was read, so that it has found out what it remarks on."""
    from adapters.protocol import Remarks

    if not isinstance(target, Remarks):
        return ""
    return "".join(f"; {remark}" for remark in target.remarks())


def failure(exc: BaseException) -> str:
    """Adapter errors are written for people; anything else is named by its type as well."""
    from adapters.protocol import AdapterError

    if isinstance(exc, AdapterError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def probe_sources(
    sources: Sequence[BusySource],
    window: Horizon,
    timeout: float,
    *,
    reaching: Reaching | None = None,
) -> list[tuple[bool, str]]:
    """Read as a sync cycle reads (concurrently, within ``source_timeout_seconds``), so a
    source too slow for sync is too slow here as well. A source that answered with its last
    good copy has failed (the check exits 3), and its line says, in the sync's words, that the
    sync would use that copy and how much busy time it holds."""
    from sync.sources import read_sources, unique_names

    watch = reaching or Reaching(enabled=False)
    for name in unique_names([s.name for s in sources]):
        watch.started(f"source {name}")
    span = window_words(window)
    lines: list[tuple[bool, str]] = []
    for result in read_sources(sources, window.read_from, window.read_to, timeout):
        name, read = result.name, result.read
        if read is None:
            lines.append((False, f"source {name}: FAILED: {result.error or 'not read'}"))
        else:
            for warning in read.busy.warnings:
                click.echo(f"warning: {warning}", err=True)
            n = len(read.busy.intervals)
            if not read.fresh:
                why = read.error or "not read"
                lines.append((False, f"source {name}: FAILED: {why} ({n} busy events {span})"))
            else:
                lines.append((True, f"source {name}: ok ({n} busy events {span})"))
        watch.finished(f"source {name}", lines[-1][1])
    return lines


def probe_targets(
    targets: Sequence[CalendarTarget], window: Horizon, *, reaching: Reaching | None = None
) -> list[tuple[bool, str]]:
    """Read every target back concurrently; each adapter's own configured timeout bounds it
    (as in a sync cycle, which puts no overall limit on targets either)."""
    from concurrent.futures import ThreadPoolExecutor

    if not targets:
        return []
    watch = reaching or Reaching(enabled=False)
    with ThreadPoolExecutor(
        max_workers=min(8, len(targets)), thread_name_prefix="check-target"
    ) as pool:
        futures: list[tuple[CalendarTarget, Future[str]]] = []
        for target in targets:
            watch.started(f"target {target.name}")
            future = pool.submit(target_status, target, window)
            future.add_done_callback(functools.partial(answered, watch, target))
            futures.append((target, future))
        return [target_line(target, future) for target, future in futures]


def target_line(target: CalendarTarget, future: Future[str]) -> tuple[bool, str]:
    """What check says of a target once its read-back has ended (``future`` is done)."""
    try:
        return True, f"target {target.name}: {future.result()}"
    except Exception as exc:  # a check reports every failure; it never raises one
        return False, f"target {target.name}: FAILED: {failure(exc)}"


def answered(watch: Reaching, target: CalendarTarget, future: Future[str]) -> None:
    """A target's spinner line becomes its result as soon as it has answered."""
    watch.finished(f"target {target.name}", target_line(target, future)[1])


@click.command()
@config_option
def check(config_path: str | None) -> None:
    """Validate the config and reach every calendar once, writing to none.

    One line per busy source and per target, over the days the next sync reads. Exit codes:
    0 all reachable, 2 configuration error, 3 some calendar failed (a busy source the sync
    would replace by its last good copy among them).
    """
    from adapters.protocol import AdapterError
    from sync.wiring import build

    loaded = load_config(config_path)
    settings = loaded.settings
    now = datetime.now(UTC).replace(microsecond=0)
    click.echo(f"config {loaded.source}: ok")
    if not settings.calendars:
        click.echo("no [[calendars]]: `liftrun sync` has nowhere to push (see liftrun init)")
        return
    with open_store(loaded) as store:
        window = sync_window(settings, store, now)
        try:
            wiring = build(loaded, now, store=store, probe=True, persist=False)
        except (AdapterError, ValueError, OSError) as exc:
            fail(f"cannot open the calendars: {failure(exc)}")
        with Reaching(enabled=on_terminal()) as reaching:
            timeout = settings.sync.source_timeout_seconds
            lines = probe_sources(wiring.sources, window, timeout, reaching=reaching)
            targets = [spec.target for spec in wiring.targets]
            lines += probe_targets(targets, window, reaching=reaching)
        lines += [(False, f"target {n}: FAILED: {why}") for n, why in wiring.broken.items()]
        wiring.remember(store)  # where the calendars live: the first sync need not look again
    for _, line in lines:
        click.echo(line)
    failed = sum(1 for ok, _ in lines if not ok)
    if failed:
        click.echo(f"check: {failed} of {len(lines)} failed; no session was written")
        sys.exit(EXIT_SOURCE_FAILED)
    click.echo(f"check: {len(lines)} of {len(lines)} ok; no session was written")
