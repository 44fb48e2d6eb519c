"""Serve the ICS feed over HTTP so calendar apps can subscribe to it (``liftrun serve``).

Calendar clients poll a subscription every few minutes to hours, forever, mostly getting "not
modified". So the design optimises the conditional GET: the feed's bytes, their ETag and a
gzipped copy are computed once per change of the file (detected by one ``stat`` per request)
and a 304 costs a ``stat``, a token check and a few headers.

The URL's first segment is the secret (see ``adapters.feed_token``). A wrong token gets the
same empty 404 as any unknown path (also with a trailing slash: Starlette's slash redirect,
which builds its Location from the client's Host header, is off), and the access log shows
neither the right one nor a revoked or mistyped one (``redact_path``), whatever form the path
takes. uvicorn's own access log must stay off (``access_log=False``) because it logs the raw
path. Everything the access log writes is escaped (``printable``): a ``%0a`` in a path cannot
forge a line, a ``%1b`` cannot reach a terminal. The server around the app, and why it is
uvicorn wrapped rather than configured, is ``adapters.hardened_server``.

The athlete's page (``web.app``) is mounted beside the feed by ``serve``, under ``/p/`` and
``/s/``; the same access log redacts its page token and session signatures. The page and the
feed have separate secrets: the feed token opens no page and the page token reads no feed.

Gzip is done here rather than with ``GZipMiddleware``: the middleware would recompress 150 KB
on every full GET and keep the identity ETag on the compressed body, which breaks caches. Here
the gzipped variant is cached and gets its own ETag, and every feed response says
``Vary: Accept-Encoding``.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import os
import re
import socket
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from adapters.feed_token import FeedToken
from adapters.ics.feed_address import FEED_NAME, SHADOW_NAME

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send


ICS_TYPE = "text/calendar; charset=utf-8"
GZIP_MIN_BYTES = 256  # below this the gzip header costs more than it saves

access_log = logging.getLogger("liftrun.feed.access")

_Key = tuple[int, int, int, int]


@dataclass(frozen=True)
class _Snapshot:
    body: bytes
    gzipped: bytes | None
    etag: str
    gzip_etag: str
    mtime: int  # whole seconds: what Last-Modified can express
    last_modified: str


class FeedFile:
    """One feed file with its bytes, ETags and gzipped copy cached until the file changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._key: _Key | None = None
        self._snapshot: _Snapshot | None = None

    def snapshot(self) -> _Snapshot | None:
        """The current content, or None while the file does not exist yet."""
        try:
            st = self.path.stat()
        except FileNotFoundError:
            self._key, self._snapshot = None, None
            return None
        key = (st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size)
        if key != self._key or self._snapshot is None:
            self._load()
        return self._snapshot

    def _load(self) -> None:
        # Key and bytes come from the same open file, so a rename between stat and read can at
        # worst cause one extra reload on the next request, never a stale ETag for new bytes.
        try:
            with self.path.open("rb") as f:
                st = os.fstat(f.fileno())
                body = f.read()
        except FileNotFoundError:
            self._key, self._snapshot = None, None
            return
        digest = hashlib.sha256(body).hexdigest()[:32]
        mtime = int(st.st_mtime)
        self._snapshot = _Snapshot(
            body=body,
            gzipped=gzip.compress(body, compresslevel=9, mtime=0)
            if len(body) >= GZIP_MIN_BYTES
            else None,
            etag=f'"{digest}"',
            gzip_etag=f'"{digest}-gz"',
            mtime=mtime,
            last_modified=formatdate(mtime, usegmt=True),
        )
        self._key = (st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size)


def accepts_gzip(header: str) -> bool:
    """Whether an ``Accept-Encoding`` value allows gzip (``q=0`` and ``*`` respected)."""
    star: bool | None = None
    for part in header.split(","):
        name, _, params = part.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            k, _, v = param.strip().partition("=")
            if k.strip().lower() == "q":
                try:
                    q = float(v)
                except ValueError:
                    q = 0.0
        coding = name.strip().lower()
        if coding in ("gzip", "x-gzip"):
            return q > 0
        if coding == "*":
            star = q > 0
    return bool(star)


