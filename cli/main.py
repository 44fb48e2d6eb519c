"""The ``liftrun`` command line.

The only place that reads the clock and the environment for the planner: "today" is decided here
and passed in. User mistakes become one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import shutil
import sys
import threading
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import click
from rich.console import Console

from adapters.feed_server import feed_paths
from adapters.feed_token import FeedToken, FeedTokenError
from adapters.ics_busy import IcsParseError, read_busy_file
from adapters.ics_render import render_calendar
from cli import soreness as soreness_store
from cli.auth import auth
from cli.common import (
    EXIT_SOURCE_FAILED,
    config_option,
    fail,
    load_config,
    log_options,
    tell,
)
from cli.feed import feed, serve
from cli.init import check, init
from cli.render import print_plan
from config.loader import LoadedConfig, load
from config.models import FIRST_DATE, LAST_DATE
from planner.busy import BusyInterval
from planner.constraints import RuleBook
from planner.explain import explain
from planner.placement import apply_placement, place
from planner.plan import MAX_WEEKS, build_plan, default_span
from planner.serialize import plan_to_dict
from planner.sessions import Soreness
from sync import loop
from sync import status as status_report
from sync.engine import CycleReport
from sync.lock import LockHeld, LockRefused, StateLock
from sync.state import StateError, StateStore


def _today(loaded: LoadedConfig) -> date:
    return datetime.now(UTC).astimezone(loaded.settings.zone).date()


def _now(text: str | None, zone: ZoneInfo) -> datetime:
    if not text:
        return datetime.now(UTC)
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        fail(f"--now {text!r}: not an ISO 8601 date-time (e.g. 2027-01-04T07:30)")
    if not FIRST_DATE <= value.date() <= LAST_DATE:
        fail(f"--now {text!r}: outside {FIRST_DATE}..{LAST_DATE}")
    return value if value.tzinfo else value.replace(tzinfo=zone)


def _read_busy(
    paths: tuple[str, ...], zone: ZoneInfo, first: date, last: date
) -> tuple[list[BusyInterval], tuple[str, ...]]:
    """Busy time of the plan's span (one day of margin each side) from ``--busy`` files."""
    lo = datetime.combine(first - timedelta(days=1), time(0), zone)
    hi = datetime.combine(last + timedelta(days=2), time(0), zone)
    busy: list[BusyInterval] = []
    warnings: list[str] = []
    for path in paths:
        try:
            read = read_busy_file(Path(path), tz=zone, start=lo, end=hi)
        except IcsParseError as exc:
            fail(f"--busy {exc}")  # the message starts with the path
        busy.extend(read.intervals)
        warnings.extend(read.warnings)
    return busy, tuple(warnings)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="liftrun")
def main() -> None:
    """liftrun: a phased running + strength plan, placed in your own calendar."""
    # Everything liftrun writes (state store, journal, tokens, feeds, caches) is the athlete's
    # private data: busy titles, when they are away, credentials.
    os.umask(0o077)


