"""The vdir target and source on real directories: one file per event, etag preconditions,
replayed creates, foreign files left alone, hand edits seen as moves, crashes mid-apply."""

from __future__ import annotations

import hashlib
import os
import re
import time
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest
import vobject

from adapters.protocol import (
    Action,
    ActionKind,
    AdapterError,
    AlreadyExists,
    BusySource,
    CalendarTarget,
    NotCreatedYet,
    NotFound,
    Outcome,
    OwnedEvent,
    PreconditionFailed,
    SourceUnavailable,
    content_hash,
    session_uid,
)
from adapters.vdir.directory import VdirSource, VdirTarget, file_etag, file_name
from planner.constraints import RuleBook
from planner.model import Session
from planner.placement import apply_placement, place
from planner.plan import build_plan
from tests.conftest import make_settings
from tests.contract.faults import Crash, Fault, FaultyTarget, Moment

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
FAR = (datetime(1900, 1, 1, tzinfo=UTC), datetime(2999, 1, 1, tzinfo=UTC))
WINDOW = (datetime(2027, 3, 20, tzinfo=BERLIN), datetime(2027, 4, 10, tzinfo=BERLIN))


@pytest.fixture(autouse=True)
def _fresh_vobject_zones(monkeypatch: pytest.MonkeyPatch) -> None:
    """vobject keeps the first VTIMEZONE it parses per TZID for the whole process, so a feed
    parsed by another test would decide how these files read."""
    monkeypatch.setattr(vobject.icalendar, "__tzidMap", {"UTC": vobject.icalendar.utc})


def sessions() -> tuple[Session, ...]:
    """Two weeks around the spring DST switch (2027-03-28): offsets +01:00 and +02:00."""
    settings = make_settings()
    plan = build_plan(settings, date(2027, 3, 22), 2)
    result = place(plan.sessions, RuleBook.from_settings(settings), [], now=NOW)
    return apply_placement(plan, result).sessions


def target(path: Path, **kw: object) -> VdirTarget:
    return VdirTarget(path, name="khal", timezone="Europe/Berlin", now=NOW, **kw)  # type: ignore[arg-type]


def create(s: Session) -> Action:
    return Action(ActionKind.CREATE, s.id, "new", session=s, content_hash=content_hash(s, 30))


def update(s: Session, current: OwnedEvent) -> Action:
    h = content_hash(s, 30)
    return Action(ActionKind.UPDATE, s.id, "moved", session=s, content_hash=h, current=current)


def cancel(current: OwnedEvent) -> Action:
    return Action(ActionKind.CANCEL, current.session_id, "dropped", current=current)


def shifted(s: Session, hours: int) -> Session:
    assert s.start is not None and s.end is not None
    return replace(s, start=s.start + timedelta(hours=hours), end=s.end + timedelta(hours=hours))


def run(t: CalendarTarget, actions: list[Action]) -> list[Outcome]:
    return list(t.apply(actions))


def owned(t: VdirTarget) -> dict[str, OwnedEvent]:
    return {o.session_id: o for o in t.list_owned(*FAR)}


def snapshot(path: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(path.iterdir())}


def vevent(raw: bytes) -> icalendar.cal.Component:
    (ev,) = icalendar.Calendar.from_ical(raw).walk("VEVENT")
    return ev


def foreign(uid: str, lines: str, title: str = "Lower-body lift 60 min") -> bytes:
    body = "\r\n".join(
        [
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            "PRODID:-//pimutils//khal//EN",
            "BEGIN:VEVENT",
            f"UID:{uid}",
            "DTSTAMP:20261201T080000Z",
            f"SUMMARY:{title}",
            *lines.split(),
            "END:VEVENT",
            "END:VCALENDAR",
            "",
        ]
    )
    return body.encode()


