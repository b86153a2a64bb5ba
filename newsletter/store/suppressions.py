"""The suppression list: addresses never mailed again, whatever their subscriber row says."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from newsletter.store.models import Subscriber, SubscriberStatus, Suppression
from newsletter.store.subscribers import email_key, erased_key
from newsletter.timeutil import utcnow

#: The subscriber status that goes with each suppression reason.
STATUS_OF = {
    "hard_bounce": SubscriberStatus.BOUNCED,
    "complaint": SubscriberStatus.COMPLAINED,
    "soft_bounces": SubscriberStatus.BOUNCED,  # too many soft bounces in a row
    "manual": SubscriberStatus.UNSUBSCRIBED,
}


def suppress(session: Session, email: str, reason: str, detail: str | None = None) -> bool:
    """Add ``email`` to the suppression list (idempotent) and set its subscriber's status.
    Returns True if the address was not suppressed before. Does not commit."""
    key = email_key(email)
    new = session.get(Suppression, key) is None
    if new:
        session.add(Suppression(email_key=key, reason=reason, detail=detail, created_at=utcnow()))
    session.execute(
        update(Subscriber)
        .where(Subscriber.email_key == key, Subscriber.status == SubscriberStatus.ACTIVE)
        .values(status=STATUS_OF.get(reason, SubscriberStatus.UNSUBSCRIBED))
        .execution_options(synchronize_session=False)
    )
    session.flush()
    return new


def is_suppressed(session: Session, email: str) -> bool:
    """True if ``email`` (compared as :func:`email_key`) is on the suppression list, as
    itself or as the digest its erasure kept (:func:`erased_key`)."""
    key = email_key(email)
    return (
        session.get(Suppression, key) is not None
        or session.get(Suppression, erased_key(key)) is not None
    )


def recent_suppressions(session: Session, limit: int) -> list[Suppression]:
    """The ``limit`` newest suppressions, newest first (``created_at``, UTC)."""
    return list(
        session.scalars(
            select(Suppression).order_by(Suppression.created_at.desc()).limit(limit)
        ).all()
    )
