"""Finding a CalDAV account's calendars: its calendar home, the calendars in it, a new one.

Discovery follows the principal and the calendar-home-set from the configured URL, falling
back to RFC 6764's well-known URI, and holds every href a server names to the configured
origin (:mod:`adapters.caldav.origin`). A calendar is named by URL (no request at all) or by
display name, which is how ``push_to`` and ``busy_from`` name them.

What the walk and the listing find is kept in the session's
:class:`~adapters.caldav.account.Account`, shared by the calendars of one config entry and kept
in the state store: a later run (or the first sync after ``liftrun check``) resolves names with
no request. The account's ``walking`` lock makes concurrent busy sources share one walk. The
remembered listing is trusted until it fails: a name it lacks, or a calendar URL that answers
404, earns one fresh listing per run; a home that answers 404 or a permanent redirect is walked
to again, from the remembered principal first.
"""

from __future__ import annotations

import logging
from urllib.parse import unquote, urljoin

from adapters.caldav.account import CalendarInfo
from adapters.caldav.collection import resource_key
from adapters.caldav.origin import Origin, OtherServer, join_url
from adapters.caldav.session import CalendarMissing, DavSession
from adapters.caldav.webdav import XML_HEADERS, C, D, DavEntry, mkcalendar_body, qname
from adapters.protocol import AdapterError, AuthFailed, Unreachable

__all__ = ["CalendarInfo", "Discovery", "is_url"]

log = logging.getLogger(__name__)


def is_url(spec: str) -> bool:
    """A ``push_to`` / ``busy_from`` entry names a calendar by URL (or absolute path) rather
    than by display name."""
    return "://" in spec or spec.startswith("/")


