"""Edition queries: drafts are replaced whole; a released edition is never changed."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, selectinload

from newsletter.errors import NewsletterError
from newsletter.store.db import affected
from newsletter.store.models import (
    Article,
    Delivery,
    DeliveryStatus,
    Edition,
    EditionItem,
    EditionStatus,
)
from newsletter.timeutil import utcnow


class EditionLocked(NewsletterError):
    """The edition was released (sending or sent) and can no longer change."""


@dataclass(frozen=True)
class ItemRow:
    """One item to store in an edition, in display order."""

    article_id: int | None
    section: str | None
    category: str | None
    url: str
    title: str
    summary: str
    source_name: str | None
    reading_seconds: float
    score: float
    score_parts: dict[str, float] = field(default_factory=dict)
    #: Every other article of the item's story: ``{"source", "url", "article_id", "title"}``.
    also: list[dict[str, Any]] = field(default_factory=list)
    pinned: bool = False
    #: The item's kind (news, live, opinion, podcast, gallery, listicle, series).
    kind: str = "news"


def get_edition(session: Session, day: date, newsletter: str = "default") -> Edition | None:
    """The edition of local date ``day`` with its items loaded, or None."""
    return session.scalars(
        select(Edition)
        .where(Edition.newsletter == newsletter, Edition.date == day)
        .options(selectinload(Edition.all_items))
    ).first()


def save_draft(
    session: Session,
    day: date,
    *,
    subject: str,
    preheader: str,
    reading_seconds: float,
    budget_seconds: int,
    window: tuple[datetime, datetime],
    items: dict[str, list[ItemRow]],
    variant_seconds: dict[str, float] | None = None,
    newsletter: str = "default",
) -> Edition:
    """Create the draft of ``day`` or replace the existing draft's content and items.

    ``items`` maps a variant key ("" for the main edition, a topics key such as
    "culture,sport" for a personal variant) to its items in display order. The editor's
    decisions stored on the edition are kept (and so is an approval: the composer compares
    :func:`draft_content` before and after, see :func:`next_version`).

    Raises :class:`EditionLocked` when the edition was already released. Does not commit.
    """
    edition = get_edition(session, day, newsletter)
    now = utcnow()
    if edition is None:
        edition = Edition(newsletter=newsletter, date=day, status=EditionStatus.DRAFT)
        session.add(edition)
    elif edition.status != EditionStatus.DRAFT:
        raise EditionLocked(
            f"the edition of {day.isoformat()} is {edition.status}; it is never changed"
        )
    edition.subject = subject
    edition.preheader = preheader
    edition.reading_seconds = round(reading_seconds)
    edition.budget_seconds = budget_seconds
    edition.window_start, edition.window_end = window
    edition.composed_at = now
    edition.variant_seconds = {
        key: round(value, 1) for key, value in (variant_seconds or {}).items()
    }
    edition.all_items.clear()
    session.flush()  # delete the old items before their positions are reused
    for variant, rows in sorted(items.items()):
        for position, row in enumerate(rows):
            edition.all_items.append(
                EditionItem(
                    variant=variant,
                    position=position,
                    article_id=row.article_id,
                    section=row.section,
                    category=row.category,
                    url=row.url,
                    title=row.title,
                    summary=row.summary,
                    source_name=row.source_name,
                    reading_seconds=row.reading_seconds,
                    score=row.score,
                    score_parts=row.score_parts,
                    also=row.also,
                    pinned=row.pinned,
                    kind=row.kind,
                )
            )
    session.flush()
    return edition


def discard_new_draft(session: Session, day: date, newsletter: str = "default") -> bool:
    """Delete the draft of ``day`` if no one has touched it since it was composed: version 1,
    no decision, never approved nor held (a draft composed only for a decision that was then
    refused). True if it was deleted. Does not commit."""
    edition = lock_draft(session, day, newsletter)
    if (
        edition is None
        or edition.status != EditionStatus.DRAFT
        or (edition.version or 1) != 1
        or edition.approved_at is not None
        or edition.held
        or edition.pins
        or edition.excludes
        or edition.positions
        or edition.subject_override is not None
        or edition.preheader_override is not None
    ):
        return False
    session.delete(edition)
    session.flush()
    return True


def draft_content(edition: Edition) -> tuple[Any, ...]:
    """What the readers of ``edition`` would get, to compare a draft before and after a
    composition (an approval names this content): its subject, its preheader and, per
    variant in display order, each item's article, section, title, summary, link and
    "also" list."""
    rows: dict[str, list[tuple[Any, ...]]] = {}
    for item in sorted(edition.all_items, key=lambda i: (i.variant, i.position)):
        rows.setdefault(item.variant, []).append(
            (item.article_id, item.section, item.title, item.summary, item.url, item.also)
        )
    return (edition.subject, edition.preheader, sorted(rows.items()))


def set_decisions(
    session: Session,
    edition: Edition,
    *,
    pins: list[int] | None = None,
    excludes: list[int] | None = None,
    positions: dict[str, int] | None = None,
    subject: str | None = None,
    preheader: str | None = None,
) -> None:
    """Record an editor's decisions on a draft (None leaves a field as it is; an empty
    subject or preheader string clears the override). Raises :class:`EditionLocked` for a
    released edition. Does not commit."""
    if edition.status != EditionStatus.DRAFT:
        raise EditionLocked(
            f"the edition of {edition.date.isoformat()} is {edition.status}; it is never changed"
        )
    if pins is not None:
        edition.pins = list(pins)
    if excludes is not None:
        edition.excludes = list(excludes)
    if positions is not None:
        edition.positions = dict(positions)
    if subject is not None:
        edition.subject_override = subject or None
    if preheader is not None:
        edition.preheader_override = preheader or None
    session.flush()


def release_edition(session: Session, edition_id: int) -> bool:
    """Move a draft to ``sending`` in one guarded statement; True if this call released it.

    Two processes racing to release the same edition cannot both win.
    """
    result = session.execute(
        update(Edition)
        .where(Edition.id == edition_id, Edition.status == EditionStatus.DRAFT)
        .values(status=EditionStatus.SENDING, released_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return bool(affected(result))


def mark_edition_sent(session: Session, edition_id: int) -> bool:
    """Move a ``sending`` (or ``paused``) edition whose deliveries are all final to ``sent``;
    True if this call did."""
    result = session.execute(
        update(Edition)
        .where(
            Edition.id == edition_id,
            Edition.status.in_((EditionStatus.SENDING, EditionStatus.PAUSED)),
        )
        .values(status=EditionStatus.SENT, sent_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return bool(affected(result))


def set_held(session: Session, edition_id: int, held: bool) -> bool:
    """Hold (or stop holding) a draft: a held edition is never released by the scheduler.
    True if the flag changed; a released edition cannot be held (pause its send instead)."""
    result = session.execute(
        update(Edition)
        .where(
            Edition.id == edition_id,
            Edition.status == EditionStatus.DRAFT,
            Edition.held.is_(not held),
        )
        .values(held=held)
        .execution_options(synchronize_session=False)
    )
    return bool(affected(result))


def approve(session: Session, edition_id: int, by: str) -> bool:
    """Record an editor's approval of a draft (``by``: the editor's address) and lift any
    hold; True if this call approved it. An approval is not a send: the scheduler, or
    ``newsletter send``, releases the approved draft."""
    result = session.execute(
        update(Edition)
        .where(
            Edition.id == edition_id,
            Edition.status == EditionStatus.DRAFT,
            Edition.approved_at.is_(None),
        )
        .values(approved_at=utcnow(), approved_by=by, held=False)
        .execution_options(synchronize_session=False)
    )
    return bool(affected(result))


def set_paused(session: Session, edition_id: int, paused: bool) -> bool:
    """Pause a sending edition or resume a paused one, in one guarded statement; True if the
    state changed. Workers finish the message in flight and claim nothing while paused."""
    source, target = (
        (EditionStatus.SENDING, EditionStatus.PAUSED)
        if paused
        else (EditionStatus.PAUSED, EditionStatus.SENDING)
    )
    result = session.execute(
        update(Edition)
        .where(Edition.id == edition_id, Edition.status == source)
        .values(status=target, paused_reason=None)
        .execution_options(synchronize_session=False)
    )
    return bool(affected(result))


def pause_for(session: Session, edition_id: int, reason: str) -> bool:
    """Pause a sending edition and record why (a provider that keeps failing); True if this
    call paused it. ``set_paused(..., False)`` resumes it and clears the reason."""
    result = session.execute(
        update(Edition)
        .where(Edition.id == edition_id, Edition.status == EditionStatus.SENDING)
        .values(status=EditionStatus.PAUSED, paused_reason=reason)
        .execution_options(synchronize_session=False)
    )
    return bool(affected(result))


def editions_to_deliver(session: Session) -> list[int]:
    """Ids of released editions still sending, oldest date first."""
    return list(
        session.scalars(
            select(Edition.id).where(Edition.status == EditionStatus.SENDING).order_by(Edition.date)
        )
    )


def reopen_for_wave(session: Session, edition_id: int) -> bool:
    """Move a ``sent`` edition back to ``sending`` when it has deliveries still to send (a
    later time-zone wave added them), in one guarded statement; True if it did.
    Its content never changes: only the workers' state."""
    open_rows = (
        select(Delivery.id)
        .where(
            Delivery.edition_id == edition_id,
            Delivery.status.in_((DeliveryStatus.PENDING, DeliveryStatus.DEFERRED)),
        )
        .exists()
    )
    result = session.execute(
        update(Edition)
        .where(Edition.id == edition_id, Edition.status == EditionStatus.SENT, open_rows)
        .values(status=EditionStatus.SENDING)
        .execution_options(synchronize_session=False)
    )
    return bool(affected(result))


