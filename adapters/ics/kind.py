"""The ICS kind: busy time read from iCal addresses and files, sessions written into a feed
file that ``liftrun serve`` publishes. The HTTP source (httpx, tenacity) is imported only for a
calendar that reads busy time.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from adapters.ics.settings import IcsCalendar
from adapters.kinds import CalendarKind, OpenContext, Opened, SignIn, SourceOpening, TargetOpening
from adapters.protocol import AdapterError
from adapters.wizard import (
    Asker,
    NextSteps,
    default,
    error_text,
    items,
    local_path,
    q,
    q_list,
)


def source_name(location: str) -> str:
    """How a busy source is named in reports: its address without secrets."""
    try:
        from adapters.locations import display_name

        return display_name(location)
    except ValueError:  # the source itself refuses the location, with the reason
        return "an ICS source with a malformed address"


def ics_sources(base: Path) -> Callable[[str], tuple[str, ...]]:
    def convert(text: str) -> tuple[str, ...]:
        found = [i if "://" in i else local_path(i, base, absolute=True) for i in items(text)]
        try:
            IcsCalendar(busy_from=found)
        except ValidationError as exc:
            raise ValueError(error_text(exc)) from None
        return tuple(found)

    return convert


@dataclass(frozen=True)
class IcsAnswers:
    push_to: str
    busy_from: tuple[str, ...]
    kind: str = "ics"

    def section(self) -> list[str]:
        from config.models import Feed  # the [feed] section is the ICS feed's

        return [
            "[[calendars]]",
            f"kind = {q(self.kind)}",
            "# The feed liftrun writes; `liftrun serve` serves it for your calendar app to",
            '# subscribe to (see README.md, "The ICS feed").',
            f"push_to = {q(self.push_to)}",
            "# Busy time: secret iCal addresses (https, webcal) or absolute paths of .ics files;",
            "# sessions keep buffer_minutes clear of every event in them (S8).",
            f"busy_from = {q_list(self.busy_from)}",
            default(
                IcsCalendar, "alarm_minutes", "a reminder before each session; remove for none"
            ),
            "",
            "[feed]",
            default(Feed, "listen", "`liftrun serve` binds loopback unless told otherwise"),
            '# public_url = "https://training.example.com"   # behind a reverse proxy',
        ]

    def files_to_come(self) -> tuple[str, ...]:
        return ()

    def next_steps(self, flag: str) -> NextSteps:
        return NextSteps(
            last=(f"liftrun serve{flag}                  # serve the feed to subscribe to",)
        )


class IcsKind:
    summary = "a feed file any calendar app subscribes to (`liftrun serve`); no account needed"
    sign_in: SignIn | None = None

    def open(self, cal: IcsCalendar, ctx: OpenContext) -> Opened:
        loaded = ctx.loaded
        settings = loaded.settings
        opened = Opened()
        if cal.busy_from:
            from adapters.cache import Cache
            from adapters.ics.source import IcsSource  # httpx, tenacity: only with a source

            cache = Cache(loaded.state_dir / "sources", persist=ctx.persist)
            opened.sources += [
                SourceOpening(
                    source_name(location),
                    functools.partial(
                        IcsSource,
                        location,
                        cache=cache,
                        tz=settings.zone,
                        timeout=cal.fetch_timeout_seconds,
                        deadline_seconds=ctx.source_deadline,
                        max_bytes=cal.max_source_bytes,
                    ),
                )
                for location in cal.busy_from
            ]
        if not cal.push_to:
            return opened
        from adapters.ics.feed import IcsFeedTarget

        name = cal.name or cal.push_to
        try:
            target = IcsFeedTarget(
                loaded.resolve(cal.push_to),
                name=name,
                timezone=settings.timezone,
                now=ctx.now,
                calendar_name=cal.calendar_name,
                alarm_minutes=cal.alarm_minutes,
                retention_days=cal.cancelled_retention_days,
                refresh_minutes=settings.feed.refresh_minutes,
                shadow_path=(
                    loaded.resolve(cal.push_busy_shadow_to) if cal.push_busy_shadow_to else None
                ),
            )
        except AdapterError as exc:  # an unreadable feed is never overwritten blindly
            opened.broken[name] = str(exc)
            return opened
        opened.targets.append(TargetOpening(target, cal.alarm_minutes))
        return opened

    def questions(self, asker: Asker, base: Path) -> IcsAnswers:
        return IcsAnswers(
            push_to=asker.ask(
                "Feed file liftrun writes (relative to the config file)",
                lambda t: local_path(t, base, absolute=False),
                default="out/liftrun.ics",
            ),
            busy_from=asker.ask(
                "Busy calendars to read: secret iCal URLs or .ics paths, comma-separated",
                ics_sources(base),
                default="none",
            ),
        )


KIND: CalendarKind[IcsCalendar] = IcsKind()
