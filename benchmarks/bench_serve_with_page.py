"""Benchmark: ``liftrun serve`` still answers feed 304s at >= 1,000 req/s while the page is in use
(issue 15, part 6).

The server runs as deployed: ``liftrun serve`` in its own process, access log on (to a file),
over a state directory one real cycle filled (the shared test athlete, an ICS feed and a vdir,
a 21-day horizon), with no loop beside it, so each action's cycle runs inside ``serve``.

Two phases of ``SECONDS`` each, with wrk (2 threads, 50 connections) making conditional GETs of
the feed the way a subscribed calendar does (``If-None-Match`` with the last ETag it saw, taken
up again when a cycle rewrote the feed and a 200 came back):

1. the page idle: the feed's baseline;
2. the page in use, flat out: one client loads the overview, a week and a session page and
   posts an action (Done with a new effort, which changes that session's event in every
   calendar) in a closed loop, as fast as the server answers, so a cycle is always running
   or queued in ``serve`` (a runner on a phone does a fraction of that).

It reports the 304s per second of each phase (the budget applies to the second), the page's
requests and their latency, and how many cycles ``serve`` ran. Needs wrk
(``apt-get install wrk``). Run: ``.venv/bin/python benchmarks/bench_serve_with_page.py``, about
30 s; exit 0 within budget, 1 over it, 2 when wrk is missing or the server fails.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urljoin

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the shared athlete of the tests

from adapters.feed_server import listen_socket
from adapters.feed_token import FeedToken
from benchmarks.bench_feed_server import wait_until_up
from config.loader import load
from sync.page_cycle import run_cycle_now
from tests.athlete import athlete_toml
from web.access import PageSecret, page_url

ROOT = Path(__file__).resolve().parents[1]
BUDGET_304_PER_SECOND = 1000.0
THREADS, CONNECTIONS = 2, 50
SECONDS = 10


def _config() -> str:
    """The shared athlete, two weeks into the plan: Done is offered once a session began."""
    today = datetime.now(UTC).date()
    start = today - timedelta(days=today.weekday() + 14)
    race = start + timedelta(weeks=16, days=6)
    return athlete_toml(race_date=race.isoformat(), plan_start=start.isoformat()) + TARGETS


TARGETS = """\
[sync]
horizon_days = 21
[[calendars]]
kind = "vdir"
name = "training"
push_to = "training"
[[calendars]]
kind = "ics"
push_to = "out/liftrun.ics"
[feed]
listen = "127.0.0.1:{port}"
"""

# wrk as a subscribed calendar: If-None-Match with the last ETag seen, statuses counted.
CONDITIONAL_GETS = """\
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) etag = args[1]; n304 = 0; n200 = 0; other = 0 end
function request() return wrk.format("GET", nil, {["If-None-Match"] = etag}) end
function response(status, headers, body)
  if status == 304 then n304 = n304 + 1
  elseif status == 200 then n200 = n200 + 1; etag = headers["etag"] or headers["ETag"] or etag
  else other = other + 1 end
