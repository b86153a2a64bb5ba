"""Settings of sending: the provider, batching and pace, SMTP, the HTTP mail providers
(Postmark, SendGrid, Mailgun, Resend, Amazon SES) and the limits that pause, defer or fail
a send over to a second provider."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, field_validator

from newsletter.config.checks import http_url, token

#: The mail providers ``NEWSLETTER_PROVIDER`` and ``NEWSLETTER_FAILOVER_PROVIDER`` name.
Provider = Literal["file", "smtp", "postmark", "sendgrid", "mailgun", "ses", "resend"]


class DeliverySettings(BaseModel):
    """How messages leave: the provider (``file`` writes ``.eml`` files to the outbox),
    messages per batch and per commit, the rate (messages per second, 0: no limit), SMTP's
    server, connections (4; fewer when the server refuses more), credentials, security and
    timeout (seconds), each HTTP provider's credentials and
    API URL, and the limits: seconds per HTTP call phase, attempts, the longest Retry-After,
    a daily cap, errors in a row before a pause, the failover provider and its cooldown."""

    provider: Provider = "file"
    outbox_dir: Path | None = None
    send_batch_size: int | None = Field(
        None,
        ge=1,
        le=10_000,
        description="Deliveries a worker claims at once; default 50, or what the provider "
        "takes at once when more (an HTTP batch API: per call x calls in flight).",
    )
    send_commit_size: int = Field(
        0,
        ge=0,
        le=1_000,
        description="Messages marked 'sending' per commit, rounded up to whole provider calls. "
        "0 (the default): one provider call per commit (one message for SMTP, one request for "
        "an HTTP batch API), so that a crash leaves at most one call per connection uncertain; "
        "a provider that settles its uncertain messages after a crash (the file outbox) then "
        "commits one claim at a time. A larger value trades that doubt for fewer commits.",
    )
    retry_hours: float = Field(
        24.0,
        gt=0,
        le=24 * 30,
        description="Hours after its first attempt a deferred message is given up (failed, with "
        "the last deferral's reason); its last retry falls on that deadline.",
    )
    send_rate: float = Field(0, ge=0, le=100_000)
    smtp_connections: int = Field(
        4, ge=1, le=32,
        description="SMTP connections (sending threads) per process; a server that refuses "
        "more is sent to over those it accepted.",
    )  # fmt: skip
    smtp_host: str = "localhost"
    smtp_port: int | None = Field(None, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_security: Literal["none", "starttls", "ssl"] = "none"
    smtp_timeout: float = Field(30.0, gt=0, le=600)

    # --- HTTP mail providers and their limits --------------------------------------------
    postmark_token: SecretStr | None = Field(None, description="Postmark server API token.")
    postmark_api_url: str = Field("https://api.postmarkapp.com", description="Postmark API.")
    postmark_stream: str = Field("broadcast", description="Postmark message stream (bulk).")
    sendgrid_api_key: SecretStr | None = Field(None, description="SendGrid API key.")
    sendgrid_api_url: str = Field("https://api.sendgrid.com", description="SendGrid API.")
    mailgun_api_key: SecretStr | None = Field(None, description="Mailgun API key.")
    mailgun_domain: str | None = Field(None, description="Mailgun sending domain.")
    mailgun_api_url: str = Field(
        "https://api.mailgun.net", description="Mailgun API (https://api.eu.mailgun.net: EU)."
    )
    resend_api_key: SecretStr | None = Field(None, description="Resend API key.")
    resend_api_url: str = Field("https://api.resend.com", description="Resend API.")
    ses_endpoint_url: str | None = Field(
        None, description="SES v2 endpoint; default https://email.<AWS_REGION>.amazonaws.com."
    )
    ses_configuration_set: str | None = Field(
        None, description="SES configuration set (event publishing for bounces/complaints)."
    )
    http_timeout: float = Field(30.0, gt=0, le=600, description="Seconds per HTTP call phase.")
    http_attempts: int = Field(4, ge=1, le=20, description="Calls per batch before deferring.")
    http_concurrency: int | None = Field(
        None, ge=1, le=64,
        description="HTTP provider calls in flight at once; default from the provider's "
        "documented limits (Mailgun, SendGrid 4, Postmark, Resend 2, SES 8).",
    )  # fmt: skip
    retry_after_max: float = Field(
        60.0, ge=0, le=3600,
        description="Longest Retry-After (seconds) waited for; a longer one defers the batch.",
    )  # fmt: skip
    daily_cap: int = Field(
        0, ge=0, le=100_000_000,
        description="Messages accepted per 24 hours at most (0: no cap), e.g. SES's quota.",
    )  # fmt: skip
    pause_after_errors: int = Field(
        100, ge=0, le=1_000_000,
        description="Pause the edition's send after this many messages in a row deferred or "
        "refused by the provider (0: never).",
    )  # fmt: skip
    failover_provider: Provider | None = Field(
        None, description="A second provider for what the first defers or cannot take."
    )
    failover_cooldown: float = Field(
        300.0, ge=0, le=86_400,
        description="Seconds the first provider is skipped after it failed a batch over.",
    )  # fmt: skip

    @field_validator(
        "postmark_api_url", "sendgrid_api_url", "mailgun_api_url", "resend_api_url",
        "ses_endpoint_url",
    )  # fmt: skip
    @classmethod
    def _check_api_url(cls, value: str | None) -> str | None:
        return None if value is None else http_url(value)

    @field_validator("mailgun_domain", "postmark_stream", "ses_configuration_set")
    @classmethod
    def _check_name(cls, value: str | None) -> str | None:
        return None if value is None else token(value)
