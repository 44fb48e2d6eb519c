"""The Google Calendar v3 connection shared by the Google target and busy source.

The real ``googleapiclient`` builds and serialises every request (so what reaches Google is what
its discovery document says), but it is driven from here rather than through its own
``execute(num_retries=...)``, for the reasons the sync engine depends on:

* **Request counts.** Every HTTP exchange this module starts is counted in ``requests_made`` (a
  batch of up to 50 calls is one), so tests and benchmarks can hold a quiet cycle to its budget.
* **Batches.** ``new_batch_http_request()`` ignores ``api_endpoint`` and would send a batch to
  www.googleapis.com; :meth:`GoogleClient.batch` derives the batch URI from the endpoint. Google
  answers rate limits and 5xx *per call* inside a 200 batch, so only the failed calls are sent
  again, in a smaller batch.
* **Failures.** One retry policy (tenacity: exponential back-off with jitter, ``Retry-After``
  honoured up to ``RETRY_AFTER_CAP``) for 429, 5xx, 403 ``rateLimitExceeded`` /
  ``userRateLimitExceeded`` / ``quotaExceeded`` and dropped connections; no retry for any other
  4xx, which another attempt cannot fix. Refused credentials (401, ``invalid_grant``) become one
  message that tells the athlete what to do, with no token and no traceback.

Retrying a write is safe because every write liftrun makes is either conditional (``If-Match``
on patch and delete: a retry of a call that did reach Google fails with 412 / 410) or names its
own id (an insert retried after a lost answer gets 409, which the target resolves by reading
the event). ``calendars.insert`` is the exception: the target looks the calendar up by name
before it tries again.
"""

from __future__ import annotations

import http.client
import json
import logging
import ssl
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import google_auth_httplib2  # type: ignore[import-untyped]
import httplib2  # type: ignore[import-untyped]
from google.auth.credentials import Credentials
from google.auth.exceptions import GoogleAuthError, RefreshError, TransportError
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError
from googleapiclient.http import BatchHttpRequest
from tenacity import Retrying

from adapters.google.auth import require_loopback_for_no_auth
from adapters.protocol import AdapterError, AuthFailed, Unreachable
from adapters.retrying import Transient, retry_after_seconds, retrying

__all__ = [
    "DEFAULT_ENDPOINT",
    "MAX_ATTEMPTS",
    "MAX_BATCH",
    "RETRY_AFTER_CAP",
    "ApiFailure",
    "GoogleClient",
    "Json",
    "batch_uri_for",
]

log = logging.getLogger(__name__)

Json = dict[str, Any]
DEFAULT_ENDPOINT = "https://www.googleapis.com/calendar/v3/"
MAX_ATTEMPTS = 5
MAX_BATCH = 50  # Google refuses a whole batch of more calls than this
RETRY_AFTER_CAP = 60.0  # seconds; a sync run waits no longer than this for one rate limit
RELOGIN = "Google refused the credentials: run `liftrun auth google` again"
_RATE_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded"})
_TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (
    OSError,  # ConnectionError, timeouts, a reset mid-response
    http.client.HTTPException,
    httplib2.HttpLib2Error,
    TransportError,  # the token endpoint could not be reached during a refresh
)
_FAILURES: tuple[type[BaseException], ...] = (GoogleAuthError, *_TRANSPORT_ERRORS)


def batch_uri_for(api_endpoint: str) -> str:
    """``scheme://host/batch/calendar/v3``: the discovery ``batchPath`` on the endpoint's root."""
    parts = urlsplit(api_endpoint)
    return urlunsplit((parts.scheme, parts.netloc, "/batch/calendar/v3", "", ""))


# --------------------------------------------------------------------------------------------
# Errors


class ApiFailure(AdapterError):
    """A call Google answered with an error no retry will fix; the caller maps ``status`` and
    ``reason`` (404, 409 duplicate, 410 deleted, 412 conditionNotMet) to the protocol's errors."""

    def __init__(self, message: str, status: int, reason: str) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class _Error:
    status: int
    reason: str
    message: str
    retry_after: float | None

    @property
    def transient(self) -> bool:
        return (
            self.status in (429, 408)
            or self.status >= 500
            or (self.status == 403 and self.reason in _RATE_REASONS)
        )


