"""The adapters' cache: values come back as they were put, anything else reads as a miss, and a
cache that must not persist leaves the disk alone."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.cache import FORMAT, Cache, Namespace

NS = Namespace("things", version=3)
FIXTURE_OK = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=20,
)
keys = st.text() | st.tuples(st.text(), st.text())


@FIXTURE_OK
@given(key=keys, value=json_values)
def test_a_json_value_comes_back_as_it_was_put(tmp_path: Path, key: Any, value: Any) -> None:
    cache = Cache(tmp_path / "c")
    cache.put_json(NS, key, value)
    assert cache.get_json(NS, key) == value
    assert Cache(tmp_path / "c").get_json(NS, key) == value  # a new process reads it too


@FIXTURE_OK
@given(key=keys, data=st.binary(max_size=4096))
def test_bytes_come_back_as_they_were_put(tmp_path: Path, key: Any, data: bytes) -> None:
    cache = Cache(tmp_path / "c")
    cache.put_bytes(NS, key, data)
    assert cache.get_bytes(NS, key) == data


@FIXTURE_OK
@given(data=st.data())
def test_a_damaged_entry_is_a_miss(tmp_path: Path, data: st.DataObject) -> None:
    cache = Cache(tmp_path / "c")
    cache.put_json(NS, "k", {"events": ["a", "b"], "token": "t"})
    path = cache.path(NS, "k")
    good = path.read_bytes()
    damage = data.draw(st.sampled_from(["truncate", "flip", "append"]))
    if damage == "truncate":
        bad = good[: data.draw(st.integers(0, len(good) - 1))]
    elif damage == "flip":
        at = data.draw(st.integers(0, len(good) - 1))
        bad = good[:at] + bytes([good[at] ^ data.draw(st.integers(1, 255))]) + good[at + 1 :]
    else:
        bad = good + data.draw(st.binary(min_size=1, max_size=8))
    path.write_bytes(bad)
    assert cache.get_json(NS, "k") is None
    cache.put_json(NS, "k", [1])  # and it is simply replaced by the next write
    assert cache.get_json(NS, "k") == [1]


def test_an_entry_of_another_version_namespace_or_type_is_a_miss(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    cache.put_json(NS, "k", [1])
    cache.put_bytes(Namespace("blobs"), "k", b"x")
    assert cache.get_json(Namespace(NS.name, NS.version + 1), "k") is None
    assert cache.get_json(Namespace("others", NS.version), "k") is None
    assert cache.get_bytes(NS, "k") is None
    assert cache.get_json(Namespace("blobs"), "k") is None
    # a file of another namespace copied over this one's name is not read as this one's
    cache.path(NS, "k").write_bytes(cache.path(Namespace("blobs"), "k").read_bytes())
    assert cache.get_bytes(NS, "k") is None


def test_an_older_format_or_a_file_that_is_not_an_entry_is_a_miss(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    cache.put_json(NS, "k", {"a": 1})
    path = cache.path(NS, "k")
    header, _, payload = path.read_bytes().partition(b"\n")
    older = json.loads(header) | {"liftrun-cache": FORMAT - 1}
    path.write_bytes(json.dumps(older).encode() + b"\n" + payload)
    assert cache.get_json(NS, "k") is None
    for junk in (b"", b"{}", b'{"version": 1, "mirror": {}}', b"\n", b"x" * 10_000 + b"\n{}"):
        path.write_bytes(junk)
        assert cache.get_json(NS, "k") is None


def test_a_link_a_fifo_or_a_directory_at_the_entry_is_a_miss(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    elsewhere = Cache(tmp_path / "elsewhere")
    elsewhere.put_json(NS, "k", "planted")
    cache.path(NS, "k").symlink_to(elsewhere.path(NS, "k"))
    assert cache.get_json(NS, "k") is None
    os.mkfifo(cache.path(NS, "fifo"))
    assert cache.get_json(NS, "fifo") is None  # at once: no writer is waited for
    cache.path(NS, "dir").mkdir()
    assert cache.get_bytes(NS, "dir") is None


def test_files_are_private_and_the_directory_is_made_on_the_first_write(tmp_path: Path) -> None:
    root = tmp_path / "state" / "kind"
    cache = Cache(root)
    assert cache.get_json(NS, "k") is None
    assert not (tmp_path / "state").exists()  # a read creates nothing
    umask = os.umask(0o022)
    try:
        cache.put_json(NS, "k", 1)
    finally:
        os.umask(umask)
    assert stat.S_IMODE(root.stat().st_mode) == 0o700
    assert stat.S_IMODE(root.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(cache.path(NS, "k").stat().st_mode) == 0o600
    assert [p.name for p in root.iterdir()] == [cache.path(NS, "k").name]  # no temp file left


def test_a_cache_that_must_not_persist_reads_but_writes_nothing(tmp_path: Path) -> None:
    Cache(tmp_path / "c").put_json(NS, "kept", {"a": 1})
    before = {p: p.read_bytes() for p in (tmp_path / "c").iterdir()}
    dry = Cache(tmp_path / "c", persist=False)
    assert dry.get_json(NS, "kept") == {"a": 1}
    dry.put_json(NS, "kept", {"a": 2})
    dry.put_bytes(NS, "new", b"x")
    assert {p: p.read_bytes() for p in (tmp_path / "c").iterdir()} == before
    Cache(tmp_path / "none", persist=False).put_json(NS, "k", 1)
    assert not (tmp_path / "none").exists()


LEGACY = [
    "0" * 64 + ".ics",
    "a" * 64 + ".json",
    "b" * 64 + ".parsed",
    "caldav-target-0123456789abcdef0123.json",
    "caldav-source-0123456789abcdef0123.json",
    "google-target-0123456789abcdef0123.json",
    "google-busy-0123456789abcdef0123.json",
]


def test_the_first_write_removes_the_files_of_the_old_cache_formats(tmp_path: Path) -> None:
    for name in LEGACY:
        (tmp_path / name).write_text('{"version": 1}')
    others = ["google-token.json", "notes.json", "caldav-target-x.json", "a" * 63 + ".ics"]
    for name in others:
        (tmp_path / name).write_text("kept")
    (tmp_path / ("c" * 64 + ".json")).mkdir()  # not a file: left alone
    cache = Cache(tmp_path, persist=False)
    cache.put_json(NS, "k", 1)
    assert {p.name for p in tmp_path.iterdir()} >= set(LEGACY)  # a dry run removes nothing
    assert Cache(tmp_path).get_json(NS, "old") is None  # nor does a read
    Cache(tmp_path).put_json(NS, "k", 1)
    left = {p.name for p in tmp_path.iterdir()}
    assert left == {*others, "c" * 64 + ".json", Cache(tmp_path).path(NS, "k").name}


def test_keys_do_not_appear_on_disk_and_namespaces_keep_equal_keys_apart(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    secret = "https://calendar.example/private-0a1b2c3d4e5f/basic.ics"
    cache.put_json(NS, secret, "mine")
    cache.put_json(Namespace("others"), secret, "theirs")
    assert cache.get_json(NS, secret) == "mine"
    assert cache.get_json(Namespace("others"), secret) == "theirs"
    assert cache.get_json(NS, (secret,)) == "mine"  # a one-part tuple is the same key
    assert cache.get_json(NS, ("https:", "calendar.example")) is None
    for path in tmp_path.iterdir():
        assert "private-0a1b2c3d4e5f" not in path.name + path.read_text()


def test_a_write_that_fails_raises_for_the_caller_to_report(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    with pytest.raises(OSError):
        Cache(tmp_path / "file").put_json(NS, "k", 1)
    with pytest.raises(TypeError):
        Cache(tmp_path).put_json(NS, "k", {1, 2})  # not JSON: a programming error


@pytest.mark.parametrize("name", ["", "Upper", "a/b", "a.b", "-x", "x" * 41])
def test_a_namespace_is_a_plain_name(name: str) -> None:
    with pytest.raises(ValueError):
        Namespace(name)
