"""The server-quirks table (``adapters/caldav/quirks.py``) and the Cyrus quirks it names.

Every row names the test that proves liftrun's handling; the first test here holds the table to
tests that exist. The rest are Cyrus's own rows, against the real server (the others are proved
where their handling was built: a SOGo-like proxy, Xandikos's deltas, Radicale's refused token).
"""

from __future__ import annotations

import ast
import re
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit
from zoneinfo import ZoneInfo

import pytest

from adapters.caldav.collection import resource_key
from adapters.caldav.quirks import QUIRKS, Quirk, markdown
from config.loader import load
from sync.engine import run_cycle
from sync.report import CycleReport
from sync.state import StateStore
from sync.wiring import build
from tests.athlete import athlete_toml
from tests.caldav.proxy import FaultProxy
from tests.caldav.servers import PASSWORD, Server, get_event

ROOT = Path(__file__).resolve().parents[2]
BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2027, 3, 15, 5, 0, tzinfo=BERLIN)
ATHLETE = athlete_toml(race_date="2027-06-20", plan_start="2027-03-08")


# --------------------------------------------------------------------------------------------
# The table


def _functions(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}


@pytest.mark.parametrize("quirk", QUIRKS, ids=lambda q: f"{q.server}-{q.proof.rsplit(':', 1)[-1]}")
def test_every_quirk_names_a_test_that_exists(quirk: Quirk) -> None:
    file, _, name = quirk.proof.partition("::")
    function = re.sub(r"\[.*\]$", "", name)
    assert (ROOT / file).is_file(), f"{quirk.proof}: no such file"
    assert function.startswith("test_") and function in _functions(ROOT / file), quirk.proof


def test_the_table_is_filled_in_and_rendered_whole() -> None:
    for quirk in QUIRKS:
        assert all(str(v).strip() for v in vars(quirk).values()), quirk
    assert len({(q.server, q.behaviour) for q in QUIRKS}) == len(QUIRKS)
    rows = markdown().splitlines()
    assert len(rows) == 2 + len(QUIRKS)
    assert all(q.proof in row for q, row in zip(QUIRKS, rows[2:], strict=True))


# --------------------------------------------------------------------------------------------
# Cyrus's rows, against Cyrus


def write_config(tmp: Path, server: Server, url: str, push_to: str) -> Path:
    """The config as the README's CalDAV example writes it: no ``auth`` key."""
    path = tmp / "liftrun.toml"
    path.write_text(
        ATHLETE
        + f'[[calendars]]\nkind = "caldav"\nname = "training"\nurl = "{url}"\n'
        + f'username = "{server.username}"\npassword = "{PASSWORD}"\npush_to = "{push_to}"\n'
    )
    return path


def cycle(config: Path, now: datetime = NOW) -> CycleReport:
    loaded = load(str(config), {})
    with StateStore(loaded.state_dir) as store:
        wiring = build(loaded, now, store)
        report = run_cycle(loaded.settings, store, wiring, now=now)
        wiring.remember(store)
    return report


def hrefs(server: Server, collection: str, depth: str = "1") -> dict[str, str]:
    """Display name (or ETag) by href of ``collection``'s members, straight from the server."""
    body = (
        b'<?xml version="1.0"?><propfind xmlns="DAV:"><prop><displayname/><getetag/></prop>'
        b"</propfind>"
    )
    with server.http() as client:
        reply = client.request(
            "PROPFIND",
            collection,
            content=body,
            headers={"Depth": depth, "Content-Type": "application/xml"},
        )
    assert reply.status_code == 207, reply.text
    found = {}
    for response in ET.fromstring(reply.content).iter("{DAV:}response"):
        href = unquote(urljoin(server.url, response.findtext("{DAV:}href") or ""))
        found[href] = (
            response.findtext(".//{DAV:}displayname") or response.findtext(".//{DAV:}getetag")
        ) or ""
    return found


def calendar_url(server: Server, name: str) -> str:
    (url,) = [href for href, shown in hrefs(server, server.home).items() if shown == name]
    return url


@pytest.mark.parametrize("path", ["", "dav/"], ids=["root", "dav"])
def test_unauthenticated_207_is_not_a_principal(
    cyrus: Server, unique: str, tmp_path: Path, path: str
) -> None:
    """Cyrus answers an unauthenticated PROPFIND on its root and /dav/ with 207 and
    ``<unauthenticated/>`` where a 401 belongs. A first sync with no remembered scheme and no
    ``auth`` key must ask that URL again as the athlete, find the real principal and home, and
    never take the URL for the principal or the home (nor detour through the well-known URI)."""
    with FaultProxy(cyrus.url) as proxy:
        config = write_config(tmp_path, cyrus, proxy.url + path, f"Training {unique}")
        report = cycle(config)
        log = proxy.log
    assert not report.failed and report.targets["training"].created > 0, report.as_dict()
    home = urlsplit(cyrus.home).path
    unauthenticated = [
        i
        for i, e in enumerate(log)
        if e.status == 207 and e.header("Authorization") is None and e.path == f"/{path}"
    ]
    assert unauthenticated, "Cyrus no longer answers 207 to nobody: the quirk is gone"
    for i in unauthenticated:  # the 207 to nobody is never the last word on that URL
        assert any(e.path == log[i].path and e.header("Authorization") for e in log[i + 1 :]), log
    assert not [e for e in log if "well-known" in e.path], log
    for e in log:
        if e.method in ("MKCALENDAR", "PUT", "REPORT") or e.header("Depth") == "1":
            assert e.path.startswith(home), e  # the home is the real one
    assert calendar_url(cyrus, f"Training {unique}").startswith(cyrus.home)