def _etag_matches(header: str, snap: _Snapshot) -> bool:
    """RFC 9110 weak comparison against either variant: both stand for unchanged content."""
    if header.strip() == "*":
        return True
    ours = {snap.etag, snap.gzip_etag}
    return any(tag.strip().removeprefix("W/") in ours for tag in header.split(","))


def _not_modified_since(header: str, snap: _Snapshot) -> bool:
    try:
        since = parsedate_to_datetime(header)
    except (TypeError, ValueError, IndexError):
        return False
    if since.tzinfo is None:
        return False
    return snap.mtime <= since.timestamp()


def _feed_endpoint(
    feed: FeedFile, token: FeedToken, cache_control: str
) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        if not token.matches(request.path_params["token"]):
            return Response(status_code=404)
        snap = feed.snapshot()
        if snap is None:
            return PlainTextResponse(
                "The feed has not been written yet; try again after the next sync.\n",
                status_code=503,
                headers={"Retry-After": "300", "Cache-Control": "no-store"},
            )
        use_gzip = snap.gzipped is not None and accepts_gzip(
            request.headers.get("accept-encoding", "")
        )
        headers = {
            "ETag": snap.gzip_etag if use_gzip else snap.etag,
            "Last-Modified": snap.last_modified,
            "Cache-Control": cache_control,
            "Vary": "Accept-Encoding",
            "X-Content-Type-Options": "nosniff",
        }
        inm = request.headers.get("if-none-match")
        ims = request.headers.get("if-modified-since")
        # RFC 9110 13.2.2: If-None-Match, when present, makes If-Modified-Since irrelevant.
        if (inm is not None and _etag_matches(inm, snap)) or (
            inm is None and ims is not None and _not_modified_since(ims, snap)
        ):
            return Response(status_code=304, headers=headers)
        if use_gzip:
            headers["Content-Encoding"] = "gzip"
            assert snap.gzipped is not None
            return Response(snap.gzipped, headers=headers, media_type=ICS_TYPE)
        return Response(snap.body, headers=headers, media_type=ICS_TYPE)

    return endpoint


async def _healthz(request: Request) -> Response:
    return PlainTextResponse("ok\n")


TOKEN_SHAPED = 16  # characters of the token's alphabet in one path segment
MAX_LOGGED_PATH = 200
_TOKEN_ALPHABET = re.compile(r"[A-Za-z0-9_-]")
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\\\\]")
_NAMED_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\"}


def _escape(match: re.Match[str]) -> str:
    char = match.group(0)
    code = ord(char)
    return _NAMED_ESCAPES.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def printable(text: str) -> str:
    """``text`` on one line with control characters (C0, DEL, C1, line separators, bidi
    overrides) and the backslash escaped, so the result reads back unambiguously."""
    return _UNPRINTABLE.sub(_escape, text)


def _token_shaped(segment: str) -> bool:
    # Counted in the segment as uvicorn decoded it: percent-encoding a character only adds
    # hex digits, so no encoding, single or double, brings a token below the threshold.
    return len(_TOKEN_ALPHABET.findall(segment)) >= TOKEN_SHAPED


# The athlete's page (``web.app``): its first segment names the kind of link, and the secret
# sits at a known depth: ``/p/<page token>/...`` and ``/s/<session id>/<signature>/...``.
PAGE_SECRET_SEGMENTS = {"p": (2,), "s": (2, 3)}


