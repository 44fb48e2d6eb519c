"""Google's error envelope, so client code that parses ``HttpError.content`` sees what Google sends.

Google answers every failure with the same JSON shape; ``googleapiclient.errors.HttpError`` reads
``error.message`` and ``error.errors[*].reason``, and retry logic keys off ``reason``.  Keeping the
shape in one place means every handler (and the fault injector) fails the same way.
"""

from __future__ import annotations

from typing import Any

Json = dict[str, Any]

# Canonical gRPC-style status Google adds next to the HTTP code.  410 and 304 have no canonical
# counterpart, so Google omits the field there and so do we.
_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ALREADY_EXISTS",
    412: "FAILED_PRECONDITION",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


class ApiError(Exception):
    """Raised anywhere inside a handler; the dispatcher turns it into Google's error JSON."""

    def __init__(
        self,
        code: int,
        reason: str,
        message: str,
        *,
        domain: str = "global",
        location: str | None = None,
        location_type: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.domain = domain
        self.location = location
        self.location_type = location_type
        self.headers = headers or {}

    def body(self) -> Json:
        return error_body(
            self.code,
            self.reason,
            self.message,
            domain=self.domain,
            location=self.location,
            location_type=self.location_type,
        )


def error_body(
    code: int,
    reason: str,
    message: str,
    *,
    domain: str = "global",
    location: str | None = None,
    location_type: str | None = None,
) -> Json:
    item: Json = {"domain": domain, "reason": reason, "message": message}
    if location is not None:
        item["locationType"] = location_type or "parameter"
        item["location"] = location
    error: Json = {"errors": [item], "code": code, "message": message}
    if code in _STATUS:
        error["status"] = _STATUS[code]
    return {"error": error}


def bad_request(message: str, reason: str = "invalid", location: str | None = None) -> ApiError:
    return ApiError(400, reason, message, location=location)


def not_found() -> ApiError:
    return ApiError(404, "notFound", "Not Found")


def required(message: str, location: str | None = None) -> ApiError:
    return ApiError(400, "required", message, location=location)
