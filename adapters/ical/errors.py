"""Errors of the busy-time reader and the wall-clock limit on its work.

They live apart from :mod:`adapters.ical.busy` so that its helpers (the line pre-filter, the
bounded recurrence expansion) can raise them without importing the reader itself.
"""

from __future__ import annotations

import time

__all__ = ["Deadline", "IcsParseError", "IcsTooSlow"]


class IcsParseError(ValueError):
    """The source as a whole could not be read, so none of its time may be treated as free."""


class IcsTooSlow(IcsParseError):
    """Reading the source did not finish before its deadline.

    A subclass so that every caller that already treats an unreadable calendar as busy-unknown
    does the same for one that would take too long, while a caller that cares can tell them
    apart (a source might retry later, a bad file would fail the same way again).
    """


class Deadline:
    """A ``time.monotonic()`` instant after which reading one source gives up.

    Checked between units of work (lines, events, occurrences, months scanned by dateutil),
    so a hostile calendar costs at most the time its caller granted plus one unit.
    """

    __slots__ = ("_allowed", "_at", "_source")

    def __init__(self, at: float | None, source: str) -> None:
        self._at = at
        self._source = source
        self._allowed = None if at is None else max(0.0, at - time.monotonic())

    @property
    def active(self) -> bool:
        return self._at is not None

    def check(self) -> None:
        """Raise :class:`IcsTooSlow` if the deadline has passed."""
        if self._at is not None and time.monotonic() > self._at:
            raise IcsTooSlow(
                f"{self._source}: reading took longer than {self._allowed:.1f} s "
                "(the time this source was given); stopped"
            )
