"""Atomic file replacement, the one way liftrun writes a file another reader may be reading.

Temp file in the same directory, fsync, rename over the target, fsync of the directory (as
Radicale does): after a crash or beside a concurrent reader there is the old file or the new one,
never a torn mix. ``exclusive`` links the temp file instead of renaming it, so the write fails
with ``FileExistsError`` when the name is taken: a vdir create (``If-None-Match: *``), or two
processes creating the feed token at once agreeing on one.

Nothing is written through a symlink: the temp file is created with ``O_EXCL`` (``mkstemp``
never opens an existing name or follows a link), and the rename replaces a symlink at the
target instead of writing where it points. Modes do not depend on the caller's umask: the file
gets ``mode`` exactly, and directories created on the way get the matching directory mode.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from pathlib import Path

from adapters.private_files import make_dirs

__all__ = ["atomic_write", "fsync_dir"]

# fsync of a directory answered with these means the file system cannot do it (some network
# and FUSE file systems): it decides durability itself, and there is nothing more to ask of it.
_CANNOT_FSYNC_DIR = frozenset({errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP})


def atomic_write(
    path: Path,
    data: bytes,
    *,
    mode: int = 0o600,
    exclusive: bool = False,
) -> None:
    """Replace ``path`` with ``data``; ``mode`` 0600 unless the file is meant to be served.

    Missing directories are created 0700 for a private file; for a served one (a feed another
    web server reads, mode 0644) they get the same read bits plus search (0755), else the
    server could not reach the file a umask of 077 made private by accident.

    ``exclusive`` never replaces: ``FileExistsError`` if ``path`` exists.
    """
    make_dirs(path.parent, _dir_mode(mode))
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), mode)
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if exclusive:
            os.link(tmp, path)  # refuses an existing name, as a rename would not
            with contextlib.suppress(OSError):
                tmp.unlink()  # a leftover dot-file ending in .tmp is ignored by every reader
        else:
            tmp.replace(path)
        fsync_dir(path.parent)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def fsync_dir(directory: Path) -> None:
    """Make a rename, link or unlink in ``directory`` durable.

    Why raise rather than swallow: the caller is about to report the write as done (an outcome
    the engine records, a rotated feed token whose old URL must stay revoked after a crash), so
    a directory that cannot be made durable (EIO, a full or read-only file system) is a failed
    write and must say so. The one exception is a file system that does not offer fsync on a
    directory at all (EINVAL, ENOTSUP): refusing every write there would make liftrun unusable
    on it, while no other call could make the write more durable.
    """
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno not in _CANNOT_FSYNC_DIR:
            raise
    finally:
        os.close(fd)


def _dir_mode(file_mode: int) -> int:
    read = file_mode & 0o444
    return 0o700 | read | (read >> 2)
