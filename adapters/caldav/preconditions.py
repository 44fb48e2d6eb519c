"""Servers that ignore ``If-Match`` / ``If-None-Match``: found out once, then guarded against.

liftrun promises that a session the athlete edited mid-cycle is never overwritten or deleted,
and on CalDAV it keeps that promise with preconditions: a create carries ``If-None-Match: *``,
an update and a cancel ``If-Match`` on the ETag last read, and the server answers 412 when the
resource changed meanwhile. Some servers (SOGo 5.8) ignore both headers: a create over an
existing resource overwrites it and a delete with a stale ETag goes through.

**Detect.** At the first use of the Training calendar, :meth:`Preconditions.ensure` writes a
scratch resource (:func:`probe_name`: a name no session's resource can have, a transparent
event in 2000 without liftrun's marks, so nobody takes it for a session or busy time) and asks:

1. ``PUT`` with ``If-None-Match: *``: 201 (else the test cannot tell and stops);
2. the same ``PUT`` again: 412, or the server "ignores If-None-Match";
3. ``PUT`` with ``If-Match`` on a made-up ETag: 412, or it "ignores If-Match" for updates;
4. ``DELETE`` with that ETag: 412, or it "ignores If-Match" for deletes (and the resource is
   gone: step 5 is skipped);
5. ``DELETE`` unconditionally, whatever happened before.

Five requests, once per calendar URL: the answer is an account fact (``preconditions:`` and
the calendar's URL), so a new calendar (a config change, a calendar made again) is tested anew.
A test that cannot finish (the network, a 5xx after the retries) fails nothing: this run
assumes the headers are ignored (the safe side) and the next run tests again. A scratch
resource that could not be removed is remembered as a fact too (``precondition-probe-left:``,
"" once removed) and removed first next time.

**Guard.** Where the server ignores them, :meth:`Preconditions.before_change` re-reads the
resource's ETag with a ``PROPFIND`` (Depth 0, ``getetag``; Radicale, Xandikos and Cyrus all
answer it, and it is the ETag a calendar-query reports, so it compares with the one liftrun
read) before an update or a cancel: changed is :class:`PreconditionFailed`, gone
:class:`NotFound`, exactly what a 412 or 404 would have said. Before a create,
:meth:`Preconditions.before_create` checks the resource is absent (else
:class:`AlreadyExists`). One request per write, and none on a server that enforces them.

The guard narrows the window rather than closing it: an edit that lands between the re-read and
the write (milliseconds, against the minutes or hours between liftrun's read and its write
without the guard) is still lost on such a server. Only the server can close it.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from adapters.caldav.collection import resource_key
from adapters.caldav.session import DavSession
from adapters.caldav.webdav import XML_HEADERS, D, Reply, parse_multistatus, propfind_body
from adapters.protocol import AdapterError, AlreadyExists, NotFound, PreconditionFailed

__all__ = [
    "PROBE_PREFIX",
    "PROBE_REQUESTS",
    "Enforcement",
    "Facts",
    "Preconditions",
    "probe_event",
    "probe_name",
]

log = logging.getLogger(__name__)

PROBE_PREFIX = "liftrun-precondition-probe-"
# What the test costs, once per calendar: 5 requests on a server that enforces preconditions,
# 4 on one whose stale DELETE goes through (the scratch event is gone with it).
PROBE_REQUESTS = 5
# An ETag no server hands out: a write conditional on it must fail on a server that looks.
_WRONG_ETAG = '"liftrun-precondition-probe-not-this-etag"'
_ENFORCED, _IGNORED = "enforced", "ignored"


class Facts(Protocol):
    """Where an account keeps what it found out about its server between runs."""

    def fact(self, name: str) -> str | None: ...

    def set_fact(self, name: str, value: str) -> None: ...


def probe_name() -> str:
    """The scratch resource's name: session resources are named from ``...@liftrun.invalid``
    UIDs, so this prefix is never one of theirs, and the random part keeps two runs apart."""
    return f"{PROBE_PREFIX}{secrets.token_hex(8)}.ics"


def probe_event(uid: str) -> bytes:
    """A harmless event: in 2000 (outside every window liftrun reads), TRANSPARENT (no busy
    time for anyone reading the calendar), without liftrun's UID domain or session mark (never
    taken for a session)."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//liftrun//precondition probe//EN",
        "BEGIN:VEVENT",
        f"UID:{uid}",
        "DTSTAMP:20000101T000000Z",
        "DTSTART:20000101T000000Z",
        "DTEND:20000101T000100Z",
        "SUMMARY:liftrun server test (removed at once)",
        "TRANSP:TRANSPARENT",
        "END:VEVENT",
        "END:VCALENDAR",
        "",
    ]
    return "\r\n".join(lines).encode()


