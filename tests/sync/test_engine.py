"""The sync engine end to end on real files: a vdir calendar the athlete edits, a vdir of busy
time, the SQLite state store. Each test is one promise of the engine."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tests.sync.harness import START, Rig

HORIZON_SESSIONS = 20  # four weeks of the sample plan (3 lifts + 2 runs a week)


def assert_no_duplicates(rig: Rig) -> None:
    for sid, files in rig.events().items():
        assert len(files) == 1, f"{sid} is in {len(files)} files"


def assert_clear_of_busy(rig: Rig) -> None:
    busy = rig.busy_intervals()
    for sid, (start, end) in rig.times().items():
        if start < START:
            continue
        for b_start, b_end in busy:
            assert not (start < b_end and b_start < end), f"{sid} overlaps busy {b_start}"


def test_first_cycle_pushes_the_horizon_and_twenty_idle_cycles_write_nothing(
    tmp_path: Path,
) -> None:
    rig = Rig(tmp_path)
    report = rig.cycle(START)
    assert report.targets["training"].created == HORIZON_SESSIONS
    assert not report.failed
    stamps = {p.name: p.stat().st_mtime_ns for p in rig.training.iterdir()}
    for step in range(20):
        again = rig.cycle(START + timedelta(minutes=15 * step))
        assert again.writes == 0, again.actions
        assert again.targets["training"].unchanged >= HORIZON_SESSIONS - 1
    assert {p.name: p.stat().st_mtime_ns for p in rig.training.iterdir()} == stamps
    with rig.store() as store:
        assert len(store.cycles(100)) == 0  # the harness journals nothing; the CLI does


def test_new_busy_time_moves_the_session_out_of_it_with_a_reason(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.cycle(START)
    sid, (start, _) = sorted(rig.times().items(), key=lambda kv: kv[1])[3]
    rig.add_busy(start - timedelta(minutes=30), hours=2, title="Dentist")
    report = rig.cycle(START)
    assert report.targets["training"].moved == 1
    (action,) = report.actions
    assert action.session == sid and action.action == "update"
    assert "Dentist" in action.reason
    assert_clear_of_busy(rig)
    assert rig.cycle(START).writes == 0


def test_a_session_moved_by_hand_is_pinned_and_the_rest_reflow(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.cycle(START)
    sid = next(s for s in sorted(rig.times()) if s.startswith("20270111-lift-lower"))
    new_start, new_end = rig.move(sid, timedelta(days=1, hours=11))  # to Tuesday evening
    report = rig.cycle(START)
    assert [p.session for p in report.pinned] == [sid]
    assert rig.times()[sid] == (new_start, new_end)  # the athlete's time is kept
    with rig.store() as store:
        assert sid in store.pins()
    assert all(a.session != sid for a in report.actions)
    assert rig.cycle(START).writes == 0  # and it stays pinned, quietly


def test_a_session_deleted_by_hand_is_never_recreated_until_restored(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.cycle(START)
    sid = sorted(rig.times())[5]
    rig.delete(sid)
    report = rig.cycle(START)
    assert [t.session for t in report.tombstoned] == [sid]
    assert sid not in rig.events()
    for _ in range(3):
        assert rig.cycle(START).writes == 0
    with rig.store() as store:
        assert store.restore(sid)
    report = rig.cycle(START)
    assert report.targets["training"].created == 1
    assert sid in rig.events()


def test_a_source_that_cannot_be_read_moves_and_deletes_nothing(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.cycle(START)
    before = {p.name: p.read_bytes() for p in rig.training.iterdir()}
    (rig.busy / "broken.ics").write_text("<html>not a calendar</html>")
    report = rig.cycle(START + timedelta(days=3))
    assert report.failed and report.writes == 0
    assert any("could not be read" in w for w in report.warnings)
    assert {p.name: p.read_bytes() for p in rig.training.iterdir()} == before
    (rig.busy / "broken.ics").unlink()
    assert not rig.cycle(START + timedelta(days=3)).failed


def test_a_target_that_cannot_be_read_is_reported_and_not_written(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.cycle(START)
    own = next(iter(rig.training.glob("*.ics")))
    data = own.read_bytes()
    own.write_bytes(data[: len(data) // 2])  # one of ours, cut short by a broken client
    report = rig.cycle(START)
    assert report.failed and report.targets["training"].errors
    assert report.writes == 0 and not report.tombstoned


def test_sessions_in_the_past_and_frozen_ones_stay(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.cycle(START)
    times = sorted(rig.times().items(), key=lambda kv: kv[1])
    now = times[1][1][0] - timedelta(hours=2)  # two hours before the second session
    sid, (start, _) = times[1]
    rig.add_busy(start, hours=1)  # too late to move it: inside freeze_hours
    report = rig.cycle(now)
    assert all(a.session != sid for a in report.actions)
    assert rig.times()[sid][0] == start


def test_a_pinned_session_moved_back_by_hand_stays_where_the_athlete_put_it(
    tmp_path: Path,
) -> None:
    rig = Rig(tmp_path)
    rig.cycle(START)
    sid = next(s for s in sorted(rig.times()) if s.startswith("20270111-run-easy"))
    original = rig.times()[sid]
    rig.move(sid, timedelta(hours=12))
    assert [p.session for p in rig.cycle(START).pinned] == [sid]
    rig.move(sid, timedelta(hours=-12))  # changed their mind: back to liftrun's time
    report = rig.cycle(START)
    assert [p.session for p in report.pinned] == [sid]
    assert rig.times()[sid] == original and report.writes == 0
    with rig.store() as store:
        pin = store.pins()[sid]
    assert (pin.start, pin.end) == original
    assert rig.cycle(START).writes == 0
