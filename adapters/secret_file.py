"""A secret kept in a file of the state directory: the feed token and the page secret.

Both are capability secrets (whoever holds a URL derived from one reads the athlete's schedule,
or acts on it), so both are kept with the same care, here once:

* 256 bits from ``secrets`` (``token_urlsafe(32)``, 43 characters), so it cannot be guessed;
* the file is mode 0600 in a state directory that is 0700 and refused when others can write to
  it (``adapters.private_files``), created with ``O_EXCL`` so there is never a moment where it
  exists with looser permissions, and two processes creating it at once agree on one value;
* a file that group or others can read is refused, not silently "fixed", because it may already
  have been read: rotating is the cure, and the message names the command that does it;
* it is never reached through a symlink, and anything but a regular file holding a value of the
  right shape is refused;
* a replacement is written to a temporary file and renamed over the old one (with the
  directory's fsync, so a crash cannot bring an old value back), so a running server reading it
  concurrently sees the old value or the new one, never a torn file;
* a running server re-reads it when the file changes, a chmod included (one ``lstat`` per
  use), so a rotation revokes every old URL at once, without a restart; and any problem with
  the file denies access rather than failing open.

What differs between the two secrets is data (:class:`SecretKind`): the file's name, what the
messages call it, the command that rotates it, and the error type its callers catch.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

from adapters.atomic import atomic_write
from adapters.private_files import ensure_private_dir

__all__ = ["SECRET_BYTES", "SecretFile", "SecretFileError", "SecretKind"]

SECRET_BYTES = 32  # 256 bits
_SHAPE = re.compile(r"^[A-Za-z0-9_-]{43,}$")

_Key = tuple[int, int, int, int, int]  # device, inode, mtime_ns, size, mode: a rewrite or chmod


class SecretFileError(Exception):
    """The secret file is unusable (unsafe mode, not a regular file, garbled); the message says
    what to do."""


@dataclass(frozen=True)
class SecretKind:
    """One kind of secret file and the words its messages use."""

    file_name: str  # in the state directory: "feed-token"
    called: str  # "feed token": "cannot read the feed token ...", "does not hold a feed token"
    rotate_command: str  # "liftrun feed rotate-token"
    leaked: str  # what a readable file may have given away: "the feed URL"
    denied: str  # what is refused while the file is unusable: "feed request"
    error: type[SecretFileError]
    log: logging.Logger


class SecretFile:
    """One secret file: created when missing, replaced on rotation, read back when it changed."""

    def __init__(self, state_dir: Path, kind: SecretKind) -> None:
        self.path = state_dir / kind.file_name
        self.kind = kind
        self._key: _Key | None = None
        self._current: bytes | None = None

    def ensure(self) -> str:
        """The secret, created on first use so no command needs a setup step.

        Raises:
            SecretFileError: (the kind's subclass) the file exists but is unusable.
            UnsafePath: (an ``OSError``) the state directory is not private to this user.
        """
        ensure_private_dir(self.path.parent)
        try:
            return self.read()
        except FileNotFoundError:
            pass
        value = secrets.token_urlsafe(SECRET_BYTES)
        try:
            # exclusive refuses to replace: two processes creating at once agree on one value
            atomic_write(self.path, _contents(value), exclusive=True)
        except FileExistsError:
            return self.read()
        return value

    def rotate(self) -> str:
        """Replace the secret; everything derived from the old one stops working at once."""
        ensure_private_dir(self.path.parent)
        value = secrets.token_urlsafe(SECRET_BYTES)
        # the directory's fsync makes the rename durable: a crash cannot bring the old one back
        atomic_write(self.path, _contents(value))
        return value

    def current(self) -> bytes | None:
        """The secret as last read (read again when the file changed), None while unusable."""
        try:
            st = self.path.lstat()
        except OSError:
            if self._key is not None or self._current is not None:
                self.kind.log.error(
                    "%s file %s is gone; denying every %s",
                    self.kind.called,
                    self.path,
                    self.kind.denied,
                )
            self._key, self._current = None, None
            return None
        key = (st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size, st.st_mode)
        if key != self._key:
            self._key = key
            try:
                self._current = self.read().encode("ascii")
            except (OSError, SecretFileError) as exc:
                self.kind.log.error(
                    "%s unusable, denying every %s: %s", self.kind.called, self.kind.denied, exc
                )
                self._current = None
        return self._current

    def read(self) -> str:
        """The secret in the file now.

        Raises:
            FileNotFoundError: there is none yet.
            SecretFileError: (the kind's subclass) the file is unusable.
        """
        kind = self.kind
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
        try:
            fd = os.open(self.path, flags)
        except FileNotFoundError:
            raise
        except OSError as exc:
            raise kind.error(f"cannot read the {kind.called} {self.path}: {exc}") from exc
        with os.fdopen(fd, "rb") as f:
            st = os.fstat(f.fileno())
            if not stat.S_ISREG(st.st_mode):
                raise kind.error(f"{self.path} is not a regular file")
            if st.st_mode & 0o077:
                raise kind.error(
                    f"{self.path} is readable by others (mode {stat.S_IMODE(st.st_mode):04o}); "
                    f"{kind.leaked} may have leaked: run `{kind.rotate_command}` "
                    "(or `chmod 600` it if you are sure nobody read it)"
                )
            raw = f.read(4096)
        value = raw.decode("ascii", "replace").strip()
        if not _SHAPE.match(value):
            raise kind.error(
                f"{self.path} does not hold a {kind.called}; run `{kind.rotate_command}`"
            )
        return value


def _contents(value: str) -> bytes:
    return (value + "\n").encode("ascii")
