"""uvicorn bounded for the open internet: a connection cap, deadlines, quiet accept errors.

``liftrun serve`` faces the internet, where a client may open hundreds of connections and send
nothing. Measured before this module (uvicorn 0.54, Python 3.11, a 256-descriptor limit, 300
silent connections): ``/healthz`` never answered and 108 MB of "Too many open files" tracebacks
were written in 13 s. What the candidates offer, read in their source:

* uvicorn's ``timeout_keep_alive`` starts only after a response, and every byte received
  cancels it: a connection that never sends a byte, or trickles its headers, is held forever.
  ``limit_concurrency`` answers 503 to *requests* once that many connections are open, idle
  ones included, so silent connections turn every real request into a 503.
* hypercorn 0.18's ``keep_alive_timeout`` runs from the connect, a header deadline, but it has
  no cap on connections at all.
* Both accept through asyncio, whose accept loop (Python 3.11) on EMFILE neither stops nor
  keeps quiet: for each of ``backlog`` tries it logs a traceback and schedules a retry.

No server configures its way out, and switching would not remove the wrapping, so this keeps
uvicorn (its h11 protocol, app handling and graceful shutdown) and adds what a subclass of its
protocol and an event-loop exception handler can:

* **A cap on connections** below the descriptor limit by the process's own descriptors and
  one burst of accepts (``connection_cap``: 192 under 256, at most 1000). At the cap a
  new connection closes the oldest one that has no request in progress (nginx drains idle
  keep-alive connections the same way when it runs out); only when every connection is busy
  is the newcomer turned away with a 503. Silent connections therefore cannot lock out a
  client that sends its request at once, and accepting never runs out of descriptors.
* **Deadlines per phase**: the request line and headers within ``header_timeout`` of the
  connect or of the previous response (a slowloris trickle included), and each response,
  to its last byte taken by the client, within ``response_timeout`` of its request (a client
  that stops reading holds a connection, and the response buffered for it, no longer).
* **Accept errors** (EMFILE, ENFILE, ENOBUFS, ENOMEM) counted and logged as one line per
  ``report_interval``, never a traceback per try; so are closings at the cap and deadlines.
* **A malformed body** arriving while the app already answers its request gets the 400 (or a
  close) from uvicorn without the app's response then raising "Exception in ASGI application".
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import resource
import socket
import struct
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

if TYPE_CHECKING:
    from starlette.types import ASGIApp
    from uvicorn.config import Config
    from uvicorn.server import ServerState

MAX_CONNECTIONS = 1000
MAX_ACCEPT_BATCH = 64
BATCHES_IN_FLIGHT = 4  # accepted sockets wait ~3 loop turns to be admitted, evicted, closed
LISTEN_BACKLOG = 1024  # completed handshakes the kernel queues for us; no descriptors used
FD_HEADROOM = 32  # the process's own: std streams, epoll, self-pipe, listener, feed file (~10)
ACCEPT_RESOURCE_MESSAGE = "socket.accept() out of system resource"  # asyncio's, for EMFILE & co

log = logging.getLogger("liftrun.feed")

_BUSY_503 = (
    b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nretry-after: 60\r\n"
    b"connection: close\r\n\r\n"
)


def accept_batch(soft_limit: int) -> int:
    """How many connections asyncio accepts in one go, before any of them reaches the
    protocol (and the cap): a 32nd of a small descriptor limit, at most 64."""
    if soft_limit == resource.RLIM_INFINITY or soft_limit <= 0:
        return MAX_ACCEPT_BATCH
    return max(4, min(MAX_ACCEPT_BATCH, soft_limit // 32))


def connection_cap(soft_limit: int) -> int:
    """Connections to allow under a descriptor limit, so that the capped connections, one
    burst of accepts and the process's own descriptors fit: at most ``MAX_CONNECTIONS``."""
    if soft_limit == resource.RLIM_INFINITY or soft_limit <= 0:
        return MAX_CONNECTIONS
    return max(
        1,
        min(
            MAX_CONNECTIONS, soft_limit - FD_HEADROOM - BATCHES_IN_FLIGHT * accept_batch(soft_limit)
        ),
    )


