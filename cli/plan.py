"""``liftrun plan``: the plan as the athlete reads it, placed around ``--busy`` files.

It opens no calendar: what it places around is the ``--busy`` files, and what it prints is the
week table, JSON or iCalendar (:mod:`cli.output.plan`).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import click

from cli.common import config_option, fail, load_config, log_options, parse_now, tell
from cli.output.plan import FORMATS

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from planner.busy import BusyInterval

# planner.plan.MAX_WEEKS, stated here so that `liftrun --help` need not import the planner
# (tests/test_cli_startup.py holds the two equal)
MAX_WEEKS = 156


def read_busy(
    paths: tuple[str, ...], zone: ZoneInfo, first: date, last: date
) -> tuple[list[BusyInterval], tuple[str, ...]]:
    """Busy time of the plan's span (one day of margin each side) from ``--busy`` files."""
    if not paths:  # the iCalendar parser is not loaded for nothing
        return [], ()
    from adapters.ical.busy import IcsParseError, read_busy_file

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


@click.command()
@log_options
@config_option
@click.option("--start", type=click.DateTime(formats=["%Y-%m-%d"]), help="First week (YYYY-MM-DD).")
@click.option("--weeks", type=click.IntRange(1, MAX_WEEKS), help="Number of weeks to show.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
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
    from cli import soreness as soreness_store
    from cli.output.plan import print_plan
    from config.models import FIRST_DATE, LAST_DATE
    from planner.constraints import RuleBook
    from planner.placement import place_plan
    from planner.plan import build_plan, default_span

    loaded = load_config(config_path)
    settings = loaded.settings
    now = parse_now(now_text, settings.zone)
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
    busy, busy_warnings = read_busy(busy_files, settings.zone, planned.start, planned.end)
    result = place_plan(planned, RuleBook.from_settings(settings), busy, now=now)
    if busy_warnings:
        result = replace(result, warnings=result.warnings + busy_warnings)
    if explain_id:
        from planner.explain import explain

        if explain_id not in {s.id for s in planned.sessions}:
            fail(f"--explain {explain_id}: no such session in this plan (see --format json)")
        click.echo(explain(explain_id, planned, result, busy, settings.zone))
        return
    print_plan(result, fmt, settings)
