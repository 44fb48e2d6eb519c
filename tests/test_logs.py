"""One logger tree, safe lines: every logger liftrun's code names reaches the one handler in both
formats; control characters, secret URLs and feed tokens never reach the log as they came."""

from __future__ import annotations

import io
import json
import logging
import logging.config
import os
import re
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from cli.main import main
from sync import logs
from tests.test_sync_cli import CONFIG

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("adapters", "sync", "planner", "config")
# Libraries whose loggers liftrun's process may write to.
THIRD_PARTY = (
    "httpx",
    "httpcore.connection",
    "uvicorn.error",
    "uvicorn.access",
    "googleapiclient.discovery",
    "icalendar",
)
RAW_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]")


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """``setup`` changes the process's logging; every test here leaves it as it found it."""
    loggers = [logging.getLogger(), *logs._existing_loggers()]
    saved = [(lg, lg.handlers[:], lg.level, lg.propagate) for lg in loggers]
    yield
    for lg in logs._existing_loggers():
        if lg not in loggers:
            lg.handlers[:] = []
            lg.setLevel(logging.NOTSET)
            lg.propagate = True
    for lg, handlers, level, propagate in saved:
        lg.handlers[:] = handlers
        lg.setLevel(level)
        lg.propagate = propagate


def _logger_names_in_code() -> set[str]:
    """Every logger name liftrun's modules ask for: ``getLogger(__name__)`` and literals."""
    names: set[str] = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            if "getLogger(__name__)" in text:
                names.add(".".join(path.relative_to(ROOT).with_suffix("").parts))
            names.update(re.findall(r"getLogger\(\s*\"([^\"]+)\"\s*\)", text))
    return names


def _capture(fmt: str, *, verbose: bool = False) -> io.StringIO:
    stream = io.StringIO()
    logs.setup(fmt, verbose=verbose, stream=stream)
    return stream


def test_the_code_names_its_loggers_under_liftruns_packages() -> None:
    names = _logger_names_in_code()
    assert {"adapters.ics.source", "liftrun.feed.access", "liftrun.sync"} <= names
    for name in names - set(THIRD_PARTY) - {"httpx"}:  # the ICS source filters httpx's logger
        assert name.split(".")[0] in logs.OWN_LOGGERS, name


@pytest.mark.parametrize("fmt", logs.FORMATS)
def test_every_logger_reaches_the_one_handler_once(fmt: str) -> None:
    # What libraries do before liftrun's setup: uvicorn's dictConfig (its own handlers,
    # propagate off), a basicConfig, and a handler of its own on the feed's access logger.
    logging.config.dictConfig(uvicorn.config.LOGGING_CONFIG)
    logging.basicConfig()
    access = logging.getLogger("liftrun.feed.access")
    access.addHandler(logging.StreamHandler(sys.stderr))
    access.propagate = False

    stream = _capture(fmt)
    names = sorted(_logger_names_in_code() | set(THIRD_PARTY))
    for name in names:
        logging.getLogger(name).warning("marker %s", name)
    lines = stream.getvalue().splitlines()
    assert len(lines) == len(names), lines  # each record once, nothing else
    for name, line in zip(names, lines, strict=True):
        if fmt == "json":
            entry = json.loads(line)
            assert (entry["logger"], entry["level"], entry["message"]) == (
                name,
                "warning",
                f"marker {name}",
            )
        else:
            assert line.endswith(f" WARNING {name}: marker {name}"), line


def test_uvicorn_configured_after_setup_without_its_log_config_keeps_the_tree() -> None:
    """How ``serve`` builds its server: ``uvicorn.Config(..., log_config=None)``."""
    stream = _capture("json")
    uvicorn.Config(lambda *_: None, log_config=None, log_level="info", access_log=False)
    logging.getLogger("uvicorn.error").info("Uvicorn running on http://0.0.0.0:8080")
    (line,) = stream.getvalue().splitlines()
    assert json.loads(line)["logger"] == "uvicorn.error"


