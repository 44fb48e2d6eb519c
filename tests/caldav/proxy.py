"""A fault-injecting HTTP reverse proxy in front of a real CalDAV server.

The adapter's retry, back-off and auth code only matters when a server misbehaves, and Radicale
and Xandikos never do so on cue. This proxy sits on a free loopback port between the adapter and
a real server: it forwards every request byte for byte (any method, body and headers; only
hop-by-hop headers are dropped, as any HTTP/1.1 proxy must) and relays the answer unchanged,
unless a test has scheduled a :class:`Fault` that matches. A fault can answer instead of the
server, answer *after* the server handled the request (a lost success, which is what makes a
retried write dangerous), or close the socket without a word.

With ``ignore_preconditions`` set the proxy drops ``If-Match`` and ``If-None-Match`` from what it
forwards, so the real server behind it behaves as SOGo 5.8 does: a create over an existing
resource overwrites it and a delete or update with a stale ETag goes through. The log keeps the
headers as the client sent them.

An optional :class:`DigestFront` makes the proxy itself demand HTTP Digest auth (RFC 7616, MD5,
``qop=auth``) and forward with the backend's own credentials, so the adapter's digest path runs
end to end even though neither server offers digest on plain HTTP.

Every exchange is logged (method, path, what the client got, what the backend said) so tests
count requests on the wire rather than trusting the adapter's own counter.

It is an ``http.server.ThreadingHTTPServer`` forwarding with ``http.client``: both are stdlib,
neither adds headers of its own (no default ``Accept-Encoding``, no ``Server``/``Date``), and
``http.client`` hands back the body still content-encoded, so gzip passes through untouched.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import http.client
import re
import secrets
import socket
import threading
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from tests.background_server import BackgroundServer

__all__ = [
    "DigestFront",
    "Exchange",
    "Fault",
    "FaultProxy",
    "answer",
    "drop",
    "reject_sync_token",
]

# RFC 9110 7.6.1: meaningful for one connection only, never forwarded. Content-Length is set
# afresh from the body actually sent (equal to the original unless the client chunked).
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "content-length",
    }
)
BACKEND_TIMEOUT = 10.0

# RFC 9110 13.1.1-2: the conditional headers a server that ignores preconditions never reads.
_PRECONDITIONS = frozenset({"if-match", "if-none-match"})

# RFC 6578 3.2: the precondition a server reports for a sync token it no longer accepts.
VALID_SYNC_TOKEN_BODY = (
    b'<?xml version="1.0" encoding="utf-8"?>\n'
    b'<D:error xmlns:D="DAV:"><D:valid-sync-token/></D:error>'
)


@dataclass
class Fault:
    """The next ``times`` requests matching ``method``, ``path`` (a regex searched in the
    request target) and ``body_contains`` get ``status`` with ``headers`` and ``body`` (or, with
    ``drop``, a closed socket). With ``after_forward`` the backend handles the request first and
    only its answer is replaced or lost."""

    status: int = 503
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    method: str | None = None
    path: str | None = None
    body_contains: bytes | None = None
    times: int = 1
    drop: bool = False
    after_forward: bool = False

    def matches(self, method: str, path: str, body: bytes) -> bool:
        if self.times <= 0:
            return False
        if self.method is not None and self.method.upper() != method.upper():
            return False
        if self.path is not None and re.search(self.path, path) is None:
            return False
        return self.body_contains is None or self.body_contains in body

    def describe(self) -> str:
        what = "drop" if self.drop else str(self.status)
        return f"{what}{' after forward' if self.after_forward else ''}"


def answer(
    status: int,
    *,
    method: str | None = None,
    path: str | None = None,
    times: int = 1,
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    after_forward: bool = False,
) -> Fault:
    """Answer ``status`` (e.g. 503, or 429 with ``{"Retry-After": "2"}``) instead of the
    server."""
    return Fault(
        status=status,
        headers=dict(headers or {}),
        body=body,
        method=method,
        path=path,
        times=times,
        after_forward=after_forward,
    )


def drop(
    *,
    method: str | None = None,
    path: str | None = None,
    times: int = 1,
    after_forward: bool = False,
) -> Fault:
    """Close the connection without answering; ``after_forward``: once the server has acted."""
    return Fault(method=method, path=path, times=times, drop=True, after_forward=after_forward)


def reject_sync_token(*, times: int = 1, status: int = 403) -> Fault:
    """Refuse a sync-collection REPORT's token the way RFC 6578 3.2 says a server does."""
    return Fault(
        status=status,
        headers={"Content-Type": "application/xml; charset=utf-8"},
        body=VALID_SYNC_TOKEN_BODY,
        method="REPORT",
        body_contains=b"sync-collection",
        times=times,
    )


@dataclass(frozen=True)
class Exchange:
    """One request as the proxy saw it. ``status`` is what the client got (None: the socket was
    closed); ``upstream`` what the backend answered (None: it was never asked)."""

    method: str
    path: str
    status: int | None
    upstream: int | None
    fault: str | None
    body: bytes = field(repr=False, default=b"")
    headers: tuple[tuple[str, str], ...] = field(repr=False, default=())

    def header(self, name: str) -> str | None:
        """A request header as the client sent it (first of that name)."""
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


