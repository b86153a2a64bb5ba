"""The editors' audit log: who did what to which edition, when and from where.

Rows are only added, never changed; the pages read them newest first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from newsletter.store.models import AuditEntry, Edition
from newsletter.timeutil import utcnow

#: Longest client address kept (an IPv6 address with a zone fits).
ADDRESS_CHARS = 64


@dataclass(frozen=True)
class Actor:
    """Who acts: an editor's address, or ``cli`` / ``scheduler``; ``address``: the client's
    IP address (None outside the web)."""

    who: str
    address: str | None = None


def record(
    session: Session,
    actor: Actor,
    action: str,
    *,
    edition: Edition | None = None,
    target: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Add one entry (now, aware UTC) for ``actor``'s ``action`` on ``edition`` (its
    version as it stands after the action). Does not commit."""
    entry = AuditEntry(
        at=utcnow(),
        actor=actor.who[:320],
        address=actor.address[:ADDRESS_CHARS] if actor.address else None,
        action=action,
        edition_id=edition.id if edition is not None else None,
        version=edition.version if edition is not None else None,
        target=target,
        details=details or {},
    )
    session.add(entry)
    session.flush()
    return entry


def entries(
    session: Session, *, limit: int, offset: int = 0, edition_id: int | None = None
) -> list[tuple[AuditEntry, Edition | None]]:
    """Up to ``limit`` entries from ``offset`` on, newest first (ties: last added first),
    each with its edition (None for an action on no edition); only ``edition_id``'s when
    given."""
    query = select(AuditEntry, Edition).outerjoin(Edition, AuditEntry.edition_id == Edition.id)
    if edition_id is not None:
        query = query.where(AuditEntry.edition_id == edition_id)
    query = query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit).offset(offset)
    return [(entry, edition) for entry, edition in session.execute(query).all()]


def count(session: Session, edition_id: int | None = None) -> int:
    """Number of entries (of ``edition_id`` only when given)."""
    query = select(func.count()).select_from(AuditEntry)
    if edition_id is not None:
        query = query.where(AuditEntry.edition_id == edition_id)
    return int(session.scalar(query) or 0)
