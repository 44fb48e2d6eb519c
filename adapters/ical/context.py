"""The state of one busy-time read, shared by every step of the reader.

:func:`adapters.ical.busy.read_busy` is split into modules by job (spans, expansion budget,
recurrence); they all work on one :class:`Context`, so a read keeps one ``max_events`` count,
one set of found intervals and one list of warnings however the work is divided.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo

from adapters.ical.errors import Deadline, IcsParseError

__all__ = ["Context", "Key"]

_DEADLINE_EVERY = 256  # events or occurrences between two deadline checks

Key = tuple[datetime, datetime, str, str]  # (start UTC, end UTC, summary, uid)


@dataclass
class Context:
    """State of one :func:`~adapters.ical.busy.read_busy` call, shared by all calendars in the
    stream.

    One context means one ``max_events`` count and one set of found intervals even when a feed
    concatenates several VCALENDARs.
    """

    source: str
    tz: ZoneInfo
    window_start: datetime  # UTC
    window_end: datetime  # UTC
    max_events: int
    deadline: Deadline
    floating: tzinfo  # zone for floating times of the calendar being read
    warnings: list[str] = field(default_factory=list)
    found: dict[Key, None] = field(default_factory=dict)  # an ordered set
    in_window: int = 0
    steps: int = 0

    def count_occurrence(self) -> None:
        """Count one instance in the window; the limit bounds memory and the planner's work."""
        self.in_window += 1
        if self.in_window > self.max_events:
            raise IcsParseError(
                f"{self.source}: more than {self.max_events} event occurrences between "
                f"{self.window_start.isoformat()} and {self.window_end.isoformat()}; "
                "refusing to read a calendar this large"
            )

    def step(self) -> None:
        """One unit of work (an event, an occurrence); checks the deadline now and then."""
        self.steps += 1
        if not self.steps % _DEADLINE_EVERY:
            self.deadline.check()
