"""Erasing a subscriber on request (GDPR article 17; loi 09-08 article 8): the row goes,
and with it (``ON DELETE CASCADE``) its deliveries and any per-reader clicks. A suppression
of the address is kept: it is what guarantees the address is never mailed again (the
GDPR's recital 66 lets a controller keep what it needs to honour an objection).

A small stand-in for the audience's erasure use case, used by ``DELETE
/api/v1/subscribers/{email}``."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.orm import Session

from newsletter.store.models import Subscriber
from newsletter.store.subscribers import email_key


def erase_subscriber(session: Session, email: str) -> bool:
    """Delete the subscriber with the address ``email`` (compared case-insensitively) and
    what cascades from it; True if there was one. Does not commit."""
    result = session.execute(
        delete(Subscriber)
        .where(Subscriber.email_key == email_key(email))
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))
