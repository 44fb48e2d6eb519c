"""The one origin a CalDAV account's requests and credentials may go to.

A CalDAV server names further URLs itself (redirects, principals, home sets, hrefs in every
multistatus), and a hostile or misconfigured one could name another host, port or scheme.
What counts as the same origin (RFC 6454), how a URL it chose is shown in a message without
its secrets, and how a reference it sent is resolved without a traceback are decided here,
once, for :class:`adapters.caldav.session.DavSession`, which refuses everything else.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from adapters.protocol import AdapterError

__all__ = ["Origin", "OtherServer", "join_url", "where"]

_DEFAULT_PORTS = {"http": 80, "https": 443}


class OtherServer(AdapterError):
    """A redirect or href leads off the configured server's origin. Never retried and never
    followed (not even without credentials): liftrun has no business on another server, and a
    hostile one must not learn the password or the athlete's calendar paths."""


@dataclass(frozen=True)
class Origin:
    """Where a URL's requests go (RFC 6454): scheme, lower-cased host and port with the scheme's
    default filled in, so ``https://Cal.Example:443/`` and ``https://cal.example/`` are one origin
    while ``http://cal.example/`` and ``https://cal.example:8443/`` are others."""

    scheme: str
    host: str
    port: int

    @classmethod
    def of(cls, url: str) -> Origin | None:
        """None for anything that is not an absolute http(s) URL with a usable host and port."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:  # a bad port or bracketed host
            return None
        scheme = parts.scheme.lower()
        if scheme not in _DEFAULT_PORTS or not parts.hostname:
            return None
        return cls(scheme, parts.hostname.lower(), _DEFAULT_PORTS[scheme] if port is None else port)

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        port = "" if self.port == _DEFAULT_PORTS[self.scheme] else f":{self.port}"
        return f"{self.scheme}://{host}{port}"


def where(url: str) -> str:
    """A URL as a message may show it: its origin only (a path or userinfo may hold a secret),
    escaped and short, since a hostile server chose it."""
    origin = Origin.of(url)
    if origin is not None:
        text = str(origin)
    else:
        try:
            scheme = urlsplit(url).scheme.lower()
        except ValueError:
            scheme = ""
        if scheme in _DEFAULT_PORTS:
            text = f"an {scheme} URL without a usable host or port"
        else:
            text = f"a {scheme}: URL" if scheme else "an unusable URL"
    text = ascii(text)[1:-1]
    return text if len(text) <= 100 else text[:97] + "..."


def join_url(base: str, reference: str) -> str:
    """``urljoin``, with "" (which no origin matches) for what it cannot parse: a hostile
    Location or href is refused in one line, never a ValueError traceback."""
    try:
        return urljoin(base, reference)
    except ValueError:
        return ""
