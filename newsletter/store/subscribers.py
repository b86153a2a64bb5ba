"""Subscriber queries: add or merge by address, import in batches, list, stream, erase."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from newsletter.store.db import affected
from newsletter.store.models import Frequency, MessageFormat, Subscriber, SubscriberStatus
from newsletter.timeutil import utcnow

#: Prefix of a suppression kept as a digest once its subscriber was erased.
ERASED_PREFIX = "sha256:"


@dataclass(frozen=True)
class SubscriberState:
    """What the system and the reader set on a subscriber row beyond the address, name,
    topics and time zone: the state a lossless export carries and an import into an empty
    database restores. Datetimes aware UTC; ``weekday`` 0 = Monday; ``paused_until`` the
    local date the reader receives again from."""

    status: str = SubscriberStatus.ACTIVE
    frequency: str = Frequency.DAILY
    weekday: int | None = None
    format: str = MessageFormat.HTML
    paused_until: date | None = None
    created_at: datetime | None = None
    confirmed_at: datetime | None = None
    unsubscribed_at: datetime | None = None
    source: str | None = None
    soft_bounces: int = 0


@dataclass(frozen=True)
class SubscriberRecord:
    """A validated subscriber to add: ``email`` already normalised by the caller; ``state``
    (a row of a lossless export) sets the new row's status and preferences, None gives an
    active daily HTML reader confirmed now."""

    email: str
    name: str | None = None
    topics: list[str] = field(default_factory=list)
    timezone: str | None = None
    state: SubscriberState | None = None


class SuppressedAddress(ValueError):
    """The address is on the suppression list (as itself, or as the digest an erasure
    left): no subscriber row is made for it."""


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


def erased_key(email: str) -> str:
    """The suppression key an erasure keeps for ``email``: ``"sha256:"`` and the SHA-256
    hex digest of :func:`email_key` (71 characters). Unkeyed, so that it survives a change
    of ``NEWSLETTER_SECRET_KEY``; it can only confirm an address one already knows."""
    return ERASED_PREFIX + hashlib.sha256(email_key(email).encode("utf-8")).hexdigest()


def _new_values(record: SubscriberRecord, key: str, source: str, status: str) -> dict[str, Any]:
    """The columns of a new subscriber row for ``record`` (its ``state`` when it has one)."""
    now = utcnow()
    state = record.state
    values: dict[str, Any] = {
        "email": record.email, "email_key": key, "name": record.name,
        "topics": list(record.topics), "timezone": record.timezone,
    }  # fmt: skip
    if state is None:
        values.update(
            status=status, source=source, created_at=now,
            confirmed_at=now if status == SubscriberStatus.ACTIVE else None,
            unsubscribed_at=None, frequency=Frequency.DAILY, weekday=None, paused_until=None,
            format=MessageFormat.HTML, soft_bounces=0,
        )  # fmt: skip
        return values
    confirmed = state.confirmed_at
    if confirmed is None and state.status == SubscriberStatus.ACTIVE and not state.created_at:
        confirmed = now
    values.update(
        status=state.status, source=state.source or source, created_at=state.created_at or now,
        confirmed_at=confirmed, unsubscribed_at=state.unsubscribed_at,
        frequency=state.frequency, weekday=state.weekday, paused_until=state.paused_until,
        format=state.format, soft_bounces=state.soft_bounces,
    )  # fmt: skip
    return values


def add_subscriber(
    session: Session, record: SubscriberRecord, *, source: str,
    status: SubscriberStatus = SubscriberStatus.ACTIVE,
) -> AddResult:  # fmt: skip
    """Add ``record`` or merge it into the subscriber with the same address.

    Merging fills in the given name, topics and time zone; it never re-activates an address
    that unsubscribed, bounced or complained (consent and reputation: only the reader can
    come back, through confirmation). Raises :class:`SuppressedAddress` for a new address
    whose suppression an erasure kept as a digest (no row may hold it again; a plain
    suppression is checked by the callers and by the release). Does not commit.
    """
    key = email_key(record.email)
    existing = session.scalars(select(Subscriber).where(Subscriber.email_key == key)).first()
    now = utcnow()
    if existing is None:
        if _erased_suppressed(session, [key]):
            raise SuppressedAddress(f"{record.email} is on the suppression list")
        subscriber = Subscriber(**_new_values(record, key, source, status))
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


def _erased_suppressed(session: Session, keys: Sequence[str]) -> set[str]:
    """The keys among ``keys`` (:func:`email_key` values) whose suppression an erasure kept
    as a digest."""
    from newsletter.store.models import Suppression

    digests = {erased_key(key): key for key in keys}
    found = session.scalars(
        select(Suppression.email_key).where(Suppression.email_key.in_(list(digests)))
    )
    return {digests[digest] for digest in found}


def suppressed_keys(session: Session, keys: Sequence[str]) -> set[str]:
    """The keys among ``keys`` (:func:`email_key` values) on the suppression list, as
    themselves or as the digest an erasure kept (:func:`erased_key`)."""
    from newsletter.store.models import Suppression

    plain = set(
        session.scalars(select(Suppression.email_key).where(Suppression.email_key.in_(keys)))
    )
    return plain | _erased_suppressed(session, keys)


def import_subscriber(
    session: Session, record: SubscriberRecord, *, source: str
) -> tuple[str, str]:
    """Merge one row of an import: see :func:`import_batch` (outcome ``"suppressed"``
    included). Does not commit."""
    return import_batch(session, [record], source=source)[0]


def import_batch(
    session: Session, records: Sequence[SubscriberRecord], *, source: str
) -> list[tuple[str, str]]:
    """Merge rows of an import, distinct addresses, in two queries and one flush:
    ``(outcome, status)`` per record, outcome ``"added"``, ``"updated"``, ``"unchanged"`` or
    ``"suppressed"``, status the subscriber's status afterwards ("" when suppressed).

    A new address is added with the row's values, its ``state`` included (an export's
    status, preferences and dates: a restore is exact); without a state it is active. For
    an existing subscriber an import never changes what readers manage on their
    preferences page (topics, time zone, frequency, weekday, format, pause) nor the status
    (consent: an unsubscribed, bounced or pending address stays so); it only fills in a
    missing name. An address on the suppression list (plain or erased) gets no row. Does
    not commit.
    """
    keys = [email_key(record.email) for record in records]
    existing = {
        s.email_key: s
        for s in session.scalars(select(Subscriber).where(Subscriber.email_key.in_(keys)))
    }
    suppressed = suppressed_keys(session, [k for k in keys if k not in existing])
    out: list[tuple[str, str]] = []
    new: dict[str, dict[str, Any]] = {}
    for key, record in zip(keys, records, strict=True):
        found = existing.get(key)
        if found is None and key in suppressed:
            out.append(("suppressed", ""))
        elif found is None and key in new:
            out.append(("unchanged", new[key]["status"]))
        elif found is None:
            new[key] = _new_values(record, key, source, SubscriberStatus.ACTIVE)
            out.append(("added", new[key]["status"]))
        elif record.name and not found.name:
            found.name = record.name
            out.append(("updated", found.status))
        else:
            out.append(("unchanged", found.status))
    session.flush()
    if new:  # one multi-row INSERT (Core: no ORM object per row)
        session.execute(insert(Subscriber), list(new.values()))
    return out


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
