"""The CalDAV connection shared by the CalDAV target and busy source.

The ``caldav`` library's ``DAVClient`` supplies the HTTP session, TLS settings and the basic /
digest auth objects (negotiated from the server's ``WWW-Authenticate`` challenge). Requests are
sent on that session by this module rather than through the library's calendar objects, for
four reasons the sync engine depends on:

* **Preconditions.** A create must carry ``If-None-Match: *`` and an update ``If-Match`` on the
  read ETag; the library sends neither and bumps SEQUENCE on save.
* **Request counts.** Every HTTP exchange (auth challenges and redirects included) is counted in
  ``requests_made``, so tests and benchmarks can hold a quiet cycle to its budget.
* **Redirects.** ``/.well-known/caldav`` answers 301/302; a generic client turns a redirected
  PROPFIND into a GET, so redirects are followed here with the method kept.
* **Failures.** One retry policy and one set of messages that name the calendar and never the
  password.
* **One origin.** Credentials go to the configured server's origin (scheme, host, port) and
  nowhere else: every request is checked against it where it is sent (:meth:`CalDAVClient._send`)
  and respelt on it, and a redirect or href that leads to another origin (another host, port or
  scheme, an https server's http) is refused with :class:`OtherServer` rather than followed,
  with or without credentials. The ``caldav`` library's auth object is attached by ``_send``
  alone, so this check is the only way to it.

Retries (at most ``MAX_ATTEMPTS``, exponential back-off, ``Retry-After`` honoured up to
``RETRY_AFTER_CAP``) cover connection errors, timeouts, 5xx and 429 on every request this
module sends. That is safe because each one is either read-only (GET, PROPFIND, REPORT) or
conditional: a ``PUT`` with ``If-None-Match: *`` or ``If-Match`` and a ``DELETE`` with
``If-Match`` whose first attempt did reach the server fail their retry with 412 (or 404), which
the target reports as ``AlreadyExists`` / ``PreconditionFailed`` / ``NotFound``. The engine
re-reads the calendar next cycle and finds its own write there, so a lost response can never
produce a duplicate or overwrite the athlete's change. ``MKCALENDAR`` retried after a lost
success gets 405, and the caller then finds the calendar by discovery.

Incremental reads (:meth:`CalDAVClient.refresh`) keep a :class:`Mirror` of a collection (href
to ETag plus what the caller wants kept of each resource) so a cycle with nothing changed costs
one request: a sync-collection REPORT (RFC 6578) where the server offers sync tokens, else a
PROPFIND of the collection's ctag.

The module runs past the usual ~500 lines on purpose: :meth:`CalDAVClient._send` must stay the
only way to the credentials, so every request, redirect, discovery step and incremental read
that needs them lives beside it rather than in a module that could reach the session itself.
"""

from __future__ import annotations

import logging
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, unquote, urljoin, urlsplit, urlunsplit
from xml.sax.saxutils import escape

from caldav.davclient import DAVClient

from adapters.protocol import AdapterError, AuthFailed, Unreachable
from adapters.retrying import Transient, retry_after_seconds, retrying

__all__ = [
    "MAX_ATTEMPTS",
    "RETRY_AFTER_CAP",
    "CalDAVClient",
    "CalendarInfo",
    "CalendarMissing",
    "Item",
    "Mirror",
    "Origin",
    "OtherServer",
    "Reply",
    "is_url",
    "resource_key",
]

log = logging.getLogger(__name__)

USER_AGENT = "liftrun/0.1 (caldav)"
MAX_ATTEMPTS = 3
RETRY_AFTER_CAP = 30.0  # seconds; a sync run waits no longer than this for a rate limit
MAX_REDIRECTS = 5
MULTIGET_BATCH = 200  # hrefs per calendar-multiget; keeps one request body modest

D = "DAV:"
C = "urn:ietf:params:xml:ns:caldav"
CS = "http://calendarserver.org/ns/"
_XML_HEADERS = {"Content-Type": "application/xml; charset=utf-8"}
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _q(ns: str, name: str) -> str:
    return f"{{{ns}}}{name}"


