"""Erasure of a person's data (GDPR art. 17, "right to erasure"): the subscriber row goes,
with the preferences it holds; the deliveries stay for the editions' counts but keep no
address and no link to the person; the provider events lose the address; a suppression
stays, as a digest of the address (:func:`newsletter.store.subscribers.erased_key`), so
that the address is still refused (art. 17(3)(b) and (e): keeping what is needed to honour
an objection) without being kept."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from newsletter.store.db import affected, transaction
from newsletter.store.models import (
    Delivery,
    DeliveryStatus,
    ProviderEvent,
    Subscriber,
    Suppression,
)
from newsletter.store.subscribers import email_key, erased_key

#: Delivery states not yet handed to a provider: an erased person's become ``skipped``.
_NOT_HANDED = (DeliveryStatus.PENDING, DeliveryStatus.CLAIMED, DeliveryStatus.DEFERRED)


@dataclass(frozen=True)
class Erasure:
    """What an erasure did: whether a subscriber row was deleted, how many deliveries now
    keep no address (``skipped`` of them were still to send), how many provider events
    lost the address, whether a suppression of the address was turned into a digest now
    (``digested``) and whether the address stays suppressed (``suppression``)."""

    subscriber: bool
    deliveries: int
    skipped: int
    events: int
    digested: bool
    suppression: bool

    @property
    def found(self) -> bool:
        """True if anything held the address itself (False: already erased, or unknown)."""
        return self.subscriber or bool(self.deliveries or self.events) or self.digested


def erase(session: Session, email: str) -> Erasure:
    """Remove the address ``email`` (compared as :func:`email_key`) from every table:
    delete its subscriber row; empty the address of its deliveries and unlink them (those
    not yet handed over become ``skipped``; an error text or message id naming the
    address is dropped);
    drop the address and detail of its provider events; replace a suppression of the
    address by its digest. Idempotent. Does not commit."""
    key = email_key(email)
    subscriber_id = session.scalar(select(Subscriber.id).where(Subscriber.email_key == key))
    mine = func.lower(Delivery.email) == key
    if subscriber_id is not None:
        mine = (Delivery.subscriber_id == subscriber_id) | mine
    skipped = affected(
        session.execute(
            update(Delivery)
            .where(mine, Delivery.status.in_(_NOT_HANDED))
            .values(status=DeliveryStatus.SKIPPED, last_error="erased")
            .execution_options(synchronize_session=False)
        )
    )
    for column in (Delivery.last_error, Delivery.provider_message_id):
        session.execute(
            update(Delivery)
            .where(mine, func.lower(column).contains(key, autoescape=True))
            .values({column.key: None})
            .execution_options(synchronize_session=False)
        )
    deliveries = affected(
        session.execute(
            update(Delivery)
            .where(mine)
            .values(email="", subscriber_id=None)
            .execution_options(synchronize_session=False)
        )
    )
    events = affected(
        session.execute(
            update(ProviderEvent)
            .where(ProviderEvent.email_key == key)
            .values(email_key=None, detail=None)
            .execution_options(synchronize_session=False)
        )
    )
    suppression = session.get(Suppression, key)
    digested = kept = suppression is not None
    if suppression is not None:
        digest = erased_key(key)
        if session.get(Suppression, digest) is None:
            session.add(Suppression(email_key=digest, reason=suppression.reason, detail=None,
                                    created_at=suppression.created_at))  # fmt: skip
        session.delete(suppression)
    elif session.get(Suppression, erased_key(key)) is not None:
        kept = True
    if subscriber_id is not None:
        session.execute(delete(Subscriber).where(Subscriber.id == subscriber_id))
    session.flush()
    return Erasure(subscriber_id is not None, deliveries, skipped, events, digested, kept)


def erase_address(sessions: sessionmaker[Session], email: str) -> Erasure:
    """:func:`erase` in a transaction of its own (committed)."""
    with transaction(sessions) as session:
        return erase(session, email)
