"""Who may see and change what on the athlete's page: one secret, and capabilities derived from it.

The feed token cannot be reused here: a feed URL is handed to Google and other services that
poll it, so it must grant reading the feed and nothing more. The page has its own secret, kept
as the feed token is (``adapters.secret_file``): 256 bits from ``secrets``, in
``<state>/page-secret`` with mode 0600 inside a private state directory, created with
``O_EXCL``, replaced by an atomic rename, re-read by a running server when the file changes,
refused when others can read it, never logged.

The secret itself never travels. Every credential a URL or a form carries is an HMAC-SHA256 of
a label under it, one label per use, so none can be turned into another:

* the **page token** (``/p/<token>/...``, the overview and week pages, every session and the
  pause) is the full 256-bit HMAC of ``page``;
* a **session signature** (``/s/<session id>/<signature>``, the link inside a calendar event)
  is the HMAC of that session's id, cut to 144 bits: it opens that one session and nothing
  else, and a signature of one session does not open another;
* a **CSRF token** is the HMAC of the capability (the page, or one session) and a purpose,
  so a form token lifted from one session's page is worthless on another's.

Rotating the secret (``liftrun web rotate-token``) changes every derived value at once: every
link and every form already handed out stops working, without a restart. Every comparison is
constant-time, and any problem with the secret file denies access rather than failing open.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from adapters.ics.feed_address import FEED_NAME, subscription_urls
from adapters.secret_file import SECRET_BYTES, SecretFile, SecretFileError, SecretKind

if TYPE_CHECKING:
    from config.models import Settings

__all__ = [
    "PAGE",
    "SECRET_FILE",
    "SIGNATURE_BYTES",
    "Capability",
    "PageSecret",
    "PageSecretError",
    "page_url",
    "public_base",
    "session_capability",
    "session_url",
]

SECRET_FILE = "page-secret"
SIGNATURE_BYTES = 18  # 144 bits (>= 128), 24 URL-safe characters without padding
CSRF_PURPOSE = "form"

log = logging.getLogger("liftrun.web")


class PageSecretError(SecretFileError):
    """The secret file is unusable (unsafe mode, not a regular file, garbled); the message says
    what to do."""


PAGE_SECRET = SecretKind(
    file_name=SECRET_FILE,
    called="page secret",
    rotate_command="liftrun web rotate-token",
    leaked="the page links",
    denied="page request",
    error=PageSecretError,
    log=log,
)


@dataclass(frozen=True)
class Capability:
    """What one URL grants: the whole page (``session_id`` None) or one session."""

    session_id: str | None = None

    @property
    def label(self) -> str:
        return "page" if self.session_id is None else f"session\0{self.session_id}"


PAGE = Capability()


def session_capability(session_id: str) -> Capability:
    return Capability(session_id)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


class PageSecret:
    """The page secret of one state directory and the credentials derived from it."""

    def __init__(self, state_dir: Path) -> None:
        self._file = SecretFile(state_dir, PAGE_SECRET)
        self.path = self._file.path

    # -- the file ----------------------------------------------------------------------------
    def ensure(self) -> None:
        """Create the secret if missing, so ``serve`` and ``web url`` need no setup step.

        Raises:
            PageSecretError: the file exists but is unusable.
            UnsafePath: (an ``OSError``) the state directory is not private to this user.
        """
        self._file.ensure()

    def rotate(self) -> None:
        """Replace the secret: every page link, session link and form token stops working."""
        self._file.rotate()

    # -- derived credentials -----------------------------------------------------------------
    def page_token(self) -> str | None:
        """The token of ``/p/<token>/``; None while the secret is unusable."""
        return self._derive(PAGE.label, SECRET_BYTES)

    def signature(self, session_id: str) -> str | None:
        """The signature of ``/s/<session_id>/<signature>``; None while the secret is unusable."""
        return self._derive(session_capability(session_id).label, SIGNATURE_BYTES)

    def csrf_token(self, capability: Capability, purpose: str = CSRF_PURPOSE) -> str | None:
        """The token a form under ``capability`` carries; None while the secret is unusable."""
        return self._derive(f"csrf\0{capability.label}\0{purpose}", SIGNATURE_BYTES)

    def page_allows(self, token: str) -> bool:
        return _same(token, self.page_token())

    def session_allows(self, session_id: str, signature: str) -> bool:
        return _same(signature, self.signature(session_id))

    def csrf_allows(self, capability: Capability, token: str, purpose: str = CSRF_PURPOSE) -> bool:
        return _same(token, self.csrf_token(capability, purpose))

    def _derive(self, label: str, size: int) -> str | None:
        key = self._file.current()
        if key is None:
            return None
        return _b64(hmac.new(key, label.encode("utf-8"), hashlib.sha256).digest()[:size])


def _same(candidate: str, expected: str | None) -> bool:
    """Constant-time equality; an unusable secret matches nothing."""
    if expected is None:
        return False
    return hmac.compare_digest(candidate.encode("utf-8", "backslashreplace"), expected.encode())


# -- the URLs that carry them ---------------------------------------------------------------------
def public_base(settings: Settings) -> str:
    """Where a phone reaches ``liftrun serve``: ``[web] public_url``, else the feed's own
    base (``[feed] public_url`` or the listen address, as ``liftrun feed url`` prints it)."""
    if settings.web.public_url:
        return settings.web.public_url.rstrip("/")
    url, _ = subscription_urls(settings, "-")
    return url.removesuffix(f"/-/{FEED_NAME}")


def page_url(base: str, secret: PageSecret) -> str | None:
    """The overview's URL; None while the secret is unusable."""
    token = secret.page_token()
    return None if token is None else f"{base}/p/{token}/"


def session_url(base: str, secret: PageSecret, session_id: str) -> str | None:
    """The link a calendar event carries to its session; None while the secret is unusable."""
    signature = secret.signature(session_id)
    return None if signature is None else f"{base}/s/{session_id}/{signature}"
