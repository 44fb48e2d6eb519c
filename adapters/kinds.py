"""The calendar kinds liftrun knows, registered in this one place.

A kind is a package under ``adapters/`` (``ics``, ``vdir``, ``caldav``, ``google``) that owns
everything about that kind of calendar: its ``[[calendars]]`` settings (``settings.py``) and, in
``kind.py``, how those settings become busy sources and targets, its ``liftrun init`` questions
and TOML section, and its sign-in. This module joins the settings into the one tagged union
``Settings.calendars`` holds, and maps each kind's name to its behaviour, imported only when a
calendar of that kind is in play (a config without Google never loads the Google client). The
settings modules import pydantic and nothing heavier, because every command that reads a config
imports them through here.

Nothing outside a kind's package asks which kind it holds; ``tests/test_kinds.py`` keeps it so.
Adding a kind is a package with those two modules and a line in :data:`KINDS` and
:data:`Calendar`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Protocol, TypeVar

from pydantic import Discriminator, Tag

from adapters.caldav.settings import CaldavCalendar
from adapters.google.settings import GoogleCalendar
from adapters.ics.settings import IcsCalendar
from adapters.vdir.settings import VdirCalendar

if TYPE_CHECKING:
    from datetime import datetime

    from adapters.protocol import BusySource, CalendarTarget, Learns
    from adapters.wizard import Asker, KindAnswers
    from config.loader import LoadedConfig

# name -> the module whose ``KIND`` is that kind's behaviour; in the order `liftrun init` offers
KINDS: dict[str, str] = {
    "ics": "adapters.ics.kind",
    "caldav": "adapters.caldav.kind",
    "google": "adapters.google.kind",
    "vdir": "adapters.vdir.kind",
}
DEFAULT_KIND = "ics"  # a [[calendars]] entry without ``kind``, and init's default answer


def _calendar_kind(value: Any) -> str:
    kind = (
        value.get("kind", DEFAULT_KIND)
        if isinstance(value, dict)
        else getattr(value, "kind", DEFAULT_KIND)
    )
    return str(kind)


Calendar = Annotated[
    Annotated[IcsCalendar, Tag("ics")]
    | Annotated[VdirCalendar, Tag("vdir")]
    | Annotated[CaldavCalendar, Tag("caldav")]
    | Annotated[GoogleCalendar, Tag("google")],
    Discriminator(_calendar_kind),
]


@dataclass(frozen=True)
class OpenContext:
    """What a kind needs besides its own settings to open its calendars for one cycle.

    ``recall`` gives what earlier cycles learnt under a store key (a calendar's URL or id);
    ``probe`` (``liftrun check``) opens targets without leave to create anything; ``persist``
    false (``sync --dry-run``) lets adapters read their caches but not write them."""

    loaded: LoadedConfig
    now: datetime
    recall: Callable[[str], str | None]
    source_deadline: float  # seconds a source may take, a little inside the cycle's wait
    probe: bool = False
    persist: bool = True


@dataclass(frozen=True)
class SourceOpening:
    """A busy source opened on demand: ``open()`` may raise, and the source then stays in the
    cycle under ``name`` (free of secrets), failing every read with the reason. A source that
    finds out where it lives (it implements ``Learns``) is remembered under ``remember_as``."""

    name: str
    open: Callable[[], BusySource]
    remember_as: str | None = None


@dataclass(frozen=True)
class TargetOpening:
    """A target and what its content depends on besides the session (the alarm is content)."""

    target: CalendarTarget
    alarm_minutes: int | None


@dataclass
class Opened:
    """One ``[[calendars]]`` entry's part of a cycle. ``unopened`` are busy sources and
    ``broken`` targets that could not even be opened, each with why (said once, per calendar);
    ``learns`` pairs a store key with the calendar whose ``learned()`` is kept under it."""

    sources: list[SourceOpening] = field(default_factory=list)
    targets: list[TargetOpening] = field(default_factory=list)
    unopened: dict[str, str] = field(default_factory=dict)
    broken: dict[str, str] = field(default_factory=dict)
    learns: list[tuple[str, Learns]] = field(default_factory=list)


@dataclass(frozen=True)
class Consent:
    """How a sign-in asks the athlete: a browser here, or an address to open elsewhere."""

    console: bool
    port: int
    open_browser: bool


class SignInFailed(Exception):
    """A sign-in that cannot go on; the message says why and what to do, for the athlete."""


class SignIn(Protocol):
    """``liftrun auth <kind>``: a one-time consent a kind needs before it can sync."""

    @property
    def help(self) -> str:
        """The command's help: what it authorises."""
        ...

    def __call__(
        self,
        loaded: LoadedConfig,
        calendar_name: str | None,
        consent: Consent,
        say: Callable[[str], None],
    ) -> str:
        """Sign in for the kind's calendar named ``calendar_name`` (the first one when None);
        the closing line to show, or :class:`SignInFailed`."""
        ...


C_contra = TypeVar("C_contra", contravariant=True)


class CalendarKind(Protocol[C_contra]):
    """What each kind's ``kind.py`` offers as ``KIND``; ``C_contra`` is its settings model."""

    @property
    def summary(self) -> str:
        """One line for ``liftrun init``'s menu: what this kind of calendar is."""
        ...

    @property
    def sign_in(self) -> SignIn | None:
        """The kind's ``liftrun auth`` command, if it needs one."""
        ...

    def open(self, cal: C_contra, ctx: OpenContext) -> Opened:
        """The entry's busy sources and targets for one cycle. Imports its adapters here, so
        a config without this kind never loads their clients."""
        ...

    def questions(self, asker: Asker, base: Path) -> KindAnswers:
        """``liftrun init``'s questions about a calendar of this kind; ``base`` is the
        directory the config is written to."""
        ...


def behaviour(kind: str) -> CalendarKind[Any]:
    """The behaviour of the kind named ``kind`` (a key of :data:`KINDS`), imported now."""
    found: CalendarKind[Any] = importlib.import_module(KINDS[kind]).KIND
    return found


def sign_ins() -> dict[str, SignIn]:
    """The kinds that need a sign-in, by name: ``liftrun auth``'s commands."""
    found = {name: behaviour(name).sign_in for name in KINDS}
    return {name: sign_in for name, sign_in in found.items() if sign_in is not None}
