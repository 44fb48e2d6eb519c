"""``liftrun serve`` alone: the page runs the cycle an action asks for itself.

With a loop running (``liftrun sync`` in another process or container) the wake file
(``sync.wake``) starts its cycle and the lock it holds tells this side to leave it be; without
one, the cycle runs here, on a background thread, under the same sync lock.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime

from adapters.private_files import UnsafePath
from config.loader import LoadedConfig
from sync.lock import LockHeld, LockRefused, StateLock
from sync.loop import one_cycle
from sync.state import StateError, StateStore
from sync.wake import request_cycle

log = logging.getLogger("liftrun.sync")


def run_cycle_now(loaded: LoadedConfig) -> bool:
    """One cycle in this process, for ``liftrun serve`` when no loop runs. False when another
    process holds the sync lock (the loop: the wake file reaches it) or the state cannot be
    opened. ``loaded`` must be the sync's own config (every calendar), not a feed-only one."""
    try:
        with StateLock(loaded.state_dir), StateStore(loaded.state_dir) as store:
            report = one_cycle(loaded, store, now=datetime.now(UTC))
    except LockHeld:
        return False
    except (LockRefused, StateError, UnsafePath) as exc:
        log.error("cannot run a cycle for the page: %s", exc)
        return False
    log.info("cycle for the page: %d writes", report.writes)
    return True


class PageCycles:
    """The page's side: after each action, wake the loop and, on a background thread, run the
    cycle here when no loop holds the lock. Actions that arrive while a cycle runs are folded
    into one more cycle after it, so none is lost and they never queue up one cycle each."""

    def __init__(self, reload: Callable[[], LoadedConfig]) -> None:
        self._reload = reload
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._again = False

    def request(self) -> None:
        state_dir = self._reload().state_dir
        request_cycle(state_dir)
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                self._again = True
                return
            self._thread = threading.Thread(target=self._run, name="page-cycle", daemon=True)
            self._thread.start()

    def join(self, timeout: float | None = None) -> None:
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _run(self) -> None:
        while True:
            try:
                run_cycle_now(self._reload())
            except Exception:
                log.exception("the page's cycle failed; the next one tries again")
            with self._lock:
                if not self._again:
                    self._thread = None
                    return
                self._again = False
