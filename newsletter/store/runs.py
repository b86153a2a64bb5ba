"""The scheduler's ledger (table ``scheduler_runs``): who does which action of which day.

Every action of the scheduler's day (compose the draft, notify the editors, send, each kind
of alert) is claimed first with one ``INSERT ... ON CONFLICT DO NOTHING`` on the unique
(newsletter, job, day): when two ``newsletter run`` processes share a database, exactly one
of them wins and acts; the other sees the claim and does nothing. A claim left unfinished by
a process that died can be taken over after its lease (one guarded ``UPDATE``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from newsletter.store.db import affected
from newsletter.store.models import SchedulerRun
from newsletter.timeutil import utcnow


@dataclass(frozen=True)
class RunKey:
    """One action of one day: ``job`` (compose, notify, send, alert:<kind>) of local ``day``
    for ``newsletter`` ("default" for the daily edition, "weekly" for the weekly one)."""

    job: str
    day: date
    newsletter: str = "default"


def claim(
    session: Session,
    key: RunKey,
    owner: str,
    *,
    lease_seconds: float | None = None,
    now: datetime | None = None,
) -> bool:
    """Claim ``key`` for ``owner``; True if this call won it. Does not commit.

    A claim still unfinished after ``lease_seconds`` (None: never) is taken over, so that an
    action whose process died is done by another; a finished claim is never taken again.
    """
    now = now or utcnow()
    dialect = session.get_bind().dialect.name
    values = {
        "newsletter": key.newsletter, "job": key.job, "day": key.day, "owner": owner,
        "claimed_at": now,
    }  # fmt: skip
    statement: Any
    if dialect == "postgresql":
        statement = postgresql_insert(SchedulerRun).values(**values)
    elif dialect == "sqlite":
        statement = sqlite_insert(SchedulerRun).values(**values)
    else:  # pragma: no cover - other backends: the unique constraint raises instead
        statement = insert(SchedulerRun).values(**values)
    if dialect in ("postgresql", "sqlite"):
        statement = statement.on_conflict_do_nothing(index_elements=["newsletter", "job", "day"])
    # RETURNING says whether the row went in (psycopg reports no rowcount here).
    if session.execute(statement.returning(SchedulerRun.id)).scalar() is not None:
        return True
    if lease_seconds is None:
        return False
    taken = session.execute(
        update(SchedulerRun)
        .where(
            SchedulerRun.newsletter == key.newsletter,
            SchedulerRun.job == key.job,
            SchedulerRun.day == key.day,
            SchedulerRun.finished_at.is_(None),
            SchedulerRun.claimed_at < now - timedelta(seconds=lease_seconds),
        )
        .values(owner=owner, claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(affected(taken))


def finish(
    session: Session, key: RunKey, owner: str, outcome: str, detail: str | None = None
) -> None:
    """Record how ``owner``'s claim of ``key`` ended (``done``, ``failed``, ``skipped``...).
    Does not commit."""
    session.execute(
        update(SchedulerRun)
        .where(
            SchedulerRun.newsletter == key.newsletter,
            SchedulerRun.job == key.job,
            SchedulerRun.day == key.day,
            SchedulerRun.owner == owner,
        )
        .values(finished_at=utcnow(), outcome=outcome, detail=detail)
        .execution_options(synchronize_session=False)
    )


def runs_of(session: Session, day: date, newsletter: str = "default") -> dict[str, SchedulerRun]:
    """The ledger of ``day``: job name -> its row."""
    rows = session.scalars(
        select(SchedulerRun).where(SchedulerRun.day == day, SchedulerRun.newsletter == newsletter)
    )
    return {row.job: row for row in rows}


def ran_before(session: Session, job: str, day: date, newsletter: str = "default") -> bool:
    """True when the ledger holds a ``job`` of ``newsletter`` for a day before ``day``."""
    found = session.scalar(
        select(SchedulerRun.id).where(
            SchedulerRun.newsletter == newsletter, SchedulerRun.job == job, SchedulerRun.day < day
        ).limit(1)
    )  # fmt: skip
    return found is not None
