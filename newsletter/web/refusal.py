"""An editors' page refusing a request, by the key of its words."""

from __future__ import annotations

from starlette.exceptions import HTTPException


class Refusal(HTTPException):
    """An editors' page refusing a request: the HTTP ``status_code`` (4xx), the ``key`` of
    its message among the ``editors.*`` words (:mod:`newsletter.words`) and the ``values``
    of the message's placeholders. The editors' error page words it in the newsletter's
    language."""

    def __init__(self, status_code: int, key: str, **values: object) -> None:
        super().__init__(status_code, key)
        self.key, self.values = key, values
