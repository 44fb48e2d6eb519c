"""``liftrun auth google``: the one-time consent that lets liftrun write its Training calendar
and read free/busy time; the token is saved as JSON (mode 0600) where the config says.

The Google client libraries are imported when the flow runs, not when ``liftrun auth`` lists
its commands.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from adapters.google.settings import GoogleCalendar
from adapters.kinds import Consent, SignInFailed

if TYPE_CHECKING:
    from config.loader import LoadedConfig


class GoogleSignIn:
    help = (
        "Authorise liftrun for Google Calendar (scopes: calendar.app.created, calendar.freebusy)."
    )

    def __call__(
        self,
        loaded: LoadedConfig,
        calendar_name: str | None,
        consent: Consent,
        say: Callable[[str], None],
    ) -> str:
        entries = [
            c
            for c in loaded.settings.calendars
            if isinstance(c, GoogleCalendar) and c.auth == "oauth"
            if calendar_name is None or c.name == calendar_name
        ]
        if not entries:
            raise SignInFailed(
                "no [[calendars]] entry with kind = 'google' and auth = 'oauth' in the config"
            )
        cal = entries[0]
        if not cal.client_secrets_file:
            raise SignInFailed(
                "calendars: kind = 'google' needs client_secrets_file (the OAuth client JSON of "
                "a desktop app from your Google Cloud project) for `liftrun auth google`"
            )
        secrets = loaded.resolve(cal.client_secrets_file)
        token = cal.token_path(loaded.resolve, loaded.state_dir)
        if not secrets.is_file():
            raise SignInFailed(f"client_secrets_file = {secrets}: no such file")
        from adapters.google.auth import SCOPES, run_flow

        say(f"asking Google for: {', '.join(SCOPES)}")
        try:
            run_flow(
                secrets,
                token,
                console=consent.console,
                port=consent.port,
                open_browser=consent.open_browser,
            )
        except (ValueError, OSError) as exc:
            raise SignInFailed(f"Google sign-in failed: {exc}") from None
        return f"saved the token to {token} (mode 0600); `liftrun sync` can run now"
