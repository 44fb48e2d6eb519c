"""Headless Chromium driven by Selenium, and a live ``liftrun serve`` for it to open.

Chromium and its driver are Debian's (``apt-get install chromium chromium-driver``; ``.ci/run``
installs them when missing), Selenium is a test extra. Selenium is pointed at both binaries, so
Selenium Manager never downloads a browser or a driver. Where either is missing the tests skip,
saying which.

Screenshots go to a pytest temporary directory, so a run leaves the checkout clean; the ones the
README shows are refreshed on purpose, into ``docs/screenshots``::

    LIFTRUN_SCREENSHOTS=docs/screenshots .venv/bin/python -m pytest tests/browser

(a relative path is taken from the repository's root).

The site is what ``liftrun serve`` runs (the feed with the page mounted, under the hardened
uvicorn server on a loopback port), over a state directory that one real ``sync --once`` cycle
filled: an ICS feed and a vdir as targets, so a journey can check both after its action's cycle.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.chrome.webdriver import WebDriver

from adapters.feed_server import create_app, listen_socket
from adapters.feed_token import FeedToken
from adapters.hardened_server import HardenedServer, ServerLimits
from cli.web import pages
from config.loader import LoadedConfig, load
from sync.page_cycle import run_cycle_now
from tests.background_server import hardened_on_thread

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS_ENV = "LIFTRUN_SCREENSHOTS"  # where to save them instead of a temporary directory
SIZES = ((1280, 800), (390, 844))  # a laptop, a phone (CSS pixels)
DESKTOP = SIZES[0]

CONFIG = """\
timezone = "Europe/Berlin"
[athlete]
bodyweight_kg = 70
lifting_now = true
[goal]
race = "none"
[availability]
mon = ["06:00-08:00", "17:30-21:30"]
tue = ["06:00-08:00", "17:30-21:30"]
wed = ["06:00-08:00", "17:30-21:30"]
thu = ["06:00-08:00", "17:30-21:30"]
fri = ["06:00-08:00", "17:00-20:00"]
sat = ["07:00-12:00"]
sun = ["08:00-11:00"]
[state]
path = "state"
[[calendars]]
kind = "ics"
push_to = "out/liftrun.ics"
[[calendars]]
kind = "vdir"
name = "phone"
push_to = "out/vdir"
[feed]
listen = "127.0.0.1:{port}"
[web]
public_url = "http://127.0.0.1:{port}"
"""


def missing_browser() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    missing = [
        f"{name} ({package})"
        for name, package in (("chromium", "chromium"), ("chromedriver", "chromium-driver"))
        if shutil.which(name) is None
    ]
    if missing:
        return (
            f"{' and '.join(missing)} not found: apt-get install chromium chromium-driver "
            "(.ci/run does so where apt-get is available)"
        )
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator[WebDriver]:
    """One headless Chromium for the whole run, at the desktop size."""
    reason = missing_browser()
    if reason:
        pytest.skip(reason)
    options = Options()
    options.binary_location = str(shutil.which("chromium"))
    for arg in (
        "--headless=new",
        "--no-sandbox",  # root in a container has no user namespace for the sandbox
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--disable-extensions",
        "--no-first-run",
        "--hide-scrollbars",
        "--lang=en-GB",
        f"--window-size={DESKTOP[0]},{DESKTOP[1]}",
    ):
        options.add_argument(arg)
    try:
        driver = webdriver.Chrome(
            options=options, service=Service(executable_path=str(shutil.which("chromedriver")))
        )
    except WebDriverException as exc:
        pytest.skip(f"chromium did not start under chromedriver: {exc.msg}")
    try:
        set_viewport(driver, *DESKTOP)
        yield driver
    finally:
        driver.quit()


def set_viewport(driver: WebDriver, width: int, height: int) -> None:
    """The page's viewport exactly ``width`` x ``height`` CSS pixels (a phone as a phone: a
    touch device width), whatever the window around it."""
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600},
    )


_SAVED_TO: dict[str, Path] = {}


@pytest.fixture(scope="session", autouse=True)
def screenshot_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where this run's screenshots go: ``$LIFTRUN_SCREENSHOTS`` (``docs/screenshots`` to
    refresh the README's), else a temporary directory of this run."""
    chosen = os.environ.get(SCREENSHOTS_ENV, "").strip()
    where = (ROOT / chosen) if chosen else tmp_path_factory.mktemp("screenshots")
    _SAVED_TO["dir"] = where
    return where


def screenshots(driver: WebDriver, name: str) -> list[Path]:
    """The current page at every size in ``SIZES``, saved as ``<name>-<w>x<h>.png`` in
    ``screenshot_dir``; the desktop size is restored afterwards."""
    where = _SAVED_TO["dir"]
    where.mkdir(parents=True, exist_ok=True)
    saved = []
    try:
        for width, height in SIZES:
            set_viewport(driver, width, height)
            path = where / f"{name}-{width}x{height}.png"
            assert driver.save_screenshot(str(path)), path
            saved.append(path)
    finally:
        set_viewport(driver, *DESKTOP)
    return saved


ACCESSIBILITY = """
const controls = [...document.querySelectorAll('input, select, textarea, button')]
  .filter(el => el.type !== 'hidden');
const unlabelled = controls.filter(el => {
  if (el.labels && el.labels.length) return false;
  if ((el.getAttribute('aria-label') || '').trim()) return false;
  if (el.getAttribute('aria-labelledby')) return false;
  if (el.tagName === 'BUTTON' && el.textContent.trim()) return false;
  return true;
}).map(el => el.outerHTML.slice(0, 120));
return {
  h1: document.querySelectorAll('h1').length,
  controls: controls.length,
  unlabelled: unlabelled,
  lang: document.documentElement.lang,
  external: [...document.querySelectorAll('[src], [href]')]
    .map(el => el.getAttribute('src') || el.getAttribute('href'))
    .filter(u => /^(https?:)?\\/\\//.test(u)),
  scripts: document.querySelectorAll('script').length,
};
"""


def accessibility(driver: WebDriver) -> dict[str, Any]:
    """What the real DOM says about the basics: how many h1, controls without a name,
    external resources and scripts."""
    found: dict[str, Any] = driver.execute_script(ACCESSIBILITY)
    return found


@dataclass
class LiveSite:
    """``liftrun serve`` over a synced state directory, on a loopback port."""

    base: str
    loaded: LoadedConfig
    feed: Path
    vdir: Path

    @property
    def state(self) -> Path:
        return self.loaded.state_dir


@pytest.fixture
def live_site(tmp_path: Path) -> Iterator[LiveSite]:
    if missing_browser():  # no server for a browser that is not there
        pytest.skip(missing_browser() or "")
    sock = listen_socket("127.0.0.1", 0)
    port = sock.getsockname()[1]
    config = tmp_path / "liftrun.toml"
    config.write_text(CONFIG.format(port=port))
    loaded = load(str(config))
    assert run_cycle_now(loaded), "the first cycle ran"
    feed = tmp_path / "out" / "liftrun.ics"
    app = create_app(feed, FeedToken(loaded.state_dir), pages=pages(loaded))
    server = HardenedServer(app, ServerLimits.for_this_process())
    with hardened_on_thread(server, sock):
        yield LiveSite(f"http://127.0.0.1:{port}", loaded, feed, tmp_path / "out" / "vdir")