def test_create_writes_one_valid_item_per_session(tmp_path: Path) -> None:
    items = sessions()
    t = target(tmp_path / "cal")
    assert isinstance(t, CalendarTarget)
    outcomes = run(t, [create(s) for s in items])
    assert [o.error for o in outcomes] == [None] * len(items)
    files = sorted((tmp_path / "cal").iterdir())
    assert [p.name for p in files] == sorted(f"{session_uid(s.id)}.ics" for s in items)
    for s, outcome in zip(items, outcomes, strict=True):
        path = tmp_path / "cal" / file_name(session_uid(s.id))
        raw = path.read_bytes()
        lines = raw.split(b"\r\n")
        assert lines[-1] == b"" and all(b"\n" not in x and len(x) <= 75 for x in lines)
        cal = icalendar.Calendar.from_ical(raw)
        assert "METHOD" not in cal and "X-WR-CALNAME" not in cal and "REFRESH-INTERVAL" not in cal
        assert [str(z["TZID"]) for z in cal.walk("VTIMEZONE")] == ["Europe/Berlin"]
        ev = vevent(raw)
        assert str(ev["UID"]) == session_uid(s.id) and int(str(ev["SEQUENCE"])) == 0
        assert ev.decoded("DTSTART") == s.start and ev.decoded("DTEND") == s.end
        assert str(ev["X-LIFTRUN-HASH"]) == content_hash(s, 30)
        other = vobject.readOne(raw.decode())
        assert len(other.vevent_list) == 1
        assert other.vevent.uid.value == session_uid(s.id)
        assert other.vevent.dtstart.value == s.start and other.vevent.dtend.value == s.end
        assert outcome.event is not None
        assert outcome.event.remote_id == path.name and outcome.event.etag == file_etag(raw)
        assert outcome.event.etag == hashlib.sha256(raw).hexdigest()
    # the DST switch is honoured: 06:00 local is 05:00Z before it and 04:00Z after it
    assert items[0].start is not None and items[-1].start is not None
    assert items[0].start.utcoffset() == timedelta(hours=1)
    assert items[-1].start.utcoffset() == timedelta(hours=2)


def test_list_owned_reads_back_etag_placed_hash_whatever_the_window(tmp_path: Path) -> None:
    items = sessions()
    t = target(tmp_path)
    outcomes = run(t, [create(s) for s in items])
    listed = t.list_owned(datetime(2030, 1, 1, tzinfo=UTC), datetime(2030, 1, 2, tzinfo=UTC))
    assert listed == t.list_owned(*WINDOW)  # all owned events, not only the window's
    by_id = {o.session_id: o for o in listed}
    assert set(by_id) == {s.id for s in items}
    for s, outcome in zip(items, outcomes, strict=True):
        o = by_id[s.id]
        assert o == outcome.event
        assert (o.start, o.end) == (s.start, s.end) and o.placed == (s.start, s.end)
        assert o.content_hash == content_hash(s, 30) and not o.cancelled
        assert not o.moved_by_hand
        assert o.etag == file_etag((tmp_path / o.remote_id).read_bytes())


def test_replayed_create_finds_already_exists_and_makes_no_second_file(tmp_path: Path) -> None:
    items = sessions()[:3]
    t = target(tmp_path)
    run(t, [create(s) for s in items])
    before = snapshot(tmp_path)
    later = target(tmp_path, alarm_minutes=10)
    outcomes = run(later, [create(s) for s in items])
    assert all(isinstance(o.error, AlreadyExists) and o.event is None for o in outcomes)
    assert snapshot(tmp_path) == before


def test_update_checks_the_etag_moves_the_time_and_bumps_sequence(tmp_path: Path) -> None:
    s = sessions()[0]
    t = target(tmp_path)
    (first,) = run(t, [create(s)])
    assert first.event is not None
    moved = shifted(s, 11)
    stale = replace(first.event, etag="stale")
    before = snapshot(tmp_path)
    (refused,) = run(t, [update(moved, stale)])
    assert isinstance(refused.error, PreconditionFailed) and snapshot(tmp_path) == before

    (done,) = run(t, [update(moved, first.event)])
    assert done.error is None and done.event is not None
    raw = (tmp_path / first.event.remote_id).read_bytes()
    ev = vevent(raw)
    assert int(str(ev["SEQUENCE"])) == 1
    assert ev.decoded("DTSTART") == moved.start and ev.decoded("DTEND") == moved.end
    assert done.event.etag == file_etag(raw) != first.event.etag
    assert done.event.placed == (moved.start, moved.end) and not done.event.moved_by_hand
    assert owned(t)[s.id] == done.event
    assert list(tmp_path.iterdir()) == [tmp_path / first.event.remote_id]

    (again,) = run(t, [update(shifted(s, 12), done.event)])
    assert again.error is None
    assert int(str(vevent((tmp_path / first.event.remote_id).read_bytes())["SEQUENCE"])) == 2
    (late,) = run(t, [update(moved, done.event)])  # read before the last write: stale
    assert isinstance(late.error, PreconditionFailed)