def edition_by_id(session: Session, edition_id: int) -> Edition | None:
    """The edition ``edition_id`` with its items loaded, or None."""
    edition = session.get(Edition, edition_id)
    return get_edition(session, edition.date, edition.newsletter) if edition else None


def recent_editions(session: Session, limit: int) -> list[Edition]:
    """The ``limit`` editions of the latest dates, newest first, of every newsletter and
    status, with their items not loaded."""
    return list(session.scalars(select(Edition).order_by(Edition.date.desc()).limit(limit)).all())


def main_item_counts(session: Session, edition_ids: list[int]) -> dict[int, int]:
    """Number of items of the main edition (variant ``""``, not the personal variants) of
    each of ``edition_ids``; an edition without items is absent from the answer."""
    return dict(
        session.execute(
            select(EditionItem.edition_id, func.count())
            .where(EditionItem.variant == "", EditionItem.edition_id.in_(edition_ids))
            .group_by(EditionItem.edition_id)
        ).all()
    )


def released_editions(session: Session, limit: int) -> list[Edition]:
    """The ``limit`` released editions (sending, paused or sent) of the latest dates, newest
    first, with their items not loaded."""
    return list(
        session.scalars(
            select(Edition)
            .where(
                Edition.status.in_(
                    [EditionStatus.SENT, EditionStatus.SENDING, EditionStatus.PAUSED]
                )
            )
            .order_by(Edition.date.desc())
            .limit(limit)
        ).all()
    )


