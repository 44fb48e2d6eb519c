"""HTTP reads that a hostile server cannot stretch in time or blow up in memory.

httpx's timeouts are per operation: a server that sends one byte every few seconds never trips
them, neither in the headers nor in the body, so a read can last hours. :class:`Deadline` is an
instant on the monotonic clock, and the network backend installed by :func:`deadline_transport`
gives every connect, TLS handshake, read and write at most the time left before it, so the whole
exchange ends by that instant whatever the server does.

A compressed body is decoded here, against the byte cap, instead of by httpx: its decoders
inflate a whole network read at once, so a few kilobytes of gzip become hundreds of megabytes
before any cap can look. :class:`CappedBody` never asks zlib for more than the cap has room for.
"""

from __future__ import annotations

import math
import ssl
import time
import urllib.request
import zlib
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

__all__ = [
    "ACCEPT_ENCODING",
    "BodyRefused",
    "CappedBody",
    "Deadline",
    "DeadlineBackend",
    "IncompleteBody",
    "deadline_transport",
    "environment_proxy",
]

ACCEPT_ENCODING = "gzip, deflate"
_STEP = 1 << 20  # at most this much decompressed output per zlib call
_GZIP_MAGIC = b"\x1f\x8b"


class Deadline:
    """When the current exchange must be over, on the monotonic clock; ``until`` may be moved
    between attempts, and streams already open follow it."""

    def __init__(self, until: float = math.inf) -> None:
        self.until = until

    def left(self) -> float:
        return self.until - time.monotonic()

    def passed(self) -> bool:
        return time.monotonic() >= self.until

    def clamp(self, timeout: float | None, expired: type[Exception]) -> float:
        """``timeout`` shortened to the time left; ``expired`` is raised once none is left."""
        left = self.left()
        if left <= 0:
            raise expired("deadline passed")
        return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream, deadline: Deadline) -> None:
        self._inner = inner
        self._deadline = deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, self._deadline.clamp(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._deadline.clamp(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        limit = self._deadline.clamp(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(
            self._inner.start_tls(ssl_context, server_hostname, limit), self._deadline
        )

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's network backend with every operation's timeout cut to the deadline.

    Name resolution inside ``connect_tcp`` is the one step no socket timeout reaches; it is
    bounded by the system resolver's own timeouts.
    """

    def __init__(self, inner: httpcore.NetworkBackend, deadline: Deadline) -> None:
        self._inner = inner
        self._deadline = deadline

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        limit = self._deadline.clamp(timeout, httpcore.ConnectTimeout)
        stream = self._inner.connect_tcp(host, port, limit, local_address, socket_options)
        return _DeadlineStream(stream, self._deadline)

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        limit = self._deadline.clamp(timeout, httpcore.ConnectTimeout)
        stream = self._inner.connect_unix_socket(path, limit, socket_options)
        return _DeadlineStream(stream, self._deadline)

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(min(seconds, max(self._deadline.left(), 0.0)))


def environment_proxy(url: str) -> str | None:
    """The proxy ``HTTP(S)_PROXY``/``ALL_PROXY`` name for ``url`` unless ``NO_PROXY`` exempts
    its host: what httpx would use by itself, which a client built around its own transport
    no longer looks up."""
    proxies = urllib.request.getproxies_environment()
    parts = urlsplit(url)
    if not proxies or urllib.request.proxy_bypass(parts.hostname or ""):
        return None
    return proxies.get(parts.scheme) or proxies.get("all")


def deadline_transport(url: str, deadline: Deadline) -> httpx.HTTPTransport:
    """An httpx transport for ``url`` (through the environment's proxy, if any) whose every
    network operation ends by ``deadline``.

    httpx 0.28 takes no network backend, so it is set on the transport's connection pool
    (httpcore's documented extension point) before the pool opens any connection.

    Raises:
        ValueError: the environment names a proxy httpx cannot use (the message names no URL)
            or certificates that cannot be loaded.
    """
    try:
        transport = httpx.HTTPTransport(proxy=environment_proxy(url))
    except OSError as exc:  # SSL_CERT_FILE/SSL_CERT_DIR naming something unreadable
        reason = exc.strerror or type(exc).__name__
        raise ValueError(f"cannot load the trusted TLS certificates: {reason}") from None
    except (ValueError, ImportError, httpx.InvalidURL) as exc:
        raise ValueError(
            f"cannot use the proxy from the environment ({type(exc).__name__})"
        ) from None
    pool = transport._pool
    pool._network_backend = DeadlineBackend(pool._network_backend, deadline)
    return transport


class BodyRefused(Exception):
    """A body that is refused; ``str()`` is a short reason naming no URL."""


class IncompleteBody(BodyRefused):
    """The compressed body stopped before its end: the connection broke, a retry may help."""


class CappedBody:
    """A response body collected (and decoded, for ``gzip``/``deflate``) up to ``cap`` bytes.

    Each zlib call is allowed at most the room left under the cap plus one byte, so a
    compression bomb is refused after at most ``cap`` bytes of output, whatever its ratio.
    """

    def __init__(self, content_encoding: str | None, cap: int) -> None:
        self._cap = cap
        self._parts: list[bytes] = []
        self._size = 0
        self._coding = _coding(content_encoding)
        self._inflate: Any = None  # zlib's Decompress object, made once the format is known
        self._pending = b""  # the first bytes of a deflate body, until its format is known
        self._done = False  # the compressed stream ended; anything after it is ignored

    def too_large(self) -> BodyRefused:
        return BodyRefused(f"larger than {self._cap} bytes")

    def feed(self, data: bytes) -> None:
        if self._coding is None:
            self._add(data)
            return
        if self._inflate is None:
            data = self._pending + data
            if self._coding == "deflate" and len(data) < 2:
                self._pending = data
                return
            self._pending = b""
            self._inflate = zlib.decompressobj(self._wbits(data))
        while data and not self._done:
            data = self._inflate_some(data)

    def finish(self) -> bytes:
        """The whole body.

        Raises:
            BodyRefused: larger than the cap, or a compressed stream that is corrupt.
            IncompleteBody: a compressed stream that stops before its end.
        """
        if self._coding is not None and not self._done:
            if self._inflate is None:
                raise IncompleteBody(f"the {self._coding} body ends before it starts")
            self._add(self._inflate.flush())
            if not self._inflate.eof:
                raise IncompleteBody(f"the {self._coding} body ends early")
        return b"".join(self._parts)

    def _wbits(self, head: bytes) -> int:
        if self._coding == "gzip":
            return 32 + zlib.MAX_WBITS  # gzip, or a zlib stream some servers label gzip
        # "deflate" means a zlib stream (RFC 9110 8.4.1.2), but some servers send raw deflate
        cmf, flg = head[0], head[1]
        wrapped = cmf & 0x0F == zlib.DEFLATED and (cmf << 8 | flg) % 31 == 0
        return zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS

    def _inflate_some(self, data: bytes) -> bytes:
        """Inflate part of ``data``; returns the input still to be inflated."""
        room = self._cap + 1 - self._size
        try:
            piece = self._inflate.decompress(data, min(room, _STEP))
        except zlib.error as exc:
            raise BodyRefused(f"the {self._coding} body cannot be decoded: {exc}") from None
        self._add(piece)
        if not self._inflate.eof:
            rest: bytes = self._inflate.unconsumed_tail
            if (
                len(rest) == len(data) and not piece
            ):  # no progress: zlib wants nothing more from this
                return b""
            return rest
        rest = self._inflate.unused_data
        if self._coding == "gzip" and rest.startswith(_GZIP_MAGIC):  # a multi-member gzip
            self._inflate = zlib.decompressobj(self._wbits(rest))
            return bytes(rest)
        self._done = True  # trailing bytes after the stream are ignored, as zlib does
        return b""

    def _add(self, piece: bytes) -> None:
        if not piece:
            return
        self._size += len(piece)
        if self._size > self._cap:
            raise self.too_large()
        self._parts.append(piece)


def _coding(value: str | None) -> str | None:
    """The one content coding to undo, None for none.

    Raises:
        BodyRefused: a coding liftrun never asked for (``br``, ``zstd``, ...) or a chain of them.
    """
    codings = [c.strip().lower() for c in (value or "").split(",")]
    codings = [c for c in codings if c and c != "identity"]
    if not codings:
        return None
    shown = (value or "").strip()[:40]
    if len(codings) > 1:
        raise BodyRefused(f"the server sent Content-Encoding {shown!r}; only one is supported")
    coding = {"x-gzip": "gzip"}.get(codings[0], codings[0])
    if coding not in ("gzip", "deflate"):
        raise BodyRefused(
            f"the server sent Content-Encoding {shown!r}, which liftrun did not ask for "
            f"(it accepts {ACCEPT_ENCODING})"
        )
    return coding
