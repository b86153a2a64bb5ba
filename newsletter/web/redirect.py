"""``GET /r/<token>``: the click redirect of article links (README "Reports and clicks").

The token is signed and names an edition's item and link, never a URL, so the redirect
goes only where an edition points (no open redirect: OWASP's "Unvalidated Redirects and
Forwards"). A forged or malformed token answers 400, a genuine one whose item is gone
404; neither counts anything, nor does a ``HEAD``. The answer is a 302 (RFC 9110 section
15.4.3) with ``Cache-Control: no-store`` so that every click reaches us, and
``Referrer-Policy: no-referrer`` so that the reader's token does not travel on to the
article's site.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from newsletter.editions.clicks import NoSuchLink
from newsletter.links import CLICK_PATH, TokenError
from newsletter.wiring import App

#: Longest token accepted (characters): a click token is about 40; anything longer is junk.
MAX_TOKEN_CHARS = 200


def redirect_routes(application: App) -> list[Route]:
    """The click redirect's route."""

    async def follow(request: Request) -> Response:
        """GET /r/<token>[?r=<reader token>]: count the click, 302 to the article."""
        token = request.path_params["token"]
        reader = request.query_params.get("r") or None
        if len(token) > MAX_TOKEN_CHARS or (reader and len(reader) > MAX_TOKEN_CHARS):
            raise HTTPException(400, "link_invalid")
        try:
            # a HEAD (link checkers, previews) is answered but not counted
            target = application.clicks.follow(token, reader, count=request.method == "GET")
        except TokenError as exc:
            raise HTTPException(400, "link_invalid") from exc
        except NoSuchLink as exc:
            raise HTTPException(404, "not_found") from exc
        headers = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
        return RedirectResponse(target, status_code=302, headers=headers)

    return [Route(f"/{CLICK_PATH}/{{token}}", follow, methods=["GET"])]
