"""``POST /api/articles``: the CMS push (see :mod:`newsletter.ingest.push` for the body).

The request carries ``Authorization: Bearer <token>`` (RFC 6750 section 2.1), a token made
by ``newsletter api-token create``. Answers, in this order of checks:

- 413 for a body over :data:`MAX_BODY` bytes (refused by the app's body limit, before
  anything else is read);
- 401 without a token, or with a wrong or revoked one (with ``WWW-Authenticate: Bearer``);
- 403 for a valid token without the ``articles:write`` scope (``error="insufficient_scope"``,
  RFC 6750 section 3.1);
- 422 ``{"errors": [{"index", "field", "message"}]}`` when the body is not JSON or an
  article is refused: nothing is stored;
- 201 when at least one article was created, else 200, with ``{"articles": [{"id", "url",
  "status": "created" | "updated"}]}`` in the order sent.

The messages are English: the reader is the CMS's developer, not a newsletter reader.
"""

from __future__ import annotations

import json

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from newsletter.store.tokens import authenticate
from newsletter.wiring import App

#: The largest pushed body (bytes): 1 MiB, about 500 articles with their summaries.
MAX_BODY = 1024 * 1024
#: The scope a token needs to push articles.
SCOPE = "articles:write"
#: Request-body limits above the app's default, by path (for the app's middleware).
BODY_LIMITS = {"/api/articles": MAX_BODY}


def bearer_token(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header (the scheme in any case,
    RFC 7235 section 2.1), or None."""
    scheme, _, token = request.headers.get("authorization", "").strip().partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def _refused(status: int, message: str, challenge: str) -> Response:
    return JSONResponse(
        {"error": message}, status_code=status,
        headers={"WWW-Authenticate": challenge, "Cache-Control": "no-store"},
    )  # fmt: skip


def api_article_routes(application: App) -> list[Route]:
    """The CMS push route of ``application``."""

    async def push_articles(request: Request) -> Response:
        """POST /api/articles: store the pushed articles (see the module's docstring)."""
        token = bearer_token(request)
        found = (
            await run_in_threadpool(authenticate, application.sessions, token) if token else None
        )
        if found is None:
            return _refused(
                401, "a valid API token is required: Authorization: Bearer <token>",
                'Bearer realm="newsletter"' + (', error="invalid_token"' if token else ""),
            )  # fmt: skip
        if SCOPE not in found.scopes:
            return _refused(
                403, f"this token lacks the {SCOPE} scope",
                f'Bearer realm="newsletter", error="insufficient_scope", scope="{SCOPE}"',
            )  # fmt: skip
        body = await request.body()
        try:
            payload = json.loads(body)
        except (ValueError, RecursionError):  # RecursionError: absurdly nested JSON
            error = {"index": None, "field": None, "message": "the body is not JSON"}
            return JSONResponse({"errors": [error]}, status_code=422)
        result = await run_in_threadpool(application.push.push, payload, found.name)
        if result.errors:
            errors = [error.as_dict() for error in result.errors]
            return JSONResponse({"errors": errors}, status_code=422)
        return JSONResponse(
            {"articles": [article.as_dict() for article in result.articles]},
            status_code=201 if result.created else 200,
        )

    return [Route("/api/articles", push_articles, methods=["POST"])]
