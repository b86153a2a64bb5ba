"""Typed SQLAlchemy 2 models: articles, subscribers, editions, edition items, deliveries.

Every datetime column is an aware UTC :class:`~newsletter.store.types.UTCDateTime`. Status
columns hold the words of the field (see the ``*Status`` classes); they are plain strings so
that a migration can add a state without an ``ALTER TYPE``.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    Unicode,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from newsletter.store.types import BigIntKey, UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with a naming convention so that migrations name constraints."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        list[str]: JSON(),
    }


class SubscriberStatus(StrEnum):
    """A subscriber's state: only ``active`` receives editions."""

    PENDING = "pending"  # signed up, not yet confirmed (double opt-in)
    ACTIVE = "active"
    UNSUBSCRIBED = "unsubscribed"
    BOUNCED = "bounced"
    COMPLAINED = "complained"


class Frequency(StrEnum):
    """How often a subscriber gets an edition: every day, or once a week on ``weekday``."""

    DAILY = "daily"
    WEEKLY = "weekly"


class MessageFormat(StrEnum):
    """What a subscriber receives: ``html`` (multipart/alternative) or ``text`` only."""

    HTML = "html"
    TEXT = "text"


class EditionStatus(StrEnum):
    """An edition's state: a ``draft`` may be recomposed; once released it never changes."""

    DRAFT = "draft"
    SENDING = "sending"  # released: recipients frozen, deliveries under way
    PAUSED = "paused"  # released, but workers claim nothing until it is resumed
    SENT = "sent"  # every delivery reached a final state


class DeliveryStatus(StrEnum):
    """One (edition, subscriber) delivery: ``pending -> claimed -> sending -> sent``.

    ``claimed``: a worker owns the row but has not handed it over (safe to give back);
    ``sending``: handed to the provider, answer not yet recorded. ``deferred`` waits for
    ``next_attempt_at``; ``failed`` is permanent (the provider's code and text are kept);
    ``skipped`` means the subscriber stopped being eligible before sending. A row left in
    ``sending`` by a crash may or may not have reached the provider and is never resent
    blindly.
    """

    PENDING = "pending"
    CLAIMED = "claimed"
    SENDING = "sending"
    SENT = "sent"
    DEFERRED = "deferred"
    FAILED = "failed"
    SKIPPED = "skipped"


class Article(Base):
    """A normalised article from a source (feed or sample). Unique by canonical URL."""

    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    url_key: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 of canonical URL
    guid: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)  # feed URL or file path it came from
    source_name: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str | None] = mapped_column(String(128))
    tags: Mapped[list[str]] = mapped_column(default=list)
    author: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(16))
    image_url: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime] = mapped_column(index=True)
    published_estimated: Mapped[bool] = mapped_column(Boolean, default=False)
    feed_position: Mapped[int] = mapped_column(Integer, default=0)
    featured: Mapped[bool] = mapped_column(Boolean, default=False)
    content_hash: Mapped[str] = mapped_column(String(64))
    first_seen_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (Index("ix_articles_source_guid", "source", "guid"),)


class Subscriber(Base):
    """A reader. ``email_key`` (the lower-cased address) is unique."""

    __tablename__ = "subscribers"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    email_key: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str | None] = mapped_column(Text)
    topics: Mapped[list[str]] = mapped_column(default=list)
    timezone: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default=SubscriberStatus.ACTIVE, index=True)
    source: Mapped[str | None] = mapped_column(String(32))  # cli, import, web, demo
    created_at: Mapped[datetime]
    confirmed_at: Mapped[datetime | None]
    unsubscribed_at: Mapped[datetime | None]
    # Preferences (the preferences page): how often, until when paused, which parts.
    frequency: Mapped[str] = mapped_column(String(16), default=Frequency.DAILY)
    weekday: Mapped[int | None] = mapped_column(Integer)  # weekly: 0 = Monday ... 6 = Sunday
    paused_until: Mapped[date | None] = mapped_column(Date)  # receives again from this date
    format: Mapped[str] = mapped_column(String(8), default=MessageFormat.HTML)
    soft_bounces: Mapped[int] = mapped_column(Integer, default=0)  # in a row; reset on delivery


