"""``liftrun auth google``: the one-time consent that lets liftrun write its Training calendar
and read free/busy time; the token is saved as JSON (mode 0600) where the config says."""

from __future__ import annotations

import click

from cli.common import config_option, fail, load_config


@click.group()
def auth() -> None:
    """Sign in to calendar services that need consent (Google)."""


@auth.command()
@config_option
@click.option("--calendar", "calendar_name", help="Which [[calendars]] entry (its name).")
@click.option(
    "--console",
    is_flag=True,
    help="No browser on this machine: print the address to open elsewhere, paste the answer.",
)
@click.option("--port", type=click.IntRange(0, 65535), default=0, help="Loopback port (0: any).")
@click.option("--no-browser", is_flag=True, help="Do not open a browser; print the address.")
def google(
    *,
    config_path: str | None,
    calendar_name: str | None,
    console: bool,
    port: int,
    no_browser: bool,
) -> None:
    """Authorise liftrun for Google Calendar (scopes: calendar.app.created, calendar.freebusy)."""
    from adapters.google.auth import SCOPES, run_flow
    from config.models import GoogleCalendar

    loaded = load_config(config_path)
    entries = [
        c
        for c in loaded.settings.calendars
        if isinstance(c, GoogleCalendar) and c.auth == "oauth"
        if calendar_name is None or c.name == calendar_name
    ]
    if not entries:
        fail("no [[calendars]] entry with kind = 'google' and auth = 'oauth' in the config")
    cal = entries[0]
    if not cal.client_secrets_file:
        fail(
            "calendars: kind = 'google' needs client_secrets_file (the OAuth client JSON of a "
            "desktop app from your Google Cloud project) for `liftrun auth google`"
        )
    secrets = loaded.resolve(cal.client_secrets_file)
    token = cal.token_path(loaded.resolve, loaded.state_dir)
    if not secrets.is_file():
        fail(f"client_secrets_file = {secrets}: no such file")
    click.echo(f"asking Google for: {', '.join(SCOPES)}")
    try:
        run_flow(secrets, token, console=console, port=port, open_browser=not no_browser)
    except (ValueError, OSError) as exc:
        fail(f"Google sign-in failed: {exc}")
    click.echo(f"saved the token to {token} (mode 0600); `liftrun sync` can run now")
