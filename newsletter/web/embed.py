"""The sign-up box other sites embed, and the CORS answer of ``/api/subscribe``.

``GET /embed/subscribe`` serves a small form (no script, the newsletter's colours, French
unless ``?lang=en`` or the newsletter's language says otherwise) made to be put in an
``<iframe>``; ``POST /embed/subscribe`` signs the reader up through the same sign-up as
``/subscribe`` (double opt-in, the same limits, the same answer whether or not the address
was known). Only the origins of ``NEWSLETTER_ALLOWED_ORIGINS`` (and this site) may frame it:
``Content-Security-Policy: frame-ancestors`` (CSP Level 2; OWASP Clickjacking Defense).

``/api/subscribe`` answers CORS preflights (the Fetch standard's CORS protocol) for those
origins only, through Starlette's ``CORSMiddleware``: another origin's preflight gets 400
and no ``Access-Control-Allow-Origin``, so browsers there never send the sign-up.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.background import BackgroundTask
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from newsletter import words
from newsletter.render.templates import environment
from newsletter.web.editor_pages import Editors, editor_only, page
from newsletter.wiring import App

#: The sign-up the readers' app does: (request, email, name, topics) -> (status, message key,
#: work to run after the answer).
SignUp = Callable[[Request, str, str | None, list[str]], tuple[int, str, BackgroundTask | None]]
#: Paths CORS applies to.
CORS_PATHS = ("/api/subscribe",)
#: Seconds a browser may keep a preflight's answer.
PREFLIGHT_MAX_AGE = 600


class SubscribeCORS:
    """ASGI middleware: Starlette's ``CORSMiddleware`` for :data:`CORS_PATHS` only, for
    ``origins`` only (POST with a JSON body, no credentials)."""

    def __init__(self, app: ASGIApp, origins: list[str]) -> None:
        self.app = app
        self.cors = CORSMiddleware(
            app, allow_origins=origins, allow_methods=["POST"],
            allow_headers=["Content-Type"], allow_credentials=False, max_age=PREFLIGHT_MAX_AGE,
        )  # fmt: skip

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] in CORS_PATHS:
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def frame_ancestors(origins: list[str]) -> str:
    """The ``Content-Security-Policy`` of the box: framed by this site and ``origins``."""
    return "frame-ancestors " + " ".join(["'self'", *origins])


def snippet(base_url: str, language: str = "fr") -> str:
    """The HTML the editors' pages give to copy: the box in an iframe."""
    query = "" if language == "fr" else f"?lang={language}"
    return (
        f'<iframe src="{base_url}/embed/subscribe{query}" title="Newsletter" '
        'width="100%" height="260" style="border:0;max-width:480px" loading="lazy"></iframe>'
    )


def embed_routes(application: App, signup: SignUp) -> list[Route]:
    """``/embed/subscribe`` (GET: the box; POST: the sign-up)."""
    settings = application.settings
    policy = frame_ancestors(settings.allowed_origins)

    def language_of(request: Request) -> str:
        asked = request.query_params.get("lang")
        return words.language_of(asked if asked in ("fr", "en") else settings.language)

    def box(
        request: Request, status_code: int = 200, *, done: bool = False,
        message: str = "", error: str | None = None,
    ) -> HTMLResponse:  # fmt: skip
        language = language_of(request)
        html = (
            environment(settings.templates_dir)
            .get_template("pages/embed_subscribe.html.j2")
            .render(
                t=words.table(language, "readers"),
                lang=language,
                title=settings.title,
                accent=settings.accent_color,
                ink=settings.ink_color,
                paper=settings.paper_color,
                action="/embed/subscribe" + (f"?lang={language}" if language != "fr" else ""),
                done=done,
                message=message,
                error=error,
            )
        )
        headers = {
            "Content-Security-Policy": f"{policy}; default-src 'none'; style-src 'unsafe-inline'; "
            "form-action 'self'; base-uri 'none'",
            "Cache-Control": "no-store",
            "Referrer-Policy": "no-referrer",
            "X-Content-Type-Options": "nosniff",
        }
        return HTMLResponse(html, status_code=status_code, headers=headers)

    async def show(request: Request) -> Response:
        """GET /embed/subscribe: the box."""
        return box(request)

    async def submit(request: Request) -> Response:
        """POST /embed/subscribe (``email``, optional ``name``): 200 and the check-your-inbox
        answer, 400 for a bad address, 429 over the limits."""
        form = await request.form(max_files=0, max_fields=10)
        email = form.get("email")
        name = form.get("name")
        status, key, work = signup(
            request, email if isinstance(email, str) else "",
            name if isinstance(name, str) and name.strip() else None, [],
        )  # fmt: skip
        language = language_of(request)
        message = words.message("readers", key, language)
        if status == 202:
            answer = box(request, done=True, message=message)
            answer.background = work
            return answer
        return box(request, status, error=message)

    return [
        Route("/embed/subscribe", show, methods=["GET"]),
        Route("/embed/subscribe", submit, methods=["POST"]),
    ]


def editor_routes(editors: Editors) -> list[Route]:
    """The editors' page of the box (relative to the editors' prefix): the snippet to copy,
    the allowed origins and the box itself, framed as a site would frame it."""
    app = editors.application
    guard = editor_only(editors)

    @guard
    async def box_page(request: Request) -> Response:
        """GET /signup-box: the snippet to copy and a preview."""
        settings = app.settings
        return page(
            request, editors, "embed", snippet=snippet(settings.base_url, editors.language),
            origins=settings.allowed_origins, src="/embed/subscribe",
        )  # fmt: skip

    return [Route("/signup-box", box_page, methods=["GET"])]
