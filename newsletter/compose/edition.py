"""Compose an edition: candidates in, an ordered plan within the reading budget out.

1. Left out, each with its reason (:class:`Dropped`): the editor's exclusions, articles an
   earlier edition used (shown, under "also" or merged), articles in another language than
   the edition's, and sponsored pages (:mod:`~newsletter.compose.kinds`).
2. The rest are grouped into stories (:mod:`~newsletter.compose.stories`) together with the
   articles earlier editions used: a story told before keeps only its articles published
   after that edition's send (a new development); the others are left out. A live page
   that is a story of its own joins the story it follows. Each story is represented by its
   best article (an editor's pin, else a news report before an opinion, a listicle or a
   live page, then the highest-scoring); every other article of the story is listed under
   ``also``.
3. Stories are scored (:mod:`~newsletter.compose.scoring`; feed position counts only for
   feeds with an editorial order); one opinion piece at most is offered; the best stories
   are fitted to the budget by a knapsack (:mod:`~newsletter.compose.fit`) that counts the
   section headings, titles and summaries the reader reads, and caps each category's share.
4. The lead (a pin, else the best news story) goes on top, then the sections ordered by
   their strongest story (the configured order breaks ties); the editor's moves come last.

Pure: no I/O, and deterministic (ties break on article id).
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from newsletter.compose.fit import Option, fit
from newsletter.compose.headline import clip, join_whole
from newsletter.compose.kinds import Kind, kind_of
from newsletter.compose.reading import reading_seconds
from newsletter.compose.scoring import (
    ScoreParts,
    chronological_sources,
    readership,
    score_parts,
)
from newsletter.compose.stories import stories_of
from newsletter.compose.summary import summarise
from newsletter.textutil import slugify

#: The subject is the lead's whole title up to this many characters: mail clients show what
#: their width allows (about 35 on a phone, 70 on a desktop) and cut the rest themselves,
#: so a cut of ours serves only a title longer than a line, and must not misquote.
SUBJECT_MAX_CHARS = 150
#: The preheader: whole titles of the next stories, as many as fit.
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
#: Other sources an email names under an item (each is a link: they weigh on the email's
#: size); ``also`` itself keeps every article of the story.
MAX_OTHER_SOURCES = 2


def shown_also(entries: Sequence[Mapping[str, Any]], source: str | None) -> list[Mapping[str, Any]]:
    """The ``also`` entries an email shows: the first of each other source than ``source``,
    at most ``MAX_OTHER_SOURCES``."""
    seen: set[str] = {source} if source else set()
    shown: list[Mapping[str, Any]] = []
    for entry in entries:
        name = str(entry.get("source") or "")
        if name not in seen and len(shown) < MAX_OTHER_SOURCES:
            seen.add(name)
            shown.append(entry)
    return shown


#: Weight of a story by the kind of its representative: a report counts whole; a live
#: page on its own, an opinion piece, a podcast, a gallery (photos, a video), a listicle or
#: a templated series (the weather of each city) is worth a look but less than the news.
KIND_WEIGHTS = {
    Kind.NEWS: 1.0,
    Kind.LIVE: 0.7,
    Kind.OPINION: 0.6,
    Kind.PODCAST: 0.6,
    Kind.GALLERY: 0.6,
    Kind.LISTICLE: 0.5,
    Kind.SERIES: 0.5,
    Kind.SPONSORED: 0.0,
}
#: Opinion pieces an edition offers (the best one): a briefing reports, and one view a day
#: is what a newspaper's front page gives its op-ed pages.
MAX_OPINION_STORIES = 1
#: Significant words a live page shares with a story to follow it (beyond its "En direct").
LIVE_SHARED_WORDS = 2


class Reason(StrEnum):
    """Why a candidate is not an item of the edition (``compose --json`` ``dropped``)."""

    DUPLICATE = "duplicate"
    ALREADY_SENT = "already_sent"
    LANGUAGE = "language"
    OVER_BUDGET = "over_budget"
    EXCLUDED = "excluded"
    KIND = "kind"


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

    @property
    def kind(self) -> Kind:
        """News, live page, opinion, listicle or sponsored (:func:`kind_of`)."""
        return kind_of(self.url, self.title, self.category)


@dataclass(frozen=True)
class UsedArticle:
    """An article an earlier edition used (shown, listed under "also" or merged into a
    story): its id, title, summary, language and source (to recognise its story), the ``on`` date of
    that edition and ``sent_at``, that edition's send time (aware UTC)."""

    article_id: int
    title: str
    on: date
    sent_at: datetime
    summary: str = ""
    language: str | None = None
    source: str = ""


