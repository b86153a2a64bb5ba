"""Compose an edition: candidates in, an ordered plan within the reading budget out.

1. The editor's exclusions are removed; the rest are grouped into stories
   (:mod:`~newsletter.compose.stories`); each story is represented by its best article (an
   editor's pin, else the highest-scoring one) and mentions the other sources.
2. Stories are scored (:mod:`~newsletter.compose.scoring`) and the best are fitted to the
   budget by a knapsack (:mod:`~newsletter.compose.fit`) that counts the section headings,
   titles and summaries the reader reads, and caps each category's share.
3. The lead story (a pin, else the best) goes on top, then sections in the configured order;
   the editor's moves come last.

Pure: no I/O, and deterministic (ties break on article id).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

from newsletter.compose.fit import Option, fit
from newsletter.compose.reading import reading_seconds
from newsletter.compose.scoring import ScoreParts, score_parts
from newsletter.compose.stories import group_stories
from newsletter.compose.summary import summarise
from newsletter.textutil import collapse, slugify, truncate_words

SUBJECT_MAX_CHARS = 90
PREHEADER_MAX_CHARS = 140
OTHER_SECTION = "autres"
#: Category slugs that name a section of ours under another word (plural, English).
SECTION_ALIASES = {
    "sports": "sport",
    "politics": "politique",
    "economy": "economie",
    "business": "economie",
    "eco": "economie",
    "society": "societe",
    "world": "monde",
    "cultures": "culture",
    "arts": "culture",
}
#: A personal variant multiplies the weight of the reader's topics by this.
TOPIC_BOOST = 3.0
#: Stories whose summary and reading time are computed (the best by score; the knapsack only
#: ever looks at fewer), which bounds the cost of large candidate sets.
SHORTLIST = 300
#: Other sources named under an item (each is a link: they weigh on the email's size).
MAX_OTHER_SOURCES = 2


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

    @property
    def source(self) -> str:
        """The source's name, else the URL's host."""
        return self.source_name or urlsplit(self.url).netloc.removeprefix("www.")


@dataclass(frozen=True)
class Decisions:
    """An editor's decisions on a draft, kept across recompositions.

    ``pins``: article ids that must appear, in order (the first pin leads); ``excludes``:
    article ids that must not; ``positions``: article id -> 1-based position in the edition;
    ``subject``/``preheader``: replacements for the generated ones.
    """

    pins: tuple[int, ...] = ()
    excludes: frozenset[int] = frozenset()
    positions: Mapping[int, int] = field(default_factory=dict)
    subject: str | None = None
    preheader: str | None = None


@dataclass(frozen=True)
class Policy:
    """How to compose: budget (seconds), section order and titles (by slug), language,
    summary length (characters), reading-rate overrides (wpm by language), category share
    cap (0-1] and weights, ``topics`` for a personal variant (empty: the main edition), and
    the most items an edition may hold (30 keeps the largest email under Gmail's ~102 KB
    clipping limit with 300-character titles and URLs)."""

    budget_seconds: int
    sections: Sequence[str]
    language: str
    summary_max_chars: int = 320
    section_titles: Mapping[str, str] = field(default_factory=dict)
    wpm_overrides: Mapping[str, float] | None = None
    max_share: float = 0.4
    category_weights: Mapping[str, float] = field(default_factory=dict)
    topics: frozenset[str] = frozenset()
    max_items: int = 30


@dataclass(frozen=True)
class PlannedItem:
    """An item of the plan: the story's chosen article, its section, summary, reading time
    (seconds), score and its parts, the other sources telling it, and whether it is pinned."""

    candidate: Candidate
    section: str
    summary: str
    reading_seconds: float
    score: float
    parts: ScoreParts
    also: tuple[Candidate, ...] = ()
    pinned: bool = False


@dataclass
class EditionPlan:
    """An ordered edition: the lead story first, then sections in the configured order."""

    items: list[PlannedItem]
    reading_seconds: float
    budget_seconds: int
    subject: str
    preheader: str
    candidates: int = 0
    stories: int = 0


def category_slug(label: str | None) -> str:
    """``"Économie"`` -> ``"economie"``: lower case, accents and punctuation removed, and a
    known synonym mapped to our section (``"Sports"`` -> ``"sport"``)."""
    slug = slugify(label or "") or OTHER_SECTION
    return SECTION_ALIASES.get(slug, slug)


@dataclass
class _Story:
    lead: Candidate
    members: list[Candidate]
    section: str
    parts: ScoreParts
    pinned: bool
    summary: str = ""
    seconds: float = 0.0


def _individual(candidate: Candidate, window_end: datetime) -> float:
    return score_parts(
        featured=candidate.featured, sources=1, feed_position=candidate.feed_position,
        published_at=candidate.published_at, window_end=window_end,
    ).total  # fmt: skip


def _stories(
    candidates: list[Candidate], window_end: datetime, policy: Policy, decisions: Decisions
) -> list[_Story]:
    pins = set(decisions.pins)
    sections = _sections(candidates, policy.sections, policy.section_titles)
    stories: list[_Story] = []
    for group in group_stories(candidates):
        members = sorted(
            (candidates[i] for i in group),
            key=lambda c: (c.article_id not in pins, -_individual(c, window_end), c.article_id),
        )
        lead = members[0]
        section = sections[lead.article_id]
        weight = policy.category_weights.get(section, 1.0)
        if section in policy.topics:
            weight *= TOPIC_BOOST
        parts = score_parts(
            featured=any(c.featured for c in members),
            sources=len({c.source for c in members}),
            feed_position=min(c.feed_position for c in members),
            published_at=max(c.published_at for c in members),
            window_end=window_end,
            category_weight=weight,
        )
        stories.append(_Story(lead, members, section, parts, lead.article_id in pins))
    return stories


def _heading_seconds(sections: set[str], policy: Policy) -> float:
    titles = policy.section_titles
    return sum(
        reading_seconds(titles.get(s, s), policy.language, policy.wpm_overrides) for s in sections
    )


def compose_plan(
    candidates: Sequence[Candidate],
    *,
    window_end: datetime,
    policy: Policy,
    decisions: Decisions | None = None,
) -> EditionPlan:
    """The edition plan for ``candidates`` (see the module docstring).

    The plan's ``reading_seconds`` never exceeds ``policy.budget_seconds``; an empty
    candidate list gives an empty plan.
    """
    decisions = decisions or Decisions()
    pool = [c for c in candidates if c.article_id not in decisions.excludes]
    stories = _stories(pool, window_end, policy, decisions)
    stories.sort(key=lambda s: (not s.pinned, -s.parts.total, s.lead.article_id))
    pin_rank = {article_id: rank for rank, article_id in enumerate(decisions.pins)}
    shortlist = stories[:SHORTLIST] + [s for s in stories[SHORTLIST:] if s.pinned]
    for story in shortlist:
        story.summary = summarise(story.lead.summary or story.lead.body, policy.summary_max_chars)
        language = story.lead.language or policy.language
        story.seconds = reading_seconds(
            f"{story.lead.title} {story.summary}", language, policy.wpm_overrides
        )
    shortlist.sort(
        key=lambda s: (
            pin_rank.get(s.lead.article_id, len(pin_rank)),
            -s.parts.total,
            s.lead.article_id,
        )
    )
    options = [
        Option(s.lead.article_id, s.seconds, s.parts.total, s.section, forced=s.pinned)
        for s in shortlist
    ]
    max_share = 1.0 if policy.topics else policy.max_share
    budget = float(policy.budget_seconds)
    headings = {s.section for s in shortlist[:8]}
    chosen: list[int] = []
    for _ in range(4):  # the headings depend on what is chosen: iterate to a fixed point
        capacity = budget - _heading_seconds(headings, policy)
        chosen = fit(options, capacity, max_share)
        used_sections = {shortlist[i].section for i in chosen}
        if used_sections <= headings:
            break
        headings = used_sections
    picked = [shortlist[i] for i in chosen]
    if len(picked) > policy.max_items:  # the email's size, not the budget, is the limit
        keep = sorted(picked, key=lambda s: (not s.pinned, -s.parts.total, s.lead.article_id))
        picked = [s for s in picked if s in keep[: policy.max_items]]
    total = sum(s.seconds for s in picked) + _heading_seconds({s.section for s in picked}, policy)
    while picked and total > budget:  # pragma: no cover - the fixed point above prevents it
        picked.remove(min((s for s in picked if not s.pinned), key=lambda s: s.parts.total))
        total = sum(s.seconds for s in picked) + _heading_seconds(
            {s.section for s in picked}, policy
        )

    items = [
        PlannedItem(
            candidate=s.lead,
            section=s.section,
            summary=s.summary,
            reading_seconds=s.seconds,
            score=round(s.parts.total, 4),
            parts=s.parts,
            also=tuple(_other_sources(s)),
            pinned=s.pinned,
        )
        for s in picked
    ]
    ordered = _apply_positions(_order(items, policy, pin_rank), decisions.positions)
    return EditionPlan(
        items=ordered,
        reading_seconds=total,
        budget_seconds=policy.budget_seconds,
        subject=decisions.subject or _subject(ordered),
        preheader=decisions.preheader if decisions.preheader is not None else _preheader(ordered),
        candidates=len(pool),
        stories=len(stories),
    )


def _other_sources(story: _Story) -> list[Candidate]:
    seen = {story.lead.source}
    others: list[Candidate] = []
    for member in story.members[1:]:
        if member.source not in seen and len(others) < MAX_OTHER_SOURCES:
            seen.add(member.source)
            others.append(member)
    return others


def _sections(
    candidates: Sequence[Candidate], configured: Sequence[str], titles: Mapping[str, str]
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


def _order(
    items: list[PlannedItem], policy: Policy, pin_rank: Mapping[int, int]
) -> list[PlannedItem]:
    if not items:
        return []
    # The editor's first pin leads every edition; otherwise the best story (in a personal
    # variant, the best of the reader's topics).
    pinned = [i for i in items if i.candidate.article_id in pin_rank]
    in_topics = [i for i in items if i.section in policy.topics]
    lead = min(
        pinned or in_topics or items,
        key=lambda i: (
            pin_rank.get(i.candidate.article_id, len(pin_rank)),
            -i.score,
            i.candidate.article_id,
        ),
    )
    rest = [i for i in items if i is not lead]
    best: dict[str, float] = {}
    for item in rest:
        best[item.section] = max(best.get(item.section, 0.0), item.score)
    # Sections: the reader's topics first, then the configured order, then the others by
    # their best story; "autres" last.
    configured = {slug: index for index, slug in enumerate(policy.sections)}

    def section_key(section: str) -> tuple[int, float, str]:
        if section in policy.topics:
            return (0, -best.get(section, 0.0), section)
        if section in configured:
            return (1, float(configured[section]), section)
        if section == OTHER_SECTION:
            return (3, 0.0, section)
        return (2, -best.get(section, 0.0), section)

    rest.sort(
        key=lambda item: (
            section_key(item.section),
            pin_rank.get(item.candidate.article_id, len(pin_rank)),
            -item.score,
            item.candidate.article_id,
        )
    )
    return [lead, *rest]


def _apply_positions(items: list[PlannedItem], positions: Mapping[int, int]) -> list[PlannedItem]:
    """Move items the editor placed (1-based positions, clamped to the edition's length)."""
    moved = [
        (positions[i.candidate.article_id], n, i)
        for n, i in enumerate(items)
        if i.candidate.article_id in positions
    ]
    if not moved:
        return items
    rest = [i for i in items if i.candidate.article_id not in positions]
    for position, _, item in sorted(moved, key=lambda m: (m[0], m[1])):
        rest.insert(min(max(position, 1), len(rest) + 1) - 1, item)
    return rest


def _subject(items: list[PlannedItem]) -> str:
    """The lead story's title, without pictographs (a feed's "🔴 En direct") that many
    clients show as empty boxes, cut at a word boundary."""
    if not items:
        return ""
    title = "".join(c for c in items[0].candidate.title if unicodedata.category(c) != "So")
    return truncate_words(collapse(title), SUBJECT_MAX_CHARS)


def _preheader(items: list[PlannedItem]) -> str:
    """The next three stories by importance (not by display order), as a teaser."""
    following = sorted(items[1:], key=lambda i: (-i.score, i.candidate.article_id))[:3]
    titles = [collapse(item.candidate.title) for item in following]
    return truncate_words(" · ".join(titles), PREHEADER_MAX_CHARS) if titles else ""
