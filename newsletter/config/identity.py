"""Settings of the newsletter as its readers and their mail servers see it: the public URL,
the sender, the postal address, the list headers, the keys that sign readers' links, the
tracking parameters of article links and DKIM."""

from __future__ import annotations

import re
from email.utils import getaddresses, parseaddr
from pathlib import Path
from typing import Annotated, Any

from pydantic import AliasChoices, BaseModel, Field, SecretStr, field_validator
from pydantic_settings import NoDecode

from newsletter.config.checks import http_url, one_line, token


class IdentitySettings(BaseModel):
    """``NEWSLETTER_BASE_URL``, ``NEWSLETTER_FROM`` (the field ``sender``), the postal
    address, ``List-Id``, the link-signing keys (current and former, 16 characters at least),
    the days a confirmation link lasts, the unsubscribe and feedback headers, UTM parameters
    and DKIM: the selector, key file (RSA or Ed25519, PEM) and domain, and an optional second
    key with its own selector (``NEWSLETTER_DKIM_ED25519_SELECTOR``,
    ``NEWSLETTER_DKIM_ED25519_PRIVATE_KEY``: an Ed25519-SHA256 signature beside the RSA one,
    RFC 8463 section 4)."""

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
    dkim_ed25519_selector: str | None = None
    dkim_ed25519_private_key: Path | None = None

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, value: str) -> str:
        return http_url(value)

    @field_validator("sender")
    @classmethod
    def _check_sender(cls, value: str) -> str:
        if "\r" in value or "\n" in value:
            raise ValueError("must be on one line")
        if len(getaddresses([value])) != 1:  # one sender (RFC 5322 3.6.2)
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

    @field_validator("postal_address")
    @classmethod
    def _check_postal_address(cls, value: str) -> str:
        return one_line(value)

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

    @field_validator(
        "feedback_id", "dkim_selector", "dkim_domain", "dkim_ed25519_selector", "utm_source",
        "utm_medium",
    )  # fmt: skip
    @classmethod
    def _check_token(cls, value: str | None) -> str | None:
        return None if value is None else token(value)

    @field_validator("utm_campaign")
    @classmethod
    def _check_campaign(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9._{}-]+", value) or value.replace("{date}", "").count("{"):
            raise ValueError(f"letters, digits, '.', '_', '-' and {{date}} only, got {value!r}")
        return value

    @field_validator("dkim_private_key", "dkim_ed25519_private_key")
    @classmethod
    def _check_dkim_key(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"no such file: {value}")
        return value
