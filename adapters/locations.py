"""Where a busy calendar lives, and how that place may be shown.

The "secret iCal address" of Google Calendar, iCloud and Outlook is a capability URL: whoever
has it can read the calendar. Everything that leaves liftrun (names in reports, error messages,
warnings, log lines) shows only ``scheme://host/…/<last segment>``, with a token-like last
segment shortened too. This module has no HTTP client behind it, so the log formatter and the
engine can scrub text without loading one.
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

__all__ = ["display_name", "fetch_url", "file_path", "hide_urls"]

_HTTP_SCHEMES = {"http": "http", "https": "https", "webcal": "https", "webcals": "https"}
# A path segment is shown in full only when it does not look like a token: secret addresses
# carry long random runs (Google's private-<hex>, iCloud's base64 ids, Nextcloud's tokens).
_TOKEN_RUN = re.compile(r"[A-Za-z0-9_\-%]{12,}")
_MAX_SHOWN_SEGMENT = 40
_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s'\"<>]+")


def fetch_url(location: str) -> str:
    """The http(s) URL a subscription location is fetched from.

    ``webcal://`` (and ``webcals://``) is only a hint for calendar apps to subscribe; the feed
    behind it is plain HTTP, and it is fetched over TLS because that is what every provider
    serves and a capability URL must not travel in clear text.

    Raises:
        ValueError: ``location`` is not an http(s) or webcal(s) URL.
    """
    scheme, sep, rest = location.partition("://")
    mapped = _HTTP_SCHEMES.get(scheme.lower()) if sep else None
    if mapped is None:
        raise ValueError(f"{display_name(location)}: not an http(s):// or webcal:// URL")
    return f"{mapped}://{rest}"


def display_name(location: str) -> str:
    """How a location is shown anywhere outside this module, with the secret parts hidden.

    Local paths are shown as they are: a path is not a capability, and the person needs to see
    which file failed.

    Raises:
        ValueError: a host too malformed to parse (``http://[x/``).
    """
    if "://" not in location:
        return location
    parts = urlsplit(location)
    scheme = parts.scheme.lower()
    if scheme == "file":
        return location
    host = parts.hostname or ""
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    with contextlib.suppress(ValueError):  # a malformed port is simply not shown
        if parts.port is not None:
            host = f"{host}:{parts.port}"
    segments = [s for s in parts.path.split("/") if s]
    tail = ""
    if segments:
        tail = ("…/" if len(segments) > 1 else "") + _shown_segment(segments[-1])
    return f"{scheme}://{host}/{tail}{'?…' if parts.query else ''}"


def _shown_segment(segment: str) -> str:
    if len(segment) > _MAX_SHOWN_SEGMENT or any(
        any(c.isdigit() for c in run) for run in _TOKEN_RUN.findall(segment)
    ):
        return segment[:4] + "…"
    return segment


def file_path(location: str) -> Path | None:
    """The local file behind ``location``, or None when it is a URL to fetch."""
    if location.startswith("/"):
        return Path(location)
    scheme, sep, _ = location.partition("://")
    if not sep or scheme.lower() != "file":
        return None
    parts = urlsplit(location)
    if parts.netloc not in ("", "localhost"):
        raise ValueError(f"{location}: a file:// URL must name a local file (no host)")
    path = Path(unquote(parts.path))
    if not path.is_absolute():
        raise ValueError(f"{location}: a file:// URL needs an absolute path")
    return path


def hide_urls(text: str, *, keep_tail: bool = True) -> str:
    """``text`` with each URL shown as :func:`display_name` does, or as ``scheme://host/…`` only
    when the URL may be cut short (an excerpt), where the "last segment" is any segment.

    For text from anywhere (a library's message, a page excerpt), so it never raises: a URL
    too malformed to parse keeps only its scheme.
    """

    def shown(match: re.Match[str]) -> str:
        try:
            name = display_name(match.group(0))
        except ValueError:  # "http://[x/": no host to show
            return f"{match.group(0).split(':', 1)[0]}://…"
        if keep_tail:
            return name
        scheme, _, rest = name.partition("://")
        return f"{scheme}://{rest.split('/', 1)[0]}/…"

    return _URL_IN_TEXT.sub(shown, text)
