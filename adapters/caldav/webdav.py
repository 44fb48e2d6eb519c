"""What goes over the wire to a CalDAV server: the XML request bodies and the parsed replies.

Requests are sent on the ``caldav`` library's HTTP session but written and read here rather
than by its calendar objects (see :mod:`adapters.caldav.session` for why); keeping the XML in
one module keeps the client's modules about what they ask, not how it is spelt.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote
from xml.sax.saxutils import escape

from adapters.caldav.origin import join_url
from adapters.protocol import AdapterError

__all__ = [
    "CS",
    "XML_HEADERS",
    "C",
    "D",
    "DavEntry",
    "Reply",
    "mkcalendar_body",
    "multiget_body",
    "parse_multistatus",
    "propfind_body",
    "qname",
    "query_body",
    "sync_body",
    "uid_holder",
]

D = "DAV:"
C = "urn:ietf:params:xml:ns:caldav"
CS = "http://calendarserver.org/ns/"
XML_HEADERS = {"Content-Type": "application/xml; charset=utf-8"}


def qname(ns: str, name: str) -> str:
    return f"{{{ns}}}{name}"


@dataclass(frozen=True)
class Reply:
    """One HTTP response, read in full (CalDAV bodies are small next to a feed)."""

    status: int
    headers: Mapping[str, str]  # lower-cased names
    body: bytes
    url: str

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass(frozen=True)
class DavEntry:
    """One ``DAV:response`` of a multistatus: its href and the properties found (200)."""

    url: str  # absolute
    status: int | None  # the response-level status (sync-collection: 404 for a removal)
    props: dict[str, ET.Element]

    def text(self, ns: str, name: str) -> str | None:
        element = self.props.get(qname(ns, name))
        if element is None:
            return None
        return "".join(element.itertext()).strip() or None


def propfind_body(props: Iterable[tuple[str, str]]) -> bytes:
    inner = "".join(f'<x:{name} xmlns:x="{ns}"/>' for ns, name in props)
    head = '<?xml version="1.0" encoding="utf-8"?><propfind xmlns="DAV:">'
    return f"{head}<prop>{inner}</prop></propfind>".encode()


def _time(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def query_body(window: tuple[datetime, datetime] | None, *, data: bool) -> bytes:
    time_range = (
        f'<C:time-range start="{_time(window[0])}" end="{_time(window[1])}"/>' if window else ""
    )
    calendar_data = "<C:calendar-data/>" if data else ""
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
        f"<D:prop><D:getetag/>{calendar_data}</D:prop>"
        '<C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">'
        f"{time_range}</C:comp-filter></C:comp-filter></C:filter></C:calendar-query>"
    ).encode()


def multiget_body(paths: Iterable[str]) -> bytes:
    hrefs = "".join(f"<D:href>{escape(quote(p))}</D:href>" for p in paths)
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
        f"<D:prop><D:getetag/><C:calendar-data/></D:prop>{hrefs}</C:calendar-multiget>"
    ).encode()


def sync_body(token: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><D:sync-collection xmlns:D="DAV:">'
        f"<D:sync-token>{escape(token)}</D:sync-token><D:sync-level>1</D:sync-level>"
        "<D:prop><D:getetag/></D:prop></D:sync-collection>"
    ).encode()


def mkcalendar_body(display_name: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop>'
        f"<D:displayname>{escape(display_name)}</D:displayname>"
        '<C:supported-calendar-component-set><C:comp name="VEVENT"/>'
        "</C:supported-calendar-component-set></D:prop></D:set></C:mkcalendar>"
    ).encode()


def _status_code(text: str | None) -> int | None:
    parts = (text or "").split()
    if len(parts) >= 2 and parts[1].isdigit():
        return int(parts[1])
    return None


def parse_multistatus(reply: Reply) -> tuple[list[DavEntry], str | None]:
    """The responses of a 207 and the sync-token it carries (sync-collection only). The hrefs
    are resolved, not judged: :meth:`CalDAVClient._multistatus` refuses other origins."""
    try:
        root = ET.fromstring(reply.body)
    except ET.ParseError as exc:
        raise AdapterError(f"{reply.url}: the server sent malformed XML ({exc})") from None
    entries: list[DavEntry] = []
    for response in root.iter(qname(D, "response")):
        href = response.findtext(qname(D, "href"))
        if href is None:
            continue
        props: dict[str, ET.Element] = {}
        for propstat in response.findall(qname(D, "propstat")):
            code = _status_code(propstat.findtext(qname(D, "status")))
            prop = propstat.find(qname(D, "prop"))
            if prop is None or (code is not None and not 200 <= code < 300):
                continue
            for element in prop:
                props[element.tag] = element
        status = _status_code(response.findtext(qname(D, "status")))
        entries.append(DavEntry(join_url(reply.url, href.strip()), status, props))
    return entries, root.findtext(qname(D, "sync-token"))


# RFC 4791 5.3.2.1 and RFC 6638 3.2.4.1: a UID already held by another resource, named by href.
_UID_CONFLICTS = (qname(C, "no-uid-conflict"), qname(C, "unique-scheduling-object-resource"))


def uid_holder(reply_url: str, body: bytes) -> str | None:
    """The resource a refused write's UID already belongs to, from the server's error body
    (absolute, as the server named it); None when the body names no UID conflict."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return None
    for tag in _UID_CONFLICTS:
        conflict = root.find(f".//{tag}")
        if conflict is not None:
            href = (conflict.findtext(qname(D, "href")) or "").strip()
            return join_url(reply_url, href) if href else reply_url
    return None
