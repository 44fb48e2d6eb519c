"""Scripted failures, so retry and back-off code is tested against the answers Google really gives.

A test queues :class:`Fault` objects; each incoming request (and each part of a batch, unless the
fault says otherwise) takes the first queued fault whose method and path pattern match, and the
fault answers instead of the API.  ``times`` lets one fault cover several requests.

Note on ``drop``: httplib2 silently retries once on a connection that closes before a status
line, so a client sees the connection error only after two consecutive drops (``times=2``).
A drop that matches a batch part drops the whole batch connection, as a part cannot be dropped.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Literal

from tests.google_emulator.errors import ApiError

Target = Literal["any", "request", "batch_part"]

_REASON_TEXT = {
    "rateLimitExceeded": "Rate Limit Exceeded",
    "userRateLimitExceeded": "User Rate Limit Exceeded",
    "quotaExceeded": "Calendar usage limits exceeded.",
    "backendError": "Backend Error",
    "internalError": "Internal Error",
}


@dataclass
class Fault:
    """One scripted answer; ``status`` 0 with ``drop`` means close the socket without a reply."""

    status: int = 503
    reason: str = "backendError"
    domain: str = "global"
    message: str | None = None
    retry_after: int | None = None
    drop: bool = False
    method: str | None = None
    path: str | None = None
    target: Target = "any"
    times: int = 1

    def matches(self, method: str, path: str, in_batch: bool) -> bool:
        if self.target == "request" and in_batch:
            return False
        if self.target == "batch_part" and not in_batch:
            return False
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return self.path is None or re.search(self.path, path) is not None

    def error(self) -> ApiError:
        headers = {"Retry-After": str(self.retry_after)} if self.retry_after is not None else {}
        text = self.message or _REASON_TEXT.get(self.reason, self.reason)
        return ApiError(self.status, self.reason, text, domain=self.domain, headers=headers)


class FaultQueue:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    @property
    def pending(self) -> int:
        with self._lock:
            return sum(f.times for f in self._faults)

    def take(self, method: str, path: str, in_batch: bool) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path, in_batch):
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    # -- the faults Google actually produces ----------------------------------------------------
    def too_many_requests(
        self,
        times: int = 1,
        retry_after: int = 1,
        method: str | None = None,
        path: str | None = None,
        target: Target = "any",
    ) -> Fault:
        """429 as sent when the per-user quota is exhausted, with a Retry-After hint."""
        return self.add(
            Fault(
                429,
                "rateLimitExceeded",
                "usageLimits",
                retry_after=retry_after,
                times=times,
                method=method,
                path=path,
                target=target,
            )
        )

    def rate_limited_403(
        self,
        reason: str = "rateLimitExceeded",
        times: int = 1,
        method: str | None = None,
        path: str | None = None,
        target: Target = "any",
    ) -> Fault:
        """403 with a usageLimits reason: Google's other way of saying 'slow down'."""
        return self.add(
            Fault(403, reason, "usageLimits", times=times, method=method, path=path, target=target)
        )

    def server_error(
        self,
        status: int = 503,
        times: int = 1,
        method: str | None = None,
        path: str | None = None,
        target: Target = "any",
    ) -> Fault:
        reason = "backendError" if status == 503 else "internalError"
        return self.add(Fault(status, reason, times=times, method=method, path=path, target=target))

    def drop_connection(
        self,
        times: int = 2,
        method: str | None = None,
        path: str | None = None,
        target: Target = "any",
    ) -> Fault:
        return self.add(
            Fault(0, "dropped", drop=True, times=times, method=method, path=path, target=target)
        )
