"""Where the CalDAV target and busy source keep what they read between runs.

The process restarts every cycle under cron, so a calendar's :class:`Mirror` (href to ETag plus
what the caller keeps of each resource) is saved as one JSON file per calendar in ``cache_dir``;
with it, a cycle in which nothing changed costs one request (see
:meth:`adapters.caldav.client.CalDAVClient.refresh`). A missing, unreadable or older-versioned
file only costs a full read, so nothing here raises.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

from adapters.atomic import atomic_write
from adapters.caldav.client import Mirror

__all__ = ["CACHE_VERSION", "cache_file", "load_mirror", "save_mirror"]

log = logging.getLogger(__name__)

CACHE_VERSION = 1


def cache_file(cache_dir: Path, kind: str, url: str, username: str | None, calendar: str) -> Path:
    """One file per (server, account, calendar) and role (``target`` or ``source``): the same
    calendar read as both keeps two mirrors, because each keeps different fields."""
    key = hashlib.sha256("\x1f".join([url, username or "", calendar]).encode()).hexdigest()[:20]
    return cache_dir / f"caldav-{kind}-{key}.json"


def load_mirror(path: Path) -> Mirror | None:
    try:
        data: Any = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("version") != CACHE_VERSION:
        return None
    return Mirror.from_json(data.get("mirror"))


def save_mirror(path: Path, mirror: Mirror, label: str) -> None:
    """A cache that cannot be written costs a full read next cycle; it is no reason to fail."""
    payload = {"version": CACHE_VERSION, "mirror": mirror.to_json()}
    try:
        atomic_write(path, json.dumps(payload, separators=(",", ":")).encode())
    except OSError as exc:
        log.warning("%s: cannot save the CalDAV cache: %s", label, exc.strerror or exc)
