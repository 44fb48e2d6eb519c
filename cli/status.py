"""``liftrun status`` (what the last cycles did, what is pinned or deleted by hand) and
``liftrun restore`` (undo a deletion or move by hand): both read the state store only."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import click

from cli.common import config_option, fail, load_config, log_options, open_store, tell

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from sync.state import StateStore

ACTIONS_SHOWN = 10


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
    """Last cycles, next cycle, calendar health, pins, deletions by hand, open warnings, and
    what you said on your page (pauses, done and skipped, the latest actions)."""
    from sync import status as status_report

    loaded = load_config(config_path)
    zone = loaded.settings.zone
    store = open_store(loaded)
    now = datetime.now(UTC)
    with store:
        current = status_report.collect(store, loaded.settings, now)
        said = _athlete(store, zone, now)
    if fmt == "json":
        click.echo(json.dumps({**current, **said}, indent=2))
    else:
        click.echo("\n".join([status_report.render(current), *_athlete_lines(said)]))
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


def _athlete(store: StateStore, zone: ZoneInfo, now: datetime) -> dict[str, list[dict[str, Any]]]:
    """What the athlete said on their page: active pauses, sessions marked done or skipped,
    and the latest actions (``sync.actions``)."""
    from sync import actions

    def at(value: datetime) -> str:
        return value.astimezone(zone).isoformat()

    def detail(values: dict[str, Any]) -> dict[str, Any]:
        """A move's ``start`` and ``end`` are kept as UTC text, like every stored instant."""
        return {
            k: at(datetime.fromisoformat(v)) if k in ("start", "end") and isinstance(v, str) else v
            for k, v in values.items()
        }

    return {
        "pauses": [
            {
                "first": p.first.isoformat(),
                "last": p.effective(zone).last.isoformat(),
                "asked_until": p.last.isoformat(),
                "ended_at": at(p.ended_at) if p.ended_at else None,
            }
            for p in actions.active_pauses(store, now, zone)
        ],
        "marks": [
            {
                "session": m.session_id,
                "mark": m.mark.value,
                "line": m.line(),
                "at": at(m.at),
            }
            for m in sorted(actions.statuses(store).values(), key=lambda m: m.at, reverse=True)
        ][:ACTIONS_SHOWN],
        "actions": [
            {"at": at(e.at), "action": e.action, "session": e.session_id, **detail(e.detail)}
            for e in actions.history(store, ACTIONS_SHOWN)
        ],
    }


def _athlete_lines(said: dict[str, list[dict[str, Any]]]) -> list[str]:
    lines = [
        f"paused {p['first']} to {p['last']}"
        + (f" (ended early at {p['ended_at']})" if p["ended_at"] else "")
        for p in said["pauses"]
    ]
    lines += [f"{m['mark']} {m['session']}: {m['line']}" for m in said["marks"]]
    lines += [
        f"action {a['at']}: {a['action']}" + (f" {a['session']}" if a["session"] else "")
        for a in said["actions"]
    ]
    return lines
