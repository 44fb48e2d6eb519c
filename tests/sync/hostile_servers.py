"""Loopback servers that misbehave the way a source on the internet can: one that accepts and
never answers, one that trickles its reply a byte a second. One thread each, however many
connections they hold, so a test can count the threads liftrun starts."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from types import TracebackType

TRICKLE = b"HTTP/1.1 200 OK\r\nContent-Type: text/calendar\r\n\r\nBEGIN:VCALENDAR\r\n" + b" " * 4096
NOT_FOUND = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


class Stalling:
    """Holds every connection open; ``trickle`` sends one byte a second of a reply that never
    ends. ``release()`` answers 404 to every held and later connection, so a client still
    waiting (a source thread left behind by a test) finishes at once."""

    def __init__(self, *, trickle: bool = False, host: str = "127.0.0.1") -> None:
        self.trickle = trickle
        self.listener = socket.create_server((host, 0))
        self.listener.settimeout(0.05)
        self.host = host
        self.port = self.listener.getsockname()[1]
        self.held: list[tuple[socket.socket, int]] = []
        self.accepted = 0
        self.released = threading.Event()
        self.closed = threading.Event()
        self.thread = threading.Thread(target=self._serve, name="stalling server", daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"

    def _serve(self) -> None:
        last_byte = time.monotonic()
        while not self.closed.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                pass
            except OSError:
                return
            else:
                self.accepted += 1
                self.held.append((conn, 0))
            if self.released.is_set():
                for conn, _ in self.held:
                    self._answer(conn)
                self.held = []
            elif self.trickle and time.monotonic() - last_byte >= 1.0:
                last_byte = time.monotonic()
                self.held = [(c, self._drip(c, sent)) for c, sent in self.held]

    @staticmethod
    def _drip(conn: socket.socket, sent: int) -> int:
        with contextlib.suppress(OSError):
            conn.send(TRICKLE[sent % len(TRICKLE) : sent % len(TRICKLE) + 1])
        return sent + 1

    @staticmethod
    def _answer(conn: socket.socket) -> None:
        with contextlib.suppress(OSError):
            conn.sendall(NOT_FOUND)
        conn.close()

    def release(self) -> None:
        self.released.set()

    def close(self) -> None:
        self.release()
        time.sleep(0.1)  # one turn of the loop answers what is held
        self.closed.set()
        self.thread.join(timeout=2)
        self.listener.close()
        for conn, _ in self.held:
            conn.close()

    def __enter__(self) -> Stalling:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
