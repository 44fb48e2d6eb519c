"""The ``[[calendars]]`` entry of kind ``ics``: pydantic and :mod:`config.fields` only, because
every command that reads a config imports it.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator

from config.fields import Strict, describe


class IcsCalendar(Strict):
    """An ICS calendar entry: a feed liftrun writes, and ICS sources it reads busy time from."""

    kind: Literal["ics"] = "ics"
    name: str | None = None
    push_to: str | None = None  # the feed file
    push_busy_shadow_to: str | None = None  # same times, title "Training", no details
    busy_from: list[str] = Field(default_factory=list)  # URLs (http, https, webcal) or paths
    calendar_name: str = "liftrun training"  # X-WR-CALNAME
    alarm_minutes: Annotated[int, Field(ge=0, le=1440)] | None = 30  # VALARM; null = none
    cancelled_retention_days: Annotated[int, Field(ge=0, le=365)] = 14
    fetch_timeout_seconds: Annotated[float, Field(gt=0, le=120)] = 20.0
    max_source_bytes: Annotated[int, Field(ge=1024, le=1 << 30)] = 20 * 1024 * 1024

    @field_validator("busy_from")
    @classmethod
    def _sources(cls, value: list[str]) -> list[str]:
        for item in value:
            scheme = item.split("://", 1)[0].lower() if "://" in item else ""
            if scheme and scheme not in ("http", "https", "webcal", "webcals", "file"):
                raise ValueError(f"{describe(item)}: use http(s)://, webcal://, file:// or a path")
            if not scheme and not item.startswith("/"):
                raise ValueError(f"{describe(item)}: a path must be absolute (or use file://)")
        return value