def test_cancel_deletes_the_file_after_checking_its_etag(tmp_path: Path) -> None:
    a, b = sessions()[:2]
    t = target(tmp_path)
    run(t, [create(a), create(b)])
    current = owned(t)
    (refused,) = run(t, [cancel(replace(current[a.id], etag="stale"))])
    assert isinstance(refused.error, PreconditionFailed)
    assert (tmp_path / current[a.id].remote_id).exists()
    (done,) = run(t, [cancel(current[a.id])])
    assert done.error is None and done.event is None
    assert not (tmp_path / current[a.id].remote_id).exists()
    assert set(owned(t)) == {b.id}
    gone = run(t, [cancel(current[a.id]), update(a, current[a.id]), cancel(current[b.id])])
    assert [type(o.error) for o in gone] == [NotFound, NotFound, type(None)]
    assert list(tmp_path.iterdir()) == []


FOREIGN_TIMES = (
    "DTSTART;TZID=Europe/Berlin:20270322T060000 DTEND;TZID=Europe/Berlin:20270322T070000"
)


def test_foreign_files_are_never_listed_or_touched(tmp_path: Path) -> None:
    items = sessions()
    first = items[0]
    lookalike = session_uid(first.id)
    files = {
        "meeting.ics": foreign("abc-123@example.com", FOREIGN_TIMES),
        # our UID, but no ownership marker: copied or made up by someone else
        "copy.ics": foreign(lookalike, FOREIGN_TIMES),
        # our UID with a marker naming another session
        "odd.ics": foreign(lookalike, FOREIGN_TIMES + " X-LIFTRUN-SESSION:other"),
        "broken.ics": b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x@example.com\r\n",
        "notes.txt": b"not a calendar",
        ".hidden.ics": foreign(lookalike, FOREIGN_TIMES + f" X-LIFTRUN-SESSION:{first.id}"),
        f".{lookalike}.ics.abc.tmp": b"half a fi",
    }
    for fname, data in files.items():
        (tmp_path / fname).write_bytes(data)
    t = target(tmp_path)
    assert t.list_owned(*FAR) == []
    outcomes = run(t, [create(s) for s in items])
    assert all(o.error is None for o in outcomes)
    listed = owned(t)
    assert set(listed) == {s.id for s in items}
    assert all(o.remote_id not in files for o in listed.values())
    run(t, [cancel(o) for o in listed.values()])
    assert snapshot(tmp_path) == dict(sorted(files.items()))


def test_an_unreadable_file_of_liftrun_stops_the_read(tmp_path: Path) -> None:
    s = sessions()[0]
    t = target(tmp_path)
    (done,) = run(t, [create(s)])
    assert done.event is not None
    path = tmp_path / done.event.remote_id
    path.write_bytes(path.read_bytes().replace(b"END:VCALENDAR\r\n", b""))
    with pytest.raises(AdapterError, match=re.escape(done.event.remote_id)):
        t.list_owned(*FAR)


def test_a_file_mixing_liftrun_and_foreign_events_is_refused(tmp_path: Path) -> None:
    s = sessions()[0]
    t = target(tmp_path)
    (done,) = run(t, [create(s)])
    assert done.event is not None
    path = tmp_path / done.event.remote_id
    extra = b"BEGIN:VEVENT\r\nUID:x@example.com\r\nDTSTART:20270101T100000Z\r\nEND:VEVENT\r\n"
    path.write_bytes(path.read_bytes().replace(b"END:VCALENDAR", extra + b"END:VCALENDAR"))
    with pytest.raises(AdapterError, match="together with other events"):
        t.list_owned(*FAR)


def rewrite(path: Path, start: str, end: str) -> None:
    """What khal does to a moved event: new DTSTART/DTEND, every other property kept."""
    head, sep, event = path.read_bytes().partition(b"BEGIN:VEVENT\r\n")
    event = re.sub(rb"(?m)^DTSTART[;:][^\r]*", start.encode(), event)
    event = re.sub(rb"(?m)^DTEND[;:][^\r]*", end.encode(), event)
    path.write_bytes(head + sep + event)


