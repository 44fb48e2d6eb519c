"""Google Calendar as a ``CalendarTarget``: sessions in a dedicated secondary calendar.

Sessions go into their own calendar (``push_to``, "Training" by default), created with
``calendars.insert`` when missing and remembered by id (:meth:`GoogleTarget.learned`), so a
rename in Google Calendar does not start a second one; the athlete's own calendars are only
ever read for busy time (:mod:`adapters.google.source`), and the Training calendar is left
out of that.

**Ids.** Google lets a client choose an event's id (base32hex, ``0-9a-v``), never frees an id,
and answers 409 to an insert that reuses one, even of a deleted event. An id here is
``lr`` + base32hex of ``"<session id>/<generation>"``: deterministic, so a create replayed after
a crash meets its own event instead of making a duplicate, and reversible, so a deletion seen
in a sync (which carries only the id) tells which session's generation is used up. A session
created again after a deletion (``liftrun restore``) takes the next generation; when the cache
does not know that the old one was deleted, the 409 is resolved by reading the event: deleted
means try the next generation, live and ours means the create already happened
(``AlreadyExists``).

**Ownership.** An event is liftrun's when ``extendedProperties.private`` says ``liftrun=1`` and
names the session its id decodes to. Everything else in the calendar is never listed, patched
or deleted. ``liftrunPlaced`` keeps the times liftrun wrote inside the event, so a move in
Google Calendar shows as :attr:`~adapters.protocol.OwnedEvent.moved_by_hand`.

**Reads** are incremental: ``events.list`` with the last ``nextSyncToken``, the events kept in an
:class:`~adapters.cache.Cache` entry in ``cache``, so a cycle with nothing changed is one
request; without the entry (lost, damaged, left by another version) the read is a full one.
Google may expire a token at will (410 ``fullSyncRequired``): the calendar is then read in full
(``showDeleted``, every page), which is also how the first read is done.

**Writes** go in batches of at most 50 calls; ``apply`` yields the outcomes of a batch once
Google answered it, so a crash loses at most one batch's records, and those writes are found
again by the next read (ids are deterministic, ``liftrunPlaced`` says they are liftrun's own).
Updates are ``events.patch`` (fields the athlete added, like a location or a colour, stay) and
deletes ``events.delete``, both with ``If-Match`` on the etag read back: 412 is
``PreconditionFailed``, 404/410 ``NotFound``.

**A deleted Training calendar.** When the athlete deletes the whole calendar, ``events.list``
answers 404. The calendar is created again (empty) and ``list_owned`` raises
:class:`CalendarRecreated`, a :class:`~adapters.protocol.TargetReset`: returning an empty list
instead would make the engine read every missing session as deleted by hand and never push it
again. The engine forgets what it recorded for the target on that error; the next cycle lists
the new, empty calendar and pushes every session.

The module runs past the usual ~500 lines because ids, ownership, the incremental read with its
cache and the batched writes all turn on the one id scheme and the one cache entry per event;
apart, each part would have to restate the other's invariants.
"""

from __future__ import annotations

import base64
import binascii
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from google.auth.credentials import Credentials

from adapters.cache import Cache, Namespace
from adapters.google.client import ApiFailure, GoogleClient, Json
from adapters.ical.render import all_day_dates, description
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
    Unreachable,
    day_start,
    parse_placed,
    placed_value,
)
from adapters.retrying import Transient
from planner.model import Session

__all__ = [
    "CalendarRecreated",
    "GoogleTarget",
    "event_id",
    "owned_fields",
    "parse_event_id",
]

log = logging.getLogger(__name__)

CACHE = Namespace("google-target", version=1)
ID_PREFIX = "lr"
MAX_ID = 1024  # Google's limit on a client-chosen event id
MAX_GENERATIONS = 32  # how far one create walks past deleted ids before giving up
PAGE_SIZE = 2500  # events.list maximum: a year of sessions is one page
MARK, SESSION, PLACED, HASH = "liftrun", "liftrunSession", "liftrunPlaced", "liftrunHash"
SOURCE_TITLE = "liftrun"  # the title of an event's source: the link to its session's page


