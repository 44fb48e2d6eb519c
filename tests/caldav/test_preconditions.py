"""Servers that ignore ``If-Match`` / ``If-None-Match`` (SOGo 5.8), found out and guarded
against (:mod:`adapters.caldav.preconditions`).

A real Radicale or Xandikos sits behind the fault proxy (:mod:`tests.caldav.proxy`), which with
``ignore_preconditions`` strips both headers before the server sees them: the server then does
what SOGo does, a create over an existing resource overwrites it and a delete or update with a
stale ETag goes through. Without the flag the same servers enforce them, and the test and guard
must cost nothing there after the one-time test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import pytest

from adapters.caldav.client import CalDAVClient
from adapters.caldav.preconditions import (
    PROBE_PREFIX,
    Enforcement,
    Preconditions,
    probe_event,
    probe_name,
)
from adapters.caldav.target import owned_value
from adapters.ical.busy import read_busy
from adapters.protocol import AlreadyExists, NotFound, PreconditionFailed
from tests.caldav.proxy import Fault, FaultProxy, answer, drop
from tests.caldav.servers import Server, get_event, make_calendar, put_event
from tests.caldav.test_caldav_adapter import _cal, _event
from tests.caldav.test_caldav_faults import resources

NO_WAIT: dict[str, Any] = {"retry_wait": lambda n: 0.0, "sleep": lambda s: None}
LUNCH = _cal(
    _event(
        "lunch@example.org",
        "SUMMARY:Lunch\r\nDTSTART:20270401T100000Z\r\nDTEND:20270401T110000Z\r\n",
    )
)
IGNORED = Enforcement(if_none_match=False, if_match=False)
ENFORCED = Enforcement(if_none_match=True, if_match=True)


@dataclass
class Memory:
    """An account's fact map kept in memory: what a run leaves for the next."""

    facts: dict[str, str] = field(default_factory=dict)

    def fact(self, name: str) -> str | None:
        return self.facts.get(name)

    def set_fact(self, name: str, value: str) -> None:
        self.facts[name] = value

    def known(self) -> dict[str, str]:
        """The facts that say something ("" is a fact cleared)."""
        return {k: v for k, v in self.facts.items() if v}


@dataclass
class Bench:
    """A real server behind the proxy, one fresh calendar, the account's facts."""

    server: Server
    proxy: FaultProxy
    calendar: str  # the backend's URL of the calendar
    facts: Memory

    @property
    def url(self) -> str:
        """The calendar as liftrun reaches it (through the proxy)."""
        return self.proxy.rebase(self.calendar)

    def client(self) -> CalDAVClient:
        """A warmed-up client (auth settled), the proxy's log then cleared: what follows is the
        precondition logic's traffic alone."""
        client = CalDAVClient(
            self.proxy.rebase(self.server.url),
            username=self.server.username,
            password=self.server.password,
            label="Training",
            **NO_WAIT,
        )
        client.propfind(self.url, [("DAV:", "resourcetype")], 0)
        self.proxy.clear_log()
        return client

    def run(self) -> Preconditions:
        """A new run's view of the calendar, from the facts the earlier runs left."""
        return Preconditions(self.client(), self.facts, self.url, label="Training")

    def left_behind(self) -> list[str]:
        return [r for r in resources(self.server, self.calendar) if PROBE_PREFIX in r]


@pytest.fixture
def bench(server: Server, unique: str) -> Iterator[Bench]:
    calendar = make_calendar(server, f"Training {unique}", f"training-{unique}")
    origin = urlunsplit((*urlsplit(server.url)[:2], "/", "", ""))  # Cyrus serves under /dav/
    with FaultProxy(origin) as proxy:
        yield Bench(server, proxy, calendar, Memory())


def methods(bench: Bench) -> list[tuple[str, int | str | None]]:
    """What went over the wire; any success is "2xx" (servers differ between 200, 201, 204)."""
    return [
        (e.method, "2xx" if e.status is not None and 200 <= e.status < 300 else e.status)
        for e in bench.proxy.log
    ]


# --------------------------------------------------------------------------------------------
# Detection


def test_detection_on_a_server_ignoring_preconditions(bench: Bench) -> None:
    bench.proxy.ignore_preconditions = True
    run = bench.run()
    assert run.known is None and run.remarks() == []
    assert run.ensure() == IGNORED
    # The stale DELETE already removed the scratch event: four requests, no fifth.
    assert methods(bench) == [("PUT", "2xx"), ("PUT", "2xx"), ("PUT", "2xx"), ("DELETE", "2xx")]
    sent = bench.proxy.log
    assert [e.header("If-None-Match") for e in sent[:2]] == ["*", "*"]
    assert sent[2].header("If-Match") and sent[3].header("If-Match")
    assert all(PROBE_PREFIX in e.path for e in sent)
    assert bench.left_behind() == []
    assert run.remarks() == [
        "the server ignores If-Match and If-None-Match; liftrun re-reads each event before "
        "changing it and checks each new event's place is free before writing it"
    ]
    assert bench.facts.known() == {f"preconditions:{bench.url}": IGNORED.to_fact()}