@dataclass(frozen=True)
class UsedRow:
    """An article an edition used: shown as an item (of any variant) or listed under an
    item's ``also`` (every other article of its story). ``edition_date`` is that edition's
    local date, ``sent_at`` its send time (the end of its window, aware UTC)."""

    article_id: int
    title: str
    summary: str
    language: str | None
    edition_date: date
    sent_at: datetime
    source: str = ""


def used_articles(
    session: Session,
    since: datetime,
    *,
    newsletter: str,
    exclude_edition_ids: tuple[int, ...] = (),
) -> list[UsedRow]:
    """The articles used by the editions of ``newsletter`` whose window ends after ``since``
    (aware UTC; only those can hold an article published since), other than
    ``exclude_edition_ids`` (the edition being recomposed), of any status: one row per
    article and edition, oldest edition first. An ``also`` entry names its article by
    ``article_id``; one stored without it is found by its URL."""
    editions = {
        row.id: (row.date, row.window_end)
        for row in session.execute(
            select(Edition.id, Edition.date, Edition.window_end).where(
                Edition.newsletter == newsletter,
                Edition.window_end > since,
                Edition.id.not_in(exclude_edition_ids),
            )
        )
    }
    if not editions:
        return []
    used: dict[tuple[int, int], None] = {}
    by_url: dict[str, list[int]] = {}
    rows = session.execute(
        select(EditionItem.edition_id, EditionItem.article_id, EditionItem.also).where(
            EditionItem.edition_id.in_(list(editions))
        )
    )
    for edition_id, article_id, also in rows:
        if article_id is not None:
            used[(edition_id, article_id)] = None
        entries: list[Any] = list(also or ())
        for entry in entries:
            if not isinstance(entry, dict):
                continue
            other = entry.get("article_id")
            if isinstance(other, int):
                used[(edition_id, other)] = None
            elif entry.get("url"):
                by_url.setdefault(str(entry["url"]), []).append(edition_id)
    if by_url:
        found = session.execute(
            select(Article.url, Article.id).where(Article.url.in_(list(by_url)))
        )
        for url, article_id in found:
            for edition_id in by_url[url]:
                used[(edition_id, article_id)] = None
    ids = sorted({article_id for _, article_id in used})
    articles = {
        row.id: row
        for row in session.execute(
            select(
                Article.id, Article.title, Article.summary, Article.language, Article.source_name
            ).where(Article.id.in_(ids))
        )
    }
    return sorted(
        (
            UsedRow(
                article_id=article_id,
                title=articles[article_id].title,
                summary=articles[article_id].summary,
                language=articles[article_id].language,
                edition_date=editions[edition_id][0],
                sent_at=_aware(editions[edition_id][1]),
                source=articles[article_id].source_name or "",
            )
            for edition_id, article_id in used
            if article_id in articles
        ),
        key=lambda r: (r.edition_date, r.article_id),
    )


