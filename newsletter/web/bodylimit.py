"""A bound on request bodies, as ASGI middleware: forms and webhooks are small, and a client
that sends more is refused with 413 while the body arrives, not after it was read."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: Bytes a form may carry (a sign-up, preferences, an editor's decision).
MAX_BODY = 64 * 1024


class BodyLimit:
    """ASGI middleware refusing request bodies over ``limit`` bytes with 413, while they
    arrive (a declared Content-Length is refused before reading anything). Paths under a
    prefix of ``skip`` are left to the app mounted there (it applies its own limit)."""

    def __init__(
        self,
        app: ASGIApp,
        limit: int = MAX_BODY,
        larger: dict[str, int] | None = None,
        skip: tuple[str, ...] = (),
        refuse: Callable[[Request], Awaitable[Response]] | None = None,
    ) -> None:
        self.app, self.limit, self.skip = app, limit, skip
        self.larger = larger or {}  # path -> a larger limit for that route (webhooks)
        # The 413 answer to a declared Content-Length over the limit (the app's error
        # page or JSON, in its language); a plain text without it.
        self.refuse = refuse

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or str(scope.get("path", "")).startswith(self.skip):
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        root = scope.get("root_path", "")
        limit = self.larger.get(path[len(root) :] if root and path.startswith(root) else path,
                                self.limit)  # fmt: skip
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            if self.refuse is not None:
                answer = await self.refuse(Request(scope, receive))
            else:
                answer = PlainTextResponse("Request too large.\n", status_code=413)
            await answer(scope, receive, send)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                raise HTTPException(413, "too_large")
            return message

        await self.app(scope, limited, send)
