"""The ASGI application: starlette routes for the API and batch paths, plus socket dropping.

googleapiclient builds method URLs by joining ``api_endpoint`` with the method path
(``http://127.0.0.1:PORT/calendar/v3/`` + ``calendars/primary/events``), and batch requests go
to ``<root>/batch/calendar/v3`` (the discovery ``batchPath``); ``/batch`` is accepted too since
older clients use it.  A dropped connection must look like a network failure to the client, not
like a 500, so the transport is aborted before any response bytes are sent.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from tests.google_emulator import batch
from tests.google_emulator.dispatch import ApiResponse, DropConnection, Emulator, dispatch
from tests.google_emulator.handlers import ApiRequest

_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
_TRANSPORT_KEY = "google_emulator.transport"


def _to_response(result: ApiResponse) -> Response:
    media = "application/json; charset=UTF-8" if result.body is not None else None
    return Response(result.content(), result.status, headers=result.headers, media_type=media)


def _headers(request: Request) -> dict[str, str]:
    return {k.lower(): v for k, v in request.headers.items()}


def build_app(emulator: Emulator) -> DroppingApp:
    async def api(request: Request) -> Response:
        raw_path = request.scope.get("raw_path") or request.url.path.encode()
        api_request = ApiRequest(
            method=request.method,
            path=raw_path.decode("latin-1").split("?", 1)[0],
            query=parse_qs(request.url.query, keep_blank_values=True),
            headers=_headers(request),
            body=await request.body(),
        )
        try:
            return _to_response(dispatch(emulator, api_request))
        except DropConnection:
            return await _drop(request)

    async def batch_endpoint(request: Request) -> Response:
        body = await request.body()
        headers = _headers(request)
        try:
            fault = emulator.faults.take("POST", request.url.path, in_batch=False)
            if fault is not None and fault.drop:
                raise DropConnection
            if fault is not None:
                error = fault.error()
                return _to_response(ApiResponse(error.code, error.body(), error.headers))
            result = batch.handle(emulator, headers.get("content-type", ""), body, headers)
        except DropConnection:
            return await _drop(request)
        if isinstance(result, ApiResponse):
            return _to_response(result)
        content_type, content = result
        return Response(content, 200, headers={"Content-Type": content_type})

    routes = [
        Route("/batch/calendar/v3", batch_endpoint, methods=["POST"]),
        Route("/batch", batch_endpoint, methods=["POST"]),
        Route("/{rest:path}", api, methods=_METHODS),
    ]
    return DroppingApp(Starlette(routes=routes))


class DroppingApp:
    """Outermost ASGI wrapper: exposes the connection's transport so a handler can abort it.

    Starlette's error middleware would turn an exception into a 500, so dropping cannot be done
    by raising; instead the handler aborts the transport itself (see :func:`_drop`).
    """

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # uvicorn hands the app its per-request cycle's bound ``send``; the cycle owns the
        # transport of this connection.
        cycle = getattr(send, "__self__", None)
        scope = {**scope, _TRANSPORT_KEY: getattr(cycle, "transport", None)}
        await self.inner(scope, receive, send)


async def _drop(request: Request) -> Response:
    """Abort the TCP connection: the client sees a reset with no status line, never a 500."""
    transport = request.scope.get(_TRANSPORT_KEY)
    if transport is None:
        raise RuntimeError("cannot drop a connection outside uvicorn")
    transport.abort()
    for _ in range(3):  # let connection_lost mark the cycle disconnected so nothing is sent
        await asyncio.sleep(0)
    return Response(b"", 500)