def event_id(session_id: str, generation: int = 0) -> str:
    """The Google event id of ``session_id``'s ``generation``-th event (base32hex)."""
    raw = f"{session_id}/{generation}".encode()
    return ID_PREFIX + base64.b32hexencode(raw).decode("ascii").rstrip("=").lower()


def parse_event_id(value: str) -> tuple[str, int] | None:
    """``(session id, generation)`` behind one of our ids; None for any other id."""
    if not value.startswith(ID_PREFIX):
        return None
    body = value[len(ID_PREFIX) :].upper()
    try:
        raw = base64.b32hexdecode(body + "=" * (-len(body) % 8)).decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    sid, sep, generation = raw.rpartition("/")
    if not sep or not sid or not generation.isdigit():
        return None
    parsed = (sid, int(generation))
    return parsed if event_id(*parsed) == value else None  # one spelling per id


def _when(value: Any, tz: ZoneInfo) -> datetime | None:
    if not isinstance(value, dict):
        return None
    try:
        if isinstance(value.get("dateTime"), str):
            moment = datetime.fromisoformat(value["dateTime"])
            return moment if moment.tzinfo is not None else moment.replace(tzinfo=tz)
        if isinstance(value.get("date"), str):  # race day, or the athlete made it all day
            return day_start(date.fromisoformat(value["date"]), tz)
    except ValueError:
        return None
    return None


def owned_fields(item: Json, tz: ZoneInfo) -> dict[str, Any] | None:
    """What the cache keeps of a live event: the owned event's fields, or None when the event
    is not liftrun's (then it is never touched)."""
    private = (item.get("extendedProperties") or {}).get("private") or {}
    parsed = parse_event_id(str(item.get("id", "")))
    if parsed is None or private.get(MARK) != "1" or private.get(SESSION) != parsed[0]:
        return None
    start, end = _when(item.get("start"), tz), _when(item.get("end"), tz)
    if start is None or end is None:
        return None
    return {
        "session_id": parsed[0],
        "etag": item.get("etag") if isinstance(item.get("etag"), str) else None,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "hash": private.get(HASH),
        "placed": private.get(PLACED),
    }


class CalendarRecreated(TargetReset):
    """The Training calendar was deleted in Google Calendar and has been created again, empty.

    Raised by :meth:`GoogleTarget.list_owned` once, in the cycle that found the calendar gone.
    The engine must forget its records of the target's events (they are not deletions by hand)
    and push every session the next cycle, into the calendar :meth:`GoogleTarget.learned`
    now names.
    """


@dataclass
class _Cache:
    """The calendar at the last read: its id, the sync token, our events by id, and per session
    the highest generation seen deleted (the next create skips past it)."""

    calendar_id: str | None = None
    sync_token: str | None = None
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    deleted: dict[str, int] = field(default_factory=dict)
    replaced: list[str] = field(default_factory=list)  # ids of calendars found deleted

    def to_json(self) -> dict[str, Any]:
        return {
            "calendar_id": self.calendar_id,
            "sync_token": self.sync_token,
            "events": self.events,
            "deleted": self.deleted,
            "replaced": self.replaced,
        }

    @classmethod
    def from_json(cls, data: Any) -> _Cache:
        """An empty cache for a miss or a value of another shape: a full read follows."""
        try:
            calendar_id, token = data.get("calendar_id"), data.get("sync_token")
            events = {str(k): dict(v) for k, v in data["events"].items()}
            deleted = {str(k): int(v) for k, v in data["deleted"].items()}
            replaced = [str(v) for v in data.get("replaced") or []]
        except (AttributeError, KeyError, TypeError, ValueError):
            return cls()
        return cls(
            calendar_id=calendar_id if isinstance(calendar_id, str) else None,
            sync_token=token if isinstance(token, str) else None,
            events=events,
            deleted=deleted,
            replaced=replaced,
        )


@dataclass
class _Pending:
    """One action of a batch on its way to an outcome."""

    action: Action
    generation: int = 0
    answer: Json | ApiFailure | None = None
    outcome: Outcome | None = None


