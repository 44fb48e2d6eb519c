"""What every page and picture must be, checked with real parsers: the HTML with the standard
library's ``html.parser`` (tolerant, as a browser is), each SVG as XML.

Shared by the page and chart tests; the browser tests check the same things in Chromium.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from html.parser import HTMLParser

SVG = "{http://www.w3.org/2000/svg}"
_SVG_BLOCK = re.compile(r"<svg\b.*?</svg>", re.DOTALL)
_URL_ATTRS = {"href", "src", "action", "formaction", "srcset", "poster", "data", "xlink:href"}
_GEOMETRY = {"x", "y", "x1", "x2", "y1", "y2", "width", "height", "points", "d", "cx", "cy", "r"}
_CONTROLS = {"input", "select", "textarea", "button"}


@dataclass
class _Control:
    tag: str
    attrs: dict[str, str]
    in_label: bool
    text: str = ""


@dataclass
class Page(HTMLParser):
    """A parsed page: its headings, controls, labels, URLs and forms."""

    h1: int = 0
    controls: list[_Control] = field(default_factory=list)
    label_for: set[str] = field(default_factory=set)
    urls: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    forms: list[dict[str, str]] = field(default_factory=list)
    form_fields: list[list[dict[str, str]]] = field(default_factory=list)
    _labels: int = 0
    _button: _Control | None = None

    def __post_init__(self) -> None:
        super().__init__(convert_charrefs=True)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.tags.append(tag)
        self.h1 += tag == "h1"
        if tag == "label":
            self._labels += 1
            if a.get("for"):
                self.label_for.add(a["for"])
        self.urls.extend(v for k, v in a.items() if k in _URL_ATTRS)
        if tag == "form":
            self.forms.append(a)
            self.form_fields.append([])
        if tag in {"input", "select", "textarea", "button"} and self.form_fields:
            self.form_fields[-1].append({"tag": tag, **a})
        if tag in _CONTROLS:
            control = _Control(tag, a, self._labels > 0)
            self.controls.append(control)
            if tag == "button":
                self._button = control

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self._labels -= 1
        if tag == "button":
            self._button = None

    def handle_data(self, data: str) -> None:
        if self._button is not None:
            self._button.text += data

    def unlabelled(self) -> list[str]:
        """Controls a screen reader could not name."""
        out = []
        for c in self.controls:
            if c.attrs.get("type") == "hidden":
                continue
            named = bool(c.attrs.get("aria-label")) or c.in_label
            named = named or (c.attrs.get("id", "") in self.label_for)
            if c.tag == "button":
                named = named or bool(c.text.strip())
            if not named:
                out.append(f"<{c.tag} {c.attrs}>")
        return out


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    return page


def svgs(html: str) -> list[ET.Element]:
    """Every inline SVG of a page, parsed as XML (a malformed one raises)."""
    return [ET.fromstring(block) for block in _SVG_BLOCK.findall(html)]


def external(url: str) -> bool:
    """A URL that leaves the app: another scheme or host (``#x`` and paths stay)."""
    u = url.strip().lower()
    return u.startswith(("http:", "https:", "//", "data:", "javascript:", "ftp:"))


def check_page(html: str) -> Page:
    """The accessibility and self-containment basics every page keeps."""
    page = parse(html)
    assert page.h1 == 1, f"{page.h1} h1 elements"
    assert not page.unlabelled(), page.unlabelled()
    assert not [u for u in page.urls if external(u)], page.urls
    assert "script" not in page.tags and "link" not in page.tags and "iframe" not in page.tags
    assert "@import" not in html and "url(http" not in html
    for form in page.forms:
        assert form.get("method") == "post", form
    for fields in page.form_fields:
        assert any(f.get("name") == "csrf" and f.get("type") == "hidden" for f in fields), fields
    for svg in svgs(html):
        check_svg(svg)
    return page


def check_svg(svg: ET.Element) -> None:
    """A picture that names itself and scales: role, label, title, desc, viewBox, 100 %."""
    assert svg.get("role") == "img"
    assert svg.get("aria-label")
    assert svg.get("width") == "100%" and svg.get("viewBox")
    assert svg.find(f"{SVG}title") is not None and svg.find(f"{SVG}desc") is not None
    for el in svg.iter():
        for k, v in el.attrib.items():
            if k in _GEOMETRY:
                assert not re.search(r"nan|inf", v, re.IGNORECASE), (el.tag, k, v)
            if k in {"href", "{http://www.w3.org/1999/xlink}href"}:
                assert not external(v), v


def text_of(el: ET.Element) -> str:
    return "".join(el.itertext())
