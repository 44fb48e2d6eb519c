"""``liftrun sync``: one cycle (``--once``, cron, a CronJob) or the loop, with the state locked.

An idle ``--once`` in a CronJob pays this module's imports on every pod, so it imports the
engine, the loop and the feed token only inside the command (``benchmarks/bench_startup.py``).
"""

from __future__ import annotations

import functools
import sys
import threading
from typing import TYPE_CHECKING

import click

from cli.common import (
    EXIT_SOURCE_FAILED,
    config_option,
    fail,
    feed_token,
    load_config,
    log_options,
    open_store,
    parse_now,
    tell,
)

if TYPE_CHECKING:
    from cli.progress import PushProgress
    from sync.report import CycleReport


@click.command()
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
    from adapters.ics.feed_address import feed_paths
    from cli.output.report import print_report
    from cli.progress import PushProgress, on_terminal
    from config.loader import load
    from sync import loop
    from sync.lock import LockHeld, LockRefused, StateLock

    loaded = load_config(config_path)
    if now_text and not once:
        fail("--now needs --once (the loop follows the clock)")
    today = parse_now(now_text, loaded.settings.zone).astimezone(loaded.settings.zone).date()
    past = loaded.settings.goal.past_race(today)
    if past and loaded.source.startswith("embedded"):
        # the demo's race passing is nobody's mistake: the Quick start keeps working
        tell(f"warning: the {loaded.source}'s {past}")
    elif past:
        fail(f"config error: {loaded.source}: {past}")
    stop = threading.Event()
    loop.install_stop_handlers(stop)
    store = open_store(loaded)
    if not dry_run and feed_paths(loaded) is not None:
        # The feed server may run with the state mounted read-only (compose, Kubernetes): the
        # writer of the state makes the token it will need.
        try:
            feed_token(loaded)
        except SystemExit:  # its one-line error was told; the store closes cleanly
            store.close()
            raise
    if dry_run:
        now = parse_now(now_text, loaded.settings.zone)
        with store:
            print_report(loop.one_cycle(loaded, store, now=now, dry_run=True, stop=stop), fmt)
        return
    progress = PushProgress(on_terminal(fmt))
    try:
        with StateLock(loaded.state_dir), progress:
            if once:
                now = parse_now(now_text, loaded.settings.zone)
                report = loop.one_cycle(loaded, store, now=now, stop=stop, progress=progress)
                progress.close()
                print_report(report, fmt)
                if report.failed:
                    sys.exit(EXIT_SOURCE_FAILED)
                return
            loop.run_loop(
                functools.partial(load, config_path),  # errors logged by the loop, not fatal
                loaded,
                store,
                stop,
                on_report=functools.partial(_after_cycle, progress, fmt),
                progress=progress,
            )
    except LockHeld as exc:
        click.echo(f"liftrun: another liftrun sync is active (pid {exc.pid}); not writing")
    except LockRefused as exc:
        fail(str(exc))
    finally:
        store.close()


def _after_cycle(progress: PushProgress, fmt: str, report: CycleReport) -> None:
    """The loop's cycle has ended: its bars give way to its report."""
    from cli.output.report import print_report

    progress.close()
    print_report(report, fmt)
