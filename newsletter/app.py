"""The composition root and the use cases the command line (and later the web app and the
scheduler) call: compose, preview, send, demo.

:class:`App` builds the concrete objects (engine, links, provider) from the settings once;
the stages receive what they need as arguments.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from newsletter.audience.records import make_record
from newsletter.audience.signup import SignupOutcome, confirmation_message, request_signup
from newsletter.compose.edition import (
    SUBJECT_MAX_CHARS,
    Candidate,
    Decisions,
    EditionPlan,
    PlannedItem,
    Policy,
    compose_plan,
)
from newsletter.config.settings import ConfigError, Settings
from newsletter.deliver.limits import guard_for_edition
from newsletter.deliver.ratelimit import RateLimiter
from newsletter.deliver.worker import RunReport, Sender, drain, worker_id
from newsletter.editions.texts import text_problem
from newsletter.ingest.sample import SAMPLE_SOURCE, load_sample_articles
from newsletter.links import Links, with_utm
from newsletter.providers.base import (
    Envelope,
    MessageResult,
    Provider,
    ProviderConfigError,
    Result,
)
from newsletter.providers.failover import FailoverProvider
from newsletter.providers.file import FileProvider
from newsletter.providers.smtp import SMTPProvider
from newsletter.render.mime import PreparedMessage
from newsletter.render.textonly import PreparedTextMessage
from newsletter.store.articles import articles_in_window
from newsletter.store.db import check_schema, make_engine, migrate, session_factory, transaction
from newsletter.store.editions import (
    EditionLocked,
    ItemRow,
    editions_to_deliver,
    get_edition,
    release_edition,
    save_draft,
    set_decisions,
    set_held,
    set_paused,
)
from newsletter.store.editions import approve as approve_edition
from newsletter.store.models import Article, Edition, EditionItem, EditionStatus, Subscriber
from newsletter.store.outbox import create_deliveries
from newsletter.store.subscribers import active_topic_choices
from newsletter.store.workers import beat, leave, live_workers
from newsletter.textutil import truncate_words
from newsletter.timeutil import edition_window, local_datetime, local_today, utcnow
from newsletter.words import edition as i18n

if TYPE_CHECKING:
    import httpx

    from newsletter.ingest.run import SourceReport
    from newsletter.render.edition import Identity, RenderedEdition


class UsageError(Exception):
    """The request cannot be carried out as asked; the message says why and what to do."""


@dataclass
class ComposeResult:
    """The edition after ``compose``; ``locked`` when it was already released (unchanged)."""

    edition: Edition
    plan: EditionPlan | None
    locked: bool = False


@dataclass
class SendResult:
    """The edition sent and what this run did."""

    edition: Edition
    released: bool
    created: int
    run: RunReport
    handed_to_workers: int = 0


def merge_reports(reports: list[RunReport]) -> RunReport:
    """One report for parallel runs on the same edition: counts added, the last totals."""
    merged = RunReport()
    for report in reports:
        for name in ("sent", "failed", "deferred", "skipped", "unknown", "reclaimed", "requeued",
                     "bounced"):  # fmt: skip
            setattr(merged, name, getattr(merged, name) + getattr(report, name))
        merged.failures += report.failures
        merged.stopped = merged.stopped or report.stopped
    last = max(reports, key=lambda r: sum(r.totals.get(s, 0) for s in ("sent", "failed")))
    merged.totals, merged.finished = last.totals, any(r.finished for r in reports)
    merged.next_retry, merged.total = last.next_retry, last.total
    merged.uncertain = max(r.uncertain for r in reports)
    return merged


def make_provider(
    settings: Settings, client: httpx.Client | None = None, *, name: str | None = None
) -> Provider:
    """The provider named by ``NEWSLETTER_PROVIDER`` (or ``name``), behind a failover when
    ``NEWSLETTER_FAILOVER_PROVIDER`` is set; HTTP providers use ``client`` (a new one when
    None). Raises :class:`ConfigError`."""
    if name is None and settings.failover_provider:
        if settings.failover_provider == settings.provider:
            raise ConfigError(
                "NEWSLETTER_FAILOVER_PROVIDER: must differ from NEWSLETTER_PROVIDER"
            )
        return FailoverProvider(
            make_provider(settings, client, name=settings.provider),
            make_provider(settings, client, name=settings.failover_provider),
            cooldown=settings.failover_cooldown,
        )
    import httpx

    from newsletter.providers.registry import HTTP_PROVIDERS, make_http_provider  # botocore

    name = name or settings.provider
    if name in HTTP_PROVIDERS:
        return make_http_provider(
            name, settings, client or httpx.Client(timeout=settings.http_timeout)
        )
    if name == "file":
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


def _decisions(edition: Edition | None) -> Decisions:
    if edition is None:
        return Decisions()
    return Decisions(
        pins=tuple(edition.pins or ()),
        excludes=frozenset(edition.excludes or ()),
        positions={int(k): int(v) for k, v in (edition.positions or {}).items()},
        subject=edition.subject_override,
        preheader=edition.preheader_override,
    )


def _candidates(articles: list[Article]) -> list[Candidate]:
    return [
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


def _item_row(item: PlannedItem) -> ItemRow:
    return ItemRow(
        article_id=item.candidate.article_id,
        section=item.section,
        category=item.candidate.category,
        url=item.candidate.url,
        title=item.candidate.title,
        summary=item.summary,
        source_name=item.candidate.source_name,
        reading_seconds=item.reading_seconds,
        score=item.score,
        score_parts=item.parts.as_dict(),
        also=[{"source": c.source, "url": c.url} for c in item.also],
        pinned=item.pinned,
    )


def _item_json(item: EditionItem) -> dict[str, Any]:
    return {
        "article_id": item.article_id,
        "url": item.url,
        "title": item.title,
        "category": item.category,
        "summary": item.summary,
        "reading_seconds": round(item.reading_seconds, 1),
        "score": item.score,
        "score_parts": item.score_parts,
        "also": item.also,
        "pinned": item.pinned,
    }


def edition_json(edition: Edition) -> dict[str, Any]:
    """The ``compose --json`` document (a contract):
    ``{"edition": {date, status, subject, preheader, reading_seconds, budget_seconds},
    "items": [{article_id, url, title, category, summary, reading_seconds, score,
    score_parts, also, pinned}], "variants": [{topics, reading_seconds, items}]}``.
    ``score_parts`` explains the score (featured, coverage, prominence, recency,
    category_weight, total); ``also`` lists the other sources of the story. Seconds are
    integers for the edition and rounded to 0.1 for items."""
    return {
        "edition": {
            "date": edition.date.isoformat(),
            "status": edition.status,
            "subject": edition.subject,
            "preheader": edition.preheader,
            "reading_seconds": edition.reading_seconds,
            "budget_seconds": edition.budget_seconds,
        },
        "items": [_item_json(item) for item in edition.items],
        "variants": [
            {
                "topics": key.split(","),
                "reading_seconds": round(edition.variant_seconds.get(key, 0)),
                "items": [_item_json(item) for item in edition.variant_items(key)],
            }
            for key in edition.variants
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
        from newsletter.render.edition import Identity  # Jinja2, premailer

        s = self.settings
        return Identity(
            title=s.title,
            sender_name=s.sender_name,
            sender_address=s.sender_address,
            postal_address=s.postal_address,
            list_id=s.effective_list_id,
            language=s.language,
            feedback_id=s.feedback_id,
        )

    def dkim_signer(self) -> Callable[[bytes], bytes] | None:
        """The DKIM signing function when ``dkim_selector`` and ``dkim_private_key`` are set;
        raises :class:`ConfigError` when only one of them is."""
        s = self.settings
        if not (s.dkim_selector or s.dkim_private_key):
            return None
        if not (s.dkim_selector and s.dkim_private_key):
            raise ConfigError(
                "NEWSLETTER_DKIM_SELECTOR and NEWSLETTER_DKIM_PRIVATE_KEY go together"
            )
        from newsletter.render.dkim import DKIMError, DKIMSigner

        try:
            signer = DKIMSigner.from_file(
                s.dkim_selector, s.dkim_domain or s.sender_domain, s.dkim_private_key
            )
        except DKIMError as exc:
            raise ConfigError(f"NEWSLETTER_DKIM_PRIVATE_KEY: {exc}") from None
        return signer.sign

    def provider(self) -> Provider:
        """The provider given at construction or the configured one (HTTP providers on
        :attr:`provider_client`)."""
        return self._provider or make_provider(self.settings, self.provider_client)

    @cached_property
    def provider_client(self) -> httpx.Client:
        """The HTTP client of the HTTP mail providers: ``http_client`` or one of our own,
        kept for the process (its connections are reused from batch to batch)."""
        import httpx

        return self.http_client or httpx.Client(timeout=self.settings.http_timeout)

    def init_db(self) -> str | None:
        """Create or migrate the schema; returns the revision."""
        return migrate(self.engine)

    def ready(self) -> None:
        """Raise ``DatabaseError`` unless the schema exists."""
        check_schema(self.engine)

    def foreign_data(self) -> str | None:
        """What, besides the sample data, the database holds (None if nothing)."""
        with self.sessions() as session:
            articles = session.scalar(
                select(func.count()).select_from(Article).where(Article.source != SAMPLE_SOURCE)
            )
            subscribers = session.scalar(
                select(func.count())
                .select_from(Subscriber)
                .where(or_(Subscriber.source.is_(None), Subscriber.source != "demo"))
            )
        if articles or subscribers:
            return f"it holds {articles} other articles and {subscribers} other subscribers"
        return None

    def signup(
        self, email: str, name: str | None = None, topics: str | list[str] | None = None
    ) -> SignupOutcome:
        """A reader's sign-up (double opt-in): validate, record, send the confirmation.

        Raises :class:`newsletter.audience.records.InvalidSubscriber` for an invalid address and
        :class:`UsageError` when the confirmation cannot be handed to the provider (the
        sign-up is kept: asking again resends it)."""
        record = make_record(email, name, topics)
        outcome = request_signup(self.sessions, record)
        if outcome.confirmation_needed and outcome.subscriber_id is not None:
            s = self.settings
            data = confirmation_message(
                self.links, subscriber_id=outcome.subscriber_id, email=record.email,
                title=s.title, sender_name=s.sender_name, sender_address=s.sender_address,
                days=s.confirm_days, language=s.language,
            )  # fmt: skip
            signer = self.dkim_signer()
            envelope = Envelope(
                key=time.time_ns() // 1000,  # unique: a repeated confirmation is a new message
                sender=s.sender_address, recipient=record.email,
                data=signer(data) if signer else data, message_id="", campaign="confirmations",
            )  # fmt: skip
            self.send_one(envelope, "the confirmation")
        return outcome

    def send_one(self, envelope: Envelope, what: str) -> MessageResult:
        """Hand one message outside any edition's outbox (a confirmation, a test send) to a
        provider of its own. Raises :class:`UsageError` naming ``what`` unless the provider
        accepted it."""
        provider = self.provider()
        try:
            batch = provider.send([envelope])
        finally:
            provider.close()
        result = batch.results[0] if batch.results else None
        if result is None or result.result != Result.SENT:
            reason = batch.stop or (result.detail if result else None) or "no answer"
            raise UsageError(f"{what} was not accepted: {reason}")
        return result

    def today(self) -> date:
        """Today's date in the newsletter's time zone."""
        return local_today(self.settings.zone)

    # --- ingest --------------------------------------------------------------------------
    def ingest(self, sources: list[str]) -> list[SourceReport]:
        """Ingest feed URLs or files (see :func:`newsletter.ingest.run.ingest_sources`)."""
        from newsletter.ingest.run import ingest_sources  # feedparser, language detection

        return ingest_sources(sources, self.sessions, self.settings, client=self.http_client)

    def ingest_sample(self, day: date | None = None, now: datetime | None = None) -> SourceReport:
        """Load the sample articles dated before ``day``'s send time (or before now, when
        that comes first), so that the edition of ``day`` finds them."""
        from newsletter.ingest.run import SourceReport, store_records

        day = day or self.today()
        send_at = local_datetime(day, self.settings.send_time, self.settings.zone)
        anchor = min(now or utcnow(), send_at) - timedelta(minutes=1)
        report = SourceReport(source=SAMPLE_SOURCE, name="Le Brief (sample)")
        store_records(self.sessions, report, load_sample_articles(anchor, zone=self.settings.zone))
        return report

    # --- compose -------------------------------------------------------------------------
    def policy(self, topics: frozenset[str] = frozenset()) -> Policy:
        """The composition policy from the settings (``topics``: a personal variant)."""
        s = self.settings
        return Policy(
            budget_seconds=s.reading_budget_seconds,
            sections=s.sections,
            language=s.language,
            summary_max_chars=s.summary_max_chars,
            section_titles=i18n.section_titles(s.language),
            wpm_overrides=s.words_per_minute or None,
            max_share=s.category_max_share,
            category_weights=s.category_weights,
            topics=topics,
            max_items=s.max_items,
        )

    def compose(self, day: date | None = None) -> ComposeResult:
        """Compose (or recompose) the draft of ``day``: the main edition and one personal
        variant per distinct topic choice of the active subscribers.

        Candidates are the articles of the 24 hours before the send time not featured in
        another edition; when they cannot fill 90 % of the budget the window reaches back up
        to ``lookback_max_hours``. The editor's decisions are kept. A released edition is
        left as it is (``locked``).
        """
        s = self.settings
        day = day or self.today()
        window = edition_window(day, s.send_time, s.zone)
        with transaction(self.sessions) as session:
            existing = get_edition(session, day)
            if existing is not None and existing.status != EditionStatus.DRAFT:
                return ComposeResult(existing, None, locked=True)
            exclude = (existing.id,) if existing is not None else ()
            decisions = _decisions(existing)
            candidates = _candidates(
                articles_in_window(
                    session, *window, exclude_edition_ids=exclude, newsletter="default"
                )
            )
            plan = compose_plan(
                candidates, window_end=window[1], policy=self.policy(), decisions=decisions
            )
            if plan.reading_seconds < 0.9 * plan.budget_seconds and s.lookback_max_hours > 24:
                wider = edition_window(day, s.send_time, s.zone, hours=s.lookback_max_hours)
                more = _candidates(
                    articles_in_window(
                        session, *wider, exclude_edition_ids=exclude, newsletter="default"
                    )
                )
                wider_plan = compose_plan(
                    more, window_end=window[1], policy=self.policy(), decisions=decisions
                )
                if wider_plan.reading_seconds > plan.reading_seconds:
                    plan, candidates, window = wider_plan, more, wider
            variants = {"": plan}
            for topics in active_topic_choices(session):
                variants[",".join(sorted(topics))] = compose_plan(
                    candidates,
                    window_end=window[1],
                    policy=self.policy(topics),
                    decisions=decisions,
                )
            edition = save_draft(
                session,
                day,
                subject=plan.subject or f"{s.title} — {i18n.long_date(day, s.language)}",
                preheader=plan.preheader,
                reading_seconds=plan.reading_seconds,
                budget_seconds=plan.budget_seconds,
                window=window,
                items={key: [_item_row(item) for item in p.items] for key, p in variants.items()},
                variant_seconds={key: p.reading_seconds for key, p in variants.items() if key},
            )
        stored = self.edition(day)
        assert stored is not None and stored.id == edition.id
        return ComposeResult(stored, plan)

    def decide(self, day: date, **changes: Any) -> ComposeResult:
        """Record an editor's decisions on the draft of ``day`` (composing it first if
        needed; see :func:`newsletter.store.editions.set_decisions` for ``changes``) and
        recompose. Raises ``EditionLocked`` for a released edition, :class:`UsageError` for
        a subject or preheader that breaks :mod:`newsletter.editions.texts`' rule."""
        # --- editor's texts: one rule for every caller (fixes-cli) ---
        for name in ("subject", "preheader"):
            problem = text_problem(name, changes.get(name))
            if problem:
                raise UsageError(problem)
        # ---
        if self.edition(day) is None:
            self.compose(day)
        with transaction(self.sessions) as session:
            edition = get_edition(session, day)
            assert edition is not None
            set_decisions(session, edition, **changes)
        return self.compose(day)

    def _overtaken(self, edition: Edition) -> bool:
        """True when an article of the draft's window arrived after it was composed."""
        with self.sessions() as session:
            newer = session.scalar(
                select(func.count())
                .select_from(Article)
                .where(
                    Article.first_seen_at > edition.composed_at,
                    Article.published_at >= edition.window_start,
                    Article.published_at < edition.window_end,
                )
            )
        return bool(newer)

    def edition(self, day: date) -> Edition | None:
        """The stored edition of ``day`` (items loaded) or None."""
        with self.sessions() as session:
            return get_edition(session, day)

    # --- render --------------------------------------------------------------------------
    def render(
        self, edition: Edition, variant: str = "", *, public: bool = False
    ) -> RenderedEdition:
        """Render ``edition`` (or one of its personal variants) once: templates, CSS
        inlining, MIME skeleton. An unknown variant renders the main edition."""
        from newsletter.render.edition import RenderEdition, RenderItem, render_edition

        items = edition.variant_items(variant) if variant else []
        if not items:
            variant, items = "", edition.items
        subject, preheader = edition.subject, edition.preheader
        if variant:
            subject = edition.subject_override or truncate_words(items[0].title, SUBJECT_MAX_CHARS)
            preheader = edition.preheader_override or edition.preheader
        utm = self.settings.utm_parameters
        view = RenderEdition(
            day=edition.date,
            subject=subject,
            preheader=preheader,
            reading_seconds=edition.variant_seconds.get(variant, edition.reading_seconds),
            items=[
                RenderItem(
                    i.title,
                    with_utm(i.url, utm, edition.date),
                    i.summary,
                    i.section,
                    i.source_name,
                    also=tuple(
                        (a["source"], with_utm(a["url"], utm, edition.date)) for a in i.also or ()
                    ),
                    category=i.category,
                )
                for i in items
            ],
            view_url=self.links.edition_url(edition.date),
        )
        return render_edition(view, self.identity, public=public)

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
    def send(
        self,
        day: date | None = None,
        *,
        batch_size: int | None = None,
        early: bool = False,
        resend_uncertain: bool = False,
        should_stop: Callable[[], bool] = lambda: False,
        on_progress: Callable[[RunReport], None] | None = None,
        in_process: bool = False,
    ) -> SendResult:
        """Compose ``day``'s edition if there is none (or recompose a draft that new articles
        have overtaken, unless an editor approved it), release it (freezing its recipients:
        one delivery row per active subscriber) and deliver every row not yet sent. Running
        it again sends nothing new.

        When ``newsletter worker`` processes are running (recent heartbeats) the edition is
        left to them, unless ``in_process``. Raises :class:`UsageError` for an edition with
        no items, and, unless ``early``, for an edition whose window has not closed yet (its
        articles would be missing, and tomorrow's window starts at today's send time).
        """
        s = self.settings
        day = day or self.today()
        edition = self.edition(day)
        if edition is None or edition.status == EditionStatus.DRAFT:
            window_end = local_datetime(day, s.send_time, s.zone)
            if not early and utcnow() < window_end:
                raise UsageError(
                    f"the edition of {day.isoformat()} covers articles until "
                    f"{s.send_time:%H:%M} {s.timezone}; it cannot be sent before then "
                    "(use --early to send it anyway)"
                )
        # An approved draft is sent as the editors approved it (issue 7), never recomposed.
        if edition is None or (
            edition.status == EditionStatus.DRAFT
            and edition.approved_at is None
            and self._overtaken(edition)
        ):
            try:
                edition = self.compose(day).edition
            except EditionLocked:  # another send released it meanwhile: deliver alongside
                edition = self.edition(day) or edition
        if not edition.items:
            raise UsageError(
                f"the edition of {day.isoformat()} has no items: nothing to send "
                "(ingest articles, then compose again)"
            )
        if edition.status == EditionStatus.DRAFT:
            self._check_releasable(edition)
            # The provider's settings are checked before the recipients are frozen: a
            # missing key must not leave a released edition for a worker to send later.
            self.provider().close()
        released = False
        created = 0
        with transaction(self.sessions) as session:
            if edition.status == EditionStatus.DRAFT:
                released = release_edition(session, edition.id)
            if released:
                created = create_deliveries(session, edition.id)
        edition = self.edition(day) or edition
        with self.sessions() as session:
            workers = live_workers(session)
        if workers and not in_process:
            return SendResult(edition, released, created, RunReport(), handed_to_workers=workers)
        run = self.deliver(
            edition,
            batch_size=batch_size,
            should_stop=should_stop,
            on_progress=on_progress,
            resend_uncertain=resend_uncertain,
        )
        return SendResult(self.edition(day) or edition, released, created, run)

    def _check_releasable(self, edition: Edition) -> None:
        """Raise :class:`UsageError` when the editors keep the draft from being sent: it is
        held, or approval is required (``require_approval``) and nobody approved it."""
        day = edition.date.isoformat()
        if edition.held:
            raise UsageError(
                f"the edition of {day} is held by an editor: lift the hold "
                f"(newsletter edition hold --release --date {day}) or approve it"
            )
        if self.settings.require_approval and edition.approved_at is None:
            raise UsageError(
                f"the edition of {day} is not approved and NEWSLETTER_REQUIRE_APPROVAL is on: "
                f"an editor approves it (/editor or newsletter edition approve --date {day})"
            )

    def sender(self, edition: Edition) -> Sender:
        """What turns the edition's claimed rows into envelopes: each variant rendered once,
        on first use, which prepares both its multipart message and its text-only one
        (readers who chose the text format)."""
        cache: dict[str, RenderedEdition] = {}
        variants = frozenset(edition.variants)  # computed once: this runs per message

        def rendered(variant: str) -> RenderedEdition:
            if variant not in variants:
                variant = ""
            if variant not in cache:
                cache[variant] = self.render(edition, variant)
            return cache[variant]

        def message_for(variant: str) -> PreparedMessage:
            return rendered(variant).message

        def text_message_for(variant: str) -> PreparedTextMessage:
            text_message = rendered(variant).text_message
            assert text_message is not None  # render_edition always prepares it
            return text_message

        return Sender(
            message_for=message_for,
            links=self.links,
            day=edition.date,
            envelope_sender=self.settings.sender_address,
            sender_domain=self.settings.sender_domain,
            unsubscribe_mailto=self.settings.unsubscribe_mailto,
            signer=self.dkim_signer(),
            text_message_for=text_message_for,
        )

    def deliver(
        self,
        edition: Edition,
        *,
        batch_size: int | None = None,
        should_stop: Callable[[], bool] = lambda: False,
        on_progress: Callable[[RunReport], None] | None = None,
        resend_uncertain: bool = False,
        sender: Sender | None = None,
    ) -> RunReport:
        """Drain the released ``edition`` with a provider of its own (closed afterwards).

        With SMTP and ``smtp_connections`` above 1, that many threads send in parallel, each
        on its own connection and as its own worker (no row is claimed twice); all share the
        ``send_rate`` limit."""
        sender = sender or self.sender(edition)
        limiter = RateLimiter(self.settings.send_rate)
        parallel = self.settings.smtp_connections if self._provider is None else 1
        if self.settings.provider != "smtp":
            parallel = 1

        def one() -> RunReport:
            # Daily cap and pause-after-errors (issue 6) around the provider.
            provider = guard_for_edition(
                self.provider(), self.settings, self.sessions, edition.id
            )
            try:
                return drain(
                    self.sessions,
                    edition.id,
                    sender,
                    provider,
                    claim_size=batch_size or self.settings.send_batch_size,
                    commit_size=self.settings.send_commit_size,
                    should_stop=should_stop,
                    on_progress=on_progress,
                    resend_uncertain=resend_uncertain,
                    limiter=limiter,
                )
            finally:
                provider.close()

        if parallel == 1:
            return one()
        with ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="smtp") as pool:
            reports = list(pool.map(lambda _: one(), range(parallel)))
        return merge_reports(reports)

    def work(
        self,
        *,
        should_stop: Callable[[], bool] = lambda: False,
        once: bool = False,
        poll_seconds: float = 5.0,
        on_progress: Callable[[RunReport], None] | None = None,
        on_run: Callable[[Edition, RunReport], None] | None = None,
    ) -> int:
        """A delivery worker: drain every released edition, then wait for more (``once``:
        return when nothing is left to claim). Heartbeats let ``send`` see it. Returns the
        number of messages this worker had accepted."""
        me = worker_id()
        senders: dict[int, Sender] = {}
        accepted = 0
        try:
            while not should_stop():
                with transaction(self.sessions) as session:
                    beat(session, me)
                    pending = editions_to_deliver(session)
                busy = False
                for edition_id in pending:
                    edition = self._edition_by_id(edition_id)
                    if edition is None or should_stop():
                        continue
                    if edition_id not in senders:
                        senders[edition_id] = self.sender(edition)
                    run = self.deliver(
                        edition,
                        should_stop=should_stop,
                        on_progress=on_progress,
                        sender=senders[edition_id],
                    )
                    accepted += run.sent
                    busy = busy or bool(run.sent + run.failed + run.deferred + run.unknown)
                    if on_run:
                        on_run(edition, run)
                if once and not busy:
                    break
                if not busy:
                    deadline = time.monotonic() + poll_seconds
                    while time.monotonic() < deadline and not should_stop():
                        time.sleep(0.2)
        finally:
            with transaction(self.sessions) as session:
                leave(session, me)
        return accepted

    def _edition_by_id(self, edition_id: int) -> Edition | None:
        with self.sessions() as session:
            edition = session.get(Edition, edition_id)
            return get_edition(session, edition.date, edition.newsletter) if edition else None

    def hold(self, day: date, held: bool = True) -> bool:
        """Hold (or release the hold on) the draft of ``day``; True if it changed. Raises
        :class:`UsageError` when there is no such edition or it was already released."""
        edition = self._draft(day)
        with transaction(self.sessions) as session:
            return set_held(session, edition.id, held)

    def approve(self, day: date, by: str) -> bool:
        """Approve the draft of ``day`` on behalf of ``by`` (an editor's address); True if
        this call approved it. Raises :class:`UsageError` when there is no draft."""
        edition = self._draft(day)
        with transaction(self.sessions) as session:
            return approve_edition(session, edition.id, by)

    def _draft(self, day: date) -> Edition:
        edition = self.edition(day)
        if edition is None:
            raise UsageError(f"no edition for {day.isoformat()}")
        if edition.status != EditionStatus.DRAFT:
            raise UsageError(f"the edition of {day.isoformat()} is already {edition.status}")
        return edition

    def pause(self, day: date, paused: bool = True) -> bool:
        """Pause (or resume) the sending edition of ``day``; True if it changed. Raises
        :class:`UsageError` when there is no such edition."""
        edition = self.edition(day)
        if edition is None:
            raise UsageError(f"no edition for {day.isoformat()}")
        with transaction(self.sessions) as session:
            return set_paused(session, edition.id, paused)