def test_a_move_by_hand_shows_as_moved_by_hand(tmp_path: Path) -> None:
    s = sessions()[0]
    t = target(tmp_path)
    (done,) = run(t, [create(s)])
    assert done.event is not None
    path = tmp_path / done.event.remote_id
    rewrite(
        path,
        "DTSTART;TZID=Europe/Berlin:20270322T180000",
        "DTEND;TZID=Europe/Berlin:20270322T190000",
    )
    o = owned(t)[s.id]
    assert o.moved_by_hand and o.placed == (s.start, s.end)
    assert o.start == datetime(2027, 3, 22, 18, tzinfo=BERLIN)
    assert o.content_hash == done.event.content_hash and o.etag != done.event.etag
    (stale,) = run(t, [update(s, done.event)])
    assert isinstance(stale.error, PreconditionFailed)

    # in UTC, as some clients write it
    rewrite(path, "DTSTART:20270322T170000Z", "DTEND:20270322T180000Z")
    o = owned(t)[s.id]
    assert o.start == datetime(2027, 3, 22, 18, tzinfo=BERLIN) and o.moved_by_hand

    # across the DST switch: 01:30 CET to 03:30 CEST is one real hour
    rewrite(
        path,
        "DTSTART;TZID=Europe/Berlin:20270328T013000",
        "DTEND;TZID=Europe/Berlin:20270328T033000",
    )
    o = owned(t)[s.id]
    assert o.end - o.start == timedelta(hours=2)  # wall clock difference
    assert o.end.astimezone(UTC) - o.start.astimezone(UTC) == timedelta(hours=1)
    assert o.start.astimezone(UTC) == datetime(2027, 3, 28, 0, 30, tzinfo=UTC)

    # made an all-day event: the whole local day
    rewrite(path, "DTSTART;VALUE=DATE:20270323", "DTEND;VALUE=DATE:20270324")
    o = owned(t)[s.id]
    assert (o.start, o.end) == (
        datetime(2027, 3, 23, tzinfo=BERLIN),
        datetime(2027, 3, 24, tzinfo=BERLIN),
    )
    assert o.moved_by_hand

    # moved back to exactly where liftrun put it: not a move
    assert s.start is not None and s.end is not None
    rewrite(
        path,
        f"DTSTART:{s.start.astimezone(UTC):%Y%m%dT%H%M%SZ}",
        f"DTEND:{s.end.astimezone(UTC):%Y%m%dT%H%M%SZ}",
    )
    assert not owned(t)[s.id].moved_by_hand


def test_a_move_across_dst_reads_right_in_readers_that_trust_the_vtimezone(
    tmp_path: Path,
) -> None:
    s = sessions()[0]  # placed in winter time (+01:00)
    t = target(tmp_path)
    (done,) = run(t, [create(s)])
    assert done.event is not None
    path = tmp_path / done.event.remote_id
    rewrite(
        path,
        "DTSTART;TZID=Europe/Berlin:20270715T060000",
        "DTEND;TZID=Europe/Berlin:20270715T070000",
    )
    summer = datetime(2027, 7, 15, 4, tzinfo=UTC)
    assert vobject.readOne(path.read_text()).vevent.dtstart.value == summer
    assert owned(t)[s.id].start == summer


def test_update_keeps_a_file_a_client_renamed(tmp_path: Path) -> None:
    s = sessions()[0]
    t = target(tmp_path)
    (done,) = run(t, [create(s)])
    assert done.event is not None
    (tmp_path / done.event.remote_id).rename(tmp_path / "0b7e.ics")
    current = owned(t)[s.id]
    assert current.remote_id == "0b7e.ics"
    (moved,) = run(t, [update(shifted(s, 1), current)])
    assert moved.event is not None and moved.event.remote_id == "0b7e.ics"
    assert [p.name for p in tmp_path.iterdir()] == ["0b7e.ics"]


def test_a_crash_at_any_write_leaves_a_consistent_directory(tmp_path: Path) -> None:
    items = sessions()[:4]
    for k in range(len(items)):
        vdir = tmp_path / f"crash{k}"
        t = FaultyTarget(target(vdir), Fault(k, Moment.BEFORE))
        done: list[Outcome] = []
        with pytest.raises(Crash):
            done.extend(t.apply([create(s) for s in items]))
        assert len(done) == k
        names = sorted(p.name for p in vdir.iterdir()) if vdir.exists() else []
        assert names == sorted(o.event.remote_id for o in done if o.event is not None)
        assert set(owned(target(vdir))) == {s.id for s in items[:k]}
        # the replay after the crash: what was written exists, the rest is created
        replay = run(target(vdir), [create(s) for s in items])
        assert [o.error is None for o in replay] == [i >= k for i in range(len(items))]
        assert len(list(vdir.iterdir())) == len(items)


