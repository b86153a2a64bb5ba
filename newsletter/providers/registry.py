"""Builds the HTTP providers from the settings; a missing credential is a ConfigError that
names the variable to set."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import httpx
from pydantic import SecretStr

from newsletter.config.settings import ConfigError, Settings
from newsletter.providers.base import Provider, ProviderConfigError
from newsletter.providers.failover import FailoverProvider
from newsletter.providers.file import FileProvider
from newsletter.providers.http import RetryPolicy
from newsletter.providers.mailgun import MailgunProvider
from newsletter.providers.postmark import PostmarkProvider
from newsletter.providers.resend import ResendProvider
from newsletter.providers.sendgrid import SendGridProvider
from newsletter.providers.smtp import SMTPProvider

#: The providers this module builds (``NEWSLETTER_PROVIDER`` values).
HTTP_PROVIDERS = ("postmark", "sendgrid", "mailgun", "ses", "resend")


def _secret(value: SecretStr | None, variable: str, provider: str) -> str:
    if value is None or not value.get_secret_value().strip():
        raise ConfigError(f"{variable}: required with NEWSLETTER_PROVIDER={provider}")
    return value.get_secret_value().strip()


def retry_policy(settings: Settings) -> RetryPolicy:
    """The retry policy of the settings (``NEWSLETTER_HTTP_ATTEMPTS``,
    ``NEWSLETTER_RETRY_AFTER_MAX``, ``NEWSLETTER_HTTP_TIMEOUT``)."""
    return RetryPolicy(
        attempts=settings.http_attempts,
        max_wait=settings.retry_after_max,
        timeout=settings.http_timeout,
    )


def aws_credentials_and_region() -> tuple[Any, str]:
    """Credentials from botocore's standard chain (``AWS_ACCESS_KEY_ID`` and
    ``AWS_SECRET_ACCESS_KEY``, ``AWS_PROFILE``, a container or instance role) and the
    region (``AWS_REGION``, ``AWS_DEFAULT_REGION`` or the profile's). Raises
    :class:`ConfigError` naming what is missing."""
    import botocore.exceptions
    import botocore.session

    session = botocore.session.get_session()
    try:
        credentials = session.get_credentials()
    except botocore.exceptions.PartialCredentialsError as exc:
        raise ConfigError(
            f"AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY go together for SES ({exc})"
        ) from None
    except botocore.exceptions.BotoCoreError as exc:
        raise ConfigError(f"AWS credentials for SES: {exc}") from None
    if credentials is None:
        raise ConfigError(
            "AWS_ACCESS_KEY_ID: no AWS credentials for NEWSLETTER_PROVIDER=ses (set "
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, or use a role)"
        )
    region = (
        os.environ.get("AWS_REGION")
        or os.environ.get("AWS_DEFAULT_REGION")
        or session.get_config_variable("region")
    )
    if not region:
        raise ConfigError("AWS_REGION: required with NEWSLETTER_PROVIDER=ses (e.g. eu-west-1)")
    return credentials, region


def make_http_provider(
    name: str,
    settings: Settings,
    client: httpx.Client,
    *,
    sleep: Callable[[float], None] | None = None,
    clock: Callable[[], float] | None = None,
) -> Provider:
    """The HTTP provider ``name`` (one of :data:`HTTP_PROVIDERS`) on ``client``. Raises
    :class:`ConfigError` for a missing credential or an unknown name."""
    policy = retry_policy(settings)
    common: dict[str, Any] = {"policy": policy, "sleep": sleep, "clock": clock}
    if settings.http_concurrency is not None:  # else each provider's documented default
        common["concurrency"] = settings.http_concurrency
    if name == "postmark":
        token = _secret(settings.postmark_token, "NEWSLETTER_POSTMARK_TOKEN", name)
        return PostmarkProvider(
            client, token, api_url=settings.postmark_api_url, stream=settings.postmark_stream,
            **common,
        )  # fmt: skip
    if name == "sendgrid":
        key = _secret(settings.sendgrid_api_key, "NEWSLETTER_SENDGRID_API_KEY", name)
        return SendGridProvider(client, key, api_url=settings.sendgrid_api_url, **common)
    if name == "mailgun":
        key = _secret(settings.mailgun_api_key, "NEWSLETTER_MAILGUN_API_KEY", name)
        if not settings.mailgun_domain:
            raise ConfigError(
                "NEWSLETTER_MAILGUN_DOMAIN: required with NEWSLETTER_PROVIDER=mailgun"
            )
        return MailgunProvider(
            client, key, settings.mailgun_domain, api_url=settings.mailgun_api_url, **common
        )
    if name == "resend":
        key = _secret(settings.resend_api_key, "NEWSLETTER_RESEND_API_KEY", name)
        return ResendProvider(client, key, api_url=settings.resend_api_url, **common)
    if name == "ses":
        from newsletter.providers.ses import SESProvider  # botocore: only when used

        credentials, region = aws_credentials_and_region()
        return SESProvider(
            client, credentials, region, endpoint_url=settings.ses_endpoint_url,
            configuration_set=settings.ses_configuration_set, **common,
        )  # fmt: skip
    raise ConfigError(f"NEWSLETTER_PROVIDER: unknown HTTP provider {name!r}")


def make_provider(
    settings: Settings, client: httpx.Client | None = None, *, name: str | None = None
) -> Provider:
    """The provider named by ``NEWSLETTER_PROVIDER`` (or ``name``), behind a failover when
    ``NEWSLETTER_FAILOVER_PROVIDER`` is set; HTTP providers use ``client`` (a new one when
    None). Raises :class:`ConfigError`."""
    if name is None and settings.failover_provider:
        if settings.failover_provider == settings.provider:
            raise ConfigError("NEWSLETTER_FAILOVER_PROVIDER: must differ from NEWSLETTER_PROVIDER")
        return FailoverProvider(
            make_provider(settings, client, name=settings.provider),
            make_provider(settings, client, name=settings.failover_provider),
            cooldown=settings.failover_cooldown,
        )
    name = name or settings.provider
    if name in HTTP_PROVIDERS:
        return make_http_provider(
            name, settings, client or httpx.Client(timeout=settings.http_timeout)
        )
    if name == "file":
        return FileProvider(settings.effective_outbox_dir)
    try:
        return SMTPProvider(
            settings.smtp_host,
            settings.effective_smtp_port,
            security=settings.smtp_security,
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
            timeout=settings.smtp_timeout,
        )
    except ProviderConfigError as exc:
        raise ConfigError(str(exc)) from None
