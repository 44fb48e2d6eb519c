"""One writer per state directory: an advisory lock the kernel drops when the process dies.

``flock`` rather than a pid file, so a SIGKILLed run never leaves a stale lock behind.

The lock file is opened without following a symlink and without ``O_TRUNC``: it is emptied
(to hold the pid) only once it is known to be liftrun's own regular file with no other name,
so a link planted at ``sync.lock`` can never make a sync truncate what it points at.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType

from adapters.private_files import UnsafePath, ensure_private_dir, open_private_file

LOCK_NAME = "sync.lock"


class LockHeld(Exception):
    """Another ``liftrun sync`` is writing to this state directory."""

    def __init__(self, pid: str) -> None:
        super().__init__(pid)
        self.pid = pid


class LockRefused(Exception):
    """The lock cannot be taken safely (a symlink or a hard link at its path, an unsafe state
    directory); ``str()`` is one line for the person, naming the path and the fix."""


class StateLock:
    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / LOCK_NAME
        self._fd: int | None = None

    def __enter__(self) -> StateLock:
        try:
            ensure_private_dir(self.path.parent)
            fd = open_private_file(self.path, os.O_RDWR, "state lock", one_name=True)
        except UnsafePath as exc:
            raise LockRefused(str(exc)) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise LockHeld(pid) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing releases the flock
            self._fd = None