@dataclass
class DigestFront:
    """HTTP Digest (RFC 7616: MD5, ``qop=auth``) demanded by the proxy for one user.

    Nonces are the proxy's own; a nonce-count may not be replayed. Verification failures get a
    fresh challenge, as a server would, so a client that cannot authenticate sees 401 twice.
    """

    username: str
    password: str
    realm: str = "liftrun-proxy"
    opaque: str = field(default_factory=lambda: secrets.token_hex(8))
    _nonces: set[str] = field(default_factory=set, repr=False)
    _seen: set[tuple[str, str]] = field(default_factory=set, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def challenge(self) -> str:
        nonce = secrets.token_hex(16)
        with self._lock:
            self._nonces.add(nonce)
        return (
            f'Digest realm="{self.realm}", qop="auth", algorithm=MD5, nonce="{nonce}", '
            f'opaque="{self.opaque}"'
        )

    @staticmethod
    def _md5(text: str) -> str:
        return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()

    def verify(self, method: str, target: str, header: str | None) -> bool:
        """Whether ``header`` (an ``Authorization`` value) proves the password for this
        request."""
        if not header or header[:7].lower() != "digest ":
            return False
        fields = urllib.request.parse_keqv_list(urllib.request.parse_http_list(header[7:]))
        nonce, nc, cnonce = fields.get("nonce", ""), fields.get("nc", ""), fields.get("cnonce", "")
        with self._lock:
            if nonce not in self._nonces or (nonce, nc) in self._seen:
                return False
            self._seen.add((nonce, nc))
        if (
            fields.get("username") != self.username
            or fields.get("realm") != self.realm
            or fields.get("uri") != target
            or fields.get("qop") != "auth"
            or fields.get("algorithm", "MD5").upper() != "MD5"
            or fields.get("opaque", self.opaque) != self.opaque
            or not nc
            or not cnonce
        ):
            return False
        ha1 = self._md5(f"{self.username}:{self.realm}:{self.password}")
        ha2 = self._md5(f"{method}:{target}")
        expected = self._md5(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")
        return hmac.compare_digest(expected, fields.get("response", ""))


@dataclass(frozen=True)
class _Upstream:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    proxy: FaultProxy


class _Handler(BaseHTTPRequestHandler):
    """Keeps connections alive (HTTP/1.1) like a real server, so a client's connection pool and
    its handling of a socket closed mid-exchange are exercised too."""

    protocol_version = "HTTP/1.1"

    def handle_one_request(self) -> None:
        # BaseHTTPRequestHandler dispatches to do_<METHOD>; a proxy takes any method.
        self.raw_requestline = self.rfile.readline(65537)
        if not self.raw_requestline:
            self.close_connection = True
            return
        if len(self.raw_requestline) > 65536:
            self.send_error(414)
            return
        if not self.parse_request():
            return
        server = self.server
        assert isinstance(server, _Server)
        server.proxy.serve(self)
        with contextlib.suppress(OSError):
            self.wfile.flush()

    def read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def reply(
        self, status: int, headers: list[tuple[str, str]], body: bytes, *, reason: str = ""
    ) -> None:
        self.send_response_only(status, reason or None)  # no Server/Date of the proxy's own
        for name, value in headers:
            self.send_header(name, value)
        if not any(name.lower() == "content-length" for name, _ in headers):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)

    def hang_up(self) -> None:
        """Close the socket with nothing written: the client sees the connection drop."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def log_message(self, format: str, *args: object) -> None:
        """The proxy keeps its own log (:attr:`FaultProxy.log`); stderr stays quiet."""


class FaultProxy(BackgroundServer):
    """A reverse proxy to ``backend`` (a base URL) with a queue of scheduled faults.

    ``backend_auth`` (user, password) is sent as Basic auth to the backend only when ``digest``
    is set (the client's own credentials are then the proxy's); without ``digest`` the client's
    ``Authorization`` passes through untouched, challenge round-trips included.
    ``ignore_preconditions`` (settable while running) strips ``If-Match``/``If-None-Match``.
    """

    def __init__(
        self,
        backend: str,
        *,
        digest: DigestFront | None = None,
        backend_auth: tuple[str, str] | None = None,
        ignore_preconditions: bool = False,
    ) -> None:
        parts = urlsplit(backend)
        if parts.scheme != "http" or parts.hostname is None or parts.port is None:
            raise ValueError(f"the backend must be http://host:port/, not {backend!r}")
        self.backend = backend
        self._host, self._port = parts.hostname, parts.port
        self.digest = digest
        self._backend_auth = backend_auth
        self.ignore_preconditions = ignore_preconditions
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._log: list[Exchange] = []
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.proxy = self

    # -- lifecycle ------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        port: int = self._server.server_address[1]
        return f"http://127.0.0.1:{port}/"

    def rebase(self, backend_url: str) -> str:
        """``backend_url`` as seen through the proxy (same path, the proxy's host and port)."""
        if not backend_url.startswith(self.backend):
            raise ValueError(f"{backend_url!r} is not under {self.backend!r}")
        return self.url + backend_url[len(self.backend) :]

    def unbase(self, proxy_url: str) -> str:
        """``proxy_url`` as the backend's own URL: for a test that plays the athlete's app."""
        if not proxy_url.startswith(self.url):
            raise ValueError(f"{proxy_url!r} is not under {self.url!r}")
        return self.backend + proxy_url[len(self.url) :]

    def _thread_name(self) -> str:
        return f"caldav-proxy-{self.url}"

    # -- faults and the log ---------------------------------------------------------------------
    def schedule(self, *faults: Fault) -> None:
        with self._lock:
            self._faults.extend(faults)

    @property
    def pending(self) -> list[Fault]:
        """Faults with uses left (a test asserting its faults all fired checks this is empty)."""
        with self._lock:
            return [f for f in self._faults if f.times > 0]

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    @property
    def log(self) -> list[Exchange]:
        with self._lock:
            return list(self._log)

    def clear_log(self) -> None:
        with self._lock:
            self._log.clear()

    def requests(
        self, method: str | None = None, *, body_contains: bytes | None = None
    ) -> list[Exchange]:
        return [
            e
            for e in self.log
            if (method is None or e.method == method.upper())
            and (body_contains is None or body_contains in e.body)
        ]

    def statuses(
        self, method: str | None = None, *, body_contains: bytes | None = None
    ) -> list[int | None]:
        return [e.status for e in self.requests(method, body_contains=body_contains)]

    def _take(self, method: str, path: str, body: bytes) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path, body):
                    fault.times -= 1
                    return fault
        return None

    def _record(
        self,
        handler: _Handler,
        body: bytes,
        status: int | None,
        upstream: int | None,
        fault: str | None,
    ) -> None:
        exchange = Exchange(
            handler.command,
            handler.path,
            status,
            upstream,
            fault,
            body,
            tuple(handler.headers.items()),
        )
        with self._lock:
            self._log.append(exchange)

    # -- serving --------------------------------------------------------------------------------
    def serve(self, handler: _Handler) -> None:
        """Answer one request. The exchange is logged *before* the client hears anything, so a
        test reading the log right after its call returns never misses the last entry."""
        method, path = handler.command, handler.path
        body = handler.read_body()
        if self.digest is not None and not self.digest.verify(
            method, path, handler.headers.get("Authorization")
        ):
            self._record(handler, body, 401, None, "digest challenge")
            handler.reply(401, [("WWW-Authenticate", self.digest.challenge())], b"")
            return
        fault = self._take(method, path, body)
        upstream: _Upstream | None = None
        if fault is None or fault.after_forward:
            try:
                upstream = self._forward(handler, method, path, body)
            except OSError:
                self._record(handler, body, None, None, "backend unreachable")
                handler.hang_up()  # the backend is gone: so is the answer
                return
        code = upstream.status if upstream is not None else None
        if fault is None:
            assert upstream is not None
            self._record(handler, body, upstream.status, code, None)
            handler.reply(upstream.status, upstream.headers, upstream.body, reason=upstream.reason)
        elif fault.drop:
            self._record(handler, body, None, code, fault.describe())
            handler.hang_up()
        else:
            self._record(handler, body, fault.status, code, fault.describe())
            handler.reply(fault.status, list(fault.headers.items()), fault.body)

    def _forward(self, handler: _Handler, method: str, path: str, body: bytes) -> _Upstream:
        headers = [(k, v) for k, v in handler.headers.items() if k.lower() not in _HOP_BY_HOP]
        if self.ignore_preconditions:
            headers = [(k, v) for k, v in headers if k.lower() not in _PRECONDITIONS]
        if self.digest is not None:
            headers = [(k, v) for k, v in headers if k.lower() != "authorization"]
            if self._backend_auth is not None:
                token = base64.b64encode(":".join(self._backend_auth).encode()).decode()
                headers.append(("Authorization", f"Basic {token}"))
        if body or "Content-Length" in handler.headers or "Transfer-Encoding" in handler.headers:
            headers.append(("Content-Length", str(len(body))))
        conn = http.client.HTTPConnection(self._host, self._port, timeout=BACKEND_TIMEOUT)
        try:
            conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            for name, value in headers:
                conn.putheader(name, value)
            conn.endheaders(body or None)
            response = conn.getresponse()
            data = response.read()
            keep = [(k, v) for k, v in response.getheaders() if k.lower() not in _HOP_BY_HOP]
            if method == "HEAD" and response.getheader("Content-Length") is not None:
                keep.append(("Content-Length", str(response.getheader("Content-Length"))))
            return _Upstream(response.status, response.reason, keep, data)
        finally:
            conn.close()