def _retry_after(value: str | None) -> float | None:
    return retry_after_seconds(value, RETRY_AFTER_CAP)


def _error_of(exc: HttpError) -> _Error:
    """Status, first ``errors[].reason`` and message out of Google's error envelope."""
    status = int(getattr(exc, "status_code", 0) or getattr(exc.resp, "status", 0) or 0)
    reason, message = "", ""
    try:
        body = json.loads(exc.content)
        error = body.get("error", {}) if isinstance(body, dict) else {}
        if isinstance(error, dict):
            message = str(error.get("message") or "")
            errors = error.get("errors") or []
            if errors and isinstance(errors[0], dict):
                reason = str(errors[0].get("reason") or "")
            if not reason and isinstance(error.get("status"), str):
                reason = str(error["status"])
    except (TypeError, ValueError):
        pass
    header = exc.resp.get("retry-after") if exc.resp is not None else None
    return _Error(status, reason, message or f"HTTP {status}", _retry_after(header))


# --------------------------------------------------------------------------------------------
# The client


class GoogleClient:
    """One Google account (or the emulator) for one target or source.

    ``credentials`` None sends no Authorization header; that is only allowed for a loopback
    ``api_endpoint`` (the emulator), never for Google. ``label`` names the calendar in every
    message. ``retry_wait`` gives the back-off in seconds after attempt *n* (``Retry-After``
    wins over it); ``sleep`` is how waiting happens, so tests record waits instead of spending
    them.
    """

    def __init__(
        self,
        *,
        api_endpoint: str | None = None,
        credentials: Credentials | None = None,
        label: str = "Google Calendar",
        timeout: float = 20.0,
        retry_wait: Callable[[int], float] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        http: Any = None,
    ) -> None:
        endpoint = api_endpoint or DEFAULT_ENDPOINT
        if credentials is None:
            require_loopback_for_no_auth(endpoint)
        self.api_endpoint = endpoint
        self.batch_uri = batch_uri_for(endpoint)
        self.host = urlsplit(endpoint).netloc
        self.label = label
        self.credentials = credentials
        self._retry_wait = retry_wait
        self._sleep = sleep
        self._retrying = self.policy(MAX_ATTEMPTS)
        if http is None:
            http = httplib2.Http(timeout=timeout)
            if credentials is not None:
                http = google_auth_httplib2.AuthorizedHttp(credentials, http=http)
        self._http = http
        self.service: Any = build(
            "calendar",
            "v3",
            http=http,
            static_discovery=True,
            cache_discovery=False,
            client_options={"api_endpoint": endpoint},
        )
        self.requests_made = 0

    def __repr__(self) -> str:
        return f"GoogleClient({self.label!r}, {self.host!r})"  # never a token

    # ----------------------------------------------------------------------------------------
    # Single calls

    def call(self, request: Any, what: str, *, retry: bool = True) -> Json:
        """Execute one request (retried unless ``retry`` is False); an error answer that no
        retry fixes raises :class:`ApiFailure`, refused credentials :class:`AuthFailed`."""
        try:
            if not retry:
                return self._once(request, what)
            result: Json = self._retrying(self._once, request, what)
            return result
        except Transient as exc:
            raise Unreachable(
                f"{self.label}: {exc.reason} ({what}; gave up after {MAX_ATTEMPTS} attempts)"
            ) from None

    def _once(self, request: Any, what: str) -> Json:
        self.requests_made += 1
        try:
            answer = request.execute(num_retries=0)
        except HttpError as exc:
            raise self._judge(_error_of(exc), what) from None
        except _FAILURES as exc:
            raise self._transport(exc) from None
        return answer if isinstance(answer, dict) else {}

    def pages(self, request: Any, collection: Any, what: str) -> Iterator[Json]:
        """Every page of a list call, following ``nextPageToken``; each page is one request."""
        while request is not None:
            page = self.call(request, what)
            yield page
            request = collection.list_next(request, page)

    # ----------------------------------------------------------------------------------------
    # Batches

    def batch(self, requests: Sequence[Any], what: str) -> list[Json | ApiFailure]:
        """Run ``requests`` in batches of at most ``MAX_BATCH``; the answer (or the failure) of
        each, in order. Calls that fail transiently are sent again (only they) with back-off;
        when some still fail after ``MAX_ATTEMPTS``, :class:`Unreachable` is raised."""
        results: list[Json | ApiFailure] = []
        for start in range(0, len(requests), MAX_BATCH):
            chunk = list(requests[start : start + MAX_BATCH])
            done: dict[int, Json | ApiFailure] = {}
            try:
                self._retrying(self._batch_once, chunk, done, what)
            except Transient as exc:
                raise Unreachable(
                    f"{self.label}: {exc.reason} ({what}; gave up after {MAX_ATTEMPTS} attempts)"
                ) from None
            results.extend(done[i] for i in range(len(chunk)))
        return results

    def _batch_once(self, chunk: list[Any], done: dict[int, Json | ApiFailure], what: str) -> None:
        pending = [i for i in range(len(chunk)) if i not in done]
        failed: dict[int, _Error] = {}
        refused: list[_Error] = []

        def answer(request_id: str, response: Any, exception: Exception | None) -> None:
            index = int(request_id)
            if exception is None:
                done[index] = response if isinstance(response, dict) else {}
            elif isinstance(exception, HttpError):
                error = _error_of(exception)
                if error.transient:
                    failed[index] = error
                elif error.status == 401:
                    refused.append(error)
                else:
                    done[index] = ApiFailure(self._message(error, what), error.status, error.reason)
            else:
                raise exception

        batch = BatchHttpRequest(callback=answer, batch_uri=self.batch_uri)
        for index in pending:
            batch.add(chunk[index], request_id=str(index))
        self.requests_made += 1
        try:
            batch.execute()
        except HttpError as exc:  # the batch as a whole was refused
            raise self._judge(_error_of(exc), f"{what} (batch)") from None
        except _FAILURES as exc:
            raise self._transport(exc) from None
        if refused:
            self.requests_made += 1  # the client refreshed and re-sent the 401 calls once
            raise AuthFailed(f"{self.label}: {RELOGIN}")
        if failed:
            first = next(iter(failed.values()))
            waits = [e.retry_after for e in failed.values() if e.retry_after is not None]
            raise Transient(
                f"{len(failed)} of {len(chunk)} calls failed, e.g. HTTP {first.status} "
                f"{first.reason} from {self.host}",
                max(waits) if waits else None,
            )

    # ----------------------------------------------------------------------------------------
    # Judging failures

    def _judge(self, error: _Error, what: str) -> Exception:
        if error.transient:
            return Transient(
                f"HTTP {error.status} {error.reason} from {self.host}".rstrip(), error.retry_after
            )
        if error.status == 401:
            return AuthFailed(f"{self.label}: {RELOGIN}")
        if error.status == 403:
            return ApiFailure(
                f"{self.label}: Google refused {what} (HTTP 403 {error.reason}: {error.message}); "
                "check that the account may use this calendar, or run `liftrun auth google` "
                "again to grant the calendar permissions",
                error.status,
                error.reason,
            )
        return ApiFailure(self._message(error, what), error.status, error.reason)

    def _message(self, error: _Error, what: str) -> str:
        return (
            f"{self.label}: {what} failed with HTTP {error.status} {error.reason}: {error.message}"
        )

    def _transport(self, exc: BaseException) -> Exception:
        if isinstance(exc, ssl.SSLCertVerificationError):
            return AdapterError(
                f"{self.label}: TLS verification failed for {self.host}: check the system's "
                "certificates or the api_endpoint"
            )
        if isinstance(exc, RefreshError):
            if getattr(exc, "retryable", False):
                return Transient(f"refreshing the access token failed ({type(exc).__name__})")
            return AuthFailed(f"{self.label}: {RELOGIN}")
        if isinstance(exc, GoogleAuthError) and not isinstance(exc, TransportError):
            return AuthFailed(f"{self.label}: {RELOGIN}")
        return Transient(f"cannot reach {self.host}: {type(exc).__name__}")

    def policy(self, attempts: int) -> Retrying:
        """This client's retry policy (its back-off, its waits, its log lines) for a caller
        that retries a step of its own, such as the target's look-then-insert of a calendar:
        a ``Transient`` raised by the step is tried again, up to ``attempts`` in all."""
        return retrying(
            attempts=attempts,
            max_backoff=32,
            retry_wait=self._retry_wait,
            sleep=self._sleep,
            label=self.label,
            log=log,
        )
