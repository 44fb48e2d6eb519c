"""Load test for ``liftrun serve`` with wrk: conditional GETs must reach 1,000 requests/s.

Subscribed calendar apps poll forever and nearly always get 304, so the 304 path is what the
budget is about (>= 1,000/s on loopback, 50 concurrent clients, a 2-core machine). The server
runs exactly as deployed (``serve`` in its own process, access log on, written to a file), and
the feed is a realistic year: 260 VEVENTs, about 150 KB. Full 200 GETs, plain and gzipped, are
measured too, for information.

Run it as ``.venv/bin/python benchmarks/bench_feed_server.py``: about 25 s, loopback only.
Exit 0 when the budget holds, 1 when it does not, 2 when wrk is missing or the server fails.
"""

from __future__ import annotations

import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from adapters.feed_token import FeedToken

BUDGET_304_PER_SECOND = 1000.0
THREADS, CONNECTIONS = 2, 50
SECONDS_304, SECONDS_200 = 10, 5
EVENTS = 260

CONFIG = """\
timezone = "Europe/Berlin"
[athlete]
bodyweight_kg = 70
[availability]
mon = ["06:00-08:00"]
[state]
path = "state"
[[calendars]]
kind = "ics"
push_to = "out/liftrun.ics"
[feed]
listen = "127.0.0.1:{port}"
"""


def fold(line: str) -> str:
    """RFC 5545 line folding at 75 octets, as the real renderer does."""
    out, rest = [], line
    while len(rest) > 75:
        out.append(rest[:75])
        rest = " " + rest[75:]
    out.append(rest)
    return "\r\n".join(out)


def feed_bytes() -> bytes:
    """A year of sessions shaped like liftrun's own feed (prescription text in DESCRIPTION)."""
    start = datetime(2027, 1, 4, 6, 0, tzinfo=UTC)
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//liftrun//liftrun 0.1.0//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "X-WR-CALNAME:liftrun training",
        "REFRESH-INTERVAL;VALUE=DURATION:PT1H",
    ]
    for i in range(EVENTS):
        day = start + timedelta(days=i * 365 // EVENTS)
        lift = i % 2 == 0
        title = f"Lift {'A' if i % 4 == 0 else 'B'}" if lift else f"Easy run {30 + i % 4 * 10}'"
        body = (
            "Back squat 4x5 @ 75% (RPE 7)\\nRomanian deadlift 3x8\\nBench press 4x6 @ 72%\\n"
            "Pull-ups 3xAMRAP\\nPlank 3x45s\\nWhy: strength block week "
            f"{i // 5 + 1}; rule L2 (heavy lifts before runs); rule S3 (6 h gap after a hard "
            "run); rule S5 (48 h between sessions for the same region)"
            if lift
            else "Zone 2, conversational pace; strides 4x20s at the end\\nWhy: rule R3 (runs "
            "on lift days stay under 40 min); rule S6 (one rest day a week)"
        )
        lines += [
            "BEGIN:VEVENT",
            f"UID:s{i:04d}@liftrun.invalid",
            "DTSTAMP:20261201T080000Z",
            f"DTSTART:{day:%Y%m%dT%H%M%SZ}",
            f"DTEND:{day + timedelta(hours=1):%Y%m%dT%H%M%SZ}",
            f"SUMMARY:{title}",
            fold(f"DESCRIPTION:{body}"),
            "SEQUENCE:0",
            "STATUS:CONFIRMED",
            "TRANSP:OPAQUE",
            "CATEGORIES:liftrun",
            f"X-LIFTRUN-HASH:{i:064x}",
            "BEGIN:VALARM",
            "ACTION:DISPLAY",
            f"DESCRIPTION:{title}",
            "TRIGGER:-PT30M",
            "END:VALARM",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_until_up(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError("the server did not answer within 15 s")


def wrk(url: str, seconds: int, headers: list[str]) -> tuple[float, str]:
    cmd = ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{seconds}s"]
    for h in headers:
        cmd += ["-H", h]
    out = subprocess.run(
        [*cmd, url], capture_output=True, text=True, timeout=seconds + 30, check=True
    ).stdout
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not m:
        raise RuntimeError(f"cannot read wrk's output:\n{out}")
    problems = re.findall(r"(Non-2xx or 3xx responses: \d+|Socket errors: [^\n]+)", out)
    return float(m.group(1)), "; ".join(problems)


def main() -> int:
    if shutil.which("wrk") is None:
        print("bench_feed_server: wrk is not installed (apt-get install -y wrk)", file=sys.stderr)
        return 2
    body = feed_bytes()
    with tempfile.TemporaryDirectory(prefix="liftrun-bench-") as tmp:
        base = Path(tmp)
        (base / "out").mkdir()
        (base / "out" / "liftrun.ics").write_bytes(body)
        port = free_port()
        (base / "liftrun.toml").write_text(CONFIG.format(port=port))
        token = FeedToken(base / "state").get()
        url = f"http://127.0.0.1:{port}/{token}/liftrun.ics"
        with (base / "serve.log").open("wb") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "sync.cli_feed", "serve", "--config", "liftrun.toml"],
                cwd=base,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
            try:
                wait_until_up(url, proc)
                first = httpx.get(url, headers={"Accept-Encoding": "identity"}, timeout=5)
                etag = first.headers["etag"]
                check = httpx.get(url, headers={"If-None-Match": etag}, timeout=5)
                if first.status_code != 200 or check.status_code != 304:
                    print(f"unexpected statuses {first.status_code}/{check.status_code}")
                    return 2
                print(
                    f"feed: {EVENTS} VEVENTs, {len(body) / 1024:.0f} KB; wrk -t{THREADS} "
                    f"-c{CONNECTIONS}; server: liftrun serve (uvicorn, h11), access log on"
                )
                rate_304, bad_304 = wrk(url, SECONDS_304, [f"If-None-Match: {etag}"])
                print(f"304 conditional GET: {rate_304:8.0f} req/s  {bad_304}")
                rate_200, bad_200 = wrk(url, SECONDS_200, [])
                print(f"200 full GET:        {rate_200:8.0f} req/s  {bad_200}")
                rate_gz, bad_gz = wrk(url, SECONDS_200, ["Accept-Encoding: gzip"])
                print(f"200 gzipped GET:     {rate_gz:8.0f} req/s  {bad_gz}")
            finally:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
        log_text = (base / "serve.log").read_text(errors="replace")
        if token in log_text:
            print("FAIL: the token appeared in the server's log")
            return 1
    if bad_304 or rate_304 < BUDGET_304_PER_SECOND:
        print(f"FAIL: 304 rate below {BUDGET_304_PER_SECOND:.0f}/s or errors: {bad_304}")
        return 1
    print(f"ok: 304 rate >= {BUDGET_304_PER_SECOND:.0f}/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
