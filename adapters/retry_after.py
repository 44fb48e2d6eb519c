"""The ``Retry-After`` header (RFC 9110 10.2.3), as every HTTP adapter honours it."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


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
