"""Busy sources read for a cycle: concurrently, each on a daemon thread, all within a timeout.

A source that cannot be read (whatever it raised, or no answer in time) is reported by a
one-line, secret-free error and makes the cycle blind to it; the engine decides what that
means for placement. A read left behind never holds the process and is not started again while
it lives (:class:`SourceThreads`); a stop request ends the wait at once.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from time import monotonic

from adapters.locations import hide_urls
from adapters.protocol import AdapterError, BusySource, SourceRead
from planner.busy import BusyInterval
from sync.report import SourceReport

log = logging.getLogger("liftrun.sync")


@dataclass(frozen=True)
class SourceResult:
    """One source's read, or why there is none (it failed, gave no answer in time, or the
    process was told to stop first). ``name`` is the source's identity in this cycle: its
    display name, made unique (see :func:`unique_names`)."""

    source: BusySource
    read: SourceRead | None = None
    error: str | None = None
    name: str = ""
    stopped: bool = False  # not read because the process is stopping: no verdict on it


def unique_names(names: Sequence[str]) -> list[str]:
    """Each name as it is, the second of a kind ``"<name> #2"`` and so on, in order.

    Display names are scrubbed and so can coincide (two secret addresses on one host both show
    as ``https://calendar.google.com/…/basic.ics``); keyed by the bare name, one source's result
    would overwrite the other's and a failure would read as ok. The config's order makes the
    suffix stable from cycle to cycle.
    """
    taken: set[str] = set()
    out: list[str] = []
    for raw in names:
        base = _printable(raw.strip()) or "busy source"
        name, n = base, 1
        while name in taken:
            n += 1
            name = f"{base} #{n}"
        taken.add(name)
        out.append(name)
    return out


_TOKEN = re.compile(r"[A-Za-z0-9_\-%+/=]{20,}")
_MAX_ERROR = 300


def describe_failure(exc: BaseException) -> str:
    """One line for a source's failure that is safe to report, journal and log.

    Adapter errors are written for people and scrubbed by their adapter. Anything else comes
    from a library that knows nothing of secrets (a parser's ``OverflowError``, an ``OSError``,
    an HTTP library quoting the address it was given), so URLs keep only scheme and host (no
    user or password) and token-like runs are cut, before the line is made printable and kept
    short.
    """
    if isinstance(exc, AdapterError):
        text = str(exc)
    else:
        text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        text = hide_urls(text, keep_tail=False)
        text = _TOKEN.sub(
            lambda m: f"{m.group(0)[:4]}…" if _tokenish(m.group(0)) else m.group(0), text
        )
    text = _printable(text)
    return text if len(text) <= _MAX_ERROR else text[: _MAX_ERROR - 1] + "…"


def _tokenish(run: str) -> bool:
    return any(c.isdigit() for c in run) and any(c.isalpha() for c in run)


def _printable(text: str) -> str:
    """``text`` with every character ``str.isprintable`` refuses written as its escape."""
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)


class _Reading:
    """One read of one source on its own daemon thread: what came back, and when it is done."""

    def __init__(self, source: BusySource, name: str) -> None:
        self.source = source
        self.name = name
        self.read: SourceRead | None = None
        self.error: str | None = None
        self.done = threading.Event()

    def run(self, start: datetime, end: datetime) -> None:
        try:
            self.read = self.source.read_busy(start, end)
        except Exception as exc:  # whatever a source holds is its failure, not the cycle's
            self.error = describe_failure(exc)
            if not isinstance(exc, AdapterError):  # an adapter logs its own failures
                log.warning("busy source %s: %s", self.name, self.error)
            log.debug("busy source %s failed", self.name, exc_info=True)
        finally:
            if self.read is None and self.error is None:
                self.error = "the read ended without an answer"
            self.done.set()
            _SOURCE_THREADS.finished(self.name, threading.current_thread())


class SourceThreads:
    """The source reads still running in this process, by source identity, across cycles.

    A read that outlives its cycle is left to finish on its own (a daemon thread never holds
    the process at exit); while it is alive that source is not read again, so a source that
    hangs costs one thread, not one per cycle.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: dict[str, threading.Thread] = {}

    def start(self, reading: _Reading, start: datetime, end: datetime) -> threading.Thread | None:
        """Start ``reading`` unless the previous read of that source is still alive."""
        with self._lock:
            previous = self._running.get(reading.name)
            if previous is not None and previous.is_alive():
                return None
            thread = threading.Thread(
                target=reading.run, args=(start, end), name=f"source {reading.name}", daemon=True
            )
            self._running[reading.name] = thread
            thread.start()
            return thread

    def finished(self, name: str, thread: threading.Thread) -> None:
        with self._lock:
            if self._running.get(name) is thread:
                del self._running[name]

    def alive(self) -> int:
        with self._lock:
            return sum(1 for t in self._running.values() if t.is_alive())


_SOURCE_THREADS = SourceThreads()
POLL_SECONDS = 0.1  # how soon a stop request ends the wait for sources


def source_threads_alive() -> int:
    """Source reads still running in this process (a hanging source counts once)."""
    return _SOURCE_THREADS.alive()


def read_sources(
    sources: Sequence[BusySource],
    start: datetime,
    end: datetime,
    timeout: float,
    *,
    stop: threading.Event | None = None,
) -> list[SourceResult]:
    """Every source read concurrently, all within ``timeout`` seconds; a source still reading
    then is left behind and counts as unreadable, never as free. ``stop`` ends the wait at
    once: sources not read by then have no verdict (``stopped``)."""
    stop = stop or threading.Event()
    names = unique_names([s.name for s in sources])
    readings = [_Reading(src, name) for src, name in zip(sources, names, strict=True)]
    if stop.is_set():
        return [
            SourceResult(r.source, error="not read: stopping", name=r.name, stopped=True)
            for r in readings
        ]
    started = [_SOURCE_THREADS.start(r, start, end) for r in readings]
    deadline = monotonic() + timeout
    for r, thread in zip(readings, started, strict=True):
        while thread and not r.done.is_set() and not stop.is_set():
            left = deadline - monotonic()
            if left <= 0:
                break
            r.done.wait(min(POLL_SECONDS, left))
        if thread and r.done.is_set():
            thread.join(POLL_SECONDS)  # it has answered: let it end within its cycle
    stopping = stop.is_set()
    results = []
    for r, thread in zip(readings, started, strict=True):
        if r.done.is_set():
            results.append(SourceResult(r.source, read=r.read, error=r.error, name=r.name))
        elif stopping and thread is not None:
            results.append(
                SourceResult(r.source, error="not read: stopping", name=r.name, stopped=True)
            )
        else:
            error = (
                f"no answer within {timeout:g} s"
                if thread is not None
                else "still reading from the previous cycle (a read is never started twice)"
            )
            log.warning("busy source %s: %s", r.name, error)
            results.append(SourceResult(r.source, error=error, name=r.name))
    return results


@dataclass(frozen=True)
class BusyTime:
    """What the busy sources gave one cycle: their intervals, the identities of the sources it
    is blind to, how each source fared, and what the athlete should be warned of."""

    intervals: list[BusyInterval]
    blind_to: list[str]
    sources: dict[str, SourceReport]
    warnings: list[str]


def read_busy_time(
    sources: Sequence[BusySource],
    start: datetime,
    end: datetime,
    timeout: float,
    stop: threading.Event,
) -> BusyTime:
    """Every source read (see :func:`read_sources`) and summed up for one cycle."""
    busy = BusyTime(intervals=[], blind_to=[], sources={}, warnings=[])
    results = read_sources(sources, start, end, timeout, stop=stop)
    for result in results:
        name, read = result.name, result.read
        if result.stopped:
            busy.blind_to.append(name)
            busy.warnings.append(f"busy source {name} was not read: stopping")
            continue
        if read is None:
            busy.blind_to.append(name)
            busy.sources[name] = SourceReport(ok=False, busy_events=0, error=result.error)
            continue
        busy.intervals.extend(read.busy.intervals)
        busy.warnings.extend(read.busy.warnings)
        busy.sources[name] = SourceReport(
            ok=read.fresh, busy_events=len(read.busy.intervals), error=read.error
        )
    return busy