def test_a_server_rewriting_what_it_stores_gets_no_write_when_idle(
    cyrus: Server, unique: str, tmp_path: Path
) -> None:
    """Cyrus stores its own spelling of what liftrun sent (CATEGORIES split, RRULE parts
    reordered) and marks the ETag of a compressed GET weak: the cycles after the first push
    still write nothing."""
    with FaultProxy(cyrus.url) as proxy:
        config = write_config(tmp_path, cyrus, proxy.url, f"Training {unique}")
        first = cycle(config)
        assert not first.failed and first.writes > 0, first.as_dict()
        sent = {e.path: e.body for e in proxy.requests("PUT")}
        proxy.clear_log()
        for minutes in (15, 30):
            again = cycle(config, NOW + timedelta(minutes=minutes))
            assert not again.failed and again.writes == 0, again.as_dict()
        assert not [e for e in proxy.log if e.method in ("PUT", "DELETE", "MKCALENDAR")]
    path, body = next((p, b) for p, b in sent.items() if b"CATEGORIES:" in b)
    status, stored, etag = get_event(cyrus, urljoin(cyrus.url, path))  # httpx asks for gzip
    assert status == 200 and etag.startswith('W/"'), etag
    categories = re.findall(rb"^CATEGORIES:(.*?)\r?$", body, re.M)
    assert len(categories) == 1 and b"," in categories[0]  # what liftrun sent: one line
    assert len(re.findall(rb"^CATEGORIES:", stored, re.M)) > 1  # what Cyrus keeps: one a value


def test_a_uid_is_allowed_once_per_account(cyrus: Server, unique: str, tmp_path: Path) -> None:
    """A second liftrun (its own state) pushing the same plan to another calendar of the same
    Cyrus account: every create is refused (403, unique-scheduling-object-resource naming the
    first calendar's resource), the cycle says so per session, and the first calendar keeps
    what it had."""
    first = cycle(write_config(tmp_path, cyrus, cyrus.url, f"Training {unique}"))
    assert not first.failed and first.targets["training"].created > 0, first.as_dict()
    kept = hrefs(cyrus, calendar_url(cyrus, f"Training {unique}"))
    other = tmp_path / "second"
    other.mkdir()
    second = cycle(write_config(other, cyrus, cyrus.url, f"Other {unique}"))
    errors = second.targets["training"].errors
    assert second.failed and second.targets["training"].created == 0
    assert len(errors) == first.targets["training"].created, errors
    assert all("already in another calendar of this account" in e for e in errors), errors
    held = resource_key(calendar_url(cyrus, f"Training {unique}"))
    assert all(f"({held}" in e for e in errors), errors  # names where the UID lives
    assert not any(PASSWORD in e or "check that user" in e for e in errors), errors
    assert hrefs(cyrus, calendar_url(cyrus, f"Training {unique}")) == kept


def test_mkcalendar_names_its_body_type(cyrus: Server, unique: str, tmp_path: Path) -> None:
    """Cyrus refuses an MKCALENDAR body without Content-Type (415); liftrun's names it."""
    bare = b'<?xml version="1.0"?><C:mkcalendar xmlns:C="urn:ietf:params:xml:ns:caldav"/>'
    with cyrus.http() as client:
        refused = client.request("MKCALENDAR", f"{cyrus.home}bare-{unique}/", content=bare)
    assert refused.status_code == 415
    with FaultProxy(cyrus.url) as proxy:
        report = cycle(write_config(tmp_path, cyrus, proxy.url, f"Training {unique}"))
        (made,) = proxy.requests("MKCALENDAR")
    assert not report.failed, report.as_dict()
    assert made.status == 201 and (made.header("Content-Type") or "").startswith("application/xml")


def test_the_readme_shows_the_table_as_it_is() -> None:
    """The README's copy of the table is :func:`markdown`'s output, so a row added or mended in
    the data reaches the athlete's docs (regenerate between the README's quirks markers)."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    start = "<!-- quirks: generated by adapters.caldav.quirks.markdown() -->\n"
    shown = readme.split(start, 1)[1].split("<!-- /quirks -->", 1)[0]
    assert shown == markdown()
