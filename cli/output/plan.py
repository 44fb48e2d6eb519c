"""``liftrun plan``'s three formats: the week table for a person, JSON for programs, and an
iCalendar file to import by hand (the same events the ICS feed publishes)."""

from __future__ import annotations

import json
import shutil
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from config.models import Settings
    from planner.model import Plan

FORMATS = ("table", "json", "ics")


def print_plan(plan: Plan, fmt: str, settings: Settings) -> None:
    if fmt == "json":
        from planner.serialize import plan_to_dict

        click.echo(json.dumps(plan_to_dict(plan), indent=2, ensure_ascii=False))
    elif fmt == "ics":
        from adapters.ical.render import render_calendar

        stamp = datetime.now(UTC).replace(microsecond=0)
        sys.stdout.buffer.write(
            render_calendar(plan.sessions, timezone=settings.timezone, stamp=stamp)
        )
    else:
        from rich.console import Console

        from cli.output.table import render

        width = shutil.get_terminal_size((160, 40)).columns if sys.stdout.isatty() else 160
        Console(width=max(width, 120), soft_wrap=False).print(render(plan))