class Edition(Base):
    """One day's newsletter, unique per (newsletter, local date)."""

    __tablename__ = "editions"

    id: Mapped[int] = mapped_column(primary_key=True)
    newsletter: Mapped[str] = mapped_column(String(64), default="default")
    date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default=EditionStatus.DRAFT)
    subject: Mapped[str] = mapped_column(Text)
    preheader: Mapped[str] = mapped_column(Text, default="")
    reading_seconds: Mapped[int] = mapped_column(Integer)
    budget_seconds: Mapped[int] = mapped_column(Integer)
    window_start: Mapped[datetime]
    window_end: Mapped[datetime]
    composed_at: Mapped[datetime]
    released_at: Mapped[datetime | None]
    # The editor's decisions, kept across recompositions (see compose.edition.Decisions).
    pins: Mapped[list[int]] = mapped_column(JSON, default=list)
    excludes: Mapped[list[int]] = mapped_column(JSON, default=list)
    positions: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    subject_override: Mapped[str | None] = mapped_column(Text)
    # Reading seconds of each personal variant, by topics key.
    variant_seconds: Mapped[dict[str, float]] = mapped_column(JSON, default=dict)
    preheader_override: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None]
    # Editors' approval: a held edition is not released by the scheduler; when approval is
    # required, only an approved one is.
    held: Mapped[bool] = mapped_column(Boolean, default=False)
    approved_at: Mapped[datetime | None]
    approved_by: Mapped[str | None] = mapped_column(String(320))
    # Why a send was paused (by an operator, or by a provider that kept failing).
    paused_reason: Mapped[str | None] = mapped_column(Text)
    # The draft's version: +1 with each editor's change, in the change's transaction; the
    # editors' forms carry it (a stale one is refused). The approval names the version.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))
    approved_version: Mapped[int | None] = mapped_column(Integer)

    all_items: Mapped[list[EditionItem]] = relationship(
        back_populates="edition",
        order_by="[EditionItem.variant, EditionItem.position]",
        cascade="all, delete-orphan",
    )

    @property
    def items(self) -> list[EditionItem]:
        """The main edition's items, in order (personal variants excluded)."""
        return self.variant_items("")

    def variant_items(self, variant: str) -> list[EditionItem]:
        """The items of ``variant`` (a topics key such as ``"culture,sport"``; "" = main)."""
        return [item for item in self.all_items if item.variant == variant]

    @property
    def variants(self) -> list[str]:
        """The personal variants' keys, sorted (the main edition excluded)."""
        return sorted({item.variant for item in self.all_items} - {""})

    __table_args__ = (UniqueConstraint("newsletter", "date", name="uq_editions_newsletter_date"),)


class EditionItem(Base):
    """An entry of an edition: a snapshot of the article as the edition shows it."""

    __tablename__ = "edition_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("editions.id", ondelete="CASCADE"))
    variant: Mapped[str] = mapped_column(String(255), default="")  # topics key; "" = main
    position: Mapped[int] = mapped_column(Integer)
    article_id: Mapped[int | None] = mapped_column(
        ForeignKey("articles.id", ondelete="SET NULL"), index=True
    )
    section: Mapped[str | None] = mapped_column(String(128))  # slug the edition groups by
    category: Mapped[str | None] = mapped_column(Text)  # the article's own category
    url: Mapped[str] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(Text)
    source_name: Mapped[str | None] = mapped_column(Text)
    reading_seconds: Mapped[float] = mapped_column(Float)
    score: Mapped[float] = mapped_column(Float)
    score_parts: Mapped[dict[str, float]] = mapped_column(JSON, default=dict)
    also: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)  # other sources
    pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    #: What the item is (``compose.kinds.Kind``): news, live, opinion, podcast, gallery,
    #: listicle or series (a templated series: the weather of each city).
    kind: Mapped[str] = mapped_column(String(16), default="news", server_default="news")

    edition: Mapped[Edition] = relationship(back_populates="all_items")

    __table_args__ = (
        UniqueConstraint(
            "edition_id", "variant", "position", name="uq_edition_items_edition_variant_position"
        ),
    )


