"""Busy time from a CalDAV calendar (a ``busy_from`` entry), as a ``BusySource``.

Busy time is computed from the events themselves: a calendar-query REPORT with a time range
fetches them, and the ICS reader (:func:`adapters.ical.busy.read_busy`) expands recurrences and
applies the TRANSPARENT, CANCELLED and all-day rules, so a CalDAV calendar is read exactly like
an ICS feed. The free-busy REPORT is never used: servers differ in what they count as busy
(Radicale, for one, ignores TRANSP), and it would hide the summaries a move is explained with.

The events are kept in ``cache`` between runs, for the range fetched (the asked window plus
``slack_days``): a cycle with nothing changed costs one request, and when the server cannot be
reached the last good copy is used and marked stale (``SourceRead.fresh=False``). Without a
copy covering the window, the read fails with ``SourceUnavailable``: never free time.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from adapters.cache import Cache
from adapters.caldav.account import Account
from adapters.caldav.client import CalDAVClient
from adapters.caldav.collection import Mirror
from adapters.caldav.discovery import is_url
from adapters.caldav.mirror import MirrorStore
from adapters.caldav.session import AccessRefused, CalendarMissing
from adapters.ical.busy import IcsParseError, read_busy
from adapters.protocol import AdapterError, BusyRead, SourceRead, SourceUnavailable, fell_back

__all__ = ["CalDAVSource"]

log = logging.getLogger(__name__)


class CalDAVSource:
    """One CalDAV calendar's busy time. ``calendar`` is a display name or a URL;
    ``calendar_url`` (a remembered URL) skips discovery; without it the ``account``'s listing
    (shared with the entry's target and other sources) names it. ``use_sync_collection=False``
    forces the ctag / ETag comparison used for servers without RFC 6578."""

    name: str

    def __init__(
        self,
        url: str,
        *,
        username: str | None,
        password: str | None,
        calendar: str,
        timezone: str,
        cache: Cache,
        calendar_url: str | None = None,
        name: str | None = None,
        slack_days: int = 28,
        verify_tls: bool = True,
        ca_file: str | None = None,
        auth_type: str | None = None,
        timeout: float = 20.0,
        deadline_seconds: float = 60.0,
        account: Account | None = None,
        use_sync_collection: bool = True,
        retry_wait: Callable[[int], float] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.name = name or f"CalDAV calendar {calendar!r}"
        self.calendar = calendar
        self._tz = ZoneInfo(timezone)
        self._slack = timedelta(days=slack_days)
        self._use_sync = use_sync_collection
        # Expanding what the server sent is bounded by the same wall clock as the cycle's wait
        # for this source, so a calendar of never-matching rules cannot keep a thread alive.
        self._deadline_seconds = deadline_seconds
        self.client = CalDAVClient(
            url,
            username=username,
            password=password,
            label=self.name,
            verify_tls=verify_tls,
            ca_file=ca_file,
            auth_type=auth_type,
            timeout=timeout,
            account=account,
            retry_wait=retry_wait,
            sleep=sleep,
        )
        self._mirrors = MirrorStore(cache, "source", self.client, calendar)
        self._mirror = self._mirrors.load()
        self._remembered = calendar_url
        self._url: str | None = None
        self._looked_up = False  # the URL came from a listing made in this process

    def __repr__(self) -> str:
        return f"CalDAVSource({self.name!r}, {self.client.server!r})"

    @property
    def requests_made(self) -> int:
        return self.client.requests_made

    def learned(self) -> str | None:
        """The calendar's URL once this run has resolved it (the contract's ``Learns``), for the
        next run to start from; None before, without asking the server."""
        return self._url

    @property
    def calendar_url(self) -> str:
        """The calendar's URL (discovered on first use; :meth:`learned` then gives it)."""
        if self._url is None:
            if self._remembered:
                self._url = self._remembered
            elif self._mirror is not None:
                self._url = self._mirror.url
            else:
                self._url = self.client.require_calendar(self.calendar).url
                self._looked_up = self.client.account.generation > 0
        return self._url

    def read_busy(self, start: datetime, end: datetime) -> SourceRead:
        """Busy time overlapping ``[start, end)``, from the server or else the last good copy.

        Raises:
            SourceUnavailable: the calendar cannot be read and no copy covers the window.
            ValueError: ``start``/``end`` are naive or out of order (a programming error).
        """
        if start.tzinfo is None or end.tzinfo is None or end <= start:
            raise ValueError("read_busy needs an aware window with start < end")
        window = (start, end)
        until = time.monotonic() + self._deadline_seconds
        try:
            mirror = self._refresh(window)
        except AdapterError as exc:
            return self._fall_back(str(exc), window, until)
        try:
            busy = self._parse(mirror, window, until)
        except IcsParseError as exc:
            raise SourceUnavailable(str(exc)) from None
        self._mirror = replace(mirror, saved_at=datetime.now(UTC))
        self._mirrors.save(self._mirror)
        return SourceRead(self.name, busy)

    def _refresh(self, window: tuple[datetime, datetime]) -> Mirror:
        fetch = (window[0] - timedelta(days=1), window[1] + self._slack)
        url = self.calendar_url
        try:
            return self._read(self._mirror, url, window, fetch)
        except (CalendarMissing, AccessRefused):
            if is_url(self.calendar) or self._looked_up:
                raise
        # What was remembered is gone (re-created, moved) or not this account's (the username
        # changed): look it up by name; a 403 on what that finds is the real answer.
        self._url = self.client.require_calendar(self.calendar, fresh=True).url
        self._looked_up = True
        self._mirror = None
        return self._read(None, self._url, window, fetch)

    def _read(
        self,
        mirror: Mirror | None,
        url: str,
        window: tuple[datetime, datetime],
        fetch: tuple[datetime, datetime],
    ) -> Mirror:
        """The calendar now, a permanent redirect followed and its URL kept (learned()); the
        mirror stays the last good copy until a read succeeds."""
        read = self.client.read_calendar(
            mirror,
            url,
            str,  # the busy source keeps each resource's text as it came
            window=window,
            fetch_window=fetch,
            use_sync=self._use_sync,
        )
        self._url = read.url
        return read

    def _parse(self, mirror: Mirror, window: tuple[datetime, datetime], until: float) -> BusyRead:
        # One stream of VCALENDARs (read_busy reads them with one context, one limit).
        if not mirror.items:
            return BusyRead((), ())  # an empty calendar is free time, read successfully
        data = "\r\n".join(str(item.value).strip() for _, item in sorted(mirror.items.items()))
        return read_busy(
            data.encode("utf-8"),
            source=self.name,
            tz=self._tz,
            start=window[0],
            end=window[1],
            deadline=until,
        )

    def _fall_back(
        self, reason: str, window: tuple[datetime, datetime], until: float
    ) -> SourceRead:
        cached = self._mirror
        if cached is None or not cached.covers(window):
            message = fell_back(reason, copy=False)
            log.warning("%s", message)
            raise SourceUnavailable(message) from None
        try:
            busy = self._parse(cached, window, until)
        except IcsParseError as exc:
            message = fell_back(reason, copy=False, unreadable=str(exc))
            log.warning("%s", message)
            raise SourceUnavailable(message) from None
        kept = cached.saved_at.astimezone(self._tz) if cached.saved_at else None
        message = fell_back(reason, copy=True, saved_at=kept)
        log.warning("%s", message)
        return SourceRead(self.name, busy, fresh=False, error=message)
