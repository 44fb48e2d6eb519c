"""The ``multipart/mixed`` batch endpoint (``POST /batch/calendar/v3``).

Each part is an ``application/http`` message holding one request line, headers and body; the
answer mirrors it part for part with ``Content-ID: <response-ID>`` so ``BatchHttpRequest`` can
match responses to callbacks.  googleapiclient writes parts with bare LF line endings and reads
the inner response by splitting on CRLF CRLF, so we accept either and always answer with CRLF,
as Google does.  Google caps a batch at 50 calls and refuses the whole batch beyond that.
"""

from __future__ import annotations

import re
import secrets
from email.message import Message
from email.parser import BytesParser
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

from tests.google_emulator.dispatch import ApiResponse, Emulator, dispatch
from tests.google_emulator.errors import ApiError, bad_request
from tests.google_emulator.handlers import ApiRequest

MAX_CALLS = 50
_BLANK = re.compile(rb"\r?\n\r?\n")


def _parse_headers(block: bytes) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in block.decode("utf-8").splitlines():
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return headers


def _inner_request(part: Message, outer_headers: dict[str, str]) -> ApiRequest:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        raise bad_request("Failed to parse batch request.", "badRequest")
    request_line, _, rest = payload.lstrip().partition(b"\n")
    pieces = request_line.decode("utf-8").strip().split(" ")
    if len(pieces) < 2:
        raise bad_request("Failed to parse batch request.", "badRequest")
    split = _BLANK.split(rest, maxsplit=1)
    head, body = split[0], split[1] if len(split) > 1 else b""
    headers = _parse_headers(head)
    if "authorization" not in headers and "authorization" in outer_headers:
        headers["authorization"] = outer_headers["authorization"]
    if "content-length" in headers and headers["content-length"].isdigit():
        body = body[: int(headers["content-length"])]
    url = urlsplit(pieces[1])
    return ApiRequest(
        method=pieces[0].upper(),
        path=url.path,
        query=parse_qs(url.query, keep_blank_values=True),
        headers=headers,
        body=body,
    )


def parse(content_type: str, body: bytes) -> list[tuple[str, Message]]:
    parser = BytesParser()
    message = parser.parsebytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body)
    if not message.is_multipart():
        raise bad_request("Failed to parse batch request.", "badRequest")
    parts = message.get_payload()
    assert isinstance(parts, list)
    return [(str(p.get("Content-ID", "")), p) for p in parts if isinstance(p, Message)]


def _render_part(content_id: str, response: ApiResponse) -> bytes:
    try:
        reason = HTTPStatus(response.status).phrase
    except ValueError:
        reason = ""
    content = response.content()
    lines = [f"HTTP/1.1 {response.status} {reason}"]
    if response.body is not None:
        lines.append("Content-Type: application/json; charset=UTF-8")
    lines.extend(f"{k}: {v}" for k, v in response.headers.items())
    lines.append(f"Content-Length: {len(content)}")
    inner = ("\r\n".join(lines) + "\r\n\r\n").encode() + content
    cid = content_id.strip()
    cid = cid[1:-1] if cid.startswith("<") and cid.endswith(">") else cid
    head = f"Content-Type: application/http\r\nContent-ID: <response-{cid}>\r\n\r\n"
    return head.encode() + inner


def handle(
    emulator: Emulator, content_type: str, body: bytes, headers: dict[str, str]
) -> ApiResponse | tuple[str, bytes]:
    """Answer a batch: an ApiResponse for a whole-batch failure, else (content type, body)."""
    try:
        if "multipart/mixed" not in content_type:
            raise bad_request(
                "Content-Type must be multipart/mixed for batch requests.", "badRequest"
            )
        parts = parse(content_type, body)
        if len(parts) > MAX_CALLS:
            raise bad_request(
                f"Too many requests in batch: {len(parts)}, the limit is {MAX_CALLS}.", "badRequest"
            )
    except ApiError as exc:
        return ApiResponse(exc.code, exc.body(), dict(exc.headers))
    boundary = "batch_" + secrets.token_hex(12)
    out = b""
    for content_id, part in parts:
        try:
            inner = _inner_request(part, headers)
        except ApiError as exc:
            result = ApiResponse(exc.code, exc.body())
        else:
            result = dispatch(emulator, inner, in_batch=True)
        out += f"--{boundary}\r\n".encode() + _render_part(content_id, result) + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return f"multipart/mixed; boundary={boundary}", out
