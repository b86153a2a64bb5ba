"""The editors' web app, mounted at ``/editor``: sign-in and sign-out here, editions in
:mod:`~newsletter.web.editor_editions`, the audience in
:mod:`~newsletter.web.editor_audience`, the sources in
:mod:`~newsletter.web.editor_sources`.

Every route but the sign-in page needs a signed-in editor: a GET without one is sent to
the sign-in page, anything else answers 401. Every POST carries the session's CSRF token
(403 without it). Bad input answers a 4xx page; nothing answers 500 for what a browser
can send.
"""

from __future__ import annotations

import math
from urllib.parse import unquote, urlsplit

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from newsletter.editions.drafts import note
from newsletter.store.audit import Actor
from newsletter.web import editor_audience, editor_editions, editor_send, editor_sources, embed
from newsletter.web.auth import COOKIE, LoginLimits, Policy, session_key, sign_in, sign_out
from newsletter.web.bad_requests import client_gone
from newsletter.web.bodylimit import BodyLimit
from newsletter.web.editor_pages import (
    Editors,
    base,
    client_address,
    editor_only,
    form,
    href,
    page,
    text_field,
)
from newsletter.web.passwords import verify_password
from newsletter.web.refusal import Refusal
from newsletter.wiring import App

#: Largest request body of the editors' pages (the CSV import), in bytes.
MAX_EDITOR_BODY = editor_audience.MAX_IMPORT_BYTES + 64 * 1024


class SecurityHeaders:
    """ASGI middleware: editors' pages are never cached nor framed by another site
    (``X-Frame-Options``, OWASP Clickjacking Defense) unless the route says otherwise,
    and send no referrer outside the site."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                for name, value in (
                    (b"x-frame-options", b"DENY"),
                    (b"cache-control", b"no-store"),
                    (b"referrer-policy", b"same-origin"),
                    (b"x-content-type-options", b"nosniff"),
                ):
                    if name not in names:
                        headers.append((name, value))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


def safe_next(request: Request, target: str | None) -> str:
    """Where to go after signing in: ``target`` when it is a path of the editors' pages
    (never another site: no open redirect), else the editions list."""
    root = base(request)
    if target:
        decoded = unquote(target)
        if (
            decoded.startswith(root + "/")
            and not decoded.startswith("//")
            and "\\" not in decoded
            and not any(ord(c) < 32 for c in decoded)
        ):
            return target
    return href(request, "/")


def create_editor_app(application: App, limits: LoginLimits | None = None) -> Starlette:
    """The editors' ASGI app for ``application`` (mount it at ``/editor``). ``limits``:
    the sign-in lockout (tests pass smaller ones)."""
    settings = application.settings
    editors = Editors(application, Policy.from_settings(settings), limits or LoginLimits())
    guard = editor_only(editors)

    def login_page(request: Request, *, error: str | None = None, status_code: int = 200,
                   email: str = "") -> Response:  # fmt: skip
        return page(
            request, editors, "login", status_code=status_code, error=error, email=email,
            next=safe_next(request, request.query_params.get("next")),
            expired=request.query_params.get("expired") == "1",
            configured=any(settings.editors.values()),
        )  # fmt: skip

    async def login_form(request: Request) -> Response:
        """GET /login: the sign-in form (it starts a session holding the CSRF token)."""
        return login_page(request)

    async def login(request: Request) -> Response:
        """POST /login (``email``, ``password``, ``next``): 303 to ``next`` when the
        password matches; 401 otherwise, 429 (with Retry-After) while the account at the
        client's address, or the address, is locked (:class:`LoginLimits`)."""
        data = await form(request, max_fields=10)
        email = text_field(data, "email", 320).strip().lower()
        password = text_field(data, "password", 4096)
        client = client_address(request) or "?"
        limits, sessions = editors.limits, application.sessions
        wait = await run_in_threadpool(limits.locked, sessions, client, email)
        if wait > 0:
            return too_many(request, email, wait)
        hashed = settings.editors.get(email)
        if not await run_in_threadpool(verify_password, hashed, password) or not email:
            lock = await run_in_threadpool(limits.failed, sessions, client, email)
            if lock > 0:
                who = Actor(email[:320] or "?", client)
                await run_in_threadpool(
                    lambda: note(application.drafts, None, who, "locked_out",
                                 details={"seconds": round(lock)})
                )  # fmt: skip
            return login_page(
                request, status_code=401, email=email,
                error=editors.say("login_wrong"),
            )  # fmt: skip
        await run_in_threadpool(limits.succeeded, sessions, client, email)
        await run_in_threadpool(note, application.drafts, None, Actor(email, client), "sign_in")
        target = safe_next(request, text_field(data, "next", 2000))
        sign_in(request, email)
        return RedirectResponse(target, status_code=303)

    def too_many(request: Request, email: str, wait: float) -> Response:
        """429 while the account at this address, or the address, is locked; Retry-After
        says for how long (seconds)."""
        answer = login_page(
            request, status_code=429, email=email,
            error=editors.say("login_too_many", minutes=max(1, math.ceil(wait / 60))),
        )  # fmt: skip
        answer.headers["Retry-After"] = str(max(1, math.ceil(wait)))
        return answer

    @guard
    async def logout(request: Request) -> Response:
        """POST /logout: end the session."""
        await form(request)
        sign_out(request)
        return RedirectResponse(href(request, "login"), status_code=303)

    async def error(request: Request, exc: Exception) -> Response:
        """Every error as an editors' page with its status (4xx for bad input), in the
        newsletter's language: a :class:`Refusal` by its key and values, Starlette's own
        404 and 405 by ours, any other detail as it is."""
        status = getattr(exc, "status_code", 500)
        if isinstance(exc, Refusal):
            message = editors.say(exc.key, **exc.values)
        else:
            detail = getattr(exc, "detail", None) or "error"
            if status == 404 and detail == "Not Found":
                detail = "not_found"
            if status == 405:
                detail = "method_not_allowed"
            message = editors.say(detail)
        return page(request, editors, "error", status_code=status, message=message)

    return Starlette(
        routes=[
            Route("/login", login_form, methods=["GET"]),
            Route("/login", login, methods=["POST"]),
            Route("/logout", logout, methods=["POST"]),
            *editor_editions.routes(editors),
            *editor_audience.routes(editors),
            *editor_sources.routes(editors),
            *editor_send.routes(editors),  # an edition's send, its report; the 30 days
            *embed.editor_routes(editors),  # the sign-up box's snippet
        ],
        exception_handlers={
            HTTPException: error,
            404: error,
            405: error,
            ClientDisconnect: client_gone,  # a client that left mid-body: quietly
        },
        middleware=[
            Middleware(SecurityHeaders),
            Middleware(
                SessionMiddleware,
                secret_key=session_key(settings.secret_keys),
                session_cookie=COOKIE,
                max_age=round(editors.policy.idle),
                path=urlsplit(settings.base_url).path.rstrip("/") + "/editor",
                same_site="lax",
                https_only=settings.base_url.startswith("https://"),
            ),
            Middleware(
                BodyLimit,
                limit=MAX_EDITOR_BODY,
                refuse=lambda request: error(request, Refusal(413, "too_large")),
            ),
        ],
    )
