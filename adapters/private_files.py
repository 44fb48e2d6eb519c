"""Files only the athlete may read: the state directory and what liftrun keeps in it.

The state holds busy titles, when the athlete is away, OAuth and feed tokens. The CLI sets
umask 077, but library code cannot count on that (tests and other entry points call it
directly), so every mode here is given explicitly. A directory that someone else can write to
is refused rather than used: whoever can write there can swap liftrun's files for links to
theirs, and tightening it afterwards would not undo what they may already have planted.
"""

from __future__ import annotations

import errno
import logging
import os
import shlex
import stat
from pathlib import Path

__all__ = [
    "UnsafePath",
    "check_private_file",
    "ensure_private_dir",
    "make_dirs",
    "open_private_file",
]

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600

log = logging.getLogger("liftrun.state")


class UnsafePath(OSError):
    """A path liftrun will not use for private data; ``str()`` is one line naming the path, what
    is wrong with it and the fix. An ``OSError`` so that callers which already turn file errors
    into messages handle it too."""


def make_dirs(path: Path, mode: int = PRIVATE_DIR) -> None:
    """``mkdir -p`` in which every directory created gets exactly ``mode`` whatever the umask;
    directories that already exist are left alone."""
    try:
        path.mkdir(mode)
    except FileExistsError:
        return
    except FileNotFoundError:
        if path.parent == path:
            raise
        make_dirs(path.parent, mode)
        try:
            path.mkdir(mode)
        except FileExistsError:
            return
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        os.fchmod(fd, mode)  # the umask may have taken bits that mode asked for
    finally:
        os.close(fd)


def ensure_private_dir(path: Path, what: str = "state directory") -> None:
    """Create ``path`` 0700, or accept an existing one only if this user owns it and nobody else
    can write to it; read or search bits for others are taken away, with a log line.

    A symlink to the directory is followed: pointing the state elsewhere is the owner's choice,
    and the directory it reaches is checked like any other.

    Raises:
        UnsafePath: not a directory, owned by another user, or writable by group or others.
    """
    make_dirs(path)
    info = path.stat()
    if not stat.S_ISDIR(info.st_mode):
        raise UnsafePath(f"{what} {path} is not a directory")
    me = os.geteuid()
    if info.st_uid != me:
        raise UnsafePath(
            f"{what} {path} belongs to uid {info.st_uid}, not to this user (uid {me}); liftrun "
            "keeps its state only in a directory it owns: choose another [state] path or chown it"
        )
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o022:
        who = " and ".join(
            name for name, bit in (("its group", 0o020), ("others", 0o002)) if mode & bit
        )
        raise UnsafePath(
            f"{what} {path} is writable by {who} (mode {mode:04o}), who could swap liftrun's "
            f"files in it; run `chmod 700 {shlex.quote(str(path))}`"
        )
    if mode & 0o077:
        try:
            path.chmod(mode & ~0o077)
        except OSError as exc:  # a read-only mount: nobody can plant anything there either
            log.warning(
                "%s %s is mode %04o, readable by others, and cannot be tightened (%s)",
                what,
                path,
                mode,
                exc.strerror,
            )
        else:
            log.warning(
                "%s %s was mode %04o, readable by others; tightened to %04o",
                what,
                path,
                mode,
                mode & ~0o077,
            )


def open_private_file(path: Path, flags: int, what: str, *, one_name: bool = False) -> int:
    """A descriptor for ``path``, created 0600 if missing and never reached through a symlink
    (``O_NOFOLLOW``; no ``O_TRUNC``, so nothing is truncated before it is checked); an existing
    file readable by others is tightened, with a log line.

    Raises:
        UnsafePath: a symlink or something other than a regular file is at ``path`` (or, with
            ``one_name``, a file with another hard link, for a file that gets emptied).
    """
    open_flags = flags | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
    try:
        fd = os.open(path, open_flags, PRIVATE_FILE)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise _symlink(path, what) from None
        raise
    try:
        tightened = _vetted(os.fstat(fd), path, what, one_name=one_name)
        if tightened is not None:
            os.fchmod(fd, tightened)
    except BaseException:
        os.close(fd)
        raise
    return fd


def check_private_file(path: Path, what: str, *, one_name: bool = False) -> None:
    """For a file some other code opens by name (SQLite's ``-wal`` and ``-shm``): refuse a
    symlink or a non-file there (and with ``one_name``, a file with another hard link, for a
    file that gets emptied), and tighten an existing file readable by others."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISLNK(info.st_mode):
        raise _symlink(path, what)
    tightened = _vetted(info, path, what, one_name=one_name)
    if tightened is not None:
        path.chmod(tightened)


def _vetted(info: os.stat_result, path: Path, what: str, *, one_name: bool) -> int | None:
    """Refuse what must not be written through; the mode to tighten an existing private file
    to (logged), or None when it is private already."""
    if not stat.S_ISREG(info.st_mode):
        raise UnsafePath(f"{what} {path} is not a regular file; remove it")
    if one_name and info.st_nlink != 1:
        raise _hard_link(path, what)
    mode = stat.S_IMODE(info.st_mode)
    if not mode & 0o077:
        return None
    log.warning("%s %s was mode %04o; tightened to %04o", what, path, mode, mode & ~0o077)
    return mode & ~0o077


def _hard_link(path: Path, what: str) -> UnsafePath:
    return UnsafePath(
        f"{what} {path} has another name (a hard link); liftrun empties it, which would empty "
        f"the other file too: remove it (rm {shlex.quote(str(path))})"
    )


def _symlink(path: Path, what: str) -> UnsafePath:
    return UnsafePath(
        f"{what} {path} is a symbolic link; liftrun never writes through one there "
        f"(remove it: rm {shlex.quote(str(path))})"
    )
