"""The CalDAV client shared by the CalDAV target and busy source.

:class:`CalDAVClient` is one account on one server: the session of
:mod:`adapters.caldav.session` (auth, retries, redirects, the one origin, and why requests are
sent there rather than through the ``caldav`` library's calendar objects), the discovery of
:mod:`adapters.caldav.discovery`, the incremental reads of :mod:`adapters.caldav.incremental`,
and the conditional writes below.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import quote, urljoin, urlunsplit

from adapters.caldav.collection import Mirror
from adapters.caldav.discovery import Discovery
from adapters.caldav.incremental import IncrementalReads
from adapters.caldav.session import CalendarMoved
from adapters.caldav.webdav import Reply

__all__ = ["CalDAVClient"]

log = logging.getLogger(__name__)


class CalDAVClient(Discovery, IncrementalReads):
    """One account on one CalDAV server, for one calendar's target or source (the constructor's
    arguments are :class:`~adapters.caldav.session.DavSession`'s)."""

    def read_calendar(
        self,
        mirror: Mirror | None,
        url: str,
        keep: Callable[[str], Any],
        *,
        window: tuple[datetime, datetime] | None = None,
        fetch_window: tuple[datetime, datetime] | None = None,
        use_sync: bool = True,
    ) -> Mirror:
        """:meth:`refresh`, following a calendar's permanent redirect (RFC 9110: where it lives
        now) once: the account's listing learns the new URL, and the mirror returned names it,
        so the target and busy source, which both read this way, take their URL from it."""
        options: dict[str, Any] = {
            "window": window,
            "fetch_window": fetch_window,
            "use_sync": use_sync,
        }
        try:
            return self.refresh(mirror, url, keep, **options)
        except CalendarMoved as moved:
            log.info("%s: %s moved to %s", self.label, url, moved.location)
            self.account.moved(url, moved.location)
            return self.refresh(None, moved.location, keep, **options)

    def put(self, url: str, data: bytes, *, etag: str | None) -> Reply:
        """PUT ``data``: a create (``etag`` None: ``If-None-Match: *``) or an update
        (``If-Match``). The reply's status is the caller's to map (201/204, 412, 404)."""
        headers = {"Content-Type": "text/calendar; charset=utf-8"}
        if etag is None:
            headers["If-None-Match"] = "*"
        else:
            headers["If-Match"] = etag
        return self.request("PUT", url, body=data, headers=headers)

    def delete(self, url: str, *, etag: str | None) -> Reply:
        return self.request("DELETE", url, headers={"If-Match": etag} if etag else {})

    def resource_url(self, calendar_url: str, key: str) -> str:
        """A resource's URL from its key (a decoded path, or a name inside the calendar). A
        path is put on the configured origin as it is: a key like ``//host/x`` is a path there,
        not the network-path reference ``urljoin`` would make of it."""
        if key.startswith("/"):
            return urlunsplit((self.origin.scheme, self._netloc, quote(key), "", ""))
        return self._ours(urljoin(calendar_url, quote(key)), "a resource URL points to")
