"""The ``[[calendars]]`` entry of kind ``caldav``: pydantic and :mod:`config.fields` only, because
every command that reads a config imports it (never caldav or its HTTP stack).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator

from config.fields import Strict, describe


class CaldavCalendar(Strict):
    """A CalDAV account: sessions pushed into ``push_to`` (created with MKCALENDAR when missing),
    busy time read from the ``busy_from`` calendars (display names or URLs)."""

    kind: Literal["caldav"]
    name: str | None = None
    url: str
    username: str | None = None
    password: SecretStr | None = None  # or password_file; never printed
    push_to: str | None = None
    busy_from: list[str] = Field(default_factory=list)
    auth: Literal["basic", "digest"] | None = None  # None: whatever the server asks for
    verify_tls: bool = True
    ca_file: str | None = None
    alarm_minutes: Annotated[int, Field(ge=0, le=1440)] | None = 30
    timeout_seconds: Annotated[float, Field(gt=0, le=120)] = 20.0

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        scheme = value.split("://", 1)[0].lower() if "://" in value else ""
        if scheme not in ("http", "https"):
            raise ValueError(f"{describe(value)}: a CalDAV URL starts with https:// (or http://)")
        return value
