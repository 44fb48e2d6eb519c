"""Where the CalDAV target and busy source keep what they read between runs.

The process restarts every cycle under cron, so a calendar's :class:`Mirror` (href to ETag plus
what the caller keeps of each resource) is one entry of an :class:`~adapters.cache.Cache` in
the kind's cache; with it, a cycle in which nothing changed costs one request (see
:meth:`adapters.caldav.client.CalDAVClient.refresh`). A missing, unreadable or older entry only
costs a full read, so nothing here raises.
"""

from __future__ import annotations

import logging
from typing import Literal

from adapters.cache import Cache, Namespace
from adapters.caldav.collection import Mirror
from adapters.caldav.session import DavSession

__all__ = ["MirrorStore"]

log = logging.getLogger(__name__)

# One namespace per role: the same calendar read as target and as source keeps two mirrors,
# because each keeps different fields of a resource.
_ROLES = {
    "target": Namespace("caldav-target", version=1),
    "source": Namespace("caldav-source", version=1),
}


class MirrorStore:
    """The mirror of one calendar (the client's server and account, the calendar's name or URL)
    in one role (``target`` or ``source``), in ``cache`` (a dry run's reads it but writes
    nothing)."""

    def __init__(
        self, cache: Cache, role: Literal["target", "source"], client: DavSession, calendar: str
    ) -> None:
        self._cache = cache
        self._namespace = _ROLES[role]
        self._key = (client.base_url, client.username or "", calendar)
        self._label = client.label

    def load(self) -> Mirror | None:
        return Mirror.from_json(self._cache.get_json(self._namespace, self._key))

    def save(self, mirror: Mirror) -> None:
        """A cache that cannot be written costs a full read next cycle; it is no reason to fail."""
        try:
            self._cache.put_json(self._namespace, self._key, mirror.to_json())
        except OSError as exc:
            log.warning("%s: cannot save the CalDAV cache: %s", self._label, exc.strerror or exc)
