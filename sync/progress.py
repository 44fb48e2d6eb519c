"""What a sync cycle tells whoever watches its writes: a typed hook, so the engine never knows
what draws the progress (``cli/progress.py`` draws it with rich, on a terminal only)."""

from __future__ import annotations

from typing import Protocol


class WriteProgress(Protocol):
    """Told how far a target's writes have got, for a person watching a long first push (the
    command line draws it on a terminal). It only watches: nothing it does changes the cycle,
    and the engine never asks what it draws with."""

    def on_write(self, target: str, done: int, total: int) -> None:
        """``done`` of the ``total`` writes this cycle makes to ``target`` have an outcome; called
        with 0 before the first write, then after each outcome, from the cycle's thread."""
        ...
