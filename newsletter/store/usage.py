"""How much the provider has been given lately: the count behind the daily cap."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from newsletter.store.models import Delivery, DeliveryStatus
from newsletter.timeutil import utcnow

#: The window of a daily cap (SES counts its quota over the last 24 hours).
WINDOW = timedelta(hours=24)


def sent_in_window(
    session: Session, now: datetime | None = None, window: timedelta = WINDOW
) -> tuple[int, datetime | None]:
    """(deliveries of every edition accepted in the ``window`` before ``now``, when the
    oldest of them leaves the window (UTC) or None)."""
    now = now or utcnow()
    count, first = session.execute(
        select(func.count(), func.min(Delivery.sent_at)).where(
            Delivery.status == DeliveryStatus.SENT, Delivery.sent_at >= now - window
        )
    ).one()
    if first is not None and first.tzinfo is None:  # SQLite aggregate: stored UTC wall time
        first = first.replace(tzinfo=UTC)
    return int(count or 0), (first + window) if first is not None else None
