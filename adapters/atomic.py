"""Atomic file replacement, the one way liftrun writes a file another reader may be reading.

Temp file in the same directory, fsync, rename over the target, fsync of the directory (as
Radicale does): after a crash or beside a concurrent reader there is the old file or the new one,
never a torn mix.

Nothing is written through a symlink: the temp file is created with ``O_EXCL`` (``mkstemp``
never opens an existing name or follows a link), and the rename replaces a symlink at the
target instead of writing where it points. Modes do not depend on the caller's umask: the file
gets ``mode`` exactly, and directories created on the way get the matching directory mode.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from adapters.private_files import make_dirs


def atomic_write(path: Path, data: bytes, *, mode: int = 0o600) -> None:
    """Replace ``path`` with ``data``; ``mode`` 0600 unless the file is meant to be served.

    Missing directories are created 0700 for a private file; for a served one (a feed another
    web server reads, mode 0644) they get the same read bits plus search (0755), else the
    server could not reach the file a umask of 077 made private by accident.
    """
    make_dirs(path.parent, _dir_mode(mode))
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), mode)
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        Path(tmp).replace(path)
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except BaseException:
        with contextlib.suppress(OSError):
            Path(tmp).unlink()
        raise


def _dir_mode(file_mode: int) -> int:
    read = file_mode & 0o444
    return 0o700 | read | (read >> 2)
