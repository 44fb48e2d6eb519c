"""The contract suite's calendars on servers: CalDAV (Radicale, Xandikos, Cyrus) and Google (the v3
emulator). What the athlete sees is read without liftrun's adapters: a WebDAV PROPFIND and
REPORT over plain HTTP, the emulator's own store; what they do by hand goes through the
server's API, as their calendar app would."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import unquote, urljoin

from tests.caldav.servers import (
    PASSWORD,
    Server,
    delete_event,
    fresh_account,
    get_event,
    put_event,
)
from tests.contract.backends import (
    TARGET,
    Backend,
    Seen,
    as_instant,
    foreign_ics,
    seen_in,
)
from tests.google_emulator import RunningEmulator
from tests.ics_events import moved_ics

DAV = "{DAV:}"
XML = {"Content-Type": "application/xml; charset=utf-8"}
CALDAV = "{urn:ietf:params:xml:ns:caldav}"
PROPFIND = (
    '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:displayname/></D:prop></D:propfind>'
)
REPORT = (
    '<?xml version="1.0"?>'
    '<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
    "<D:prop><D:getetag/><C:calendar-data/></D:prop>"
    '<C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"/></C:comp-filter>'
    "</C:filter></C:calendar-query>"
)


def _unique() -> str:
    return uuid.uuid4().hex[:8]


class CalDAVBackend(Backend):
    """A calendar liftrun creates (MKCALENDAR) on a real CalDAV server, found by its name (on
    Cyrus, in an account of its own: it allows a session's UID once per account)."""

    kind = "caldav"
    cost = 5

    def __init__(self, server: Server) -> None:
        unique = _unique()
        self.server = fresh_account(server, unique)
        self.display_name = f"Training {unique}"
        self._url: str | None = None

    def calendar_toml(self) -> str:
        auth = f'username = "{self.server.username}"\npassword = "{PASSWORD}"\n'
        return (
            f'[[calendars]]\nkind = "caldav"\nname = "{TARGET}"\nurl = "{self.server.url}"\n'
            + (auth if self.server.username else "")
            + f'push_to = "{self.display_name}"\n'
        )

    def _collection(self) -> str | None:
        if self._url is None:
            with self.server.http() as client:
                answer = client.request(
                    "PROPFIND", self.server.home, content=PROPFIND, headers=XML | {"Depth": "1"}
                )
            assert answer.status_code == 207, answer.text
            for response in ET.fromstring(answer.content).iter(f"{DAV}response"):
                names = [n.text for n in response.iter(f"{DAV}displayname")]
                if self.display_name in names:
                    self._url = unquote(
                        urljoin(self.server.url, response.findtext(f"{DAV}href") or "")
                    )
        return self._url

    def _resources(self) -> dict[str, tuple[str, bytes]]:
        """href -> (ETag, iCalendar data) of every event in the calendar."""
        url = self._collection()
        if url is None:
            return {}
        with self.server.http() as client:
            answer = client.request(
                "REPORT",
                url,
                content=REPORT,
                headers=XML | {"Depth": "1"},
            )
        assert answer.status_code == 207, answer.text
        out = {}
        for response in ET.fromstring(answer.content).iter(f"{DAV}response"):
            data = response.findtext(f".//{CALDAV}calendar-data")
            if data:
                href = unquote(urljoin(self.server.url, response.findtext(f"{DAV}href") or ""))
                out[href] = (response.findtext(f".//{DAV}getetag") or "", data.encode())
        return out

    def _href_of(self, session_id: str) -> str:
        (href,) = [
            href
            for href, (_, data) in self._resources().items()
            if any(s.session_id == session_id for s in seen_in(data))
        ]
        return href

    def seen(self) -> list[Seen]:
        return [s for _, data in self._resources().values() for s in seen_in(data)]

    def snapshot(self) -> dict[str, str]:
        return {href: etag for href, (etag, _) in self._resources().items()}

    def move(self, session_id: str, delta: timedelta) -> tuple[datetime, datetime]:
        href = self._href_of(session_id)
        status, data, etag = get_event(self.server, href)
        assert status == 200
        moved, times = moved_ics(data, delta)
        put_event(self.server, href, moved, etag=etag)
        return times

    def delete(self, session_id: str) -> None:
        assert delete_event(self.server, self._href_of(session_id)) in (200, 204)

    def add_foreign(self, start: datetime, end: datetime) -> str:
        url = self._collection()
        assert url is not None, "a foreign event goes into the calendar once it exists"
        uid, data = foreign_ics(start, end)
        href = f"{url}{uid}.ics"
        put_event(self.server, href, data)
        return href


def _instant(when: dict[str, str]) -> datetime:
    if "dateTime" in when:
        return datetime.fromisoformat(when["dateTime"])
    return as_instant(date.fromisoformat(when["date"]))


class GoogleBackend(Backend):
    """A secondary calendar liftrun creates in the emulated Google account."""

    kind = "google"
    cost = 2

    def __init__(self, emu: RunningEmulator) -> None:
        self.emu = emu
        self.summary = f"Training {_unique()}"

    def calendar_toml(self) -> str:
        return (
            f'[[calendars]]\nkind = "google"\nname = "{TARGET}"\nauth = "none"\n'
            f'api_endpoint = "{self.emu.api_endpoint}"\npush_to = "{self.summary}"\n'
            "busy_from = []\n"
        )

    def _calendar_id(self) -> str | None:
        with self.emu.store.lock:
            ids = [
                c.id
                for c in self.emu.store.calendars.values()
                if c.resource.get("summary") == self.summary
            ]
        assert len(ids) <= 1, f"{len(ids)} calendars named {self.summary}"
        return ids[0] if ids else None

    def _events(self) -> list[dict[str, Any]]:
        cal = self._calendar_id()
        return self.emu.store.live_events(cal) if cal else []

    @staticmethod
    def _session(event: dict[str, Any]) -> str | None:
        private = event.get("extendedProperties", {}).get("private", {})
        sid = private.get("liftrunSession")
        return str(sid) if sid else None

    def _event_of(self, session_id: str) -> dict[str, Any]:
        (event,) = [e for e in self._events() if self._session(e) == session_id]
        return event

    def seen(self) -> list[Seen]:
        return [
            Seen(sid, _instant(e["start"]), _instant(e["end"]))
            for e in self._events()
            if (sid := self._session(e)) is not None
        ]

    def snapshot(self) -> dict[str, str]:
        return {str(e["id"]): str(e["etag"]) for e in self._events()}

    def move(self, session_id: str, delta: timedelta) -> tuple[datetime, datetime]:
        event = self._event_of(session_id)
        start, end = _instant(event["start"]) + delta, _instant(event["end"]) + delta
        self.emu.service().events().patch(
            calendarId=self._calendar_id(),
            eventId=event["id"],
            body={"start": {"dateTime": start.isoformat()}, "end": {"dateTime": end.isoformat()}},
        ).execute()
        return start, end

    def delete(self, session_id: str) -> None:
        event = self._event_of(session_id)
        self.emu.service().events().delete(
            calendarId=self._calendar_id(), eventId=event["id"]
        ).execute()

    def add_foreign(self, start: datetime, end: datetime) -> str:
        made = (
            self.emu.service()
            .events()
            .insert(
                calendarId=self._calendar_id(),
                body={
                    "summary": "Easy run 40 min",
                    "start": {"dateTime": start.isoformat()},
                    "end": {"dateTime": end.isoformat()},
                },
            )
            .execute()
        )
        return str(made["id"])
