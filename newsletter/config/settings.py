"""Settings: ``config/newsletter.toml`` overridden by ``NEWSLETTER_*`` environment variables.

The environment-variable names are a public contract.
The TOML file uses the same names without the prefix, in lower case (``timezone = "..."``).
Its path is ``NEWSLETTER_CONFIG`` or, by default, ``config/newsletter.toml`` relative to the
working directory (a missing default file just means "defaults"; a missing explicit one is an
error).

A wrong value raises :class:`ConfigError` whose message names the setting as the operator
would write it (``NEWSLETTER_TIMEZONE: unknown time zone 'Mars/Olympus'``).

The settings are declared by concern in the sibling modules (storage, edition, identity,
delivery, webhooks, editors); :class:`Settings` puts them together and reads them.
"""

from __future__ import annotations

import os
import re
import secrets
import tomllib
from email.utils import parseaddr
from functools import cached_property
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    TomlConfigSettingsSource,
)

from newsletter.config.delivery import DeliverySettings
from newsletter.config.edition import DEFAULT_SECTIONS, EditionSettings, IngestSettings
from newsletter.config.editors import EditorSettings
from newsletter.config.identity import IdentitySettings
from newsletter.config.newsroom import NewsroomSettings
from newsletter.config.storage import SUPPORTED_DATABASES, StorageSettings
from newsletter.config.webhooks import WebhookSettings
from newsletter.errors import ConfigError
from newsletter.timeutil import get_zone

__all__ = [
    "DEFAULT_CONFIG_PATH",
    "DEFAULT_SECTIONS",
    "ENV_PREFIX",
    "OTHER_VARIABLES",
    "SUPPORTED_DATABASES",
    "ConfigError",
    "Settings",
    "config_path",
    "load_settings",
    "unknown_variables",
]

ENV_PREFIX = "NEWSLETTER_"
DEFAULT_CONFIG_PATH = Path("config/newsletter.toml")


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


# pydantic collects fields from the most basic class up, so the groups are listed last first:
# the fields keep the order storage, edition, identity, ingest, delivery, webhooks, editors,
# which is the order of the errors a bad configuration reports.
class Settings(
    NewsroomSettings,
    EditorSettings,
    WebhookSettings,
    DeliverySettings,
    IngestSettings,
    IdentitySettings,
    EditionSettings,
    StorageSettings,
    BaseSettings,
):
    """Every setting with its default. Durations are in seconds unless the name says otherwise.

    Construct through :func:`load_settings` so that errors become :class:`ConfigError`.
    """

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        extra="forbid",
        populate_by_name=True,
        case_sensitive=False,
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