@pytest.mark.parametrize("publish", ["replace", "link"])
def test_a_crash_between_the_temp_file_and_its_rename_leaves_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, publish: str
) -> None:
    """The new content is durable in a dot-file and the process dies before the rename (an
    update) or the link (a create) publishes it: the old file stays whole, no temp is left."""
    a, b = sessions()[:2]
    run(target(tmp_path), [create(a)])
    before = snapshot(tmp_path)
    action = (
        update(shifted(a, 2), owned(target(tmp_path))[a.id]) if publish == "replace" else create(b)
    )

    def dies(*args: object, **kwargs: object) -> None:
        raise Crash(f"before os.{publish}")

    monkeypatch.setattr(os, publish, dies)
    with pytest.raises(Crash):
        run(target(tmp_path), [action])
    monkeypatch.undo()
    assert snapshot(tmp_path) == before
    assert set(owned(target(tmp_path))) == {a.id}


def test_a_crash_before_a_cancel_keeps_the_file(tmp_path: Path) -> None:
    a, b = sessions()[:2]
    run(target(tmp_path), [create(a), create(b)])
    before = snapshot(tmp_path)
    t = FaultyTarget(target(tmp_path), Fault(0, Moment.BEFORE))
    with pytest.raises(Crash):
        run(t, [cancel(owned(target(tmp_path))[b.id])])
    assert snapshot(tmp_path) == before


def test_no_write_starts_after_the_engine_stops_iterating(tmp_path: Path) -> None:
    items = sessions()[:3]
    outcomes = target(tmp_path).apply([create(s) for s in items])
    first = next(iter(outcomes))
    assert first.error is None and first.event is not None
    assert [p.name for p in tmp_path.iterdir()] == [first.event.remote_id]  # no temp file either


def test_missing_and_unusable_directories(tmp_path: Path) -> None:
    made = tmp_path / "a" / "b"
    assert target(made).list_owned(*FAR) == [] and made.is_dir()
    absent = tmp_path / "absent"
    with pytest.raises(NotCreatedYet, match="does not exist yet"):
        target(absent, create_missing=False).list_owned(*FAR)
    with pytest.raises(AdapterError):
        run(target(absent, create_missing=False), [create(sessions()[0])])
    assert not absent.exists()
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(AdapterError):
        target(a_file).list_owned(*FAR)


def test_file_names_are_a_function_of_the_uid() -> None:
    assert file_name("20270322-lift-lower-1@liftrun.invalid") == (
        "20270322-lift-lower-1@liftrun.invalid.ics"
    )
    odd = file_name("a/b c@liftrun.invalid")
    assert odd == file_name("a/b c@liftrun.invalid") != file_name("a_b_c@liftrun.invalid")
    assert re.fullmatch(r"[0-9a-f]{64}\.ics", odd)
    assert re.fullmatch(r"[0-9a-f]{64}\.ics", file_name(".hidden@liftrun.invalid"))
    assert re.fullmatch(r"[0-9a-f]{64}\.ics", file_name("x" * 300))


# -- the busy source ----------------------------------------------------------------------


