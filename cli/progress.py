"""Progress for a person at a terminal: a long push drawn as a bar per target, and ``check``'s
calendars as spinner lines, each turning into its result.

A first push of forty sessions to a CalDAV server or Google takes long enough for a silent
command to look hung; the same forty writes piped into a log must not become forty redrawn
lines. So progress is drawn on stderr only when it is a terminal in fact (``isatty``, whatever
``FORCE_COLOR`` says) that rich would draw on too (not ``TERM=dumb``, not ``TTY_COMPATIBLE=0``),
and only when the output and the logs are text: piped, ``--format json`` or ``--log-format
json``, a command prints byte for byte what it prints without it. ``NO_COLOR`` is rich's: the
bar is drawn without colour. The drawing is transient, so once it ends the terminal holds the
same lines a pipe gets, and log lines written meanwhile go above it, whole.

rich is imported when there is something to draw (a push of ``MIN_WRITES`` or more, a check),
never for ``plan``, ``--help`` or an idle cycle (``tests/test_cli_startup.py``).
"""

from __future__ import annotations

import sys
from types import TracebackType
from typing import TYPE_CHECKING, Self

if TYPE_CHECKING:
    from rich.progress import Progress, ProgressColumn, TaskID

MIN_WRITES = 5  # fewer writes end before a bar would tell anyone anything


def on_terminal(fmt: str = "text") -> bool:
    """Whether progress may be drawn: stderr is a terminal and nothing on it must stay
    machine-readable. Cheap: it imports nothing heavy."""
    from sync import logs

    if fmt != "text" or logs.active_format() == "json":
        return False
    try:
        return sys.stderr.isatty()
    except ValueError:  # a closed stream (at interpreter exit): no terminal to draw on
        return False


def _progress(*columns: ProgressColumn) -> Progress | None:
    """A transient rich ``Progress`` on stderr, or None where rich itself would not draw."""
    from rich.console import Console
    from rich.progress import Progress

    console = Console(stderr=True)
    if not console.is_terminal or console.is_dumb_terminal:
        return None
    return Progress(*columns, console=console, transient=True)


class _Drawing:
    """What draws until it is closed, as a ``with`` block: the drawing ends however the block
    does, so an error never leaves a bar on the terminal."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _shown(name: str) -> str:
    """A calendar's name as drawn: on one line, no escape sequence from a config reaching the
    terminal."""
    from sync import logs

    return logs.safe_line(name)


class PushProgress(_Drawing):
    """The engine's ``WriteProgress`` drawn as ``pushing to NAME ━━━━ 12/40 0:00:03``, one bar
    per target a cycle writes ``MIN_WRITES`` or more times to. ``close`` (or leaving the
    ``with`` block) ends the drawing before the cycle's report is printed; the next cycle of a
    loop draws afresh."""

    def __init__(self, enabled: bool) -> None:
        self._enabled = enabled
        self._bars: Progress | None = None
        self._tasks: dict[str, TaskID] = {}

    def on_write(self, target: str, done: int, total: int) -> None:
        if not self._enabled or total < MIN_WRITES:
            return
        bars = self._bars or self._start()
        if bars is None:
            return
        task = self._tasks.get(target)
        if task is None or done == 0:  # a cycle that raised left its bar: this is a new push
            if task is not None:
                bars.remove_task(task)
            task = bars.add_task(_shown(target), total=total)
            self._tasks[target] = task
        bars.update(task, completed=done)

    def _start(self) -> Progress | None:
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn

        bars = _progress(
            TextColumn("pushing to {task.description}", markup=False),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        if bars is None:
            self._enabled = False  # rich would not draw here: ask no more this run
            return None
        bars.start()
        self._bars = bars
        return bars

    def close(self) -> None:
        if self._bars is not None:
            self._bars.stop()
        self._bars = None
        self._tasks = {}


class Reaching(_Drawing):
    """``check``'s calendars while they are reached: a spinner line per calendar, ``source
    work: reaching…``, that turns into its result line when it has answered. Thread-safe
    (rich's ``Progress`` holds a lock): targets answer on the check's worker threads."""

    def __init__(self, enabled: bool) -> None:
        self._lines: Progress | None = None
        self._tasks: dict[str, TaskID] = {}
        if enabled:
            from rich.progress import SpinnerColumn, TextColumn

            self._lines = _progress(
                SpinnerColumn(finished_text=" "), TextColumn("{task.description}", markup=False)
            )
            if self._lines is not None:
                self._lines.start()

    def started(self, label: str) -> None:
        """``label`` (``source work``) is being reached."""
        if self._lines is not None:
            self._tasks[label] = self._lines.add_task(f"{_shown(label)}: reaching…", total=1)

    def finished(self, label: str, line: str) -> None:
        """``label`` has answered; ``line`` is what check prints for it."""
        task = self._tasks.get(label)
        if self._lines is not None and task is not None:
            self._lines.update(task, description=_shown(line), completed=1)

    def close(self) -> None:
        if self._lines is not None:
            self._lines.stop()
        self._lines = None