class Delivery(Base):
    """One edition to one subscriber, unique per (edition, subscriber).

    The address is copied at release so that the recipient list is frozen. ``attempts``
    counts provider calls; ``last_code``/``last_error`` keep the provider's answer. An
    erased subscriber's rows stay (the edition's counts) with no subscriber and no address
    (``subscriber_id`` None, ``email`` empty).
    """

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("editions.id", ondelete="CASCADE"))
    subscriber_id: Mapped[int | None] = mapped_column(
        ForeignKey("subscribers.id", ondelete="SET NULL")
    )
    email: Mapped[str] = mapped_column(String(320))
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    claimed_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(255))  # host:pid:token of the worker
    next_attempt_at: Mapped[datetime | None]
    first_deferred_at: Mapped[datetime | None]  # retries stop NEWSLETTER_RETRY_HOURS after
    sent_at: Mapped[datetime | None]
    provider: Mapped[str | None] = mapped_column(String(32))
    provider_message_id: Mapped[str | None] = mapped_column(Text)
    last_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("edition_id", "subscriber_id", name="uq_deliveries_edition_subscriber"),
        Index("ix_deliveries_edition_status", "edition_id", "status"),
        # The claim's path: an edition's claimable rows in id order, without walking the
        # rows already sent (a plain index makes every claim scan them: quadratic).
        Index(
            "ix_deliveries_claimable",
            "edition_id",
            "id",
            postgresql_where=text("status IN ('pending', 'deferred')"),
            sqlite_where=text("status IN ('pending', 'deferred')"),
        ),
    )


class Suppression(Base):
    """An address we must never mail again (hard bounce, complaint, operator's decision).

    Keyed by the lower-cased address so that it outlives the subscriber row; once the
    subscriber was erased, by ``"sha256:"`` and the digest of that key instead
    (``store.subscribers.erased_key``), so that the address is refused without being kept.
    """

    __tablename__ = "suppressions"

    email_key: Mapped[str] = mapped_column(String(320), primary_key=True)
    reason: Mapped[str] = mapped_column(String(32))  # hard_bounce, complaint, manual
    detail: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]


class ProviderEvent(Base):
    """An event a provider reported by webhook (bounce, complaint, unsubscribe), kept so
    that a duplicate delivery of the same event changes nothing. ``event_key`` is the
    provider's event id, or a hash of the event where it has none."""

    __tablename__ = "provider_events"

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    provider: Mapped[str] = mapped_column(String(32))
    event_key: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(32))  # hard_bounce, soft_bounce, complaint, ...
    email_key: Mapped[str | None] = mapped_column(String(320), index=True)
    detail: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("provider", "event_key", name="uq_provider_events_provider_event_key"),
    )


class SubscriberImport(Base):
    """A CSV import of the editors' page, run in the background by a thread of the web
    process: ``status`` ``running``, ``done``, ``failed`` or ``interrupted`` (its process
    stopped: ``heartbeat_at`` went stale), ``processed`` of ``total`` distinct rows stored,
    ``report`` the counts, rejected lines and warnings so far (JSON), ``owner`` the
    host:pid:token of the process running it."""

    __tablename__ = "subscriber_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(255))  # the uploaded file's name
    status: Mapped[str] = mapped_column(String(16))
    total: Mapped[int] = mapped_column(Integer, default=0)
    processed: Mapped[int] = mapped_column(Integer, default=0)
    report: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    owner: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime]
    heartbeat_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class Worker(Base):
    """A running delivery worker's heartbeat (``newsletter worker``)."""

    __tablename__ = "workers"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)  # host:pid:token
    started_at: Mapped[datetime]
    heartbeat_at: Mapped[datetime] = mapped_column(index=True)


# --- the scheduler's ledger -----------------------------------------------------------------
class SchedulerRun(Base):
    """One action of the scheduler for one local day (compose, notify, send, an alert),
    claimed by one process: the unique (newsletter, job, day) makes two replicas agree on
    who does it. ``finished_at`` is None while it runs; ``outcome`` then says how it ended."""

    __tablename__ = "scheduler_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    newsletter: Mapped[str] = mapped_column(String(64), default="default")
    job: Mapped[str] = mapped_column(String(64))  # compose, notify, send, alert:skipped, ...
    day: Mapped[date] = mapped_column(Date)
    owner: Mapped[str] = mapped_column(String(255))  # host:pid:token of the claiming process
    claimed_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(32))  # done, failed, skipped, ...
    detail: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("newsletter", "job", "day", name="uq_scheduler_runs_newsletter_job_day"),
    )