@dataclass(frozen=True)
class Enforcement:
    """Whether the server refuses a write whose precondition fails (True: it answers 412)."""

    if_none_match: bool
    if_match: bool

    @property
    def complete(self) -> bool:
        return self.if_none_match and self.if_match

    def to_fact(self) -> str:
        def word(flag: bool) -> str:
            return _ENFORCED if flag else _IGNORED

        return f"if-none-match={word(self.if_none_match)} if-match={word(self.if_match)}"

    @classmethod
    def from_fact(cls, value: str | None) -> Enforcement | None:
        """None for no fact or one this version did not write: the server is tested again."""
        if value is None:
            return None
        fields = dict(part.partition("=")[::2] for part in value.split())
        flags = (fields.get("if-none-match"), fields.get("if-match"))
        if any(flag not in (_ENFORCED, _IGNORED) for flag in flags):
            return None
        return cls(flags[0] == _ENFORCED, flags[1] == _ENFORCED)

    def remarks(self) -> list[str]:
        ignored = [
            header
            for header, flag in (("If-Match", self.if_match), ("If-None-Match", self.if_none_match))
            if not flag
        ]
        if not ignored:
            return []
        what = []
        if not self.if_match:
            what.append("re-reads each event before changing it")
        if not self.if_none_match:
            what.append("checks each new event's place is free before writing it")
        return [f"the server ignores {' and '.join(ignored)}; liftrun {' and '.join(what)}"]


UNTESTED = Enforcement(if_none_match=False, if_match=False)  # the safe assumption


def _same_etag(a: str, b: str) -> bool:
    """Cyrus marks some ETags weak (``W/``); the resource is the same either way."""

    def bare(tag: str) -> str:
        tag = tag.strip()
        return tag[2:] if tag.startswith("W/") else tag

    return bare(a) == bare(b)


