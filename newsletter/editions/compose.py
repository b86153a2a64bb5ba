"""Composing an edition: the stored articles of a window, ranked into a draft that fits the
reading budget, once for every cadence.

One concept, two cadences (:class:`Cadence`): the daily edition covers the 24 hours before
the send time (reaching back up to ``lookback_max_hours`` on a thin day); the weekly one
covers the seven local days before it, for readers on the weekly frequency. Each is its own
edition (unique per newsletter and date); the daily editions do not hide their stories from
the weekly one (a weekly reader has not read them), and the weekly one takes none from them.
The selection itself is :func:`newsletter.compose.edition.compose_plan` (pure); this module
reads the candidates and the articles the other editions of the cadence used (shown, under
"also" or merged: never offered again, and their stories return only through an article
published after that edition's send), keeps the editors' decisions and stores the draft.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from sqlalchemy.orm import Session, sessionmaker

from newsletter import words
from newsletter.compose.edition import (
    Candidate,
    Decisions,
    EditionPlan,
    PlannedItem,
    Policy,
    UsedArticle,
    compose_plan,
)
from newsletter.config.options import ComposeOptions
from newsletter.store import audit
from newsletter.store.articles import articles_published_in
from newsletter.store.audit import Actor
from newsletter.store.clicks import section_click_rates
from newsletter.store.db import transaction
from newsletter.store.editions import (
    ItemRow,
    draft_content,
    get_edition,
    lock_for_compose,
    next_version,
    save_draft,
    used_articles,
)
from newsletter.store.models import Article, Edition, EditionStatus
from newsletter.store.subscribers import active_topic_choices
from newsletter.timeutil import edition_window, local_datetime

#: Who composes when no one says (the scheduler, the send that composes a missing draft).
COMPOSER = Actor("composer")
#: Local days the weekly edition looks back over.
WEEK_DAYS = 7
#: A daily plan below this share of the budget reaches back up to ``lookback_max_hours``.
THIN_SHARE = 0.9


class Cadence(StrEnum):
    """How often an edition goes; the value is the ``newsletter`` column of its row."""

    DAILY = "default"
    WEEKLY = "weekly"


@dataclass
class ComposeResult:
    """The edition after composing; ``plan`` is None and ``locked`` True when it was already
    released (it is returned unchanged)."""

    edition: Edition
    plan: EditionPlan | None
    locked: bool = False


def week_window(day: date, options: ComposeOptions) -> tuple[datetime, datetime]:
    """``[start, end)`` aware UTC of the weekly edition of ``day``: the send time seven local
    days before to the send time of ``day`` (167 to 169 hours across a clock change)."""
    return (
        local_datetime(day - timedelta(days=WEEK_DAYS), options.send_time, options.zone),
        local_datetime(day, options.send_time, options.zone),
    )


def decisions_of(edition: Edition | None) -> Decisions:
    """The editors' decisions stored on ``edition`` (none for a new draft)."""
    if edition is None:
        return Decisions()
    return Decisions(
        pins=tuple(edition.pins or ()),
        excludes=frozenset(edition.excludes or ()),
        positions={int(k): int(v) for k, v in (edition.positions or {}).items()},
        subject=edition.subject_override,
        preheader=edition.preheader_override,
    )


def candidates_of(articles: list[Article]) -> list[Candidate]:
    """The stored articles as composition candidates (plain values, no ORM objects)."""
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


def item_row(item: PlannedItem) -> ItemRow:
    """A planned item as the row the store keeps."""
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
        also=[
            {"source": c.source, "url": c.url, "article_id": c.article_id, "title": c.title}
            for c in item.also
        ],
        pinned=item.pinned,
        kind=item.kind.value,
    )


