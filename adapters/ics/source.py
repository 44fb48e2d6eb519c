"""Busy time from an ICS source: a subscribed calendar URL or a local ``.ics`` file.

A source that cannot be read must never look like a free week, so every failure (network,
HTTP error, oversize body, a login page instead of iCalendar) falls back to the last copy that
did parse, and says so (``SourceRead.fresh=False`` plus the reason). Without such a copy the
read fails with :class:`~adapters.protocol.SourceUnavailable` and the planner places nothing
on guesswork.

The "secret iCal address" of Google Calendar, iCloud and Outlook is a capability URL: whoever
has it can read the calendar. So the location is kept private to this object; everything that
leaves it (``name``, error messages, warnings, log lines, ``repr``) shows only
``scheme://host/…/<last segment>``, with a token-like last segment shortened too.

A whole read has one time budget (``deadline_seconds``): every attempt, back-off and
``Retry-After`` wait, and the parsing and expansion of what arrived end by it. Downloading may use
three quarters of it, so a body that arrives late can still be parsed; an attempt or a wait that
cannot end in time is not started. Inside an attempt every network operation (connect, TLS, each
read) is cut to the time left, so a server trickling bytes, in the headers or the body, is left
at the deadline rather than when it stops sending. Bodies are capped in bytes: ``Content-Length``
up front, the streamed body, and a ``gzip``/``deflate`` body as it is decompressed (a compression
bomb stops at the cap). At most three attempts, retried only when a retry can help (5xx, 429,
timeouts, broken connections); redirects from https to plain http are refused. Local files must
be regular files (a FIFO or a device is refused at once). The last good body and its validators
are kept in the source's :class:`~adapters.cache.Cache`, so unchanged calendars cost a 304.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import httpx
from tenacity import RetryCallState

from adapters.bounded_http import (
    ACCEPT_ENCODING,
    BodyRefused,
    CappedBody,
    Deadline,
    IncompleteBody,
    deadline_transport,
)
from adapters.cache import Cache, Namespace
from adapters.ical.busy import IcsParseError, read_busy
from adapters.ics.busy_cache import AHEAD, ParsedBusyCache, narrow
from adapters.locations import display_name, fetch_url, file_path, hide_urls
from adapters.protocol import BusyRead, SourceRead, SourceUnavailable, fell_back, saved_instant
from adapters.retrying import Transient, retry_after_seconds, retrying
from config.files import FileRefused, read_regular_file

__all__ = [
    "MAX_ATTEMPTS",
    "MAX_REDIRECTS",
    "RETRY_AFTER_CAP",
    "IcsSource",
]

log = logging.getLogger(__name__)

USER_AGENT = "liftrun/0.1 (busy-time reader)"
MAX_REDIRECTS = 5
MAX_ATTEMPTS = 3
RETRY_AFTER_CAP = 30.0  # seconds; a sync run waits no longer than this for a rate limit
# An attempt may take this many times ``timeout`` in total, and a whole read (all attempts,
# waits and parsing) by default the same: httpx's timeout is per operation (connect, each read),
# so without a deadline a server sending a byte every few seconds could hold a read for hours.
_DEADLINE_FACTOR = 3
_MIN_SCRUBBED_PATH = 8  # shorter paths ("/", "/a.ics") are no secret and too common to replace
_DOWNLOAD_SHARE = 0.75  # of the budget; the rest is kept for parsing what arrived
_MIN_ATTEMPT = 1.0  # seconds; an attempt with less time than this (or ``timeout``) is not begun
# The last good copy is two entries, so that new validators for the same body do not rewrite a
# body of up to ``max_bytes``; the validators name the body they belong to by its SHA-256.
BODY = Namespace("ics-body", version=1)
VALIDATORS = Namespace("ics-validators", version=1)


class _HideUrlsInLog(logging.Filter):
    """httpx logs every request with its full URL at INFO level; for a subscribed calendar that
    line would be the secret address, in whatever log the application keeps."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "://" in message:
            record.msg = hide_urls(message)
            record.args = None
        return True


