"""The ``[[calendars]]`` entry of kind ``google``: pydantic and :mod:`config.fields` only, because
every command that reads a config imports it (never the Google API client).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import Field, field_validator, model_validator

from config.fields import Strict, is_loopback, web_address


class GoogleCalendar(Strict):
    """A Google account: sessions in a dedicated secondary calendar ``push_to`` (created when
    missing), busy time from the ``busy_from`` calendar ids via freebusy."""

    kind: Literal["google"]
    name: str | None = None
    auth: Literal["oauth", "service_account", "none"] = "oauth"
    client_secrets_file: str | None = None  # oauth: the OAuth client (a desktop app's JSON)
    token_file: str | None = None  # oauth: written by `liftrun auth google`; default in state

    service_account_file: str | None = None
    subject: str | None = None  # service_account: the user to act as (domain-wide delegation)
    push_to: str | None = "Training"
    busy_from: list[str] = Field(default_factory=lambda: ["primary"])
    api_endpoint: str | None = None  # emulators and proxies
    alarm_minutes: Annotated[int, Field(ge=0, le=1440)] | None = 30

    @field_validator("api_endpoint")
    @classmethod
    def _endpoint(cls, value: str | None) -> str | None:
        return None if value is None else web_address(value)

    def token_path(self, resolve: Callable[[str], Path], state_dir: Path) -> Path:
        """The token file: as configured, else ``google-token.json`` in the state directory
        (which is writable wherever liftrun runs, unlike a container's config directory)."""
        return resolve(self.token_file) if self.token_file else state_dir / "google-token.json"

    @model_validator(mode="after")
    def _auth_needs(self) -> Self:
        if self.auth == "service_account" and not self.service_account_file:
            raise ValueError("auth = 'service_account' needs service_account_file")
        if self.auth == "none" and not is_loopback(self.api_endpoint):
            raise ValueError(
                "auth = 'none' is only for emulators: api_endpoint must be a loopback address"
            )
        return self