@dataclass(frozen=True)
class ServerLimits:
    max_connections: int
    header_timeout: float = 5.0
    response_timeout: float = 60.0
    keep_alive: int = 5
    max_header_bytes: int = 16 * 1024
    accept_batch: int = MAX_ACCEPT_BATCH
    listen_backlog: int = LISTEN_BACKLOG
    report_interval: float = 60.0
    shutdown_grace: int = 3  # after SIGTERM, for responses still going out

    @classmethod
    def for_this_process(cls) -> ServerLimits:
        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
        return cls(max_connections=connection_cap(soft), accept_batch=accept_batch(soft))


class RateLimitedLog:
    """Repeated events as one line per interval: the first of a kind at once, the rest counted
    and written when the interval ends, so a flood costs a few lines, not one per event."""

    def __init__(self, logger: logging.Logger, interval: float) -> None:
        self.logger = logger
        self.interval = interval
        self._counts: dict[str, int] = {}
        self._latest: dict[str, tuple[int, str]] = {}  # kind -> (level, message) to write
        self._quiet_until: dict[str, float] = {}
        self._flush: asyncio.TimerHandle | None = None

    def note(self, level: int, message: str, *, kind: str | None = None) -> None:
        """One event; ``kind`` (default: the message) groups events whose messages differ
        in a detail, and the count's line shows the latest message."""
        kind = kind or message
        now = time.monotonic()
        if now >= self._quiet_until.get(kind, 0.0):
            self._quiet_until[kind] = now + self.interval
            self.logger.log(level, "%s", message)
            return
        self._counts[kind] = self._counts.get(kind, 0) + 1
        self._latest[kind] = (level, message)
        if self._flush is None:
            self._schedule(now)

    def close(self) -> None:
        """Write what is still counted (the server is stopping)."""
        if self._flush is not None:
            self._flush.cancel()
        self._write(everything=True)

    def _write(self, *, everything: bool = False) -> None:
        self._flush = None
        now = time.monotonic()
        for kind, count in list(self._counts.items()):
            if now < self._quiet_until[kind] and not everything:
                continue
            del self._counts[kind]
            self._quiet_until[kind] = now + self.interval
            level, message = self._latest.pop(kind)
            self.logger.log(level, "%s (%d more since the last such line)", message, count)
        if self._counts and not everything:
            self._schedule(now)

    def _schedule(self, now: float) -> None:
        """The next write when the first counted kind's quiet interval ends."""
        delay = max(0.0, min(self._quiet_until[k] for k in self._counts) - now)
        self._flush = asyncio.get_running_loop().call_later(delay, self._write)


