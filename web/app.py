"""The athlete's page over HTTP: which URL opens what, who may act, and what a response says.

Three kinds of URL, each a capability (``web.access``), and nothing else answers:

* ``/p/<page token>/`` the overview, ``.../week/<monday>``, ``.../session/<id>``, and the
  actions on any session (``.../session/<id>/<action>``) or on the plan (``.../sore``,
  ``.../pause``, ``.../end-pause``);
* ``/s/<session id>/<signature>`` the one session a calendar event links to, and its actions
  (``.../<action>``): no overview, no week, no other session, no pause;
* anything else, a wrong token or signature, a wrong or missing CSRF token, or a method a URL
  does not take, is the same plain 404 page: nobody learns which part was wrong.

A GET or HEAD never changes anything: actions are POSTed forms, answered with a 303 back to
the page (post/redirect/get, so reloading does not post again). Every link and form target is
*relative*, so the page works unchanged behind a reverse proxy that serves it under a path
(``[web] public_url = "https://host/liftrun"``), and a Location never comes from the client's
Host header. Responses are never cached or framed, send no Referer (the URL is the secret),
and may load nothing from anywhere (a Content-Security-Policy allowing only inline style).

Reading the plan and doing the action is the backend's (:class:`Backend`); the pages are
``web.pages``'s. Both are blocking (SQLite, the planner), so they run on Starlette's thread pool.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Protocol

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

from adapters.feed_server import Pages
from web.access import PAGE, Capability, PageSecret, session_capability
from web.actions_http import (
    MAX_FORM_BYTES,
    PLAN_ACTIONS,
    SESSION_ACTIONS,
    ActionName,
    ActionRefused,
    ActionRequest,
    form_fields,
    parse_action,
)
from web.pages import render_not_found, render_overview, render_session, render_week
from web.views import Actions, Field, Links, Overview, SessionView, WeekView

__all__ = ["Backend", "create_pages"]

SessionUrl = Callable[[str], str | None]
FORM_TYPE = "application/x-www-form-urlencoded"

SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "X-Robots-Tag": "noindex, nofollow",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
}


class Backend(Protocol):
    """What the page reads and asks of the store and the engine; blocking calls."""

    @property
    def zone(self) -> tzinfo:
        """The plan's time zone: which Monday "this week" is."""
        ...

    def overview(
        self, now: datetime, *, actions: Actions, links: Links, session_url: SessionUrl
    ) -> Overview: ...

    def week(
        self, monday: date, now: datetime, *, links: Links, session_url: SessionUrl
    ) -> WeekView: ...

    def session(
        self, session_id: str, now: datetime, *, actions: Actions, links: Links
    ) -> SessionView | None:
        """None for an id no plan holds."""
        ...

    def act(self, request: ActionRequest, now: datetime) -> None:
        """Record the action and start a cycle, so every calendar shows it within seconds.

        Raises:
            ActionRefused: it cannot be done as asked (a slot no longer free, an unknown
                session); the message is for the athlete.
        """
        ...


def _utc_now() -> datetime:
    return datetime.now(UTC)


def create_pages(
    secret: PageSecret, backend: Backend, *, clock: Callable[[], datetime] = _utc_now
) -> Pages:
    """The page as ``adapters.feed_server.create_app`` mounts it beside the feed."""
    site = _Site(secret, backend, clock)
    read = ["GET", "HEAD"]
    routes = [
        Route("/p/{token}", site.overview_page, methods=read),
        Route("/p/{token}/", site.overview_page, methods=read),
        Route("/p/{token}/week/{monday}", site.week_page, methods=read),
        Route("/p/{token}/session/{session_id}", site.plan_session_page, methods=read),
        Route("/p/{token}/session/{session_id}/{action}", site.plan_action, methods=["POST"]),
        Route("/p/{token}/{action}", site.plan_action, methods=["POST"]),
        Route("/s/{session_id}/{signature}", site.session_page, methods=read),
        Route("/s/{session_id}/{signature}/{action}", site.session_action, methods=["POST"]),
    ]

    async def answer_not_found(request: Request, exc: Exception) -> Response:
        return site.not_found()

    # a method a URL does not take (a GET of an action) is the same 404 as a wrong token
    app = Starlette(
        routes=routes, exception_handlers={404: answer_not_found, 405: answer_not_found}
    )
    app.router.redirect_slashes = False  # its Location would come from the client's Host
    return Pages(app=app, page_token=secret.page_token)