class Preconditions:
    """What one calendar's server does with preconditions, and the guard where it ignores them.

    ``facts`` is the account's fact map; ``calendar_url`` says which calendar (a fact per URL).
    ``label`` names the calendar in messages.
    """

    def __init__(
        self,
        client: DavSession,
        facts: Facts,
        calendar_url: str,
        *,
        label: str,
        new_name: Callable[[], str] = probe_name,
    ) -> None:
        self._client = client
        self._facts = facts
        self._url = calendar_url
        self._label = label
        self._new_name = new_name
        self._fact = f"preconditions:{calendar_url}"
        self._leftover_fact = f"precondition-probe-left:{calendar_url}"
        self._known = Enforcement.from_fact(facts.fact(self._fact))
        self._tried = False
        self._tested_now = False  # the scratch-event test ran in this process

    @property
    def calendar_url(self) -> str:
        return self._url

    @property
    def known(self) -> Enforcement | None:
        """What the server does, once tested (in this run or an earlier one); None before."""
        return self._known

    @property
    def effective(self) -> Enforcement:
        """What the writes go by: the test's answer, or the safe assumption without one."""
        return self._known or UNTESTED

    def ensure(self) -> Enforcement:
        """The answer, testing the server first if no run has yet (at most once per run)."""
        if self._known is None and not self._tried:
            self._tried = True
            found = self._probe() if self._tidy() else None
            if found is not None:
                self._known = found
                self._tested_now = True
                self._facts.set_fact(self._fact, found.to_fact())
                if not found.complete:
                    log.warning("%s: %s", self._label, found.remarks()[0])
        return self.effective

    def remarks(self) -> list[str]:
        """What ``check`` says: the answer where it is news (the server ignores a header), and
        that the test ran when it ran in this process, since it wrote (and removed) an event in
        a calendar that ``check`` otherwise leaves untouched."""
        if self._known is not None:
            said = self._known.remarks()
            if not self._tested_now:
                return said
            found = said or ["the server enforces If-Match and If-None-Match"]
            return [f"{found[0]} (tested just now with a scratch event, removed at once)"]
        if self._tried:
            return [
                "liftrun could not test whether the server enforces If-Match; until it can, "
                "it re-reads each event before changing it"
            ]
        return []

    # -- the test ----------------------------------------------------------------------------
    def _probe(self) -> Enforcement | None:
        name = self._new_name()
        href = self._url + name
        body = probe_event(f"{name.removesuffix('.ics')}@probe.liftrun.invalid")
        before = self._client.requests_made
        present = False
        found: Enforcement | None = None
        try:
            created = self._put(href, body, {"If-None-Match": "*"})
            present = created.status in (200, 201, 204)
            if present:
                again = self._put(href, body, {"If-None-Match": "*"})
                stale_put = self._put(href, body, {"If-Match": _WRONG_ETAG})
                stale_delete = self._client.request(
                    "DELETE", href, headers={"If-Match": _WRONG_ETAG}
                )
                present = not _accepted(stale_delete)
                if stale_delete.status != 404:
                    found = Enforcement(
                        if_none_match=not _accepted(again),
                        if_match=not (_accepted(stale_put) or _accepted(stale_delete)),
                    )
            else:
                # 412 on a first write to a random name is a retry after a lost answer
                present = created.status == 412
                log.info(
                    "%s: cannot test the server's preconditions (PUT answered HTTP %d)",
                    self._label,
                    created.status,
                )
        except AdapterError as exc:
            log.warning("%s: the server's preconditions could not be tested: %s", self._label, exc)
            present = True  # whether the PUT landed is unknown: remove it to be sure
        finally:
            if present:
                self._remove(href)
        log.info(
            "%s: precondition test: %s (%d requests)",
            self._label,
            found.to_fact() if found is not None else "unknown",
            self._client.requests_made - before,
        )
        return found

    def _put(self, href: str, body: bytes, headers: dict[str, str]) -> Reply:
        sent = {"Content-Type": "text/calendar; charset=utf-8", **headers}
        return self._client.request("PUT", href, body=body, headers=sent)

    def _remove(self, href: str) -> bool:
        """Delete the scratch resource, or remember it for the next run to delete."""
        try:
            reply = self._client.request("DELETE", href)
        except AdapterError as exc:
            why = str(exc)
        else:
            if _accepted(reply) or reply.status in (404, 410):
                self._facts.set_fact(self._leftover_fact, "")
                return True
            why = f"HTTP {reply.status}"
        log.warning(
            "%s: cannot remove the server test's scratch event %s (%s); the next run tries again",
            self._label,
            href,
            why,
        )
        self._facts.set_fact(self._leftover_fact, href)
        return False

    def _tidy(self) -> bool:
        """A scratch resource an earlier run could not remove goes first; while it cannot be,
        no second one is made."""
        left = self._facts.fact(self._leftover_fact)
        if not left:
            return True
        if left.startswith(self._url + PROBE_PREFIX):
            return self._remove(left)
        self._facts.set_fact(self._leftover_fact, "")
        return True

    # -- the guard ---------------------------------------------------------------------------
    def before_create(self, href: str, what: str) -> AdapterError | None:
        """Where ``If-None-Match: *`` is ignored: :class:`AlreadyExists` if ``href`` is taken.
        No request where the server enforces it."""
        if self.effective.if_none_match:
            return None
        try:
            now = self._etag(href)
        except _CannotReread as exc:
            return exc
        if now is not None:
            return AlreadyExists(f"{self._label}: {what} is already in the calendar")
        return None

    def before_change(self, href: str, etag: str | None, what: str) -> AdapterError | None:
        """Where ``If-Match`` is ignored: :class:`PreconditionFailed` if ``href`` no longer has
        ``etag``, :class:`NotFound` if it is gone (None ``etag``: only that it exists). No
        request where the server enforces it."""
        if self.effective.if_match:
            return None
        try:
            now = self._etag(href)
        except _CannotReread as exc:
            return exc
        if now is None:
            return NotFound(f"{self._label}: {what} is no longer in the calendar")
        if etag is not None and etag != "*" and not _same_etag(now, etag):
            return PreconditionFailed(
                f"{self._label}: {what} changed on the server since it was read"
            )
        return None

    def _etag(self, href: str) -> str | None:
        """The resource's ETag now; None when it does not exist. A resource the server lists
        without an ETag gets one no read matches, so it is never overwritten blindly."""
        headers = {**XML_HEADERS, "Depth": "0"}
        reply = self._client.request(
            "PROPFIND", href, body=propfind_body([(D, "getetag")]), headers=headers
        )
        if reply.status in (404, 410):
            return None
        if reply.status != 207:
            raise _CannotReread(
                f"{self._label}: re-reading {resource_key(href)} before writing it answered "
                f"HTTP {reply.status}"
            )
        entries, _ = parse_multistatus(reply)
        mine = [e for e in entries if resource_key(e.url) == resource_key(href)] or entries
        if not mine or mine[0].status in (404, 410):
            return None
        return mine[0].text(D, "getetag") or '"liftrun-no-etag"'


class _CannotReread(AdapterError):
    """The re-read before a write got an answer that says nothing about the resource: that
    write is not made (its outcome says why), the others go on."""


def _accepted(reply: Reply) -> bool:
    return reply.status in (200, 201, 204)