class Discovery(DavSession):
    """Discovery for :class:`adapters.caldav.client.CalDAVClient`, on its session's requests."""

    def calendar_home(self) -> str:
        """The calendar-home-set: remembered, else from the remembered principal, else walked
        to from the base URL's principal or RFC 6764's well-known URI."""
        with self.account.walking:
            home = self._recalled(self.account.home)
            if home is None:
                principal, home = self._walk()
                self.account.found_home(principal, home)
            return home

    def _recalled(self, url: str | None) -> str | None:
        """A URL from the store, if it is on the configured origin (a config pointed at another
        server is another account; this only guards against a store edited by hand)."""
        return url if url is not None and Origin.of(url) == self.origin else None

    def _walk(self) -> tuple[str | None, str]:
        principal = self._recalled(self.account.principal)
        if principal is not None:
            try:
                entries = self.propfind(principal, [(C, "calendar-home-set")], 0, follow=True)
            except CalendarMissing:
                entries = []
            except (AuthFailed, Unreachable, OtherServer):
                raise
            except AdapterError:
                entries = []
            for entry in entries:
                home = self._href(entry, C, "calendar-home-set")
                if home is not None:
                    return principal, home
            self.account.forget_principal()
        return self._walk_from_the_top()

    def _walk_from_the_top(self) -> tuple[str | None, str]:
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
                    return self._href(entry, D, "current-user-principal"), home
            for entry in entries:
                principal = self._href(entry, D, "current-user-principal")
                if principal is not None:
                    found = self.propfind(principal, [(C, "calendar-home-set")], 0, follow=True)
                    for item in found:
                        home = self._href(item, C, "calendar-home-set")
                        if home is not None:
                            return principal, home
        raise AdapterError(
            f"{self.label}: no CalDAV calendars found at {self.base_url} (no principal or "
            "calendar-home-set, /.well-known/caldav neither): check the URL"
        )

    def _href(self, entry: DavEntry, ns: str, name: str) -> str | None:
        """The href a property holds (a principal, a home set), refused when it points to
        another origin: iCloud-style homes on another host need ``url`` set to that host. A
        property without an href (``<unauthenticated/>`` in place of a principal) is none."""
        element = entry.props.get(qname(ns, name))
        if element is None:
            return None
        href = element.findtext(qname(D, "href"))
        if not href or not href.strip():
            return None
        return self._ours(join_url(entry.url, href.strip()), f"the {name} points to", hint=True)

    def calendars(self, *, newer_than: int | None = None) -> list[CalendarInfo]:
        """Every event calendar in the home, by URL and display name: the account's listing,
        or a listing made now when there is none, or when ``newer_than`` is given and the
        account has made no listing since that generation (0: none in this process)."""
        known = self.account.calendars
        if known is not None and newer_than is None:
            return list(known)
        with self.account.walking:  # another thread may have listed while this one waited
            known = self.account.calendars
            fresh_enough = newer_than is None or self.account.generation > newer_than
            if known is not None and fresh_enough:
                return list(known)
            found = self._list()
            self.account.listed(found)
            return found

    def _list(self) -> list[CalendarInfo]:
        home = self.calendar_home()
        try:
            entries = self._listing(home)
        except CalendarMissing:
            if self.account.home_found_here:
                raise
            log.info("%s: the calendar home %s moved; looking it up again", self.label, home)
            self.account.forget_home()
            entries = self._listing(self.calendar_home())
        found = []
        for entry in entries:
            kind = entry.props.get(qname(D, "resourcetype"))
            if kind is None or kind.find(qname(C, "calendar")) is None:
                continue
            name = entry.text(D, "displayname") or unquote(entry.url.rstrip("/").rsplit("/", 1)[-1])
            found.append(CalendarInfo(entry.url, name))
        return found

    def _listing(self, home: str) -> list[DavEntry]:
        """The home's members; :class:`CalendarMissing` when the home is not there, said with
        a 404 or, as Xandikos does, with a 207 whose one response is the home's 404."""
        entries = self.propfind(home, [(D, "displayname"), (D, "resourcetype")], 1)
        itself = [e for e in entries if resource_key(e.url) == resource_key(home)]
        if itself and all(e.status == 404 for e in itself):
            raise CalendarMissing(f"{self.label}: {home} not found on {self.server}")
        return entries

    def find_calendar(self, spec: str, *, fresh: bool = False) -> CalendarInfo | None:
        """A calendar by URL (no request) or by display name (exact, then ignoring case);
        None when no calendar has that name. A name is looked up in the account's listing,
        and listed afresh once per run when it is not there; ``fresh`` (a URL found before
        answered 404) wants a listing made in this run from the start."""
        if is_url(spec):
            url = self._ours(join_url(self.base_url, spec), "the calendar URL given is on")
            return CalendarInfo(url if url.endswith("/") else url + "/", spec)
        return self._by_name(spec, self._named(spec, fresh=fresh))

    def _named(self, spec: str, *, fresh: bool) -> list[CalendarInfo]:
        """The listing to look ``spec`` up in: a name missing from a remembered listing is
        worth one fresh listing before liftrun says it is not there (or creates it)."""
        calendars = self.calendars(newer_than=0 if fresh else None)
        if self._by_name(spec, calendars) is None and self.account.generation == 0:
            calendars = self.calendars(newer_than=0)
        return calendars

    @staticmethod
    def _by_name(name: str, calendars: list[CalendarInfo]) -> CalendarInfo | None:
        exact = [c for c in calendars if c.display_name == name]
        loose = [c for c in calendars if c.display_name.casefold() == name.casefold()]
        return next(iter(exact or loose), None)

    def require_calendar(self, spec: str, *, fresh: bool = False) -> CalendarInfo:
        """Like :meth:`find_calendar`, failing with the names that do exist."""
        if is_url(spec):
            found = self.find_calendar(spec)
            assert found is not None
            return found
        calendars = self._named(spec, fresh=fresh)
        found = self._by_name(spec, calendars)
        if found is None:
            available = ", ".join(repr(c.display_name) for c in calendars) or "none"
            raise AdapterError(
                f"{self.label}: calendar {spec!r} not found on {self.server}; "
                f"available: {available}"
            )
        return found

    def make_calendar(self, display_name: str) -> CalendarInfo:
        """MKCALENDAR under the home; a taken slug gets a suffix, a lost-success retry (405 on
        our own name) is resolved by looking the name up in a listing made after it."""
        home = self.calendar_home()
        slug = (
            "".join(c if c.isalnum() or c in "-_" else "-" for c in display_name.lower()) or "cal"
        )
        for attempt in range(3):
            url = urljoin(home, f"{slug}{'-' + str(attempt) if attempt else ''}/")
            before = self.account.generation
            reply = self.request(
                "MKCALENDAR", url, body=mkcalendar_body(display_name), headers=XML_HEADERS
            )
            if reply.status in (200, 201):
                made = CalendarInfo(url, display_name)
                self.account.added(made)
                return made
            if reply.status in (405, 409):
                existing = self._by_name(display_name, self.calendars(newer_than=before))
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
