"""Postmark: the batch endpoint, up to 500 messages a call.

Documentation (Postmark developer docs, "Email API" and "API error codes":
https://postmarkapp.com/developer/api/email-api,
https://postmarkapp.com/developer/api/overview#error-codes):

- Endpoint: ``POST {api}/email/batch`` with a JSON array of messages, at most 500 per call
  and 50 MB per call; ``{api}`` is ``https://api.postmarkapp.com``.
- Auth: header ``X-Postmark-Server-Token: <server token>``; ``Accept`` and
  ``Content-Type: application/json``.
- Each message: ``From``, ``To``, ``Subject``, ``HtmlBody``, ``TextBody``, ``Headers``
  (``[{"Name": ..., "Value": ...}]``), ``Tag``, ``Metadata`` and ``MessageStream``
  (newsletters go through a broadcast stream, by default ``broadcast``; sign-up
  confirmations through the default transactional stream ``outbound``).
- The answer to a batch is HTTP 200 even when messages were refused: one object per
  message, in order, with ``ErrorCode`` (0 = accepted), ``Message`` and ``MessageID``.
  Codes that concern the account or the sender (10 bad token, 400/401 sender signature,
  405 not allowed to send, 412 account pending, 413 account may not send, 1235 stream not
  found) stop the send without failing anybody; 406 (inactive recipient: Postmark
  suppressed the address after a hard bounce or a complaint) fails the delivery and
  suppresses the address here too; other codes fail the one message.
- A whole call refused: HTTP 422 with ``{"ErrorCode", "Message"}`` (read the same way),
  401 for a bad token, 429 rate limited, 500/503 Postmark's trouble.

Postmark has no raw-MIME endpoint and no per-recipient substitution outside its own
templates, so each reader's message is built from the variant's prepared fields
(:class:`~newsletter.providers.base.Content`, its placeholders filled with the reader's
links: string joins, no parsing) with its own headers; a single message without content (a
confirmation) is read from its bytes (:mod:`newsletter.providers.message`). Calls run
``concurrency`` at once (Postmark documents no concurrency limit; a batch is at most 50
MB). Postmark signs with the sender's domain: our DKIM signature is not applied.
"""

from __future__ import annotations

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

#: Messages per call (Postmark's batch limit).
MAX_BATCH = 500
#: Calls in flight at once by default: two batches of 500 (about 30 MB of JSON each for
#: an edition) keep the worker busy without holding more of them in memory.
DEFAULT_CONCURRENCY = 2
DEFAULT_API_URL = "https://api.postmarkapp.com"
#: ErrorCodes about the account or the sender: nobody's address is at fault.
ACCOUNT_CODES = {10, 400, 401, 405, 412, 413, 1235}
#: Postmark's default transactional stream (confirmations go there, not with the bulk).
TRANSACTIONAL_STREAM = "outbound"
#: ErrorCode for a recipient Postmark marked inactive (hard bounce, complaint).
INACTIVE_RECIPIENT = 406


