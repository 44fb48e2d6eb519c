"""What liftrun remembers of a CalDAV account (issue 16, items 1 and 2), against real servers.

The auth scheme the server asked for is sent up front from then on, and the principal, home and
calendar listing spare the discovery walk: with no ``auth`` key in the config, an idle cycle is
one request per calendar (target and busy source) on every server of the matrix. What was
remembered gives way when a request says it is stale (a 404, a permanent redirect, a new url or
username, a wrong password), and nothing unreadable in the store, nor the password, ever matters.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.cache import Cache
from adapters.caldav.account import Account, CalendarInfo, account_key
from adapters.caldav.client import CalDAVClient
from adapters.caldav.kind import url_key
from adapters.caldav.preconditions import PROBE_REQUESTS
from adapters.caldav.source import CalDAVSource
from adapters.protocol import AuthFailed
from config.loader import load
from sync.state import StateStore
from sync.wiring import build
from tests.caldav.hostile import Answer, Request, Scripted, multistatus
from tests.caldav.proxy import DigestFront, FaultProxy, answer
from tests.caldav.servers import PASSWORD, Server, make_calendar
from tests.caldav.test_caldav_adapter import EXPECTED_BUSY, TZ, WINDOW, busy_set, seed_busy
from tests.caldav.test_caldav_sync import ATHLETE, CALENDARS, NOW, cycle, write_config

DIGEST_USER = "athlete"
DIGEST_PASSWORD = "d1gest-Acc0unt-Pa55"
NO_WAIT: dict[str, Any] = {"retry_wait": lambda n: 0.0, "sleep": lambda s: None}


def stored_account(tmp_path: Path, url: str, username: str | None) -> dict[str, Any]:
    with StateStore(tmp_path / "state") as store:
        text = store.get_meta(account_key(url, username))
    assert text is not None
    data: dict[str, Any] = json.loads(text)
    return data


def state_bytes(tmp_path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in (tmp_path / "state").rglob("*") if p.is_file())


def later(n: int) -> datetime:
    return NOW + timedelta(minutes=15 * n)


# --------------------------------------------------------------------------------------------
# Request counts


def test_an_idle_cycle_is_one_request_per_calendar_without_an_auth_key(
    server: Server, unique: str, tmp_path: Path
) -> None:
    config = write_config(tmp_path, server, unique)  # no `auth` key
    assert "auth =" not in config.read_text()
    first, counts = cycle(config)
    assert not first.failed, first.as_dict()
    pushed = first.targets["training"].created
    target, source = counts["training"], counts[f"training: Work {unique}"]
    # One walk and one listing for the whole entry, one 401 at most (Cyrus logs in on its 207).
    # And the one-time test of whether the Training calendar enforces If-Match.
    assert source <= 6 and target <= pushed + 3 + PROBE_REQUESTS, counts
    second, counts = cycle(config, later(1))
    assert second.writes == 0 and not second.failed
    # The target's mirror lost its sync token with the push (RFC 6578 lets a server leave a
    # created-then-deleted resource out of the delta), so it compares ETags once: 2.
    assert counts == {"training": 2, f"training: Work {unique}": 1}, counts
    for n in (2, 3):
        idle, counts = cycle(config, later(n))
        assert idle.writes == 0 and not idle.failed
        assert counts == {"training": 1, f"training: Work {unique}": 1}, counts
    print(f"\n{server.kind}: first cycle {pushed} pushed, {target} + {source}; idle {counts}")
    account = stored_account(tmp_path, server.url, server.username)
    assert account["scheme"] == ("basic" if server.username else "none")
    assert account["home"] == server.home
    assert f"Training {unique}" in {c["name"] for c in account["calendars"]}
    assert PASSWORD.encode() not in state_bytes(tmp_path)


def test_concurrent_sources_of_one_entry_share_one_walk(
    server: Server, unique: str, tmp_path: Path
) -> None:
    names = [f"Work {unique}", f"Home {unique}", f"Club {unique}"]
    for i, name in enumerate(names):
        make_calendar(server, name, f"c{i}-{unique}")
    with FaultProxy(server.url) as proxy:
        account = Account()
        sources = [
            CalDAVSource(
                proxy.url,
                username=server.username,
                password=server.password,
                calendar=name,
                timezone="UTC",
                cache=Cache(tmp_path / name),
                account=account,
                **NO_WAIT,
            )
            for name in names
        ]
        with ThreadPoolExecutor(len(sources)) as pool:
            reads = list(pool.map(lambda s: s.read_busy(*WINDOW), sources))
        assert all(r.fresh for r in reads)
        home = proxy.rebase(server.home)[len(proxy.url) - 1 :]
        listings = [
            e for e in proxy.requests("PROPFIND") if e.path == home and e.header("Depth") == "1"
        ]
        assert len(listings) == 1, [(e.method, e.path) for e in proxy.log]
        walks = [e for e in proxy.requests("PROPFIND") if e.path == "/"]
        assert len(walks) <= 2  # Radicale's 401, Cyrus's 207, then the login: one walk


def test_the_first_sync_after_a_check_walks_nothing_again(
    server: Server, unique: str, tmp_path: Path
) -> None:
    """``liftrun check`` with the real store (as H4's check opens it): what its walk learnt is
    kept, and the first sync neither walks to the principal nor lists the home again, except
    once to look for the calendar the check found missing before creating it."""
    with FaultProxy(server.url) as proxy:
        config = write_config(tmp_path, server, unique, url=proxy.url)
        loaded = load(str(config), {})
        with StateStore(loaded.state_dir) as store:
            wiring = build(loaded, NOW, store, probe=True, persist=False)
            (source,) = wiring.sources
            assert busy_set(source.read_busy(*WINDOW)) == EXPECTED_BUSY
            wiring.remember(store)
        walked = len(proxy.log)
        proxy.clear_log()
        report, _ = cycle(config)
        assert not report.failed, report.as_dict()
        principal = proxy.rebase(server.principal)[len(proxy.url) - 1 :]
        home = proxy.rebase(server.home)[len(proxy.url) - 1 :]
        propfinds = [e.path for e in proxy.requests("PROPFIND")]
        assert "/" not in propfinds and "/.well-known/caldav" not in propfinds
        assert principal not in propfinds or principal == home
        assert propfinds.count(home) == 1  # Training is not in check's listing: one fresh look
        assert [e.status for e in proxy.log if e.status == 401] == []
        print(f"\n{server.kind}: check {walked} requests; first sync {len(proxy.log)}")


# --------------------------------------------------------------------------------------------
# Digest


@pytest.fixture
def digest_proxy(running_servers: dict[str, Server]) -> Iterator[tuple[Server, FaultProxy]]:
    """Radicale behind a proxy that demands Digest itself (Radicale offers only Basic)."""
    server = running_servers["radicale"]
    front = DigestFront(DIGEST_USER, DIGEST_PASSWORD)
    login = (server.username or "", server.password or "")
    with FaultProxy(server.url, digest=front, backend_auth=login) as proxy:
        yield server, proxy


def digest_client(proxy: FaultProxy, account: Account, password: str = DIGEST_PASSWORD) -> Any:
    return CalDAVClient(
        proxy.url, username=DIGEST_USER, password=password, account=account, **NO_WAIT
    )


def test_digest_is_remembered_and_built_up_front(
    digest_proxy: tuple[Server, FaultProxy], unique: str
) -> None:
    server, proxy = digest_proxy
    make_calendar(server, f"Work {unique}", f"work-{unique}")
    first = Account()
    assert digest_client(proxy, first).require_calendar(f"Work {unique}")
    assert first.scheme == "digest"
    # without a remembered scheme: a plain request, its 401, then digest's own challenge
    assert [e.status for e in proxy.log][:3] == [401, 401, 207]
    stored = first.learned()
    proxy.clear_log()

    again = Account.from_json(stored)
    client = digest_client(proxy, again)
    url = client.require_calendar(f"Work {unique}").url  # remembered: no request
    assert proxy.log == []
    client.propfind(url, [("DAV:", "displayname")], 0)
    client.propfind(url, [("DAV:", "displayname")], 0)
    # digest up front: one challenge for the nonce, then every request answered at once
    assert [e.status for e in proxy.log] == [401, 207, 207]
    assert proxy.log[0].header("Authorization") is None
    assert DIGEST_PASSWORD not in (again.learned() or "")


def test_a_server_that_switched_scheme_is_renegotiated_and_remembered(
    digest_proxy: tuple[Server, FaultProxy], unique: str
) -> None:
    server, proxy = digest_proxy
    make_calendar(server, f"Work {unique}", f"work-{unique}")
    account = Account()
    account.learn_scheme("basic")  # what the server asked for before it moved to Digest
    assert digest_client(proxy, account).require_calendar(f"Work {unique}")
    assert account.scheme == "digest"


def test_a_wrong_password_on_a_remembered_scheme_is_still_clear(
    running_servers: dict[str, Server], unique: str, tmp_path: Path
) -> None:
    server = running_servers["radicale"]
    config = write_config(tmp_path, server, unique)
    report, _ = cycle(config)
    assert not report.failed
    assert stored_account(tmp_path, server.url, server.username)["scheme"] == "basic"
    wrong = "Wr0ng-" + PASSWORD[::-1]
    config.write_text(config.read_text().replace(PASSWORD, wrong))
    report, counts = cycle(config, later(1))
    assert report.failed
    text = json.dumps(report.as_dict())
    assert f"wrong username or password for {server.url}" in text, text
    assert wrong not in text and PASSWORD not in text
    assert set(counts.values()) == {1}  # Basic up front, refused: no second try
    assert stored_account(tmp_path, server.url, server.username)["scheme"] == "basic"


def test_a_wrong_digest_password_on_a_remembered_scheme_is_still_clear(
    digest_proxy: tuple[Server, FaultProxy],
) -> None:
    _, proxy = digest_proxy
    account = Account()
    account.learn_scheme("digest")
    wrong = "Wr0ng-" + DIGEST_PASSWORD[::-1]
    with pytest.raises(AuthFailed, match="wrong username or password") as err:
        digest_client(proxy, account, wrong).calendars()
    assert wrong not in str(err.value)
    assert [e.status for e in proxy.log] == [401, 401]


# --------------------------------------------------------------------------------------------
# What was remembered goes stale


def test_a_calendar_gone_from_its_url_is_found_again_and_remembered(
    server: Server, unique: str, tmp_path: Path
) -> None:
    """The athlete re-creates the busy calendar elsewhere: the remembered URL answers 404, one
    fresh listing finds it, and both the binding and the account's listing learn the URL."""
    config = write_config(tmp_path, server, unique)
    assert not cycle(config)[0].failed
    name = f"Work {unique}"
    with server.http() as http:
        assert http.delete(f"{server.home}work-{unique}/").status_code in (200, 204)
    moved = seed_busy(server, name, f"moved-{unique}")  # Cyrus wants a UID in one place only
    report, counts = cycle(config, later(1))
    assert not report.failed and report.sources[f"training: {name}"].ok, report.as_dict()
    with StateStore(tmp_path / "state") as store:
        assert store.get_meta(url_key(server.url, name)) == moved
    listed = stored_account(tmp_path, server.url, server.username)["calendars"]
    assert {"name": name, "url": moved} in listed
    _, counts = cycle(config, later(2))
    assert counts[f"training: {name}"] == 1


def test_a_calendar_moved_permanently_is_followed_and_remembered(
    server: Server, unique: str, tmp_path: Path
) -> None:
    old = make_calendar(server, f"Work {unique}", f"work-{unique}")
    new = seed_busy(server, f"Work (new) {unique}", f"new-{unique}")
    with FaultProxy(server.url) as proxy:
        account = Account()
        account.listed([CalendarInfo(proxy.rebase(old), f"Work {unique}")])

        def source() -> CalDAVSource:
            return CalDAVSource(
                proxy.url,
                username=server.username,
                password=server.password,
                calendar=f"Work {unique}",
                timezone=TZ,
                cache=Cache(tmp_path),
                calendar_url=proxy.rebase(old),
                account=account,
                **NO_WAIT,
            )

        first = source()
        first.read_busy(*WINDOW)
        old_path = proxy.rebase(old)[len(proxy.url) - 1 :]
        proxy.schedule(
            answer(301, path=f"^{old_path}$", headers={"Location": proxy.rebase(new)}, times=9)
        )
        moved = source()
        read = moved.read_busy(*WINDOW)
        assert read.fresh and busy_set(read) == EXPECTED_BUSY
        assert moved.learned() == proxy.rebase(new)
        assert account.calendars == (CalendarInfo(proxy.rebase(new), f"Work {unique}"),)
        assert not [e for e in proxy.log if e.path == "/"]  # followed, not rediscovered


def test_a_calendar_home_that_moved_is_walked_to_again(
    server: Server, unique: str, tmp_path: Path
) -> None:
    name = f"Work {unique}"
    url = make_calendar(server, name, f"work-{unique}")
    stale = Account()
    stale.found_home(server.principal, server.home + f"gone-{unique}/")
    stale = Account.from_json(stale.learned())  # as recalled from the store
    client = CalDAVClient(
        server.url,
        username=server.username,
        password=server.password,
        account=stale,
        **NO_WAIT,
    )
    assert client.require_calendar(name).url == url
    assert stale.home == server.home


def test_another_url_or_username_is_another_account(
    running_servers: dict[str, Server], unique: str, tmp_path: Path
) -> None:
    server = running_servers["radicale"]
    config = write_config(tmp_path, server, unique)
    assert not cycle(config)[0].failed
    assert account_key(server.url, "athlete") != account_key(server.url, "someone")
    other = server.url.replace("127.0.0.1", "localhost")
    config.write_text(config.read_text().replace(server.url, other))
    report, counts = cycle(config, later(1))
    assert not report.failed and report.writes == 0, report.as_dict()
    assert counts[f"training: Work {unique}"] > 1  # walked again, on the new origin
    recalled = stored_account(tmp_path, other, server.username)
    assert recalled["home"].startswith(other) and recalled["scheme"] == "basic"


@pytest.mark.parametrize(
    "garbage",
    [
        "not json {",
        "[]",
        '{"version": 99, "home": "http://127.0.0.1:9/x/"}',
        '{"version": 1, "scheme": "kerberos", "home": 7, "calendars": [{"url": 3}], "facts": 1}',
    ],
)
def test_a_stored_account_that_is_garbage_is_ignored(
    running_servers: dict[str, Server], unique: str, tmp_path: Path, garbage: str
) -> None:
    server = running_servers["radicale"]
    config = write_config(tmp_path, server, unique)
    with StateStore(tmp_path / "state") as store:
        store.set_meta(account_key(server.url, server.username), garbage)
    report, _ = cycle(config)
    assert not report.failed, report.as_dict()
    assert stored_account(tmp_path, server.url, server.username)["scheme"] == "basic"


def test_the_store_never_holds_the_password_even_from_the_url(
    running_servers: dict[str, Server], unique: str, tmp_path: Path
) -> None:
    server = running_servers["radicale"]
    seed_busy(server, f"Work {unique}", f"work-{unique}")
    url = server.url.replace("http://", f"http://{server.username}:{PASSWORD}@")
    config = tmp_path / "liftrun.toml"
    config.write_text(
        ATHLETE
        + CALENDARS.format(url=url, auth="", push_to=f"Training {unique}", busy=f"Work {unique}")
    )
    report, _ = cycle(config)
    assert not report.failed, report.as_dict()
    assert PASSWORD.encode() not in state_bytes(tmp_path)
    assert account_key(url, None) == f"caldav-account:http://athlete@{server.url[7:]}:"


# --------------------------------------------------------------------------------------------
# A 207 saying <unauthenticated/> (Cyrus) rather than a 401


UNAUTHENTICATED = "<D:current-user-principal><D:unauthenticated/></D:current-user-principal>"
HOME = "<C:calendar-home-set><D:href>/dav/calendars/user/athlete/</D:href></C:calendar-home-set>"
PRINCIPAL = "<D:current-user-principal><D:href>/dav/principals/user/athlete/</D:href>"


def cyrus_like(request: Request) -> Answer:
    """Cyrus's answers to a walk: 207 to nobody on the context path, a challenge only on the
    well-known URI; with a login, the principal and a home with no calendars."""
    logged_in = request.header("Authorization") is not None
    if request.path == "/.well-known/caldav":
        if not logged_in:
            return Answer(401, (("WWW-Authenticate", 'Basic realm="cyrus"'),))
        return multistatus([("/.well-known/caldav", HOME)])
    if request.path == "/":
        return multistatus(
            [("/", (PRINCIPAL + "</D:current-user-principal>") if logged_in else UNAUTHENTICATED)]
        )
    if request.path.startswith("/dav/principals/") and logged_in:
        return multistatus([(request.path, HOME)])
    if request.path.startswith("/dav/calendars/") and logged_in:
        return multistatus([(request.path, "<D:resourcetype><D:collection/></D:resourcetype>")])
    return Answer(404)


def non_loopback_address() -> str | None:
    """An address of this machine that is not loopback (no packet is sent to find it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))
        except OSError:
            return None
        address: str = probe.getsockname()[0]
    return None if address.startswith("127.") or address == "0.0.0.0" else address


def test_a_207_unauthenticated_on_loopback_is_a_login(tmp_path: Path) -> None:
    with Scripted(cyrus_like) as server:
        account = Account()
        client = CalDAVClient(
            server.url, username="athlete", password=PASSWORD, account=account, **NO_WAIT
        )
        assert client.calendars() == []
        first, second = server.seen[:2]
        assert (first.path, first.header("Authorization")) == ("/", None)
        assert second.path == "/" and (second.header("Authorization") or "").startswith("Basic")
        assert account.scheme == "basic"
        assert account.principal == server.url + "dav/principals/user/athlete/"
        assert account.home == server.url + "dav/calendars/user/athlete/"


def test_a_207_unauthenticated_over_plain_http_elsewhere_gets_no_password() -> None:
    address = non_loopback_address()
    if address is None:
        pytest.skip("this machine has no address but loopback")
    with Scripted(cyrus_like, host=address) as server:
        account = Account()
        client = CalDAVClient(
            server.url, username="athlete", password=PASSWORD, account=account, **NO_WAIT
        )
        assert client.calendars() == []
        seen = [(r.path, r.header("Authorization") is not None) for r in server.seen]
        # "/" is not taken for the principal; the password goes out only after a challenge
        assert seen[:3] == [
            ("/", False),
            ("/.well-known/caldav", False),
            ("/.well-known/caldav", True),
        ]
        assert account.scheme == "basic" and account.principal is None


# --------------------------------------------------------------------------------------------
# The account itself


def test_the_account_keeps_facts_and_reads_back_what_it_wrote() -> None:
    account = Account()
    assert account.learned() is None  # nothing known: nothing stored
    account.learn_scheme("none")
    account.learn_scheme("basic")
    account.learn_scheme("none")  # another URL answering without a login does not undo it
    account.set_fact("preconditions:http://x/cal/", "enforced")
    account.listed([CalendarInfo("http://x/cal/", "Training")])
    again = Account.from_json(account.learned())
    assert again.scheme == "basic" and again.fact("preconditions:http://x/cal/") == "enforced"
    assert again.calendars == (CalendarInfo("http://x/cal/", "Training"),)
    assert again.generation == 0 and account.generation == 1
    assert again.learned() == account.learned()
    assert again.fact("nothing") is None
