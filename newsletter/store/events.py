"""Provider events (table ``provider_events``): what a provider reported, kept once.

A row is unique per (provider, event key): recording the same event twice fails on that
constraint, which is how a duplicate delivery of an event (providers retry webhooks; a
bounce message may be imported twice) is told apart from a new one, even when the two
arrive at the same time.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from newsletter.store.db import transaction
from newsletter.store.models import ProviderEvent
from newsletter.timeutil import utcnow


class DuplicateEvent(Exception):
    """A transaction of :func:`event_transaction` hit a uniqueness constraint (a twin of the
    event committed first); everything it did was rolled back."""


@contextmanager
def event_transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session in one transaction, as :func:`newsletter.store.db.transaction` (committed on
    success, rolled back on any exception), where a uniqueness conflict anywhere in it (the
    event's row, or a row its effect adds, such as a suppression a concurrent event added
    first) raises :class:`DuplicateEvent` once rolled back. Other database errors
    propagate unchanged."""
    try:
        with transaction(factory) as session:
            yield session
    except IntegrityError as exc:
        raise DuplicateEvent(str(exc.orig)) from exc


def event_seen(session: Session, provider: str, event_key: str) -> bool:
    """True if the event ``event_key`` of ``provider`` (e.g. ``"ses"``) is recorded already
    (committed, or added earlier in this transaction)."""
    return (
        session.scalars(
            select(ProviderEvent.id).where(
                ProviderEvent.provider == provider,
                ProviderEvent.event_key == event_key,
            )
        ).first()
        is not None
    )


def record_event(
    session: Session, *, provider: str, event_key: str, kind: str, email_key: str | None,
    detail: str | None,
) -> None:  # fmt: skip
    """Record an event (``kind``: ``hard_bounce``, ``soft_bounce``, ``complaint``,
    ``delivered``, ``unsubscribe``; ``email_key``: the lower-cased address; received now,
    UTC) and flush it, so that a concurrent twin fails here: the flush raises SQLAlchemy's
    ``IntegrityError``, which :func:`event_transaction` turns into :class:`DuplicateEvent`.
    Does not commit."""
    session.add(
        ProviderEvent(
            provider=provider,
            event_key=event_key,
            kind=kind,
            email_key=email_key,
            detail=detail,
            received_at=utcnow(),
        )
    )
    session.flush()
