"""What every editors' page shares: the signed-in check, forms with their CSRF token, pages
with the editor's navigation, redirects after a POST with a one-time message."""

from __future__ import annotations

import functools
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import quote

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from newsletter import words
from newsletter.editions.decisions import Previews
from newsletter.render.templates import environment
from newsletter.store.audit import Actor
from newsletter.web.auth import (
    CSRF_FIELD,
    LoginLimits,
    NotSignedIn,
    Policy,
    check_csrf,
    csrf_token,
    current_editor,
)
from newsletter.web.refusal import Refusal
from newsletter.wiring import App

Handler = Callable[[Request], Awaitable[Response]]
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


@dataclass
class Editors:
    """The editors' side of the web app: the application, session policy, login limits
    and the preview cache."""

    application: App
    policy: Policy
    limits: LoginLimits = field(default_factory=LoginLimits)
    previews: Previews = field(init=False)

    def __post_init__(self) -> None:
        self.previews = Previews(self.application.renderer)

    @property
    def language(self) -> str:
        """The pages' language (``settings.language``: ``fr`` or ``en``)."""
        return words.language_of(self.application.settings.language)

    @property
    def texts(self) -> Mapping[str, str]:
        """The pages' words (``editors.*`` in :mod:`newsletter.words`)."""
        return words.table(self.language, "editors")

    def say(self, key: str, **values: object) -> str:
        """Message ``key`` in the pages' language, its placeholders filled from ``values``."""
        return words.message("editors", key, self.language, **values)


def base(request: Request) -> str:
    """The editors' prefix as mounted (``/editor``, or under a proxy's root path)."""
    return str(request.scope.get("root_path", "")).rstrip("/")


def href(request: Request, path: str = "/") -> str:
    """An absolute path under the editors' prefix."""
    return base(request) + "/" + path.lstrip("/")


def page(
    request: Request, editors: Editors, template: str, status_code: int = 200, **context: object
) -> HTMLResponse:
    """A rendered editors' page in the newsletter's language (its words as ``t``:
    ``editors.*`` in :mod:`newsletter.words`): navigation, the one-time message, the CSRF token.
    Never cached, never framed."""
    settings = editors.application.settings
    html = (
        environment()
        .get_template(f"pages/editor/{template}.html.j2")
        .render(
            title=settings.title,
            t=editors.texts,
            lang=editors.language,
            root=base(request),
            editor=getattr(request.state, "editor", None),
            csrf=csrf_token(request),
            csrf_field=CSRF_FIELD,
            flash=request.session.pop("flash", None),
            flash_error=request.session.pop("flash_error", None),
            **context,
        )
    )
    return HTMLResponse(html, status_code=status_code)


def done(request: Request, path: str, message: str, *, error: bool = False) -> Response:
    """303 to ``path`` (under the prefix) with ``message`` shown once there."""
    request.session["flash_error" if error else "flash"] = message
    return RedirectResponse(href(request, path), status_code=303)


def editor_only(editors: Editors) -> Callable[[Handler], Handler]:
    """Decorator: the handler runs for a signed-in editor (``request.state.editor``).
    Otherwise a GET is sent to the sign-in page (and back afterwards), anything else gets
    401."""

    def wrap(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def guarded(request: Request) -> Response:
            try:
                request.state.editor = current_editor(request, editors.policy)
            except NotSignedIn as exc:
                if request.method in ("GET", "HEAD"):
                    query = request.url.query
                    target = request.url.path + (f"?{query}" if query else "")
                    login = href(request, "login") + "?next=" + quote(target, safe="/")
                    if exc.expired:
                        login += "&expired=1"
                    return RedirectResponse(login, status_code=303)
                raise Refusal(401, "signed_out") from None
            return await handler(request)

        return guarded

    return wrap


async def form(request: Request, *, max_fields: int = 50, max_files: int = 0) -> FormData:
    """The POSTed form, its CSRF token checked (403 otherwise); 400 for a form that cannot
    be read (malformed multipart, too many fields or files). Another body, or none, carries
    no CSRF token: 403 too (as the README says), not 415."""
    if not request.headers.get("content-type", "").startswith(FORM_TYPES):
        raise Refusal(403, "csrf_refused")
    try:
        data = await request.form(max_files=max_files, max_fields=max_fields)
    except HTTPException as exc:  # Starlette's own words, in English: ours instead
        if exc.status_code == 400:
            raise Refusal(400, "bad_form") from None
        raise
    check_csrf(request, data)
    return data


def text_field(data: FormData, name: str, limit: int = 1000) -> str:
    """A text field of ``data`` ('' when absent); 400 for a file or over ``limit`` chars."""
    value = data.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise Refusal(400, "field_not_text", name=name)
    if len(value) > limit:
        raise Refusal(400, "field_too_long", name=name, limit=limit)
    return value


def parse_day(value: str) -> date:
    """A ``YYYY-MM-DD`` path or form value as a date; 404 for anything else."""
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise Refusal(404, "bad_date") from None


def client_address(request: Request) -> str | None:
    """The client's IP address as the server saw it: the proxy's ``X-Forwarded-For`` only
    when ``newsletter serve --behind-proxy`` trusts it (uvicorn's ``proxy_headers``), else
    the peer's; None when the server does not say."""
    return request.client.host if request.client else None


def actor(request: Request) -> Actor:
    """The signed-in editor and their address, for the audit log."""
    return Actor(str(request.state.editor), client_address(request))
