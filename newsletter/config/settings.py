"""Settings: ``config/newsletter.toml`` overridden by ``NEWSLETTER_*`` environment variables.

The environment-variable names are a public contract (issue "Today's briefing, end to end").
The TOML file uses the same names without the prefix, in lower case (``timezone = "..."``).
Its path is ``NEWSLETTER_CONFIG`` or, by default, ``config/newsletter.toml`` relative to the
working directory (a missing default file just means "defaults"; a missing explicit one is an
error).

A wrong value raises :class:`ConfigError` whose message names the setting as the operator
would write it (``NEWSLETTER_TIMEZONE: unknown time zone 'Mars/Olympus'``).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import tomllib
from datetime import time
from email.utils import getaddresses, parseaddr
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    TomlConfigSettingsSource,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from newsletter.errors import ConfigError
from newsletter.timeutil import UnknownTimeZone, get_zone

ENV_PREFIX = "NEWSLETTER_"
DEFAULT_CONFIG_PATH = Path("config/newsletter.toml")

#: Sections in the order an edition shows them, by category slug (configurable).
DEFAULT_SECTIONS = ["politique", "economie", "societe", "monde", "sport", "culture"]


#: Database backends newsletter supports (and tests): SQLAlchemy backend names.
SUPPORTED_DATABASES = ("sqlite", "postgresql")


def config_path() -> Path | None:
    """The TOML file to read: ``$NEWSLETTER_CONFIG`` or the default path if it exists.

    Raises :class:`ConfigError` when ``NEWSLETTER_CONFIG`` names a file that does not exist.
    """
    explicit = os.environ.get(f"{ENV_PREFIX}CONFIG")
    if explicit:
        path = Path(explicit)
        if path.is_dir():
            raise ConfigError(f"{ENV_PREFIX}CONFIG: {path} is a directory, not a TOML file")
        if not path.is_file():
            raise ConfigError(f"{ENV_PREFIX}CONFIG: no such file: {path}")
        return path
    return DEFAULT_CONFIG_PATH if DEFAULT_CONFIG_PATH.is_file() else None


class Settings(BaseSettings):
    """Every setting with its default. Durations are in seconds unless the name says otherwise.

    Construct through :func:`load_settings` so that errors become :class:`ConfigError`.
    """

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        extra="forbid",
        populate_by_name=True,
        case_sensitive=False,
    )

    # --- storage -------------------------------------------------------------------------
    data_dir: Path = Field(Path("var"), description="Directory for the SQLite file, outbox, keys.")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL; default sqlite:///<data_dir>/newsletter.db"
    )

    # --- the newsletter ------------------------------------------------------------------
    title: str = "Le Brief"
    language: str = "fr"
    timezone: str = "Africa/Casablanca"
    send_time: time = time(7, 0)
    reading_minutes: float = Field(5, gt=0, le=120)
    sections: Annotated[list[str], NoDecode] = Field(default_factory=lambda: list(DEFAULT_SECTIONS))
    summary_max_chars: int = Field(320, ge=60, le=2000)
    lookback_max_hours: float = Field(48, ge=24, le=336)
    max_items: int = Field(30, ge=1, le=100)
    category_max_share: float = Field(0.4, gt=0, le=1)
    category_weights: dict[str, float] = Field(default_factory=dict)
    words_per_minute: dict[str, float] = Field(default_factory=dict)
    base_url: str = "http://localhost:8000"
    sender: str = Field(
        "Le Brief <newsletter@example.ma>",
        validation_alias=AliasChoices("NEWSLETTER_FROM", "from", "sender"),
    )
    postal_address: str = "Le Brief, 1 boulevard de l'Exemple, 20000 Casablanca, Maroc"
    list_id: str | None = None
    secret_key: SecretStr | None = None
    old_secret_keys: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list,
        description="Former secret keys, comma-separated: links they signed still verify "
        "(key rotation); new links are signed with secret_key.",
    )
    confirm_days: float = Field(7, gt=0, le=90)
    unsubscribe_mailto: str | None = None
    feedback_id: str | None = None
    utm_enabled: bool = True
    utm_source: str = "newsletter"
    utm_medium: str = "email"
    utm_campaign: str = "brief-{date}"
    dkim_selector: str | None = None
    dkim_private_key: Path | None = None
    dkim_domain: str | None = None

    # --- ingest --------------------------------------------------------------------------
    feed_timeout: float = Field(20.0, gt=0, le=300)
    feed_max_bytes: int = Field(20_000_000, gt=0)

    # --- delivery ------------------------------------------------------------------------
    provider: Literal["file", "smtp", "postmark", "sendgrid", "mailgun", "ses", "resend"] = "file"
    outbox_dir: Path | None = None
    send_batch_size: int = Field(50, ge=1, le=10_000)
    send_commit_size: int = Field(
        20,
        ge=1,
        le=1_000,
        description="Messages marked 'sending' per commit; after a crash, at most this many "
        "per connection are in doubt (reported, never resent blindly). 1 = one at most.",
    )
    send_rate: float = Field(0, ge=0, le=100_000)
    smtp_connections: int = Field(1, ge=1, le=32)
    smtp_host: str = "localhost"
    smtp_port: int | None = Field(None, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_security: Literal["none", "starttls", "ssl"] = "none"
    smtp_timeout: float = Field(30.0, gt=0, le=600)

    # --- HTTP mail providers and their limits (issue 6) ----------------------------------
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
    failover_provider: (
        Literal["file", "smtp", "postmark", "sendgrid", "mailgun", "ses", "resend"] | None
    ) = Field(None, description="A second provider for what the first defers or cannot take.")
    failover_cooldown: float = Field(
        300.0, ge=0, le=86_400,
        description="Seconds the first provider is skipped after it failed a batch over.",
    )  # fmt: skip
    # --- bounces, complaints, provider webhooks (issue 6) --------------------------------
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

    # --- scheduler and the editors' morning (issue 7) ------------------------------------
    editors: Annotated[dict[str, str | None], NoDecode] = Field(
        default_factory=dict,
        description="The editors: draft notices and alerts go to each address; those with an "
        "Argon2id hash (`newsletter editor hash-password`) may also sign in to /editor. "
        "Addresses alone (comma-separated) or a JSON object address -> hash.",
    )
    editors_window_minutes: int = Field(
        60, ge=0, le=720, description="The draft is composed this long before send_time."
    )
    require_approval: bool = Field(
        False, description="Send only an edition an editor approved (Drafts.approve)."
    )
    approval_deadline_minutes: int = Field(
        30, ge=0, le=1440,
        description="Alert when nothing is approved this long after send_time.",
    )
    send_grace_minutes: int = Field(
        180, ge=1, le=1440,
        description="A send starting this late still happens; later, the day is skipped.",
    )
    timezone_waves: bool = Field(
        False, description="Send each reader the edition at send_time in their own time zone."
    )
    scheduler_check_seconds: float = Field(
        60, ge=0.5, le=3600,
        description="How often the scheduler looks for approvals, lifted holds, late sends.",
    )

    # --- editors' pages (issue 8) ----------------------------------------------------------
    editor_idle_minutes: float = Field(
        60, ge=1, le=1440, description="An editor's session ends after this long unused."
    )
    editor_session_hours: float = Field(
        12, ge=1, le=720, description="An editor's session ends this long after sign-in."
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Keyword arguments, then the environment, then the TOML file, then defaults."""
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        path = config_path()
        if path is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)

    # --- validation ----------------------------------------------------------------------
    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            get_zone(value)
        except UnknownTimeZone as exc:
            raise ValueError(str(exc)) from None
        return value

    @field_validator("send_time", mode="before")
    @classmethod
    def _parse_send_time(cls, value: Any) -> Any:
        if isinstance(value, str):
            # HH:MM; HH:MM:SS too (issue 7: tests start a send a few seconds ahead)
            match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})(?::(\d{2}))?\s*", value)
            if not match or int(match[1]) > 23 or int(match[2]) > 59 or int(match[3] or 0) > 59:
                raise ValueError(f"expected a local time HH:MM such as 07:00, got {value!r}")
            return time(int(match[1]), int(match[2]), int(match[3] or 0))
        return value

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, value: str) -> str:
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"expected an absolute http(s) URL, got {value!r}")
        if parts.query or parts.fragment:
            raise ValueError("must not have a query or fragment")
        return value.strip().rstrip("/")

    @field_validator("sender")
    @classmethod
    def _check_sender(cls, value: str) -> str:
        if "\r" in value or "\n" in value:
            raise ValueError("must be on one line")
        if len(getaddresses([value])) != 1:  # fixes-cli: one sender (RFC 5322 3.6.2)
            raise ValueError(
                f"expected one address, got {value!r} (quote a name that has a comma: "
                "'\"Doe, Jane\" <jane@example.org>')"
            )
        _, address = parseaddr(value)
        if not re.fullmatch(r"[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+", address):
            raise ValueError(
                f"expected an address such as 'Le Brief <newsletter@example.ma>', got {value!r}"
            )
        return value.strip()

    @field_validator("sections", mode="before")
    @classmethod
    def _split_sections(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("category_weights", "words_per_minute")
    @classmethod
    def _check_positive_map(cls, value: dict[str, float]) -> dict[str, float]:
        for key, number in value.items():
            if number <= 0:
                raise ValueError(f"{key}: expected a number above 0, got {number}")
        return {key.lower(): number for key, number in value.items()}

    @field_validator("language")
    @classmethod
    def _check_language(cls, value: str) -> str:
        primary = value.split("-")[0].lower()
        if primary not in ("fr", "en"):
            raise ValueError(f"the email's words exist in fr and en, got {value!r}")
        return value.lower()

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            url = make_url(value)
            if url.drivername in ("postgresql", "postgres"):
                url = url.set(drivername="postgresql+psycopg")
            backend = url.get_backend_name()
            if backend not in SUPPORTED_DATABASES:  # fixes-cli: only what is tested
                raise ValueError(
                    f"unsupported database {backend!r}: newsletter runs on "
                    f"{' or '.join(SUPPORTED_DATABASES)} (e.g. postgresql://user:password@host/db)"
                )
            url.get_dialect().import_dbapi()  # the driver itself, not only SQLAlchemy's dialect
        except (NoSuchModuleError, ImportError) as exc:
            raise ValueError(
                f"no driver for {value.split(':', 1)[0]!r} is installed ({exc})"
            ) from None
        except ArgumentError:
            raise ValueError(
                f"not a database URL: {value!r} (e.g. postgresql://user:password@host/db)"
            ) from None
        return value

    @field_validator("secret_key")
    @classmethod
    def _check_secret_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 16:
            raise ValueError("must be at least 16 characters")
        return value

    @field_validator("old_secret_keys", mode="before")
    @classmethod
    def _split_old_secret_keys(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("old_secret_keys")
    @classmethod
    def _check_old_secret_keys(cls, value: list[SecretStr]) -> list[SecretStr]:
        for number, key in enumerate(value, 1):
            if len(key.get_secret_value()) < 16:
                raise ValueError(f"key {number} must be at least 16 characters")
        return value

    @field_validator("list_id")
    @classmethod
    def _check_list_id(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)+", value):
            raise ValueError(f"expected a dotted name such as 'brief.example.ma', got {value!r}")
        return value

    @field_validator("unsubscribe_mailto")
    @classmethod
    def _check_mailto(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(
            r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]+", value
        ):
            raise ValueError(
                f"expected a plain address such as unsubscribe@example.ma, got {value!r}"
            )
        return value

    @field_validator("feedback_id", "dkim_selector", "dkim_domain", "utm_source", "utm_medium")
    @classmethod
    def _check_token(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[A-Za-z0-9._-]+", value):
            raise ValueError(f"letters, digits, '.', '_' and '-' only, got {value!r}")
        return value

    @field_validator("utm_campaign")
    @classmethod
    def _check_campaign(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9._{}-]+", value) or value.replace("{date}", "").count("{"):
            raise ValueError(f"letters, digits, '.', '_', '-' and {{date}} only, got {value!r}")
        return value

    @field_validator("dkim_private_key")
    @classmethod
    def _check_dkim_key(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"no such file: {value}")
        return value

    @field_validator(
        "postmark_api_url", "sendgrid_api_url", "mailgun_api_url", "resend_api_url",
        "ses_endpoint_url",
    )  # fmt: skip
    @classmethod
    def _check_api_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"expected an absolute http(s) URL, got {value!r}")
        if parts.query or parts.fragment:
            raise ValueError("must not have a query or fragment")
        return value.strip().rstrip("/")

    @field_validator("mailgun_domain", "postmark_stream", "ses_configuration_set")
    @classmethod
    def _check_name(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[A-Za-z0-9._-]+", value):
            raise ValueError(f"letters, digits, '.', '_' and '-' only, got {value!r}")
        return value

    @field_validator("title", "postal_address")
    @classmethod
    def _check_one_line(cls, value: str) -> str:
        if any(c in value for c in "\r\n\x00"):
            raise ValueError("must be on one line")
        return value.strip()

    @field_validator("sendgrid_webhook_public_key")
    @classmethod
    def _check_sendgrid_key(cls, value: str | None) -> str | None:
        if value is None:
            return None
        from newsletter.config.secrets import InvalidKey, sendgrid_public_key

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
    def _check_postmark_password(cls, value: SecretStr | None, info: Any) -> SecretStr | None:
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
        from newsletter.config.secrets import InvalidKey, svix_secret

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

    @field_validator("editors", mode="before")
    @classmethod
    def _read_editors(cls, value: Any) -> Any:
        """``a@x, b@y`` (notices only) or a JSON object ``{"a@x": "$argon2id$..."}``; a
        TOML list or table likewise."""
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("{"):
                try:
                    return json.loads(text)
                except json.JSONDecodeError as exc:
                    raise ValueError(f"not a JSON object: {exc.msg}") from None
            value = [part.strip() for part in text.split(",") if part.strip()]
        if isinstance(value, list):
            return {address: None for address in value}
        return value

    @field_validator("editors")
    @classmethod
    def _check_editors(cls, value: dict[str, str | None]) -> dict[str, str | None]:
        editors: dict[str, str | None] = {}
        for address, hashed in value.items():
            key = address.strip().lower()
            if not re.fullmatch(r"[^@\s<>,]+@[^@\s<>,]+\.[^@\s<>,]+", key):
                raise ValueError(f"expected addresses such as chef@example.ma, got {address!r}")
            if hashed is not None and not re.fullmatch(
                r"\$argon2(id|i|d)\$v=\d+\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+",
                hashed.strip(),
            ):
                raise ValueError(
                    f"{address}: expected an Argon2 hash from `newsletter editor hash-password` "
                    "($argon2id$v=19$...), never the password itself"
                )
            editors[key] = hashed.strip() if hashed is not None else None
        return editors

    # --- derived values ------------------------------------------------------------------
    @property
    def zone(self) -> ZoneInfo:
        """The newsletter's time zone."""
        return get_zone(self.timezone)

    @property
    def reading_budget_seconds(self) -> int:
        """The reading-time budget in seconds (``reading_minutes`` x 60)."""
        return round(self.reading_minutes * 60)

    @property
    def effective_database_url(self) -> str:
        """``database_url``, or an SQLite file in ``data_dir``."""
        return self.database_url or f"sqlite:///{self.data_dir / 'newsletter.db'}"

    @property
    def effective_outbox_dir(self) -> Path:
        """Where the file provider writes ``.eml`` files (default ``<data_dir>/outbox``)."""
        return self.outbox_dir or self.data_dir / "outbox"

    @property
    def sender_address(self) -> str:
        """The bare address of ``NEWSLETTER_FROM`` (envelope sender)."""
        return parseaddr(self.sender)[1]

    @property
    def sender_name(self) -> str:
        """The display name of ``NEWSLETTER_FROM`` (may be empty)."""
        return parseaddr(self.sender)[0]

    @property
    def sender_domain(self) -> str:
        """The domain of the sender's address, used for Message-ID and List-Id."""
        return self.sender_address.rpartition("@")[2].lower()

    @property
    def effective_list_id(self) -> str:
        """The RFC 2919 list identifier (``brief.example.ma`` style)."""
        return self.list_id or f"brief.{self.sender_domain}"

    @property
    def utm_parameters(self) -> dict[str, str] | None:
        """UTM parameters for article links (``{date}`` left in the campaign), or None."""
        if not self.utm_enabled:
            return None
        return {
            "utm_source": self.utm_source,
            "utm_medium": self.utm_medium,
            "utm_campaign": self.utm_campaign,
        }

    @property
    def effective_smtp_port(self) -> int:
        """``smtp_port`` or the port of the security mode: 25 (none), 587 (starttls), 465 (ssl)."""
        return self.smtp_port or {"none": 25, "starttls": 587, "ssl": 465}[self.smtp_security]

    @cached_property
    def secret_keys(self) -> list[str]:
        """Signing keys, newest last (itsdangerous key-rotation order): the
        ``NEWSLETTER_OLD_SECRET_KEYS`` in their order, then the current key.

        The current key is ``NEWSLETTER_SECRET_KEY`` when set; otherwise a random key created
        once in ``<data_dir>/secret.key`` (mode 0600) so that a single box works out of the
        box. Several machines must share one key: set the variable there.
        """
        old = [key.get_secret_value() for key in self.old_secret_keys]
        if self.secret_key is not None:
            return [*old, self.secret_key.get_secret_value()]
        path = self.data_dir / "secret.key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
        return [*old, path.read_text().strip()]


#: NEWSLETTER_* variables that are not settings but are read elsewhere.
OTHER_VARIABLES = {"NEWSLETTER_CONFIG", "NEWSLETTER_TEST_DATABASE_URL", "NEWSLETTER_DEBUG"}


def unknown_variables() -> list[str]:
    """``NEWSLETTER_*`` environment variables that name no setting (likely typos)."""
    known = {f"{ENV_PREFIX}{name.upper()}" for name in Settings.model_fields} | {
        f"{ENV_PREFIX}FROM"
    }
    return sorted(
        name
        for name in os.environ
        if name.upper().startswith(ENV_PREFIX) and name.upper() not in known | OTHER_VARIABLES
    )


def _setting_name(loc: tuple[Any, ...]) -> str:
    field = str(loc[0]) if loc else "?"
    if field.upper().startswith(ENV_PREFIX):
        return field.upper()
    if field in ("from", "sender"):
        return f"{ENV_PREFIX}FROM"
    return f"{ENV_PREFIX}{field.upper()}"


def load_settings(**overrides: Any) -> Settings:
    """Read the settings (keyword overrides > environment > TOML file > defaults).

    Raises :class:`ConfigError` naming the first bad setting(s).
    """
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            message = error["msg"].removeprefix("Value error, ")
            if error["type"] == "extra_forbidden":
                problems.append(f"{config_path()}: unknown setting {error['loc'][0]!r}")
                continue
            problems.append(f"{_setting_name(error['loc'])}: {message}")
        raise ConfigError("; ".join(problems)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{config_path()}: not valid TOML: {exc}") from None
    except SettingsError as exc:  # a variable that should hold JSON does not
        field = re.search(r'field "(\w+)"', str(exc))
        name = f"{ENV_PREFIX}{field[1].upper()}" if field else "a NEWSLETTER_* variable"
        raise ConfigError(
            f'{name}: expected JSON such as {{"politique": 1.2}} (or a list: ["a", "b"])'
        ) from None
