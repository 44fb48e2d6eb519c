"""Pauses the athlete declares (illness, travel): no session in them, none made up, ease back in.

A pause covers whole local days, ``first`` to ``last`` inclusive. Its sessions are not placed
and are reported with the reason, so every calendar drops them; nothing is moved into the days
after it (a missed session is missed: doubling up later is the "too much too soon" L6 warns
of). After a pause of ``EASE_IN_AFTER_DAYS`` days or more, lifting eases in again from the
week the athlete comes back, exactly as after the race break (L6: ``planner.sessions``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from planner.model import Session, Unplaced
from planner.phases import monday_of

EASE_IN_AFTER_DAYS = 7  # L6 "after a break": a week or more off
PAUSE_RULES = ("S9",)  # the athlete's own word about their sessions, as a deletion by hand


@dataclass(frozen=True)
class Pause:
    first: date
    last: date  # inclusive; before ``first`` when the pause was ended before it began

    @property
    def days(self) -> int:
        return max(0, (self.last - self.first).days + 1)

    def covers(self, day: date) -> bool:
        return self.first <= day <= self.last

    @property
    def return_monday(self) -> date | None:
        """The Monday of the week the athlete comes back in, when the pause was long enough
        to ease in after (L6); ``None`` otherwise."""
        if self.days < EASE_IN_AFTER_DAYS:
            return None
        return monday_of(self.last + timedelta(days=1))

    def text(self) -> str:
        return f"{self.first:%a %d %b} to {self.last:%a %d %b}"


def split_paused(
    sessions: Iterable[Session], pauses: Sequence[Pause]
) -> tuple[list[Session], list[Unplaced]]:
    """The sessions outside every pause, and those inside one as unplaced with the reason."""
    kept: list[Session] = []
    removed: list[Unplaced] = []
    for s in sessions:
        hit = next((p for p in pauses if p.covers(s.date)), None)
        if hit is None:
            kept.append(s)
        else:
            removed.append(
                Unplaced(
                    s.id,
                    f"paused {hit.text()}: not placed and not made up later (S9)",
                    PAUSE_RULES,
                )
            )
    return kept, removed


def returned_from_break(pauses: Sequence[Pause], monday: date) -> date | None:
    """The latest Monday on or before ``monday`` that the athlete came back on after a long
    pause (the ease-in counts its weeks from there), or ``None``."""
    backs = [m for p in pauses if (m := p.return_monday) is not None and m <= monday]
    return max(backs, default=None)
