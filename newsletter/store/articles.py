"""Article queries: upsert normalised records, read the candidates of an edition window."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from newsletter.store.models import Article, Edition, EditionItem
from newsletter.timeutil import utcnow


@dataclass(frozen=True)
class ArticleRecord:
    """A normalised article as ingest hands it to the store.

    ``published_at`` is an aware UTC datetime; ``url_key`` is the canonical-URL digest
    (:func:`newsletter.ingest.urls.canonical_key`); text fields are plain text.
    """

    url: str
    url_key: str
    source: str
    title: str
    published_at: datetime
    summary: str = ""
    body: str = ""
    guid: str | None = None
    source_name: str | None = None
    category: str | None = None
    tags: list[str] = field(default_factory=list)
    author: str | None = None
    language: str | None = None
    image_url: str | None = None
    published_estimated: bool = False
    feed_position: int = 0
    featured: bool = False

    def content_hash(self) -> str:
        """SHA-256 of the fields an update may change (detects "seen again, unchanged")."""
        payload = [
            self.url, self.guid, self.title, self.summary, self.body, self.category, self.tags,
            self.author, self.language, self.image_url, self.featured,
            None if self.published_estimated else self.published_at.isoformat(),
        ]  # fmt: skip
        return hashlib.sha256(json.dumps(payload, ensure_ascii=False).encode()).hexdigest()


@dataclass
class UpsertCounts:
    """How many records were new, updated, or seen again unchanged (skipped)."""

    new: int = 0
    updated: int = 0
    skipped: int = 0


def upsert_articles(session: Session, records: list[ArticleRecord]) -> UpsertCounts:
    """Insert new articles and update changed ones (see :func:`upsert_article`); a record
    whose canonical URL came earlier in ``records`` is skipped. Does not commit.
    """
    counts = UpsertCounts()
    now = utcnow()
    seen_keys: set[str] = set()
    for record in records:
        if record.url_key in seen_keys:  # the same article twice in one feed
            counts.skipped += 1
            continue
        seen_keys.add(record.url_key)
        _, outcome = upsert_article(session, record, now)
        setattr(counts, outcome, getattr(counts, outcome) + 1)
    return counts


def upsert_article(
    session: Session, record: ArticleRecord, now: datetime | None = None
) -> tuple[Article, str]:
    """Insert ``record`` or update the article it is: matched by canonical URL, then by GUID
    within the same source. Returns the article (flushed: it has its id) and ``"new"``,
    ``"updated"`` or ``"skipped"`` (seen again unchanged). An article seen again keeps its id
    and first-seen time; an estimated publication time never replaces a known one. ``now``
    (aware UTC, default the current time) stamps the change. Does not commit.

    Two transactions storing the same new article at once (two pushes of one URL, a push
    and a poll) do not clash: the insert gives way to the other's row (``ON CONFLICT DO
    NOTHING`` on the canonical URL; PostgreSQL makes it wait for the other transaction),
    which is then treated as an article seen again.
    """
    now = now or utcnow()
    article = _stored(session, record)
    digest = record.content_hash()
    if article is None:
        dialect = session.get_bind().dialect.name
        insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        values = {**_columns(record), "content_hash": digest, "first_seen_at": now,
                  "updated_at": now}  # fmt: skip
        new_id = session.execute(
            insert(Article).values(values).on_conflict_do_nothing().returning(Article.id)
        ).scalar()
        if new_id is not None:
            stored = session.get(Article, new_id)
            assert stored is not None
            return stored, "new"
        article = _stored(session, record)
        if article is None:  # pragma: no cover - a conflict leaves the other's row
            raise RuntimeError(f"article {record.url} conflicts but cannot be found")
    if article.content_hash == digest:
        outcome = "skipped"
    else:
        values = _columns(record)
        if record.published_estimated and not article.published_estimated:
            values.pop("published_at")
            values.pop("published_estimated")
        if record.published_estimated and article.published_estimated:
            values.pop("published_at")  # keep the first-seen estimate
        for name, value in values.items():
            setattr(article, name, value)
        article.content_hash = digest
        article.updated_at = now
        outcome = "updated"
    session.flush()
    return article, outcome


def _stored(session: Session, record: ArticleRecord) -> Article | None:
    """The stored article ``record`` is: same canonical URL, else same GUID and source."""
    article = session.scalars(select(Article).where(Article.url_key == record.url_key)).first()
    if article is None and record.guid:
        article = session.scalars(
            select(Article).where(Article.source == record.source, Article.guid == record.guid)
        ).first()
    return article


def _columns(record: ArticleRecord) -> dict[str, object]:
    return {
        "url": record.url,
        "url_key": record.url_key,
        "guid": record.guid,
        "source": record.source,
        "source_name": record.source_name,
        "title": record.title,
        "summary": record.summary,
        "body": record.body,
        "category": record.category,
        "tags": list(record.tags),
        "author": record.author,
        "language": record.language,
        "image_url": record.image_url,
        "published_at": record.published_at,
        "published_estimated": record.published_estimated,
        "feed_position": record.feed_position,
        "featured": record.featured,
    }


def articles_in_window(
    session: Session,
    start: datetime,
    end: datetime,
    *,
    exclude_edition_ids: tuple[int, ...] = (),
    newsletter: str | None = None,
) -> list[Article]:
    """Articles published in ``[start, end)`` (aware UTC), oldest first, leaving out those
    already featured in another edition than ``exclude_edition_ids`` (the one being
    recomposed); with ``newsletter``, only editions of that newsletter count (the weekly
    edition retells the week's stories the daily ones told)."""
    featured = select(EditionItem.article_id).where(EditionItem.article_id.is_not(None))
    if newsletter is not None:
        featured = featured.where(
            EditionItem.edition_id.in_(select(Edition.id).where(Edition.newsletter == newsletter))
        )
    if exclude_edition_ids:
        featured = featured.where(EditionItem.edition_id.not_in(exclude_edition_ids))
    query = (
        select(Article)
        .where(Article.published_at >= start, Article.published_at < end)
        .where(Article.id.not_in(featured))
        .order_by(Article.published_at, Article.id)
    )
    return list(session.scalars(query))


def count_arrived_since(session: Session, since: datetime, start: datetime, end: datetime) -> int:
    """Articles first seen after ``since`` and published in ``[start, end)`` (aware UTC):
    what arrived in a window after its draft was composed."""
    return (
        session.scalar(
            select(func.count())
            .select_from(Article)
            .where(
                Article.first_seen_at > since,
                Article.published_at >= start,
                Article.published_at < end,
            )
        )
        or 0
    )


def stored_url_keys(session: Session, url_keys: list[str]) -> set[str]:
    """Those of ``url_keys`` (canonical-URL digests) that an article already has."""
    if not url_keys:
        return set()
    return set(session.scalars(select(Article.url_key).where(Article.url_key.in_(url_keys))))


def count_articles_not_from(session: Session, source: str) -> int:
    """Articles whose source is not ``source`` (the demo's check for foreign data)."""
    return (
        session.scalar(select(func.count()).select_from(Article).where(Article.source != source))
        or 0
    )


def article_titles(session: Session, article_ids: list[int]) -> dict[int, str]:
    """The title of each of ``article_ids`` that still exists (an id without an article is
    absent from the answer)."""
    rows = session.execute(select(Article.id, Article.title).where(Article.id.in_(article_ids)))
    return {article_id: title for article_id, title in rows}


# --- named queries for callers without a session of their own (the command line) ---------
def article_exists(sessions: sessionmaker[Session], article_id: int) -> bool:
    """True when an article with this id is stored."""
    with sessions() as session:
        return session.get(Article, article_id) is not None


@dataclass(frozen=True)
class ArticleRow:
    """One article as the command line lists it: ``published_at`` aware UTC, ``source`` the
    feed URL or file it came from, ``source_name`` its short name, ``section`` the article's
    category (None without one), ``published_estimated`` True when the time is the time
    first seen rather than the source's date."""

    id: int
    url: str
    title: str
    published_at: datetime
    source: str
    source_name: str | None
    section: str | None
    language: str | None
    published_estimated: bool


def articles_published_since(sessions: sessionmaker[Session], since: datetime) -> list[ArticleRow]:
    """The articles published at or after ``since`` (aware), newest first (then by id,
    newest first), in a session of their own."""
    columns = (
        Article.id, Article.url, Article.title, Article.published_at, Article.source,
        Article.source_name, Article.category, Article.language, Article.published_estimated,
    )  # fmt: skip
    query = (
        select(*columns)
        .where(Article.published_at >= since)
        .order_by(Article.published_at.desc(), Article.id.desc())
    )
    with sessions() as session:
        return [ArticleRow(*row) for row in session.execute(query)]


def articles_published_in(session: Session, start: datetime, end: datetime) -> list[Article]:
    """Every article published in ``[start, end)`` (aware UTC), oldest first (then by id),
    whether or not an edition used it: composing says why each one is left out."""
    query = (
        select(Article)
        .where(Article.published_at >= start, Article.published_at < end)
        .order_by(Article.published_at, Article.id)
    )
    return list(session.scalars(query))
