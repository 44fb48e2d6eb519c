"""``liftrun sore``: the athlete's soreness report, which lightens next week's lifting (L6)."""

from __future__ import annotations

from datetime import datetime

import click

from cli.common import config_option, fail, load_config, log_options, today

# planner.lift_load.Soreness's values, stated here so that `liftrun --help` need not import the
# planner (tests/test_cli_startup.py holds them equal)
LEVELS = ("none", "moderate", "severe")


@click.command()
@log_options
@config_option
@click.argument("level", type=click.Choice(LEVELS))
@click.option(
    "--week",
    "week_of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="A day of the week you were sore in (default: today).",
)
def sore(config_path: str | None, level: str, week_of: datetime | None) -> None:
    """Report soreness (none | moderate | severe); next week's lifting gets lighter (rule L6)."""
    from cli import soreness as soreness_store
    from planner.lift_load import Soreness

    loaded = load_config(config_path)
    day = week_of.date() if week_of else today(loaded)
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