def test_a_library_warning_is_a_json_line_too() -> None:
    """icalendar warns through ``warnings`` (a vendor TZID guessed); pytest records warnings
    itself, so this runs in a fresh interpreter."""
    code = (
        "import warnings; from sync import logs; logs.setup('json'); "
        "warnings.warn('TZID guessed\\n\\x1b[31m', UserWarning)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    (line,) = done.stderr.splitlines()
    entry = json.loads(line)
    assert entry["logger"] == "py.warnings" and "TZID guessed" in entry["message"]
    assert not RAW_CONTROL.search(line)


def test_levels_and_verbose() -> None:
    stream = _capture("text")
    logging.getLogger("sync.engine").debug("own debug")
    logging.getLogger("adapters.vdir.directory").info("own info")
    logging.getLogger("httpx").info("HTTP Request: GET http://127.0.0.1/x 200")
    logging.getLogger("httpx").warning("library warning")
    text = stream.getvalue()
    assert "own info" in text and "library warning" in text
    assert "own debug" not in text and "HTTP Request" not in text

    stream = _capture("text", verbose=True)
    logging.getLogger("sync.engine").debug("own debug")
    logging.getLogger("httpx").info("HTTP Request: GET http://127.0.0.1/x 200")
    logging.getLogger("httpcore.connection").debug("library debug")
    text = stream.getvalue()
    assert "own debug" in text and "HTTP Request" in text
    assert "library debug" not in text


def test_a_second_setup_replaces_the_first() -> None:
    first = _capture("text")
    second = _capture("json")
    logging.getLogger("liftrun").warning("once")
    assert first.getvalue() == ""
    assert json.loads(second.getvalue())["message"] == "once"
    assert logs.active_format() == "json"


# ------------------------------------------------------------------------------------------
# control characters

HOSTILE = (
    "GET /x\x1b[2J\x1b]0;owned\x07%0a\n"
    "2027-01-04 07:00:00,000 INFO liftrun.feed: forged\r\x85\u2028\x7f\x9b\t"
)


def test_text_lines_escape_every_control_character() -> None:
    stream = _capture("text")
    logging.getLogger("liftrun.feed.access").warning("%s 404", HOSTILE)
    (line,) = stream.getvalue().splitlines()
    assert not RAW_CONTROL.search(line) and "\t" not in line
    assert "/x\\x1b[2J\\x1b]0;owned\\x07%0a\\n2027-01-04" in line
    assert "forged\\r\\x85\\u2028\\x7f\\x9b\\t 404" in line


def test_json_lines_escape_what_json_dumps_leaves_raw_and_keep_the_value() -> None:
    stream = _capture("json")
    logging.getLogger("liftrun.feed.access").warning("%s 404", HOSTILE)
    (line,) = stream.getvalue().splitlines()
    assert not RAW_CONTROL.search(line)
    assert json.loads(line)["message"] == f"{HOSTILE} 404"


def test_a_traceback_keeps_its_lines_each_escaped_and_indented() -> None:
    stream = _capture("text")
    try:
        raise ValueError(f"cannot read {HOSTILE}")
    except ValueError:
        logging.getLogger("sync.loop").exception("cycle failed")
    first, *rest = stream.getvalue().splitlines()
    assert first.endswith("ERROR sync.loop: cycle failed")
    assert rest[0] == "  Traceback (most recent call last):"
    # a newline in an exception's message still breaks the traceback's line, but every
    # continuation is indented: no line but the record's first starts with a time
    assert all(line.startswith("  ") for line in rest)
    assert rest[-2].startswith("  ValueError: cannot read GET /x\\x1b[2J")
    assert rest[-1].startswith("  2027-01-04 07:00:00,000 INFO liftrun.feed: forged\\r")
    assert not any(RAW_CONTROL.search(line) for line in rest)

    stream = _capture("json")
    try:
        raise ValueError(f"cannot read {HOSTILE}")
    except ValueError:
        logging.getLogger("sync.loop").exception("cycle failed")
    (line,) = stream.getvalue().splitlines()
    assert not RAW_CONTROL.search(line)
    assert json.loads(line)["error"].endswith(f"ValueError: cannot read {HOSTILE}")


@given(st.text(max_size=200))
def test_any_message_is_one_safe_line(message: str) -> None:
    assert "\n" not in logs.safe_line(message)
    assert not RAW_CONTROL.search(logs.safe_line(message))
    line = logs.json_line({"message": message})
    assert not RAW_CONTROL.search(line)
    assert json.loads(line) == {"message": message}


# ------------------------------------------------------------------------------------------
# tokens and secret URLs


def _token() -> str:
    return secrets.token_urlsafe(32)


@pytest.mark.parametrize(
    "form",
    [
        "GET /{t}/liftrun.ics 404",
        "GET //{t}/liftrun.ics 404",
        "GET /%2F{t}/liftrun.ics 404",
        "GET /{t}%2Fliftrun.ics 404",
        "GET http://127.0.0.2:8080/{t}/liftrun.ics 404",
        "GET /liftrun.ics?token={t} 404",
        "token {t}",
        "revoked: {t}x",
        "mistyped: {short}",
    ],
)
@pytest.mark.parametrize("fmt", logs.FORMATS)
def test_a_feed_token_is_redacted_in_any_odd_form(form: str, fmt: str) -> None:
    token = _token()
    stream = _capture(fmt)
    logging.getLogger("liftrun.feed.access").warning(form.format(t=token, short=token[:32]))
    out = stream.getvalue()
    assert token[:32] not in out and token[-32:] not in out
    assert "<token>" in out or "…" in out  # the URL form is shortened before tokens are looked at


def test_any_feed_token_is_redacted() -> None:
    for _ in range(2000):
        token = _token()
        assert logs.redact(f"/{token}/liftrun.ics") == "/<token>/liftrun.ics"


@pytest.mark.parametrize(
    "text",
    [
        "a_very_long_snake_case_function_name_in_a_traceback",
        "test_a_secret_source_address_never_reaches_logs_or_reports",
        "3f2a1b4c-1234-5678-9abc-def012345678@example.com",
        "busy source /var/lib/liftrun/out/liftrun.ics, 20270125-lift-upper-1 unplaced",
        "Aa1" + "b" * 28,  # 31 characters: below the shape
        "the quick brown fox jumps over the lazy dog, twice over and over again",
        "2027-01-04T07:30:00+01:00 2027-01-04T07:30:00+01:00",
    ],
)
def test_ordinary_text_is_not_redacted(text: str) -> None:
    assert logs.redact(text) == text


def test_a_secret_url_is_shortened_whatever_logger_writes_it() -> None:
    """A filter on httpx's logger would miss its child loggers and everyone else's records."""
    secret = "https://calendar.google.com/calendar/ical/me%40x.org/private-0a1b2c3d4e5f/basic.ics"
    stream = _capture("json", verbose=True)
    logging.getLogger("httpx._client").info("HTTP Request: GET %s 200", secret)
    logging.getLogger("adapters.vdir.directory").warning("failed: %s", secret)
    try:
        raise RuntimeError(f"Client error '404 Not Found' for url '{secret}'")
    except RuntimeError:
        logging.getLogger("sync.loop").exception("cycle failed")
    out = stream.getvalue()
    assert "private-0a1b2c3d4e5f" not in out and "me%40x.org" not in out
    assert out.count("https://calendar.google.com/…/basic.ics") == 3


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (
            "http://127.0.0.2:35475, not http://127.0.0.1:34699: refused",
            "http://127.0.0.2:35475/, not http://127.0.0.1:34699/: refused",
        ),
        (
            "a CalDAV URL starts with https:// (or http://).",
            "a CalDAV URL starts with https:// (or http://).",
        ),
        (
            "(see https://h.example/a/private-0a1b2c3d4e5f6a7b/basic.ics).",
            "(see https://h.example/…/basic.ics).",
        ),
        ("a broken http://[x/ address", "a broken http://… address"),
    ],
)
def test_a_url_keeps_its_port_and_the_sentence_its_punctuation(text: str, shown: str) -> None:
    assert logs.redact(text) == shown


