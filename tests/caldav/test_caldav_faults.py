"""The CalDAV adapter's retry and auth paths against real HTTP failures.

Radicale and Xandikos never fail on cue, so a fault-injecting reverse proxy
(:mod:`tests.caldav.proxy`) sits in front of them and answers 5xx, 429 with Retry-After, a
closed socket, a rejected sync token or a digest challenge exactly when a test asks. Everything
else is the real server answering real requests, so what is asserted is what an athlete's
server would see: how many requests on the wire, which ones were retried, how long the adapter
chose to wait (recorded through its ``retry_wait``/``sleep`` injection, never spent), and that a
retried write can never produce a duplicate.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

import httpx
import pytest

from adapters.cache import Cache
from adapters.caldav.mirror import MirrorStore
from adapters.caldav.session import MAX_ATTEMPTS, RETRY_AFTER_CAP, CalendarMissing
from adapters.caldav.source import CalDAVSource
from adapters.caldav.target import CalDAVTarget
from adapters.caldav.webdav import XML_HEADERS, mkcalendar_body
from adapters.protocol import (
    Action,
    ActionKind,
    AdapterError,
    AlreadyExists,
    AuthFailed,
    NotFound,
    PreconditionFailed,
    SourceUnavailable,
    content_hash,
)
from adapters.protocol import Unreachable as CalDAVUnreachable
from planner.model import Session
from tests.caldav.proxy import DigestFront, FaultProxy, answer, drop, reject_sync_token
from tests.caldav.servers import (
    Server,
    delete_event,
    get_event,
    make_calendar,
    put_event,
)
from tests.caldav.test_caldav_adapter import (
    EXPECTED_BUSY,
    FAR,
    NOW,
    TZ,
    WINDOW,
    _cal,
    _event,
    busy_set,
    creates,
    ok,
    seed_busy,
    sessions,
    target,
)

DIGEST_USER = "athlete"
DIGEST_PASSWORD = "d1gest-Pa55word"  # the proxy's, distinct from the backend's own
SYNC = b"sync-collection"
QUERY = b"calendar-query"
NEW_EVENT = _cal(
    _event("new@example.org", "DTSTART:20270401T100000Z\r\nDTEND:20270401T110000Z\r\n")
)
NEW_BUSY = (datetime(2027, 4, 1, 10, tzinfo=UTC), datetime(2027, 4, 1, 11, tzinfo=UTC))


@dataclass
class Clock:
    """The adapter's back-off, recorded instead of slept: attempt *n* waits *n* seconds unless
    the server says otherwise, so a Retry-After value is told apart from the default."""

    waits: list[float] = field(default_factory=list)

    def retry_wait(self, attempt: int) -> float:
        return float(attempt)

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)

    @property
    def kw(self) -> dict[str, Any]:
        return {"retry_wait": self.retry_wait, "sleep": self.sleep}


@dataclass
class Rig:
    """One test's world: a real server, the proxy in front of it, the recorded waits, names
    no other test uses, and a cache directory."""

    server: Server
    proxy: FaultProxy
    clock: Clock
    unique: str
    tmp: Path

    def _login(self, kw: dict[str, Any]) -> dict[str, Any]:
        return {
            "username": kw.pop("username", self.server.username),
            "password": kw.pop("password", self.server.password),
            **self.clock.kw,
            **kw,
        }

    def target(self, calendar: str, cache: str = "cache", **kw: Any) -> CalDAVTarget:
        """A target talking to the proxy (``password=`` etc. override the server's login)."""
        return CalDAVTarget(
            self.proxy.url,
            calendar=calendar,
            timezone=TZ,
            now=NOW,
            cache=Cache(self.tmp / cache),
            **self._login(kw),
        )

    def source(self, calendar: str, cache: str = "cache", **kw: Any) -> CalDAVSource:
        return CalDAVSource(
            self.proxy.url,
            calendar=calendar,
            timezone=TZ,
            cache=Cache(self.tmp / cache),
            **self._login(kw),
        )

    def warm(self, adapter: CalDAVTarget) -> CalDAVTarget:
        """Let the adapter settle its auth (Radicale's 401 on the first request) and forget
        those requests, so the counts that follow are the fault's alone."""
        adapter.list_owned(*FAR)
        self.proxy.clear_log()
        return adapter


@pytest.fixture
def rig(server: Server, unique: str, tmp_path: Path) -> Iterator[Rig]:
    """A pass-through proxy to this test's server; the client's own auth goes through as is."""
    with FaultProxy(server.url) as proxy:
        yield Rig(server, proxy, Clock(), unique, tmp_path)


@pytest.fixture
def digest_rig(server: Server, unique: str, tmp_path: Path) -> Iterator[Rig]:
    """A proxy demanding digest auth itself, forwarding with the backend's own login."""
    login = (server.username, server.password) if server.username and server.password else None
    front = DigestFront(DIGEST_USER, DIGEST_PASSWORD)
    with FaultProxy(server.url, digest=front, backend_auth=login) as proxy:
        yield Rig(server, proxy, Clock(), unique, tmp_path)


def resources(server: Server, calendar_url: str) -> list[str]:
    """Every resource in the collection, straight from the server: a duplicate would show here
    even if it were not recognisably ours."""
    body = b'<?xml version="1.0"?><propfind xmlns="DAV:"><prop><getetag/></prop></propfind>'
    with server.http() as client:
        reply = client.request(
            "PROPFIND",
            calendar_url,
            content=body,
            headers={"Depth": "1", "Content-Type": "application/xml"},
        )
    assert reply.status_code == 207, reply.text
    own = unquote(urlsplit(calendar_url).path)
    hrefs = (unquote(h.text or "").strip() for h in ET.fromstring(reply.content).iter("{DAV:}href"))
    return sorted(h for h in hrefs if h and h.rstrip("/") != own.rstrip("/"))


def wire_matches_counter(rig: Rig, *adapters: CalDAVTarget | CalDAVSource) -> None:
    """The adapter's own request counter (which benchmarks trust) equals what the wire saw."""
    assert sum(a.requests_made for a in adapters) == len(rig.proxy.log)


# --------------------------------------------------------------------------------------------
# The proxy itself: a fault test means nothing if the proxy alters what it forwards.


def test_proxy_passes_dav_methods_through_unchanged(rig: Rig) -> None:
    server, proxy = rig.server, rig.proxy
    url = make_calendar(server, f"Work {rig.unique}", f"work-{rig.unique}")
    etag = put_event(server, url + "a.ics", NEW_EVENT)
    through = proxy.rebase(url)
    with httpx.Client(auth=server.auth, timeout=10) as client:
        got = client.get(through + "a.ics")
        direct = get_event(server, url + "a.ics")
        assert (got.status_code, got.content, got.headers.get("etag")) == (200, *direct[1:])
        assert got.headers.get("etag") == etag
        options = client.options(through)
        assert "calendar-access" in options.headers.get("dav", "")
        made = client.request(
            "MKCALENDAR",
            proxy.rebase(f"{server.home}more-{rig.unique}/"),
            content=mkcalendar_body(f"More {rig.unique}"),
            headers=XML_HEADERS,  # Cyrus answers an untyped body 415, an empty mkcalendar 500
        )
        assert made.status_code == 201
        again = client.put(
            through + "a.ics",
            content=NEW_EVENT.encode(),
            headers={"If-None-Match": "*", "Content-Type": "text/calendar"},
        )
        assert again.status_code == 412  # the precondition header reached the server
        gone = client.delete(through + "a.ics", headers={"If-Match": etag})
        assert gone.status_code in (200, 204)
    methods = [e.method for e in proxy.log if e.status != 401]
    assert methods == ["GET", "OPTIONS", "MKCALENDAR", "PUT", "DELETE"]
    assert proxy.requests("PUT")[-1].header("If-None-Match") == "*"
    assert all(e.upstream == e.status and e.fault is None for e in proxy.log)


def test_digest_front_checks_the_proof(digest_rig: Rig) -> None:
    """An independent digest client (httpx's) gets in; a wrong password or none does not."""
    home = digest_rig.proxy.rebase(digest_rig.server.home)
    headers = {"Depth": "0"}
    with httpx.Client(auth=httpx.DigestAuth(DIGEST_USER, DIGEST_PASSWORD), timeout=10) as good:
        assert good.request("PROPFIND", home, headers=headers).status_code == 207
    wrong = httpx.DigestAuth(DIGEST_USER, "not-" + DIGEST_PASSWORD)
    with httpx.Client(auth=wrong, timeout=10) as bad:
        assert bad.request("PROPFIND", home, headers=headers).status_code == 401
    bare = httpx.request("PROPFIND", home, headers=headers, timeout=10)
    assert bare.status_code == 401
    assert 'qop="auth"' in bare.headers["www-authenticate"]


# --------------------------------------------------------------------------------------------
# Transient failures: retried, bounded, waits as the server asks


def test_two_503s_then_success_on_a_busy_read(rig: Rig) -> None:
    url = seed_busy(rig.server, f"Work {rig.unique}", f"work-{rig.unique}")
    busy = rig.source(rig.proxy.rebase(url))
    rig.proxy.schedule(answer(503, method="REPORT", times=2))
    read = busy.read_busy(*WINDOW)
    assert read.fresh and busy_set(read) == EXPECTED_BUSY
    assert rig.proxy.statuses("REPORT") == [503, 503, 207]  # one step, three requests
    assert rig.clock.waits == [1.0, 2.0]  # the injected back-off, attempt by attempt
    assert not rig.proxy.pending
    wire_matches_counter(rig, busy)


@pytest.mark.parametrize(
    ("retry_after", "expected"),
    [("7", 7.0), ("http-date+7", 7.0), ("3600", RETRY_AFTER_CAP)],
    ids=["seconds", "http-date", "capped"],
)
def test_429_retry_after_is_honoured(rig: Rig, retry_after: str, expected: float) -> None:
    url = seed_busy(rig.server, f"Work {rig.unique}", f"work-{rig.unique}")
    busy = rig.source(rig.proxy.rebase(url))
    if retry_after.startswith("http-date"):
        retry_after = format_datetime(datetime.now(UTC) + timedelta(seconds=7), usegmt=True)
    rig.proxy.schedule(answer(429, method="REPORT", headers={"Retry-After": retry_after}))
    assert busy_set(busy.read_busy(*WINDOW)) == EXPECTED_BUSY
    assert rig.proxy.statuses("REPORT") == [429, 207]
    assert rig.clock.waits == [pytest.approx(expected, abs=1.5)]


@pytest.mark.parametrize("after_forward", [False, True], ids=["not-applied", "applied"])
def test_create_answered_503_is_retried_without_duplicate(rig: Rig, after_forward: bool) -> None:
    """``applied``: the server stored the event but a gateway answered 503, so the retried
    ``If-None-Match: *`` PUT meets the event and fails with 412 (AlreadyExists): never a
    second copy."""
    name = f"Training {rig.unique}"
    url = make_calendar(rig.server, name, f"training-{rig.unique}")
    items = sessions()[:3]
    pusher = rig.warm(rig.target(name, calendar_url=rig.proxy.rebase(url)))
    rig.proxy.schedule(answer(503, method="PUT", after_forward=after_forward))
    outcomes = list(pusher.apply(creates(items)))
    puts = rig.proxy.requests("PUT")
    assert [(e.status, e.upstream) for e in puts] == [
        (503, 201 if after_forward else None),
        (412, 412) if after_forward else (201, 201),
        (201, 201),
        (201, 201),
    ]
    assert puts[0].path == puts[1].path and puts[1].header("If-None-Match") == "*"
    assert rig.clock.waits == [1.0]
    if after_forward:
        assert isinstance(outcomes[0].error, AlreadyExists)
        ok(outcomes[1:])
    else:
        ok(outcomes)
    owned = target(rig.server, name, rig.tmp / "check").list_owned(*FAR)
    assert sorted(o.session_id for o in owned) == sorted(s.id for s in items)
    assert len(resources(rig.server, url)) == len(items)


def test_dropped_connection_on_a_report_is_retried(rig: Rig) -> None:
    name = f"Training {rig.unique}"
    items = sessions()[:3]
    ok(list(target(rig.server, name, rig.tmp / "seed").apply(creates(items))))
    reader = rig.target(name)
    rig.proxy.schedule(drop(method="REPORT"))
    owned = reader.list_owned(*FAR)
    assert sorted(o.session_id for o in owned) == sorted(s.id for s in items)
    assert rig.proxy.statuses("REPORT") == [None, 207]
    assert rig.clock.waits == [1.0]
    wire_matches_counter(rig, reader)


@pytest.mark.parametrize("after_forward", [False, True], ids=["lost-request", "lost-answer"])
def test_dropped_connection_on_a_conditional_put(rig: Rig, after_forward: bool) -> None:
    """A lost request is simply sent again; a lost *answer* (the server created the event) is
    replayed with ``If-None-Match: *``, gets 412 and surfaces as AlreadyExists, so the engine
    re-reads and finds its own event: one copy either way."""
    name = f"Training {rig.unique}"
    url = make_calendar(rig.server, name, f"training-{rig.unique}")
    (session,) = sessions()[:1]
    pusher = rig.warm(rig.target(name, calendar_url=rig.proxy.rebase(url)))
    rig.proxy.schedule(drop(method="PUT", after_forward=after_forward))
    (outcome,) = pusher.apply(creates((session,)))
    puts = rig.proxy.requests("PUT")
    assert [(e.status, e.upstream) for e in puts] == (
        [(None, 201), (412, 412)] if after_forward else [(None, None), (201, 201)]
    )
    assert all(e.header("If-None-Match") == "*" for e in puts)
    assert rig.clock.waits == [1.0]
    if after_forward:
        assert isinstance(outcome.error, AlreadyExists)
    else:
        assert outcome.error is None and outcome.event is not None
    (owned,) = target(rig.server, name, rig.tmp / "check").list_owned(*FAR)
    assert owned.session_id == session.id
    assert len(resources(rig.server, url)) == 1


def test_lost_answers_on_update_and_cancel(rig: Rig) -> None:
    """The replay of an ``If-Match`` write whose answer was lost meets its own result: the
    update comes back as PreconditionFailed (new ETag) and the cancel as NotFound, while the
    server holds exactly what was sent. Nothing is written twice; the engine re-reads next
    cycle."""
    name = f"Training {rig.unique}"
    items = sessions()[:2]
    pusher = rig.target(name)
    created = {e.session_id: e for e in ok(list(pusher.apply(creates(items))))}
    first, second = items
    assert first.start is not None and first.end is not None
    hour = timedelta(hours=1)
    later = Session(**{**first.__dict__, "start": first.start + hour, "end": first.end + hour})
    update = Action(
        ActionKind.UPDATE,
        first.id,
        "moved",
        session=later,
        content_hash=content_hash(later, 30),
        current=created[first.id],
        moved=True,
    )
    cancel = Action(ActionKind.CANCEL, second.id, "dropped", current=created[second.id])
    rig.proxy.clear_log()
    rig.proxy.schedule(
        drop(method="PUT", after_forward=True), drop(method="DELETE", after_forward=True)
    )
    updated, cancelled = pusher.apply([update, cancel])
    puts, deletes = rig.proxy.requests("PUT"), rig.proxy.requests("DELETE")
    assert [(e.status, e.upstream) for e in puts] == [(None, 204), (412, 412)]
    assert isinstance(updated.error, PreconditionFailed)
    assert deletes[0].status is None and deletes[0].upstream in (200, 204)
    assert [e.status for e in deletes][1:] == [404]  # both servers: gone beats If-Match
    assert isinstance(cancelled.error, NotFound)
    assert all(e.header("If-Match") for e in puts + deletes)
    assert rig.clock.waits == [1.0, 1.0]
    (left,) = target(rig.server, name, rig.tmp / "check").list_owned(*FAR)
    assert (left.session_id, left.start) == (first.id, later.start)  # our update did land


def test_persistent_5xx_gives_up_after_bounded_attempts(rig: Rig) -> None:
    url = seed_busy(rig.server, f"Work {rig.unique}", f"work-{rig.unique}")
    busy = rig.source(rig.proxy.rebase(url))
    rig.proxy.schedule(answer(502, method="REPORT", times=100))
    with pytest.raises(SourceUnavailable) as err:
        busy.read_busy(*WINDOW)
    message = str(err.value)
    assert message.startswith(busy.name) and f"HTTP 502 from {rig.proxy.url}" in message
    assert f"{MAX_ATTEMPTS} attempts" in message and "REPORT" in message
    assert rig.proxy.statuses("REPORT") == [502] * MAX_ATTEMPTS
    assert rig.clock.waits == [1.0, 2.0]

    rig.proxy.clear_faults()
    rig.clock.waits.clear()
    name = f"Training {rig.unique}"
    calendar = make_calendar(rig.server, name, f"training-{rig.unique}")
    pusher = rig.warm(rig.target(name, "t", calendar_url=rig.proxy.rebase(calendar)))
    rig.proxy.schedule(answer(503, method="PUT", times=100))
    with pytest.raises(CalDAVUnreachable, match=f"HTTP 503 from .*{MAX_ATTEMPTS} attempts"):
        list(pusher.apply(creates(sessions()[:2])))
    assert rig.proxy.statuses("PUT") == [503] * MAX_ATTEMPTS  # the second create never started
    assert rig.clock.waits == [1.0, 2.0]
    assert resources(rig.server, calendar) == []


REPORT_REFUSALS = {
    401: "wrong username or password|asks for a login",
    403: "refused access",
    404: "not found",
}


@pytest.mark.parametrize("status", [401, 403, 404])
def test_client_errors_on_a_read_are_not_retried(rig: Rig, status: int) -> None:
    url = seed_busy(rig.server, f"Work {rig.unique}", f"work-{rig.unique}")
    busy = rig.source(rig.proxy.rebase(url))
    headers = {"WWW-Authenticate": 'Basic realm="gateway"'} if status == 401 else {}
    rig.proxy.schedule(answer(status, method="REPORT", headers=headers))
    with pytest.raises(SourceUnavailable, match=REPORT_REFUSALS[status]):
        busy.read_busy(*WINDOW)
    assert rig.proxy.statuses("REPORT") == [status]
    assert rig.clock.waits == []
    wire_matches_counter(rig, busy)


@pytest.mark.parametrize("status", [401, 403, 404])
def test_client_errors_on_a_write_are_not_retried(rig: Rig, status: int) -> None:
    """401 and a vanished calendar (404 on a create) fail the whole calendar; 403 is that
    one write's error. None of them is sent twice."""
    name = f"Training {rig.unique}"
    url = make_calendar(rig.server, name, f"training-{rig.unique}")
    pusher = rig.warm(rig.target(name, calendar_url=rig.proxy.rebase(url)))
    rig.proxy.schedule(answer(status, method="PUT"))
    if status == 403:
        (outcome,) = pusher.apply(creates(sessions()[:1]))
        assert outcome.error is not None and "refused to write" in str(outcome.error)
    else:
        raised = AuthFailed if status == 401 else CalendarMissing
        with pytest.raises(raised):
            list(pusher.apply(creates(sessions()[:1])))
    assert rig.proxy.statuses("PUT") == [status]
    assert rig.clock.waits == []
    assert resources(rig.server, url) == []


# --------------------------------------------------------------------------------------------
# A sync token the server no longer accepts


def _spoil_token(rig: Rig, role: Literal["target", "source"], calendar: str) -> None:
    """What a server restore or token expiry looks like from here: the cached token is one the
    server never issued (Radicale's token syntax, so Radicale parses it before refusing)."""
    store = MirrorStore(Cache(rig.tmp / "cache"), role, rig.source(calendar).client, calendar)
    mirror = store.load()
    assert mirror is not None and mirror.sync_token
    store.save(replace(mirror, sync_token="http://radicale.org/ns/sync/" + "0" * 64))


@pytest.mark.parametrize("refused_by", ["proxy", "server"])
def test_rejected_sync_token_falls_back_to_a_full_read(rig: Rig, refused_by: str) -> None:
    """RFC 6578 3.2: a refused token (DAV:valid-sync-token; Radicale sends it with 403,
    Xandikos with 412) means "read in full", not "access denied"."""
    name = f"Training {rig.unique}"
    items = sessions()[:3]
    first = rig.target(name)
    created = ok(list(first.apply(creates(items))))
    assert len(first.list_owned(*FAR)) == len(items)  # the cache now holds a sync token
    assert delete_event(rig.server, rig.proxy.unbase(created[0].remote_id)) in (200, 204)
    if refused_by == "proxy":
        rig.proxy.schedule(reject_sync_token())
    else:
        _spoil_token(rig, "target", name)
    rig.proxy.clear_log()
    again = rig.target(name)
    owned = again.list_owned(*FAR)
    assert sorted(o.session_id for o in owned) == sorted(s.id for s in items[1:])
    syncs = rig.proxy.requests("REPORT", body_contains=SYNC)
    refused = [e for e in syncs if e.status != 401]  # not Radicale's login challenge
    assert len(refused) == 1 and refused[0].status in (403, 412)
    assert rig.proxy.statuses("REPORT", body_contains=QUERY) == [207]  # the full read
    assert rig.clock.waits == []
    wire_matches_counter(rig, again)
    steady = rig.target(name)  # and the fresh token was kept
    assert len(steady.list_owned(*FAR)) == len(items) - 1
    assert rig.proxy.statuses("REPORT", body_contains=SYNC)[-1] == 207


@pytest.mark.parametrize("refused_by", ["proxy", "server"])
def test_rejected_sync_token_on_a_busy_source_reads_fresh(rig: Rig, refused_by: str) -> None:
    """A source that mistook the refusal for an error would fall back to its stale copy and
    miss the athlete's new event."""
    url = seed_busy(rig.server, f"Work {rig.unique}", f"work-{rig.unique}")
    spec = rig.proxy.rebase(url)
    assert busy_set(rig.source(spec).read_busy(*WINDOW)) == EXPECTED_BUSY
    put_event(rig.server, url + "new.ics", NEW_EVENT)
    if refused_by == "proxy":
        rig.proxy.schedule(reject_sync_token())
    else:
        _spoil_token(rig, "source", spec)
    read = rig.source(spec).read_busy(*WINDOW)
    assert read.fresh and read.error is None
    assert busy_set(read) == EXPECTED_BUSY | {NEW_BUSY}


# --------------------------------------------------------------------------------------------
# Digest auth, end to end through the proxy's own digest front


@pytest.mark.parametrize("auth_type", ["digest", None], ids=["auth_type=digest", "negotiated"])
def test_digest_auth_push_and_list(digest_rig: Rig, auth_type: str | None) -> None:
    rig = digest_rig
    name = f"Training {rig.unique}"
    items = sessions()[:3]
    login: dict[str, Any] = {
        "username": DIGEST_USER,
        "password": DIGEST_PASSWORD,
        "auth_type": auth_type,
    }
    pusher = rig.target(name, **login)
    assert pusher.list_owned(*FAR) == []  # discovery and MKCALENDAR behind digest
    ok(list(pusher.apply(creates(items))))
    reader = rig.target(name, "fresh", **login)
    owned = reader.list_owned(*FAR)
    assert sorted(o.session_id for o in owned) == sorted(s.id for s in items)
    assert owned[0].remote_id.startswith(rig.proxy.rebase(rig.server.home))
    challenges = [e for e in rig.proxy.log if e.status == 401]
    # Pinned digest answers the first challenge at once and then reuses the nonce; without
    # auth_type the adapter first learns the scheme from the challenge (one more round trip).
    assert len(challenges) == (2 if auth_type == "digest" else 4)
    assert all(e.header("Authorization") is None for e in challenges)
    assert rig.clock.waits == []
    wire_matches_counter(rig, pusher, reader)
    direct = target(rig.server, name, rig.tmp / "direct").list_owned(*FAR)
    assert len(direct) == len(items)


def test_wrong_digest_password_is_clear_and_secret(digest_rig: Rig) -> None:
    rig = digest_rig
    wrong = "Wr0ng-" + DIGEST_PASSWORD[::-1]
    login: dict[str, Any] = {"username": DIGEST_USER, "password": wrong, "auth_type": "digest"}
    pusher = rig.target("Training", **login)
    with pytest.raises(AdapterError) as err:
        pusher.list_owned(*FAR)
    assert f"wrong username or password for {rig.proxy.url}" in str(err.value)
    assert rig.proxy.statuses() == [401, 401]  # challenge, refused proof; no retry
    busy = rig.source("Work", **login)
    with pytest.raises(SourceUnavailable, match="wrong username or password") as busy_err:
        busy.read_busy(*WINDOW)
    assert rig.clock.waits == []
    secrets = [wrong, DIGEST_PASSWORD] + ([rig.server.password] if rig.server.password else [])
    for message in (str(err.value), repr(err.value), str(busy_err.value), repr(pusher)):
        assert not any(secret in message for secret in secrets)
