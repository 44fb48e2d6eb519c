"""The HTTP session of one CalDAV account: auth, retries, redirects and the one origin.

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
* **Credentials up front.** The scheme the server asked for (a 401's ``WWW-Authenticate``, or
  a 207 that says ``<unauthenticated/>``) is kept in the shared
  :class:`~adapters.caldav.account.Account`, and every later session of that account sends it
  from its first request: an idle calendar costs one request, not a challenge and a retry.
* **One origin.** Credentials go to the configured server's origin (scheme, host, port) and
  nowhere else: every request is checked against it where it is sent (:meth:`DavSession._send`)
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

The account's discovery (:mod:`adapters.caldav.discovery`), incremental reads
(:mod:`adapters.caldav.incremental`) and writes (:mod:`adapters.caldav.client`) are subclasses
of :class:`DavSession` that send through :meth:`DavSession.request` and its WebDAV building
blocks; none of them touches the HTTP session or the auth object, so ``_send`` stays the only
way to the credentials.
"""

from __future__ import annotations

import logging
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from urllib.parse import unquote, urlsplit, urlunsplit

from caldav.davclient import DAVClient
from caldav.lib.http_sync import requests as http_library  # niquests, or requests without it

from adapters.caldav.account import Account
from adapters.caldav.origin import Origin, OtherServer, join_url, where
from adapters.caldav.webdav import (
    XML_HEADERS,
    D,
    DavEntry,
    Reply,
    parse_multistatus,
    propfind_body,
    qname,
)
from adapters.protocol import AdapterError, AuthFailed, Unreachable
from adapters.retrying import Transient, retry_after_seconds, retrying
from config.fields import is_loopback

__all__ = [
    "MAX_ATTEMPTS",
    "RETRY_AFTER_CAP",
    "AccessRefused",
    "CalendarMissing",
    "CalendarMoved",
    "DavSession",
]

log = logging.getLogger(__name__)

USER_AGENT = "liftrun/0.1 (caldav)"
MAX_ATTEMPTS = 3
RETRY_AFTER_CAP = 30.0  # seconds; a sync run waits no longer than this for a rate limit
MAX_REDIRECTS = 5
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_MOVED = frozenset({301, 308})  # RFC 9110 15.4.2, 15.4.9: permanent, references should follow


class CalendarMissing(AdapterError):
    """The calendar's URL answers 404: deleted, renamed, or a stale remembered URL."""


class AccessRefused(AuthFailed):
    """A read answered 403: the account may not read that URL. For a URL liftrun only
    remembered, that may mean it is another account's now (the config's username changed: Cyrus
    redirects to a share of the other user's calendar and refuses it), so the calendar is looked
    up again before this is taken for a rights problem."""


class CalendarMoved(CalendarMissing):
    """A collection's URL answers a permanent redirect (301/308) to ``location``, on the
    configured origin. A calendar follows it and remembers the new URL; a calendar home is
    looked up again. Where neither is done it is a missing calendar, as before."""

    def __init__(self, message: str, location: str) -> None:
        super().__init__(message)
        self.location = location


def _auth_scheme(auth: object) -> str | None:
    """The scheme of the ``caldav`` library's auth object (its HTTP library's classes)."""
    if isinstance(auth, http_library.auth.HTTPDigestAuth):
        return "digest"
    if isinstance(auth, http_library.auth.HTTPBasicAuth):
        return "basic"
    return None


def _unauthenticated(reply: Reply) -> bool:
    """A 207 whose current-user-principal is ``<D:unauthenticated/>`` (RFC 5397 3): the server
    answered, but as to nobody. Cyrus does this on its context path instead of a 401."""
    if reply.status != 207 or b"unauthenticated" not in reply.body:
        return False
    try:
        root = ET.fromstring(reply.body)
    except ET.ParseError:
        return False
    marker = f"{qname(D, 'current-user-principal')}/{qname(D, 'unauthenticated')}"
    return root.find(f".//{marker}") is not None


def _retry_after(value: str | None) -> float | None:
    return retry_after_seconds(value, RETRY_AFTER_CAP)