end
function done(summary, latency, requests)
  local a, b, c = 0, 0, 0
  for _, t in ipairs(threads) do
    a = a + t:get("n304"); b = b + t:get("n200"); c = c + t:get("other")
  end
  io.write(string.format("liftrun: %d %d %d %d %d\\n", a, b, c, summary.duration,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


DONE_FORM = r'<form method="post" action="([^"]*/done)"'


@dataclass(frozen=True)
class FeedLoad:
    not_modified: int
    full: int
    other: int
    seconds: float
    socket_errors: int
    p99_ms: str

    @property
    def rate_304(self) -> float:
        return self.not_modified / self.seconds


def wrk(url: str, etag: str, script: Path) -> FeedLoad:
    out = subprocess.run(
        [
            "wrk",
            f"-t{THREADS}",
            f"-c{CONNECTIONS}",
            f"-d{SECONDS}s",
            "--latency",
            "-s",
            str(script),
            url,
            "--",
            etag,
        ],
        capture_output=True,
        text=True,
        timeout=SECONDS + 30,
        check=True,
    ).stdout
    counts = re.search(r"liftrun: (\d+) (\d+) (\d+) (\d+) (\d+)", out)
    p99 = re.search(r"99%\s+(\S+)", out)
    if counts is None:
        raise RuntimeError(f"cannot read wrk's output:\n{out}")
    n304, n200, other, micros, errors = (int(g) for g in counts.groups())
    return FeedLoad(n304, n200, other, micros / 1e6, errors, p99.group(1) if p99 else "?")


@dataclass
class PageUse:
    """One athlete on the page, flat out: what it did and how long each request took."""

    overview: str
    sessions: list[str]
    monday: str
    stop: threading.Event = field(default_factory=threading.Event)
    latencies: dict[str, list[float]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    def run(self) -> None:
        with httpx.Client(timeout=30) as client:
            k = 0
            while not self.stop.is_set():
                sid = self.sessions[k % len(self.sessions)]
                self._get(client, "overview", self.overview)
                self._get(client, "week", urljoin(self.overview, f"week/{self.monday}"))
                page = self._get(client, "session", urljoin(self.overview, f"session/{sid}"))
                if page is not None:
                    self._done(client, page, k % 10 + 1)
                k += 1

    def _get(self, client: httpx.Client, name: str, url: str) -> httpx.Response | None:
        t = time.perf_counter()
        r = client.get(url)
        self.latencies.setdefault(name, []).append(time.perf_counter() - t)
        if r.status_code != 200:
            self.failures.append(f"GET {name}: {r.status_code}")
            return None
        return r

    def _done(self, client: httpx.Client, page: httpx.Response, effort: int) -> None:
        action = re.search(DONE_FORM, page.text)
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        if action is None or csrf is None:
            self.failures.append("no Done form on the session page")
            return
        url = urljoin(str(page.url), action.group(1))
        form = {"csrf": csrf.group(1), "effort": str(effort), "note": f"bench {effort}"}
        t = time.perf_counter()
        r = client.post(url, data=form)
        self.latencies.setdefault("done (POST)", []).append(time.perf_counter() - t)
        if r.status_code != 303:
            self.failures.append(f"POST done: {r.status_code}")


def begun(overview: str, monday: date) -> list[str]:
    """The sessions of this week and the last that have begun (Done is offered), this week's
    first: their events are in every calendar, so Done changes the feed too."""
    found = []
    for week in (monday, monday - timedelta(weeks=1)):
        page = httpx.get(urljoin(overview, f"week/{week}"), timeout=30).text
        for sid in sorted(set(re.findall(r"session/(\d{8}-[a-z0-9-]+)", page))):
            session = httpx.get(urljoin(overview, f"session/{sid}"), timeout=30).text
            if re.search(DONE_FORM, session):
                found.append(sid)
    return found


def free_port() -> int:
    sock = listen_socket("127.0.0.1", 0)
    port: int = sock.getsockname()[1]
    sock.close()
    return port


def report(name: str, feed: FeedLoad) -> None:
    print(
        f"{name}: {feed.rate_304:7.0f} 304/s  ({feed.not_modified} 304, {feed.full} 200 after "
        f"a cycle rewrote the feed, {feed.other} other, {feed.socket_errors} socket errors; "
        f"p99 {feed.p99_ms})"
    )


@dataclass
class Run:
    """What one run of the benchmark saw."""

    idle: FeedLoad
    busy: FeedLoad
    use: PageUse
    log: str
    feed_token: str


def measure(root: Path, script: Path) -> Run | str:
    """Serve ``root``'s config, then hammer the feed with the page idle and in use; or why not."""
    loaded = load(str(root / "liftrun.toml"), {})
    if not run_cycle_now(loaded):
        return "the first cycle did not run"
    token = FeedToken(loaded.state_dir).get()
    secret = PageSecret(loaded.state_dir)
    secret.ensure()
    base = f"http://127.0.0.1:{loaded.settings.feed.port}"
    overview = page_url(base, secret)
    assert overview is not None
    feed_url = f"{base}/{token}/liftrun.ics"
    with (root / "serve.log").open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "cli", "serve", "--config", "liftrun.toml"],
            cwd=root,
            env={**os.environ, "PYTHONPATH": str(ROOT)},  # this checkout, installed or not
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        try:
            wait_until_up(f"{base}/healthz", proc)
            today = datetime.now(UTC).date()
            monday = today - timedelta(days=today.weekday())
            sessions = begun(overview, monday)
            if not sessions:
                return "no session has begun: nothing to mark done"
            print(
                f"liftrun serve (uvicorn, access log on), {len(sessions)} sessions begun; "
                f"wrk -t{THREADS} -c{CONNECTIONS} -d{SECONDS}s, If-None-Match as a calendar"
            )
            idle = wrk(feed_url, httpx.get(feed_url, timeout=5).headers["etag"], script)
            report("page idle  ", idle)
            use = PageUse(overview, sessions, monday.isoformat())
            athlete = threading.Thread(target=use.run, daemon=True)
            athlete.start()
            busy = wrk(feed_url, httpx.get(feed_url, timeout=5).headers["etag"], script)
            use.stop.set()
            athlete.join(60)
            report("page in use", busy)
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
    return Run(idle, busy, use, (root / "serve.log").read_text(errors="replace"), token)


def main() -> int:
    if shutil.which("wrk") is None:
        print("bench_serve_with_page: wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="liftrun-bench-") as tmp:
        root = Path(tmp)
        (root / "liftrun.toml").write_text(_config().format(port=free_port()))
        (root / "training").mkdir()
        script = root / "conditional.lua"
        script.write_text(CONDITIONAL_GETS)
        run = measure(root, script)
    if isinstance(run, str):
        print(f"bench_serve_with_page: {run}", file=sys.stderr)
        return 2
    cycles = run.log.count("cycle for the page:")
    posts = len(run.use.latencies.get("done (POST)", []))
    print(
        f"the page meanwhile: {posts} actions posted, {cycles} cycles run by serve "
        "(actions arriving during a cycle fold into the next)"
    )
    for name, times in run.use.latencies.items():
        ms = sorted(t * 1000 for t in times)
        print(
            f"  {name:<12} {len(ms):4d} requests, median {statistics.median(ms):6.1f} ms, "
            f"worst {ms[-1]:6.1f} ms"
        )
    if run.use.failures or not posts:
        print(f"FAIL: the page answered wrongly: {sorted(set(run.use.failures))}")
        return 1
    if run.feed_token in run.log:
        print("FAIL: the feed token appeared in the server's log")
        return 1
    busy = run.busy
    if busy.other or busy.socket_errors or busy.rate_304 < BUDGET_304_PER_SECOND:
        print(f"FAIL: under {BUDGET_304_PER_SECOND:.0f} 304/s while the page is in use")
        return 1
    print(f"ok: >= {BUDGET_304_PER_SECOND:.0f} 304/s while the page is in use")
    return 0


if __name__ == "__main__":
    sys.exit(main())
