"""``liftrun check``: validate the config and reach every calendar once, writing to none.

It exists because a sync failing at 3 a.m. is a poor way to learn that a password file or a
busy feed is wrong: it reaches every calendar once, writes to none, and says per calendar what
it found. It opens no state store and points every adapter cache at a scratch directory, so
``state/`` is left exactly as it was; CalDAV and vdir targets are opened in probe mode (nothing
is created) and a Training calendar that does not exist yet is reported as one the first sync
creates, not as a failure.

The adapters and the engine's source reader are imported inside the command: ``liftrun
--help`` imports this module for its one line of help.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import click

from cli.common import EXIT_SOURCE_FAILED, config_option, fail, load_config

if TYPE_CHECKING:
    from adapters.protocol import BusySource, CalendarTarget
    from config.loader import LoadedConfig


def scratch_state(loaded: LoadedConfig, scratch: Path) -> LoadedConfig:
    """The config with ``state.path`` moved to a scratch directory: adapters keep their caches
    (last good copies, CalDAV and Google mirrors) under it, and a check must not change what the
    next sync starts from. Google's token file is resolved from the config file's directory, not
    from here, so it is still found."""
    from config.models import State

    settings = loaded.settings.model_copy(update={"state": State(path=str(scratch))})
    return replace(loaded, settings=settings)


def target_status(target: CalendarTarget, start: datetime, end: datetime) -> str:
    from adapters.protocol import NotCreatedYet, TargetReset

    try:
        owned = target.list_owned(start, end)
    except NotCreatedYet as exc:  # opened with probe=True: the first sync creates it
        return f"ok (0 liftrun events; {exc})"
    except TargetReset:  # a feed file not written yet (or lost): the next sync writes it
        return "ok (0 liftrun events)"
    count = sum(1 for e in owned if not e.cancelled and e.start < end and e.end > start)
    return f"ok ({count} liftrun events)"


def failure(exc: BaseException) -> str:
    """Adapter errors are written for people; anything else is named by its type as well."""
    from adapters.protocol import AdapterError

    if isinstance(exc, AdapterError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def probe_sources(
    sources: Sequence[BusySource], start: datetime, end: datetime, timeout: float, horizon: int
) -> list[tuple[bool, str]]:
    """Read as a sync cycle reads (concurrently, within ``source_timeout_seconds``), so a
    source too slow for sync is too slow here as well."""
    from sync.sources import read_sources

    lines: list[tuple[bool, str]] = []
    for result in read_sources(sources, start, end, timeout):
        name, read = result.name, result.read
        if read is None or not read.fresh:
            why = result.error if read is None else read.error
            lines.append((False, f"source {name}: FAILED: {why or 'not read'}"))
            continue
        for warning in read.busy.warnings:
            click.echo(f"warning: {warning}", err=True)
        n = len(read.busy.intervals)
        lines.append((True, f"source {name}: ok ({n} busy events in the next {horizon} days)"))
    return lines


def probe_targets(
    targets: Sequence[CalendarTarget], start: datetime, end: datetime
) -> list[tuple[bool, str]]:
    """Read every target back concurrently; each adapter's own configured timeout bounds it
    (as in a sync cycle, which puts no overall limit on targets either)."""
    from concurrent.futures import Future, ThreadPoolExecutor

    if not targets:
        return []
    with ThreadPoolExecutor(
        max_workers=min(8, len(targets)), thread_name_prefix="check-target"
    ) as pool:
        futures: list[tuple[CalendarTarget, Future[str]]] = [
            (t, pool.submit(target_status, t, start, end)) for t in targets
        ]
        lines: list[tuple[bool, str]] = []
        for target, future in futures:
            try:
                lines.append((True, f"target {target.name}: {future.result()}"))
            except Exception as exc:  # a check reports every failure; it never raises one
                lines.append((False, f"target {target.name}: FAILED: {failure(exc)}"))
    return lines


@click.command()
@config_option
def check(config_path: str | None) -> None:
    """Validate the config and reach every calendar once, writing to none.

    One line per busy source and per target. Exit codes: 0 all reachable, 2 configuration
    error, 3 some calendar failed.
    """
    from adapters.protocol import AdapterError
    from sync.wiring import build

    loaded = load_config(config_path)
    settings = loaded.settings
    now = datetime.now(UTC).replace(microsecond=0)
    horizon = settings.sync.horizon_days
    end = now + timedelta(days=horizon)
    click.echo(f"config {loaded.source}: ok")
    if not settings.calendars:
        click.echo("no [[calendars]]: `liftrun sync` has nowhere to push (see liftrun init)")
        return
    with tempfile.TemporaryDirectory(prefix="liftrun-check-", ignore_cleanup_errors=True) as tmp:
        try:
            wiring = build(scratch_state(loaded, Path(tmp)), now, store=None, probe=True)
        except (AdapterError, ValueError, OSError) as exc:
            fail(f"cannot open the calendars: {failure(exc)}")
        lines = probe_sources(
            wiring.sources, now, end, settings.sync.source_timeout_seconds, horizon
        )
        lines += probe_targets([spec.target for spec in wiring.targets], now, end)
        lines += [(False, f"target {n}: FAILED: {why}") for n, why in wiring.broken.items()]
    for _, line in lines:
        click.echo(line)
    failed = sum(1 for ok, _ in lines if not ok)
    if failed:
        click.echo(f"check: {failed} of {len(lines)} failed; nothing was written")
        sys.exit(EXIT_SOURCE_FAILED)
    click.echo(f"check: {len(lines)} of {len(lines)} ok; nothing was written")
