"""The typed cycle report: its JSON is the format the README documents (key for key), it reads
back from the journal as it was written, and its text lines are what ``liftrun sync`` printed
when the report was a dict.

The expected JSON and lines were captured from the dict-shaped report and ``_print_report``
before the report became typed; they are the fixture every later change is held to.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from sync.report import (
    Action,
    CycleReport,
    Pin,
    SourceReport,
    TargetReport,
    Tombstone,
    Unplaced,
    from_journal,
    journal_form,
    report_lines,
)
from sync.state import StateStore
from tests.sync.harness import START, Rig

WARNING, ERROR = logging.WARNING, logging.ERROR


def full_report(*, dry_run: bool) -> CycleReport:
    """A report with every kind of entry, failing sources and a failing target among them."""
    return CycleReport(
        started=datetime(2025, 3, 3, 6, 15, tzinfo=timezone(timedelta(hours=1))),
        dry_run=dry_run,
        sources={
            "work": SourceReport(ok=True, busy_events=12),
            "https://example.org/…/basic.ics": SourceReport(False, 0, "no answer within 20 s"),
            "stale": SourceReport(False, 3, "HTTP 503; using the last good copy"),
        },
        targets={
            "training": TargetReport(created=2, updated=1, moved=1, cancelled=1, unchanged=7),
            "phone": TargetReport(errors=["cannot read back: refused", "create w1-run: HTTP 500"]),
        },
        actions=[
            Action("training", "create", "w1-run", "new in the plan: Easy run (P1)"),
            Action("training", "update", "w1-gym", "moved: Tue 18:00"),
            Action("phone", "cancel", "w2-long", "no longer in the plan"),
        ],
        pinned=[
            Pin("training", "w1-tempo", datetime(2025, 3, 4, 17, tzinfo=ZoneInfo("Europe/Berlin")))
        ],
        tombstoned=[
            Tombstone("phone", "w1-easy", "deleted by hand"),
            Tombstone("training", "w2-gym", "cancelled by hand"),
        ],
        unplaced=[Unplaced("w2-intervals", "no free slot in the windows")],
        warnings=["busy source x could not be read", "training: two events for session w1-run"],
        stopped=dry_run,
    )


EXPECTED_JSON = (
    '{"started": "2025-03-03T06:15:00+01:00", "dry_run": false, "writes": 5, "targets": '
    '{"training": {"created": 2, "updated": 1, "moved": 1, "cancelled": 1, "unchanged": 7, '
    '"errors": []}, "phone": {"created": 0, "updated": 0, "moved": 0, "cancelled": 0, '
    '"unchanged": 0, "errors": ["cannot read back: refused", "create w1-run: HTTP 500"]}}, '
    '"sources": {"work": {"ok": true, "busy_events": 12, "error": null}, '
    '"https://example.org/\\u2026/basic.ics": {"ok": false, "busy_events": 0, "error": '
    '"no answer within 20 s"}, "stale": {"ok": false, "busy_events": 3, "error": '
    '"HTTP 503; using the last good copy"}}, "actions": [{"target": "training", "action": '
    '"create", "session": "w1-run", "reason": "new in the plan: Easy run (P1)"}, {"target": '
    '"training", "action": "update", "session": "w1-gym", "reason": "moved: Tue 18:00"}, '
    '{"target": "phone", "action": "cancel", "session": "w2-long", "reason": '
    '"no longer in the plan"}], "pinned": [{"target": "training", "session": "w1-tempo", '
    '"start": "2025-03-04T17:00:00+01:00"}], "tombstoned": [{"target": "phone", "session": '
    '"w1-easy", "how": "deleted by hand"}, {"target": "training", "session": "w2-gym", "how": '
    '"cancelled by hand"}], "unplaced": [{"id": "w2-intervals", "reason": '
    '"no free slot in the windows"}], "warnings": ["busy source x could not be read", '
    '"training: two events for session w1-run"], "stopped": false}'
)

EXPECTED_LINES: list[tuple[str, int | None]] = [
    ("create w1-run in training: new in the plan: Easy run (P1)", None),
    ("update w1-gym in training: moved: Tue 18:00", None),
    ("cancel w2-long in phone: no longer in the plan", None),
    ("source work: 12 busy events, ok", None),
    ("source https://example.org/…/basic.ics: 0 busy events, FAILED: no answer within 20 s", None),
    ("source stale: 3 busy events, FAILED: HTTP 503; using the last good copy", None),
    ("target training: 2 created, 1 moved, 1 updated, 1 cancelled, 7 unchanged", None),
    ("target phone: 0 created, 0 moved, 0 updated, 0 cancelled, 0 unchanged", None),
    ("target phone: ERROR cannot read back: refused", ERROR),
    ("target phone: ERROR create w1-run: HTTP 500", ERROR),
    ("pinned w1-tempo at 2025-03-04T17:00:00+01:00: moved by hand in training (S9)", None),
    ("w1-easy deleted by hand in phone: not recreated (liftrun restore w1-easy)", None),
    ("w2-gym cancelled by hand in training: not recreated (liftrun restore w2-gym)", None),
    ("unplaced w2-intervals: no free slot in the windows", None),
    ("warning: busy source x could not be read", WARNING),
    ("warning: training: two events for session w1-run", WARNING),
]


def test_the_json_is_the_documented_format_key_for_key() -> None:
    assert json.dumps(full_report(dry_run=False).as_dict(), default=str) == EXPECTED_JSON
    dry = json.loads(json.dumps(full_report(dry_run=True).as_dict()))
    assert dry == {**json.loads(EXPECTED_JSON), "dry_run": True, "stopped": True}


def test_the_text_lines_are_what_sync_printed() -> None:
    assert list(report_lines(full_report(dry_run=False))) == EXPECTED_LINES
    dry = [(f"dry run: would {t}", lv) for t, lv in EXPECTED_LINES[:3]] + EXPECTED_LINES[3:]
    assert list(report_lines(full_report(dry_run=True))) == dry
    assert not list(report_lines(CycleReport(started=START)))


def test_a_line_unpacks_as_text_and_whether_it_is_for_stderr() -> None:
    routed = [(text, bool(err)) for text, err in report_lines(full_report(dry_run=False))]
    assert [text for text, err in routed if err] == [
        "target phone: ERROR cannot read back: refused",
        "target phone: ERROR create w1-run: HTTP 500",
        "warning: busy source x could not be read",
        "warning: training: two events for session w1-run",
    ]


def test_failed_and_writes_come_from_sources_and_targets() -> None:
    report = full_report(dry_run=False)
    assert report.failed and report.writes == 5
    report.sources = {"work": SourceReport(ok=True, busy_events=1)}
    report.targets["phone"].errors.clear()
    assert not report.failed


# -- reading the journal back ------------------------------------------------------------------

_text = st.text(max_size=12)
_offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda m: timezone(timedelta(minutes=m))
)
# A fixed offset is what a time has once it has been through ISO text; a named zone's time
# compares unequal across zones in a repeated hour (PEP 495), so zones get their own property.
_times = st.datetimes(timezones=_offsets)


def _reports(times: st.SearchStrategy[datetime]) -> st.SearchStrategy[CycleReport]:
    counts = st.integers(min_value=0, max_value=10_000)
    targets = st.builds(
        TargetReport,
        created=counts,
        updated=counts,
        moved=counts,
        cancelled=counts,
        unchanged=counts,
        errors=st.lists(_text, max_size=2),
    )
    sources = st.builds(SourceReport, ok=st.booleans(), busy_events=counts, error=st.none() | _text)
    return st.builds(
        CycleReport,
        started=times,
        dry_run=st.booleans(),
        targets=st.dictionaries(_text, targets, max_size=3),
        sources=st.dictionaries(_text, sources, max_size=3),
        actions=st.lists(st.builds(Action, _text, _text, _text, _text), max_size=3),
        pinned=st.lists(st.builds(Pin, _text, _text, times), max_size=3),
        tombstoned=st.lists(st.builds(Tombstone, _text, _text, _text), max_size=3),
        unplaced=st.lists(st.builds(Unplaced, _text, _text), max_size=3),
        warnings=st.lists(_text, max_size=3),
        stopped=st.booleans(),
    )


def _through_json(report: CycleReport) -> CycleReport:
    read = from_journal(json.loads(json.dumps(journal_form(report))))
    assert read is not None
    return read


@given(_reports(_times))
def test_a_report_reads_back_as_it_was_written(report: CycleReport) -> None:
    assert CycleReport.from_dict(report.as_dict()) == report
    assert _through_json(report) == report


@given(_reports(st.datetimes(timezones=st.timezones())))
def test_a_report_in_any_zone_reads_back_to_the_same_json(report: CycleReport) -> None:
    assert _through_json(report).as_dict() == report.as_dict()


def test_an_entry_that_is_no_report_reads_back_as_none() -> None:
    assert journal_form(None) == {"error": "cycle failed; see the log"}
    good = full_report(dry_run=False).as_dict()
    entries: list[object] = [
        journal_form(None),
        {},
        [],
        "report",
        {**good, "writes": 5, "stopped": "no"},
        {**good, "sources": {"a": {"ok": True, "busy_events": True, "error": None}}},
        {**good, "pinned": [{"target": "t", "session": "s", "start": "yesterday"}]},
        {k: v for k, v in good.items() if k != "warnings"},
    ]
    for entry in entries:
        assert from_journal(entry) is None, entry


def test_a_real_cycle_reads_back_from_the_journal(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.cycle(START)
    moved = next(s for s in sorted(rig.times()) if s.startswith("20270111-lift-lower"))
    rig.move(moved, timedelta(days=1, hours=11))
    rig.delete(sorted(rig.times())[5])
    report = rig.cycle(START)
    assert report.pinned and report.tombstoned and report.warnings and report.sources
    assert list(report.as_dict()) == [
        *("started", "dry_run", "writes", "targets", "sources", "actions"),
        *("pinned", "tombstoned", "unplaced", "warnings", "stopped"),
    ]
    with StateStore(tmp_path / "journal") as store:
        store.journal(START, START, not report.failed, report)
        store.journal(START, START, False, None)
        crashed, entry = store.cycles()
    assert entry.report == report and entry.ok and entry.started == START.astimezone(UTC)
    assert crashed.report is None and not crashed.ok
