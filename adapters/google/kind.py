"""The Google kind: sessions in a dedicated secondary calendar of a Google account (created when
missing), busy time from the account's calendars via freebusy, and the OAuth sign-in
(``liftrun auth google``). The Google API client is imported only when a config has such a
calendar: it costs a cycle without one 0.1 s or more. The Training calendar's id, once found, is
remembered in the state store, so a renamed calendar is still the one liftrun writes to.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from adapters.google.settings import GoogleCalendar
from adapters.google.sign_in import GoogleSignIn
from adapters.kinds import CalendarKind, OpenContext, Opened, SignIn, SourceOpening, TargetOpening
from adapters.wizard import Asker, NextSteps, default, items, local_path, q, q_list


@dataclass(frozen=True)
class GoogleAnswers:
    client_secrets_file: str
    busy_from: tuple[str, ...]
    push_to: str = "Training"
    kind: str = "google"

    def section(self) -> list[str]:
        return [
            "[[calendars]]",
            f"kind = {q(self.kind)}",
            'name = "google"',
            'auth = "oauth"               # or "service_account" with service_account_file',
            "# The OAuth client (a desktop app's JSON) `liftrun auth google` signs in with.",
            f"client_secrets_file = {q(self.client_secrets_file)}",
            '# token_file = "/path/google-token.json"  # default: in the state directory (0600)',
            "# A dedicated secondary calendar for the sessions: created on the first sync.",
            f"push_to = {q(self.push_to)}",
            "# Calendar ids whose busy time is read (freebusy only: no titles or details).",
            f"busy_from = {q_list(self.busy_from)}",
            default(GoogleCalendar, "alarm_minutes"),
        ]

    def files_to_come(self) -> tuple[str, ...]:
        return ()  # the OAuth client file is read by `liftrun auth google`, not by the loader

    def next_steps(self, flag: str) -> NextSteps:
        return NextSteps(
            first=(
                f"save the OAuth client JSON as {self.client_secrets_file}, then sign in: "
                f"liftrun auth google{flag}",
            )
        )


class GoogleKind:
    summary = "Google Calendar through its API (`liftrun auth google` once)"
    sign_in: SignIn | None = GoogleSignIn()

    def open(self, cal: GoogleCalendar, ctx: OpenContext) -> Opened:
        from adapters.cache import Cache
        from adapters.google.auth import build_credentials
        from adapters.google.source import GoogleSource
        from adapters.google.target import GoogleTarget

        loaded = ctx.loaded
        settings = loaded.settings
        opened = Opened()
        account = cal.name or "google"
        name = cal.name or cal.push_to or "google"
        source_name = f"{account}: {', '.join(cal.busy_from)}"
        token_file = cal.token_path(loaded.resolve, loaded.state_dir)
        try:
            credentials = build_credentials(
                cal.auth,
                token_file=token_file,
                service_account_file=(
                    loaded.resolve(cal.service_account_file) if cal.service_account_file else None
                ),
                subject=cal.subject,
                api_endpoint=cal.api_endpoint,
                persist=ctx.persist,
            )
        except ValueError as exc:  # no token yet, an unreadable key: said once, per calendar
            if cal.push_to:
                opened.broken[name] = str(exc)
            if cal.busy_from:
                opened.unopened[source_name] = str(exc)
            return opened
        cache = Cache(loaded.state_dir / "google", persist=ctx.persist)
        key = f"google-calendar-id:{token_file}:{cal.push_to}"
        remembered = ctx.recall(key)
        if cal.push_to:
            target = GoogleTarget(
                api_endpoint=cal.api_endpoint,
                credentials=credentials,
                calendar=cal.push_to,
                calendar_id=remembered,
                timezone=settings.timezone,
                now=ctx.now,
                cache=cache,
                alarm_minutes=cal.alarm_minutes,
                name=name,
                account=str(token_file),
                create=not ctx.probe,
            )
            opened.targets.append(TargetOpening(target, cal.alarm_minutes))
            opened.learns.append((key, target))
        if cal.busy_from:
            opened.sources.append(
                SourceOpening(
                    source_name,
                    lambda: GoogleSource(
                        cal.busy_from,
                        api_endpoint=cal.api_endpoint,
                        credentials=credentials,
                        timezone=settings.timezone,
                        name=source_name,
                        exclude=[remembered] if remembered else [],
                        cache=cache,
                        account=str(token_file),
                    ),
                )
            )
        return opened

    def questions(self, asker: Asker, base: Path) -> GoogleAnswers:
        return GoogleAnswers(
            client_secrets_file=asker.ask(
                "OAuth client file (a desktop app's JSON from the Google Cloud console)",
                lambda t: local_path(t, base, absolute=False),
                default="google-client.json",
            ),
            busy_from=tuple(
                asker.ask(
                    "Calendar ids to read busy time from, comma-separated ('primary' is yours)",
                    items,
                    default="primary",
                )
            ),
        )


KIND: CalendarKind[GoogleCalendar] = GoogleKind()
