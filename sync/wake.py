"""After the athlete acts on their page, the next sync cycle starts within seconds.

``liftrun serve`` (the page) and ``liftrun sync`` (the loop) may be two processes, even two
containers sharing the state volume, so the signal is a file both can reach: an action touches
``wake`` in the state directory; the loop's sleep checks its change time every ``POLL`` seconds
(one ``lstat``, portable where inotify is not, and cheap) and starts a cycle when it changed.

When no loop runs (``serve`` alone), the page runs the cycle itself (``sync/page_cycle.py``).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

from adapters.private_files import open_private_file

WAKE_NAME = "wake"
POLL = 0.25  # seconds between looks at the wake file while the loop sleeps

log = logging.getLogger("liftrun.sync")


def request_cycle(state_dir: Path) -> None:
    """Ask the loop for a cycle now: write the time to the wake file (0600, no link followed)."""
    fd = open_private_file(state_dir / WAKE_NAME, os.O_WRONLY, "wake file", one_name=True)
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{time.time_ns()}\n".encode())
    finally:
        os.close(fd)


def marker(state_dir: Path) -> tuple[int, int] | None:
    """What the wake file looks like now (change time and inode), or ``None`` when absent."""
    try:
        st = os.lstat(state_dir / WAKE_NAME)
    except OSError:
        return None
    return st.st_mtime_ns, st.st_ino


def sleep(state_dir: Path, stop: threading.Event, seconds: float, seen: object) -> bool:
    """Wait up to ``seconds``; True when the wake file changed from ``seen`` (a cycle was
    asked for, maybe while the last one ran), False when the time ran out or ``stop`` was set."""
    deadline = time.monotonic() + seconds
    while not stop.is_set():
        if marker(state_dir) != seen:
            return True
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        stop.wait(min(POLL, left))
    return False
