"""Small frozen options, one per stage, read once from the settings.

A use case receives the options it uses and nothing else, so that its signature says what
it depends on and a test builds it without a whole configuration (the model: httpx's
``Timeout`` and ``Limits`` value objects). Each ``from_settings`` names the settings it reads;
the environment variables are those of the settings (``NEWSLETTER_*``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time
from zoneinfo import ZoneInfo

from newsletter.config.settings import Settings


@dataclass(frozen=True)
class ComposeOptions:
    """What composing an edition reads: the newsletter's ``title`` and ``language``, its
    ``send_time`` in ``zone`` (the end of an edition's window), the reading budget in
    seconds, the sections in order, the summary length in characters, reading speeds in
    words per minute by language, a category's largest share of the budget (0-1), category
    weights, the item cap, how far back (hours) a thin day may reach and the ``languages``
    its articles may be in (primary subtags; empty: ``language`` alone), and the
    ``readership_weight`` of a section's click-through over the sent editions of the last
    ``readership_days`` days (0: off)."""

    title: str
    language: str
    send_time: time
    zone: ZoneInfo
    budget_seconds: int
    sections: tuple[str, ...]
    summary_max_chars: int
    max_share: float
    max_items: int
    lookback_max_hours: float
    words_per_minute: dict[str, float] = field(default_factory=dict)
    category_weights: dict[str, float] = field(default_factory=dict)
    languages: tuple[str, ...] = ()
    readership_weight: float = 0.0
    readership_days: int = 28

    @classmethod
    def from_settings(cls, s: Settings) -> ComposeOptions:
        """From ``title``, ``language``, ``send_time``, ``timezone``, ``reading_minutes``,
        ``sections``, ``summary_max_chars``, ``category_max_share``, ``max_items``,
        ``lookback_max_hours``, ``words_per_minute``, ``category_weights``, ``languages``,
        ``readership_weight`` and ``readership_days``."""
        return cls(
            title=s.title,
            language=s.language,
            send_time=s.send_time,
            zone=s.zone,
            budget_seconds=s.reading_budget_seconds,
            sections=tuple(s.sections),
            summary_max_chars=s.summary_max_chars,
            max_share=s.category_max_share,
            max_items=s.max_items,
            lookback_max_hours=s.lookback_max_hours,
            words_per_minute=dict(s.words_per_minute),
            category_weights=dict(s.category_weights),
            languages=tuple(s.languages),
            readership_weight=s.readership_weight,
            readership_days=s.readership_days,
        )


@dataclass(frozen=True)
class ReleaseOptions:
    """What releasing an edition reads: its ``send_time`` in ``zone`` (named ``timezone``
    in messages) and whether an editor's approval is required (``require_approval``)."""

    send_time: time
    zone: ZoneInfo
    timezone: str
    require_approval: bool

    @classmethod
    def from_settings(cls, s: Settings) -> ReleaseOptions:
        """From ``send_time``, ``timezone`` and ``require_approval``."""
        return cls(s.send_time, s.zone, s.timezone, s.require_approval)


@dataclass(frozen=True)
class DeliveryOptions:
    """What draining an outbox reads: the ``provider``'s name, rows claimed at a time
    (``claim_size``), messages marked ``sending`` per commit (``commit_size``; 0: one
    provider call), the rate limit in messages per second (0: none), the SMTP connections a
    worker keeps and the hours after a first attempt that a deferred message is given up
    (``retry_hours``)."""

    provider: str
    claim_size: int | None  # None: the provider's batch, at least 50
    commit_size: int
    send_rate: float
    smtp_connections: int
    retry_hours: float = 24.0

    @classmethod
    def from_settings(cls, s: Settings) -> DeliveryOptions:
        """From ``provider``, ``send_batch_size``, ``send_commit_size``, ``send_rate``,
        ``smtp_connections`` and ``retry_hours``."""
        return cls(
            s.provider, s.send_batch_size, s.send_commit_size, s.send_rate, s.smtp_connections,
            s.retry_hours,
        )  # fmt: skip


@dataclass(frozen=True)
class SenderOptions:
    """Who sends: the display name and address (envelope sender too), the domain of our
    Message-IDs, an optional ``mailto:`` unsubscribe address, and the UTM parameters added
    to article links (None when ``utm_enabled`` is off)."""

    name: str
    address: str
    domain: str
    unsubscribe_mailto: str | None = None
    utm: dict[str, str] | None = None
    click_tracking: bool = False  # article links through the signed /r/ redirect
    track_readers: bool = False  # the redirect also records who clicked

    @classmethod
    def from_settings(cls, s: Settings) -> SenderOptions:
        """From ``sender``, ``unsubscribe_mailto``, the ``utm_*`` settings,
        ``click_tracking`` and ``track_readers``."""
        return cls(
            s.sender_name, s.sender_address, s.sender_domain, s.unsubscribe_mailto,
            s.utm_parameters, s.click_tracking, s.click_tracking and s.track_readers,
        )  # fmt: skip


@dataclass(frozen=True)
class PollOptions:
    """What polling the sources reads: seconds a fetch may take (``timeout``), its largest
    body in bytes, the default minutes between polls, the newsletter's ``zone`` (for dates
    without one when the source names none), and the section aliases (our section slug ->
    the feed categories it stands for)."""

    timeout: float
    max_bytes: int
    every_minutes: float
    zone: ZoneInfo
    section_aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, s: Settings) -> PollOptions:
        """From ``feed_timeout``, ``feed_max_bytes``, ``poll_minutes``, ``timezone`` and
        ``section_aliases``."""
        return cls(
            s.feed_timeout, s.feed_max_bytes, s.poll_minutes, s.zone,
            {k: tuple(v) for k, v in s.section_aliases.items()},
        )  # fmt: skip