def redact_path(path: str) -> str:
    """The path as logged: the segment where a secret goes always becomes ``<token>``, even
    for a wrong one (a revoked one, a typo of the real one): the first for the feed, the page
    token of ``/p/...``, the session id and signature of ``/s/...``; and so does any segment
    holding 16 or more characters of the token's alphabet, wherever it is (``//TOKEN/``,
    ``/%2FTOKEN/``, ``http://host/TOKEN/``). Cut at 200 characters, escaped."""
    if path == "/healthz":
        return path
    segments = path.split("/")
    secret_at = PAGE_SECRET_SEGMENTS.get(segments[1], (1,)) if len(segments) > 2 else (1,)
    for i, segment in enumerate(segments):
        if (i in secret_at and segment) or _token_shaped(segment):
            segments[i] = "<token>"
    shown = "/".join(segments)
    if len(shown) > MAX_LOGGED_PATH:
        shown = f"{shown[:MAX_LOGGED_PATH]}...({len(shown)} chars)"
    return printable(shown)


class AccessLogMiddleware:
    """One line per request without a secret: method, redacted path, status, bytes, time.

    ``also_scrub`` gives the other secrets that may appear in a path (the page token), read
    per request so a rotated one is scrubbed too."""

    def __init__(
        self,
        app: ASGIApp,
        token: FeedToken,
        also_scrub: Sequence[Callable[[], str | None]] = (),
    ) -> None:
        self.app = app
        self.token = token
        self.also_scrub = also_scrub

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        sent = 0

        async def counting_send(message: Message) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body" and scope["method"] != "HEAD":
                sent += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, counting_send)
        finally:
            path = redact_path(scope["path"])
            for current in (self.token.current(), *(get() for get in self.also_scrub)):
                if current and current in path:  # belt and braces: a token elsewhere
                    path = path.replace(current, "<token>")
            client = scope.get("client")
            access_log.info(
                '%s "%s %s" %d %d %.1fms',
                printable(str(client[0])) if client else "-",  # X-Forwarded-For via a proxy
                printable(scope["method"]),
                path,
                status,
                sent,
                (time.perf_counter() - started) * 1000,
            )


def create_app(
    feed_path: Path | None,
    token: FeedToken,
    *,
    shadow_path: Path | None = None,
    max_age: int = 3600,
    pages: Pages | None = None,
) -> Starlette:
    """The ASGI app: the feed, optionally the busy-only shadow feed, and ``/healthz``; with
    ``pages``, the athlete's page answers every other path (its own 404 included). Without
    ``feed_path`` (no ICS calendar to publish) it serves the page alone."""
    cache_control = f"private, max-age={max_age}"
    routes: list[BaseRoute] = [Route("/healthz", _healthz, methods=["GET", "HEAD"])]
    for name, path in ((FEED_NAME, feed_path), (SHADOW_NAME, shadow_path)):
        if path is not None:
            routes.append(
                Route(
                    f"/{{token}}/{name}",
                    _feed_endpoint(FeedFile(path), token, cache_control),
                    methods=["GET", "HEAD"],
                )
            )

    scrub: tuple[Callable[[], str | None], ...] = ()
    if pages is not None:
        routes.append(Mount("", app=pages.app))
        scrub = (pages.page_token,)

    async def not_found(request: Request, exc: Exception) -> Response:
        return Response(status_code=404)

    app = Starlette(routes=routes, exception_handlers={404: not_found})
    app.router.redirect_slashes = False  # its Location would come from the client's Host
    app.add_middleware(AccessLogMiddleware, token=token, also_scrub=scrub)
    return app


@dataclass(frozen=True)
class Pages:
    """The athlete's page as the feed server mounts it: its ASGI app, and its current page
    token, which the access log scrubs like the feed's own (``web.app.create_pages``)."""

    app: ASGIApp
    page_token: Callable[[], str | None]


def listen_socket(host: str, port: int) -> socket.socket:
    """A bound TCP socket for ``uvicorn.Server.run(sockets=[...])``.

    Not ``uvicorn.Config.bind_socket``: it leaves ``proto`` at 0, accepted sockets inherit
    that, and asyncio then skips ``TCP_NODELAY``, so every small response on a keep-alive
    connection waits ~40 ms for a delayed ACK (uvicorn issue #3149, open as of 0.54). Binding
    here also lets ``serve`` print the URL only once the port is really ours.
    """
    family, kind, proto, _, addr = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
    )[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(addr)
    except BaseException:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock
