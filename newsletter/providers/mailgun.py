"""Mailgun: the ``messages.mime`` endpoint (our personalised bytes, unchanged).

Documentation (Mailgun API reference, "Messages": "Send an email in MIME format";
"Authentication"; "Batch sending"; "Rate limits"):

- Endpoint: ``POST {api}/v3/{domain}/messages.mime`` as ``multipart/form-data`` with the
  recipient in ``to`` and the complete MIME message as the file field ``message``;
  ``{api}`` is ``https://api.mailgun.net`` (``https://api.eu.mailgun.net`` for EU domains).
  Options: ``o:tag``; custom variables ``v:<name>`` come back in webhooks.
- Auth: HTTP basic auth with the user ``api`` and the API key as the password.
- Answer: ``200 {"id": "<message id>", "message": "Queued. Thank you."}``; errors are
  ``{"message": ...}`` with 400 (bad request), 401 (bad key), 403/404 (domain), 429 (rate
  limited; ``X-RateLimit-*`` headers), 5xx.
- Batch sending (``messages`` with ``recipient-variables``) reaches up to 1,000 recipients
  a call, but Mailgun then renders the per-recipient values itself; with our own bytes
  (signed links and List-Unsubscribe per recipient, our DKIM signature kept) each message
  is a call of its own.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from typing import Any

import httpx

from newsletter.providers.base import BatchResult, Envelope, MessageResult, Result
from newsletter.providers.http import (
    Failure,
    HTTPCaller,
    RetryPolicy,
    response_text,
    send_one_by_one,
)

#: Recipients per call with recipient-variables (Mailgun's batch limit).
MAX_RECIPIENTS = 1000
DEFAULT_API_URL = "https://api.mailgun.net"


class MailgunProvider:
    """Sends our MIME bytes through Mailgun's ``messages.mime``; see the module notes."""

    name = "mailgun"
    batch_size = 1

    def __init__(
        self,
        client: httpx.Client,
        api_key: str,
        domain: str,
        *,
        api_url: str = DEFAULT_API_URL,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.url = f"{api_url.rstrip('/')}/v3/{domain}/messages.mime"
        token = base64.b64encode(f"api:{api_key}".encode()).decode("ascii")
        self.authorization = f"Basic {token}"
        extra: dict[str, Any] = {k: v for k, v in (("sleep", sleep), ("clock", clock)) if v}
        self.caller = HTTPCaller(client, self.name, policy, **extra)

    def send(self, envelopes: Sequence[Envelope]) -> BatchResult:
        """One call per envelope; see :func:`send_one_by_one`."""
        return send_one_by_one(envelopes, self._one)

    def _one(self, envelope: Envelope) -> MessageResult | Failure:
        request = self.caller.client.build_request(
            "POST",
            self.url,
            data={
                "to": envelope.recipient,
                "o:tag": envelope.campaign,
                "v:delivery_id": str(envelope.key),
            },
            files={"message": ("message.mime", envelope.data, "message/rfc822")},
            headers={"Authorization": self.authorization},
        )
        answer = self.caller.call(request)
        if isinstance(answer, Failure):
            return answer
        if answer.status_code == 200:
            try:
                body = answer.json()
            except ValueError:
                body = {}
            message_id = body.get("id") if isinstance(body, dict) else None
            return MessageResult(envelope.key, Result.SENT, message_id, 200)
        return MessageResult(
            envelope.key, Result.FAILED, code=answer.status_code,
            detail=f"mailgun: {response_text(answer)}",
        )  # fmt: skip

    def close(self) -> None:
        """The client belongs to the caller: nothing to release here."""
