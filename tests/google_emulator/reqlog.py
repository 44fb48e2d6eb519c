"""A record of every request the emulator saw, so tests can assert how many calls a sync made."""

from __future__ import annotations

import threading
from dataclasses import dataclass


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    in_batch: bool
    status: int


class RequestLog:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[LoggedRequest] = []

    def add(self, entry: LoggedRequest) -> None:
        with self._lock:
            self._entries.append(entry)

    @property
    def entries(self) -> list[LoggedRequest]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def count(
        self,
        method: str | None = None,
        path_contains: str | None = None,
        in_batch: bool | None = None,
    ) -> int:
        return sum(
            1
            for e in self.entries
            if (method is None or e.method == method.upper())
            and (path_contains is None or path_contains in e.path)
            and (in_batch is None or e.in_batch == in_batch)
        )
