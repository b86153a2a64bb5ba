"""Settings of what an edition holds and when it goes out, and of the feeds it is made of."""

from __future__ import annotations

import re
from datetime import time
from typing import Annotated, Any

import langcodes
from pydantic import BaseModel, Field, field_validator
from pydantic_settings import NoDecode

from newsletter.config.checks import feed_url, one_line
from newsletter.timeutil import UnknownTimeZone, get_zone

#: ISO 639-2 codes that name no language an article is in: undetermined, no linguistic
#: content, multiple languages, uncoded languages.
NOT_A_LANGUAGE = frozenset(["und", "zxx", "mul", "mis"])
#: Sections in the order an edition shows them, by category slug (configurable).
DEFAULT_SECTIONS = ["politique", "economie", "societe", "monde", "sport", "culture"]


class EditionSettings(BaseModel):
    """The edition: its title and language, its local send time, its reading budget
    (minutes), its sections in order and how articles are picked for them (summary length in
    characters, how far back in hours, how many, a category's largest share and weight,
    reading speeds in words per minute by language, the languages its articles may be in, and
    the weight of what readers clicked over how many days)."""

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
    #: Languages an edition's articles may be in (``NEWSLETTER_LANGUAGES=fr,en``; primary
    #: subtags); empty: the newsletter's ``language`` alone.
    languages: Annotated[list[str], NoDecode] = Field(default_factory=list)
    #: Weight of the ``readership`` score part: a section's click-through rate over the sent
    #: editions of the last ``readership_days`` days, relative to the best section's (0-1).
    #: 0 (the default): off, what readers clicked does not change the ranking.
    readership_weight: float = Field(0.0, ge=0)
    readership_days: int = Field(28, ge=1, le=365)

    @field_validator("title")
    @classmethod
    def _check_title(cls, value: str) -> str:
        return one_line(value)

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
            # HH:MM; HH:MM:SS too (tests start a send a few seconds ahead)
            match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})(?::(\d{2}))?\s*", value)
            if not match or int(match[1]) > 23 or int(match[2]) > 59 or int(match[3] or 0) > 59:
                raise ValueError(f"expected a local time HH:MM such as 07:00, got {value!r}")
            return time(int(match[1]), int(match[2]), int(match[3] or 0))
        return value

    @field_validator("sections", mode="before")
    @classmethod
    def _split_sections(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("languages", mode="before")
    @classmethod
    def _split_languages(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.split(",")
        if isinstance(value, list):
            out: list[str] = []
            for part in value:
                primary = str(part).strip().replace("_", "-").split("-")[0].lower()
                if not primary:
                    continue
                if (
                    not re.fullmatch(r"[a-z]{2,3}", primary)
                    or not langcodes.tag_is_valid(primary)
                    or primary in NOT_A_LANGUAGE
                ):
                    raise ValueError(
                        f"expected language codes (ISO 639) such as fr,en, got {part!r}"
                    )
                # Articles carry the shortest code (ISO 639-1 where there is one): "fra" is "fr".
                primary = langcodes.standardize_tag(primary)
                if primary not in out:
                    out.append(primary)
            return out
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


class SourceSetting(BaseModel):
    """One ``[[sources]]`` entry of the TOML file: the feed's ``url`` (http or https) and,
    optionally, its ``name``, the ``section`` of its entries without a category, their
    default ``language`` and ``timezone``, and ``every`` (minutes between polls; default
    ``poll_minutes``)."""

    model_config = {"extra": "forbid"}

    url: str
    name: str | None = None
    section: str | None = None
    language: str | None = None
    timezone: str | None = None
    every: float | None = Field(None, gt=0, le=10080)

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        return feed_url(value)

    @field_validator("timezone")
    @classmethod
    def _check_source_zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                get_zone(value)
            except UnknownTimeZone as exc:
                raise ValueError(str(exc)) from None
        return value


class IngestSettings(BaseModel):
    """Fetching the feeds: seconds a fetch may take, its largest body in bytes, the minutes
    between two polls of a source (``NEWSLETTER_POLL_MINUTES``), the sources of the TOML
    file (``[[sources]]``, registered at start) and the feed categories each section of ours
    stands for (``[section_aliases]``: ``monde = ["Europe", "Asie-Pacifique"]``)."""

    feed_timeout: float = Field(20.0, gt=0, le=300)
    feed_max_bytes: int = Field(20_000_000, gt=0)
    poll_minutes: float = Field(15, gt=0, le=10080)
    sources: list[SourceSetting] = Field(default_factory=list)
    section_aliases: dict[str, list[str]] = Field(default_factory=dict)
