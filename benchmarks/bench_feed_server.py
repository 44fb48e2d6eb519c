"""Load test for ``liftrun serve`` with wrk: conditional GETs must reach 1,000 requests/s.

Subscribed calendar apps poll forever and nearly always get 304, so the 304 path is what the
budget is about (>= 1,000/s on loopback, 50 concurrent clients, a 2-core machine). The server
runs exactly as deployed (``serve`` in its own process, access log on, written to a file), and
the feed is liftrun's own rendering of a year of the sample's sessions (260 VEVENTs). Full
200 GETs, plain and gzipped, are measured too, for information.

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
from datetime import UTC, date, datetime
from pathlib import Path

import httpx

from adapters.feed_token import FeedToken
from adapters.ics.feed import IcsFeedTarget
from adapters.protocol import content_hash
from config.loader import load
from config.models import Goal, Race
from planner.constraints import RuleBook
from planner.placement import apply_placement, place
from planner.plan import build_plan

SAMPLE = Path(__file__).resolve().parent.parent / "config" / "samples" / "default.toml"

BUDGET_304_PER_SECOND = 1000.0
THREADS, CONNECTIONS = 2, 50
SECONDS_304, SECONDS_200 = 10, 5

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


def feed_bytes() -> bytes:
    """liftrun's own feed for a year of the embedded sample's sessions, rendered for real."""
    settings = load(str(SAMPLE), environ={}).settings.model_copy(
        update={"goal": Goal(race=Race.NONE)}
    )
    plan = build_plan(settings, date(2027, 1, 4), 52)
    now = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    placed = apply_placement(plan, place(plan.sessions, RuleBook.from_settings(settings), now=now))
    with tempfile.TemporaryDirectory() as tmp:
        target = IcsFeedTarget(
            Path(tmp) / "f.ics", name="bench", timezone=settings.timezone, now=now
        )
        for s in placed.sessions:
            target.create(s, content_hash(s, 30))
        return target.render()


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
                [sys.executable, "-m", "cli", "serve", "--config", "liftrun.toml"],
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
                events = body.count(b"BEGIN:VEVENT")
                print(
                    f"feed: {events} VEVENTs, {len(body) / 1024:.0f} KB; wrk -t{THREADS} "
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
