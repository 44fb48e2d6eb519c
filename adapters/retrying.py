"""How every HTTP adapter retries: a failure marked ``Transient`` is tried again, after the
server's ``Retry-After`` (RFC 9110 10.2.3) when it gave one, else after an injectable or
exponential back-off with jitter; every wait is logged with its reason."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)


class Transient(Exception):
    """A failure another attempt may fix; ``retry_after`` is the server's own wish, seconds."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


def retry_after_seconds(value: str | None, cap: float) -> float | None:
    """Seconds to wait from delay-seconds or an HTTP-date, capped at ``cap`` so a rate limit
    cannot stall a sync run; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        seconds = float(value)
    else:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    return min(max(seconds, 0.0), cap)


def retrying(
    *,
    attempts: int,
    max_backoff: float,
    retry_wait: Callable[[int], float] | None,
    sleep: Callable[[float], None],
    label: str,
    log: logging.Logger,
    jitter: float = 1.0,
) -> Retrying:
    """A tenacity policy for ``Transient`` failures; ``retry_wait`` (seconds after attempt n)
    and ``sleep`` let tests record the waits instead of spending them."""
    backoff = wait_exponential_jitter(initial=1, max=max_backoff, jitter=jitter)

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome is not None else None
        if isinstance(exc, Transient) and exc.retry_after is not None:
            return exc.retry_after
        if retry_wait is not None:
            return retry_wait(state.attempt_number)
        return float(backoff(state))

    def before_sleep(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome is not None else None
        reason = exc.reason if isinstance(exc, Transient) else "failed"
        seconds = state.next_action.sleep if state.next_action is not None else 0.0
        log.info("%s: %s; retrying in %.1f s", label, reason, seconds)

    return Retrying(
        stop=stop_after_attempt(attempts),
        retry=retry_if_exception_type(Transient),
        wait=wait,
        sleep=sleep,
        before_sleep=before_sleep,
        reraise=True,
    )
