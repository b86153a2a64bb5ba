"""Mailgun: batch sending, up to 1,000 recipients a call, each reader's values filled in by
Mailgun from ``recipient-variables``.

Documentation (Mailgun API reference, "Messages": "Send an email", "Send an email in MIME
format"; user manual, "Batch sending", "Recipient variables"; "Authentication"; "Rate
limits": https://documentation.mailgun.com/docs/mailgun/user-manual/sending-messages/
batch-sending):

- Endpoint: ``POST {api}/v3/{domain}/messages`` as ``multipart/form-data``: ``from``,
  ``to`` once per recipient (at most 1,000 a call), ``subject``, ``text``, ``html``,
  ``h:<Header>`` extra headers, ``o:tag``, ``o:tracking``, ``v:<name>`` custom variables
  (they come back in webhooks) and ``recipient-variables``: a JSON object keyed by each
  ``to`` address. With it Mailgun sends each recipient a message of its own, with
  ``%recipient.<key>%`` replaced by that recipient's value in the bodies, the headers and
  the variables. ``{api}`` is ``https://api.mailgun.net`` (``https://api.eu.mailgun.net``
  for EU domains).
- A single message (a confirmation, an editor's test) has no variant to share: it goes
  whole, our MIME bytes, to ``POST {api}/v3/{domain}/messages.mime`` with ``to`` and the
  file field ``message``.
- Auth: HTTP basic auth with the user ``api`` and the API key as the password.
- Answer: ``200 {"id": "<message id>", "message": "Queued. Thank you."}`` (one id for the
  whole call); errors are ``{"message": ...}`` with 400 (bad request), 401 (bad key),
  403/404 (domain), 429 (rate limited; ``X-RateLimit-*`` headers), 5xx.

Each reader keeps their own ``To`` (with their display name), Message-ID, List-Unsubscribe
(RFC 2369) with the one-click header (RFC 8058), and signed links: all are recipient
variables. Mailgun signs with the domain's DKIM key: our own DKIM signature is not applied
to a message Mailgun builds (it still is to the single messages sent as MIME).
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Callable, Sequence
from html import escape
from typing import Any

import httpx

from newsletter.providers.base import (
    ONE_CLICK,
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
    display,
    in_order,
    plan_calls,
    response_text,
)

#: Recipients per call with recipient-variables (Mailgun's batch limit).
MAX_RECIPIENTS = 1000
#: Calls in flight at once by default. Mailgun documents no concurrency limit, only rate
#: limits per account answered with 429 (which each call honours); four calls of 1,000
#: keep a worker's CPU, not the network, the limit.
DEFAULT_CONCURRENCY = 4
DEFAULT_API_URL = "https://api.mailgun.net"


def _key(name: str, in_html: bool) -> str:
    return f"%recipient.{'html_' if in_html else ''}{name}%"


class MultipartForm:
    """A ``multipart/form-data`` body (RFC 7578) written by hand: repeated fields (``to``)
    in order, UTF-8 values as they are, one join for the whole body."""

    def __init__(self) -> None:
        self.boundary = f"nl-{secrets.token_hex(16)}"
        self._parts: list[bytes] = []

    def add(self, name: str, value: str) -> None:
        """Append the field ``name`` (ASCII) with ``value``."""
        self._parts.append(
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            + value.encode("utf-8")
            + b"\r\n"
        )

    def body(self) -> bytes:
        """The complete body."""
        return b"".join(self._parts) + f"--{self.boundary}--\r\n".encode()

    @property
    def content_type(self) -> str:
        """The ``Content-Type`` header's value."""
        return f"multipart/form-data; boundary={self.boundary}"


