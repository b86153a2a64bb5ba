"""Amazon SES v2: ``SendEmail`` with raw content, signed with SigV4 by botocore.

Documentation (Amazon SES API v2 reference, "SendEmail", "Common errors"; AWS General
Reference, "Signature Version 4"; SES Developer Guide, "Service quotas":
https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_SendEmail.html):

- Endpoint: ``POST {endpoint}/v2/email/outbound-emails``; ``{endpoint}`` is
  ``https://email.{region}.amazonaws.com`` unless ``NEWSLETTER_SES_ENDPOINT_URL`` says
  otherwise (a VPC endpoint, or a local stand-in such as moto).
- Auth: AWS Signature Version 4 for the service ``ses`` in the region, computed by
  ``botocore.auth.SigV4Auth`` with the credentials of botocore's standard chain
  (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``/``AWS_SESSION_TOKEN``, a profile, a
  container or instance role), refreshed when they expire.
- Body: ``{"FromEmailAddress", "Destination": {"ToAddresses": [...]}, "Content": {"Raw":
  {"Data": <base64 of the MIME bytes>}}, "ConfigurationSetName", "EmailTags"}``: our
  personalised bytes go unchanged (headers, links, DKIM signature). One message per call
  (``SendBulkEmail`` needs an SES template); raw messages are at most 40 MB.
- Answer: ``200 {"MessageId": ...}``. Errors carry ``x-amzn-ErrorType`` and
  ``{"message": ...}``: 400 ``MessageRejected``/``BadRequestException`` (the message),
  400 ``AccountSuspendedException``/``SendingPausedException``/
  ``MailFromDomainNotVerifiedException`` (the account: the send stops),
  400 ``LimitExceededException`` (daily quota) and 429 ``TooManyRequestsException`` (rate:
  deferred), 403 (signature or credentials), 5xx.
- Quotas: a maximum send rate (messages per second) and a maximum per 24 hours per
  account and region; set ``NEWSLETTER_SEND_RATE`` and ``NEWSLETTER_DAILY_CAP`` to them.
  Calls run ``concurrency`` at once (8 by default: SES's rate quota starts at 14 messages
  a second in production, and a call takes tens of milliseconds); the send rate paces
  them, and a throttled call (``TooManyRequestsException``) defers the rest of the batch.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from typing import Any

import httpx
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from newsletter.providers.base import BatchResult, Envelope, MessageResult, Result
from newsletter.providers.http import (
    Calls,
    Failure,
    HTTPCaller,
    RetryPolicy,
    response_text,
    send_one_by_one,
)

#: Error types about the account or its sender identity: nobody's address is at fault.
ACCOUNT_ERRORS = {
    "AccountSuspendedException",
    "SendingPausedException",
    "MailFromDomainNotVerifiedException",
}
#: Calls in flight at once by default (see the module notes).
DEFAULT_CONCURRENCY = 8
#: Error types that say "not now".
LATER_ERRORS = {"LimitExceededException", "TooManyRequestsException", "ThrottlingException"}


def default_endpoint(region: str) -> str:
    """SES's public endpoint of ``region``."""
    return f"https://email.{region}.amazonaws.com"


