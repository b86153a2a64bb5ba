"""SendGrid: the v3 Mail Send API.

Documentation (Twilio SendGrid docs, "Mail Send" v3 API reference, "Rate limits":
https://www.twilio.com/docs/sendgrid/api-reference/mail-send/mail-send):

- Endpoint: ``POST {api}/v3/mail/send``; ``{api}`` is ``https://api.sendgrid.com``
  (``https://api.eu.sendgrid.com`` for EU-pinned subusers).
- Auth: ``Authorization: Bearer <API key>``; ``Content-Type: application/json``.
- Body: ``personalizations`` (up to 1,000 per request; each with ``to``, its own
  ``headers`` and ``custom_args``), ``from``, ``subject``, ``content`` (``text/plain``
  first, then ``text/html``), ``categories``.
- Answer: ``202 Accepted`` with an empty body and the ``X-Message-Id`` header; errors are
  ``{"errors": [{"message", "field", "help"}]}`` with 400 (invalid request), 401/403
  (key or sender refused), 413 (payload too large), 429 (rate limited; ``X-RateLimit-*``
  headers), 5xx.

The content of a request is shared by all its personalizations, and every one of our
messages has its own bodies (signed links) and headers (List-Unsubscribe), so each message
goes in a call of its own, with one personalization carrying its headers; the 1,000 limit
would apply to a template rendered by SendGrid, which we do not use.
"""

from __future__ import annotations

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
from newsletter.providers.message import MessageFormatError, parse_message

#: Personalizations per request (SendGrid's limit); we send one message per request.
MAX_PERSONALIZATIONS = 1000
DEFAULT_API_URL = "https://api.sendgrid.com"
#: Headers SendGrid does not let a request set (Mail Send reference, "headers"); none of
#: ours is among them (Message-ID, List-* and Feedback-ID are allowed).
RESERVED_HEADERS = frozenset(
    {"x-sg-id", "x-sg-eid", "received", "dkim-signature", "content-type",
     "content-transfer-encoding", "to", "from", "subject", "reply-to", "cc", "bcc"}
)  # fmt: skip


class SendGridProvider:
    """Sends through SendGrid's v3 Mail Send API with ``client``; see the module notes."""

    name = "sendgrid"
    batch_size = 1

    def __init__(
        self,
        client: httpx.Client,
        api_key: str,
        *,
        api_url: str = DEFAULT_API_URL,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.api_key = api_key
        self.url = f"{api_url.rstrip('/')}/v3/mail/send"
        extra: dict[str, Any] = {k: v for k, v in (("sleep", sleep), ("clock", clock)) if v}
        self.caller = HTTPCaller(client, self.name, policy, **extra)

    def payload(self, envelope: Envelope) -> dict[str, Any]:
        """The Mail Send JSON body for one envelope."""
        parsed = parse_message(envelope.data, envelope.recipient)
        to: dict[str, str] = {"email": envelope.recipient}
        if parsed.to[0]:
            to["name"] = parsed.to[0]
        sender: dict[str, str] = {"email": parsed.sender[1]}
        if parsed.sender[0]:
            sender["name"] = parsed.sender[0]
        headers = {k: v for k, v in parsed.headers.items() if k.lower() not in RESERVED_HEADERS}
        content = []
        if parsed.text is not None:
            content.append({"type": "text/plain", "value": parsed.text})
        if parsed.html is not None:
            content.append({"type": "text/html", "value": parsed.html})
        return {
            "personalizations": [
                {
                    "to": [to],
                    "headers": headers,
                    "custom_args": {"delivery_id": str(envelope.key)},
                }
            ],
            "from": sender,
            "subject": parsed.subject,
            "content": content,
            "categories": [envelope.campaign],
            "tracking_settings": {
                "click_tracking": {"enable": False},
                "open_tracking": {"enable": False},
            },
        }

    def send(self, envelopes: Sequence[Envelope]) -> BatchResult:
        """One call per envelope; see :func:`send_one_by_one`."""
        return send_one_by_one(envelopes, self._one)

    def _one(self, envelope: Envelope) -> MessageResult | Failure:
        try:
            body = self.payload(envelope)
        except MessageFormatError as exc:
            return MessageResult(envelope.key, Result.FAILED, detail=str(exc))
        request = self.caller.client.build_request(
            "POST", self.url, json=body, headers={"Authorization": f"Bearer {self.api_key}"}
        )
        answer = self.caller.call(request)
        if isinstance(answer, Failure):
            return answer
        if answer.status_code in (200, 202):
            return MessageResult(
                envelope.key, Result.SENT, answer.headers.get("X-Message-Id"), answer.status_code
            )
        return MessageResult(
            envelope.key, Result.FAILED, code=answer.status_code,
            detail=f"sendgrid: {response_text(answer)}",
        )  # fmt: skip

    def close(self) -> None:
        """The client belongs to the caller: nothing to release here."""
