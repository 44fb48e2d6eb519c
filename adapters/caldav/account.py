"""What liftrun knows about one CalDAV account (a configured url and username) between runs.

An idle cycle should cost one request per calendar, and a first run as few as the server allows.
Two things stood in the way, each relearnt by every calendar of every run: the auth scheme (a
401 challenge before each calendar's first request) and the discovery walk (principal, calendar
home, the listing of the home). The :class:`Account` remembers both in the state store, as JSON
under :func:`account_key`, through the contract's ``Learns``: the kind recalls it when it opens
the ``[[calendars]]`` entry, and the engine keeps :meth:`Account.learned` after the cycle (never
after a dry run). One Account is shared by the entry's target and all its busy sources, which
are read on threads at once: every read and change takes its lock, and :attr:`Account.walking`
serialises discovery, so concurrent sources make one walk between them.

What is kept is what the server said, never the password: the scheme it asked for (``basic``,
``digest`` or ``none``), the principal and calendar-home URLs, the calendars listed in the home
(URL and display name), and :meth:`Account.fact` strings other modules learn about the account's
calendars. Anything unreadable in the stored JSON is dropped: it only costs a rediscovery.

What the account knows is trusted until a request says otherwise: a 404 or a permanent
redirect (:mod:`adapters.caldav.discovery` and the target and source decide what that means),
or another url or username in the config, which is another key and so another account.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

__all__ = ["SCHEMES", "Account", "CalendarInfo", "account_key"]

SCHEMES = ("basic", "digest", "none")
_VERSION = 1


@dataclass(frozen=True)
class CalendarInfo:
    """One calendar of the account's home: where it is and the name the athlete knows it by."""

    url: str
    display_name: str


def without_password(url: str) -> str:
    """``url`` with any password in its userinfo left out (a store key holds no secret)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.netloc.rsplit("@", 1)[0].split(":", 1)[0]
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit((parts.scheme, f"{user}@{host}", parts.path, parts.query, parts.fragment))


def account_key(url: str, username: str | None) -> str:
    """The store key of the account at ``url`` for ``username``: another url or user is another
    account, discovered afresh."""
    return f"caldav-account:{without_password(url)}:{username or ''}"


class Account:
    """One CalDAV account's remembered facts, shared by the calendars of one config entry.

    ``scheme`` is what the server asked for: sessions send it up front (see
    :mod:`adapters.caldav.session`). ``home`` and ``calendars`` spare the discovery walk.
    ``generation`` counts the listings made in this process: 0 means the listing (if any) came
    from the store, so a name missing from it, or a URL that answers 404, earns one fresh
    listing before liftrun concludes the calendar is not there.

    The fact map is for per-calendar facts other modules learn and want kept (say, whether a
    calendar enforces ``If-Match``): ``set_fact(name, value)`` with a name that says what and
    which calendar (``"preconditions:" + calendar_url``), ``fact(name)`` reads it back (None when
    unknown). Values are short strings; they are stored with the account and forgotten with it
    when the url or username changes.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.walking = threading.RLock()
        self._scheme: str | None = None
        self._principal: str | None = None
        self._home: str | None = None
        self._home_found_here = False
        self._calendars: tuple[CalendarInfo, ...] | None = None
        self._generation = 0
        self._facts: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"Account(scheme={self.scheme!r}, home={self.home!r})"

    # -- the store ---------------------------------------------------------------------------
    @classmethod
    def from_json(cls, text: str | None) -> Account:
        """The account as stored; whatever is missing or unreadable is simply not known."""
        account = cls()
        try:
            data = json.loads(text) if text else None
        except ValueError:
            data = None
        if not isinstance(data, dict) or data.get("version") != _VERSION:
            return account
        scheme = data.get("scheme")
        account._scheme = scheme if scheme in SCHEMES else None
        account._principal = _text(data.get("principal"))
        account._home = _text(data.get("home"))
        account._calendars = _calendars(data.get("calendars"))
        facts = data.get("facts")
        if isinstance(facts, dict):
            account._facts = {k: v for k, v in facts.items() if isinstance(v, str)}
        return account

    def learned(self) -> str | None:
        """The contract's ``Learns``: the account as JSON, or None while nothing is known. Keys
        are sorted so that an unchanged account is the same text, and the store is not
        written."""
        with self._lock:
            data: dict[str, Any] = {
                "version": _VERSION,
                "scheme": self._scheme,
                "principal": self._principal,
                "home": self._home,
                "calendars": None
                if self._calendars is None
                else [{"url": c.url, "name": c.display_name} for c in self._calendars],
                "facts": dict(self._facts),
            }
        if not any(v for k, v in data.items() if k != "version"):
            return None
        return json.dumps(data, sort_keys=True, separators=(",", ":"))

    # -- auth --------------------------------------------------------------------------------
    @property
    def scheme(self) -> str | None:
        with self._lock:
            return self._scheme

    def learn_scheme(self, scheme: str) -> None:
        """What the server asked for. ``none`` (a request answered without credentials) only
        fills a blank: a server that asked for a login on one calendar is not taken to need
        none because another URL answered without."""
        assert scheme in SCHEMES, scheme
        with self._lock:
            if scheme != "none" or self._scheme is None:
                self._scheme = scheme

    # -- discovery ---------------------------------------------------------------------------
    @property
    def principal(self) -> str | None:
        with self._lock:
            return self._principal

    @property
    def home(self) -> str | None:
        with self._lock:
            return self._home

    @property
    def home_found_here(self) -> bool:
        """The home was walked to in this process (not recalled): a 404 on it is not stale."""
        with self._lock:
            return self._home_found_here

    def found_home(self, principal: str | None, home: str) -> None:
        with self._lock:
            self._principal, self._home, self._home_found_here = principal, home, True

    def forget_home(self) -> None:
        """The home moved: it and its listing are stale; the principal is tried first."""
        with self._lock:
            self._home, self._calendars, self._home_found_here = None, None, False

    def forget_principal(self) -> None:
        with self._lock:
            self._principal = None

    @property
    def calendars(self) -> tuple[CalendarInfo, ...] | None:
        """The home's calendars as last listed (None: never listed)."""
        with self._lock:
            return self._calendars

    @property
    def generation(self) -> int:
        """How many listings this process made (0: the listing, if any, is the store's)."""
        with self._lock:
            return self._generation

    def listed(self, calendars: list[CalendarInfo]) -> None:
        with self._lock:
            self._calendars = tuple(calendars)
            self._generation += 1

    def added(self, calendar: CalendarInfo) -> None:
        """A calendar liftrun just created: in the listing without listing again."""
        with self._lock:
            known = self._calendars or ()
            self._calendars = (*(c for c in known if c.url != calendar.url), calendar)

    def moved(self, old: str, new: str) -> None:
        """A calendar the server says moved permanently (301/308): the listing follows it."""
        with self._lock:
            if self._calendars is not None:
                self._calendars = tuple(
                    CalendarInfo(new, c.display_name) if c.url == old else c
                    for c in self._calendars
                )

    # -- facts -------------------------------------------------------------------------------
    def fact(self, name: str) -> str | None:
        with self._lock:
            return self._facts.get(name)

    def set_fact(self, name: str, value: str) -> None:
        with self._lock:
            self._facts[name] = value


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _calendars(value: Any) -> tuple[CalendarInfo, ...] | None:
    if not isinstance(value, list):
        return None
    found = []
    for item in value:
        if not isinstance(item, dict):
            return None
        url, name = item.get("url"), item.get("name")
        if not isinstance(url, str) or not url or not isinstance(name, str):
            return None
        found.append(CalendarInfo(url, name))
    return tuple(found)
