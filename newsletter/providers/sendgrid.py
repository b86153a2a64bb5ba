"""SendGrid: the v3 Mail Send API, up to 1,000 personalizations a call, each reader's values
filled in by SendGrid from the personalization's ``substitutions``.

Documentation (Twilio SendGrid docs, "Mail Send" v3 API reference, "Personalizations",
"Mail Send errors", "Rate limits":
https://www.twilio.com/docs/sendgrid/api-reference/mail-send/mail-send,
https://www.twilio.com/docs/sendgrid/for-developers/sending-email/personalizations):

- Endpoint: ``POST {api}/v3/mail/send``; ``{api}`` is ``https://api.sendgrid.com``
  (``https://api.eu.sendgrid.com`` for EU-pinned subusers).
- Auth: ``Authorization: Bearer <API key>``; ``Content-Type: application/json``.
- Body: ``personalizations`` (1 to 1,000 per request, at most 1,000 recipients in all;
  each one email "like an envelope": its ``to``, its own ``headers``, ``substitutions``
  (at most 10,000 bytes per personalization, replaced in the content and the subject) and
  ``custom_args``), ``from``, ``subject``, ``content`` (``text/plain`` first, then
  ``text/html``), ``categories``, ``tracking_settings``.
- Answer: ``202 Accepted`` with an empty body and the ``X-Message-Id`` header (one for the
  request); errors are ``{"errors": [{"message", "field", "help"}]}`` with 400 (invalid
  request; ``field`` names the personalization, e.g. ``personalizations.3.to``), 401/403
  (key or sender refused), 413 (payload too large), 429 (rate limited; ``X-RateLimit-*``
  headers), 5xx.

One request per variant and up to 1,000 readers: the content (with substitution keys)
once, and per reader a personalization with their ``to`` (and display name), their
Message-ID, List-Unsubscribe and one-click headers, and their links as substitutions. A
400 that names personalizations fails those readers alone; the others go again at once.
SendGrid signs with the account's domain: our DKIM signature is not applied.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from html import escape
from typing import Any

import httpx

from newsletter.providers.base import (
    BatchResult,
    Content,
    Envelope,
    MessageResult,
    Result,
)
from newsletter.providers.http import (
    Calls,
    Failure,
    HTTPCaller,
    RetryPolicy,
    in_order,
    plan_calls,
    response_text,
)
from newsletter.providers.message import MessageFormatError, parse_message

#: Personalizations (and recipients) per request (SendGrid's limit).
MAX_PERSONALIZATIONS = 1000
#: Calls in flight at once by default. SendGrid documents no concurrency limit for Mail
#: Send (its rate limit answers 429 with ``X-RateLimit-Reset``, which each call honours).
DEFAULT_CONCURRENCY = 4
DEFAULT_API_URL = "https://api.sendgrid.com"
#: Headers SendGrid does not let a request set (Mail Send reference, "headers"); none of
#: ours is among them (Message-ID, List-* and Feedback-ID are allowed).
RESERVED_HEADERS = frozenset(
    {"x-sg-id", "x-sg-eid", "received", "dkim-signature", "content-type",
     "content-transfer-encoding", "to", "from", "subject", "reply-to", "cc", "bcc"}
)  # fmt: skip
#: Rounds of "fail the refused personalizations, send the others again" per call.
_REFUSAL_ROUNDS = 3
_PERSONALIZATION = re.compile(r"personalizations\.(\d+)")


class SendGridProvider:
    """Sends through SendGrid's v3 Mail Send API with ``client``; see the module notes."""

    name = "sendgrid"

    def __init__(
        self,
        client: httpx.Client,
        api_key: str,
        *,
        api_url: str = DEFAULT_API_URL,
        policy: RetryPolicy | None = None,
        per_call: int = MAX_PERSONALIZATIONS,
        concurrency: int = DEFAULT_CONCURRENCY,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.api_key = api_key
        self.url = f"{api_url.rstrip('/')}/v3/mail/send"
        self.per_call = max(1, min(MAX_PERSONALIZATIONS, per_call))
        self.calls = Calls(concurrency, self.name)
        self.batch_size = self.per_call * self.calls.concurrency
        extra: dict[str, Any] = {k: v for k, v in (("sleep", sleep), ("clock", clock)) if v}
        self.caller = HTTPCaller(client, self.name, policy, **extra)
        self._shared: dict[Content, dict[str, Any]] = {}

    def _common(self, content: Content) -> dict[str, Any]:
        """The request's shared part for ``content`` (built once per variant)."""
        common = self._shared.get(content)
        if common is None:
            token = content.token

            def key(name: str, in_html: bool) -> str:
                return f"%{token}.{'html.' if in_html else ''}{name}%"

            text, html = content.keyed(key)
            body: list[dict[str, str]] = []
            if text is not None:
                body.append({"type": "text/plain", "value": text})
            if html is not None:
                body.append({"type": "text/html", "value": html})
            sender = {"email": content.sender_address}
            if content.sender_name:
                sender["name"] = content.sender_name
            common = self._shared[content] = {
                "from": sender,
                "subject": content.subject,
                "content": body,
                "tracking_settings": {
                    "click_tracking": {"enable": False},
                    "open_tracking": {"enable": False},
                },
            }
        return common

    def payload(self, envelopes: Sequence[Envelope]) -> dict[str, Any]:
        """The Mail Send JSON body for ``envelopes`` (one content), or for one single
        message without content (parsed from its bytes). Raises
        :class:`~newsletter.providers.message.MessageFormatError` for a single message
        the API cannot carry."""
        first = envelopes[0]
        if first.content is None or first.personal is None:
            return self._single(first)
        content = first.content
        token = content.token
        fields = content.fields
        personalizations = []
        for envelope in envelopes:
            personal = envelope.personal
            assert personal is not None
            to = {"email": envelope.recipient}
            if personal.name:
                to["name"] = personal.name
            substitutions = {}
            for name in fields:  # by name: a value may be made on demand (reader)
                value = personal.values[name]
                substitutions[f"%{token}.{name}%"] = value
                substitutions[f"%{token}.html.{name}%"] = escape(value, quote=True)
            headers = envelope.headers()
            personalizations.append(
                {
                    "to": [to],
                    "headers": headers,
                    "substitutions": substitutions,
                    "custom_args": {"delivery_id": str(envelope.key)},
                }
            )
        return {
            "personalizations": personalizations,
            **self._common(content),
            "categories": [first.campaign],
        }

    def _single(self, envelope: Envelope) -> dict[str, Any]:
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
                {"to": [to], "headers": headers, "custom_args": {"delivery_id": str(envelope.key)}}
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
        """One request per variant and up to :attr:`per_call` readers (a single message
        alone), :attr:`calls` in flight; one result per envelope, in order."""
        calls = []
        for part in plan_calls(envelopes, self.per_call, one_per_address=True):
            if part[0].fields is None:
                calls += [([e], lambda e=e: self._call([e])) for e in part]
            else:
                calls.append((part, lambda part=part: self._call(part)))
        return in_order(envelopes, self.calls.run(calls))

    def _call(self, envelopes: Sequence[Envelope]) -> BatchResult:
        done: list[MessageResult] = []
        rest = list(envelopes)
        for _ in range(_REFUSAL_ROUNDS):
            try:
                body = self.payload(rest)
            except MessageFormatError as exc:
                return BatchResult(
                    [MessageResult(e.key, Result.FAILED, detail=str(exc)) for e in rest]
                )
            request = self.caller.client.build_request(
                "POST", self.url, content=json.dumps(body, ensure_ascii=False).encode(),
                headers={"Authorization": f"Bearer {self.api_key}",
                         "Content-Type": "application/json"},
            )  # fmt: skip
            answer = self.caller.call(request)
            if isinstance(answer, Failure):
                return BatchResult(done + answer.batch(rest).results, stop=answer.stop)
            if answer.status_code in (200, 202):
                message_id = answer.headers.get("X-Message-Id")
                done += [
                    MessageResult(e.key, Result.SENT, message_id, answer.status_code) for e in rest
                ]
                return BatchResult(done)
            detail = f"sendgrid: {response_text(answer)}"
            refused = _refused(answer, len(rest))
            if answer.status_code != 400 or not refused or len(refused) == len(rest):
                return BatchResult(
                    done + Failure(Result.FAILED, detail, answer.status_code).batch(rest).results
                )
            # Only some readers were refused (an invalid address): fail them, send the rest.
            done += [
                MessageResult(rest[i].key, Result.FAILED, code=400, detail=detail)
                for i in sorted(refused)
            ]
            rest = [e for i, e in enumerate(rest) if i not in refused]
        return BatchResult(done + [MessageResult(e.key, Result.DEFERRED) for e in rest])

    def close(self) -> None:
        """Stop the calls' threads; the client belongs to the caller."""
        self.calls.close()


def _refused(answer: httpx.Response, count: int) -> set[int]:
    """The personalizations a 400 names (``errors[].field``), or an empty set when one of
    its errors concerns the whole request."""
    try:
        errors = answer.json().get("errors")
    except (ValueError, AttributeError):
        return set()
    refused: set[int] = set()
    for error in errors if isinstance(errors, list) else []:
        match = (
            _PERSONALIZATION.match(str(error.get("field") or ""))
            if isinstance(error, dict)
            else None
        )
        if match is None or int(match[1]) >= count:
            return set()
        refused.add(int(match[1]))
    return refused
