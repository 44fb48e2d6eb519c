"""The ``[[calendars]]`` entry of kind ``vdir``: pydantic and :mod:`config.fields` only, because
every command that reads a config imports it.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from config.fields import Strict


class VdirCalendar(Strict):
    """A vdir (one .ics file per event, as vdirsyncer and khal keep them): sessions written into
    ``push_to``, busy time read from the ``busy_from`` directories."""

    kind: Literal["vdir"]
    name: str | None = None
    push_to: str | None = None
    busy_from: list[str] = Field(default_factory=list)
    alarm_minutes: Annotated[int, Field(ge=0, le=1440)] | None = 30