@dataclass(frozen=True)
class Dropped:
    """A candidate left out and why: ``of`` is the article kept for its story (reason
    ``duplicate``), ``on`` the date of the edition that used it or its story
    (``already_sent``)."""

    candidate: Candidate
    reason: Reason
    of: int | None = None
    on: date | None = None

    def as_dict(self) -> dict[str, Any]:
        """``{"article_id", "url", "title", "reason"}`` and ``of`` or ``on`` when set."""
        out: dict[str, Any] = {
            "article_id": self.candidate.article_id,
            "url": self.candidate.url,
            "title": self.candidate.title,
            "reason": str(self.reason),
        }
        if self.of is not None:
            out["of"] = self.of
        if self.on is not None:
            out["on"] = self.on.isoformat()
        return out


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
    cap (0-1] and weights, ``topics`` for a personal variant (empty: the main edition), the
    most items an edition may hold (30 keeps the largest email under Gmail's ~102 KB
    clipping limit with 300-character titles and URLs), the ``languages`` its articles
    may be in (primary subtags; empty: ``language`` alone; an article without a language
    is kept), and what readers read: ``readership`` maps a section to its click-through
    rate over recent editions (read from the store by the caller), weighed by
    ``readership_weight`` (0: off)."""

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
    languages: frozenset[str] = frozenset()
    readership: Mapping[str, float] = field(default_factory=dict)
    readership_weight: float = 0.0

    def accepts(self, language: str | None) -> bool:
        """True when an article in ``language`` may enter the edition."""
        if not language:
            return True
        allowed = self.languages or frozenset([self.language])
        return _primary(language) in {_primary(a) for a in allowed}


def _primary(language: str) -> str:
    return language.replace("_", "-").split("-")[0].strip().lower()


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
    kind: Kind = Kind.NEWS


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
    dropped: list[Dropped] = field(default_factory=list)


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
    kind: Kind = Kind.NEWS
    summary: str = ""
    seconds: float = 0.0


@dataclass
class _Context:
    """What scoring a story needs besides its articles."""

    window_end: datetime
    policy: Policy
    pins: frozenset[int]
    kinds: dict[int, Kind]
    chronological: set[str]
    sections: dict[int, str]

    def position(self, candidate: Candidate) -> int | None:
        """The candidate's feed position, or None when its feed lists by date."""
        return None if candidate.source in self.chronological else candidate.feed_position

    def individual(self, candidate: Candidate) -> float:
        return score_parts(
            featured=candidate.featured, sources=1, feed_position=self.position(candidate),
            published_at=candidate.published_at, window_end=self.window_end,
        ).total  # fmt: skip

    def story(self, members: list[Candidate], series: bool = False) -> _Story:
        """The story of ``members``: its representative (a pin, else a news report before
        any other kind, then the best individual score) and its score. A templated
        ``series`` (:func:`~newsletter.compose.stories.template_series`) is of kind
        ``series`` and counts as one article: a template's many places are no coverage."""
        members = (
            members
            if len(members) == 1
            else sorted(
                members,
                key=lambda c: (
                    c.article_id not in self.pins,
                    self.kinds[c.article_id] != Kind.NEWS,
                    -self.individual(c),
                    c.article_id,
                ),
            )
        )
        lead = members[0]
        kind = Kind.SERIES if series else self.kinds[lead.article_id]
        section = self.sections[lead.article_id]
        weight = self.policy.category_weights.get(section, 1.0)
        if section in self.policy.topics:
            weight *= TOPIC_BOOST
        positions = [p for p in (self.position(c) for c in members) if p is not None]
        parts = score_parts(
            featured=any(c.featured for c in members),
            sources=len({c.source for c in members}),
            articles=1 if series else len(members),
            feed_position=min(positions) if positions else None,
            published_at=max(c.published_at for c in members),
            window_end=self.window_end,
            category_weight=weight,
            kind_weight=KIND_WEIGHTS[kind],
            readership=readership(self.policy.readership, section, self.policy.readership_weight),
        )
        return _Story(lead, members, section, parts, lead.article_id in self.pins, kind)


