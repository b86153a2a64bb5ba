"""An edition as a JSON document: what ``newsletter compose --json`` prints (a contract
with scripts; see README "Command line")."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from newsletter.store.models import Edition, EditionItem


def item_json(item: EditionItem) -> dict[str, Any]:
    """One item of the document (seconds rounded to 0.1)."""
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
        "kind": item.kind,
    }


def edition_json(
    edition: Edition, dropped: Sequence[Mapping[str, Any]] | None = None
) -> dict[str, Any]:
    """The ``compose --json`` document (a contract):
    ``{"edition": {date, status, subject, preheader, reading_seconds, budget_seconds},
    "items": [{article_id, url, title, category, summary, reading_seconds, score,
    score_parts, also, pinned, kind}], "variants": [{topics, reading_seconds, items}],
    "dropped": [{article_id, url, title, reason}]}``.
    ``score_parts`` explains the score (featured, coverage, prominence, recency,
    category_weight, kind_weight, total); ``also`` lists every other article of the story,
    from any source (``{source, url, article_id, title}``). ``dropped`` (the composition's
    :meth:`~newsletter.compose.edition.Dropped.as_dict`, empty when the edition was not
    composed now) says why each other candidate is left out: ``duplicate`` (with ``of``, the
    article kept), ``already_sent`` (with ``on``, the date), ``language``, ``over_budget``,
    ``excluded`` or ``kind`` (opinion or sponsored). Seconds are integers for the edition
    and rounded to 0.1 for items. ``kind`` is what the item is: ``news``, ``live``,
    ``opinion``, ``podcast``, ``gallery``, ``listicle`` or ``series`` (a templated series,
    such as the weather of each city)."""
    return {
        "edition": {
            "date": edition.date.isoformat(),
            "status": edition.status,
            "subject": edition.subject,
            "preheader": edition.preheader,
            "reading_seconds": edition.reading_seconds,
            "budget_seconds": edition.budget_seconds,
        },
        "items": [item_json(item) for item in edition.items],
        "variants": [
            {
                "topics": key.split(","),
                "reading_seconds": round(edition.variant_seconds.get(key, 0)),
                "items": [item_json(item) for item in edition.variant_items(key)],
            }
            for key in edition.variants
        ],
        "dropped": [dict(entry) for entry in dropped or ()],
    }
