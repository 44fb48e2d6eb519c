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
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from adapters.cache import Cache
from adapters.caldav.account import Account, account_key
from adapters.caldav.client import CalDAVClient
from adapters.caldav.preconditions import (
    PROBE_PREFIX,
    PROBE_REQUESTS,
    Enforcement,
    Preconditions,
    probe_event,
    probe_name,
)
from adapters.caldav.target import CalDAVTarget, owned_value
from adapters.ical.busy import read_busy
from adapters.protocol import (
    Action,
    ActionKind,
    AlreadyExists,
    NotFound,
    OwnedEvent,
    PreconditionFailed,
    content_hash,
)
from cli.main import main
from planner.model import Session
from sync.state import StateStore
from tests.caldav.proxy import Exchange, Fault, FaultProxy, answer, drop
from tests.caldav.servers import (
    PASSWORD,
    Server,
    delete_event,
    get_event,
    make_calendar,
    put_event,
)
from tests.caldav.test_caldav_adapter import (
    FAR,
    NOW,
    TZ,
    _athlete_moves,
    _cal,
    _event,
    creates,
    ok,
    seed_busy,
    sessions,
)
from tests.caldav.test_caldav_faults import resources
from tests.caldav.test_caldav_sync import ATHLETE, CALENDARS, cycle
from tests.caldav.test_caldav_sync import NOW as SYNC_NOW
from tests.test_cli_setup import only_the_store

NO_WAIT: dict[str, Any] = {"retry_wait": lambda n: 0.0, "sleep": lambda s: None}
LUNCH = _cal(
    _event(
        "lunch@example.org",
        "SUMMARY:Lunch\r\nDTSTART:20270401T100000Z\r\nDTEND:20270401T110000Z\r\n",
    )
)
IGNORED = Enforcement(if_none_match=False, if_match=False)
ENFORCED = Enforcement(if_none_match=True, if_match=True)

# What check's line adds the run the scratch-event test was made (it wrote in the calendar).
TESTED_NOW = " (tested just now with a scratch event, removed at once)"


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
        f"changing it and checks each new event's place is free before writing it{TESTED_NOW}"
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
    assert run.remarks() == [f"the server enforces If-Match and If-None-Match{TESTED_NOW}"]


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


# --------------------------------------------------------------------------------------------
# The target: an athlete's edit between liftrun's read and its write


def pusher(bench: Bench, cache: Path, account: Account) -> CalDAVTarget:
    return CalDAVTarget(
        bench.proxy.rebase(bench.server.url),
        username=bench.server.username,
        password=bench.server.password,
        calendar=bench.url,
        timezone=TZ,
        now=NOW,
        cache=Cache(cache),
        account=account,
        detect_preconditions=True,
        **NO_WAIT,
    )


def moved(session: Session, hours: int) -> Session:
    assert session.start is not None and session.end is not None
    shift = timedelta(hours=hours)
    return replace(session, start=session.start + shift, end=session.end + shift)


def update(current: OwnedEvent, session: Session) -> Action:
    return Action(
        ActionKind.UPDATE,
        session.id,
        "moved",
        session=session,
        content_hash=content_hash(session, 30),
        current=current,
        moved=True,
    )


def test_an_edit_on_a_server_ignoring_preconditions_is_kept(bench: Bench, tmp_path: Path) -> None:
    """SOGo's behaviour (the proxy drops both headers): the athlete moves one session and edits
    another in their app after liftrun read the calendar and before it writes; liftrun's update
    of the first and cancel of the second fail as a 412 would have made them fail, and a create
    where the athlete's app put an event of its own leaves that event alone. An untouched
    session is still updated: the guard costs one PROPFIND per write and blocks nothing else."""
    bench.proxy.ignore_preconditions = True
    a, b, c, d = sessions()[:4]
    liftrun = pusher(bench, tmp_path, Account())
    ok(list(liftrun.apply(creates((a, b, c)))))
    assert liftrun.remarks() == [IGNORED.remarks()[0] + TESTED_NOW]
    read = {o.session_id: o for o in liftrun.list_owned(*FAR)}  # liftrun's read

    athlete_moves(bench, read[a.id], 2)
    athlete_moves(bench, read[b.id], 1)
    theirs = bench.calendar + unquote(liftrun.href(d.id)).rsplit("/", 1)[1]
    put_event(bench.server, theirs, LUNCH)
    kept = {sid: get_event(bench.server, backend(bench, read[sid])) for sid in (a.id, b.id)}
    kept[d.id] = get_event(bench.server, theirs)

    bench.proxy.clear_log()
    writes = [
        update(read[a.id], moved(a, 1)),
        Action(ActionKind.CANCEL, b.id, "dropped", current=read[b.id]),
        *creates((d,)),
        update(read[c.id], moved(c, 1)),
    ]
    outcomes = list(liftrun.apply(writes))
    assert isinstance(outcomes[0].error, PreconditionFailed)
    assert isinstance(outcomes[1].error, PreconditionFailed)
    assert isinstance(outcomes[2].error, AlreadyExists)
    assert outcomes[3].error is None  # untouched since the read: written
    for sid in (a.id, b.id):
        assert get_event(bench.server, backend(bench, read[sid])) == kept[sid]
    assert get_event(bench.server, theirs) == kept[d.id]
    assert [e.method for e in bench.proxy.log] == ["PROPFIND"] * 4 + ["PUT"]
    assert bench.left_behind() == []
    after = {o.session_id: o for o in pusher(bench, tmp_path / "2", Account()).list_owned(*FAR)}
    assert after[a.id].moved_by_hand and b.id in after and d.id not in after
    assert after[c.id].start == moved(c, 1).start