class SESProvider:
    """Sends our MIME bytes through SES v2 ``SendEmail``; see the module notes.

    ``credentials`` are botocore credentials (refreshable or not); ``region`` the AWS
    region whose endpoint, quotas and signing scope apply.
    """

    name = "ses"

    def __init__(
        self,
        client: httpx.Client,
        credentials: Credentials,
        region: str,
        *,
        endpoint_url: str | None = None,
        configuration_set: str | None = None,
        policy: RetryPolicy | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.credentials, self.region = credentials, region
        endpoint = (endpoint_url or default_endpoint(region)).rstrip("/")
        self.url = f"{endpoint}/v2/email/outbound-emails"
        self.configuration_set = configuration_set
        self.calls = Calls(concurrency, self.name)
        self.batch_size = self.calls.concurrency  # one message a call
        extra: dict[str, Any] = {k: v for k, v in (("sleep", sleep), ("clock", clock)) if v}
        self.caller = HTTPCaller(client, self.name, policy, **extra)

    def request(self, envelope: Envelope) -> httpx.Request:
        """The signed ``SendEmail`` request for ``envelope``."""
        body: dict[str, Any] = {
            "FromEmailAddress": envelope.sender,
            "Destination": {"ToAddresses": [envelope.recipient]},
            "Content": {"Raw": {"Data": base64.b64encode(envelope.data).decode("ascii")}},
            # Tags come back in SES's event notifications (bounces, complaints).
            "EmailTags": [
                {"Name": "campaign", "Value": envelope.campaign},
                {"Name": "delivery_id", "Value": str(envelope.key)},
            ],
        }
        if self.configuration_set:
            body["ConfigurationSetName"] = self.configuration_set
        data = json.dumps(body).encode("utf-8")
        signed = AWSRequest(
            method="POST", url=self.url, data=data, headers={"Content-Type": "application/json"}
        )
        SigV4Auth(self.credentials.get_frozen_credentials(), "ses", self.region).add_auth(signed)
        return self.caller.client.build_request(
            "POST", self.url, content=data, headers=dict(signed.headers.items())
        )

    def send(self, envelopes: Sequence[Envelope]) -> BatchResult:
        """One call per envelope, :attr:`calls` in flight. After a call that stops the
        send, leaves its message uncertain or is deferred, the calls not yet started are
        ``unsent`` (see :func:`send_one_by_one`); one result per envelope, in order."""
        if self.calls.concurrency == 1:
            return send_one_by_one(envelopes, self._one)
        calls = [([e], lambda e=e: send_one_by_one([e], self._one)) for e in envelopes]
        return self.calls.run(calls, halt=_halts)

    def _one(self, envelope: Envelope) -> MessageResult | Failure:
        answer = self.caller.call(self.request(envelope))
        if isinstance(answer, Failure):
            return answer
        if answer.status_code == 200:
            try:
                message_id = answer.json().get("MessageId")
            except (ValueError, AttributeError):
                message_id = None
            return MessageResult(envelope.key, Result.SENT, message_id, 200)
        kind = error_type(answer)
        detail = f"ses: {kind + ': ' if kind else ''}{response_text(answer)}"
        if kind in ACCOUNT_ERRORS:
            return Failure(Result.UNSENT, detail, answer.status_code, stop=detail)
        if kind in LATER_ERRORS:
            return Failure(Result.DEFERRED, detail, answer.status_code)
        return MessageResult(envelope.key, Result.FAILED, code=answer.status_code, detail=detail)

    def close(self) -> None:
        """Stop the calls' threads; the client belongs to the caller."""
        self.calls.close()


def _halts(answer: BatchResult) -> bool:
    """A call after which no other may start: the send stops, or SES said "not now", or
    the answer was lost."""
    return answer.stop is not None or any(
        r.result in (Result.DEFERRED, Result.UNKNOWN) for r in answer.results
    )


def error_type(response: httpx.Response) -> str | None:
    """The AWS error code of a response: ``x-amzn-ErrorType`` (``Name:namespace``), a JSON
    ``__type``/``code``, or an XML ``<Code>``."""
    header = response.headers.get("x-amzn-ErrorType")
    if header:
        return header.split(":", 1)[0].strip() or None
    try:
        body = response.json()
    except (ValueError, UnicodeDecodeError):
        body = None
    if isinstance(body, dict):
        for key in ("__type", "code", "Code"):
            code = body.get(key)
            if isinstance(code, str):
                return code.rsplit("#", 1)[-1]
    text = response.text
    start = text.find("<Code>")
    if start != -1:
        end = text.find("</Code>", start)
        if end != -1:
            return text[start + 6 : end].strip() or None
    return None
