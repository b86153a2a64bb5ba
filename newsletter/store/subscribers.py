"""Subscriber queries: add or merge by address, list, stream."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from newsletter.store.db import affected
from newsletter.store.models import Frequency, Subscriber, SubscriberStatus
from newsletter.timeutil import utcnow


@dataclass(frozen=True)
class SubscriberRecord:
    """A validated subscriber to add: ``email`` already normalised by the caller."""

    email: str
    name: str | None = None
    topics: list[str] = field(default_factory=list)
    timezone: str | None = None


@dataclass
class AddResult:
    """What :func:`add_subscriber` did: ``created`` or merged into ``subscriber``;
    ``kept_status`` names a status it refused to override (e.g. ``unsubscribed``)."""

    subscriber: Subscriber
    created: bool
    kept_status: str | None = None


def email_key(email: str) -> str:
    """The uniqueness key of an address: the address in lower case."""
    return email.strip().lower()


def add_subscriber(
    session: Session, record: SubscriberRecord, *, source: str,
    status: SubscriberStatus = SubscriberStatus.ACTIVE,
) -> AddResult:  # fmt: skip
    """Add ``record`` or merge it into the subscriber with the same address.

    Merging fills in the given name, topics and time zone; it never re-activates an address
    that unsubscribed, bounced or complained (consent and reputation: only the reader can
    come back, through confirmation). Does not commit.
    """
    key = email_key(record.email)
    existing = session.scalars(select(Subscriber).where(Subscriber.email_key == key)).first()
    now = utcnow()
    if existing is None:
        subscriber = Subscriber(
            email=record.email,
            email_key=key,
            name=record.name,
            topics=list(record.topics),
            timezone=record.timezone,
            status=status,
            source=source,
            created_at=now,
            confirmed_at=now if status == SubscriberStatus.ACTIVE else None,
        )
        session.add(subscriber)
        session.flush()
        return AddResult(subscriber, created=True)
    if record.name:
        existing.name = record.name
    if record.topics:
        existing.topics = list(record.topics)
    if record.timezone:
        existing.timezone = record.timezone
    kept = None
    if existing.status == SubscriberStatus.PENDING and status == SubscriberStatus.ACTIVE:
        existing.status = SubscriberStatus.ACTIVE
        existing.confirmed_at = now
    elif existing.status != SubscriberStatus.ACTIVE:
        kept = existing.status
    session.flush()
    return AddResult(existing, created=False, kept_status=kept)


def import_subscriber(
    session: Session, record: SubscriberRecord, *, source: str
) -> tuple[str, str]:
    """Merge one row of an import: ``(outcome, status)``, outcome ``"added"``,
    ``"updated"`` or ``"unchanged"``, status the subscriber's status afterwards.

    A new address is added, active, with the row's values. For an existing subscriber an
    import never changes what readers manage on their preferences page (topics, time zone,
    frequency, weekday, format, pause) nor the status (consent: an unsubscribed, bounced or
    pending address stays so); it only fills in a missing name. Does not commit.
    """
    key = email_key(record.email)
    existing = session.scalars(select(Subscriber).where(Subscriber.email_key == key)).first()
    if existing is None:
        added = add_subscriber(session, record, source=source)
        return "added", added.subscriber.status
    outcome = "unchanged"
    if record.name and not existing.name:
        existing.name = record.name
        outcome = "updated"
        session.flush()
    return outcome, existing.status


def set_status(session: Session, email: str, status: SubscriberStatus) -> Subscriber | None:
    """Set the status of the subscriber with ``email`` (None if there is none). Does not
    commit."""
    subscriber = session.scalars(
        select(Subscriber).where(Subscriber.email_key == email_key(email))
    ).first()
    if subscriber is None:
        return None
    if subscriber.status != status:
        subscriber.status = status
        if status == SubscriberStatus.UNSUBSCRIBED:
            subscriber.unsubscribed_at = utcnow()
    session.flush()
    return subscriber


def unsubscribe(session: Session, subscriber: Subscriber) -> bool:
    """Unsubscribe ``subscriber`` as the reader's own unsubscribe link does: an active or
    pending subscriber becomes ``unsubscribed`` (with the time, UTC); a bounced or complained
    status is kept (it says more). Returns True if the status changed. Does not commit."""
    if subscriber.status not in (SubscriberStatus.ACTIVE, SubscriberStatus.PENDING):
        return False
    subscriber.status = SubscriberStatus.UNSUBSCRIBED
    subscriber.unsubscribed_at = utcnow()
    session.flush()
    return True


def iter_subscribers(session: Session, batch: int = 1000) -> Iterator[Subscriber]:
    """All subscribers by id, read ``batch`` rows at a time (flat memory)."""
    last_id = 0
    while True:
        rows = list(
            session.scalars(
                select(Subscriber)
                .where(Subscriber.id > last_id)
                .order_by(Subscriber.id)
                .limit(batch)
            )
        )
        if not rows:
            return
        yield from rows
        last_id = rows[-1].id
        session.expunge_all()


def active_topic_choices(session: Session) -> list[frozenset[str]]:
    """The distinct non-empty topic choices of active subscribers, sorted (streamed: one
    column read in batches, memory bounded by the number of distinct choices)."""
    choices: set[frozenset[str]] = set()
    query = select(Subscriber.topics).where(Subscriber.status == SubscriberStatus.ACTIVE)
    for topics in session.scalars(query.execution_options(yield_per=1000)):
        if topics:
            choices.add(frozenset(topics))
    return sorted(choices, key=lambda choice: sorted(choice))


def count_by_status(session: Session) -> dict[str, int]:
    """Number of subscribers per status (every status present, zeros included)."""
    counts = {status.value: 0 for status in SubscriberStatus}
    for status, count in session.execute(
        select(Subscriber.status, func.count()).group_by(Subscriber.status)
    ):
        counts[status] = count
    return counts


def count_weekly_readers(session: Session, weekday: int) -> int:
    """Active readers on the weekly frequency whose ``weekday`` (0 = Monday) it is."""
    return session.scalar(
        select(func.count()).select_from(Subscriber).where(
            Subscriber.status == SubscriberStatus.ACTIVE,
            Subscriber.frequency == Frequency.WEEKLY,
            Subscriber.weekday == weekday,
        )
    ) or 0  # fmt: skip


def daily_reader_zones(session: Session) -> list[str | None]:
    """The distinct time zones of the active daily readers (None: the newsletter's)."""
    return list(
        session.scalars(
            select(Subscriber.timezone).distinct().where(
                Subscriber.status == SubscriberStatus.ACTIVE,
                Subscriber.frequency == Frequency.DAILY,
            )
        )
    )  # fmt: skip


def count_subscribers_not_from(session: Session, source: str) -> int:
    """Subscribers not added by ``source`` (imports without a source count: the demo's
    check for foreign data)."""
    return session.scalar(
        select(func.count()).select_from(Subscriber).where(
            or_(Subscriber.source.is_(None), Subscriber.source != source)
        )
    ) or 0  # fmt: skip


def get_subscriber(session: Session, subscriber_id: int) -> Subscriber | None:
    """The subscriber with id ``subscriber_id``, or None when there is none (never was, or
    deleted)."""
    return session.get(Subscriber, subscriber_id)


def subscriber_by_email(session: Session, email: str) -> Subscriber | None:
    """The subscriber with the address ``email`` (compared as :func:`email_key`: case and
    surrounding spaces do not matter), or None."""
    key = email_key(email)
    return session.scalars(select(Subscriber).where(Subscriber.email_key == key)).first()


def activate(session: Session, subscriber: Subscriber) -> bool:
    """Activate ``subscriber`` after a confirmation: a pending or unsubscribed subscriber
    becomes ``active`` (confirmed now, UTC; its unsubscribe time cleared); any other status
    (active, bounced, complained) is kept. Returns True if the status changed. Does not
    commit."""
    if subscriber.status not in (SubscriberStatus.PENDING, SubscriberStatus.UNSUBSCRIBED):
        return False
    subscriber.status = SubscriberStatus.ACTIVE
    subscriber.confirmed_at = utcnow()
    subscriber.unsubscribed_at = None
    return True


def count_soft_bounce(session: Session, email: str) -> int | None:
    """Add one to the soft-bounce count of the subscriber with ``email`` (one ``UPDATE ...
    RETURNING``: concurrent bounces each count) and return the new count, or None when no
    subscriber has that address. Does not commit; objects already loaded in ``session`` are
    not refreshed."""
    return session.scalars(
        update(Subscriber)
        .where(Subscriber.email_key == email_key(email))
        .values(soft_bounces=Subscriber.soft_bounces + 1)
        .returning(Subscriber.soft_bounces)
        .execution_options(synchronize_session=False)
    ).first()


def reset_soft_bounces(session: Session, email: str) -> bool:
    """Set the soft-bounce count of the subscriber with ``email`` back to 0 (a delivery ends
    "in a row"); True if there was a count above 0 to reset. Does not commit; objects already
    loaded in ``session`` are not refreshed."""
    result = session.execute(
        update(Subscriber)
        .where(Subscriber.email_key == email_key(email), Subscriber.soft_bounces > 0)
        .values(soft_bounces=0)
        .execution_options(synchronize_session=False)
    )
    return bool(affected(result))


def _contains(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere, its wildcards escaped (escape ``\\``)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_subscribers(session: Session, text: str, limit: int) -> list[Subscriber]:
    """Subscribers whose address contains ``text`` (compared as :func:`email_key`; ``%``,
    ``_`` and ``\\`` match themselves), by address, at most ``limit`` of them. ``text``
    must hold no NUL (PostgreSQL refuses it in a string)."""
    pattern = _contains(email_key(text))
    return list(
        session.scalars(
            select(Subscriber)
            .where(Subscriber.email_key.like(pattern, escape="\\"))
            .order_by(Subscriber.email_key)
            .limit(limit)
        )
    )


def subscribers_after(session: Session, after_id: int, limit: int) -> list[Subscriber]:
    """Up to ``limit`` subscribers with an id above ``after_id``, by id: one page of a walk
    through every subscriber (start with 0, go on from the last id; an empty list ends)."""
    return list(
        session.scalars(
            select(Subscriber).where(Subscriber.id > after_id).order_by(Subscriber.id).limit(limit)
        )
    )


# --- named queries for callers without a session of their own (the command line) ---------
@dataclass(frozen=True)
class AddedSubscriber:
    """What :func:`add_one` did: the stored ``email`` and ``status``, whether it was
    ``created``, and the status it refused to override (``kept_status``)."""

    email: str
    status: str
    created: bool
    kept_status: str | None = None


def add_one(
    sessions: sessionmaker[Session], record: SubscriberRecord, *, source: str
) -> AddedSubscriber:
    """:func:`add_subscriber` in a transaction of its own (committed)."""
    from newsletter.store.db import transaction

    with transaction(sessions) as session:
        result = add_subscriber(session, record, source=source)
        return AddedSubscriber(
            result.subscriber.email, result.subscriber.status, result.created, result.kept_status
        )


def unsubscribe_address(sessions: sessionmaker[Session], email: str) -> str | None:
    """Mark the subscriber with ``email`` unsubscribed (committed); returns the stored
    address, or None when there is no such subscriber."""
    from newsletter.store.db import transaction

    with transaction(sessions) as session:
        subscriber = set_status(session, email, SubscriberStatus.UNSUBSCRIBED)
        return subscriber.email if subscriber is not None else None


@dataclass(frozen=True)
class SubscriberRow:
    """One subscriber as a listing shows it."""

    id: int
    email: str
    name: str | None
    status: str
    topics: list[str]
    timezone: str | None
    created_at: datetime


def subscriber_rows(sessions: sessionmaker[Session]) -> Iterator[SubscriberRow]:
    """Every subscriber by id, streamed in one session (flat memory on large lists)."""
    with sessions() as session:
        for s in iter_subscribers(session):
            yield SubscriberRow(s.id, s.email, s.name, s.status, s.topics, s.timezone, s.created_at)


def subscriber_counts(sessions: sessionmaker[Session]) -> dict[str, int]:
    """:func:`count_by_status` in a session of its own."""
    with sessions() as session:
        return count_by_status(session)
