"""The ``liftrun`` command line.

The only place that reads the clock and the environment for the planner: "today" is decided here
and passed in. User mistakes become one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import click
from rich.console import Console

from adapters.ics_busy import IcsParseError, read_busy_file
from adapters.ics_render import render_calendar
from adapters.ics_source import IcsSource
from adapters.protocol import BusySource
from config.loader import LoadedConfig
from planner.busy import BusyInterval
from planner.explain import explain
from planner.phases import timeline
from planner.placement import PlaceRules, apply_placement, place
from planner.plan import MAX_WEEKS, build_plan, default_span
from planner.serialize import plan_to_dict
from planner.sessions import Soreness
from sync import soreness as soreness_store
from sync.cli_common import EXIT_SOURCE_FAILED, config_option, fail, load_config
from sync.cli_feed import feed, serve
from sync.once import run_once
from sync.plan_table import print_plan


def _today(loaded: LoadedConfig) -> date:
    return datetime.now(UTC).astimezone(loaded.settings.zone).date()


def _now(text: str | None, zone: ZoneInfo) -> datetime:
    if not text:
        return datetime.now(UTC)
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        fail(f"--now {text!r}: not an ISO 8601 date-time (e.g. 2027-01-04T07:30)")
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
            fail(f"--busy {path}: {exc}")
        busy.extend(read.intervals)
        warnings.extend(read.warnings)
    return busy, tuple(warnings)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="liftrun")
def main() -> None:
    """liftrun: a phased running + strength plan, placed in your own calendar."""


@main.command()
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
    try:
        reports = soreness_store.load(loaded.state_dir)
    except soreness_store.SorenessStoreError as exc:
        fail(str(exc))
    planned = build_plan(settings, first, weeks or default_weeks, reports)
    busy, busy_warnings = _read_busy(busy_files, settings.zone, planned.start, planned.end)
    placement = place(planned.sessions, PlaceRules.from_settings(settings), busy, now=now)
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
        print_plan(result, timeline(settings.goal).race_date, console)


@main.command()
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


def _ics_source(location: str, loaded: LoadedConfig) -> BusySource:
    cal = next(c for c in loaded.settings.calendars if location in c.busy_from)
    return IcsSource(
        location,
        cache_dir=loaded.state_dir / "sources",
        tz=loaded.settings.zone,
        timeout=cal.fetch_timeout_seconds,
        max_bytes=cal.max_source_bytes,
    )


@main.command()
@config_option
@click.option("--once", is_flag=True, help="Run one cycle and exit.")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option("--now", "now_text", help="The current time (ISO 8601; default: the clock).")
def sync(*, config_path: str | None, once: bool, fmt: str, now_text: str | None) -> None:
    """Plan, place around every busy source and write every ICS feed."""
    if not once:
        fail(
            "the scheduled sync loop is not built yet; run `liftrun sync --once` "
            "(from cron or a systemd timer) meanwhile"
        )
    loaded = load_config(config_path)
    now = _now(now_text, loaded.settings.zone)
    report = run_once(loaded, now=now, sources=_ics_source)
    if fmt == "json":
        click.echo(json.dumps(report.as_dict(), indent=2, default=str))
    else:
        for name, src in report.sources.items():
            state = "ok" if src["ok"] else f"FAILED: {src['error']}"
            click.echo(f"source {name}: {src['busy_events']} busy events, {state}")
        for name, t in report.targets.items():
            click.echo(
                f"feed {name}: {t.created} created, {t.moved} moved, {t.updated} updated, "
                f"{t.cancelled} cancelled, {t.unchanged} unchanged, "
                f"{'written' if t.writes else 'not rewritten (no change)'}"
            )
            for err in t.errors:
                click.echo(f"feed {name}: ERROR {err}", err=True)
        for u in report.unplaced:
            click.echo(f"unplaced {u['id']}: {u['reason']}")
        for w in report.warnings:
            click.echo(f"warning: {w}", err=True)
    if report.failed:
        sys.exit(EXIT_SOURCE_FAILED)


main.add_command(feed)
main.add_command(serve)


if __name__ == "__main__":  # python -m sync.cli, for tests and debugging
    main()
