"""The parsed-busy cache gives exactly what a fresh parse of the same window gives."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from adapters.cache import Cache
from adapters.ical.busy import read_busy
from adapters.ics.busy_cache import AHEAD, PARSED, ParsedBusyCache, narrow
from adapters.ics.source import IcsSource

BERLIN = ZoneInfo("Europe/Berlin")
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ics"
START = datetime(2027, 3, 1, tzinfo=BERLIN)
END = datetime(2027, 4, 5, tzinfo=BERLIN)  # across the switch to summer time


@pytest.mark.parametrize("fixture", sorted(p.name for p in FIXTURES.glob("*.ics")))
def test_a_cached_read_equals_a_fresh_parse(tmp_path: Path, fixture: str) -> None:
    body = (FIXTURES / fixture).read_bytes()
    try:
        fresh = read_busy(body, source="s", tz=BERLIN, start=START, end=END)
    except ValueError:
        pytest.skip("not a readable calendar (an error fixture)")
    cache = ParsedBusyCache(Cache(tmp_path / "c"), "source", BERLIN)
    wide = read_busy(body, source="s", tz=BERLIN, start=START, end=END + AHEAD)
    cache.put("sha", START, END + AHEAD, wide)
    for day in range(0, 14, 3):  # the window slides a day at a time
        lo, hi = START + timedelta(days=day), END + timedelta(days=day)
        hit = cache.get("sha", lo, hi)
        assert hit is not None
        expect = read_busy(body, source="s", tz=BERLIN, start=lo, end=hi).intervals
        assert hit.intervals == expect
        assert narrow(wide, lo, hi).intervals == expect
    assert fresh.intervals == narrow(wide, START, END).intervals


def test_a_different_body_zone_or_window_misses(tmp_path: Path) -> None:
    cache = ParsedBusyCache(Cache(tmp_path / "c"), "source", BERLIN)
    body = (FIXTURES / "recurring.ics").read_bytes()
    cache.put("sha", START, END, read_busy(body, source="s", tz=BERLIN, start=START, end=END))
    assert cache.get("sha", START, END) is not None
    assert cache.get("other", START, END) is None
    assert cache.get("sha", START - timedelta(days=1), END) is None
    assert cache.get("sha", START, END + timedelta(days=1)) is None
    utc = ParsedBusyCache(Cache(tmp_path / "c"), "source", ZoneInfo("UTC"))
    assert utc.get("sha", START, END) is None
    assert ParsedBusyCache(Cache(tmp_path / "c"), "other", BERLIN).get("sha", START, END) is None
    Cache(tmp_path / "c").put_json(PARSED, "source", {"sha256": "sha", "intervals": 3})
    assert cache.get("sha", START, END) is None


def test_the_source_parses_an_unchanged_file_once(tmp_path: Path) -> None:
    path = tmp_path / "cal.ics"
    path.write_bytes((FIXTURES / "recurring.ics").read_bytes())
    source = IcsSource(str(path), cache=Cache(tmp_path / "cache"), tz=BERLIN)
    first = source.read_busy(START, END)
    parsed = Cache(tmp_path / "cache").path(PARSED, str(path))
    assert parsed.exists()
    stamp = parsed.stat().st_mtime_ns
    again = IcsSource(str(path), cache=Cache(tmp_path / "cache"), tz=BERLIN).read_busy(START, END)
    assert again.busy == first.busy and parsed.stat().st_mtime_ns == stamp
    path.write_bytes(path.read_bytes().replace(b"SUMMARY:", b"SUMMARY:x"))
    changed = IcsSource(str(path), cache=Cache(tmp_path / "cache"), tz=BERLIN).read_busy(START, END)
    assert parsed.stat().st_mtime_ns != stamp and changed.busy != first.busy
