"""Requests that cannot be read as sent, answered in our words.

- A client that leaves before its whole body arrived (Starlette raises
  :class:`starlette.requests.ClientDisconnect` from ``request.body()``/``form()``) gets no
  answer worth the name: :func:`client_gone` logs it at INFO and returns an empty 400
  (the server drops it, nobody is listening), never a traceback at ERROR.
- Starlette's own English details ("Too many files. Maximum number of files is 0.",
  "Missing boundary in multipart.", "Too many fields. ...") become our message keys by
  status (:func:`message_key`), so pages and JSON errors stay in the configured language.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from starlette.requests import Request
from starlette.responses import Response

LOG = logging.getLogger("newsletter.web")

#: Our message key for a status whose detail is not one of ours (Starlette's own words).
KEYS_BY_STATUS = {
    400: "bad_form",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "send_the_form",
}


async def client_gone(request: Request, exc: Exception) -> Response:
    """Exception handler for :class:`~starlette.requests.ClientDisconnect`: log at INFO
    (method and path only: no body, no address) and answer an empty 400, which the server
    discards since the client has gone. Nothing was read, so nothing changed."""
    LOG.info("client left before its request body arrived: %s %s", request.method, request.url.path)
    return Response(status_code=400)


def message_key(status: int, detail: str, known: Mapping[str, str]) -> str:
    """``detail`` when it is a key of ``known`` (a word table), else our key for ``status``
    (:data:`KEYS_BY_STATUS`), else ``"error"``: framework text never reaches a page."""
    if detail in known:
        return detail
    return KEYS_BY_STATUS.get(status, "error")