class SchedulerJob(Base):
    """APScheduler 3's ``SQLAlchemyJobStore`` table (``newsletter run``), created by the
    migrations rather than by the job store itself, so that two processes starting together
    do not race to create it. The columns are the job store's own (apscheduler 3.x
    ``jobstores/sqlalchemy.py``); a row holds a job's id, next run (UTC timestamp) and its
    pickled state: a function reference, the newsletter's name and a trigger."""

    __tablename__ = "scheduler_jobs"

    id: Mapped[str] = mapped_column(Unicode(191), primary_key=True)
    next_run_time: Mapped[float | None] = mapped_column(Float(25), index=True)
    job_state: Mapped[bytes] = mapped_column(LargeBinary)


# --- API tokens -------------------------------------------------------------------------------
class ApiToken(Base):
    """A bearer token of the HTTP API (the CMS push), made by ``newsletter api-token create``.

    Only the SHA-256 hex digest of the token is kept (``token_hash``); the token itself is
    shown once, at creation. ``scopes`` lists what it may do (``articles:write`` ...); a
    revoked token (``revoked_at`` set) is refused and keeps its row, so that ``api-token
    list`` still shows it and its name is not reused."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column(default=list)
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class Source(Base):
    """A feed the newsroom registered (``newsletter sources add``, ``[[sources]]``): where it
    is, what it is called, the section its uncategorised entries go to, the language and time
    zone its entries default to, how often it is polled (minutes), and its health: the last
    poll's time, status (``200``, ``not_modified`` or an error word) and counts, the HTTP
    validators of the last answer (ETag, Last-Modified), the failures in a row and since
    when, the next poll, and the claim of the process polling it right now."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2048), unique=True)
    name: Mapped[str | None] = mapped_column(Text)
    section: Mapped[str | None] = mapped_column(String(128))
    language: Mapped[str | None] = mapped_column(String(16))
    timezone: Mapped[str | None] = mapped_column(String(64))
    every_minutes: Mapped[float | None] = mapped_column(Float)  # None: poll_minutes
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    last_polled_at: Mapped[datetime | None]
    last_status: Mapped[str | None] = mapped_column(String(32))
    last_error: Mapped[str | None] = mapped_column(Text)
    last_new: Mapped[int] = mapped_column(Integer, default=0)
    last_updated: Mapped[int] = mapped_column(Integer, default=0)
    last_unreadable_dates: Mapped[int] = mapped_column(Integer, default=0)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    failing_since: Mapped[datetime | None]
    next_poll_at: Mapped[datetime] = mapped_column(index=True)
    claimed_by: Mapped[str | None] = mapped_column(String(255))
    claimed_until: Mapped[datetime | None]
    created_at: Mapped[datetime]


class AuditEntry(Base):
    """One action of an editor (or of ``cli``, ``scheduler``): who, what, on which edition
    and version, with its details, when and from which client address (the proxy's
    forwarded address only when ``--behind-proxy`` trusts it)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(320))
    address: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    edition_id: Mapped[int | None] = mapped_column(
        ForeignKey("editions.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int | None] = mapped_column(Integer)  # the edition's version after it
    target: Mapped[str | None] = mapped_column(Text)  # an article id, a field, an address
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class LoginFailure(Base):
    """Failed sign-ins of one key (``pair:<account> <address>`` or ``address:<address>``)
    since the last success or quiet spell, and until when the key is locked."""

    __tablename__ = "login_failures"

    key: Mapped[str] = mapped_column(String(512), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime]
    locked_until: Mapped[datetime | None]


class ClickCount(Base):
    """Clicks on one item's links in one edition, in aggregate (every reader, every link
    of the item): the redirect ``/r/<token>`` adds one per click. No reader is named."""

    __tablename__ = "click_counts"

    edition_id: Mapped[int] = mapped_column(
        ForeignKey("editions.id", ondelete="CASCADE"), primary_key=True
    )
    item_id: Mapped[int] = mapped_column(
        ForeignKey("edition_items.id", ondelete="CASCADE"), primary_key=True
    )
    clicks: Mapped[int] = mapped_column(Integer, default=0)
    last_clicked_at: Mapped[datetime]


class ReaderClick(Base):
    """One reader's click, kept only with ``NEWSLETTER_TRACK_READERS=true`` (personal
    tracking: the reader's consent is the operator's to obtain). Erased with the reader."""

    __tablename__ = "reader_clicks"

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    edition_id: Mapped[int] = mapped_column(
        ForeignKey("editions.id", ondelete="CASCADE"), index=True
    )
    item_id: Mapped[int] = mapped_column(ForeignKey("edition_items.id", ondelete="CASCADE"))
    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), index=True
    )
    clicked_at: Mapped[datetime]