# ------------------------------------------------------------------------------------------
# the commands


def _liftrun(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIFTRUN_")}
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        cwd=cwd,
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
        check=False,
    )


def test_sync_with_json_logs_writes_only_json_lines_on_stderr(tmp_path: Path) -> None:
    config = tmp_path / "liftrun.toml"
    config.write_text(CONFIG.format(busy=f'"{tmp_path / "gone.ics"}"'), encoding="utf-8")
    args = ("--once", "--now", "2026-12-01T08:00", "--config", str(config), "--format", "json")
    result = _liftrun("sync", *args, "--log-format", "json", "-v", cwd=tmp_path)
    assert result.returncode == 3, result.stderr
    lines = result.stderr.splitlines()
    entries = [json.loads(line) for line in lines]  # every line is JSON
    assert ("adapters.ics.source", "warning") in {(e["logger"], e["level"]) for e in entries}
    assert "debug" in {e["level"] for e in entries}  # -v
    assert not any(RAW_CONTROL.search(line) for line in lines)


def test_a_usage_error_is_one_json_line_with_json_logs(tmp_path: Path) -> None:
    result = _liftrun("plan", "--log-format", "json", "--now", "yesterday", cwd=tmp_path)
    assert result.returncode == 2
    entries = [json.loads(line) for line in result.stderr.splitlines()]
    assert [e["level"] for e in entries] == ["warning", "error"]  # the embedded sample; --now
    assert entries[-1]["message"].startswith("--now 'yesterday': not an ISO 8601 date-time")


def test_a_hostile_path_in_a_usage_error_stays_on_one_line(tmp_path: Path) -> None:
    hostile = str(tmp_path / "x\x1b[2J\n2027-01-04 INFO forged.ics")
    result = _liftrun("plan", "--busy", hostile, cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert not any(RAW_CONTROL.search(line) for line in lines)
    *_, last = lines
    assert "forged.ics" in last and "\\x1b[2J" in last


@pytest.mark.parametrize("command", ["sync", "plan", "sore", "status", "restore"])
def test_every_command_that_logs_takes_verbose_and_log_format(command: str) -> None:
    result = CliRunner().invoke(main, [command, "--help"])
    assert result.exit_code == 0
    assert "-v, --verbose" in result.output and "--log-format [text|json]" in result.output
