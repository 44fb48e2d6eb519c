"""Everything between the wire and a handler: auth, faults, logging and conditional requests.

Both the plain HTTP route and each part of a batch go through :func:`dispatch`, so a fault or a
revoked token hits batched calls exactly as it hits single ones (Google also answers auth and
quota failures per part, inside a 200 batch response).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from tests.google_emulator.errors import ApiError, Json
from tests.google_emulator.faults import FaultQueue
from tests.google_emulator.handlers import ApiRequest, route
from tests.google_emulator.reqlog import LoggedRequest, RequestLog
from tests.google_emulator.store import Store


class DropConnection(Exception):
    """Raised to make the ASGI layer abort the socket instead of answering."""


@dataclass
class ApiResponse:
    status: int
    body: Json | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def content(self) -> bytes:
        return b"" if self.body is None else json.dumps(self.body, indent=1).encode()


@dataclass
class Emulator:
    """The state one emulator instance serves; tests reach it through the server handle."""

    store: Store = field(default_factory=Store)
    faults: FaultQueue = field(default_factory=FaultQueue)
    log: RequestLog = field(default_factory=RequestLog)
    required_token: str | None = None

    def check_auth(self, headers: dict[str, str]) -> None:
        if self.required_token is None:
            return
        if headers.get("authorization", "") != f"Bearer {self.required_token}":
            raise ApiError(
                401,
                "authError",
                "Invalid Credentials",
                location="Authorization",
                location_type="header",
                headers={"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'},
            )


def _error(exc: ApiError) -> ApiResponse:
    return ApiResponse(exc.code, exc.body(), dict(exc.headers))


def dispatch(emulator: Emulator, req: ApiRequest, *, in_batch: bool = False) -> ApiResponse:
    try:
        response = _answer(emulator, req, in_batch)
    except DropConnection:
        emulator.log.add(LoggedRequest(req.method, req.path, dict(req.query), in_batch, 0))
        raise
    emulator.log.add(
        LoggedRequest(req.method, req.path, dict(req.query), in_batch, response.status)
    )
    return response


def _answer(emulator: Emulator, req: ApiRequest, in_batch: bool) -> ApiResponse:
    try:
        emulator.check_auth(req.headers)
        fault = emulator.faults.take(req.method, req.path, in_batch)
        if fault is not None:
            if fault.drop:
                raise DropConnection
            raise fault.error()
        with emulator.store.lock:
            status, body = route(emulator.store, req)
    except ApiError as exc:
        return _error(exc)
    headers: dict[str, str] = {}
    etag = body.get("etag") if body else None
    if isinstance(etag, str):
        headers["ETag"] = etag
        if req.method == "GET" and req.headers.get("if-none-match", "").strip() == etag:
            return ApiResponse(304, None, headers)
    return ApiResponse(status, body, headers)