class GoogleTarget:
    """``CalendarTarget`` for the Training calendar of one Google account.

    ``calendar`` is the calendar's name (looked up in the calendar list, created if missing);
    ``calendar_id`` is an id the engine remembered from :meth:`learned`, trusted without a
    request. ``account`` keeps the caches of two accounts with the same calendar name apart
    (the token file's path will do). ``credentials`` None is for the loopback emulator only.
    """

    def __init__(
        self,
        *,
        api_endpoint: str | None = None,
        credentials: Credentials | None = None,
        calendar: str = "Training",
        calendar_id: str | None = None,
        timezone: str,
        now: datetime,
        cache: Cache,
        alarm_minutes: int | None = 30,
        name: str | None = None,
        account: str | None = None,
        timeout: float = 20.0,
        retry_wait: Callable[[int], float] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        client: GoogleClient | None = None,
        create: bool = True,
    ) -> None:
        self.name = name or f"Google calendar {calendar!r}"
        self._create_missing = create
        self.calendar = calendar
        self.timezone = timezone
        self._tz = ZoneInfo(timezone)
        self.now = now.astimezone(UTC).replace(microsecond=0)
        self.alarm_minutes = alarm_minutes
        self.client = client or GoogleClient(
            api_endpoint=api_endpoint,
            credentials=credentials,
            label=self.name,
            timeout=timeout,
            retry_wait=retry_wait,
            sleep=sleep,
        )
        self._store = cache
        self._key = (self.client.api_endpoint, account or "", calendar)
        self._cache = _Cache.from_json(self._store.get_json(CACHE, self._key))
        self._remembered = calendar_id
        self._id: str | None = None

    def __repr__(self) -> str:
        return f"GoogleTarget({self.name!r}, {self.client.host!r})"

    @property
    def requests_made(self) -> int:
        return self.client.requests_made

    def learned(self) -> str | None:
        """The calendar's id once this run has resolved it (the contract's ``Learns``), for the
        next run to start from; None before, without asking Google."""
        return self._id

    @property
    def calendar_id(self) -> str:
        """The calendar's id (looked up, or created, on first use)."""
        if self._id is None:
            self._id = self._resolve()
            if self._cache.calendar_id != self._id:
                self._cache = _Cache(calendar_id=self._id, replaced=self._cache.replaced)
        return self._id

    def _resolve(self) -> str:
        cached = self._cache.calendar_id
        if self._remembered and self._remembered not in self._cache.replaced:
            return self._remembered
        if cached:
            return cached  # the remembered id was found deleted and replaced by this one
        found = self._find()
        if found is not None:
            return found
        if not self._create_missing:
            raise NotCreatedYet(
                f"calendar {self.calendar!r} does not exist yet; "
                "it will be created on the first sync"
            )
        return self._create()

    def _find(self) -> str | None:
        """A calendar named ``calendar`` (exact, then ignoring case) in the calendar list."""
        service = self.client.service
        entries: list[Json] = []
        for page in self.client.pages(
            service.calendarList().list(maxResults=250),
            service.calendarList(),
            "listing calendars",
        ):
            entries.extend(i for i in page.get("items") or [] if isinstance(i, dict))
        exact = [e for e in entries if e.get("summary") == self.calendar]
        loose = [
            e for e in entries if str(e.get("summary", "")).casefold() == self.calendar.casefold()
        ]
        owned = [e for e in exact or loose if e.get("accessRole") in ("owner", "writer")]
        chosen = next(iter(owned or exact or loose), None)
        return str(chosen["id"]) if chosen is not None else None

    def _create(self) -> str:
        """``calendars.insert`` is not idempotent: after a failed attempt the list is looked at
        again before another insert, so a lost answer cannot make a second calendar."""
        log.info("%s: creating calendar %r", self.name, self.calendar)
        body = {"summary": self.calendar, "timeZone": self.timezone}
        what = f"creating calendar {self.calendar!r}"
        tries: list[Unreachable | None] = []  # each failed attempt's error, if it had one

        def attempt() -> str:
            if tries:
                found = self._find()
                if found is not None:
                    return found
            try:
                made = self.client.call(
                    self.client.service.calendars().insert(body=body), what, retry=False
                )
            except Unreachable as exc:
                tries.append(exc)
                raise Transient(str(exc)) from None
            if isinstance(made.get("id"), str):
                return str(made["id"])
            tries.append(None)
            raise Transient(f"Google named no calendar id ({what})")

        try:
            created: str = self.client.policy(3)(attempt)
        except Transient:
            last = next((exc for exc in reversed(tries) if exc is not None), None)
            raise last or AdapterError(
                f"{self.name}: cannot create calendar {self.calendar!r}"
            ) from None
        return created

    # -- reading -----------------------------------------------------------------------------
    def list_owned(self, start: datetime, end: datetime) -> list[OwnedEvent]:
        """Our events overlapping ``[start, end)``; raises :class:`CalendarRecreated` in the
        cycle that found the calendar deleted (see the module docstring)."""
        calendar_id = self.calendar_id
        try:
            self._sync(calendar_id)
        except ApiFailure as exc:
            if exc.status not in (404, 410) or exc.reason == "fullSyncRequired":
                raise
            self._recreate(calendar_id)
        self._save()
        owned = [self._event(eid, value) for eid, value in sorted(self._cache.events.items())]
        return [o for o in owned if o.start < end and o.end > start]

    def _sync(self, calendar_id: str) -> None:
        events = self.client.service.events()
        if self._cache.sync_token:
            request = events.list(
                calendarId=calendar_id, syncToken=self._cache.sync_token, maxResults=PAGE_SIZE
            )
            try:
                self._read(request, full=False)
                return
            except ApiFailure as exc:
                if exc.status != 410:
                    raise
                log.warning(
                    "%s: Google expired the sync token (410 fullSyncRequired); reading the "
                    "whole calendar again",
                    self.name,
                )
        request = events.list(calendarId=calendar_id, showDeleted=True, maxResults=PAGE_SIZE)
        self._read(request, full=True)

    def _read(self, request: Any, *, full: bool) -> None:
        """Apply every page to a copy of the cache; the cache changes only when the last page
        (with the next sync token) has arrived."""
        live = {} if full else dict(self._cache.events)
        deleted = dict(self._cache.deleted)
        token: str | None = None
        collection = self.client.service.events()
        for page in self.client.pages(request, collection, "reading the calendar"):
            for item in page.get("items") or []:
                if isinstance(item, dict):
                    self._take(item, live, deleted)
            token = page.get("nextSyncToken") or token
        self._cache.events, self._cache.deleted, self._cache.sync_token = live, deleted, token

    def _take(self, item: Json, live: dict[str, dict[str, Any]], deleted: dict[str, int]) -> None:
        eid = str(item.get("id", ""))
        if item.get("status") == "cancelled":
            live.pop(eid, None)
            parsed = parse_event_id(eid)
            if parsed is not None:
                deleted[parsed[0]] = max(deleted.get(parsed[0], -1), parsed[1])
            return
        value = owned_fields(item, self._tz)
        if value is None:
            live.pop(eid, None)  # foreign, or no longer marked as ours: never touched
        else:
            live[eid] = value

    def _recreate(self, gone: str) -> None:
        log.warning(
            "%s: the calendar %r (%s) is gone from Google Calendar; creating it again",
            self.name,
            self.calendar,
            gone,
        )
        replaced = [*self._cache.replaced, gone][-20:]
        found = self._find()
        new_id = found if found is not None and found != gone else self._create()
        self._id = new_id
        self._cache = _Cache(calendar_id=new_id, replaced=replaced)
        self._save()
        self._sync(new_id)
        self._save()
        raise CalendarRecreated(
            f"{self.name}: the {self.calendar} calendar was deleted in Google Calendar; it was "
            "created again, sessions are pushed next cycle"
        )

    def _event(self, eid: str, value: dict[str, Any]) -> OwnedEvent:
        return OwnedEvent(
            session_id=value["session_id"],
            remote_id=eid,
            etag=value.get("etag"),
            start=datetime.fromisoformat(value["start"]).astimezone(self._tz),
            end=datetime.fromisoformat(value["end"]).astimezone(self._tz),
            content_hash=value.get("hash"),
            placed=parse_placed(value.get("placed")),
        )

    def _save(self) -> None:
        """A cache that cannot be written costs a full read next cycle; no reason to fail."""
        try:
            self._store.put_json(CACHE, self._key, self._cache.to_json())
        except OSError as exc:
            log.warning("%s: cannot save the Google cache: %s", self.name, exc.strerror or exc)

    # -- writing -----------------------------------------------------------------------------
    def body(self, session: Session, content_hash: str) -> Json:
        """The event as liftrun writes it (without the id).

        An all-day session (race day) is ``{"date": ...}`` with the exclusive end date, as
        Google writes all-day events; a timed one ``{"dateTime": ..., "timeZone": ...}``. The
        other field is sent as null because ``events.patch`` merges ``start`` and ``end``
        field by field: without the null, a race given a start time (or losing it) would carry
        both a date and a dateTime, which Google refuses. As in the ICS rendering, an all-day
        event gets no reminder (it would ring at 23:30 on the eve of the race) and stays
        opaque: race day is busy. A session with a link to its page has it as the event's
        ``source`` (which Google shows as a link under the title) and as the description's
        last line; one without sends ``source`` as null, so a patch removes a link it had."""
        assert session.start is not None and session.end is not None
        zone = getattr(session.start.tzinfo, "key", None) or self.timezone
        overrides = (
            [{"method": "popup", "minutes": self.alarm_minutes}]
            if self.alarm_minutes is not None and not session.all_day
            else []
        )
        start: Json
        end: Json
        if session.all_day:
            first, after = all_day_dates(session)
            start = {"date": first.isoformat(), "dateTime": None, "timeZone": None}
            end = {"date": after.isoformat(), "dateTime": None, "timeZone": None}
        else:
            start = {
                "dateTime": session.start.isoformat(timespec="seconds"),
                "timeZone": zone,
                "date": None,
            }
            end = {
                "dateTime": session.end.isoformat(timespec="seconds"),
                "timeZone": zone,
                "date": None,
            }
        body: Json = {
            "summary": session.title,
            "description": description(session),
            "start": start,
            "end": end,
            "reminders": {"useDefault": False, "overrides": overrides},
            "transparency": "opaque",
            "source": {"title": SOURCE_TITLE, "url": session.link} if session.link else None,
            "extendedProperties": {
                "private": {
                    MARK: "1",
                    SESSION: session.id,
                    PLACED: placed_value(session.start, session.end),
                    HASH: content_hash,
                }
            },
        }
        return body

    def apply(self, actions: Sequence[Action]) -> Iterator[Outcome]:
        """Batches of at most 50 calls, in order; the outcomes of a batch are yielded once it
        returned. Per-action conflicts come back in the outcome; a failure of the whole
        calendar (credentials, unreachable after retries, the calendar gone) is raised."""
        if not actions:
            return
        calendar_id = self.calendar_id
        for start in range(0, len(actions), 50):
            chunk = [_Pending(a) for a in actions[start : start + 50]]
            try:
                self._write(calendar_id, chunk)
            finally:
                self._save()
            for pending in chunk:
                assert pending.outcome is not None
                yield pending.outcome

    def _write(self, calendar_id: str, chunk: list[_Pending]) -> None:
        events = self.client.service.events()
        requests = []
        for pending in chunk:
            action = pending.action
            if action.kind is ActionKind.CREATE:
                pending.generation = self._cache.deleted.get(action.session_id, -1) + 1
                requests.append(self._insert(calendar_id, pending))
                continue
            assert action.current is not None
            if action.kind is ActionKind.UPDATE:
                assert action.session is not None and action.content_hash is not None
                request = events.patch(
                    calendarId=calendar_id,
                    eventId=action.current.remote_id,
                    body=self.body(action.session, action.content_hash),
                )
            else:
                request = events.delete(calendarId=calendar_id, eventId=action.current.remote_id)
            if action.current.etag:
                request.headers["If-Match"] = action.current.etag
            requests.append(request)
        for pending, answer in zip(
            chunk, self.client.batch(requests, "writing events"), strict=True
        ):
            pending.answer = answer
        self._resolve_conflicts(calendar_id, chunk)
        for pending in chunk:
            pending.outcome = self._outcome(pending)

    def _insert(self, calendar_id: str, pending: _Pending) -> Any:
        action = pending.action
        assert action.session is not None and action.content_hash is not None
        eid = event_id(action.session_id, pending.generation)
        if len(eid) > MAX_ID:
            raise AdapterError(f"{self.name}: session id {action.session_id[:40]}... is too long")
        body = {"id": eid, **self.body(action.session, action.content_hash)}
        return self.client.service.events().insert(calendarId=calendar_id, body=body)

    def _resolve_conflicts(self, calendar_id: str, chunk: list[_Pending]) -> None:
        """The 409 walk: read each conflicting id; deleted → insert the next generation, live
        and ours → ``AlreadyExists``. Batched, so a restore of many sessions costs a few
        requests, not a few per session."""
        events = self.client.service.events()
        for _ in range(MAX_GENERATIONS):
            taken = [
                p
                for p in chunk
                if p.action.kind is ActionKind.CREATE
                and isinstance(p.answer, ApiFailure)
                and p.answer.status == 409
            ]
            if not taken:
                return
            reads = [
                events.get(
                    calendarId=calendar_id, eventId=event_id(p.action.session_id, p.generation)
                )
                for p in taken
            ]
            retry: list[_Pending] = []
            for pending, found in zip(
                taken, self.client.batch(reads, "reading taken event ids"), strict=True
            ):
                sid = pending.action.session_id
                if isinstance(found, ApiFailure):
                    pending.answer = found
                elif found.get("status") == "cancelled":
                    self._cache.deleted[sid] = max(
                        self._cache.deleted.get(sid, -1), pending.generation
                    )
                    pending.generation += 1
                    retry.append(pending)
                elif (mine := owned_fields(found, self._tz)) is not None:
                    self._cache.events[str(found["id"])] = mine
                    pending.outcome = Outcome(
                        pending.action,
                        error=AlreadyExists(f"{self.name}: {sid} is already in the calendar"),
                    )
                    pending.answer = None
                else:
                    pending.answer = ApiFailure(
                        f"{self.name}: the id of {sid} is taken by an event liftrun did not make",
                        409,
                        "duplicate",
                    )
            if not retry:
                return
            inserts = [self._insert(calendar_id, p) for p in retry]
            for pending, answer in zip(
                retry, self.client.batch(inserts, "writing events"), strict=True
            ):
                pending.answer = answer
        for pending in chunk:
            if isinstance(pending.answer, ApiFailure) and pending.answer.status == 409:
                pending.answer = ApiFailure(
                    f"{self.name}: {pending.action.session_id} was deleted and created again "
                    f"more than {MAX_GENERATIONS} times",
                    409,
                    "duplicate",
                )

    def _outcome(self, pending: _Pending) -> Outcome:
        if pending.outcome is not None:
            return pending.outcome
        action, answer = pending.action, pending.answer
        if isinstance(answer, ApiFailure):
            return Outcome(action, error=self._write_error(action, answer))
        if action.kind is ActionKind.CANCEL:
            assert action.current is not None
            self._forget(action.current.remote_id)
            return Outcome(action)
        assert answer is not None
        value = owned_fields(answer, self._tz)
        if value is None:
            return Outcome(
                action,
                error=AdapterError(f"{self.name}: Google's answer for {action.session_id} is odd"),
            )
        eid = str(answer["id"])
        self._cache.events[eid] = value
        return Outcome(action, event=self._event(eid, value))

    def _forget(self, eid: str) -> None:
        self._cache.events.pop(eid, None)
        parsed = parse_event_id(eid)
        if parsed is not None:
            sid, generation = parsed
            self._cache.deleted[sid] = max(self._cache.deleted.get(sid, -1), generation)

    def _write_error(self, action: Action, failure: ApiFailure) -> AdapterError:
        sid, status = action.session_id, failure.status
        if status == 412:
            return PreconditionFailed(f"{self.name}: {sid} changed in Google since it was read")
        if status in (404, 410):
            if action.kind is ActionKind.CREATE:
                self._cache.sync_token = None  # the calendar itself is gone: look next read
                raise AdapterError(
                    f"{self.name}: the calendar {self.calendar!r} is gone; it is created again "
                    "next cycle"
                )
            if action.current is not None:
                self._forget(action.current.remote_id)
            return NotFound(f"{self.name}: {sid} is no longer in the calendar")
        return failure
