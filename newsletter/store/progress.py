"""An edition's send as the outbox shows it at one moment: rows per status, the next retry,
the recent rate, and the figures ``newsletter status`` prints. Read-only queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session, sessionmaker

from newsletter.store.models import Delivery, DeliveryStatus
from newsletter.store.outbox import worker_owners
from newsletter.store.workers import live_workers
from newsletter.timeutil import utcnow


def delivery_counts(session: Session, edition_id: int) -> dict[str, int]:
    """Rows per status for the edition (every status present, zeros included)."""
    counts = {status.value: 0 for status in DeliveryStatus}
    for status, count in session.execute(
        select(Delivery.status, func.count())
        .where(Delivery.edition_id == edition_id)
        .group_by(Delivery.status)
    ):
        counts[status] = count
    return counts


def next_retry_at(session: Session, edition_id: int) -> datetime | None:
    """When the earliest deferred row of the edition becomes claimable, or None."""
    return session.scalar(
        select(func.min(Delivery.next_attempt_at)).where(
            and_(Delivery.edition_id == edition_id, Delivery.status == DeliveryStatus.DEFERRED)
        )
    )


def send_rate(session: Session, edition_id: int, seconds: int = 60) -> float:
    """Messages accepted per second over the last ``seconds`` for the edition, measured
    from the first of them (a send that began 10 s ago is not averaged over a minute)."""
    now = utcnow()
    sent, first = session.execute(
        select(func.count(), func.min(Delivery.sent_at)).where(
            Delivery.edition_id == edition_id,
            Delivery.status == DeliveryStatus.SENT,
            Delivery.sent_at >= now - timedelta(seconds=seconds),
        )
    ).one()
    if not sent or first is None:
        return 0.0
    if first.tzinfo is None:  # SQLite through a bare aggregate: the stored UTC wall time
        first = first.replace(tzinfo=UTC)
    return sent / max(1.0, (now - first).total_seconds())


@dataclass(frozen=True)
class SendFigures:
    """What the database says about an edition's send at one moment: rows per delivery
    status (every status, zeros included), messages accepted per second over the last
    minute, the ``sending`` rows (handed over, answer not recorded) per worker id, and the
    workers whose heartbeat is recent."""

    counts: dict[str, int]
    rate_per_second: float
    in_flight_by_worker: dict[str, int]
    live_workers: int


def send_figures(sessions: sessionmaker[Session], edition_id: int) -> SendFigures:
    """The :class:`SendFigures` of an edition, read in one session."""
    with sessions() as session:
        return SendFigures(
            counts=delivery_counts(session, edition_id),
            rate_per_second=send_rate(session, edition_id),
            in_flight_by_worker=worker_owners(session, edition_id, DeliveryStatus.SENDING),
            live_workers=live_workers(session),
        )
