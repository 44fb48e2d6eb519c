"""``liftrun sync``: one cycle, or cycles forever at the configured interval.

Each cycle builds its calendars afresh (a feed file or a server may have changed in between)
and re-reads the config, so an edit takes effect at the next cycle; a config that no longer
loads is reported and the last good one is kept. A cycle that fails unexpectedly is logged and
journalled, and the loop goes on: a scheduler restarting a crashed process would do no better.
Between cycles the loop also watches the wake file (``sync.wake``): an action on the athlete's
page starts the next cycle within a second.
"""

from __future__ import annotations

import logging
import random
import signal
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import FrameType

from config.loader import ConfigError, LoadedConfig
from sync import wake, wiring
from sync.engine import run_cycle
from sync.progress import WriteProgress
from sync.report import CycleReport
from sync.state import StateStore

log = logging.getLogger("liftrun.sync")

JITTER = 0.10


def one_cycle(
    loaded: LoadedConfig,
    store: StateStore,
    *,
    now: datetime,
    dry_run: bool = False,
    stop: threading.Event | None = None,
    progress: WriteProgress | None = None,
) -> CycleReport:
    calendars = wiring.build(loaded, now, store, persist=not dry_run)
    report = run_cycle(
        loaded.settings, store, calendars, now=now, dry_run=dry_run, stop=stop, progress=progress
    )
    if not dry_run:
        calendars.remember(store)
        store.journal(now, datetime.now(UTC), not report.failed, report)
    return report


def next_delay(interval_minutes: int, rng: random.Random) -> float:
    """Seconds to the next cycle: the interval give or take 10 %, so that many installations
    (or many calendars behind one server) do not all knock at the same minute."""
    base = interval_minutes * 60.0
    return base * rng.uniform(1 - JITTER, 1 + JITTER)


def install_stop_handlers(stop: threading.Event) -> None:
    """SIGTERM and SIGINT let the current write finish and be recorded, then the cycle or the
    loop ends; a wait for busy sources ends at once (sources have no say in how long the
    process lives). A second signal while stopping ends the process the default way."""

    def handler(signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if stop.is_set():
            log.warning("received %s again: exiting now", name)
            signal.signal(signum, signal.SIG_DFL)
            signal.raise_signal(signum)
            return
        log.info("received %s: stopping after the current write", name)
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def run_loop(
    reload: Callable[[], LoadedConfig],
    loaded: LoadedConfig,
    store: StateStore,
    stop: threading.Event,
    *,
    on_report: Callable[[CycleReport], None],
    rng: random.Random | None = None,
    progress: WriteProgress | None = None,
) -> None:
    rng = rng or random.Random()
    state_dir = store.path.parent
    while not stop.is_set():
        seen = wake.marker(state_dir)  # asked for during this cycle: another one right after
        try:
            loaded = reload()
        except ConfigError as exc:
            log.error("config error (keeping the last good config): %s", exc)
        now = datetime.now(UTC)
        try:
            on_report(one_cycle(loaded, store, now=now, stop=stop, progress=progress))
        except Exception:
            log.exception("the cycle failed; trying again at the next one")
            store.journal(now, datetime.now(UTC), False, None)  # no report: the log says why
        delay = next_delay(loaded.settings.sync.interval_minutes, rng)
        store.set_meta("next_cycle_at", (datetime.now(UTC) + timedelta(seconds=delay)).isoformat())
        if wake.sleep(state_dir, stop, delay, seen):
            log.info("woken by an action on the athlete's page")