class Composer:
    """Composes drafts from the store through ``sessions`` with ``options``."""

    def __init__(self, sessions: sessionmaker[Session], options: ComposeOptions) -> None:
        self.sessions, self.options = sessions, options

    def policy(
        self, topics: frozenset[str] = frozenset(), readership: Mapping[str, float] | None = None
    ) -> Policy:
        """The composition policy (``topics``: a reader's personal variant; ``readership``:
        each section's click-through rate, :func:`readership_rates`)."""
        o = self.options
        return Policy(
            budget_seconds=o.budget_seconds,
            sections=list(o.sections),
            language=o.language,
            summary_max_chars=o.summary_max_chars,
            section_titles=words.section_titles(o.language),
            wpm_overrides=o.words_per_minute or None,
            max_share=o.max_share,
            category_weights=o.category_weights,
            topics=topics,
            max_items=o.max_items,
            languages=frozenset(o.languages),
            readership=dict(readership or {}),
            readership_weight=o.readership_weight if readership else 0.0,
        )

    def readership_rates(
        self, session: Session, day: date, cadence: Cadence = Cadence.DAILY
    ) -> dict[str, float]:
        """Each section's click-through rate over the cadence's editions sent in the
        ``readership_days`` days before ``day`` (empty when ``readership_weight`` is 0: the
        store is not even read)."""
        o = self.options
        if o.readership_weight <= 0:
            return {}
        return section_click_rates(session, day, o.readership_days, newsletter=cadence)

    def compose(
        self, day: date, cadence: Cadence = Cadence.DAILY, *, actor: Actor = COMPOSER
    ) -> ComposeResult:
        """Compose (or recompose) the draft of ``day`` for ``cadence``: the main edition and
        one personal variant per distinct topic choice of the active subscribers.

        Candidates are the articles of the edition's window; those another edition of the
        same cadence used (shown, under "also" or merged) are left out, and so are the
        articles of a story such an edition told published before its send (the plan's
        ``dropped`` says why each article was left out). A daily plan that fills less than
        90 % of the budget reaches back up to ``lookback_max_hours``. The editors' decisions
        are kept; an approval too while the content (:func:`draft_content`) stays the same,
        else the version goes up and the approval is cleared, in the audit log under
        ``actor``'s "compose". A released edition is left as it is (``locked``). Raises
        :class:`~newsletter.store.editions.EditionLocked` when another process released it
        while this one composed.
        """
        o = self.options
        if cadence == Cadence.WEEKLY:
            window = week_window(day, o)
        else:
            window = edition_window(day, o.send_time, o.zone)
        with transaction(self.sessions) as session:
            existing = lock_for_compose(session, day, cadence)  # one writer at a time
            if existing is not None and existing.status != EditionStatus.DRAFT:
                return ComposeResult(existing, None, locked=True)
            approved = (
                draft_content(existing)
                if existing is not None and existing.approved_at is not None
                else None
            )
            exclude = (existing.id,) if existing is not None else ()
            decisions = decisions_of(existing)
            rates = self.readership_rates(session, day, cadence)
            main_policy = self.policy(readership=rates)

            reach = edition_window(day, o.send_time, o.zone, hours=max(24, o.lookback_max_hours))
            used = [
                UsedArticle(
                    r.article_id, r.title, r.edition_date, r.sent_at, r.summary, r.language,
                    r.source,
                )
                for r in used_articles(
                    session, min(window[0], reach[0]), newsletter=cadence,
                    exclude_edition_ids=exclude,
                )
            ]  # fmt: skip

            def plan_for(win: tuple[datetime, datetime]) -> tuple[EditionPlan, list[Candidate]]:
                candidates = candidates_of(articles_published_in(session, *win))
                return compose_plan(candidates, window_end=window[1], policy=main_policy,
                                    decisions=decisions, used=used), candidates  # fmt: skip

            plan, candidates = plan_for(window)
            thin = plan.reading_seconds < THIN_SHARE * plan.budget_seconds
            if cadence == Cadence.DAILY and thin and o.lookback_max_hours > 24:
                wider = edition_window(day, o.send_time, o.zone, hours=o.lookback_max_hours)
                wider_plan, more = plan_for(wider)
                if wider_plan.reading_seconds > plan.reading_seconds:
                    plan, candidates, window = wider_plan, more, wider
            variants = {"": plan}
            for topics in active_topic_choices(session):
                variants[",".join(sorted(topics))] = compose_plan(
                    candidates, window_end=window[1], policy=self.policy(topics, rates),
                    decisions=decisions, used=used,
                )  # fmt: skip
            edition = save_draft(
                session, day, newsletter=cadence,
                subject=plan.subject or self._default_subject(day, cadence),
                preheader=plan.preheader, reading_seconds=plan.reading_seconds,
                budget_seconds=plan.budget_seconds, window=window,
                items={key: [item_row(item) for item in p.items] for key, p in variants.items()},
                variant_seconds={key: p.reading_seconds for key, p in variants.items() if key},
            )  # fmt: skip
            if approved is not None and draft_content(edition) != approved:
                # The approval named the content it saw: a new version, to approve again.
                cleared = next_version(session, edition)
                assert cleared is not None
                audit.record(
                    session, actor, "compose", edition=edition,
                    details={"approval_cleared": {
                        "by": cleared.by, "version": cleared.version,
                        "at": cleared.at.isoformat() if cleared.at else None,
                    }},
                )  # fmt: skip
            edition_id = edition.id
        with self.sessions() as session:
            stored = get_edition(session, day, cadence)
        assert stored is not None and stored.id == edition_id
        return ComposeResult(stored, plan)

    def _default_subject(self, day: date, cadence: Cadence) -> str:
        """The subject when the plan has none (no items): the title and the date."""
        o = self.options
        if cadence == Cadence.WEEKLY:
            start = words.long_date(day - timedelta(days=WEEK_DAYS - 1), o.language)
            return words.say("edition.weekly_subject", "fr", title=o.title, start=start)
        return f"{o.title} — {words.long_date(day, o.language)}"
