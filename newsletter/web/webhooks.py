"""``POST /webhooks/{provider}``: bounces, complaints, unsubscribes and deliveries reported by
``postmark``, ``sendgrid``, ``mailgun``, ``ses`` (through SNS) and ``resend``.

Every request is verified before anything is read into the store (see each
``newsletter.feedback.webhooks`` module for the provider's scheme and its documentation):

- a provider without its secret configured answers 404 (nothing is ever accepted unsigned);
- no, a wrong or a stale signature or credentials: 401; a replayed Mailgun token or an SNS
  message from another topic: 403;
- a body that is not the provider's format: 400; too large: 413;
- otherwise 200 with ``{"events": N, "applied": A, "duplicates": D}``. Events are applied
  through :func:`newsletter.feedback.apply.apply_events`, once each: a provider's retry changes
  nothing. A database failure answers 500 so that the provider retries later.

Bodies are capped at 64 KB by the app's middleware, except SendGrid's batches (up to 768 KB
by SendGrid's documentation: 1 MiB here) and SNS messages (SNS allows 256 KB messages, which
JSON escaping in the envelope can nearly double: 512 KiB here); see :data:`BODY_LIMITS`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import httpx
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from newsletter.config.secrets import sendgrid_public_key, svix_secret
from newsletter.feedback.apply import apply_events
from newsletter.feedback.webhooks import (
    Event,
    Forbidden,
    Malformed,
    WebhookError,
    mailgun,
    postmark,
    resend,
    sendgrid,
    ses,
    sns,
)
from newsletter.feedback.webhooks.signing import SeenTokens, json_body
from newsletter.wiring import App

LOG = logging.getLogger("newsletter.webhooks")
PROVIDERS = ("postmark", "sendgrid", "mailgun", "ses", "resend")
#: Request-body limits (bytes) above the app's 64 KB, by path (see the module docstring).
BODY_LIMITS = {"/webhooks/sendgrid": sendgrid.MAX_BODY, "/webhooks/ses": 512 * 1024}
#: A provider's verified events, and what to do once they are applied (or None).
Parsed = tuple[list[Event], Callable[[], None] | None]
#: Seconds we wait for SNS (certificate download, subscription confirmation).
SNS_TIMEOUT = 10.0


class ConfirmationFailed(WebhookError):
    """SNS did not accept our confirmation GET (502: SNS may send the request again)."""

    status_code = 502


class Webhooks:
    """The webhook endpoint of ``application``.

    ``fetch_certificate`` (URL -> PEM bytes) and ``http`` (the client that confirms SNS
    subscriptions) default to a real ``httpx.Client``; tests inject their own. ``clock``
    returns Unix seconds (signature freshness).
    """

    def __init__(
        self, application: App, *, fetch_certificate: sns.Fetcher | None = None,
        http: httpx.Client | None = None, clock: Callable[[], float] = time.time,
    ) -> None:  # fmt: skip
        self.application = application
        self.settings = application.settings
        self.clock = clock
        self._http = http
        self.sns = sns.Verifier(fetch_certificate or self._fetch)
        self.seen = SeenTokens(ttl=self.settings.webhook_tolerance * 2)
        self._sendgrid_public: Any = None

    @property
    def http(self) -> httpx.Client:
        """The client for SNS requests (created on first use)."""
        if self._http is None:
            self._http = httpx.Client(timeout=SNS_TIMEOUT)
        return self._http

    def _fetch(self, url: str) -> bytes:
        return sns.http_fetcher(self.http)(url)

    def routes(self) -> list[Route]:
        """The Starlette routes to add to the app."""
        return [Route("/webhooks/{provider}", self.receive, methods=["POST"])]

    def configured(self, provider: str) -> bool:
        """Whether ``provider`` has its secret set (otherwise its endpoint does not exist)."""
        s = self.settings
        return {
            "postmark": s.postmark_webhook_user is not None,
            "sendgrid": s.sendgrid_webhook_public_key is not None,
            "mailgun": s.mailgun_webhook_key is not None,
            "ses": s.ses_sns_topic_arn is not None,
            "resend": s.resend_webhook_secret is not None,
        }.get(provider, False)

    async def receive(self, request: Request) -> Response:
        """POST /webhooks/{provider}: verify, parse, apply (see the module docstring)."""
        provider = request.path_params["provider"]
        if provider not in PROVIDERS or not self.configured(provider):
            return JSONResponse({"error": "no such webhook"}, status_code=404)
        body = await request.body()
        try:
            answer = await run_in_threadpool(self.handle, provider, body, request.headers)
        except WebhookError as exc:
            LOG.warning("webhook %s refused (%d): %s", provider, exc.status_code, exc)
            headers = {"WWW-Authenticate": 'Basic realm="webhooks"'} if (
                provider == "postmark" and exc.status_code == 401
            ) else None  # fmt: skip
            return JSONResponse({"error": str(exc)}, status_code=exc.status_code, headers=headers)
        return JSONResponse(answer)

    def handle(self, provider: str, body: bytes, headers: Any) -> dict[str, Any]:
        """Verify and apply one request of ``provider`` (blocking: runs in a thread).

        ``headers``: the request's case-insensitive headers. Returns the JSON answer; raises
        :class:`~newsletter.feedback.webhooks.WebhookError` (nothing applied then).
        """
        parse = {"mailgun": self._mailgun, "sendgrid": self._sendgrid, "postmark": self._postmark,
                 "resend": self._resend, "ses": self._ses}[provider]  # fmt: skip
        events, applied = parse(body, headers)
        results = apply_events(
            self.application.sessions, events, soft_bounce_limit=self.settings.soft_bounce_limit
        )
        if applied is not None:
            applied()
        duplicates = sum(1 for r in results if r.duplicate)
        return {"events": len(events), "applied": len(events) - duplicates,
                "duplicates": duplicates}  # fmt: skip

    # Each provider: (events, what to do once they are applied) or a WebhookError.
    def _mailgun(self, body: bytes, headers: Any) -> Parsed:
        key = self.settings.mailgun_webhook_key
        assert key is not None
        payload = mailgun.verify(
            body, key.get_secret_value(), now=self.clock(),
            tolerance=self.settings.webhook_tolerance, seen=self.seen,
        )  # fmt: skip
        token = str(payload["signature"]["token"])
        return mailgun.events(payload), lambda: self.seen.add(token)  # single-use once applied

    def _sendgrid(self, body: bytes, headers: Any) -> Parsed:
        payload = sendgrid.verify(
            body, headers, self._sendgrid_key(), now=self.clock(),
            tolerance=self.settings.webhook_tolerance,
        )  # fmt: skip
        return sendgrid.events(payload), None

    def _postmark(self, body: bytes, headers: Any) -> Parsed:
        user = self.settings.postmark_webhook_user
        password = self.settings.postmark_webhook_password
        assert user is not None and password is not None
        postmark.verify(headers.get("authorization"), user, password.get_secret_value())
        return postmark.events(body), None

    def _resend(self, body: bytes, headers: Any) -> Parsed:
        secret = self.settings.resend_webhook_secret
        assert secret is not None
        message_id, payload = resend.verify(
            body, headers, svix_secret(secret.get_secret_value()), now=self.clock(),
            tolerance=self.settings.webhook_tolerance,
        )  # fmt: skip
        return resend.events(message_id, payload), None

    def _sendgrid_key(self) -> Any:
        """SendGrid's public key, parsed once (the setting was validated at load)."""
        if self._sendgrid_public is None:
            assert self.settings.sendgrid_webhook_public_key is not None
            self._sendgrid_public = sendgrid_public_key(self.settings.sendgrid_webhook_public_key)
        return self._sendgrid_public

    def _ses(self, body: bytes, headers: Any) -> Parsed:
        """Verify an SNS message; confirm a subscription (no events) or parse SES events."""
        message = json_body(body)
        if not isinstance(message, dict):
            raise Malformed("expected an SNS message object")
        if message.get("TopicArn") != self.settings.ses_sns_topic_arn:
            raise Forbidden("this SNS topic is not NEWSLETTER_SES_SNS_TOPIC_ARN")
        self.sns.verify(message)
        kind = message["Type"]
        if kind == "SubscriptionConfirmation":
            try:
                sns.confirm_subscription(message, self.http)
            except httpx.HTTPError as exc:
                raise ConfirmationFailed(f"SNS did not confirm the subscription: {exc}") from None
            LOG.info("SNS subscription to %s confirmed", message["TopicArn"])
            return [], None
        if kind == "UnsubscribeConfirmation":
            LOG.warning("SNS says %s was unsubscribed from this endpoint", message["TopicArn"])
            return [], None
        return ses.events(message["Message"], message["MessageId"]), None
