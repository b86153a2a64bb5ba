"""Importance of a story, as explainable parts.

Editorial signals first: an editor's pin puts a story in whatever its score; the source's
"featured" flag weighs most of the rest. Then coverage (how many sources tell the story, and
how many articles they gave it), prominence in its feed (only where the feed has an
editorial order, see :func:`chronological_sources`), recency, a category weight from the
configuration and a kind weight (an opinion, a listicle or a live page on its own weighs
less than a report: :mod:`~newsletter.compose.kinds`). Optionally, what readers read:
``readership``, a section's click-through over recent editions relative to the best
section's, times its configured weight (0 by default: off).
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime

FEATURED_WEIGHT = 1.0
COVERAGE_WEIGHT = 0.8
#: Depth: articles beyond the first per source (a newsroom that gives a story a second
#: article, an analysis or a live page, rates it).
DEPTH_WEIGHT = 0.3
PROMINENCE_WEIGHT = 0.5
#: Prominence of an item of a chronological feed: its position says nothing, so every item
#: gets the same middle value (what position 5 of an editorial feed gets).
NEUTRAL_PROMINENCE = PROMINENCE_WEIGHT / 2
RECENCY_WEIGHT = 0.4
#: Recency halves every this many hours before the window's end.
RECENCY_HALF_LIFE_HOURS = 8.0
#: Sources beyond the first that give full coverage credit.
COVERAGE_FULL_AT = 3
#: Extra articles (beyond one per source) that give full depth credit.
DEPTH_FULL_AT = 3
#: A feed is chronological when at least this share of its consecutive items (by position)
#: go the same way in time, over at least ``CHRONOLOGICAL_MIN_PAIRS`` pairs.
CHRONOLOGICAL_SHARE = 0.85
CHRONOLOGICAL_MIN_PAIRS = 4


@dataclass(frozen=True)
class ScoreParts:
    """The weighted parts of a score; ``total`` is their sum times ``category_weight`` and
    ``kind_weight``. ``readership`` is 0 unless readers' clicks feed the ranking."""

    featured: float
    coverage: float
    prominence: float
    recency: float
    category_weight: float
    kind_weight: float = 1.0
    readership: float = 0.0

    @property
    def total(self) -> float:
        """The score used for ranking (unbounded above, 0 at the least)."""
        return (
            (self.featured + self.coverage + self.prominence + self.recency + self.readership)
            * self.category_weight
            * self.kind_weight
        )

    def as_dict(self) -> dict[str, float]:
        """Rounded parts and total, for ``compose --json``."""
        parts = {key: round(value, 4) for key, value in asdict(self).items()}
        parts["total"] = round(self.total, 4)
        return parts


def prominence(feed_position: int | None) -> float:
    """Prominence of a 0-based ``feed_position`` (top = ``PROMINENCE_WEIGHT``, halved at
    position 5); None (a chronological feed) gives ``NEUTRAL_PROMINENCE``."""
    if feed_position is None:
        return NEUTRAL_PROMINENCE
    return PROMINENCE_WEIGHT / (1.0 + feed_position / 5.0)


def score_parts(
    *,
    featured: bool,
    sources: int,
    feed_position: int | None,
    published_at: datetime,
    window_end: datetime,
    category_weight: float = 1.0,
    articles: int | None = None,
    kind_weight: float = 1.0,
    readership: float = 0.0,
) -> ScoreParts:
    """Score parts of a story: ``sources`` is how many distinct sources tell it,
    ``articles`` how many articles in all (default one per source), ``feed_position`` its
    best (lowest) position in an editorially ordered feed (None: no such position),
    ``published_at`` its latest publication (aware UTC) before ``window_end``,
    ``readership`` its section's weighted click-through part (:func:`readership`)."""
    age_hours = max(0.0, (window_end - published_at).total_seconds() / 3600)
    extra = max(0, (articles if articles is not None else sources) - sources)
    return ScoreParts(
        featured=FEATURED_WEIGHT * featured,
        coverage=COVERAGE_WEIGHT * min(1.0, (sources - 1) / COVERAGE_FULL_AT)
        + DEPTH_WEIGHT * min(1.0, extra / DEPTH_FULL_AT),
        prominence=prominence(feed_position),
        recency=RECENCY_WEIGHT * math.pow(0.5, age_hours / RECENCY_HALF_LIFE_HOURS),
        category_weight=category_weight,
        kind_weight=kind_weight,
        readership=readership,
    )


def readership(rates: Mapping[str, float], section: str, weight: float) -> float:
    """The ``readership`` part of a story of ``section``: ``weight`` times the section's
    click-through rate over the best section's (0..1, so that it compares with the other
    parts); 0 when ``weight`` is 0, the section has no rate or no section was clicked."""
    if weight <= 0:
        return 0.0
    best = max(rates.values(), default=0.0)
    if best <= 0:
        return 0.0
    return weight * max(0.0, rates.get(section, 0.0)) / best


def chronological_sources(items: Iterable[tuple[str, int, datetime]]) -> set[str]:
    """The sources whose feed lists by date, from ``(source, feed_position, published_at)``.

    Taken in feed order, a chronological feed's consecutive items all go the same way in
    time: newest first (Le Monde's "International" feed) or oldest first (the TelQuel and
    Jeune Afrique feeds rebuilt by a scraper). Such an order is recency again (counted twice)
    or its opposite, not an editor's choice, so their position is not a signal. A source
    counts as chronological when at least ``CHRONOLOGICAL_SHARE`` of its consecutive pairs
    with distinct times go one way, over at least ``CHRONOLOGICAL_MIN_PAIRS`` pairs; fewer
    pairs say nothing, and the position keeps counting."""
    by_source: dict[str, dict[int, datetime]] = defaultdict(dict)
    for source, position, published_at in items:
        by_source[source].setdefault(position, published_at)
    chronological: set[str] = set()
    for source, positions in by_source.items():
        times = [positions[p] for p in sorted(positions)]
        newer = sum(1 for a, b in itertools.pairwise(times) if b > a)
        older = sum(1 for a, b in itertools.pairwise(times) if b < a)
        pairs = newer + older
        if pairs >= CHRONOLOGICAL_MIN_PAIRS and max(newer, older) >= CHRONOLOGICAL_SHARE * pairs:
            chronological.add(source)
    return chronological