def test_source_reads_busy_time_and_skips_liftrun_own(tmp_path: Path) -> None:
    items = sessions()
    run(target(tmp_path), [create(s) for s in items])
    (tmp_path / "meeting.ics").write_bytes(foreign("m@example.com", FOREIGN_TIMES, "Standup"))
    (tmp_path / "dst.ics").write_bytes(
        foreign(
            "d@example.com",
            "DTSTART;TZID=Europe/Berlin:20270328T013000 DTEND;TZID=Europe/Berlin:20270328T033000",
            "Night",
        )
    )
    (tmp_path / "utc.ics").write_bytes(
        foreign("u@example.com", "DTSTART:20270330T160000Z DURATION:PT90M", "Call")
    )
    (tmp_path / "trip.ics").write_bytes(
        foreign("t@example.com", "DTSTART;VALUE=DATE:20270401 DTEND;VALUE=DATE:20270403", "Trip")
    )
    (tmp_path / "free.ics").write_bytes(
        foreign("f@example.com", FOREIGN_TIMES + " TRANSP:TRANSPARENT", "Reminder")
    )
    (tmp_path / ".x.ics.1.tmp").write_bytes(b"partial")
    source = VdirSource(tmp_path, name="khal", tz=BERLIN)
    assert isinstance(source, BusySource)
    read = source.read_busy(*WINDOW)
    assert read.fresh and read.name == "khal" and read.busy.warnings == ()
    got = {(i.summary, i.start, i.end) for i in read.busy.intervals}
    assert got == {
        (
            "Standup",
            datetime(2027, 3, 22, 6, tzinfo=BERLIN),
            datetime(2027, 3, 22, 7, tzinfo=BERLIN),
        ),
        (
            "Night",
            datetime(2027, 3, 28, 0, 30, tzinfo=UTC),
            datetime(2027, 3, 28, 1, 30, tzinfo=UTC),
        ),
        (
            "Call",
            datetime(2027, 3, 30, 18, tzinfo=BERLIN),
            datetime(2027, 3, 30, 19, 30, tzinfo=BERLIN),
        ),
        ("Trip", datetime(2027, 4, 1, tzinfo=BERLIN), datetime(2027, 4, 3, tzinfo=BERLIN)),
    }
    assert all(i.source == "khal" for i in read.busy.intervals)
    assert list(read.busy.intervals) == sorted(read.busy.intervals)
    outside = source.read_busy(datetime(2028, 1, 1, tzinfo=UTC), datetime(2028, 2, 1, tzinfo=UTC))
    assert outside.busy.intervals == ()


def test_source_never_reads_an_unreadable_vdir_as_free(tmp_path: Path) -> None:
    with pytest.raises(SourceUnavailable, match="absent"):
        VdirSource(tmp_path / "absent", name="khal", tz=BERLIN).read_busy(*WINDOW)
    (tmp_path / "file").write_text("x")
    with pytest.raises(SourceUnavailable):
        VdirSource(tmp_path / "file", name="khal", tz=BERLIN).read_busy(*WINDOW)
    vdir = tmp_path / "cal"
    vdir.mkdir()
    (vdir / "ok.ics").write_bytes(foreign("m@example.com", FOREIGN_TIMES, "Standup"))
    (vdir / "bad.ics").write_bytes(b"<html>login</html>")
    with pytest.raises(SourceUnavailable, match=r"bad\.ics"):
        VdirSource(vdir, name="khal", tz=BERLIN).read_busy(*WINDOW)
    (vdir / "bad.ics").unlink()
    assert len(VdirSource(vdir, name="khal", tz=BERLIN).read_busy(*WINDOW).busy.intervals) == 1


def test_source_refuses_a_fifo_item_at_once_and_stops_expanding_at_its_deadline(
    tmp_path: Path,
) -> None:
    """A FIFO named ``*.ics`` in the folder would block a plain read forever; a calendar of
    never-matching rules would keep the reading thread busy past the cycle's wait."""
    vdir = tmp_path / "cal"
    vdir.mkdir()
    os.mkfifo(vdir / "pipe.ics")
    began = time.monotonic()
    with pytest.raises(SourceUnavailable, match=r"pipe\.ics: not a regular file \(a FIFO\)"):
        VdirSource(vdir, name="khal", tz=BERLIN).read_busy(*WINDOW)
    (vdir / "pipe.ics").unlink()
    hostile = Path(__file__).parents[1] / "fixtures" / "ics" / "hostile"
    (vdir / "slow.ics").write_bytes((hostile / "slow_never_matching.ics").read_bytes())
    source = VdirSource(vdir, name="khal", tz=BERLIN, deadline_seconds=0.5)
    window = (datetime(2027, 1, 1, tzinfo=UTC), datetime(2027, 12, 1, tzinfo=UTC))
    with pytest.raises(SourceUnavailable, match=r"reading took longer than 0\.5 s"):
        source.read_busy(*window)
    assert time.monotonic() - began < 2.0


def test_target_refuses_a_fifo_item_instead_of_blocking(tmp_path: Path) -> None:
    """The target's folder is shared with a sync tool and the person; a FIFO there must fail
    the read in one line, not hang the cycle."""
    vdir = tmp_path / "cal"
    vdir.mkdir()
    os.mkfifo(vdir / "pipe.ics")
    began = time.monotonic()
    with pytest.raises(AdapterError, match=r"pipe\.ics: not a regular file \(a FIFO\)"):
        target(vdir).list_owned(*FAR)
    assert time.monotonic() - began < 2.0