_WORD = re.compile(r"[a-z0-9]{4,}")
_LIVE_WORDS = frozenset(["direct", "live", "latest", "updates", "suivez", "minute"])


def _words(title: str) -> set[str]:
    """Folded words of 4+ letters of ``title``, without the words that mark a live page."""
    folded = unicodedata.normalize("NFKD", title.lower())
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    return set(_WORD.findall(folded)) - _LIVE_WORDS


def _stories(
    candidates: list[Candidate],
    window_end: datetime,
    policy: Policy,
    decisions: Decisions,
    used: Sequence[UsedArticle] = (),
    dropped: list[Dropped] | None = None,
    kinds: dict[int, Kind] | None = None,
) -> list[_Story]:
    """The stories of ``candidates``; a candidate whose story an edition of ``used`` told,
    published before that edition's send, goes to ``dropped`` (``already_sent``)."""
    dropped = dropped if dropped is not None else []
    pins = frozenset(decisions.pins)
    context = _Context(
        window_end=window_end,
        policy=policy,
        pins=pins,
        kinds=kinds if kinds is not None else {c.article_id: c.kind for c in candidates},
        chronological=chronological_sources(
            (c.source, c.feed_position, c.published_at) for c in candidates
        ),
        sections=_sections(candidates, policy.sections, policy.section_titles),
    )
    # Only editions sent before this one retell a story; a later draft (an older day being
    # recomposed) keeps its own articles, not their whole stories.
    told = [u for u in used if u.sent_at <= window_end]
    grouping = stories_of([*candidates, *told])
    member_groups: list[list[Candidate]] = []
    series_groups: list[list[Candidate]] = []
    for group in grouping.groups:
        members = [candidates[i] for i in group if i < len(candidates)]
        earlier = [told[i - len(candidates)] for i in group if i >= len(candidates)]
        if earlier and members:
            last = max(earlier, key=lambda u: (u.sent_at, u.on))
            new = [c for c in members if c.published_at > last.sent_at or c.article_id in pins]
            dropped += [
                Dropped(c, Reason.ALREADY_SENT, on=last.on) for c in members if c not in new
            ]
            members = new
        if members:
            (series_groups if group[0] in grouping.series else member_groups).append(members)
    member_groups = _merge_live_pages(member_groups, context.kinds)
    return [
        *(context.story(members) for members in member_groups),
        *(context.story(members, series=True) for members in series_groups),
    ]


#: "En direct, guerre en Ukraine : …": the words between the marker and the colon name the
#: story a live page follows (Le Monde's form); without them, its whole title is compared.
_LIVE_TOPIC = re.compile(r"^\W*(?:en direct|live)\s*[,–—-]\s*([^:]{3,80}?)\s*:", re.IGNORECASE)


def _live_words(title: str) -> set[str]:
    topic = _LIVE_TOPIC.match(title)
    return _words(topic.group(1) if topic else title)


