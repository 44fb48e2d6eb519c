"""A CalDAV calendar as a ``CalendarTarget``: sessions as one resource each.

Ownership is two marks in the event itself: a UID in liftrun's namespace and an
``X-LIFTRUN-SESSION`` property naming the same session. Anything else in the calendar (the
athlete's own events, when ``push_to`` is a shared calendar) is never listed and never written.

A session's resource lives at an href derived from its UID, so a create replayed after a crash
addresses the same resource and ``If-None-Match: *`` turns it into ``AlreadyExists`` instead of
a duplicate. A server that ignores both headers (SOGo) is found out at the first write, and
each write there is preceded by a re-read (:mod:`adapters.caldav.preconditions`). CalDAV
clients sync deletions, so a cancel deletes the resource (the ICS feed keeps a CANCELLED copy
only because subscribers cannot see a removal).

What was read is kept in ``cache`` (``adapters.caldav.mirror``, shared with the busy
source) because the process restarts every cycle under cron: with it, a cycle in which nothing
changed costs one request. A missing or unreadable cache only costs a full read.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import icalendar

from adapters.cache import Cache
from adapters.caldav.account import Account
from adapters.caldav.client import CalDAVClient
from adapters.caldav.collection import Item, Mirror, resource_key
from adapters.caldav.discovery import is_url
from adapters.caldav.mirror import MirrorStore
from adapters.caldav.preconditions import Preconditions
from adapters.caldav.session import AccessRefused, CalendarMissing
from adapters.caldav.webdav import uid_holder
from adapters.ical.render import CALENDAR_END, EventMeta, event_bytes, new_calendar
from adapters.protocol import (
    Action,
    ActionKind,
    AdapterError,
    AlreadyExists,
    NotCreatedYet,
    NotFound,
    Outcome,
    OwnedEvent,
    PreconditionFailed,
    TargetReset,
    day_start,
    parse_placed,
    placed_value,
    session_id_of,
    session_uid,
)
from planner.model import Session

__all__ = ["CalDAVTarget", "resource_name"]

log = logging.getLogger(__name__)

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
# Calendar-level properties of a feed that do not belong on a CalDAV resource (RFC 4791 4.1:
# no METHOD in a calendar object resource).
_FEED_ONLY = ("METHOD", "REFRESH-INTERVAL", "X-PUBLISHED-TTL", "X-WR-CALNAME", "X-WR-TIMEZONE")


def resource_name(uid: str) -> str:
    """The resource name for ``uid``: the UID with unsafe characters replaced, plus a short hash
    when anything was replaced so that two UIDs never share a name."""
    safe = _UNSAFE.sub("-", uid)
    if safe != uid:
        safe += "-" + hashlib.sha256(uid.encode()).hexdigest()[:8]
    return f"{safe}.ics"


def _aware(value: date, tz: ZoneInfo) -> datetime:
    """A DATE is whole local days of the plan's zone, as liftrun writes race day."""
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=tz)
    return day_start(value, tz)


def owned_value(ics: str, tz: ZoneInfo) -> dict[str, Any] | None:
    """What the cache keeps of a resource: the owned event's fields, or None when the resource
    is not liftrun's (or unreadable: then it is not touched either)."""
    try:
        cal = icalendar.Calendar.from_ical(ics)
    except ValueError:
        return None
    for event in cal.walk("VEVENT"):
        if "RECURRENCE-ID" in event:
            continue
        sid = session_id_of(str(event.get("UID", "")))
        marker = event.get("X-LIFTRUN-SESSION")
        if sid is None or marker is None or str(marker) != sid:
            return None
        try:
            raw_start = event.decoded("DTSTART")
            start = _aware(raw_start, tz)
            if "DTEND" in event:
                raw_end = event.decoded("DTEND")
                if not isinstance(raw_start, datetime) and not isinstance(raw_end, datetime):
                    # some clients write an all-day event's DTEND equal to its DTSTART: one day
                    raw_end = max(raw_end, raw_start + timedelta(days=1))
                end = _aware(raw_end, tz)
            elif "DURATION" in event:
                end = start + event.decoded("DURATION")
            elif isinstance(raw_start, datetime):  # RFC 5545 3.6.1: a DATE-TIME takes no time
                end = start
            else:  # and a DATE lasts a day
                end = _aware(raw_start + timedelta(days=1), tz)
        except (KeyError, ValueError, TypeError):
            return None
        placed = event.get("X-LIFTRUN-PLACED")
        content = event.get("X-LIFTRUN-HASH")
        sequence = event.get("SEQUENCE", 0)
        return {
            "session_id": sid,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "hash": str(content) if content is not None else None,
            "placed": str(placed) if placed is not None else None,
            "cancelled": str(event.get("STATUS", "")).upper() == "CANCELLED",
            "sequence": int(sequence) if str(sequence).isdigit() else 0,
        }
    return None