class _Site:
    """The endpoints, sharing the secret, the backend and the clock."""

    def __init__(self, secret: PageSecret, backend: Backend, clock: Callable[[], datetime]):
        self.secret = secret
        self.backend = backend
        self.clock = clock
        self.not_found_body = render_not_found()

    # -- responses ---------------------------------------------------------------------------
    def not_found(self) -> Response:
        return HTMLResponse(self.not_found_body, status_code=404, headers=SECURITY_HEADERS)

    @staticmethod
    def page(body: str) -> Response:
        return HTMLResponse(body, headers=SECURITY_HEADERS)

    @staticmethod
    def back_to(location: str) -> Response:
        return Response(status_code=303, headers={**SECURITY_HEADERS, "Location": location})

    @staticmethod
    def refused(exc: ActionRefused) -> Response:
        return PlainTextResponse(
            f"{exc}\n\nGo back to the page and try again.\n", 400, headers=SECURITY_HEADERS
        )

    def form_actions(
        self, capability: Capability, session_prefix: str | None, plan_prefix: str | None
    ) -> Actions:
        """The action URLs a page's capability grants, relative to that page: the session's
        under ``session_prefix``, the plan's under ``plan_prefix`` (``build.offered`` then
        keeps the ones that fit the session's state)."""
        url: dict[ActionName, str] = {}
        if plan_prefix is not None:
            url |= {name: f"{plan_prefix}{name.value}" for name in PLAN_ACTIONS}
        if session_prefix is not None:
            url |= {name: f"{session_prefix}{name.value}" for name in SESSION_ACTIONS}
        return Actions(
            csrf_token=self.secret.csrf_token(capability) or "",
            done=url.get(ActionName.DONE),
            skipped=url.get(ActionName.SKIPPED),
            sore=url.get(ActionName.SORE),
            move=url.get(ActionName.MOVE),
            not_doing=url.get(ActionName.NOT_DOING),
            restore=url.get(ActionName.RESTORE),
            pause=url.get(ActionName.PAUSE),
            end_pause=url.get(ActionName.END_PAUSE),
        )

    # -- actions -----------------------------------------------------------------------------
    async def act(
        self, request: Request, capability: Capability, session_id: str | None
    ) -> Response:
        """Do the action named by the path: a 303 back to the page, a 400 saying what to fix,
        or the 404 for an action this capability does not grant or a wrong CSRF token."""
        try:
            action = ActionName(request.path_params["action"])
        except ValueError:
            return self.not_found()
        granted = SESSION_ACTIONS if session_id is not None else PLAN_ACTIONS
        if action not in granted:
            return self.not_found()
        try:
            fields = await _read_form(request)
        except ActionRefused as exc:
            return self.refused(exc)
        if fields is None or not self.secret.csrf_allows(capability, fields.get(Field.CSRF, "")):
            return self.not_found()
        try:
            checked = parse_action(action, fields, session_id)
            await run_in_threadpool(self.backend.act, checked, self.clock())
        except ActionRefused as exc:
            return self.refused(exc)
        if session_id is None:
            return self.back_to("./")
        return self.back_to(f"../{request.url.path.split('/')[-2]}")

    async def plan_action(self, request: Request) -> Response:
        if not self.secret.page_allows(request.path_params["token"]):
            return self.not_found()
        return await self.act(request, PAGE, request.path_params.get("session_id"))

    async def session_action(self, request: Request) -> Response:
        sid, signature = request.path_params["session_id"], request.path_params["signature"]
        if not self.secret.session_allows(sid, signature):
            return self.not_found()
        return await self.act(request, session_capability(sid), sid)

    # -- pages -------------------------------------------------------------------------------
    async def overview_page(self, request: Request) -> Response:
        token = request.path_params["token"]
        if not self.secret.page_allows(token):
            return self.not_found()
        if not request.url.path.endswith("/"):
            return self.back_to(f"{token}/")  # the relative links below need the slash
        now = self.clock()
        view = await run_in_threadpool(
            lambda: self.backend.overview(
                now,
                actions=self.form_actions(PAGE, None, ""),
                links=Links(overview="./", week=f"week/{self._monday(now)}"),
                session_url=lambda sid: f"session/{sid}",
            )
        )
        return self.page(render_overview(view))

    async def week_page(self, request: Request) -> Response:
        if not self.secret.page_allows(request.path_params["token"]):
            return self.not_found()
        try:
            monday = _monday_of(date.fromisoformat(request.path_params["monday"]))
        except ValueError:
            return self.not_found()
        now = self.clock()
        links = Links(
            overview="../",
            week=str(monday),
            previous_week=str(monday - timedelta(days=7)),
            next_week=str(monday + timedelta(days=7)),
        )
        view = await run_in_threadpool(
            lambda: self.backend.week(
                monday, now, links=links, session_url=lambda sid: f"../session/{sid}"
            )
        )
        return self.page(render_week(view))

    async def plan_session_page(self, request: Request) -> Response:
        if not self.secret.page_allows(request.path_params["token"]):
            return self.not_found()
        sid = request.path_params["session_id"]
        now = self.clock()
        view = await run_in_threadpool(
            lambda: self.backend.session(
                sid,
                now,
                actions=self.form_actions(PAGE, f"{sid}/", "../"),
                links=Links(overview="../", week=f"../week/{self._monday(now)}"),
            )
        )
        return self.not_found() if view is None else self.page(render_session(view))

    async def session_page(self, request: Request) -> Response:
        sid, signature = request.path_params["session_id"], request.path_params["signature"]
        if not self.secret.session_allows(sid, signature):
            return self.not_found()
        now = self.clock()
        view = await run_in_threadpool(
            lambda: self.backend.session(
                sid,
                now,
                actions=self.form_actions(session_capability(sid), f"{signature}/", None),
                links=Links(),
            )
        )
        return self.not_found() if view is None else self.page(render_session(view))

    def _monday(self, now: datetime) -> date:
        return _monday_of(now.astimezone(self.backend.zone).date())


async def _read_form(request: Request) -> dict[str, str] | None:
    """The form's fields, or None for anything that is not a small urlencoded form."""
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != FORM_TYPE:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return None
    return form_fields(bytes(body))


def _monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())