def _merge_live_pages(
    groups: list[list[Candidate]], kinds: Mapping[int, Kind]
) -> list[list[Candidate]]:
    """Each group made only of live pages joins the group whose titles share the most
    significant words with the story it follows (its named topic, else its title; at least
    ``LIVE_SHARED_WORDS``, or every word of a shorter topic), among the groups with a
    non-live article (ties to the earlier group): a live page follows a story, it is not
    one."""
    lonely = {
        number
        for number, group in enumerate(groups)
        if all(kinds[c.article_id] == Kind.LIVE for c in group)
    }
    if not lonely:
        return groups
    index: dict[str, set[int]] = defaultdict(set)
    for number, group in enumerate(groups):
        if number in lonely:
            continue
        for member in group:
            for word in _words(member.title):
                index[word].add(number)
    if not index:
        return groups
    merged_into: dict[int, int] = {}
    for number in sorted(lonely):
        wanted = set().union(*(_live_words(c.title) for c in groups[number]))
        counts: dict[int, int] = defaultdict(int)
        for word in wanted:
            for other in index.get(word, ()):
                counts[other] += 1
        best = min(counts.items(), key=lambda kv: (-kv[1], kv[0]), default=None)
        if best is not None and best[1] >= min(LIVE_SHARED_WORDS, len(wanted)):
            merged_into[number] = best[0]
    result: list[list[Candidate]] = []
    extra: dict[int, list[Candidate]] = defaultdict(list)
    for number, target in merged_into.items():
        extra[target] += groups[number]
    for number, group in enumerate(groups):
        if number not in merged_into:
            result.append(group + extra.get(number, []))
    return result


def _heading_seconds(sections: set[str], policy: Policy) -> float:
    titles = policy.section_titles
    return sum(
        reading_seconds(titles.get(s, s), policy.language, policy.wpm_overrides) for s in sections
    )


def _filter(
    candidates: Sequence[Candidate],
    policy: Policy,
    decisions: Decisions,
    used: Sequence[UsedArticle],
    kinds: dict[int, Kind],
) -> tuple[list[Candidate], list[Dropped]]:
    """The candidates that may enter, and those left out before any story is formed: the
    editor's exclusions, articles an earlier edition used, other languages, sponsored
    pages. An editor's pin passes every test but its exclusion. ``kinds`` receives the kind
    of each candidate let in."""
    pins = set(decisions.pins)
    used_on = {u.article_id: u.on for u in sorted(used, key=lambda u: u.on, reverse=True)}
    pool: list[Candidate] = []
    dropped: list[Dropped] = []
    for c in candidates:
        if c.article_id in decisions.excludes:
            dropped.append(Dropped(c, Reason.EXCLUDED))
        elif c.article_id in pins:
            kinds[c.article_id] = c.kind
            pool.append(c)
        elif c.article_id in used_on:
            dropped.append(Dropped(c, Reason.ALREADY_SENT, on=used_on[c.article_id]))
        elif not policy.accepts(c.language):
            dropped.append(Dropped(c, Reason.LANGUAGE))
        elif (kind := c.kind) == Kind.SPONSORED:
            dropped.append(Dropped(c, Reason.KIND))
        else:
            kinds[c.article_id] = kind
            pool.append(c)
    return pool, dropped