def _aware(moment: datetime) -> datetime:
    """``moment`` as aware UTC (SQLite returns naive datetimes for aware columns)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


# --- editors' versions: one writer at a time per draft -------------------------------------
def lock_draft(session: Session, day: date, newsletter: str = "default") -> Edition | None:
    """Take the edition of ``day``'s write lock for the rest of the transaction, then read
    it (items loaded; None when there is no such edition).

    The lock is an ``UPDATE`` of the edition's row as the transaction's first statement:
    on SQLite it takes the database's write lock at once (``BEGIN`` then a write: another
    writer waits up to the busy timeout instead of failing on a stale snapshot), on
    PostgreSQL the row lock (as ``SELECT ... FOR UPDATE``), held to commit or rollback;
    the read that follows sees every change committed before. On PostgreSQL a transaction
    advisory lock on the (newsletter, date) pair comes first, so that two processes
    composing an edition that has no row yet wait for each other too (SQLite's write lock
    covers that case already). Call it first in the transaction. Does not commit."""
    if session.get_bind().dialect.name == "postgresql":
        digest = hashlib.sha256(f"edition {newsletter} {day.isoformat()}".encode()).digest()
        key = int.from_bytes(digest[:8], "big", signed=True)
        session.execute(select(func.pg_advisory_xact_lock(key)))
    session.execute(
        update(Edition)
        .where(Edition.newsletter == newsletter, Edition.date == day)
        .values(version=Edition.version)
        .execution_options(synchronize_session=False)
    )
    return get_edition(session, day, newsletter)


@dataclass(frozen=True)
class ClearedApproval:
    """An approval a change cleared: by whom, of which version, when (aware UTC)."""

    by: str | None
    version: int | None
    at: datetime | None


def next_version(session: Session, edition: Edition) -> ClearedApproval | None:
    """Count an editor's change of the locked draft ``edition``: its version + 1 and its
    approval cleared (the approval names the content it saw). Returns the approval cleared,
    if any. Does not commit."""
    cleared = None
    if edition.approved_at is not None:
        cleared = ClearedApproval(
            edition.approved_by, edition.approved_version, edition.approved_at
        )
    edition.version = (edition.version or 1) + 1
    edition.approved_at = edition.approved_by = edition.approved_version = None
    session.flush()
    return cleared


def approve_version(session: Session, edition: Edition, by: str) -> bool:
    """Approve the locked draft ``edition`` as it is now (its version) on behalf of ``by``
    and lift any hold; True if this call approved it (False: already approved). Raises
    :class:`EditionLocked` for a released edition. Does not commit."""
    if edition.status != EditionStatus.DRAFT:
        raise EditionLocked(
            f"the edition of {edition.date.isoformat()} is {edition.status}; it is never changed"
        )
    if edition.approved_at is not None:
        return False
    edition.approved_at, edition.approved_by = utcnow(), by
    edition.approved_version, edition.held = edition.version, False
    session.flush()
    return True


def lock_for_compose(session: Session, day: date, newsletter: str = "default") -> Edition | None:
    """:func:`lock_draft` for a composition on PostgreSQL (row and advisory locks do not
    stop other writers); on SQLite only the read: its write lock would be held for the
    whole composition and keep the sources' polls waiting, their articles then stamped as
    arrived before the draft was composed. SQLite compositions are serialised in process
    by :class:`~newsletter.editions.drafts.Drafts`; the write lock comes with the save.
    Does not commit."""
    if session.get_bind().dialect.name == "postgresql":
        return lock_draft(session, day, newsletter)
    return get_edition(session, day, newsletter)