class ConnectionGuard:
    """The open connections of one server, in the order they arrived, and the cap on them."""

    def __init__(self, limits: ServerLimits) -> None:
        self.limits = limits
        self.open: dict[GuardedH11Protocol, None] = {}
        self.report = RateLimitedLog(log, limits.report_interval)

    def admit(self, conn: GuardedH11Protocol) -> None:
        self.open[conn] = None
        if len(self.open) <= self.limits.max_connections:
            return
        victim = next((c for c in self.open if c is not conn and c.idle), None)
        if victim is not None:
            self.release(victim)
            victim.reset()
            self.report.note(
                logging.WARNING,
                f"closed the oldest idle connection: {self.limits.max_connections} "
                "connections is the cap",
            )
            return
        self.release(conn)
        conn.transport.write(_BUSY_503)
        conn.transport.close()
        self.report.note(
            logging.WARNING,
            f"turned a connection away with 503: all {self.limits.max_connections} "
            "connections are busy",
        )

    def release(self, conn: GuardedH11Protocol) -> None:
        self.open.pop(conn, None)

    def loop_exception(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        """Accept errors become a counted line; anything else goes to asyncio's handler."""
        exc = context.get("exception")
        if context.get("message") == ACCEPT_RESOURCE_MESSAGE and isinstance(exc, OSError):
            self.report.note(
                logging.WARNING,
                f"cannot accept connections: {exc.strerror or exc} "
                f"({len(self.open)} open; asyncio retries each second)",
                kind=f"accept {exc.errno}",
            )
            return
        loop.default_exception_handler(context)


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol under a ``ConnectionGuard``: capped, with a deadline per phase."""

    guard: ClassVar[ConnectionGuard]

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self._deadline: asyncio.TimerHandle | None = None
        self._phase_cycle: object = None  # the request, and whether it was being answered,
        self._phase_busy: bool | None = None  # that the current deadline was set for

    @property
    def idle(self) -> bool:
        """No request whose response is still to be sent or still in the transport's buffer:
        uvicorn counts a response complete once handed to asyncio, whose ``close`` then waits
        for a client that may never read it. (``cycle`` is None before the first request.)"""
        cycle: Any = self.cycle
        if cycle is not None and not cycle.response_complete:
            return False
        return self.transport.get_write_buffer_size() == 0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.guard.admit(self)
        self._next_phase()

    def connection_lost(self, exc: Exception | None) -> None:
        self.guard.release(self)
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._next_phase()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._next_phase()

    def reset(self) -> None:
        """Drop the connection at once with what is buffered for it: ``close`` would wait for
        a client that does not read, and so would the kernel after a plain socket close."""
        sock = self.transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.transport.abort()

    def _next_phase(self) -> None:
        """A fresh deadline whenever a request starts or a response ends, none otherwise: bytes
        trickling in do not extend the time allowed for the headers."""
        if self.transport.is_closing():
            return
        busy = not self.idle
        if self.cycle is self._phase_cycle and busy == self._phase_busy:
            return
        self._phase_cycle, self._phase_busy = self.cycle, busy
        if self._deadline is not None:
            self._deadline.cancel()
        limits = self.guard.limits
        timeout = limits.response_timeout if busy else limits.header_timeout
        self._deadline = self.loop.call_later(timeout, self._expire, busy)

    def _expire(self, busy: bool) -> None:
        # Even when closing: uvicorn's keep-alive timer closes gracefully, which waits for a
        # client that does not read (connection_lost, which cancels this, has not happened).
        self._deadline = None
        limits = self.guard.limits
        self.guard.report.note(
            logging.INFO,
            f"closed a connection whose response was not taken within {limits.response_timeout:g} s"
            if busy
            else "closed a connection that sent no complete request headers within "
            f"{limits.header_timeout:g} s",
        )
        self.guard.release(self)
        self.reset()

    def send_400_response(self, msg: str) -> None:
        cycle: Any = self.cycle
        if cycle is not None and not cycle.response_complete:
            # The request's headers were fine and the app is answering; its body was not. The
            # app finishes into the void instead of writing into a connection h11 has closed.
            cycle.disconnected = True
            cycle.message_event.set()
            if cycle.response_started:
                self.transport.close()
                return
        try:
            super().send_400_response(msg)
        except h11.LocalProtocolError:  # a response already went out: nothing more to say
            self.transport.close()


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, listen_backlog: int) -> None:
        super().__init__(config)
        self.listen_backlog = listen_backlog

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        # asyncio listens with the number it also accepts per wakeup, which the cap keeps
        # small; the kernel's queue of finished handshakes costs no descriptor, so it can be
        # long, and a burst of connections waits there instead of being dropped.
        for sock in sockets or []:
            sock.listen(self.listen_backlog)


class HardenedServer:
    """A uvicorn server for ``app`` under ``limits``; ``run`` blocks until SIGTERM/SIGINT (or
    ``should_exit``). Logging is left to the process's one logger tree (no handlers here)."""

    def __init__(self, app: ASGIApp, limits: ServerLimits) -> None:
        self.guard = ConnectionGuard(limits)
        protocol = type("GuardedH11Protocol", (GuardedH11Protocol,), {"guard": self.guard})
        self.server = _Server(
            uvicorn.Config(
                app,
                http=protocol,
                loop="asyncio",
                lifespan="off",
                log_config=None,  # no handlers of uvicorn's own: sync.logs routes its lines
                log_level=None,
                access_log=False,  # uvicorn logs the raw path, token included; ours redacts it
                server_header=False,
                backlog=limits.accept_batch,  # asyncio's listen() and tries per wakeup
                timeout_keep_alive=limits.keep_alive,
                h11_max_incomplete_event_size=limits.max_header_bytes,
                timeout_graceful_shutdown=limits.shutdown_grace,  # else a stalled reader holds it
            ),
            limits.listen_backlog,
        )

    @property
    def started(self) -> bool:
        return self.server.started

    def stop(self) -> None:
        self.server.should_exit = True

    def run(self, sock: socket.socket) -> None:
        asyncio.run(self.serve(sock))

    async def serve(self, sock: socket.socket) -> None:
        asyncio.get_running_loop().set_exception_handler(self.guard.loop_exception)
        try:
            await self.server.serve(sockets=[sock])
        finally:
            self.guard.report.close()
