"""The composition root and the use cases the command line (and later the web app and the
scheduler) call: compose, preview, send, demo.

:class:`App` builds the concrete objects (engine, links, provider) from the settings once;
the stages receive what they need as arguments.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from newsletter import i18n
from newsletter.compose.edition import Candidate, EditionPlan, compose_plan
from newsletter.config import ConfigError, Settings
from newsletter.deliver.worker import RunReport, Sender, drain
from newsletter.ingest.run import SourceReport, ingest_sources, store_records
from newsletter.ingest.sample import SAMPLE_SOURCE, load_sample_articles
from newsletter.links import Links
from newsletter.providers.base import Provider, ProviderConfigError
from newsletter.providers.file import FileProvider
from newsletter.providers.smtp import SMTPProvider
from newsletter.render.edition import (
    Identity,
    RenderedEdition,
    RenderEdition,
    RenderItem,
    render_edition,
)
from newsletter.store.articles import articles_in_window
from newsletter.store.db import check_schema, make_engine, migrate, session_factory, transaction
from newsletter.store.editions import ItemRow, get_edition, release_edition, save_draft
from newsletter.store.models import Edition, EditionStatus
from newsletter.store.outbox import create_deliveries
from newsletter.timeutil import edition_window, local_datetime, local_today, utcnow


class UsageError(Exception):
    """The request cannot be carried out as asked; the message says why and what to do."""


@dataclass
class ComposeResult:
    """The edition after ``compose``; ``locked`` when it was already released (unchanged)."""

    edition: Edition
    plan: EditionPlan | None
    locked: bool = False
    candidates: int = 0


@dataclass
class SendResult:
    """The edition sent and what this run did."""

    edition: Edition
    released: bool
    created: int
    run: RunReport


def make_provider(settings: Settings) -> Provider:
    """The provider named by ``NEWSLETTER_PROVIDER``; raises :class:`ConfigError`."""
    if settings.provider == "file":
        return FileProvider(settings.effective_outbox_dir)
    try:
        return SMTPProvider(
            settings.smtp_host,
            settings.effective_smtp_port,
            security=settings.smtp_security,
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
            timeout=settings.smtp_timeout,
        )
    except ProviderConfigError as exc:
        raise ConfigError(str(exc)) from None


def edition_json(edition: Edition) -> dict[str, Any]:
    """The ``compose --json`` document (a contract):
    ``{"edition": {date, status, subject, preheader, reading_seconds, budget_seconds},
    "items": [{article_id, url, title, category, summary, reading_seconds, score}]}``.
    Seconds are integers for the edition and rounded to 0.1 for items."""
    return {
        "edition": {
            "date": edition.date.isoformat(),
            "status": edition.status,
            "subject": edition.subject,
            "preheader": edition.preheader,
            "reading_seconds": edition.reading_seconds,
            "budget_seconds": edition.budget_seconds,
        },
        "items": [
            {
                "article_id": item.article_id,
                "url": item.url,
                "title": item.title,
                "category": item.category,
                "summary": item.summary,
                "reading_seconds": round(item.reading_seconds, 1),
                "score": item.score,
            }
            for item in edition.items
        ],
    }


class App:
    """Settings plus the objects built from them. ``provider`` and ``http_client`` may be
    passed in (tests); otherwise they come from the settings."""

    def __init__(
        self,
        settings: Settings,
        *,
        engine: Engine | None = None,
        provider: Provider | None = None,
        http_client: httpx.Client | None = None,
    ) -> None:
        self.settings = settings
        self._engine = engine
        self._provider = provider
        self.http_client = http_client

    # --- construction --------------------------------------------------------------------
    @cached_property
    def engine(self) -> Engine:
        """The database engine of ``NEWSLETTER_DATABASE_URL``."""
        return self._engine or make_engine(self.settings.effective_database_url)

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        """Session factory on :attr:`engine`."""
        return session_factory(self.engine)

    @cached_property
    def links(self) -> Links:
        """URL builder and token signer."""
        return Links(self.settings.base_url, self.settings.secret_keys)

    @cached_property
    def identity(self) -> Identity:
        """The sender's identity for rendering."""
        s = self.settings
        return Identity(
            title=s.title,
            sender_name=s.sender_name,
            sender_address=s.sender_address,
            postal_address=s.postal_address,
            list_id=s.effective_list_id,
            language=s.language,
        )

    def provider(self) -> Provider:
        """The provider given at construction or the configured one."""
        return self._provider or make_provider(self.settings)

    def init_db(self) -> str | None:
        """Create or migrate the schema; returns the revision."""
        return migrate(self.engine)

    def ready(self) -> None:
        """Raise ``DatabaseError`` unless the schema exists."""
        check_schema(self.engine)

    def today(self) -> date:
        """Today's date in the newsletter's time zone."""
        return local_today(self.settings.zone)

    # --- ingest --------------------------------------------------------------------------
    def ingest(self, sources: list[str]) -> list[SourceReport]:
        """Ingest feed URLs or files (see :func:`newsletter.ingest.run.ingest_sources`)."""
        return ingest_sources(sources, self.sessions, self.settings, client=self.http_client)

    def ingest_sample(self, day: date | None = None, now: datetime | None = None) -> SourceReport:
        """Load the sample articles dated before ``day``'s send time (or before now, when
        that comes first), so that the edition of ``day`` finds them."""
        day = day or self.today()
        send_at = local_datetime(day, self.settings.send_time, self.settings.zone)
        anchor = min(now or utcnow(), send_at) - timedelta(minutes=1)
        report = SourceReport(source=SAMPLE_SOURCE, name="Le Brief (sample)")
        store_records(self.sessions, report, load_sample_articles(anchor, zone=self.settings.zone))
        return report

    # --- compose -------------------------------------------------------------------------
    def compose(self, day: date | None = None) -> ComposeResult:
        """Compose (or recompose) the draft of ``day`` from the articles of its window.

        A released edition is left as it is (``locked``).
        """
        s = self.settings
        day = day or self.today()
        window = edition_window(day, s.send_time, s.zone)
        with transaction(self.sessions) as session:
            existing = get_edition(session, day)
            if existing is not None and existing.status != EditionStatus.DRAFT:
                return ComposeResult(existing, None, locked=True)
            exclude = (existing.id,) if existing is not None else ()
            articles = articles_in_window(session, *window, exclude_edition_ids=exclude)
            candidates = [
                Candidate(
                    article_id=a.id,
                    url=a.url,
                    url_key=a.url_key,
                    title=a.title,
                    summary=a.summary,
                    body=a.body,
                    category=a.category,
                    language=a.language,
                    published_at=a.published_at,
                    feed_position=a.feed_position,
                    featured=a.featured,
                    source_name=a.source_name,
                )
                for a in articles
            ]
            plan = compose_plan(
                candidates,
                window_end=window[1],
                budget_seconds=s.reading_budget_seconds,
                sections=s.sections,
                language=s.language,
                summary_max_chars=s.summary_max_chars,
                section_titles=i18n.section_titles(s.language),
            )
            edition = save_draft(
                session,
                day,
                subject=plan.subject or f"{s.title} — {i18n.long_date(day, s.language)}",
                preheader=plan.preheader,
                reading_seconds=plan.reading_seconds,
                budget_seconds=plan.budget_seconds,
                window=window,
                items=[
                    ItemRow(
                        article_id=item.candidate.article_id,
                        section=item.section,
                        category=item.candidate.category,
                        url=item.candidate.url,
                        title=item.candidate.title,
                        summary=item.summary,
                        source_name=item.candidate.source_name,
                        reading_seconds=item.reading_seconds,
                        score=item.score,
                    )
                    for item in plan.items
                ],
            )
        stored = self.edition(day)
        assert stored is not None and stored.id == edition.id
        return ComposeResult(stored, plan, candidates=len(candidates))

    def edition(self, day: date) -> Edition | None:
        """The stored edition of ``day`` (items loaded) or None."""
        with self.sessions() as session:
            return get_edition(session, day)

    # --- render --------------------------------------------------------------------------
    def render(self, edition: Edition) -> RenderedEdition:
        """Render ``edition`` once (templates, CSS inlining, MIME skeleton)."""
        view = RenderEdition(
            day=edition.date,
            subject=edition.subject,
            preheader=edition.preheader,
            reading_seconds=edition.reading_seconds,
            items=[
                RenderItem(i.title, i.url, i.summary, i.section, i.source_name)
                for i in edition.items
            ],
            view_url=self.links.edition_url(edition.date),
        )
        return render_edition(view, self.identity)

    def preview(self, day: date, out_dir: Path | None = None) -> tuple[Path, Path, list[str]]:
        """Write the edition's final HTML and text (with example personal values) to
        ``<out_dir>/<date>/edition.html|.txt``; returns the paths and warnings.

        Raises :class:`UsageError` when there is no edition for ``day``.
        """
        edition = self.edition(day)
        if edition is None:
            raise UsageError(
                f"no edition for {day.isoformat()}: "
                f"run `newsletter compose --date {day.isoformat()}` first"
            )
        rendered = self.render(edition)
        html, text = rendered.fill(
            {
                "email": "lecteur@example.org",
                "unsubscribe_url": self.links.url("u/preview"),
                "preferences_url": self.links.url("p/preview"),
            }
        )
        folder = (out_dir or self.settings.data_dir / "preview") / day.isoformat()
        folder.mkdir(parents=True, exist_ok=True)
        html_path, text_path = folder / "edition.html", folder / "edition.txt"
        html_path.write_text(html, encoding="utf-8")
        text_path.write_text(text, encoding="utf-8")
        return html_path, text_path, rendered.warnings

    # --- send ----------------------------------------------------------------------------
    def send(self, day: date | None = None, *, batch_size: int | None = None) -> SendResult:
        """Compose ``day``'s edition if there is none, release it (freezing its recipients:
        one delivery row per active subscriber) and deliver every row not yet sent.

        Running it again sends nothing new. Raises :class:`UsageError` for an edition with
        no items.
        """
        day = day or self.today()
        edition = self.edition(day)
        if edition is None:
            edition = self.compose(day).edition
        if not edition.items:
            raise UsageError(
                f"the edition of {day.isoformat()} has no items: nothing to send "
                "(ingest articles, then compose again)"
            )
        released = False
        created = 0
        with transaction(self.sessions) as session:
            if edition.status == EditionStatus.DRAFT:
                released = release_edition(session, edition.id)
            if released:
                created = create_deliveries(session, edition.id)
        edition = self.edition(day) or edition
        rendered = self.render(edition)
        sender = Sender(
            message=rendered.message,
            links=self.links,
            day=day,
            envelope_sender=self.settings.sender_address,
            sender_domain=self.settings.sender_domain,
        )
        provider = self.provider()
        try:
            run = drain(
                self.sessions, edition.id, sender, provider,
                batch_size=batch_size or self.settings.send_batch_size,
            )  # fmt: skip
        finally:
            provider.close()
        return SendResult(self.edition(day) or edition, released, created, run)
