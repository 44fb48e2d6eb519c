"""The link each calendar event carries to its session's page (issue 15): ``/s/<id>/<signature>``.

**Only where a public URL is set.** A link is made when the athlete said where a phone reaches
``liftrun serve``: ``[web] public_url``, or else ``[feed] public_url`` (the page is served beside
the feed). The listen address is not such a place: it is where the server binds, usually a
loopback or a container's own address, and a link to it in every event of every calendar is one
that no phone can open; worse, those events would all change again once a public URL is set.
``liftrun web url`` still falls back to the listen address, for a browser on the same machine.

**Made once per cycle and handed down as data.** The engine puts each session's link on the
session (``Session.link``) before any target renders it, so every kind shows the same link
without the engine asking which kind it writes to, and the content hash covers it (the link is
the description's last line): rotating the page secret (``liftrun web rotate-token``) or
changing the public URL updates every future event at the next cycle, and an idle cycle stays
idle. The busy-shadow feed renders no link (it names no session).

**Why ``sync`` reads ``web.access``.** The signature is an HMAC under the page secret, and the
page verifies what this module signs: one module owning the secret file and every value derived
from it keeps the two from drifting apart, as a copy of the derivation here would not.
``web.access`` is a leaf of the page (it imports only ``adapters``, nothing of ``web`` or
``sync``), so there is no import cycle; it is imported only when a public URL is set, so a sync
without one loads nothing of the page (``tests/test_cli_startup.py``).

**The secret.** A cycle that is not a dry run creates the page secret when it is missing (with
``O_EXCL``: a ``serve`` creating it at the same moment agrees on one), so events carry working
links before the page was ever opened. An unusable secret (readable by others, garbled) gives no
links and a warning in the cycle report: the page refuses every request until it is fixed, so
a link would only lead to its "not found" page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from config.models import Settings

__all__ = ["NO_LINKS", "SessionLinks", "session_links"]


@dataclass(frozen=True)
class SessionLinks:
    """The links of one cycle: ``of(session id)`` is the session's link, or None when events
    carry none (no public URL, or an unusable secret: ``warning`` then says why)."""

    make: Callable[[str], str | None] | None = None
    warning: str | None = None

    def of(self, session_id: str) -> str | None:
        return None if self.make is None else self.make(session_id)


NO_LINKS = SessionLinks()


def session_links(settings: Settings, state_dir: Path, *, create: bool) -> SessionLinks:
    """The links of a cycle in ``state_dir``; ``create`` (not in a dry run, which leaves no
    trace) makes the page secret if it is missing."""
    if not (settings.web.public_url or settings.feed.public_url):
        return NO_LINKS
    # the page's own module, only on this path: a sync without a public URL loads none of it
    from web.access import PageSecret, PageSecretError, public_base, session_url  # noqa: PLC0415

    secret = PageSecret(state_dir)
    if not create and not secret.path.exists():
        return NO_LINKS  # a dry run before the first real cycle, which creates the secret
    try:
        secret.ensure()  # an existing secret is only read and checked
    except (PageSecretError, OSError) as exc:
        return SessionLinks(warning=f"events carry no link to their page: {exc}")
    return SessionLinks(partial(session_url, public_base(settings), secret))
