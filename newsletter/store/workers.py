"""Worker heartbeats: who is delivering right now."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from newsletter.store.db import affected
from newsletter.store.models import Worker
from newsletter.timeutil import utcnow

#: A worker that has not beaten for this long is considered gone.
HEARTBEAT_TIMEOUT = timedelta(seconds=30)


def beat(session: Session, worker_id: str) -> None:
    """Record that ``worker_id`` is alive now (creating its row). Does not commit."""
    now = utcnow()
    updated = affected(
        session.execute(
            update(Worker)
            .where(Worker.id == worker_id)
            .values(heartbeat_at=now)
            .execution_options(synchronize_session=False)
        )
    )
    if not updated:
        session.add(Worker(id=worker_id, started_at=now, heartbeat_at=now))
    session.flush()


def leave(session: Session, worker_id: str) -> None:
    """Remove ``worker_id`` (a clean stop). Does not commit."""
    session.execute(delete(Worker).where(Worker.id == worker_id))


def live_workers(session: Session, timeout: timedelta = HEARTBEAT_TIMEOUT) -> int:
    """Workers whose last heartbeat is less than ``timeout`` old. A running worker beats
    from a thread of its own every third of :data:`HEARTBEAT_TIMEOUT`, during a send too."""
    cutoff = utcnow() - timeout
    return (
        session.scalar(
            select(func.count()).select_from(Worker).where(Worker.heartbeat_at >= cutoff)
        )
        or 0
    )
