"""Busy time as the planner sees it: aware intervals with a label good enough to explain a move."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, order=True)
class BusyInterval:
    """A half-open ``[start, end)`` span during which no session may be placed (rule S8).

    Both ends are timezone-aware; an interval may span midnight or several days. ``summary`` is
    kept so a move can say *which* event displaced a session; ``source`` names the calendar or
    file it came from.
    """

    start: datetime
    end: datetime
    summary: str = ""
    source: str = ""
    uid: str = ""

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError(f"busy interval {self.summary!r} has a naive datetime")
        if self.end <= self.start:
            raise ValueError(
                f"busy interval {self.summary!r} ends ({self.end.isoformat()}) "
                f"at or before it starts ({self.start.isoformat()})"
            )
