"""Finding a CalDAV account's calendars: its calendar home, the calendars in it, a new one.

Discovery follows the principal and the calendar-home-set from the configured URL, falling
back to RFC 6764's well-known URI, and holds every href a server names to the configured
origin (:mod:`adapters.caldav.origin`). A calendar is named by URL (no request at all) or by
display name, which is how ``push_to`` and ``busy_from`` name them.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urljoin

from adapters.caldav.origin import OtherServer, join_url
from adapters.caldav.session import CalendarMissing, DavSession
from adapters.caldav.webdav import XML_HEADERS, C, D, DavEntry, mkcalendar_body, qname
from adapters.protocol import AdapterError, AuthFailed, Unreachable

__all__ = ["CalendarInfo", "Discovery", "is_url"]


def is_url(spec: str) -> bool:
    """A ``push_to`` / ``busy_from`` entry names a calendar by URL (or absolute path) rather
    than by display name."""
    return "://" in spec or spec.startswith("/")


@dataclass(frozen=True)
class CalendarInfo:
    url: str
    display_name: str


class Discovery(DavSession):
    """Discovery for :class:`adapters.caldav.client.CalDAVClient`, on its session's requests."""

    def calendar_home(self) -> str:
        """The calendar-home-set: from the base URL's principal, else RFC 6764's well-known
        URI (which redirects to the server's context path)."""
        props = [(D, "current-user-principal"), (C, "calendar-home-set")]
        tried: list[str] = []
        for start in (self.base_url, urljoin(self.server, "/.well-known/caldav")):
            if start in tried:
                continue
            tried.append(start)
            try:
                entries = self.propfind(start, props, 0, follow=True)
            except CalendarMissing:
                continue
            except (AuthFailed, Unreachable, OtherServer):
                raise
            except AdapterError:
                if start == self.base_url:
                    continue
                raise
            for entry in entries:
                home = self._href(entry, C, "calendar-home-set")
                if home is not None:
                    return home
            for entry in entries:
                principal = self._href(entry, D, "current-user-principal")
                if principal is not None:
                    found = self.propfind(principal, [(C, "calendar-home-set")], 0)
                    for item in found:
                        home = self._href(item, C, "calendar-home-set")
                        if home is not None:
                            return home
        raise AdapterError(
            f"{self.label}: no CalDAV calendars found at {self.base_url} (no principal or "
            "calendar-home-set, /.well-known/caldav neither): check the URL"
        )

    def _href(self, entry: DavEntry, ns: str, name: str) -> str | None:
        """The href a property holds (a principal, a home set), refused when it points to
        another origin: iCloud-style homes on another host need ``url`` set to that host."""
        element = entry.props.get(qname(ns, name))
        if element is None:
            return None
        href = element.findtext(qname(D, "href"))
        if not href or not href.strip():
            return None
        return self._ours(join_url(entry.url, href.strip()), f"the {name} points to", hint=True)

    def calendars(self) -> list[CalendarInfo]:
        """Every event calendar in the home, by URL and display name."""
        home = self.calendar_home()
        entries = self.propfind(home, [(D, "displayname"), (D, "resourcetype")], 1)
        found = []
        for entry in entries:
            kind = entry.props.get(qname(D, "resourcetype"))
            if kind is None or kind.find(qname(C, "calendar")) is None:
                continue
            name = entry.text(D, "displayname") or unquote(entry.url.rstrip("/").rsplit("/", 1)[-1])
            found.append(CalendarInfo(entry.url, name))
        return found

    def find_calendar(self, spec: str) -> CalendarInfo | None:
        """A calendar by URL (no request) or by display name (exact, then ignoring case);
        None when no calendar has that name."""
        if is_url(spec):
            url = self._ours(join_url(self.base_url, spec), "the calendar URL given is on")
            return CalendarInfo(url if url.endswith("/") else url + "/", spec)
        return self._by_name(spec, self.calendars())

    @staticmethod
    def _by_name(name: str, calendars: list[CalendarInfo]) -> CalendarInfo | None:
        exact = [c for c in calendars if c.display_name == name]
        loose = [c for c in calendars if c.display_name.casefold() == name.casefold()]
        return next(iter(exact or loose), None)

    def require_calendar(self, spec: str) -> CalendarInfo:
        """Like :meth:`find_calendar`, failing with the names that do exist."""
        calendars = [] if is_url(spec) else self.calendars()
        found = self.find_calendar(spec) if is_url(spec) else self._by_name(spec, calendars)
        if found is None:
            available = ", ".join(repr(c.display_name) for c in calendars) or "none"
            raise AdapterError(
                f"{self.label}: calendar {spec!r} not found on {self.server}; "
                f"available: {available}"
            )
        return found

    def make_calendar(self, display_name: str) -> CalendarInfo:
        """MKCALENDAR under the home; a taken slug gets a suffix, a lost-success retry (405 on
        our own name) is resolved by looking the name up."""
        home = self.calendar_home()
        slug = (
            "".join(c if c.isalnum() or c in "-_" else "-" for c in display_name.lower()) or "cal"
        )
        for attempt in range(3):
            url = urljoin(home, f"{slug}{'-' + str(attempt) if attempt else ''}/")
            reply = self.request(
                "MKCALENDAR", url, body=mkcalendar_body(display_name), headers=XML_HEADERS
            )
            if reply.status in (200, 201):
                return CalendarInfo(url, display_name)
            if reply.status in (405, 409):
                existing = self._by_name(display_name, self.calendars())
                if existing is not None:
                    return existing
                continue
            raise AdapterError(
                f"{self.label}: cannot create calendar {display_name!r} on {self.server} "
                f"(MKCALENDAR answered HTTP {reply.status}); create it in your calendar app"
            )
        raise AdapterError(
            f"{self.label}: cannot create calendar {display_name!r} on {self.server}"
        )