class PostmarkProvider:
    """Sends through Postmark's batch API with ``client``; see the module notes."""

    name = "postmark"

    def __init__(
        self,
        client: httpx.Client,
        token: str,
        *,
        api_url: str = DEFAULT_API_URL,
        stream: str = "broadcast",
        policy: RetryPolicy | None = None,
        per_call: int = MAX_BATCH,
        concurrency: int = DEFAULT_CONCURRENCY,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.token, self.stream = token, stream
        self.url = f"{api_url.rstrip('/')}/email/batch"
        self.per_call = max(1, min(MAX_BATCH, per_call))
        self.calls = Calls(concurrency, self.name)
        self.batch_size = self.per_call * self.calls.concurrency
        extra: dict[str, Any] = {k: v for k, v in (("sleep", sleep), ("clock", clock)) if v}
        self.caller = HTTPCaller(client, self.name, policy, **extra)

    def stream_for(self, envelope: Envelope) -> str:
        """The broadcast stream for editions; Postmark's transactional stream
        (:data:`TRANSACTIONAL_STREAM`) for sign-up confirmations, which are not bulk mail."""
        return TRANSACTIONAL_STREAM if envelope.campaign == "confirmations" else self.stream

    def _message(self, envelope: Envelope) -> list[bytes]:
        """One message of the batch, as the UTF-8 pieces of its JSON (to join). An
        edition's message is written from its variant's pre-encoded parts (no encoding of the
        bodies per reader); a single message is read from its bytes."""
        fields = envelope.fields
        if fields is None:
            return [json.dumps(self._parsed(envelope), ensure_ascii=False).encode()]
        content, personal = fields
        text, html = content.fill_json(personal.values)
        head = {
            "From": display(content.sender_name, content.sender_address),
            "To": display(personal.name, envelope.recipient),
            "Subject": content.subject,
            "Headers": [{"Name": k, "Value": v} for k, v in envelope.headers().items()],
            "MessageStream": self.stream_for(envelope),
            "Tag": envelope.campaign,
            "Metadata": {"delivery_id": str(envelope.key)},
            "TrackOpens": False,
            "TrackLinks": "None",
        }
        parts = [json.dumps(head, ensure_ascii=False)[:-1].encode()]
        if html is not None:
            parts += [b',"HtmlBody":', *html]
        if text is not None:
            parts += [b',"TextBody":', *text]
        parts.append(b"}")
        return parts

    def _parsed(self, envelope: Envelope) -> dict[str, Any]:
        parsed = parse_message(envelope.data, envelope.recipient)
        message: dict[str, Any] = {
            "From": parsed.from_line,
            "To": parsed.to_line,
            "Subject": parsed.subject,
            "Headers": [{"Name": k, "Value": v} for k, v in parsed.headers.items()],
            "MessageStream": self.stream_for(envelope),
            "Tag": envelope.campaign,
            "Metadata": {"delivery_id": str(envelope.key)},
            "TrackOpens": False,
            "TrackLinks": "None",
        }
        if parsed.html is not None:
            message["HtmlBody"] = parsed.html
        if parsed.text is not None:
            message["TextBody"] = parsed.text
        return message

    def send(self, envelopes: Sequence[Envelope]) -> BatchResult:
        """Send ``envelopes`` in calls of at most :attr:`per_call`, :attr:`calls` in
        flight; one result each, in order."""
        calls = (
            (part, prepare_batch(part, self._message, MessageFormatError, json_array, self._call))
            for part in plan_calls(envelopes, self.per_call)
        )  # each body built in this thread while the previous calls are in flight
        return in_order(envelopes, self.calls.run(calls))

    def _call(self, body: bytes, sent: list[Envelope]) -> BatchResult:
        request = self.caller.client.build_request(
            "POST", self.url, content=body,
            headers={"Accept": "application/json", "Content-Type": "application/json",
                     "X-Postmark-Server-Token": self.token},
        )  # fmt: skip
        return self._read(self.caller.call(request), sent)

    def _read(self, answer: httpx.Response | Failure, sent: list[Envelope]) -> BatchResult:
        if isinstance(answer, Failure):
            return answer.batch(sent)
        if answer.status_code != 200:
            code = _error_code(answer)
            detail = f"postmark: {response_text(answer)}"
            if code in ACCOUNT_CODES:
                return Failure(Result.UNSENT, detail, answer.status_code, stop=detail).batch(sent)
            return Failure(Result.FAILED, detail, answer.status_code).batch(sent)
        try:
            items = answer.json()
        except ValueError:
            items = None
        if not isinstance(items, list) or len(items) != len(sent):
            # Accepted (200) but unreadable: the messages may have gone; never resend blindly.
            detail = "postmark: HTTP 200 with an unreadable batch answer"
            return Failure(Result.UNKNOWN, detail, 200).batch(sent)
        batch = BatchResult()
        for envelope, item in zip(sent, items, strict=True):
            code = int(item.get("ErrorCode", -1)) if isinstance(item, dict) else -1
            text = str(item.get("Message", "")) if isinstance(item, dict) else ""
            if code == 0:
                batch.results.append(
                    MessageResult(envelope.key, Result.SENT, item.get("MessageID"), 200)
                )
                continue
            detail = f"postmark: ErrorCode {code}: {text}"
            if code in ACCOUNT_CODES:
                batch.results.append(MessageResult(envelope.key, Result.UNSENT, detail=detail))
                batch.stop = batch.stop or detail
            else:
                batch.results.append(
                    MessageResult(
                        envelope.key,
                        Result.FAILED,
                        code=code,
                        detail=detail,
                        hard_bounce=code == INACTIVE_RECIPIENT,
                    )
                )
        return batch

    def close(self) -> None:
        """Stop the calls' threads; the client belongs to the caller."""
        self.calls.close()


def _error_code(response: httpx.Response) -> int | None:
    try:
        body = response.json()
    except ValueError:
        return None
    if isinstance(body, dict) and isinstance(body.get("ErrorCode"), int):
        return int(body["ErrorCode"])
    return None
