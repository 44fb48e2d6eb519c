"""``liftrun status`` (what the last cycles did, what is pinned or deleted by hand) and
``liftrun restore`` (undo a deletion or move by hand): both read the state store only."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

import click

from cli.common import config_option, fail, load_config, log_options, open_store, tell


@click.command()
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
    from sync import status as status_report

    loaded = load_config(config_path)
    store = open_store(loaded)
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


@click.command()
@log_options
@config_option
@click.argument("session_id")
def restore(config_path: str | None, session_id: str) -> None:
    """Bring back a session deleted (or moved) by hand: the next sync places and pushes it."""
    loaded = load_config(config_path)
    with open_store(loaded) as store:
        if not store.restore(session_id):
            fail(f"{session_id}: not deleted or pinned by hand (see `liftrun status`)")
    click.echo(f"{session_id} restored: the next `liftrun sync` places and pushes it again")
