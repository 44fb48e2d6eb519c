"""The one way tests make a calendar write fail: a wrapper around any ``CalendarTarget``.

A process can die at two moments of a write, and liftrun must survive both (the write-ahead
intent of ``StateStore.mark_pending`` exists for them):

- ``BEFORE`` write N: writes 0..N-1 landed and were recorded, write N never started;
- ``AFTER`` write N: write N landed in the calendar but its answer was lost, so the engine never
  recorded it (the window between a durable write and its record).

The wrapper counts actions, not requests, and hands the real target only the actions up to the
fault, so a batching target (the feed file, Google's batch endpoint) writes the ones before it
in one go, as it would have before dying. Nothing of the adapter's own code is patched and no
hook lives in production code: any kind, present or future, is faulted the same way. How the
process "dies" is the caller's: a :class:`Crash` raised through the engine in-process, or a
SIGKILL in ``tests/sync/run_with_fault.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import NoReturn

from adapters.protocol import Action, CalendarTarget, Outcome, OwnedEvent


class Crash(Exception):
    """The process dies here. Not an ``AdapterError`` or ``OSError``: the engine must not catch
    it, it ends the cycle as a dead process would (what was committed stays committed)."""


class Moment(StrEnum):
    BEFORE = "before"  # the write never started
    AFTER = "after"  # the write landed, its answer was lost


@dataclass(frozen=True)
class Fault:
    at: int  # the write (0 = the first) counted across every apply of one wrapper
    moment: Moment = Moment.BEFORE

    def __str__(self) -> str:
        return f"{self.moment} write {self.at}"


def crash(fault: Fault) -> NoReturn:
    raise Crash(str(fault))


class FaultyTarget:
    """``inner`` with ``fault`` at one write; ``pause`` runs before every write (handing the
    actions over one by one), so a signal can land mid-cycle."""

    def __init__(
        self,
        inner: CalendarTarget,
        fault: Fault | None = None,
        *,
        die: Callable[[Fault], NoReturn] = crash,
        pause: Callable[[], None] | None = None,
    ) -> None:
        self.inner = inner
        self.name = inner.name
        self.fault = fault
        self.die = die
        self.pause = pause
        self.writes = 0  # actions handed to the inner target so far

    def __repr__(self) -> str:
        return f"FaultyTarget({self.inner!r}, {self.fault})"

    def list_owned(self, start: datetime, end: datetime) -> list[OwnedEvent]:
        return self.inner.list_owned(start, end)

    def apply(self, actions: Sequence[Action]) -> Iterator[Outcome]:
        todo = list(actions)
        if self.pause is not None:
            for action in todo:
                self.pause()
                yield from self._apply([action])
        else:
            yield from self._apply(todo)

    def _apply(self, actions: list[Action]) -> Iterator[Outcome]:
        first = self.writes
        fault = self.fault
        if fault is None or not first <= fault.at < first + len(actions):
            self.writes += len(actions)
            yield from self.inner.apply(actions)
            return
        k = fault.at - first
        if fault.moment is Moment.BEFORE:
            self.writes += k
            yield from self.inner.apply(actions[:k])
            self.die(fault)
        self.writes += k + 1
        for i, outcome in enumerate(self.inner.apply(actions[: k + 1])):
            if i == k:
                self.die(fault)
            yield outcome
