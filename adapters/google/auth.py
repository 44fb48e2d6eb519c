"""Credentials for Google Calendar: an athlete's OAuth token, a service account, or none.

Three modes, because liftrun runs in three places:

* ``"oauth"``: a person's account. ``liftrun auth google`` runs :func:`run_flow` once and writes
  the token as JSON (never pickle: a pickle is code) with mode 0600; every later run loads it,
  the access token is refreshed when it expires, and the refreshed token is written back so
  the next process does not refresh again.
* ``"service_account"``: a Workspace robot, optionally acting for ``subject`` (domain-wide
  delegation).
* ``"none"``: no credentials at all, for the test emulator. Allowed only when the API endpoint
  is a loopback address, so a typo in a config can never send unauthenticated calls to Google.

Scopes are the two narrow ones liftrun needs: ``calendar.app.created`` (create the Training
calendar and manage events in calendars liftrun created, nothing else) and
``calendar.freebusy`` (busy time of the athlete's other calendars without their contents).

Headless machines: Google retired the out-of-band (copy the code) flow, so there is no console
code prompt any more. ``run_flow(console=True)`` prints the authorization URL, the athlete
opens it on any machine, and after consent the browser is sent to ``http://localhost:PORT/``,
which fails to load there; the athlete pastes that whole address (or only its ``code``) back.
The other way is ``console=False, open_browser=False, port=8080`` on the server with
``ssh -L 8080:localhost:8080 server`` from the laptop, so the redirect reaches the flow's
local server through the tunnel.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal, cast
from urllib.parse import parse_qs, urlsplit

import google.oauth2.credentials
from google.auth.credentials import Credentials
from google.auth.transport import Request
from google.oauth2 import service_account

from adapters.atomic import atomic_write
from config.fields import is_loopback
from config.files import FileRefused, read_text_file

__all__ = [
    "SCOPES",
    "AuthMode",
    "TokenFileCredentials",
    "build_credentials",
    "load_token",
    "require_loopback_for_no_auth",
    "run_flow",
    "save_token",
]

SCOPES: tuple[str, ...] = (
    "https://www.googleapis.com/auth/calendar.app.created",
    "https://www.googleapis.com/auth/calendar.freebusy",
)
AuthMode = Literal["oauth", "service_account", "none"]
_HEADLESS_REDIRECT = "http://localhost:{port}/"
# A token or service-account key is a few KB; the cap keeps a FIFO or /dev/zero named in the
# config from hanging or flooding the process.
KEY_FILE_CAP = 64 * 1024


def require_loopback_for_no_auth(api_endpoint: str | None) -> None:
    """Unauthenticated calls only go to a local emulator, never to Google."""
    if not is_loopback(api_endpoint):
        raise ValueError(
            "Google auth mode 'none' is only allowed with a loopback api_endpoint (the test "
            f"emulator); got {api_endpoint or 'the Google API'}"
        )


class TokenFileCredentials(google.oauth2.credentials.Credentials):
    """User credentials that write themselves back to their token file after each refresh,
    so a long-running loop and the next process share one fresh access token."""

    token_file: Path | None = None

    def refresh(self, request: Request) -> None:
        cast(Any, super()).refresh(request)  # google-auth leaves refresh unannotated
        if self.token_file is not None:
            save_token(self, self.token_file)

    def _make_copy(self) -> TokenFileCredentials:
        """``with_token_uri`` and friends copy the credentials; the copy saves itself too and
        knows when its token expires (google-auth's copy forgets that)."""
        copy: TokenFileCredentials = cast(Any, super())._make_copy()
        copy.token_file = self.token_file
        copy.expiry = self.expiry
        return copy


def save_token(credentials: google.oauth2.credentials.Credentials, token_file: Path) -> None:
    """The token as JSON, mode 0600, replaced atomically (a reader never sees half a token)."""
    atomic_write(Path(token_file), cast(Any, credentials).to_json().encode("utf-8"), mode=0o600)


def load_token(token_file: Path, scopes: Sequence[str] = SCOPES) -> TokenFileCredentials:
    """The token ``liftrun auth google`` wrote; ValueError names the file when it is missing or
    not a token (the message never contains the token itself)."""
    path = Path(token_file)
    try:
        info: Any = json.loads(read_text_file(path, KEY_FILE_CAP))
    except FileRefused as exc:
        if not path.exists():
            raise ValueError(
                f"no Google token at {path}: run `liftrun auth google` first"
            ) from None
        raise ValueError(
            f"cannot read the Google token {path} ({exc.reason}): run `liftrun auth google` again"
        ) from None
    except ValueError as exc:
        raise ValueError(
            f"cannot read the Google token {path} ({type(exc).__name__}): run "
            "`liftrun auth google` again"
        ) from None
    if not isinstance(info, dict) or "refresh_token" not in info:
        raise ValueError(f"{path} is not a Google token: run `liftrun auth google` again")
    try:
        creds: TokenFileCredentials = cast(Any, TokenFileCredentials).from_authorized_user_info(
            info, list(scopes)
        )
    except ValueError:
        raise ValueError(f"{path} is not a Google token: run `liftrun auth google` again") from None
    creds.token_file = path
    return creds


def build_credentials(
    mode: AuthMode,
    *,
    token_file: Path | None = None,
    service_account_file: Path | None = None,
    subject: str | None = None,
    api_endpoint: str | None = None,
    scopes: Sequence[str] = SCOPES,
    persist: bool = True,
) -> Credentials | None:
    """Credentials for ``mode`` (None for ``"none"``); no request is made here, the first API
    call refreshes an expired token. ``persist=False`` (a dry run) keeps a refreshed OAuth token
    in memory only: the token file is read, never written (the next run refreshes again)."""
    if mode == "oauth":
        if token_file is None:
            raise ValueError("Google auth mode 'oauth' needs a token_file")
        token = load_token(token_file, scopes)
        if not persist:
            token.token_file = None
        return token
    if mode == "service_account":
        if service_account_file is None:
            raise ValueError("Google auth mode 'service_account' needs a service_account_file")
        try:
            key = json.loads(read_text_file(service_account_file, KEY_FILE_CAP))
            creds: Credentials = cast(Any, service_account.Credentials).from_service_account_info(
                key, scopes=list(scopes), subject=subject
            )
        except FileRefused as exc:
            raise ValueError(
                f"cannot read the service account key {service_account_file} ({exc.reason})"
            ) from None
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ValueError(
                f"cannot read the service account key {service_account_file} ({type(exc).__name__})"
            ) from None
        return creds
    if mode == "none":
        require_loopback_for_no_auth(api_endpoint)
        return None
    raise ValueError(f"unknown Google auth mode {mode!r}: use oauth, service_account or none")


def run_flow(
    client_secrets_file: Path,
    token_file: Path,
    *,
    console: bool,
    port: int = 0,
    open_browser: bool = True,
    scopes: Sequence[str] = SCOPES,
    prompt: Callable[[str], str] = input,
    show: Callable[[str], None] = print,
) -> google.oauth2.credentials.Credentials:
    """``liftrun auth google``: consent in a browser, then the token saved to ``token_file``.

    ``console=False`` serves the redirect on a loopback port (``port`` 0 picks a free one)
    and opens the browser unless ``open_browser`` is False. ``console=True`` is for a machine
    without a browser: see the module docstring for how the redirect address is pasted back.
    """
    from google_auth_oauthlib.flow import InstalledAppFlow  # type: ignore[import-untyped]  # noqa: PLC0415

    flow = InstalledAppFlow.from_client_secrets_file(str(client_secrets_file), scopes=list(scopes))
    if not console:
        creds = flow.run_local_server(host="localhost", port=port, open_browser=open_browser)
    else:
        flow.redirect_uri = _HEADLESS_REDIRECT.format(port=port or 8080)
        url, _state = flow.authorization_url(access_type="offline", prompt="consent")
        show(
            "Open this address in a browser on any machine and allow access:\n\n"
            f"  {url}\n\n"
            "The browser then tries to open http://localhost/... and shows an error page: "
            "copy that page's whole address and paste it here."
        )
        answer = prompt("Address (or code): ").strip()
        if answer.startswith(("http://", "https://")):
            query = parse_qs(urlsplit(answer).query)
            if "error" in query:
                raise ValueError(f"Google did not grant access: {query['error'][0]}")
            # oauthlib insists on https for the redirect; the local address is never fetched.
            flow.fetch_token(authorization_response="https://" + answer.split("://", 1)[1])
        else:
            flow.fetch_token(code=answer)
        creds = flow.credentials
    if not isinstance(creds, google.oauth2.credentials.Credentials):
        raise ValueError("the Google sign-in did not return user credentials")
    save_token(creds, Path(token_file))
    return creds
