"""Settings of the feedback providers send back: bounces, and the secrets that let
``/webhooks/*`` trust a provider's call (Mailgun, SendGrid, Postmark, Resend, Amazon SES
through SNS)."""

from __future__ import annotations

import re

from pydantic import BaseModel, Field, SecretStr, ValidationInfo, field_validator

from newsletter.config.secrets import InvalidKey, sendgrid_public_key, svix_secret


class WebhookSettings(BaseModel):
    """Soft bounces in a row before an address is suppressed, the seconds a signed webhook's
    timestamp may drift, and each provider's webhook secret: checked here so that a pasted
    key that cannot be parsed stops the start, not the first webhook."""

    soft_bounce_limit: int = Field(
        3, ge=1, le=100,
        description="Soft bounces in a row (no delivery between) after which an address is "
        "suppressed.",
    )  # fmt: skip
    webhook_tolerance: float = Field(
        300, ge=10, le=86_400,
        description="Seconds a signed webhook's timestamp may differ from our clock (Mailgun, "
        "SendGrid, Resend/Svix); older ones are refused as replays. Svix's default is 300.",
    )  # fmt: skip
    mailgun_webhook_key: SecretStr | None = Field(
        None, description="Mailgun's HTTP webhook signing key (HMAC-SHA256 of timestamp+token)."
    )
    sendgrid_webhook_public_key: str | None = Field(
        None,
        description="SendGrid's signed Event Webhook verification key: the base64 (DER) or PEM "
        "ECDSA P-256 public key shown in the SendGrid settings.",
    )
    postmark_webhook_user: str | None = Field(
        None, description="HTTP basic-auth user name put in the Postmark webhook URL."
    )
    postmark_webhook_password: SecretStr | None = Field(
        None,
        validate_default=True,
        description="HTTP basic-auth password put in the Postmark webhook URL.",
    )
    resend_webhook_secret: SecretStr | None = Field(
        None, description="Resend's webhook signing secret (Svix, ``whsec_`` + base64)."
    )
    ses_sns_topic_arn: str | None = Field(
        None,
        description="The SNS topic ARN that carries SES bounce/complaint notifications; "
        "messages from any other topic are refused.",
    )

    @field_validator("sendgrid_webhook_public_key")
    @classmethod
    def _check_sendgrid_key(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            sendgrid_public_key(value)
        except InvalidKey as exc:
            raise ValueError(str(exc)) from None
        return value.strip()

    @field_validator("postmark_webhook_user")
    @classmethod
    def _check_postmark_user(cls, value: str | None) -> str | None:
        if value is not None and (not value or ":" in value or any(ord(c) < 32 for c in value)):
            raise ValueError("a non-empty user name without ':' or control characters")
        return value

    @field_validator("postmark_webhook_password")
    @classmethod
    def _check_postmark_password(
        cls, value: SecretStr | None, info: ValidationInfo
    ) -> SecretStr | None:
        # postmark_webhook_user is declared first, so it is validated (or failed) by now
        user = info.data.get("postmark_webhook_user")
        if (value is None) != (user is None):
            raise ValueError("set together with NEWSLETTER_POSTMARK_WEBHOOK_USER (or neither)")
        if value is not None and len(value.get_secret_value()) < 16:
            raise ValueError("must be at least 16 characters")
        return value

    @field_validator("resend_webhook_secret")
    @classmethod
    def _check_resend_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        try:
            svix_secret(value.get_secret_value())
        except InvalidKey as exc:
            raise ValueError(str(exc)) from None
        return value

    @field_validator("ses_sns_topic_arn")
    @classmethod
    def _check_topic_arn(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(
            r"arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?", value.strip()
        ):
            raise ValueError(
                "expected an SNS topic ARN such as arn:aws:sns:eu-west-1:123456789012:ses-events"
            )
        return None if value is None else value.strip()