def _install_log_filter(logger: logging.Logger) -> None:
    if not any(isinstance(f, _HideUrlsInLog) for f in logger.filters):
        logger.addFilter(_HideUrlsInLog())


_install_log_filter(logging.getLogger("httpx"))


# --------------------------------------------------------------------------------------------
# Failures


class _FetchError(Exception):
    """A failed load; ``reason`` is short, names no URL, and is what the person gets to see."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _Transient(Transient, _FetchError):
    """A failed load another attempt may fix (shown like any other failed load)."""


class _OutOfTime(_Transient):
    """The attempt reached its deadline; retried only if the budget has room for another."""


def _retry_after(value: str | None) -> float | None:
    return retry_after_seconds(value, RETRY_AFTER_CAP)


def _attempts(n: int) -> str:
    return f"{n} attempt{'s' if n != 1 else ''}"


# --------------------------------------------------------------------------------------------
# Cache


@dataclass(frozen=True)
class _Loaded:
    """What one load produced; ``data`` is None when the server said 304 Not Modified."""

    data: bytes | None
    etag: str | None = None
    last_modified: str | None = None
    content_type: str | None = None


@dataclass(frozen=True)
class _Cached:
    body: bytes
    etag: str | None
    last_modified: str | None
    saved_at: datetime | None = None  # when this body was kept, if its validators say


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --------------------------------------------------------------------------------------------
# The source


class IcsSource:
    """One ``busy_from`` entry of an ``[[calendars]]`` ICS calendar, as a ``BusySource``.

    ``deadline_seconds`` is the time one :meth:`read_busy` may take in all (default: three
    times ``timeout``, the per-operation network timeout). ``retry_wait`` gives the back-off in
    seconds after attempt *n* (default: exponential with jitter); a server's ``Retry-After``
    takes precedence over it. ``sleep`` is how waiting happens, so tests can record the waits
    instead of spending them. ``cache`` keeps the last good copy and the parsed busy time (a
    dry run's reads it but writes nothing).
    """

    name: str

    def __init__(
        self,
        location: str,
        *,
        cache: Cache,
        tz: ZoneInfo,
        timeout: float = 20.0,
        deadline_seconds: float | None = None,
        max_bytes: int = 20 * 1024 * 1024,
        client: httpx.Client | None = None,
        retry_wait: Callable[[int], float] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.name = display_name(location)
        self._location = location
        self._path = file_path(location)
        self._url = None if self._path is not None else fetch_url(location)
        self._cache = cache
        self._parsed = ParsedBusyCache(self._cache, location, tz)
        self._tz = tz
        self._timeout = timeout
        self._budget = _DEADLINE_FACTOR * timeout if deadline_seconds is None else deadline_seconds
        if not self._budget > 0:
            raise ValueError(f"{self.name}: deadline_seconds must be positive")
        self._max_bytes = max_bytes
        self._client = client
        self._retrying = retrying(
            attempts=MAX_ATTEMPTS,
            max_backoff=10,
            retry_wait=retry_wait,
            sleep=sleep,
            label=self.name,
            log=log,
        )

    def __repr__(self) -> str:
        return f"IcsSource({self.name!r})"  # never the location: it may be a capability URL

    def read_busy(self, start: datetime, end: datetime) -> SourceRead:
        """Busy time overlapping ``[start, end)``, from the source or else its last good copy,
        within ``deadline_seconds`` of the call.

        Raises:
            SourceUnavailable: the source failed and there is no readable last good copy.
            ValueError: ``start``/``end`` are naive or out of order (a programming error).
        """
        if start.tzinfo is None or end.tzinfo is None or end <= start:
            raise ValueError("read_busy needs an aware window with start < end")
        until = time.monotonic() + self._budget
        cached = self._load_cache()
        try:
            loaded = self._read_file() if self._path is not None else self._download(cached, until)
            if loaded.data is None:  # 304: the cached body is current
                assert cached is not None  # validators are only sent with a cached body
                body = cached.body
            else:
                body = loaded.data
            busy = self._parse(body, start, end, until, loaded.content_type)
        except _FetchError as exc:
            return self._fall_back(exc.reason, cached, start, end, until)
        return SourceRead(self.name, self._remember(body, loaded, cached, busy))

    # ----------------------------------------------------------------------------------------
    # Loading

    def _read_file(self) -> _Loaded:
        assert self._path is not None
        try:
            return _Loaded(read_regular_file(self._path, self._max_bytes))
        except FileRefused as exc:
            raise _FetchError(f"cannot read the file: {exc.reason}") from None

    def _download(self, cached: _Cached | None, until: float) -> _Loaded:
        headers = {"User-Agent": USER_AGENT, "Accept-Encoding": ACCEPT_ENCODING}
        if cached is not None and cached.etag:
            headers["If-None-Match"] = cached.etag
        if cached is not None and cached.last_modified:
            headers["If-Modified-Since"] = cached.last_modified
        download_until = until - self._budget * (1 - _DOWNLOAD_SHARE)
        min_attempt = min(self._timeout, _MIN_ATTEMPT)
        deadline = Deadline()
        attempts = 0
        out_of_time = False

        def attempt(client: httpx.Client) -> _Loaded:
            nonlocal attempts
            attempts += 1
            cap = time.monotonic() + self._timeout * _DEADLINE_FACTOR
            deadline.until = min(cap, download_until)
            return self._attempt(client, headers, cached, deadline, deadline.until == cap)

        def stop(state: RetryCallState) -> bool:
            nonlocal out_of_time
            if state.attempt_number >= MAX_ATTEMPTS:
                return True
            next_start = time.monotonic() + state.upcoming_sleep
            out_of_time = download_until - next_start < min_attempt
            return out_of_time

        try:
            with self._client_scope(deadline) as client:
                loaded: _Loaded = self._retrying.copy(stop=stop)(attempt, client)
                return loaded
        except _Transient as exc:
            if out_of_time and not isinstance(exc, _OutOfTime):
                suffix = f" ({_attempts(attempts)}; another would not fit in {self._budget:g} s)"
            else:
                suffix = f" ({attempts} attempts)" if attempts > 1 else ""
            raise _FetchError(exc.reason + suffix) from None

    @contextlib.contextmanager
    def _client_scope(self, deadline: Deadline) -> Iterator[httpx.Client]:
        if self._client is not None:
            yield self._client
            return
        assert self._url is not None
        try:
            transport = deadline_transport(self._url, deadline)
        except ValueError as exc:
            raise _FetchError(str(exc)) from None
        with httpx.Client(
            transport=transport,
            headers={"User-Agent": USER_AGENT},
            timeout=self._timeout,
        ) as client:
            yield client

    def _attempt(
        self,
        client: httpx.Client,
        headers: dict[str, str],
        cached: _Cached | None,
        deadline: Deadline,
        own_cap: bool,
    ) -> _Loaded:
        try:
            with self._open(client, headers, deadline) as response:
                return self._receive(response, cached, deadline)
        except (httpx.TimeoutException, _OutOfTime):
            if deadline.left() > 0.05:  # an operation's own timeout, not the deadline
                raise _Transient(f"timed out after {self._timeout:g} s") from None
            if own_cap:
                raise _OutOfTime(
                    f"took longer than {self._timeout * _DEADLINE_FACTOR:g} s"
                ) from None
            raise _OutOfTime(
                f"not downloaded within the {self._budget:g} s this source may take"
            ) from None
        except (httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            detail = self._scrub(str(exc)) or exc.__class__.__name__
            raise _Transient(f"connection failed: {detail}") from None
        except httpx.HTTPError as exc:  # invalid URL, unsupported protocol, ...
            detail = self._scrub(str(exc))
            raise _FetchError(f"request failed: {exc.__class__.__name__}: {detail}") from None

    @contextlib.contextmanager
    def _open(
        self, client: httpx.Client, headers: dict[str, str], deadline: Deadline
    ) -> Iterator[httpx.Response]:
        """The response at the end of the redirects, its body not yet read.

        Redirects are followed here rather than by httpx so that each hop is checked before it
        is requested (no downgrade to plain http, no other scheme) and gets only the time left.
        """
        assert self._url is not None
        request = client.build_request(
            "GET", self._url, headers=headers, timeout=self._hop_timeout(deadline)
        )
        for _ in range(MAX_REDIRECTS + 1):
            response = client.send(request, stream=True, follow_redirects=False)
            hop = response.next_request
            if hop is None:
                try:
                    yield response
                finally:
                    response.close()
                return
            response.close()
            self._check_redirect(request.url, hop.url)
            hop.extensions["timeout"] = self._hop_timeout(deadline).as_dict()
            request = hop
        raise _FetchError("too many redirects")

    def _hop_timeout(self, deadline: Deadline) -> httpx.Timeout:
        """The per-operation timeout for the next request, never past the deadline (which the
        source's own transport enforces on every operation; an injected client gets this)."""
        left = deadline.left()
        if left <= 0:
            raise _OutOfTime("deadline passed")
        return httpx.Timeout(min(self._timeout, left))

    @staticmethod
    def _check_redirect(origin: httpx.URL, target: httpx.URL) -> None:
        if target.scheme not in ("http", "https"):
            raise _FetchError(f"refused a redirect to a {target.scheme}:// address")
        if origin.scheme == "https" and target.scheme == "http":
            raise _FetchError(
                f"refused a redirect from https to plain http ({display_name(str(origin))} -> "
                f"{display_name(str(target))}): the calendar would travel unencrypted"
            )

    def _receive(
        self, response: httpx.Response, cached: _Cached | None, deadline: Deadline
    ) -> _Loaded:
        status = response.status_code
        etag = response.headers.get("ETag")
        last_modified = response.headers.get("Last-Modified")
        if status == httpx.codes.NOT_MODIFIED:
            if cached is None:
                raise _FetchError("HTTP 304 Not Modified, but there is no cached copy")
            return _Loaded(None, etag or cached.etag, last_modified or cached.last_modified, None)
        reason = f"HTTP {status} {response.reason_phrase}".rstrip()
        if status == httpx.codes.TOO_MANY_REQUESTS or status >= 500:
            raise _Transient(reason, _retry_after(response.headers.get("Retry-After")))
        if not 200 <= status < 300:
            raise _FetchError(reason)
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self._max_bytes:
            raise self._too_large()
        try:
            body = CappedBody(response.headers.get("Content-Encoding"), self._max_bytes)
            for chunk in response.iter_raw():  # one chunk per network read, still encoded
                if deadline.passed():
                    raise _OutOfTime("deadline passed")
                body.feed(chunk)
            data = body.finish()
        except IncompleteBody as exc:
            raise _Transient(str(exc)) from None
        except BodyRefused as exc:
            raise _FetchError(str(exc)) from None
        content_type = response.headers.get("Content-Type")
        return _Loaded(data, etag, last_modified, content_type)

    def _too_large(self) -> _FetchError:
        return _FetchError(f"larger than {self._max_bytes} bytes")

    # ----------------------------------------------------------------------------------------
    # Parsing and the last good copy

    def _parse(
        self,
        body: bytes,
        start: datetime,
        end: datetime,
        until: float,
        content_type: str | None = None,
    ) -> BusyRead:
        sha = _sha256(body)
        hit = self._parsed.get(sha, start, end)
        if hit is not None:
            return hit
        try:
            wide = read_busy(
                body, source=self.name, tz=self._tz, start=start, end=end + AHEAD, deadline=until
            )
        except IcsParseError as exc:
            reason = self._scrub(str(exc).removeprefix(f"{self.name}: "))
            media_type = (content_type or "").split(";", 1)[0].strip().lower()
            if media_type and "calendar" not in media_type:
                reason += f" (the server sent {media_type})"
            raise _FetchError(reason) from None
        self._parsed.put(sha, start, end + AHEAD, wide)
        return narrow(wide, start, end)

    def _fall_back(
        self, reason: str, cached: _Cached | None, start: datetime, end: datetime, until: float
    ) -> SourceRead:
        if cached is None:
            message = fell_back(reason, copy=False)
            log.warning("%s: %s", self.name, message)
            raise SourceUnavailable(f"{self.name}: {message}") from None
        try:
            busy = self._parse(cached.body, start, end, until)
        except _FetchError as exc:
            message = fell_back(reason, copy=False, unreadable=exc.reason)
            log.warning("%s: %s", self.name, message)
            raise SourceUnavailable(f"{self.name}: {message}") from None
        saved_at = cached.saved_at.astimezone(self._tz) if cached.saved_at else None
        message = fell_back(reason, copy=True, saved_at=saved_at)
        log.warning("%s: %s", self.name, message)
        return SourceRead(self.name, busy, fresh=False, error=message)

    def _load_cache(self) -> _Cached | None:
        """The last good copy, if any. A body without readable validators is still a good copy
        (it was only written after it parsed); validators that belong to another body are
        dropped, since a 304 for them would vouch for the wrong content."""
        body = self._cache.get_bytes(BODY, self._location)
        if body is None:
            return None
        etag = last_modified = None
        saved_at = None
        meta = self._cache.get_json(VALIDATORS, self._location)
        if isinstance(meta, dict) and meta.get("sha256") == _sha256(body):
            etag = meta.get("etag") if isinstance(meta.get("etag"), str) else None
            last_modified = meta.get("last_modified")
            if not isinstance(last_modified, str):
                last_modified = None
            saved_at = saved_instant(meta.get("saved_at"))
        return _Cached(body, etag, last_modified, saved_at)

    def _remember(
        self, body: bytes, loaded: _Loaded, cached: _Cached | None, busy: BusyRead
    ) -> BusyRead:
        """Store ``body`` as the last good copy; a cache that cannot be written does not spoil a
        good read, but the person is told, since the next failure will find no copy."""
        same_body = cached is not None and cached.body == body
        if (
            same_body
            and cached is not None
            and (cached.etag, cached.last_modified) == (loaded.etag, loaded.last_modified)
        ):
            return busy
        meta = {
            "sha256": _sha256(body),
            "etag": loaded.etag,
            "last_modified": loaded.last_modified,
            "saved_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        try:
            if not same_body:
                # Body first: a crash between the two writes leaves validators that do not
                # match the body, which _load_cache detects and ignores.
                self._cache.put_bytes(BODY, self._location, body)
            self._cache.put_json(VALIDATORS, self._location, meta)
        except OSError as exc:
            reason = exc.strerror or exc.__class__.__name__
            log.warning("%s: cannot save the last good copy: %s", self.name, reason)
            warning = f"{self.name}: cannot save the last good copy: {reason}"
            return replace(busy, warnings=(*busy.warnings, warning))
        return busy

    def _scrub(self, text: str) -> str:
        """``text`` safe to show: library messages and page excerpts may quote the address, a
        redirect target or just the path, and any of them can carry the secret."""
        if self._url is not None:
            parts = urlsplit(self._url)
            for secret in (f"{parts.path}?{parts.query}", parts.path):
                if len(secret) >= _MIN_SCRUBBED_PATH:
                    text = text.replace(secret, "/…")
        return hide_urls(text, keep_tail=False)
