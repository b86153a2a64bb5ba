"""Importance of a story, as explainable parts.

Editorial signals first: an editor's pin puts a story in whatever its score; the source's
"featured" flag weighs most of the rest. Then coverage (how many sources tell the story),
prominence in its feed, recency, and a category weight from the configuration.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import datetime

FEATURED_WEIGHT = 1.0
COVERAGE_WEIGHT = 0.8
PROMINENCE_WEIGHT = 0.5
RECENCY_WEIGHT = 0.4
#: Recency halves every this many hours before the window's end.
RECENCY_HALF_LIFE_HOURS = 8.0
#: Sources beyond the first that give full coverage credit.
COVERAGE_FULL_AT = 3


@dataclass(frozen=True)
class ScoreParts:
    """The weighted parts of a score; ``total`` is their sum times ``category_weight``."""

    featured: float
    coverage: float
    prominence: float
    recency: float
    category_weight: float

    @property
    def total(self) -> float:
        """The score used for ranking (unbounded above, 0 at the least)."""
        return (
            self.featured + self.coverage + self.prominence + self.recency
        ) * self.category_weight

    def as_dict(self) -> dict[str, float]:
        """Rounded parts and total, for ``compose --json``."""
        parts = {key: round(value, 4) for key, value in asdict(self).items()}
        parts["total"] = round(self.total, 4)
        return parts


def score_parts(
    *,
    featured: bool,
    sources: int,
    feed_position: int,
    published_at: datetime,
    window_end: datetime,
    category_weight: float = 1.0,
) -> ScoreParts:
    """Score parts of a story: ``sources`` is how many distinct sources tell it,
    ``feed_position`` its best (lowest) position in a feed, ``published_at`` its latest
    publication (aware UTC) before ``window_end``."""
    age_hours = max(0.0, (window_end - published_at).total_seconds() / 3600)
    return ScoreParts(
        featured=FEATURED_WEIGHT * featured,
        coverage=COVERAGE_WEIGHT * min(1.0, (sources - 1) / COVERAGE_FULL_AT),
        prominence=PROMINENCE_WEIGHT / (1.0 + feed_position / 5.0),
        recency=RECENCY_WEIGHT * math.pow(0.5, age_hours / RECENCY_HALF_LIFE_HOURS),
        category_weight=category_weight,
    )
