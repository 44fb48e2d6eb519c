"""An HTTP server run on a daemon thread for a test, as a context manager.

The CalDAV proxy and the scripted hostile servers both need the same start, stop and ``with``
handling; a subclass sets ``_server`` in its ``__init__`` and names its thread. liftrun's own
server (``adapters.hardened_server``, the feed and the page) runs the same way through
:func:`hardened_on_thread`.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import HTTPServer
from types import TracebackType
from typing import TYPE_CHECKING, Self

if TYPE_CHECKING:
    from adapters.hardened_server import HardenedServer


class BackgroundServer:
    _server: HTTPServer
    _thread: threading.Thread | None = None

    def _thread_name(self) -> str:
        return type(self).__name__

    def start(self) -> Self:
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=self._thread_name(),
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


@contextmanager
def hardened_on_thread(server: HardenedServer, sock: socket.socket) -> Iterator[None]:
    """``server`` answering on ``sock`` from a daemon thread until the block ends (the socket
    is closed then too); it has started when the block begins."""
    thread = threading.Thread(target=server.run, args=(sock,), daemon=True)
    thread.start()
    deadline = time.monotonic() + 5
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.01)
    try:
        yield
    finally:
        server.stop()
        thread.join(5)
        sock.close()