def compose_plan(
    candidates: Sequence[Candidate],
    *,
    window_end: datetime,
    policy: Policy,
    decisions: Decisions | None = None,
    used: Sequence[UsedArticle] = (),
) -> EditionPlan:
    """The edition plan for ``candidates`` (see the module docstring); ``used`` are the
    articles earlier editions used (shown, under "also" or merged), with their send times.

    The plan's ``reading_seconds`` never exceeds ``policy.budget_seconds``; an empty
    candidate list gives an empty plan. Every candidate is either an item or in ``dropped``
    with its reason (a shown story's other articles are also under its item's ``also``).
    """
    decisions = decisions or Decisions()
    kinds: dict[int, Kind] = {}
    pool, dropped = _filter(candidates, policy, decisions, used, kinds)
    stories = _stories(pool, window_end, policy, decisions, used, dropped, kinds)
    stories.sort(key=lambda s: (not s.pinned, -s.parts.total, s.lead.article_id))
    opinions = 0
    offered: list[_Story] = []
    for story in stories:  # one opinion piece at most: the editor's pin, else the best
        if story.kind == Kind.OPINION:
            opinions += 1
            if opinions > MAX_OPINION_STORIES and not story.pinned:
                dropped += [Dropped(story.lead, Reason.KIND)] + [
                    Dropped(c, Reason.DUPLICATE, of=story.lead.article_id)
                    for c in story.members[1:]
                ]
                continue
        offered.append(story)
    pin_rank = {article_id: rank for rank, article_id in enumerate(decisions.pins)}
    shortlist = offered[:SHORTLIST] + [s for s in offered[SHORTLIST:] if s.pinned]
    for story in shortlist:
        language = story.lead.language or policy.language
        story.summary = summarise(
            story.lead.summary or story.lead.body, policy.summary_max_chars, language
        )
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
    shown = {id(s) for s in picked}
    for story in offered:
        if id(story) not in shown:
            dropped.append(Dropped(story.lead, Reason.OVER_BUDGET))
        dropped += [
            Dropped(c, Reason.DUPLICATE, of=story.lead.article_id) for c in story.members[1:]
        ]

    items = [
        PlannedItem(
            candidate=s.lead,
            section=s.section,
            summary=s.summary,
            reading_seconds=s.seconds,
            score=round(s.parts.total, 4),
            parts=s.parts,
            also=tuple(s.members[1:]),
            pinned=s.pinned,
            kind=s.kind,
        )
        for s in picked
    ]
    ordered = _apply_positions(_order(items, policy, pin_rank), decisions.positions)
    dropped.sort(key=lambda d: d.candidate.article_id)
    return EditionPlan(
        items=ordered,
        reading_seconds=total,
        budget_seconds=policy.budget_seconds,
        subject=decisions.subject or _subject(ordered),
        preheader=decisions.preheader if decisions.preheader is not None else _preheader(ordered),
        candidates=len(pool),
        stories=len(offered),
        dropped=dropped,
    )


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
    # The editor's first pin leads every edition; otherwise the best news story (in a
    # personal variant, the best of the reader's topics). An opinion piece, a listicle or a
    # live page leads only an edition without any news report.
    pinned = [i for i in items if i.candidate.article_id in pin_rank]
    in_topics = [i for i in items if i.section in policy.topics]
    pool = pinned or in_topics or items
    news = [i for i in pool if i.kind == Kind.NEWS]
    lead = min(
        pinned or news or pool,
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
    # Sections: the reader's topics first; then every section by its strongest story, the
    # configured order breaking ties, then "autres" (the miscellany) before unknown slugs.
    configured = {slug: index for index, slug in enumerate(policy.sections)}

    def section_key(section: str) -> tuple[int, float, int, str]:
        rank = configured.get(section, len(configured) + (1 if section == OTHER_SECTION else 0))
        return (0 if section in policy.topics else 1, -best.get(section, 0.0), rank, section)

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
    """The lead story's whole title, without pictographs (a feed's "🔴 En direct") that many
    clients show as empty boxes; one longer than :data:`SUBJECT_MAX_CHARS` is cut at a word
    boundary outside any quotation or bracket, or its opening quotation elided and closed
    (:func:`~newsletter.compose.headline.clip`)."""
    if not items:
        return ""
    return clip(items[0].candidate.title, SUBJECT_MAX_CHARS)


def _preheader(items: list[PlannedItem]) -> str:
    """The next three stories by importance (not by display order), as a teaser: whole
    titles without pictographs, as many as fit (:func:`~newsletter.compose.headline.join_whole`)."""
    following = sorted(items[1:], key=lambda i: (-i.score, i.candidate.article_id))[:3]
    return join_whole([item.candidate.title for item in following], PREHEADER_MAX_CHARS)
