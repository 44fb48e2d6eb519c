"""The secret in the feed's URL: whoever knows it can read the athlete's whole schedule.

Calendar clients cannot send credentials with a subscription, so the URL itself is the
credential (the "capability URL" pattern). That decides the rules here:

* 256 bits from ``secrets`` (``token_urlsafe(32)``, 43 characters), so it cannot be guessed;
* it lives in ``<state>/feed-token`` with mode 0600, in a state directory that is 0700 and
  refused when others can write to it (``adapters.private_files``), created with ``O_EXCL`` so
  there is never a moment where it exists with looser permissions; a token file that group or
  others can read is refused, not silently "fixed", because it may already have been read:
  rotating is the cure;
* a replacement is written to a temporary file and renamed over the old one, so a running
  server reading it concurrently sees the old token or the new one, never a torn file;
* the running server re-reads it when the file changes (one ``stat`` per request), so
  ``liftrun feed rotate-token`` revokes the old URL at once, without a restart.
"""

from __future__ import annotations

import hmac
import logging
import os
import re
import secrets
import stat
from pathlib import Path

from adapters.atomic import atomic_write
from adapters.private_files import ensure_private_dir

TOKEN_FILE = "feed-token"
TOKEN_BYTES = 32  # 256 bits
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{43,}$")

log = logging.getLogger("liftrun.feed")


class FeedTokenError(Exception):
    """The token file is unusable (unsafe mode, not a regular file, garbled); the message says
    what to do."""


_Key = tuple[int, int, int, int]  # device, inode, mtime_ns, size: changes on every rewrite


class FeedToken:
    """The feed token of one state directory."""

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / TOKEN_FILE
        self._key: _Key | None = None
        self._current: bytes | None = None

    def get(self) -> str:
        """The token, created on first use so ``serve`` and ``feed url`` need no setup step.

        Raises:
            UnsafePath: (an ``OSError``) the state directory is not private to this user.
        """
        self._ensure_dir()
        try:
            return self._read()
        except FileNotFoundError:
            pass
        token = secrets.token_urlsafe(TOKEN_BYTES)
        try:
            # exclusive refuses to replace, so two processes creating at once agree on one token.
            atomic_write(self.path, _contents(token), exclusive=True)
        except FileExistsError:
            return self._read()
        return token

    def rotate(self) -> str:
        """Replace the token; every URL carrying the old one stops working immediately."""
        self._ensure_dir()
        token = secrets.token_urlsafe(TOKEN_BYTES)
        # the directory's fsync makes the rename durable: a crash cannot bring back the old token
        atomic_write(self.path, _contents(token))
        return token

    def matches(self, candidate: str) -> bool:
        """Whether ``candidate`` is the current token, in constant time.

        Any problem with the token file denies access rather than failing open.
        """
        current = self._refresh()
        if current is None:
            return False
        return hmac.compare_digest(candidate.encode("utf-8", "backslashreplace"), current)

    def current(self) -> str | None:
        """The token as last read from disk (re-read when the file changed), None if unusable."""
        value = self._refresh()
        return None if value is None else value.decode("ascii")

    def _refresh(self) -> bytes | None:
        try:
            st = self.path.lstat()
        except OSError:
            if self._key is not None or self._current is not None:
                log.error("feed token file %s is gone; denying every feed request", self.path)
            self._key, self._current = None, None
            return None
        key = (st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size)
        if key != self._key:
            self._key = key
            try:
                self._current = self._read().encode("ascii")
            except (OSError, FeedTokenError) as exc:
                log.error("feed token unusable, denying every feed request: %s", exc)
                self._current = None
        return self._current

    def _read(self) -> str:
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
        try:
            fd = os.open(self.path, flags)
        except FileNotFoundError:
            raise
        except OSError as exc:
            raise FeedTokenError(f"cannot read the feed token {self.path}: {exc}") from exc
        with os.fdopen(fd, "rb") as f:
            st = os.fstat(f.fileno())
            if not stat.S_ISREG(st.st_mode):
                raise FeedTokenError(f"{self.path} is not a regular file")
            if st.st_mode & 0o077:
                raise FeedTokenError(
                    f"{self.path} is readable by others (mode {stat.S_IMODE(st.st_mode):04o}); "
                    "the feed URL may have leaked: run `liftrun feed rotate-token` "
                    "(or `chmod 600` it if you are sure nobody read it)"
                )
            raw = f.read(4096)
        token = raw.decode("ascii", "replace").strip()
        if not _TOKEN_SHAPE.match(token):
            raise FeedTokenError(
                f"{self.path} does not hold a feed token; run `liftrun feed rotate-token`"
            )
        return token

    def _ensure_dir(self) -> None:
        ensure_private_dir(self.path.parent)


def _contents(token: str) -> bytes:
    return (token + "\n").encode("ascii")
