"""The newsroom's sources (table ``sources``): registered feeds, their poll schedule and
health.

A poll is claimed first: one guarded ``UPDATE`` per due source sets ``claimed_by`` and
``claimed_until`` only where no live claim is held, so that two ``newsletter run`` replicas
never fetch one source at the same moment; on PostgreSQL the due rows are read ``FOR UPDATE
SKIP LOCKED`` (a row another replica is claiming is passed over, not waited for); on SQLite
the claim is one ``UPDATE ... RETURNING`` (writers are serialised). A claim whose process
died expires at ``claimed_until``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from newsletter.store.db import affected
from newsletter.store.models import Source


@dataclass(frozen=True)
class SourceRecord:
    """A source as the newsroom registers it: ``url`` (http or https), its ``name``, the
    ``section`` slug of its entries without a category, their default ``language`` and
    ``timezone`` (an IANA name, for dates written without a zone), and ``every_minutes``
    between polls (None: the ``poll_minutes`` setting, whatever it is at each poll)."""

    url: str
    every_minutes: float | None = None
    name: str | None = None
    section: str | None = None
    language: str | None = None
    timezone: str | None = None


@dataclass(frozen=True)
class PollResult:
    """How one poll ended: ``status`` is ``"200"``, ``"not_modified"`` or an error word;
    ``error`` the reason of a failure; the counts of new and updated articles and of dates
    that could not be read; the answer's validators (kept when None on a 304); ``next_at``
    the next poll (aware UTC)."""

    status: str
    polled_at: datetime
    next_at: datetime
    error: str | None = None
    new: int = 0
    updated: int = 0
    unreadable_dates: int = 0
    etag: str | None = None
    last_modified: str | None = None


def add_source(session: Session, record: SourceRecord, now: datetime) -> tuple[Source, bool]:
    """Register ``record``, due at once (its first fetch is the next poll); a URL already
    registered gets the record's name, section, language, time zone and interval. Returns
    the row and True when it was new. Flushes; does not commit."""
    row = session.scalar(select(Source).where(Source.url == record.url))
    created = row is None
    if row is None:
        row = Source(
            url=record.url, next_poll_at=now, created_at=now, last_new=0, last_updated=0,
            last_unreadable_dates=0, failures=0, every_minutes=record.every_minutes,
        )  # fmt: skip
        session.add(row)
    row.name, row.section = record.name, record.section
    row.language, row.timezone = record.language, record.timezone
    row.every_minutes = record.every_minutes
    session.flush()
    return row, created


def list_sources(session: Session) -> list[Source]:
    """Every source, by id."""
    return list(session.scalars(select(Source).order_by(Source.id)))


def get_source(session: Session, source_id: int) -> Source | None:
    """The source ``source_id``, or None."""
    return session.get(Source, source_id)


def remove_source(session: Session, source_id: int) -> bool:
    """Forget the source ``source_id`` (its articles stay); True if it existed."""
    return bool(affected(session.execute(delete(Source).where(Source.id == source_id))))


def claim_due(
    session: Session, owner: str, now: datetime, lease_until: datetime, *, every: bool = False
) -> list[Source]:
    """Claim for ``owner`` until ``lease_until`` the sources due at ``now`` (all of them
    with ``every``) that no other process holds; returns the rows this call won. Commit at
    once so that other processes see the claims."""
    free = or_(Source.claimed_until.is_(None), Source.claimed_until <= now)
    conditions = [free] if every else [free, Source.next_poll_at <= now]
    won: list[int] = []
    if session.get_bind().dialect.name != "postgresql":
        # One UPDATE ... RETURNING: SQLite takes its write lock at once (a read first, then
        # a write, could fail on a snapshot another process's commit made stale).
        won = list(
            session.scalars(
                update(Source)
                .where(*conditions)
                .values(claimed_by=owner, claimed_until=lease_until)
                .returning(Source.id)
                .execution_options(synchronize_session=False)
            )
        )
        ids: list[int] = []
    else:
        due = select(Source.id).where(*conditions).order_by(Source.next_poll_at)
        ids = list(session.scalars(due.with_for_update(skip_locked=True)))
    for source_id in ids:
        taken = session.execute(
            update(Source)
            .where(Source.id == source_id, free)
            .values(claimed_by=owner, claimed_until=lease_until)
            .execution_options(synchronize_session=False)
        )
        if affected(taken):
            won.append(source_id)
    if not won:
        return []
    rows = session.scalars(
        select(Source).where(Source.id.in_(won)).order_by(Source.id).execution_options(
            populate_existing=True
        )
    )  # fmt: skip
    return list(rows)


def record_poll(session: Session, source_id: int, owner: str, result: PollResult) -> None:
    """Record ``result`` of ``owner``'s poll of ``source_id`` and drop the claim: a success
    (or 304) resets the failures in a row; a failure counts one more and keeps
    ``failing_since`` (the first failure of the run). Does not commit."""
    row = session.get(Source, source_id, populate_existing=True)
    if row is None:  # removed while it was polled
        return
    row.last_polled_at, row.last_status, row.last_error = (
        result.polled_at, result.status, result.error,
    )  # fmt: skip
    row.next_poll_at = result.next_at
    if result.error is None:
        row.failures, row.failing_since = 0, None
        row.last_new, row.last_updated = result.new, result.updated
        row.last_unreadable_dates = result.unreadable_dates
        if result.etag is not None or result.status == "200":
            row.etag = result.etag
        if result.last_modified is not None or result.status == "200":
            row.last_modified = result.last_modified
    else:
        row.failures += 1
        row.failing_since = row.failing_since or result.polled_at
        row.last_new = row.last_updated = row.last_unreadable_dates = 0
    if row.claimed_by == owner:
        row.claimed_by, row.claimed_until = None, None
    session.flush()


def sources_by_id(session: Session, ids: Sequence[int]) -> list[Source]:
    """The sources of ``ids``, by id."""
    return list(session.scalars(select(Source).where(Source.id.in_(ids)).order_by(Source.id)))
