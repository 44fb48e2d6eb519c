"""Where the ICS feed lives on disk and how a subscriber reaches it.

Kept apart from the server so ``liftrun sync`` (which makes the feed's token) and
``liftrun feed url`` learn the paths and the URL without loading the web stack.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from config.loader import LoadedConfig
    from config.models import Settings

__all__ = ["FEED_NAME", "SHADOW_NAME", "FeedPaths", "feed_paths", "subscription_urls"]

FEED_NAME = "liftrun.ics"
SHADOW_NAME = "busy.ics"


@dataclass(frozen=True)
class FeedPaths:
    feed: Path
    shadow: Path | None


def feed_paths(loaded: LoadedConfig) -> FeedPaths | None:
    """The files to serve: the first ICS calendar with ``push_to``; None if there is none."""
    for cal in loaded.settings.calendars:
        if cal.kind == "ics" and cal.push_to:
            shadow = cal.push_busy_shadow_to
            return FeedPaths(
                feed=loaded.resolve(cal.push_to),
                shadow=loaded.resolve(shadow) if shadow else None,
            )
    return None


_WILDCARD_HOSTS = ("0.0.0.0", "::", "")


def subscription_urls(
    settings: Settings,
    token: str,
    listen_host: str | None = None,
    port: int | None = None,
) -> tuple[str, str]:
    """The feed URL and its ``webcal://`` form (which makes calendar apps offer to subscribe).

    ``[feed] public_url`` wins when set, because behind a reverse proxy the listen address is
    not reachable by the phone that subscribes.
    """
    if settings.feed.public_url:
        base = settings.feed.public_url.rstrip("/")
    else:
        host = settings.feed.host if listen_host is None else listen_host
        if host in _WILDCARD_HOSTS:  # listening everywhere: name the machine, not 0.0.0.0
            host = socket.gethostname()
        if ":" in host:
            host = f"[{host}]"
        base = f"http://{host}:{settings.feed.port if port is None else port}"
    url = f"{base}/{token}/{FEED_NAME}"
    scheme, sep, rest = url.partition("://")
    webcal = f"webcal://{rest}" if sep and scheme.lower() in ("http", "https") else url
    return url, webcal