def test_a_stale_cancel_of_a_session_deleted_by_hand_is_not_found(
    bench: Bench, tmp_path: Path
) -> None:
    bench.proxy.ignore_preconditions = True
    (a,) = sessions()[:1]
    liftrun = pusher(bench, tmp_path, Account())
    (made,) = ok(list(liftrun.apply(creates((a,)))))
    assert delete_event(bench.server, backend(bench, made)) in (200, 204)
    (outcome,) = liftrun.apply([Action(ActionKind.CANCEL, a.id, "dropped", current=made)])
    assert isinstance(outcome.error, NotFound)


def test_a_server_enforcing_preconditions_gets_no_extra_request(
    bench: Bench, tmp_path: Path
) -> None:
    a, b = sessions()[:2]
    account = Account()
    liftrun = pusher(bench, tmp_path, account)
    ok(list(liftrun.apply(creates((a,)))))
    probe = [e for e in bench.proxy.log if PROBE_PREFIX in e.path and e.status != 401]
    assert len(probe) == PROBE_REQUESTS
    assert liftrun.remarks() == [f"the server enforces If-Match and If-None-Match{TESTED_NOW}"]
    bench.proxy.clear_log()
    again = pusher(bench, tmp_path, Account.from_json(account.learned()))  # the next run
    ok(list(again.apply(creates((b,)))))
    assert [e.method for e in bench.proxy.log if e.status != 401] == ["PUT"]  # no test, re-read


def backend(bench: Bench, event: OwnedEvent) -> str:
    """An event liftrun reads through the proxy, as the athlete's app reaches it."""
    return bench.proxy.unbase(event.remote_id)


def athlete_moves(bench: Bench, event: OwnedEvent, hours: int) -> None:
    """The athlete's app moves the event, straight on the server."""
    _athlete_moves(bench.server, replace(event, remote_id=backend(bench, event)), hours)


# --------------------------------------------------------------------------------------------
# Sync cycles and check, as configured (the kind detects; the account remembers)


def configure(bench: Bench, tmp_path: Path, unique: str) -> Path:
    """A config whose CalDAV url is the proxy's, with a seeded busy calendar."""
    seed_busy(bench.server, f"Work {unique}", f"work-{unique}")
    server = bench.server
    auth = f'username = "{server.username}"\npassword = "{PASSWORD}"' if server.username else ""
    path = tmp_path / "liftrun.toml"
    path.write_text(
        ATHLETE
        + CALENDARS.format(
            url=bench.proxy.rebase(server.url),
            auth=auth,
            push_to=bench.url,
            busy=f"Work {unique}",
        )
    )
    return path


def probing(bench: Bench) -> list[Exchange]:
    """The detection's requests (auth challenges aside)."""
    return [e for e in bench.proxy.log if PROBE_PREFIX in e.path and e.status != 401]


def rereads(bench: Bench) -> list[Exchange]:
    """The guard's requests: a PROPFIND of one session's resource."""
    return [
        e
        for e in bench.proxy.log
        if e.method == "PROPFIND" and e.path.endswith(".ics") and PROBE_PREFIX not in e.path
    ]


def stored_facts(bench: Bench, config: Path) -> str:
    with StateStore(config.parent / "state") as store:
        key = account_key(bench.proxy.rebase(bench.server.url), bench.server.username)
        return store.get_meta(key) or ""