@main.command()
@log_options
@config_option
@click.option("--start", type=click.DateTime(formats=["%Y-%m-%d"]), help="First week (YYYY-MM-DD).")
@click.option("--weeks", type=click.IntRange(1, MAX_WEEKS), help="Number of weeks to show.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "ics"]),
    default="table",
    show_default=True,
)
@click.option(
    "--busy",
    "busy_files",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="An iCalendar file of busy time to place around (repeatable).",
)
@click.option("--explain", "explain_id", help="Explain why one session is where it is.")
@click.option(
    "--now",
    "now_text",
    help="The current time (ISO 8601; default: the clock). Nothing is placed before it.",
)
def plan(
    *,
    config_path: str | None,
    start: datetime | None,
    weeks: int | None,
    fmt: str,
    busy_files: tuple[str, ...],
    explain_id: str | None,
    now_text: str | None,
) -> None:
    """Print the plan: phases, sessions at real times, prescriptions and the rules behind them."""
    loaded = load_config(config_path)
    settings = loaded.settings
    now = _now(now_text, settings.zone)
    default_start, default_weeks = default_span(settings, now.astimezone(settings.zone).date())
    first = start.date() if start else default_start
    if not FIRST_DATE <= first <= LAST_DATE:
        fail(f"--start {first}: outside {FIRST_DATE}..{LAST_DATE}")
    try:
        reports = soreness_store.load(loaded.state_dir)
    except soreness_store.SorenessStoreError as exc:
        fail(str(exc))
    planned = build_plan(settings, first, weeks or default_weeks, reports)
    past = settings.goal.past_race(now.astimezone(settings.zone).date())
    if past:
        tell(f"warning: {past}")
        planned = replace(planned, warnings=(past, *planned.warnings))
    busy, busy_warnings = _read_busy(busy_files, settings.zone, planned.start, planned.end)
    placement = place(planned.sessions, RuleBook.from_settings(settings), busy, now=now)
    result = apply_placement(planned, placement)
    if busy_warnings:
        result = replace(result, warnings=result.warnings + busy_warnings)
    if explain_id:
        if explain_id not in {s.id for s in planned.sessions}:
            fail(f"--explain {explain_id}: no such session in this plan (see --format json)")
        click.echo(explain(explain_id, planned, result, busy, settings.zone))
        return
    if fmt == "json":
        click.echo(json.dumps(plan_to_dict(result), indent=2, ensure_ascii=False))
    elif fmt == "ics":
        stamp = datetime.now(UTC).replace(microsecond=0)
        sys.stdout.buffer.write(
            render_calendar(result.sessions, timezone=settings.timezone, stamp=stamp)
        )
    else:
        width = shutil.get_terminal_size((160, 40)).columns if sys.stdout.isatty() else 160
        console = Console(width=max(width, 120), soft_wrap=False)
        print_plan(result, console)


@main.command()
@log_options
@config_option
@click.argument("level", type=click.Choice([s.value for s in Soreness]))
@click.option(
    "--week",
    "week_of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="A day of the week you were sore in (default: today).",
)
def sore(config_path: str | None, level: str, week_of: datetime | None) -> None:
    """Report soreness (none | moderate | severe); next week's lifting gets lighter (rule L6)."""
    loaded = load_config(config_path)
    day = week_of.date() if week_of else _today(loaded)
    try:
        monday = soreness_store.record(loaded.state_dir, day, Soreness(level))
    except (soreness_store.SorenessStoreError, OSError) as exc:
        fail(f"cannot record soreness: {exc}")
    if level == Soreness.NONE:
        click.echo(f"cleared the soreness report for the week of {monday}")
    else:
        click.echo(
            f"recorded {level} soreness for the week of {monday}; "
            "the next week's lifts carry fewer sets (L6)"
        )


def _open_store(loaded: LoadedConfig) -> StateStore:
    try:
        return StateStore(loaded.state_dir)
    except StateError as exc:
        fail(str(exc))


def _print_report(report: CycleReport, fmt: str) -> None:
    if fmt == "json":
        click.echo(json.dumps(report.as_dict(), default=str))
        return
    prefix = "dry run: would " if report.dry_run else ""
    for a in report.actions:
        click.echo(f"{prefix}{a['action']} {a['session']} in {a['target']}: {a['reason']}")
    for name, src in report.sources.items():
        state = "ok" if src["ok"] else f"FAILED: {src['error']}"
        click.echo(f"source {name}: {src['busy_events']} busy events, {state}")
    for name, t in report.targets.items():
        click.echo(
            f"target {name}: {t.created} created, {t.moved} moved, {t.updated} updated, "
            f"{t.cancelled} cancelled, {t.unchanged} unchanged"
        )
        for err in t.errors:
            tell(f"target {name}: ERROR {err}", level=logging.ERROR)
    for p in report.pinned:
        click.echo(f"pinned {p['session']} at {p['start']}: moved by hand in {p['target']} (S9)")
    for gone in report.tombstoned:
        click.echo(
            f"{gone['session']} {gone['how']} in {gone['target']}: not recreated "
            f"(liftrun restore {gone['session']})"
        )
    for u in report.unplaced:
        click.echo(f"unplaced {u['id']}: {u['reason']}")
    for w in report.warnings:
        tell(f"warning: {w}")