class DavSession:
    """One account on one CalDAV server: every request it sends, and nothing it means by them.

    ``label`` names the calendar in every message (the engine shows them to the athlete);
    ``server`` is the base URL without credentials. ``account`` is what is known of the account
    (shared by the calendars of one config entry; a blank one when not given): its scheme is
    sent up front unless ``auth_type`` (the config's ``auth``) says which. ``retry_wait`` gives
    the back-off in seconds after attempt *n*; ``sleep`` is how waiting happens, so tests can
    record waits instead of spending them.
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
        account: Account | None = None,
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
        self.account = account if account is not None else Account()
        self._auth_chosen = auth_type is not None  # the config's choice is never renegotiated
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
        self._adopt_scheme()
        for _ in range(MAX_REDIRECTS + 1):
            reply = self._send(method, url, body, headers)
            if self._should_negotiate(reply) or self._should_log_in(reply):
                reply = self._send(method, url, body, headers)
            if self._dav.auth is None and 200 <= reply.status < 300 and not _unauthenticated(reply):
                self.account.learn_scheme("none")
            if follow and reply.status in _REDIRECTS and reply.header("location"):
                target = join_url(url, reply.header("location") or "")
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

    @property
    def _has_login(self) -> bool:
        return self.username is not None and self._password is not None

    def _adopt_scheme(self) -> None:
        """Credentials up front: the scheme the account's server asked for, as soon as it is
        known (from an earlier run, or from another calendar of the account in this one)."""
        if self._dav.auth is not None or self._auth_chosen or not self._has_login:
            return
        remembered = self.account.scheme
        if remembered in ("basic", "digest"):
            self._dav.build_auth_object([remembered])

    def _should_negotiate(self, reply: Reply) -> bool:
        """The first 401 picks basic or digest from the challenge (the library's logic), and the
        account remembers the choice. A 401 on a remembered scheme is a wrong password, unless
        the challenge no longer offers that scheme: then the server switched, and the new one
        is negotiated and remembered."""
        challenge = reply.header("www-authenticate")
        if reply.status != 401 or not challenge or not self._has_login:
            return False
        offered = sorted(self._dav.extract_auth_types(challenge))
        current = _auth_scheme(self._dav.auth)
        if self._dav.auth is not None and (self._auth_chosen or current in offered):
            return False
        self._dav.auth = None
        self._dav.build_auth_object(offered)
        chosen = _auth_scheme(self._dav.auth)
        if chosen is None:
            return False
        self._auth_chosen = True  # at most one negotiation per session
        self.account.learn_scheme(chosen)
        return True

    def _should_log_in(self, reply: Reply) -> bool:
        """A 207 saying ``<unauthenticated/>`` to a request sent without credentials we hold is
        the server's way of asking for a login without a challenge: Basic is sent, where the
        password cannot be read on the way (https, or a loopback host). Over plain http to
        another host the password is not volunteered; discovery goes on to the well-known URI,
        whose 401 says which scheme the server wants."""
        if self._dav.auth is not None or not self._has_login or not _unauthenticated(reply):
            return False
        if self.origin.scheme != "https" and not is_loopback(self.server):
            return False
        self._dav.build_auth_object(["basic"])
        if self._dav.auth is None:
            return False
        self.account.learn_scheme("basic")
        return True

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
            raise AccessRefused(
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
        theirs, ours = where(url), str(self.origin)
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
        headers = {**XML_HEADERS, "Depth": str(depth)}
        reply = self.request(
            "PROPFIND", url, body=propfind_body(props), headers=headers, follow=follow
        )
        if reply.status == 404:
            raise CalendarMissing(f"{self.label}: {reply.url} not found on {self.server}")
        self._check_moved(reply)
        if reply.status != 207:
            raise AdapterError(
                f"{self.label}: PROPFIND {reply.url} answered HTTP {reply.status}; "
                f"is {self.server} a CalDAV server?"
            )
        return self._multistatus(reply, "PROPFIND")[0]  # hrefs resolve against the redirect

    def _report(self, url: str, body: bytes, depth: int | None) -> Reply:
        headers = dict(XML_HEADERS)
        if depth is not None:
            headers["Depth"] = str(depth)
        reply = self.request("REPORT", url, body=body, headers=headers)
        self._check_moved(reply)  # a REPORT only ever goes to a calendar
        return reply

    def _check_moved(self, reply: Reply) -> None:
        """:class:`CalendarMoved` for a permanent redirect on the configured origin (another
        origin is refused, as any redirect there)."""
        location = reply.header("location")
        if reply.status not in _MOVED or not location:
            return
        target = self._ours(
            join_url(reply.url, location), f"the server moved {where(reply.url)} to"
        )
        raise CalendarMoved(
            f"{self.label}: {reply.url} moved (HTTP {reply.status}) on {self.server}", target
        )

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
