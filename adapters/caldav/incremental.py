"""Incremental reads of a CalDAV collection: one request when nothing changed.

:meth:`IncrementalReads.refresh` keeps a :class:`~adapters.caldav.collection.Mirror` of a
collection (href to ETag plus what the caller wants kept of each resource) so a cycle with
nothing changed costs one request: a sync-collection REPORT (RFC 6578) where the server offers
sync tokens, else a PROPFIND of the collection's ctag. What changed is fetched with
calendar-multiget in batches.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from adapters.caldav.collection import Item, Mirror, resource_key
from adapters.caldav.session import CalendarMissing, DavSession
from adapters.caldav.webdav import CS, C, D, DavEntry, multiget_body, qname, query_body, sync_body
from adapters.protocol import AdapterError

__all__ = ["MULTIGET_BATCH", "IncrementalReads"]

log = logging.getLogger(__name__)

MULTIGET_BATCH = 200  # hrefs per calendar-multiget; keeps one request body modest


class IncrementalReads(DavSession):
    """Incremental reads for :class:`adapters.caldav.client.CalDAVClient`."""

    def refresh(
        self,
        mirror: Mirror | None,
        url: str,
        keep: Callable[[str], Any],
        *,
        window: tuple[datetime, datetime] | None = None,
        fetch_window: tuple[datetime, datetime] | None = None,
        use_sync: bool = True,
    ) -> Mirror:
        """The collection at ``url`` now, re-using ``mirror`` where it is still right.

        ``keep`` turns a resource's iCalendar text into what the mirror stores of it. Unchanged
        collection: 1 request (sync-collection, or a ctag PROPFIND). Changed: the delta plus
        one calendar-multiget of the changed resources. No usable mirror: a PROPFIND for the
        tokens, then one calendar-query with the data, limited to ``fetch_window`` (a wider
        range than ``window``, so the next cycles' windows are still covered).
        """
        fetch_window = fetch_window or window
        usable = (
            mirror if mirror is not None and mirror.url == url and mirror.covers(window) else None
        )
        if usable is not None and usable.sync_token and use_sync:
            synced = self._sync(usable, keep)
            if synced is not None:
                return synced
        entries = self.propfind(url, [(D, "resourcetype"), (D, "sync-token"), (CS, "getctag")], 0)
        state = entries[0] if entries else DavEntry(url, None, {})
        if state.status == 404:  # Xandikos: a 207 whose one response is the URL's own 404
            raise CalendarMissing(f"{self.label}: calendar {url} not found on {self.server}")
        kind = state.props.get(qname(D, "resourcetype"))
        if kind is None or kind.find(qname(C, "calendar")) is None:
            raise AdapterError(f"{self.label}: {url} is not a calendar on {self.server}")
        token = state.text(D, "sync-token") if use_sync else None
        ctag = state.text(CS, "getctag")
        if usable is not None and ctag is not None and ctag == usable.ctag:
            return replace(usable, sync_token=token)
        if usable is not None and (token is None or not usable.sync_token):
            # ctag changed and no sync token to ask with (the server has none, or the mirror
            # holds writes of ours made after its token): compare ETags, fetch what differs.
            query = self._report(url, query_body(usable.window, data=False), 1)
            etags = {
                resource_key(e.url): e.text(D, "getetag")
                for e in self._expect_207(query, "calendar-query")
            }
            items = {k: v for k, v in usable.items.items() if k in etags}
            stale = [
                k
                for k, etag in etags.items()
                if etag is None or k not in items or items[k].etag != etag
            ]
            self._fetch(url, stale, items, keep)
            return Mirror(url, token, ctag, usable.window, items)
        query = self._report(url, query_body(fetch_window, data=True), 1)
        items = {}
        missing = []
        for entry in self._expect_207(query, "calendar-query"):
            data = entry.text(C, "calendar-data")
            if data is None:
                missing.append(resource_key(entry.url))  # servers may omit large data: fetch it
                continue
            items[resource_key(entry.url)] = Item(entry.text(D, "getetag"), keep(data))
        self._fetch(url, missing, items, keep)
        return Mirror(url, token, ctag, fetch_window, items)

    def _sync(self, mirror: Mirror, keep: Callable[[str], Any]) -> Mirror | None:
        """RFC 6578 delta since ``mirror.sync_token``; None when the token is refused (expired,
        server restored): the caller then reads in full."""
        assert mirror.sync_token is not None
        reply = self._report(mirror.url, sync_body(mirror.sync_token), 0)
        if reply.status == 404:
            raise CalendarMissing(f"{self.label}: calendar {mirror.url} not found on {self.server}")
        if reply.status != 207:
            log.info("%s: sync token refused (HTTP %d); reading in full", self.label, reply.status)
            return None
        entries, token = self._multistatus(reply, "sync-collection")
        items = dict(mirror.items)
        stale = []
        for entry in entries:
            key = resource_key(entry.url)
            if key == resource_key(mirror.url):
                continue
            if entry.status == 404:
                items.pop(key, None)
                continue
            etag = entry.text(D, "getetag")
            current = items.get(key)
            if etag is None or current is None or current.etag != etag:
                stale.append(key)
        self._fetch(mirror.url, stale, items, keep)
        return replace(mirror, sync_token=token or mirror.sync_token, ctag=None, items=items)

    def _fetch(
        self, url: str, keys: list[str], items: dict[str, Item], keep: Callable[[str], Any]
    ) -> None:
        """calendar-multiget ``keys`` into ``items``; a resource gone meanwhile is dropped."""
        for i in range(0, len(keys), MULTIGET_BATCH):
            batch = keys[i : i + MULTIGET_BATCH]
            reply = self._report(url, multiget_body(batch), None)
            got = {}
            for entry in self._expect_207(reply, "calendar-multiget"):
                data = entry.text(C, "calendar-data")
                if data is not None:
                    got[resource_key(entry.url)] = Item(entry.text(D, "getetag"), keep(data))
            for key in batch:
                if key in got:
                    items[key] = got[key]
                else:
                    items.pop(key, None)