@main.command()
@log_options
@config_option
@click.option("--once", is_flag=True, help="Run one cycle and exit (cron, CronJob).")
@click.option("--dry-run", is_flag=True, help="Print the actions with reasons; write nothing.")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option("--now", "now_text", help="The current time (ISO 8601; --once only).")
def sync(
    *,
    config_path: str | None,
    once: bool,
    dry_run: bool,
    fmt: str,
    now_text: str | None,
) -> None:
    """Place the plan around every busy source and push the changes to every calendar.

    Without --once, runs a cycle every [sync] interval_minutes until SIGTERM or Ctrl-C.
    Exit codes: 0 ok, 2 configuration error, 3 a source or target failed.
    """
    loaded = load_config(config_path)
    if now_text and not once:
        fail("--now needs --once (the loop follows the clock)")
    today = _now(now_text, loaded.settings.zone).astimezone(loaded.settings.zone).date()
    past = loaded.settings.goal.past_race(today)
    if past and loaded.source.startswith("embedded"):
        # the demo's race passing is nobody's mistake: the Quick start keeps working
        tell(f"warning: the {loaded.source}'s {past}")
    elif past:
        fail(f"config error: {loaded.source}: {past}")
    stop = threading.Event()
    loop.install_stop_handlers(stop)
    store = _open_store(loaded)
    if not dry_run and feed_paths(loaded) is not None:
        # The feed server may run with the state mounted read-only (compose, Kubernetes): the
        # writer of the state makes the token it will need.
        try:
            FeedToken(loaded.state_dir).get()
        except (FeedTokenError, OSError) as exc:
            store.close()
            fail(str(exc))
    if dry_run:
        now = _now(now_text, loaded.settings.zone)
        with store:
            _print_report(loop.one_cycle(loaded, store, now=now, dry_run=True, stop=stop), fmt)
        return
    try:
        with StateLock(loaded.state_dir):
            if once:
                now = _now(now_text, loaded.settings.zone)
                report = loop.one_cycle(loaded, store, now=now, stop=stop)
                _print_report(report, fmt)
                if report.failed:
                    sys.exit(EXIT_SOURCE_FAILED)
                return
            loop.run_loop(
                functools.partial(load, config_path),  # errors logged by the loop, not fatal
                loaded,
                store,
                stop,
                on_report=lambda r: _print_report(r, fmt),
            )
    except LockHeld as exc:
        click.echo(f"liftrun: another liftrun sync is active (pid {exc.pid}); not writing")
    except LockRefused as exc:
        fail(str(exc))
    finally:
        store.close()


@main.command()
@log_options
@config_option
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option(
    "--check",
    is_flag=True,
    help="Exit 1 when no cycle ran lately or the last one failed (for health checks).",
)
def status(*, config_path: str | None, fmt: str, check: bool) -> None:
    """Last cycles, next cycle, calendar health, pins, deletions by hand, open warnings."""
    loaded = load_config(config_path)
    store = _open_store(loaded)
    now = datetime.now(UTC)
    with store:
        current = status_report.collect(store, loaded.settings, now)
    if fmt == "json":
        click.echo(json.dumps(current, indent=2))
    else:
        click.echo(status_report.render(current))
    if check:
        problem = status_report.check(current, now)
        if problem:
            tell(f"unhealthy: {problem}", level=logging.ERROR)
            sys.exit(1)


@main.command()
@log_options
@config_option
@click.argument("session_id")
def restore(config_path: str | None, session_id: str) -> None:
    """Bring back a session deleted (or moved) by hand: the next sync places and pushes it."""
    loaded = load_config(config_path)
    with _open_store(loaded) as store:
        if not store.restore(session_id):
            fail(f"{session_id}: not deleted or pinned by hand (see `liftrun status`)")
    click.echo(f"{session_id} restored: the next `liftrun sync` places and pushes it again")


main.add_command(auth)
main.add_command(feed)
main.add_command(serve)
main.add_command(init)
main.add_command(check)


if __name__ == "__main__":  # python -m cli.main, for tests and debugging
    main()
