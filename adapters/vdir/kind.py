"""The vdir kind: sessions written as one .ics file each into a directory, busy time read from
directories of the same shape (as khal and vdirsyncer keep them)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from adapters.kinds import CalendarKind, OpenContext, Opened, SignIn, SourceOpening, TargetOpening
from adapters.vdir.settings import VdirCalendar
from adapters.wizard import Asker, NextSteps, default, items, local_path, q, q_list


@dataclass(frozen=True)
class VdirAnswers:
    push_to: str
    busy_from: tuple[str, ...]
    kind: str = "vdir"

    def section(self) -> list[str]:
        return [
            "[[calendars]]",
            f"kind = {q(self.kind)}",
            "# A directory with one .ics file per session (khal, vdirsyncer): created if missing.",
            f"push_to = {q(self.push_to)}",
            "# Directories whose events are busy time.",
            f"busy_from = {q_list(self.busy_from)}",
            default(VdirCalendar, "alarm_minutes"),
        ]

    def files_to_come(self) -> tuple[str, ...]:
        return ()

    def next_steps(self, flag: str) -> NextSteps:
        return NextSteps()


class VdirKind:
    summary = "a directory of .ics files, as khal and vdirsyncer keep them"
    sign_in: SignIn | None = None

    def open(self, cal: VdirCalendar, ctx: OpenContext) -> Opened:
        from adapters.vdir.directory import VdirSource, VdirTarget

        loaded = ctx.loaded
        settings = loaded.settings
        opened = Opened()
        for location in cal.busy_from:
            path = loaded.resolve(location)
            opened.sources.append(
                SourceOpening(
                    str(path),
                    functools.partial(
                        VdirSource,
                        path,
                        name=str(path),
                        tz=settings.zone,
                        deadline_seconds=ctx.source_deadline,
                    ),
                )
            )
        if not cal.push_to:
            return opened
        target = VdirTarget(
            loaded.resolve(cal.push_to),
            name=cal.name or cal.push_to,
            timezone=settings.timezone,
            now=ctx.now,
            alarm_minutes=cal.alarm_minutes,
            create_missing=not ctx.probe,
        )
        opened.targets.append(TargetOpening(target, cal.alarm_minutes))
        return opened

    def questions(self, asker: Asker, base: Path) -> VdirAnswers:
        return VdirAnswers(
            push_to=asker.ask(
                "Directory liftrun writes sessions into (relative to the config file)",
                lambda t: local_path(t, base, absolute=False),
                default="calendars/training",
            ),
            busy_from=tuple(
                local_path(p, base, absolute=False)
                for p in asker.ask(
                    "Directories to read busy time from, comma-separated", items, default="none"
                )
            ),
        )


KIND: CalendarKind[VdirCalendar] = VdirKind()