def is_url(spec: str) -> bool:
    """A ``push_to`` / ``busy_from`` entry names a calendar by URL (or absolute path) rather
    than by display name."""
    return "://" in spec or spec.startswith("/")


def resource_key(url: str) -> str:
    """How a resource is identified in a mirror: its decoded path. Servers spell one href with
    different escaping in different reports; the decoded path is the same every time."""
    return unquote(urlsplit(url).path)


# --------------------------------------------------------------------------------------------
# Errors


class CalendarMissing(AdapterError):
    """The calendar's URL answers 404: deleted, renamed, or a stale remembered URL."""


class OtherServer(AdapterError):
    """A redirect or href leads off the configured server's origin. Never retried and never
    followed (not even without credentials): liftrun has no business on another server, and a
    hostile one must not learn the password or the athlete's calendar paths."""


@dataclass(frozen=True)
class Origin:
    """Where a URL's requests go (RFC 6454): scheme, lower-cased host and port with the scheme's
    default filled in, so ``https://Cal.Example:443/`` and ``https://cal.example/`` are one origin
    while ``http://cal.example/`` and ``https://cal.example:8443/`` are others."""

    scheme: str
    host: str
    port: int

    @classmethod
    def of(cls, url: str) -> Origin | None:
        """None for anything that is not an absolute http(s) URL with a usable host and port."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:  # a bad port or bracketed host
            return None
        scheme = parts.scheme.lower()
        if scheme not in _DEFAULT_PORTS or not parts.hostname:
            return None
        return cls(scheme, parts.hostname.lower(), _DEFAULT_PORTS[scheme] if port is None else port)

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        port = "" if self.port == _DEFAULT_PORTS[self.scheme] else f":{self.port}"
        return f"{self.scheme}://{host}{port}"


def _where(url: str) -> str:
    """A URL as a message may show it: its origin only (a path or userinfo may hold a secret),
    escaped and short, since a hostile server chose it."""
    origin = Origin.of(url)
    if origin is not None:
        text = str(origin)
    else:
        try:
            scheme = urlsplit(url).scheme.lower()
        except ValueError:
            scheme = ""
        if scheme in _DEFAULT_PORTS:
            text = f"an {scheme} URL without a usable host or port"
        else:
            text = f"a {scheme}: URL" if scheme else "an unusable URL"
    text = ascii(text)[1:-1]
    return text if len(text) <= 100 else text[:97] + "..."


def _join(base: str, reference: str) -> str:
    """``urljoin``, with "" (which no origin matches) for what it cannot parse: a hostile
    Location or href is refused in one line, never a ValueError traceback."""
    try:
        return urljoin(base, reference)
    except ValueError:
        return ""


def _retry_after(value: str | None) -> float | None:
    return retry_after_seconds(value, RETRY_AFTER_CAP)


# --------------------------------------------------------------------------------------------
# Values


@dataclass(frozen=True)
class Reply:
    """One HTTP response, read in full (CalDAV bodies are small next to a feed)."""

    status: int
    headers: Mapping[str, str]  # lower-cased names
    body: bytes
    url: str

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass(frozen=True)
class DavEntry:
    """One ``DAV:response`` of a multistatus: its href and the properties found (200)."""

    url: str  # absolute
    status: int | None  # the response-level status (sync-collection: 404 for a removal)
    props: dict[str, ET.Element]

    def text(self, ns: str, name: str) -> str | None:
        element = self.props.get(_q(ns, name))
        if element is None:
            return None
        return "".join(element.itertext()).strip() or None


@dataclass(frozen=True)
class CalendarInfo:
    url: str
    display_name: str


@dataclass(frozen=True)
class Item:
    """One resource in a mirror: its ETag and whatever the owner keeps of it (JSON-able)."""

    etag: str | None
    value: Any


@dataclass(frozen=True)
class Mirror:
    """What a collection held at the last read, and the tokens that tell whether it changed.

    ``window`` is the time range the mirror was filled for (None: every resource); a read of a
    wider range needs a full read, since resources outside it were never fetched.
    """

    url: str
    sync_token: str | None = None
    ctag: str | None = None
    window: tuple[datetime, datetime] | None = None
    items: dict[str, Item] = field(default_factory=dict)

    def covers(self, window: tuple[datetime, datetime] | None) -> bool:
        if self.window is None:
            return True
        if window is None:
            return False
        return self.window[0] <= window[0] and window[1] <= self.window[1]

    def to_json(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "sync_token": self.sync_token,
            "ctag": self.ctag,
            "window": [w.isoformat() for w in self.window] if self.window else None,
            "items": {k: {"etag": v.etag, "value": v.value} for k, v in self.items.items()},
        }

    @classmethod
    def from_json(cls, data: Any) -> Mirror | None:
        """None for anything that is not a mirror this version wrote: a full read follows."""
        try:
            window = None
            if data.get("window") is not None:
                a, b = data["window"]
                window = (datetime.fromisoformat(a), datetime.fromisoformat(b))
                if window[0].tzinfo is None or window[1].tzinfo is None:
                    return None
            items = {
                str(k): Item(v["etag"] if isinstance(v["etag"], str) else None, v["value"])
                for k, v in data["items"].items()
            }
            url, token, ctag = data["url"], data.get("sync_token"), data.get("ctag")
            if not isinstance(url, str):
                return None
            return cls(
                url=url,
                sync_token=token if isinstance(token, str) else None,
                ctag=ctag if isinstance(ctag, str) else None,
                window=window,
                items=items,
            )
        except (AttributeError, KeyError, TypeError, ValueError):
            return None


# --------------------------------------------------------------------------------------------
# XML


def _propfind_body(props: Iterable[tuple[str, str]]) -> bytes:
    inner = "".join(f'<x:{name} xmlns:x="{ns}"/>' for ns, name in props)
    head = '<?xml version="1.0" encoding="utf-8"?><propfind xmlns="DAV:">'
    return f"{head}<prop>{inner}</prop></propfind>".encode()


def _time(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _query_body(window: tuple[datetime, datetime] | None, *, data: bool) -> bytes:
    time_range = (
        f'<C:time-range start="{_time(window[0])}" end="{_time(window[1])}"/>' if window else ""
    )
    calendar_data = "<C:calendar-data/>" if data else ""
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
        f"<D:prop><D:getetag/>{calendar_data}</D:prop>"
        '<C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">'
        f"{time_range}</C:comp-filter></C:comp-filter></C:filter></C:calendar-query>"
    ).encode()


def _multiget_body(paths: Iterable[str]) -> bytes:
    hrefs = "".join(f"<D:href>{escape(quote(p))}</D:href>" for p in paths)
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
        f"<D:prop><D:getetag/><C:calendar-data/></D:prop>{hrefs}</C:calendar-multiget>"
    ).encode()


def _sync_body(token: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><D:sync-collection xmlns:D="DAV:">'
        f"<D:sync-token>{escape(token)}</D:sync-token><D:sync-level>1</D:sync-level>"
        "<D:prop><D:getetag/></D:prop></D:sync-collection>"
    ).encode()


def _mkcalendar_body(display_name: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop>'
        f"<D:displayname>{escape(display_name)}</D:displayname>"
        '<C:supported-calendar-component-set><C:comp name="VEVENT"/>'
        "</C:supported-calendar-component-set></D:prop></D:set></C:mkcalendar>"
    ).encode()


def _status_code(text: str | None) -> int | None:
    parts = (text or "").split()
    if len(parts) >= 2 and parts[1].isdigit():
        return int(parts[1])
    return None


def parse_multistatus(reply: Reply) -> tuple[list[DavEntry], str | None]:
    """The responses of a 207 and the sync-token it carries (sync-collection only). The hrefs
    are resolved, not judged: :meth:`CalDAVClient._multistatus` refuses other origins."""
    try:
        root = ET.fromstring(reply.body)
    except ET.ParseError as exc:
        raise AdapterError(f"{reply.url}: the server sent malformed XML ({exc})") from None
    entries: list[DavEntry] = []
    for response in root.iter(_q(D, "response")):
        href = response.findtext(_q(D, "href"))
        if href is None:
            continue
        props: dict[str, ET.Element] = {}
        for propstat in response.findall(_q(D, "propstat")):
            code = _status_code(propstat.findtext(_q(D, "status")))
            prop = propstat.find(_q(D, "prop"))
            if prop is None or (code is not None and not 200 <= code < 300):
                continue
            for element in prop:
                props[element.tag] = element
        status = _status_code(response.findtext(_q(D, "status")))
        entries.append(DavEntry(_join(reply.url, href.strip()), status, props))
    return entries, root.findtext(_q(D, "sync-token"))


# --------------------------------------------------------------------------------------------
# The client


class CalDAVClient:
    """One account on one CalDAV server, for one calendar's target or source.

    ``label`` names the calendar in every message (the engine shows them to the athlete);
    ``server`` is the base URL without credentials. ``retry_wait`` gives the back-off in seconds
    after attempt *n*; ``sleep`` is how waiting happens, so tests can record waits instead of
    spending them.
    """

    def __init__(
        self,
        url: str,
        *,
        username: str | None = None,
        password: str | None = None,
        label: str = "CalDAV",
        verify_tls: bool = True,
        ca_file: str | None = None,
        auth_type: str | None = None,
        timeout: float = 20.0,
        retry_wait: Callable[[int], float] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        parts = urlsplit(url)
        origin = Origin.of(url)
        if origin is None:
            raise ValueError(f"{label}: the CalDAV URL must be http(s)://host/...")
        if username is None and parts.username:
            username = unquote(parts.username)
        if password is None and parts.password:
            password = unquote(parts.password)
        netloc = origin.host if ":" not in origin.host else f"[{origin.host}]"
        if parts.port is not None:
            netloc = f"{netloc}:{parts.port}"
        path = parts.path if parts.path.endswith("/") else parts.path + "/"
        self.base_url = urlunsplit((parts.scheme, netloc, path, "", ""))
        self.server = urlunsplit((parts.scheme, netloc, "/", "", ""))
        self.origin = origin
        self._netloc = netloc
        self.label = label
        self.username = username
        self._password = password
        self._verify: bool | str = ca_file if ca_file else verify_tls
        self._timeout = timeout
        self._retrying = retrying(
            attempts=MAX_ATTEMPTS,
            max_backoff=8,
            jitter=0.5,
            retry_wait=retry_wait,
            sleep=sleep,
            label=label,
            log=log,
        )
        self._dav = DAVClient(
            url=self.base_url,
            username=username,
            password=password,
            auth_type=auth_type,
            timeout=int(timeout),
            ssl_verify_cert=self._verify,
            enable_rfc6764=False,
            headers={"User-Agent": USER_AGENT},
        )
        self.requests_made = 0

    def __repr__(self) -> str:
        return f"CalDAVClient({self.server!r}, user={self.username!r})"  # never the password

    def close(self) -> None:
        self._dav.close()

    # ----------------------------------------------------------------------------------------
    # Raw requests

    def request(
        self,
        method: str,
        url: str,
        *,
        body: bytes = b"",
        headers: Mapping[str, str] | None = None,
        follow: bool = False,
    ) -> Reply:
        """One request with retries; 401/403 raise :class:`AuthFailed`, exhausted retries an
        ``AdapterError``; any other status is the caller's to judge."""
        try:
            return self._retrying(self._attempt, method, url, body, dict(headers or {}), follow)
        except Transient as exc:
            raise Unreachable(
                self._scrub(f"{self.label}: {exc.reason} ({method} {url}, {MAX_ATTEMPTS} attempts)")
            ) from None

    def _attempt(
        self, method: str, url: str, body: bytes, headers: dict[str, str], follow: bool
    ) -> Reply:
        for _ in range(MAX_REDIRECTS + 1):
            reply = self._send(method, url, body, headers)
            if self._should_negotiate(reply):
                reply = self._send(method, url, body, headers)
            if follow and reply.status in _REDIRECTS and reply.header("location"):
                target = _join(url, reply.header("location") or "")
                url = self._ours(target, f"the server redirects (HTTP {reply.status}) to")
                continue
            return self._judge(reply, method)
        raise AdapterError(f"{self.label}: too many redirects from {self.server}")

    def _send(self, method: str, url: str, body: bytes, headers: dict[str, str]) -> Reply:
        """The one place a request (and with it ``self._dav.auth``) leaves this process."""
        url = self._ours(url, f"a {method} request would go to")
        sent = {"User-Agent": USER_AGENT, **headers}
        self.requests_made += 1
        try:
            response = self._dav.session.request(
                method,
                url,
                data=body or None,
                headers=sent,
                auth=self._dav.auth,
                timeout=self._timeout,
                verify=self._verify,
                allow_redirects=False,
            )
        except Exception as exc:  # the HTTP library's connection, TLS and timeout errors
            name = type(exc).__name__
            if "SSL" in name or "Certificate" in name:
                raise AdapterError(
                    f"{self.label}: TLS verification failed for {self.server}: check the "
                    "server's certificate or set ca_file"
                ) from None
            if isinstance(exc, ValueError):
                # The URL sent was checked above, so this is the answer (a Location the HTTP
                # library cannot parse): the server was reached, and asking again won't help.
                raise AdapterError(
                    f"{self.label}: {self.server} sent an answer liftrun cannot read ({name})"
                ) from None
            raise Transient(f"cannot reach {self.server}: {name}") from None
        self.requests_made += len(getattr(response, "history", None) or ())  # digest resend
        raw = response.content
        return Reply(
            status=int(response.status_code or 0),
            headers={str(k).lower(): str(v) for k, v in response.headers.items()},
            body=raw if isinstance(raw, bytes) else b"",
            url=url,
        )

    def _should_negotiate(self, reply: Reply) -> bool:
        """The first 401 picks basic or digest from the challenge (the library's logic)."""
        challenge = reply.header("www-authenticate")
        if reply.status != 401 or not challenge or self._dav.auth is not None:
            return False
        if self.username is None or self._password is None:
            return False
        self._dav.build_auth_object(list(self._dav.extract_auth_types(challenge)))
        return self._dav.auth is not None

    def _judge(self, reply: Reply, method: str) -> Reply:
        status = reply.status
        if status == 401:
            if self.username is None:
                raise AuthFailed(
                    f"{self.label}: {self.server} asks for a login: set username and password"
                )
            raise AuthFailed(
                f"{self.label}: wrong username or password for {self.server} "
                f"(user {self.username!r})"
            )
        # RFC 6578 3.2: a refused sync token is a 403 (Radicale) with this precondition; the
        # sync-collection caller reads in full instead, so it is no access problem.
        refused_token = b"valid-sync-token" in reply.body
        if status == 403 and method in ("PROPFIND", "REPORT", "GET") and not refused_token:
            raise AuthFailed(
                f"{self.label}: {self.server} refused access to {reply.url} for user "
                f"{self.username!r}: check the account's rights on that calendar"
            )
        if status == 429 or status >= 500:
            raise Transient(
                f"HTTP {status} from {self.server}", _retry_after(reply.header("retry-after"))
            )
        return reply

    def _scrub(self, text: str) -> str:
        if self._password:
            text = text.replace(self._password, "***")
        return text

    def _ours(self, url: str, what: str, *, hint: bool = False) -> str:
        """``url`` if it is on the configured origin, respelt with the configured host and port
        so that what is sent is what was checked (no second URL parser reads a hostile href its
        own way); else :class:`OtherServer`. ``what`` leads up to the other origin in the
        message; ``hint`` adds how to point liftrun at that server on purpose (a provider whose
        calendars live on another host)."""
        if Origin.of(url) == self.origin:
            path, query = urlsplit(url)[2:4]
            return urlunsplit((self.origin.scheme, self._netloc, path or "/", query, ""))
        theirs, ours = _where(url), str(self.origin)
        other = Origin.of(url)
        if self.origin.scheme == "https" and other is not None and other.scheme == "http":
            reason = "liftrun never downgrades https to http"
        else:
            reason = "liftrun sends requests and credentials only to the configured url's server"
        advice = f"; set url to {theirs} if you trust it" if hint and other is not None else ""
        # Origins stand between spaces: log redaction reads a URL up to the next space.
        raise OtherServer(f"{self.label}: {what} {theirs} instead of {ours} ({reason}{advice})")

    # ----------------------------------------------------------------------------------------
    # WebDAV building blocks

    def propfind(
        self, url: str, props: Iterable[tuple[str, str]], depth: int, *, follow: bool = False
    ) -> list[DavEntry]:
        headers = {**_XML_HEADERS, "Depth": str(depth)}
        reply = self.request(
            "PROPFIND", url, body=_propfind_body(props), headers=headers, follow=follow
        )
        if reply.status == 404:
            raise CalendarMissing(f"{self.label}: {reply.url} not found on {self.server}")
        if reply.status != 207:
            raise AdapterError(
                f"{self.label}: PROPFIND {reply.url} answered HTTP {reply.status}; "
                f"is {self.server} a CalDAV server?"
            )
        return self._multistatus(reply, "PROPFIND")[0]  # hrefs resolve against the redirect

    def _report(self, url: str, body: bytes, depth: int | None) -> Reply:
        headers = dict(_XML_HEADERS)
        if depth is not None:
            headers["Depth"] = str(depth)
        return self.request("REPORT", url, body=body, headers=headers)

    def _expect_207(self, reply: Reply, what: str) -> list[DavEntry]:
        if reply.status == 404:
            raise CalendarMissing(f"{self.label}: calendar {reply.url} not found on {self.server}")
        if reply.status != 207:
            raise AdapterError(f"{self.label}: {what} on {reply.url} answered HTTP {reply.status}")
        return self._multistatus(reply, what)[0]

    def _multistatus(self, reply: Reply, what: str) -> tuple[list[DavEntry], str | None]:
        """:func:`parse_multistatus`, with every response's href held to the configured origin:
        a collection or event listed on another server is refused here, where the message can
        say which answer listed it, rather than when something is sent there."""
        entries, token = parse_multistatus(reply)
        checked = [
            replace(entry, url=self._ours(entry.url, f"the {what} answer lists a resource on"))
            for entry in entries
        ]
        return checked, token

    # ----------------------------------------------------------------------------------------
    # Discovery

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
        element = entry.props.get(_q(ns, name))
        if element is None:
            return None
        href = element.findtext(_q(D, "href"))
        if not href or not href.strip():
            return None
        return self._ours(_join(entry.url, href.strip()), f"the {name} points to", hint=True)

    def calendars(self) -> list[CalendarInfo]:
        """Every event calendar in the home, by URL and display name."""
        home = self.calendar_home()
        entries = self.propfind(home, [(D, "displayname"), (D, "resourcetype")], 1)
        found = []
        for entry in entries:
            kind = entry.props.get(_q(D, "resourcetype"))
            if kind is None or kind.find(_q(C, "calendar")) is None:
                continue
            name = entry.text(D, "displayname") or unquote(entry.url.rstrip("/").rsplit("/", 1)[-1])
            found.append(CalendarInfo(entry.url, name))
        return found

    def find_calendar(self, spec: str) -> CalendarInfo | None:
        """A calendar by URL (no request) or by display name (exact, then ignoring case);
        None when no calendar has that name."""
        if is_url(spec):
            url = self._ours(_join(self.base_url, spec), "the calendar URL given is on")
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
                "MKCALENDAR", url, body=_mkcalendar_body(display_name), headers=_XML_HEADERS
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

    # ----------------------------------------------------------------------------------------
    # Incremental reads

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
        kind = state.props.get(_q(D, "resourcetype"))
        if kind is None or kind.find(_q(C, "calendar")) is None:
            raise AdapterError(f"{self.label}: {url} is not a calendar on {self.server}")
        token = state.text(D, "sync-token") if use_sync else None
        ctag = state.text(CS, "getctag")
        if usable is not None and ctag is not None and ctag == usable.ctag:
            return replace(usable, sync_token=token)
        if usable is not None and (token is None or not usable.sync_token):
            # ctag changed and no sync token to ask with (the server has none, or the mirror
            # holds writes of ours made after its token): compare ETags, fetch what differs.
            query = self._report(url, _query_body(usable.window, data=False), 1)
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
        query = self._report(url, _query_body(fetch_window, data=True), 1)
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
        reply = self._report(mirror.url, _sync_body(mirror.sync_token), 0)
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
            reply = self._report(url, _multiget_body(batch), None)
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

    # ----------------------------------------------------------------------------------------
    # Writes

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