def test_detection_on_a_server_enforcing_them(bench: Bench) -> None:
    run = bench.run()
    assert run.ensure() == ENFORCED
    assert methods(bench) == [
        ("PUT", "2xx"),
        ("PUT", 412),
        ("PUT", 412),
        ("DELETE", 412),
        ("DELETE", "2xx"),
    ]
    assert bench.left_behind() == [] and resources(bench.server, bench.calendar) == []
    assert run.remarks() == []


@pytest.mark.parametrize("ignoring", [False, True], ids=["enforced", "ignored"])
def test_the_answer_is_remembered_per_calendar(bench: Bench, ignoring: bool, unique: str) -> None:
    bench.proxy.ignore_preconditions = ignoring
    first = bench.run().ensure()
    bench.proxy.ignore_preconditions = not ignoring  # a second run does not look again
    again = bench.run()
    assert again.known == first and again.ensure() == first
    assert bench.proxy.log == []
    other = make_calendar(bench.server, f"Other {unique}", f"other-{unique}")
    elsewhere = Preconditions(bench.client(), bench.facts, bench.proxy.rebase(other), label="x")
    assert elsewhere.known is None  # a new calendar URL is tested again
    assert elsewhere.ensure() == (ENFORCED if ignoring else IGNORED)


def test_the_probe_event_is_no_session_and_no_busy_time() -> None:
    name = probe_name()
    assert name.startswith(PROBE_PREFIX) and name != probe_name()
    data = probe_event(name + "@probe.liftrun.invalid")
    assert owned_value(data.decode(), ZoneInfo("UTC")) is None
    read = read_busy(
        data,
        source="probe",
        tz=ZoneInfo("UTC"),
        start=datetime(1999, 1, 1, tzinfo=UTC),
        end=datetime(2001, 1, 1, tzinfo=UTC),
    )
    assert read.intervals == ()


# --------------------------------------------------------------------------------------------
# Faults: a test that cannot finish fails nothing and leaves nothing


@pytest.mark.parametrize(
    "fault",
    [
        lambda: answer(500, method="PUT", times=3),
        lambda: drop(method="PUT", times=3),
        lambda: answer(503, method="PUT", times=3, after_forward=True),
    ],
    ids=["500", "dropped", "lost-answer"],
)
def test_a_probe_that_fails_assumes_ignored_and_tests_again(
    bench: Bench, fault: Callable[[], Fault]
) -> None:
    bench.proxy.schedule(fault())  # a fresh one per test: a fault counts its uses down
    run = bench.run()
    assert run.ensure() == IGNORED  # the safe assumption, for this run only
    assert run.known is None and "could not test" in run.remarks()[0]
    assert bench.facts.known() == {}
    assert bench.left_behind() == []  # what a lost answer created was removed
    assert not bench.proxy.pending
    again = bench.run()
    assert again.ensure() == ENFORCED and again.known == ENFORCED
    assert bench.left_behind() == []


def test_a_scratch_event_that_cannot_be_removed_is_removed_next_run(bench: Bench) -> None:
    bench.proxy.schedule(
        answer(412, method="DELETE", after_forward=True),  # the stale DELETE, as the server says
        answer(500, method="DELETE", times=3),  # the clean-up's, every attempt
    )
    run = bench.run()
    assert run.ensure() == ENFORCED  # the answers were in before the clean-up failed
    assert len(bench.left_behind()) == 1
    assert bench.facts.fact(f"precondition-probe-left:{bench.url}")
    # An untested calendar (a new URL, or the fact lost) starts by removing it.
    del bench.facts.facts[f"preconditions:{bench.url}"]
    again = bench.run()
    assert again.ensure() == ENFORCED
    assert methods(bench)[0][0] == "DELETE"
    assert bench.left_behind() == [] and bench.facts.known().keys() == {
        f"preconditions:{bench.url}"
    }


# --------------------------------------------------------------------------------------------
# The guard


def test_the_guard_refuses_what_a_412_would(bench: Bench) -> None:
    bench.proxy.ignore_preconditions = True
    run = bench.run()
    run.ensure()
    href = bench.url + "session.ics"
    backend = bench.calendar + "session.ics"
    assert run.before_create(href, "s1") is None  # free: go ahead
    etag = put_event(bench.server, backend, LUNCH)
    assert isinstance(run.before_create(href, "s1"), AlreadyExists)
    assert run.before_change(href, etag, "s1") is None  # unchanged since read
    athletes = put_event(bench.server, backend, LUNCH.replace("Lunch", "Brunch"))
    assert athletes != etag
    assert isinstance(run.before_change(href, etag, "s1"), PreconditionFailed)
    assert get_event(bench.server, backend)[2] == athletes
    bench.proxy.clear_log()
    bench.server.http().delete(backend)
    assert isinstance(run.before_change(href, etag, "s1"), NotFound)
    assert [e.method for e in bench.proxy.log] == ["PROPFIND"]  # 404, or 207 saying 404


def test_no_guard_requests_where_preconditions_are_enforced(bench: Bench) -> None:
    run = bench.run()
    run.ensure()
    bench.proxy.clear_log()
    href = bench.url + "session.ics"
    assert run.before_create(href, "s1") is None
    assert run.before_change(href, '"stale"', "s1") is None
    assert bench.proxy.log == []
