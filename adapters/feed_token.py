"""The secret in the feed's URL: whoever knows it can read the athlete's whole schedule.

Calendar clients cannot send credentials with a subscription, so the URL itself is the
credential (the "capability URL" pattern). The token is kept as every secret file of the state
directory is (``adapters.secret_file``): 256 bits, ``<state>/feed-token`` with mode 0600 in a
private state directory, created with ``O_EXCL``, replaced by an atomic rename, refused (not
"fixed") when others can read it, and re-read by a running server when the file changes, so
``liftrun feed rotate-token`` revokes the old URL at once, without a restart.
"""

from __future__ import annotations

import hmac
import logging
from pathlib import Path

from adapters.secret_file import SECRET_BYTES, SecretFile, SecretFileError, SecretKind

__all__ = ["TOKEN_BYTES", "TOKEN_FILE", "FeedToken", "FeedTokenError"]

TOKEN_FILE = "feed-token"
TOKEN_BYTES = SECRET_BYTES

log = logging.getLogger("liftrun.feed")


class FeedTokenError(SecretFileError):
    """The token file is unusable (unsafe mode, not a regular file, garbled); the message says
    what to do."""


FEED_TOKEN = SecretKind(
    file_name=TOKEN_FILE,
    called="feed token",
    rotate_command="liftrun feed rotate-token",
    leaked="the feed URL",
    denied="feed request",
    error=FeedTokenError,
    log=log,
)


class FeedToken:
    """The feed token of one state directory."""

    def __init__(self, state_dir: Path) -> None:
        self._file = SecretFile(state_dir, FEED_TOKEN)
        self.path = self._file.path

    def get(self) -> str:
        """The token, created on first use so ``serve`` and ``feed url`` need no setup step.

        Raises:
            FeedTokenError: the token file exists but is unusable.
            UnsafePath: (an ``OSError``) the state directory is not private to this user.
        """
        return self._file.ensure()

    def rotate(self) -> str:
        """Replace the token; every URL carrying the old one stops working immediately."""
        return self._file.rotate()

    def matches(self, candidate: str) -> bool:
        """Whether ``candidate`` is the current token, in constant time.

        Any problem with the token file denies access rather than failing open.
        """
        current = self._file.current()
        if current is None:
            return False
        return hmac.compare_digest(candidate.encode("utf-8", "backslashreplace"), current)

    def current(self) -> str | None:
        """The token as last read from disk (re-read when the file changed), None if unusable."""
        value = self._file.current()
        return None if value is None else value.decode("ascii")