class MailgunProvider:
    """Sends through Mailgun's batch sending (see the module notes); ``per_call``
    recipients a call (at most 1,000), ``concurrency`` calls in flight."""

    name = "mailgun"

    def __init__(
        self,
        client: httpx.Client,
        api_key: str,
        domain: str,
        *,
        api_url: str = DEFAULT_API_URL,
        policy: RetryPolicy | None = None,
        per_call: int = MAX_RECIPIENTS,
        concurrency: int = DEFAULT_CONCURRENCY,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        base = f"{api_url.rstrip('/')}/v3/{domain}"
        self.url, self.mime_url = f"{base}/messages", f"{base}/messages.mime"
        token = base64.b64encode(f"api:{api_key}".encode()).decode("ascii")
        self.authorization = f"Basic {token}"
        self.per_call = max(1, min(MAX_RECIPIENTS, per_call))
        self.calls = Calls(concurrency, self.name)
        self.batch_size = self.per_call * self.calls.concurrency
        extra: dict[str, Any] = {k: v for k, v in (("sleep", sleep), ("clock", clock)) if v}
        self.caller = HTTPCaller(client, self.name, policy, **extra)
        self._bodies: dict[Content, tuple[str | None, str | None]] = {}

    def send(self, envelopes: Sequence[Envelope]) -> BatchResult:
        """One call per (variant, up to :attr:`per_call` readers), or per single message;
        one result per envelope, in order."""
        calls = []
        for part in plan_calls(envelopes, self.per_call, one_per_address=True):
            if part[0].fields is None:
                calls += [([e], lambda e=e: self._mime(e)) for e in part]
            else:
                calls.append((part, lambda part=part: self._batch(part)))
        return in_order(envelopes, self.calls.run(calls))

    def form(self, envelopes: Sequence[Envelope]) -> MultipartForm:
        """The batch-sending form for ``envelopes`` (one content, distinct addresses)."""
        content = envelopes[0].content
        assert content is not None
        bodies = self._bodies.get(content)
        if bodies is None:
            bodies = self._bodies[content] = content.keyed(_key)
        form = MultipartForm()
        form.add("from", display(content.sender_name, content.sender_address))
        variables: dict[str, dict[str, str]] = {}
        fields = content.fields
        for envelope in envelopes:
            fields_of = envelope.fields
            assert fields_of is not None
            personal = fields_of[1]
            form.add("to", display(personal.name, envelope.recipient))
            values = {name: personal.values[name] for name in fields}
            values.update({f"html_{k}": escape(v, quote=True) for k, v in values.items()})
            values["message_id"] = envelope.message_id
            values["list_unsubscribe"] = personal.list_unsubscribe
            values["delivery_id"] = str(envelope.key)
            variables[envelope.recipient] = values
        form.add("subject", content.subject)
        text, html = bodies
        if text is not None:
            form.add("text", text)
        if html is not None:
            form.add("html", html)
        form.add("h:Message-Id", "%recipient.message_id%")
        form.add("h:List-Unsubscribe", "%recipient.list_unsubscribe%")
        form.add(f"h:{ONE_CLICK[0]}", ONE_CLICK[1])
        for name, value in content.headers:
            form.add(f"h:{name}", value)
        form.add("o:tag", envelopes[0].campaign)
        form.add("o:tracking", "no")  # our signed links must reach the reader unchanged
        form.add("v:delivery_id", "%recipient.delivery_id%")
        form.add("recipient-variables", json.dumps(variables, ensure_ascii=False))
        return form

    def _batch(self, envelopes: Sequence[Envelope]) -> BatchResult:
        form = self.form(envelopes)
        request = self.caller.client.build_request(
            "POST", self.url, content=form.body(),
            headers={"Authorization": self.authorization, "Content-Type": form.content_type},
        )  # fmt: skip
        return self._read(self.caller.call(request), envelopes)

    def _mime(self, envelope: Envelope) -> BatchResult:
        request = self.caller.client.build_request(
            "POST",
            self.mime_url,
            data={
                "to": envelope.recipient,
                "o:tag": envelope.campaign,
                "v:delivery_id": str(envelope.key),
            },
            files={"message": ("message.mime", envelope.data, "message/rfc822")},
            headers={"Authorization": self.authorization},
        )
        return self._read(self.caller.call(request), [envelope])

    def _read(self, answer: httpx.Response | Failure, envelopes: Sequence[Envelope]) -> BatchResult:
        if isinstance(answer, Failure):
            return answer.batch(envelopes)
        if answer.status_code == 200:
            try:
                body = answer.json()
            except ValueError:
                body = {}
            message_id = body.get("id") if isinstance(body, dict) else None
            return BatchResult(
                [MessageResult(e.key, Result.SENT, message_id, 200) for e in envelopes]
            )
        detail = f"mailgun: {response_text(answer)}"
        return Failure(Result.FAILED, detail, answer.status_code).batch(envelopes)

    def close(self) -> None:
        """Stop the calls' threads; the client belongs to the caller."""
        self.calls.close()
