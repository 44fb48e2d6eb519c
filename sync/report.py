"""The report of one sync cycle, typed: built by the engine, printed by the CLI, kept in the
journal and read back by ``liftrun status``.

Its JSON form (:meth:`CycleReport.as_dict`) is a public format: ``liftrun sync --format json``
prints it, the README documents it and the journal stores it. Its keys, their order and their
values are fixed; this module is the only place that spells them, both ways, so everything
else reads attributes that mypy can see.

The module imports nothing but the standard library, so ``liftrun status`` can read the journal
without loading the adapters.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple, TypeVar

CRASHED_ERROR = "cycle failed; see the log"


class NotACycleReport(ValueError):
    """A journal entry that is no cycle's report (a crashed cycle's, or written by hand)."""


@dataclass(frozen=True)
class SourceReport:
    """One busy source as the cycle read it: ``ok`` is False when it failed or only its last
    good copy could be used (``error`` then says why)."""

    ok: bool
    busy_events: int
    error: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {"ok": self.ok, "busy_events": self.busy_events, "error": self.error}


@dataclass
class TargetReport:
    """What was done to one target; mutable because the engine counts outcomes as they land."""

    created: int = 0
    updated: int = 0
    moved: int = 0
    cancelled: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "created": self.created,
            "updated": self.updated,
            "moved": self.moved,
            "cancelled": self.cancelled,
            "unchanged": self.unchanged,
            "errors": list(self.errors),
        }


@dataclass(frozen=True)
class Action:
    """One planned write with the reason the athlete is given; ``action`` is an ``ActionKind``
    value (``create``, ``update``, ``cancel``), kept as text so this module needs no adapter."""

    target: str
    action: str
    session: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {
            "target": self.target,
            "action": self.action,
            "session": self.session,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Pin:
    """A session the athlete moved by hand in ``target`` this cycle, now pinned at ``start``."""

    target: str
    session: str
    start: datetime

    def as_dict(self) -> dict[str, str]:
        return {"target": self.target, "session": self.session, "start": self.start.isoformat()}


@dataclass(frozen=True)
class Tombstone:
    """A session the athlete deleted or cancelled by hand (``how``) this cycle."""

    target: str
    session: str
    how: str

    def as_dict(self) -> dict[str, str]:
        return {"target": self.target, "session": self.session, "how": self.how}


@dataclass(frozen=True)
class Unplaced:
    """A session of the horizon that found no time, and why."""

    id: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"id": self.id, "reason": self.reason}


@dataclass
class CycleReport:
    """Everything one cycle did and saw; mutable because the engine fills it as it goes (and
    never reads it back to decide anything)."""

    started: datetime
    dry_run: bool = False
    targets: dict[str, TargetReport] = field(default_factory=dict)
    sources: dict[str, SourceReport] = field(default_factory=dict)
    actions: list[Action] = field(default_factory=list)
    pinned: list[Pin] = field(default_factory=list)
    tombstoned: list[Tombstone] = field(default_factory=list)
    unplaced: list[Unplaced] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    stopped: bool = False

    @property
    def failed(self) -> bool:
        return any(not s.ok for s in self.sources.values()) or any(
            t.errors for t in self.targets.values()
        )

    @property
    def writes(self) -> int:
        return sum(t.created + t.updated + t.moved + t.cancelled for t in self.targets.values())

    def as_dict(self) -> dict[str, object]:
        """The JSON form, key for key as the README documents it (``writes`` is derived)."""
        return {
            "started": self.started.isoformat(),
            "dry_run": self.dry_run,
            "writes": self.writes,
            "targets": {name: t.as_dict() for name, t in self.targets.items()},
            "sources": {name: s.as_dict() for name, s in self.sources.items()},
            "actions": [a.as_dict() for a in self.actions],
            "pinned": [p.as_dict() for p in self.pinned],
            "tombstoned": [t.as_dict() for t in self.tombstoned],
            "unplaced": [u.as_dict() for u in self.unplaced],
            "warnings": list(self.warnings),
            "stopped": self.stopped,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> CycleReport:
        """The report :meth:`as_dict` gave (parsed back from JSON); raises
        :class:`NotACycleReport` for anything else rather than guess at a missing key."""
        if not isinstance(data, Mapping) or "started" not in data:
            raise NotACycleReport("no cycle report: it has no 'started'")
        return cls(
            started=_datetime(_get(data, "started", str)),
            dry_run=_get(data, "dry_run", bool),
            targets={
                name: TargetReport(
                    created=_count(t, "created"),
                    updated=_count(t, "updated"),
                    moved=_count(t, "moved"),
                    cancelled=_count(t, "cancelled"),
                    unchanged=_count(t, "unchanged"),
                    errors=_strings(t, "errors"),
                )
                for name, t in _objects(data, "targets").items()
            },
            sources={
                name: SourceReport(
                    ok=_get(s, "ok", bool),
                    busy_events=_count(s, "busy_events"),
                    error=_optional_str(s, "error"),
                )
                for name, s in _objects(data, "sources").items()
            },
            actions=[
                Action(
                    target=_get(a, "target", str),
                    action=_get(a, "action", str),
                    session=_get(a, "session", str),
                    reason=_get(a, "reason", str),
                )
                for a in _entries(data, "actions")
            ],
            pinned=[
                Pin(
                    target=_get(p, "target", str),
                    session=_get(p, "session", str),
                    start=_datetime(_get(p, "start", str)),
                )
                for p in _entries(data, "pinned")
            ],
            tombstoned=[
                Tombstone(
                    target=_get(t, "target", str),
                    session=_get(t, "session", str),
                    how=_get(t, "how", str),
                )
                for t in _entries(data, "tombstoned")
            ],
            unplaced=[
                Unplaced(id=_get(u, "id", str), reason=_get(u, "reason", str))
                for u in _entries(data, "unplaced")
            ],
            warnings=_strings(data, "warnings"),
            stopped=_get(data, "stopped", bool),
        )


def journal_form(report: CycleReport | None) -> dict[str, object]:
    """What the journal stores for a cycle: its report, or (``None``) the mark of a cycle that
    failed unexpectedly and has no report to give."""
    return report.as_dict() if report is not None else {"error": CRASHED_ERROR}


def from_journal(data: object) -> CycleReport | None:
    """A journalled cycle's report, or ``None`` for a cycle that crashed (or an entry that is
    not a report at all: ``status`` shows such a cycle with no writes and nothing to say)."""
    if not isinstance(data, Mapping):
        return None
    try:
        return CycleReport.from_dict(data)
    except NotACycleReport:
        return None


class ReportLine(NamedTuple):
    """One line of the text report. ``level`` is ``None`` for a line on stdout; otherwise the
    line is a message for stderr (the CLI's ``tell``) at that log level, which matters with
    ``--log-format json``. Unpacked as a pair, the second item reads as "is it for stderr"."""

    text: str
    level: int | None = None


def report_lines(report: CycleReport) -> Iterator[ReportLine]:
    """The text form of a report, line by line, in the order ``liftrun sync`` prints it."""
    prefix = "dry run: would " if report.dry_run else ""
    for a in report.actions:
        yield ReportLine(f"{prefix}{a.action} {a.session} in {a.target}: {a.reason}")
    for name, src in report.sources.items():
        state = "ok" if src.ok else f"FAILED: {src.error}"
        yield ReportLine(f"source {name}: {src.busy_events} busy events, {state}")
    for name, t in report.targets.items():
        yield ReportLine(
            f"target {name}: {t.created} created, {t.moved} moved, {t.updated} updated, "
            f"{t.cancelled} cancelled, {t.unchanged} unchanged"
        )
        for err in t.errors:
            yield ReportLine(f"target {name}: ERROR {err}", logging.ERROR)
    for p in report.pinned:
        yield ReportLine(
            f"pinned {p.session} at {p.start.isoformat()}: moved by hand in {p.target} (S9)"
        )
    for gone in report.tombstoned:
        yield ReportLine(
            f"{gone.session} {gone.how} in {gone.target}: not recreated "
            f"(liftrun restore {gone.session})"
        )
    for u in report.unplaced:
        yield ReportLine(f"unplaced {u.id}: {u.reason}")
    for w in report.warnings:
        yield ReportLine(f"warning: {w}", logging.WARNING)


# -- reading JSON back: each value checked for the type as_dict gives it -----------------------

_T = TypeVar("_T")


def _get(data: object, key: str, kind: type[_T]) -> _T:
    if not isinstance(data, Mapping) or key not in data:
        raise NotACycleReport(f"no cycle report: {key!r} is missing")
    value = data[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise NotACycleReport(f"no cycle report: {key!r} is not {kind.__name__}")
    return value


def _count(data: object, key: str) -> int:
    return _get(data, key, int)


def _optional_str(data: object, key: str) -> str | None:
    if isinstance(data, Mapping) and data.get(key, "") is None:
        return None
    return _get(data, key, str)


def _datetime(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError as exc:
        raise NotACycleReport(f"no cycle report: {text!r} is no time") from exc


def _objects(data: object, key: str) -> dict[str, object]:
    value = _get(data, key, dict)
    if not all(isinstance(k, str) for k in value):
        raise NotACycleReport(f"no cycle report: {key!r} has a key that is not text")
    return value


def _entries(data: object, key: str) -> list[object]:
    return list(_get(data, key, list))


def _strings(data: object, key: str) -> list[str]:
    values = _entries(data, key)
    if not all(isinstance(v, str) for v in values):
        raise NotACycleReport(f"no cycle report: {key!r} holds something that is not text")
    return [str(v) for v in values]
