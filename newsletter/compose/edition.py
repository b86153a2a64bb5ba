"""Rank candidates and fit them to the reading-time budget.

The first ranking (issue "Today's briefing, end to end"): an article's score mixes the
source's own emphasis (a "featured" flag, its position in the feed) with recency; categories
are spread by damping each further item of an already chosen category; items are taken by
descending score while they fit the budget, one per canonical URL and per title.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime

from newsletter.compose.reading import reading_seconds
from newsletter.compose.summary import summarise
from newsletter.textutil import collapse, slugify, truncate_words

#: Weights of the score's parts (sum of weighted parts in [0, 1.9]).
FEATURED_WEIGHT = 1.0
PROMINENCE_WEIGHT = 0.5
RECENCY_WEIGHT = 0.4
#: Recency halves every this many hours before the window's end.
RECENCY_HALF_LIFE_HOURS = 8.0
#: Each item already chosen in a category multiplies the next one's score by this.
CATEGORY_DAMPING = 0.6
SUBJECT_MAX_CHARS = 90
PREHEADER_MAX_CHARS = 140
OTHER_SECTION = "autres"


@dataclass(frozen=True)
class Candidate:
    """An article that may enter the edition (plain values: compose does no I/O)."""

    article_id: int
    url: str
    url_key: str
    title: str
    summary: str
    body: str
    category: str | None
    language: str | None
    published_at: datetime  # aware UTC
    feed_position: int = 0
    featured: bool = False
    source_name: str | None = None


@dataclass(frozen=True)
class PlannedItem:
    """An item of the plan: the candidate, its section, summary, reading time (seconds) and
    its own score (before the category damping that spread the selection)."""

    candidate: Candidate
    section: str
    summary: str
    reading_seconds: float
    score: float


@dataclass
class EditionPlan:
    """An ordered edition: the lead story first, then sections in the configured order."""

    items: list[PlannedItem]
    reading_seconds: float
    budget_seconds: int
    subject: str
    preheader: str
    sections: list[str] = field(default_factory=list)


def category_slug(label: str | None) -> str:
    """``"Économie"`` -> ``"economie"``: lower case, accents and punctuation removed."""
    return slugify(label or "") or OTHER_SECTION


def score_candidate(candidate: Candidate, window_end: datetime) -> float:
    """The candidate's own score: featured flag, prominence in its feed, recency."""
    age_hours = max(0.0, (window_end - candidate.published_at).total_seconds() / 3600)
    recency = math.pow(0.5, age_hours / RECENCY_HALF_LIFE_HOURS)
    prominence = 1.0 / (1.0 + candidate.feed_position / 5.0)
    return (
        FEATURED_WEIGHT * candidate.featured
        + PROMINENCE_WEIGHT * prominence
        + RECENCY_WEIGHT * recency
    )


def _title_key(title: str) -> str:
    return re.sub(r"\W+", " ", collapse(title).lower()).strip()


def compose_plan(
    candidates: list[Candidate],
    *,
    window_end: datetime,
    budget_seconds: int,
    sections: list[str],
    language: str,
    summary_max_chars: int,
    section_titles: dict[str, str] | None = None,
    wpm_overrides: dict[str, float] | None = None,
) -> EditionPlan:
    """Choose and order the edition's items within ``budget_seconds`` of reading.

    Reading time counts the words of section headings (``section_titles``, by slug), item
    titles and summaries. Deterministic: equal inputs give equal plans (ties break on id).
    An empty candidate list gives an empty plan.
    """
    titles = section_titles or {}
    section_of = _sections(candidates, sections, titles)
    pool: list[tuple[float, Candidate, str, str, float]] = []
    seen_urls: set[str] = set()
    seen_titles: set[str] = set()
    for candidate in sorted(
        candidates, key=lambda c: (-score_candidate(c, window_end), c.article_id)
    ):
        title_key = _title_key(candidate.title)
        if candidate.url_key in seen_urls or title_key in seen_titles:
            continue
        seen_urls.add(candidate.url_key)
        seen_titles.add(title_key)
        summary = summarise(candidate.summary or candidate.body, summary_max_chars)
        lang = candidate.language or language
        seconds = reading_seconds(f"{candidate.title} {summary}", lang, wpm_overrides)
        pool.append(
            (
                score_candidate(candidate, window_end),
                candidate,
                section_of[candidate.article_id],
                summary,
                seconds,
            )
        )

    chosen: list[PlannedItem] = []
    per_section: dict[str, int] = {}
    used = 0.0
    remaining = list(pool)
    while remaining:
        best_index = -1
        best_value = -1.0
        for index, (score, _candidate, section, _summary, seconds) in enumerate(remaining):
            heading = 0.0
            if section not in per_section:
                heading = reading_seconds(titles.get(section, section), language, wpm_overrides)
            if used + seconds + heading > budget_seconds:
                continue
            value = score * math.pow(CATEGORY_DAMPING, per_section.get(section, 0))
            if value > best_value:
                best_index, best_value = index, value
        if best_index < 0:
            break
        score, candidate, section, summary, seconds = remaining.pop(best_index)
        if section not in per_section:
            used += reading_seconds(titles.get(section, section), language, wpm_overrides)
        per_section[section] = per_section.get(section, 0) + 1
        used += seconds
        chosen.append(PlannedItem(candidate, section, summary, seconds, round(score, 4)))

    ordered = _order(chosen, sections)
    section_order = list(dict.fromkeys(item.section for item in ordered[1:]))
    return EditionPlan(
        items=ordered,
        reading_seconds=used,
        budget_seconds=budget_seconds,
        subject=_subject(ordered),
        preheader=_preheader(ordered),
        sections=section_order,
    )


def _sections(
    candidates: list[Candidate], configured: list[str], titles: dict[str, str]
) -> dict[int, str]:
    """Section of each candidate: its category slug when the section is configured, has a
    known title, or gathers at least two candidates; otherwise "autres" (so that a feed
    whose categories are fine-grained tags does not give one heading per item)."""
    slugs = {c.article_id: category_slug(c.category) for c in candidates}
    counts: dict[str, int] = {}
    for slug in slugs.values():
        counts[slug] = counts.get(slug, 0) + 1
    known = set(configured) | set(titles)
    return {
        article_id: slug if slug in known or counts[slug] >= 2 else OTHER_SECTION
        for article_id, slug in slugs.items()
    }


def _order(chosen: list[PlannedItem], sections: list[str]) -> list[PlannedItem]:
    if not chosen:
        return []
    lead = chosen[0]  # the first pick has the highest undamped value
    rank = {slug: index for index, slug in enumerate(sections)}
    rest = sorted(
        chosen[1:],
        key=lambda item: (
            rank.get(item.section, len(rank) + (item.section == OTHER_SECTION)),
            item.section,
            -item.score,
            item.candidate.article_id,
        ),
    )
    return [lead, *rest]


def _subject(items: list[PlannedItem]) -> str:
    if not items:
        return ""
    return truncate_words(collapse(items[0].candidate.title), SUBJECT_MAX_CHARS)


def _preheader(items: list[PlannedItem]) -> str:
    titles = [collapse(item.candidate.title) for item in items[1:4]]
    if not titles:
        return ""
    return truncate_words(" · ".join(titles), PREHEADER_MAX_CHARS)
