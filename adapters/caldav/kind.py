"""The CalDAV kind: sessions pushed into a calendar on a CalDAV server (created when missing),
busy time read from the account's other calendars. caldav and its HTTP stack are imported only
when a config has such a calendar.

Two things are remembered in the state store. Each calendar's URL, once found, under
:func:`url_key`: the binding of a ``push_to`` / ``busy_from`` name to the calendar it meant, so a
calendar renamed on the server is still the one liftrun writes to. And one
:class:`~adapters.caldav.account.Account` per entry, under
:func:`~adapters.caldav.account.account_key`: what the server said about the account (the auth
scheme, the principal and home, the calendars listed), shared by the entry's target and busy
sources, so a run sends credentials up front and walks to no calendar it found before. The
account does not replace the bindings: a listing answers which calendars exist now, a binding
which one a name meant when it was first resolved, and only the latter survives a rename.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError

from adapters.caldav.account import without_password
from adapters.caldav.settings import CaldavCalendar
from adapters.kinds import CalendarKind, OpenContext, Opened, SignIn, SourceOpening, TargetOpening
from adapters.wizard import (
    Asker,
    NextSteps,
    default,
    error_text,
    items,
    local_path,
    optional_text,
    q,
    q_list,
    required_text,
)


def caldav_url(text: str) -> str:
    value = text.strip()
    try:
        CaldavCalendar(kind="caldav", url=value)
    except ValidationError as exc:
        raise ValueError(error_text(exc)) from None
    return value


def url_key(server: str, calendar: str) -> str:
    """The store key a calendar's URL is remembered under (a password in the URL left out)."""
    return f"caldav-url:{without_password(server)}:{calendar}"


@dataclass(frozen=True)
class CaldavAnswers:
    url: str
    username: str | None
    password_file: str
    push_to: str
    busy_from: tuple[str, ...]
    kind: str = "caldav"

    def section(self) -> list[str]:
        out = [
            "[[calendars]]",
            f"kind = {q(self.kind)}",
            'name = "training"            # how reports and `liftrun status` name it',
            "# The server's base URL; the calendars are discovered from it (RFC 6764).",
            f"url = {q(self.url)}",
        ]
        if self.username is not None:
            out.append(f"username = {q(self.username)}")
        return [
            *out,
            '# The password is read from this file (or use password_env = "VARIABLE");',
            "# it is never printed, not even in error messages.",
            f"password_file = {q(self.password_file)}",
            "# The calendar for the sessions, by display name or URL: created if missing.",
            f"push_to = {q(self.push_to)}",
            "# Calendars whose events are busy time (display names or URLs).",
            f"busy_from = {q_list(self.busy_from)}",
            default(CaldavCalendar, "alarm_minutes"),
            default(CaldavCalendar, "timeout_seconds"),
            '# auth = "basic"             # or "digest"; default: what the server asks for',
            '# verify_tls = true, ca_file = "/etc/ssl/my-ca.pem"',
        ]

    def files_to_come(self) -> tuple[str, ...]:
        return (self.password_file,)

    def next_steps(self, flag: str) -> NextSteps:
        if Path(self.password_file).is_file():
            return NextSteps()
        return NextSteps(
            first=(
                f"put the CalDAV password into {self.password_file} "
                f"(printf '%s' 'PASSWORD' > FILE; chmod 600 FILE)",
            )
        )


class CaldavKind:
    summary = "Nextcloud, Fastmail, iCloud, Radicale, ...: sessions pushed into a calendar"
    sign_in: SignIn | None = None

    def open(self, cal: CaldavCalendar, ctx: OpenContext) -> Opened:
        # imported here: caldav and its HTTP stack cost a cycle without a CalDAV calendar 0.1 s
        from adapters.cache import Cache
        from adapters.caldav.account import Account, account_key
        from adapters.caldav.source import CalDAVSource
        from adapters.caldav.target import CalDAVTarget

        loaded = ctx.loaded
        common: dict[str, Any] = {
            "username": cal.username,
            "password": cal.password.get_secret_value() if cal.password else None,
            "timezone": loaded.settings.timezone,
            "cache": Cache(loaded.state_dir / "caldav", persist=ctx.persist),
            "verify_tls": cal.verify_tls,
            "ca_file": str(loaded.resolve(cal.ca_file)) if cal.ca_file else None,
            "auth_type": cal.auth,
            "timeout": cal.timeout_seconds,
        }
        opened = Opened()
        known = account_key(cal.url, cal.username)
        common["account"] = Account.from_json(ctx.recall(known))
        opened.learns.append((known, common["account"]))
        account = cal.name or urlsplit(cal.url).hostname or "caldav"
        for spec in cal.busy_from:
            key = url_key(cal.url, spec)
            name = f"{account}: {spec}"
            opened.sources.append(
                SourceOpening(
                    name,
                    functools.partial(
                        CalDAVSource,
                        cal.url,
                        calendar=spec,
                        calendar_url=ctx.recall(key),
                        name=name,
                        deadline_seconds=ctx.source_deadline,
                        **common,
                    ),
                    remember_as=key,
                )
            )
        if not cal.push_to:
            return opened
        key = url_key(cal.url, cal.push_to)
        target = CalDAVTarget(
            cal.url,
            calendar=cal.push_to,
            calendar_url=ctx.recall(key),
            name=cal.name or cal.push_to,
            now=ctx.now,
            alarm_minutes=cal.alarm_minutes,
            create=not ctx.probe,
            detect_preconditions=True,
            **common,
        )
        opened.targets.append(TargetOpening(target, cal.alarm_minutes))
        opened.learns.append((key, target))
        return opened

    def questions(self, asker: Asker, base: Path) -> CaldavAnswers:
        url = asker.ask("CalDAV server URL (https://...)", caldav_url)
        username = asker.ask("User name ('none' if the server asks for none)", optional_text)
        asker.say(
            "liftrun never asks for the password: put it in a file only you can read "
            "(chmod 600) and name that file here."
        )
        return CaldavAnswers(
            url=url,
            username=username,
            password_file=asker.ask(
                "Password file",
                lambda t: local_path(t, base, absolute=True),
                default=str(base / "caldav-password"),
            ),
            push_to=asker.ask(
                "Calendar liftrun writes sessions into (created if missing)",
                required_text("the calendar name"),
                default="Training",
            ),
            busy_from=tuple(
                asker.ask(
                    "Calendars to read busy time from: display names or URLs, comma-separated",
                    items,
                    default="none",
                )
            ),
        )


KIND: CalendarKind[CaldavCalendar] = CaldavKind()
