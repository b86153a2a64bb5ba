"""What happened after an edition went out: read-only queries for its report and for the
newsroom's 30-day view.

An edition's bounces, complaints and unsubscribes are those of its recipients between its
release and the next edition's release (of the same newsletter): the last edition a reader
received is the one their reaction is counted against. Provider events (webhooks, DSN and
ARF reports) carry no edition, so this is the attribution; a recipient counts once per
kind however many events they caused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Date, Select, String, cast, func, select
from sqlalchemy.orm import Session

from newsletter.store.clicks import clicks_by_day
from newsletter.store.models import (
    Delivery,
    DeliveryStatus,
    Edition,
    ProviderEvent,
    Subscriber,
)

#: Provider event kinds counted as a bounce (a soft bounce is still a message that did not
#: arrive); complaints are ``complaint``.
BOUNCE_KINDS = ("hard_bounce", "soft_bounce")


@dataclass(frozen=True)
class Reactions:
    """Recipients of an edition who bounced, complained or unsubscribed in its window."""

    bounced: int
    complained: int
    unsubscribed: int


def _window(session: Session, edition: Edition) -> tuple[datetime, datetime | None]:
    """``[release, next release)`` of ``edition`` (UTC; open-ended for the latest)."""
    start = edition.released_at or edition.composed_at
    following = session.scalar(
        select(func.min(Edition.released_at)).where(
            Edition.newsletter == edition.newsletter,
            Edition.date > edition.date,
            Edition.released_at.is_not(None),
        )
    )
    return start, following


def _recipients(edition_id: int) -> Select[str]:
    return (
        select(Subscriber.email_key)
        .join(Delivery, Delivery.subscriber_id == Subscriber.id)
        .where(Delivery.edition_id == edition_id)
    )


def edition_reactions(session: Session, edition: Edition) -> Reactions:
    """The :class:`Reactions` of a released ``edition`` (see the module docstring)."""
    start, end = _window(session, edition)
    recipients = _recipients(edition.id).scalar_subquery()

    def reacted(*kinds: str) -> int:
        where = [
            ProviderEvent.kind.in_(kinds),
            ProviderEvent.email_key.in_(recipients),
            ProviderEvent.received_at >= start,
        ]
        if end is not None:
            where.append(ProviderEvent.received_at < end)
        return int(
            session.scalar(select(func.count(func.distinct(ProviderEvent.email_key))).where(*where))
            or 0
        )

    where = [
        Delivery.edition_id == edition.id,
        Subscriber.unsubscribed_at >= start,
        Subscriber.status == "unsubscribed",
    ]
    if end is not None:
        where.append(Subscriber.unsubscribed_at < end)
    unsubscribed = session.scalar(
        select(func.count(func.distinct(Subscriber.id)))
        .join(Delivery, Delivery.subscriber_id == Subscriber.id)
        .where(*where)
    )
    return Reactions(reacted(*BOUNCE_KINDS), reacted("complaint"), int(unsubscribed or 0))


@dataclass(frozen=True)
class DayFigures:
    """One day of the 30-day view: messages sent, bounces, complaints (provider events),
    unsubscribes, sign-ups (new subscribers) and clicks (on that date's editions)."""

    day: date
    sends: int = 0
    bounces: int = 0
    complaints: int = 0
    unsubscribes: int = 0
    signups: int = 0
    clicks: int = 0


def _per_day(
    session: Session, column: Any, where: ColumnElement[bool], start: datetime
) -> dict[date, int]:
    """Rows per UTC day of ``column`` (a UTC datetime) from ``start`` on, grouped in SQL."""
    if session.get_bind().dialect.name == "postgresql":
        day: ColumnElement[Any] = cast(func.timezone("UTC", column), Date)
    else:  # SQLite stores the UTC wall time as text: its first 10 characters are the day
        day = func.substr(cast(column, String), 1, 10)
    counts: dict[date, int] = {}
    rows: Any = session.execute(
        select(day, func.count()).where(where, column >= start).group_by(day)
    )
    for value, count in rows:
        if value is not None:
            counts[value if isinstance(value, date) else date.fromisoformat(str(value))] = int(
                count
            )
    return counts


def daily_figures(session: Session, end: date, days: int = 30) -> list[DayFigures]:
    """The :class:`DayFigures` of the ``days`` days ending with ``end`` (UTC days; clicks by
    edition date), oldest first, every day present (zeros included)."""
    first = end - timedelta(days=days - 1)
    start = datetime.combine(first, datetime.min.time(), tzinfo=UTC)
    sends = _per_day(session, Delivery.sent_at, Delivery.status == DeliveryStatus.SENT, start)
    bounces = _per_day(
        session, ProviderEvent.received_at, ProviderEvent.kind.in_(BOUNCE_KINDS), start
    )
    complaints = _per_day(
        session, ProviderEvent.received_at, ProviderEvent.kind == "complaint", start
    )
    unsubscribes = _per_day(
        session, Subscriber.unsubscribed_at, Subscriber.unsubscribed_at.is_not(None), start
    )
    signups = _per_day(session, Subscriber.created_at, Subscriber.source == "web", start)
    clicks = clicks_by_day(session, first, end)
    return [
        DayFigures(
            day,
            sends.get(day, 0),
            bounces.get(day, 0),
            complaints.get(day, 0),
            unsubscribes.get(day, 0),
            signups.get(day, 0),
            clicks.get(day, 0),
        )
        for day in (first + timedelta(days=n) for n in range(days))
    ]


@dataclass(frozen=True)
class Failure:
    """A delivery that failed or waits for a retry: the address, its state (``failed`` or
    ``deferred``), the provider's code and text, the attempts so far."""

    email: str
    status: str
    code: int | None
    error: str | None
    attempts: int


def failures(session: Session, edition_id: int, limit: int = 200) -> list[Failure]:
    """The edition's failed then deferred deliveries with their reasons, at most ``limit``,
    the latest attempts first within each state."""
    rows = session.execute(
        select(
            Delivery.email,
            Delivery.status,
            Delivery.last_code,
            Delivery.last_error,
            Delivery.attempts,
        )
        .where(
            Delivery.edition_id == edition_id,
            Delivery.status.in_((DeliveryStatus.FAILED, DeliveryStatus.DEFERRED)),
        )
        .order_by(Delivery.status.desc(), Delivery.id.desc())
        .limit(limit)
    )
    return [
        Failure(email, status, code, error, attempts)
        for email, status, code, error, attempts in rows
    ]