class CalDAVTarget:
    """``CalendarTarget`` for one CalDAV calendar (``push_to``).

    ``calendar`` is a display name (created with MKCALENDAR if missing and ``create`` is set)
    or a URL. ``calendar_url`` is a URL the engine remembered from :meth:`learned`; with
    it (or with a cache) no discovery is made; without, the ``account``'s listing (shared with
    the entry's busy sources) names it. ``use_sync_collection=False`` forces the ctag / ETag
    comparison used for servers without RFC 6578. ``detect_preconditions`` (the kind sets
    it) finds out at the first write whether the server enforces ``If-Match`` and
    ``If-None-Match`` and guards each write where it does not; without it the server is trusted
    to, as a test of a known server does.
    """

    def __init__(
        self,
        url: str,
        *,
        username: str | None,
        password: str | None,
        calendar: str = "Training",
        timezone: str,
        now: datetime,
        cache: Cache,
        alarm_minutes: int | None = 30,
        calendar_url: str | None = None,
        name: str | None = None,
        create: bool = True,
        verify_tls: bool = True,
        ca_file: str | None = None,
        auth_type: str | None = None,
        timeout: float = 20.0,
        account: Account | None = None,
        use_sync_collection: bool = True,
        detect_preconditions: bool = False,
        retry_wait: Callable[[int], float] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.name = name or f"CalDAV calendar {calendar!r}"
        self.calendar = calendar
        self.timezone = timezone
        self._tz = ZoneInfo(timezone)
        self.now = now.astimezone(UTC).replace(microsecond=0)
        self.alarm_minutes = alarm_minutes
        self._create = create
        self._use_sync = use_sync_collection
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
        self._mirrors = MirrorStore(cache, "target", self.client, calendar)
        self._mirror = self._mirrors.load()
        self._remembered = calendar_url
        self._url: str | None = None
        self._detect = detect_preconditions
        self._preconditions: Preconditions | None = None
        # The URL is settled once a listing made in this run (or MKCALENDAR) gave it: a 404 on
        # it then means the calendar is gone, not that what was remembered went stale.
        self._settled = False
        self._stale = False  # what was remembered answered 404: ask for a fresh listing

    def __repr__(self) -> str:
        return f"CalDAVTarget({self.name!r}, {self.client.server!r})"

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
            self._url = self._resolve()
        return self._url

    def _resolve(self) -> str:
        if not self._stale:
            if self._remembered:
                return self._remembered
            if self._mirror is not None:
                return self._mirror.url
        if is_url(self.calendar):
            self._settled = True
            return self.client.require_calendar(self.calendar).url
        found = self.client.find_calendar(self.calendar, fresh=self._stale)
        self._settled = self.client.account.generation > 0
        if found is None and not self._create:
            raise NotCreatedYet(
                f"calendar {self.calendar!r} does not exist yet; the first sync creates it"
            )
        if found is None:
            log.info("%s: creating calendar %r", self.name, self.calendar)
            found = self.client.make_calendar(self.calendar)
            self._settled = True
        return found.url

    def _guard(self) -> Preconditions | None:
        """What the server does with ``If-Match`` / ``If-None-Match`` on this calendar: tested
        at the first write to its URL (:mod:`adapters.caldav.preconditions`), then an account
        fact; where they are ignored, each write is preceded by a re-read. None: trusted."""
        if not self._detect:
            return None
        url = self.calendar_url
        if self._preconditions is None or self._preconditions.calendar_url != url:
            self._preconditions = Preconditions(
                self.client, self.client.account, url, label=self.name
            )
        return self._preconditions

    def remarks(self) -> list[str]:
        """The contract's ``Remarks``: a server that ignores preconditions. ``liftrun check``
        asks once it has read the calendar; a server never tested is tested then (the scratch
        event is removed at once). Before the calendar was found, nothing is asked or said."""
        guard = self._guard() if self._url is not None else None
        if guard is None:
            return []
        guard.ensure()
        return guard.remarks()

    # -- reading -----------------------------------------------------------------------------
    def _keep(self, ics: str) -> dict[str, Any] | None:
        return owned_value(ics, self._tz)

    def _refresh(self) -> Mirror:
        url = self.calendar_url
        try:
            mirror = self._read(self._mirror, url)
        except (CalendarMissing, AccessRefused):
            if self._settled or is_url(self.calendar):
                raise
            # What was remembered is gone, or is not this account's (the username changed):
            # the name is looked up again, and a 403 on what that finds is the real answer.
            log.info("%s: %s answers no more; looking the calendar up again", self.name, url)
            self._stale = True
            self._url = None
            mirror = self._read(None, self.calendar_url)
            self._save(mirror)
            if not any(i.value for i in mirror.items.values()):
                # The calendar liftrun wrote to is gone and the one found (or just made) holds
                # none of its events: a reset, as Google's, not twenty deletions by hand.
                was, now = resource_key(url), resource_key(self.calendar_url)
                where = "is there again, empty" if was == now else f"is {now} now"
                raise TargetReset(
                    f"calendar {self.calendar!r} at {was} was gone (deleted, or not this "
                    f"account's) and {where}: every session is pushed into it from the next "
                    "cycle, and none is taken for deleted by hand"
                ) from None
            return mirror
        self._save(mirror)
        return mirror

    def _read(self, mirror: Mirror | None, url: str) -> Mirror:
        """The calendar now; a permanent redirect is followed and its URL kept (learned()), so
        a calendar moved on the server stays the one written to."""
        read = self.client.read_calendar(mirror, url, self._keep, use_sync=self._use_sync)
        self._url = read.url
        return read

    def _save(self, mirror: Mirror) -> None:
        self._mirror = mirror
        self._mirrors.save(mirror)

    def _event(self, key: str, item: Item) -> OwnedEvent:
        value = item.value
        return OwnedEvent(
            session_id=value["session_id"],
            remote_id=self.client.resource_url(self.calendar_url, key),
            etag=item.etag,
            start=datetime.fromisoformat(value["start"]).astimezone(self._tz),
            end=datetime.fromisoformat(value["end"]).astimezone(self._tz),
            content_hash=value.get("hash"),
            cancelled=bool(value.get("cancelled")),
            placed=parse_placed(value.get("placed")),
        )

    def list_owned(self, start: datetime, end: datetime) -> list[OwnedEvent]:
        mirror = self._refresh()
        owned = [self._event(k, i) for k, i in sorted(mirror.items.items()) if i.value is not None]
        return [o for o in owned if o.start < end and o.end > start]

    # -- writing -----------------------------------------------------------------------------
    def render(self, session: Session, content_hash: str, *, sequence: int = 0) -> bytes:
        """One calendar object resource: VCALENDAR, the VTIMEZONE it needs (none for an all-day
        event: DATE values name no zone), the VEVENT."""
        assert session.start is not None
        zone = getattr(session.start.tzinfo, "key", None) or self.timezone
        day = None if session.all_day else session.date
        cal = new_calendar(timezone=zone, first=day, last=day)
        for prop in _FEED_ONLY:
            cal.pop(prop, None)
        shell: bytes = cal.to_ical()
        meta = EventMeta(sequence=sequence, stamp=self.now, content_hash=content_hash)
        body = event_bytes(session, meta, alarm_minutes=self.alarm_minutes)
        return shell[: -len(CALENDAR_END)] + body + CALENDAR_END

    def href(self, session_id: str) -> str:
        return self.client.resource_url(self.calendar_url, "") + resource_name(
            session_uid(session_id)
        )

    def apply(self, actions: Sequence[Action]) -> Iterator[Outcome]:
        """One request per action, in order. Per-action conflicts come back in the outcome;
        a failure of the whole calendar (auth, unreachable after retries) is raised."""
        url = self.calendar_url
        if self._mirror is None or self._mirror.url != url:
            self._mirror = Mirror(url)  # writes are remembered; the next read fills the rest
        wrote = False
        try:
            for action in actions:
                guard = self._guard()
                if guard is not None and not wrote:
                    guard.ensure()  # at the first write: a server never tested is tested now
                wrote = True
                yield self._one(action)
        finally:
            if wrote:
                # The token predates our writes, and RFC 6578 lets a server leave out of the
                # delta a resource created and deleted since then (Xandikos does): a session we
                # created and the athlete deleted before the next read would live on in the
                # mirror. Without the token the next read compares ETags instead.
                self._mirror = replace(self._mirror, sync_token=None)
            self._mirrors.save(self._mirror)

    def _one(self, action: Action) -> Outcome:
        if action.kind is ActionKind.CANCEL:
            assert action.current is not None
            return self._cancel(action, action.current)
        session, content_hash = action.session, action.content_hash
        assert session is not None and content_hash is not None
        assert session.start is not None and session.end is not None
        if action.kind is ActionKind.CREATE:
            href, etag, sequence = self.href(session.id), None, 0
        else:
            assert action.current is not None
            href, etag = action.current.remote_id, action.current.etag or "*"
            sequence = self._sequence(href) + 1
        guard, refused = self._guard(), None
        if guard is not None and action.kind is ActionKind.CREATE:
            refused = guard.before_create(href, action.session_id)
        elif guard is not None:
            refused = guard.before_change(href, etag, action.session_id)
        if refused is not None:
            return Outcome(action, error=refused)
        reply = self.client.put(
            href, self.render(session, content_hash, sequence=sequence), etag=etag
        )
        if reply.status in (200, 201, 204):
            new_etag = reply.header("etag")
            value = {
                "session_id": session.id,
                "start": session.start.isoformat(),
                "end": session.end.isoformat(),
                "hash": content_hash,
                "placed": placed_value(session.start, session.end),
                "cancelled": False,
                "sequence": sequence,
            }
            self._remember(href, Item(new_etag, value) if new_etag else None)
            return Outcome(action, event=self._event(self._path(href), Item(new_etag, value)))
        return Outcome(action, error=self._write_error(action, reply.status, reply.body))

    def _cancel(self, action: Action, current: OwnedEvent) -> Outcome:
        guard = self._guard()
        refused = (
            guard.before_change(current.remote_id, current.etag, action.session_id)
            if guard is not None
            else None
        )
        if isinstance(refused, NotFound):
            self._remember(current.remote_id, None)
        if refused is not None:
            return Outcome(action, error=refused)
        reply = self.client.delete(current.remote_id, etag=current.etag)
        if reply.status in (200, 204) or reply.status == 404:
            self._remember(current.remote_id, None)
        if reply.status in (200, 204):
            return Outcome(action)
        return Outcome(action, error=self._write_error(action, reply.status, reply.body))

    def _write_error(self, action: Action, status: int, body: bytes) -> AdapterError:
        sid = action.session_id
        holder = uid_holder(self.calendar_url, body) if status in (403, 409) else None
        if holder is not None and not resource_key(holder).startswith(
            resource_key(self.calendar_url)
        ):
            # Cyrus (Fastmail) allows a UID once per account: a second Training calendar there
            # gets every create refused, and "check the user's rights" would send them astray.
            return AdapterError(
                f"{self.name}: {sid} is already in another calendar of this account "
                f"({resource_key(holder)}), and {self.client.server} allows an event's UID in "
                "one calendar per account: delete liftrun's events there, or set push_to back "
                "to that calendar"
            )
        if action.kind is ActionKind.CREATE and (status == 412 or holder is not None):
            return AlreadyExists(f"{self.name}: {sid} is already in the calendar")
        if status == 412:
            return PreconditionFailed(f"{self.name}: {sid} changed on the server since it was read")
        if status in (404, 410):
            if action.kind is ActionKind.CREATE:
                raise CalendarMissing(f"{self.name}: calendar {self.calendar_url} is gone")
            return NotFound(f"{self.name}: {sid} is no longer in the calendar")
        if status == 403:
            return AdapterError(
                f"{self.name}: {self.client.server} refused to write {sid} (HTTP 403): check "
                f"that user {self.client.username!r} may write to the calendar"
            )
        return AdapterError(f"{self.name}: writing {sid} failed with HTTP {status}")

    @staticmethod
    def _path(href: str) -> str:
        return resource_key(href)

    def _sequence(self, href: str) -> int:
        item = self._mirror.items.get(self._path(href)) if self._mirror else None
        if item is None or not isinstance(item.value, dict):
            return 0
        sequence = item.value.get("sequence", 0)
        return sequence if isinstance(sequence, int) else 0

    def _remember(self, href: str, item: Item | None) -> None:
        """Keep our own write in the mirror, so the next sync does not fetch it back; without
        an ETag in the reply the resource is dropped and fetched next read."""
        assert self._mirror is not None
        if item is None:
            self._mirror.items.pop(self._path(href), None)
        else:
            self._mirror.items[self._path(href)] = item