@pytest.mark.parametrize("ignoring", [False, True], ids=["enforced", "ignored"])
def test_a_sync_tests_the_server_once_and_guards_only_where_needed(
    bench: Bench, tmp_path: Path, unique: str, ignoring: bool
) -> None:
    bench.proxy.ignore_preconditions = ignoring
    config = configure(bench, tmp_path, unique)
    report, counts = cycle(config)
    assert not report.failed and report.targets["training"].created == 20, report.as_dict()
    assert len(probing(bench)) == (4 if ignoring else PROBE_REQUESTS)
    assert len(rereads(bench)) == (20 if ignoring else 0)  # one per create, or none
    expected = IGNORED if ignoring else ENFORCED
    assert f'"preconditions:{bench.url}":"{expected.to_fact()}"' in stored_facts(bench, config)
    assert bench.left_behind() == []
    print(f"\n{bench.server.kind} {'ignoring' if ignoring else 'enforcing'}: first push {counts}")
    for hours in (1, 2):  # idle cycles: no test, nothing to guard
        bench.proxy.clear_log()
        again, counts = cycle(config, SYNC_NOW + timedelta(hours=hours))
        assert again.writes == 0 and not again.failed
        assert probing(bench) == [] and rereads(bench) == []
    bench.proxy.clear_log()
    later, counts = cycle(config, SYNC_NOW + timedelta(days=7))  # a week on: new sessions to push
    assert later.writes > 0 and not later.failed
    assert probing(bench) == []
    assert len(rereads(bench)) == (later.writes if ignoring else 0)
    print(f"{bench.server.kind}: a week later, {later.writes} writes cost {counts}")


@pytest.mark.parametrize(
    "fault",
    [
        lambda: answer(500, method="PUT", path=PROBE_PREFIX, times=3),
        lambda: drop(method="PUT", path=PROBE_PREFIX, times=3),
        lambda: answer(502, method="DELETE", path=PROBE_PREFIX, times=6),
    ],
    ids=["500", "dropped", "clean-up-fails"],
)
def test_a_failing_test_fails_no_cycle_and_leaves_nothing(
    bench: Bench, tmp_path: Path, unique: str, fault: Callable[[], Fault]
) -> None:
    config = configure(bench, tmp_path, unique)
    bench.proxy.schedule(fault())
    report, _ = cycle(config)
    assert not report.failed and report.targets["training"].created == 20, report.as_dict()
    assert len(rereads(bench)) == 20  # untested: guarded, the safe side
    assert "preconditions:" not in stored_facts(bench, config)
    bench.proxy.clear_faults()
    bench.proxy.clear_log()
    later, _ = cycle(config, SYNC_NOW + timedelta(days=7))  # the next run that writes tests again
    assert later.writes > 0 and not later.failed
    assert f'"preconditions:{bench.url}":"{ENFORCED.to_fact()}"' in stored_facts(bench, config)
    assert rereads(bench) == []
    assert bench.left_behind() == []


@pytest.mark.parametrize("ignoring", [False, True], ids=["enforced", "ignored"])
def test_check_tests_an_existing_calendar_and_says_so(
    bench: Bench, tmp_path: Path, unique: str, ignoring: bool
) -> None:
    """``liftrun check`` reads the calendar, then asks its remarks: the server is tested there,
    the scratch event is gone after, the calendar's line says what liftrun does about a server
    that ignores preconditions, and the answer is kept with the account (as the calendar's URL
    is), so neither the next check nor the first sync tests again."""
    bench.proxy.ignore_preconditions = ignoring
    config = configure(bench, tmp_path, unique)
    said = IGNORED.remarks()[0] if ignoring else "the server enforces If-Match and If-None-Match"
    for probes in ((4 if ignoring else PROBE_REQUESTS), 0):
        bench.proxy.clear_log()
        result = CliRunner().invoke(main, ["check", "--config", str(config)])
        assert result.exit_code == 0, result.output
        (line,) = [x for x in result.output.splitlines() if x.startswith("target training: ")]
        now = f"; {said}{TESTED_NOW}" if probes else (f"; {said}" if ignoring else "")
        assert line == f"target training: ok (0 liftrun events){now}"
        assert len(probing(bench)) == probes
        assert bench.left_behind() == [] and only_the_store(tmp_path / "state")
    bench.proxy.clear_log()
    report, _ = cycle(config)
    assert not report.failed and probing(bench) == []
    assert len(rereads(bench)) == (20 if ignoring else 0)
