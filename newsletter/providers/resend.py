"""Resend: the batch endpoint, up to 100 messages a call, with an idempotency key.

Documentation (Resend API reference, "Send batch emails", "Idempotency keys", "Errors",
"Rate limits": https://resend.com/docs/api-reference/emails/send-batch-emails):

- Endpoint: ``POST {api}/emails/batch`` with a JSON array of up to 100 emails; ``{api}``
  is ``https://api.resend.com``.
- Auth: ``Authorization: Bearer <API key>``.
- ``Idempotency-Key`` header (at most 256 characters, kept 24 hours): a request repeated
  with the same key is not sent again. Ours is derived from the edition and the delivery
  ids (and Message-IDs) of the batch, so that every retry of a batch carries the same key
  and a batch whose answer was lost is never delivered twice; retrying after a timeout is
  therefore safe.
- Each email: ``from``, ``to`` (a list), ``subject``, ``html``, ``text``, ``headers`` (an
  object). Answer: ``200 {"data": [{"id": ...}, ...]}`` in request order.
- Errors: ``{"statusCode", "name", "message"}``: 400/422 validation, 401/403 key or
  domain refused, 409 idempotency key reused with another body or still in progress, 429
  rate limit or daily quota (``ratelimit-*`` and ``retry-after`` headers), 5xx.
- Rate limit ("Usage limits"): by default a few requests per second per team (2, raised to
  5 since), across all its keys; hence two calls in flight by default.

Each reader's email is built from the variant's prepared fields (its placeholders filled
with the reader's links: string joins, no parsing), with its own Message-ID, List-
Unsubscribe and one-click headers; a single message without content is read from its
bytes. Resend signs with the sender's domain: our DKIM signature is not applied.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from typing import Any

import httpx

from newsletter.providers.base import BatchResult, Envelope, MessageResult, Result
from newsletter.providers.http import (
    Calls,
    Failure,
    HTTPCaller,
    RetryPolicy,
    display,
    in_order,
    json_array,
    plan_calls,
    prepare_batch,
    response_text,
)
from newsletter.providers.message import MessageFormatError, parse_message

#: Emails per call (Resend's batch limit).
MAX_BATCH = 100
#: Calls in flight at once by default (Resend's default rate limit, requests per second).
DEFAULT_CONCURRENCY = 2
DEFAULT_API_URL = "https://api.resend.com"


def idempotency_key(envelopes: Sequence[Envelope]) -> str:
    """``<campaign>/<sha256 of the delivery ids and Message-IDs>``: the same for every
    attempt of one batch (the worker builds each message once per attempt), different for
    any other batch. The Message-IDs make a batch rebuilt on a later run (a deferral the
    provider answered, so nothing went) a new request rather than a reused key with
    another body, which Resend would refuse with 409."""
    campaign = envelopes[0].campaign if envelopes else ""
    ids = ",".join(f"{e.key}:{e.message_id}" for e in envelopes)
    return f"{campaign}/{hashlib.sha256(ids.encode()).hexdigest()[:48]}"


class ResendProvider:
    """Sends through Resend's batch API with ``client``; see the module notes."""

    name = "resend"

    def __init__(
        self,
        client: httpx.Client,
        api_key: str,
        *,
        api_url: str = DEFAULT_API_URL,
        policy: RetryPolicy | None = None,
        per_call: int = MAX_BATCH,
        concurrency: int = DEFAULT_CONCURRENCY,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.api_key = api_key
        self.url = f"{api_url.rstrip('/')}/emails/batch"
        self.per_call = max(1, min(MAX_BATCH, per_call))
        self.calls = Calls(concurrency, self.name)
        self.batch_size = self.per_call * self.calls.concurrency
        extra: dict[str, Any] = {k: v for k, v in (("sleep", sleep), ("clock", clock)) if v}
        self.caller = HTTPCaller(client, self.name, policy, idempotent=True, **extra)

    def _email(self, envelope: Envelope) -> list[bytes]:
        """One email of the batch, as the UTF-8 pieces of its JSON (to join). An
        edition's email is written from its variant's pre-encoded parts (no encoding of the
        bodies per reader); a single message is read from its bytes."""
        fields = envelope.fields
        if fields is None:
            return [json.dumps(self._parsed(envelope), ensure_ascii=False).encode()]
        content, personal = fields
        text, html = content.fill_json(personal.values)
        head = {
            "from": display(content.sender_name, content.sender_address),
            "to": [envelope.recipient],  # the API documents a name for "from" only
            "subject": content.subject,
            "headers": envelope.headers(),
        }
        parts = [json.dumps(head, ensure_ascii=False)[:-1].encode()]
        if html is not None:
            parts += [b',"html":', *html]
        if text is not None:
            parts += [b',"text":', *text]
        parts.append(b"}")
        return parts

    def _parsed(self, envelope: Envelope) -> dict[str, Any]:
        parsed = parse_message(envelope.data, envelope.recipient)
        email: dict[str, Any] = {
            "from": parsed.from_line,
            "to": [envelope.recipient],
            "subject": parsed.subject,
            "headers": parsed.headers,
        }
        if parsed.html is not None:
            email["html"] = parsed.html
        if parsed.text is not None:
            email["text"] = parsed.text
        return email

    def send(self, envelopes: Sequence[Envelope]) -> BatchResult:
        """Send ``envelopes`` in calls of at most :attr:`per_call`, :attr:`calls` in
        flight; one result each, in order."""
        calls = (
            (part, prepare_batch(part, self._email, MessageFormatError, json_array, self._call))
            for part in plan_calls(envelopes, self.per_call)
        )  # each body built in this thread while the previous calls are in flight
        return in_order(envelopes, self.calls.run(calls))

    def _call(self, body: bytes, sent: list[Envelope]) -> BatchResult:
        request = self.caller.client.build_request(
            "POST", self.url, content=body,
            headers={
                "Authorization": f"Bearer {self.api_key}",
                "Content-Type": "application/json",
                "Idempotency-Key": idempotency_key(sent),
            },
        )  # fmt: skip
        return self._read(self.caller.call(request), sent)

    def _read(self, answer: httpx.Response | Failure, sent: list[Envelope]) -> BatchResult:
        if isinstance(answer, Failure):
            return answer.batch(sent)
        detail = f"resend: {response_text(answer)}"
        if answer.status_code == 409:
            # The key was used before: that batch may have gone. Never resend blindly.
            return Failure(Result.UNKNOWN, detail, 409, stop=detail).batch(sent)
        if answer.status_code != 200:
            return Failure(Result.FAILED, detail, answer.status_code).batch(sent)
        try:
            data = answer.json().get("data")
        except (ValueError, AttributeError):
            data = None
        if not isinstance(data, list) or len(data) != len(sent):
            detail = "resend: HTTP 200 with an unreadable batch answer"
            return Failure(Result.UNKNOWN, detail, 200).batch(sent)
        return BatchResult(
            [
                MessageResult(
                    e.key, Result.SENT, item.get("id") if isinstance(item, dict) else None, 200
                )
                for e, item in zip(sent, data, strict=True)
            ]
        )

    def close(self) -> None:
        """Stop the calls' threads; the client belongs to the caller."""
        self.calls.close()
