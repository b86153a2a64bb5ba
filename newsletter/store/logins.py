"""Failed editors' sign-ins, by key (an account at an address, or an address), in the
database so that every web process sees the same count and a restart forgets nothing."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from newsletter.store.models import LoginFailure


def locked_until(session: Session, keys: list[str], now: datetime) -> datetime | None:
    """The latest end of a lock still running at ``now`` (aware UTC) among ``keys``, or
    None when none is locked."""
    ends = session.scalars(
        select(LoginFailure.locked_until).where(
            LoginFailure.key.in_(keys), LoginFailure.locked_until > now
        )
    ).all()
    return max((end for end in ends if end is not None), default=None)


def add_failure(session: Session, key: str, now: datetime, *, forget_after: timedelta) -> int:
    """Count one failure of ``key`` at ``now``; failures are forgotten first when the last
    one, and the end of the lock it started, are more than ``forget_after`` ago. Returns
    the failures in a row, this one included. Safe against concurrent failures of the same
    key (an upsert, then the row locked). Does not commit."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(LoginFailure)
        .values(key=key, failures=0, last_failure_at=now, locked_until=None)
        .on_conflict_do_nothing(index_elements=["key"])
    )
    row = session.scalars(
        select(LoginFailure).where(LoginFailure.key == key).with_for_update()
    ).one()
    quiet_since = max(row.last_failure_at, row.locked_until or row.last_failure_at)
    if quiet_since < now - forget_after:
        row.failures, row.locked_until = 0, None
    row.failures += 1
    row.last_failure_at = now
    session.flush()
    return row.failures


def lock(session: Session, key: str, until: datetime) -> None:
    """Lock ``key`` until ``until`` (aware UTC). Does not commit."""
    row = session.get(LoginFailure, key)
    if row is not None:
        row.locked_until = until
        session.flush()


def clear(session: Session, keys: list[str]) -> None:
    """Forget the failures of ``keys`` (a successful sign-in). Does not commit."""
    session.execute(delete(LoginFailure).where(LoginFailure.key.in_(keys)))
