"""Compose: reading time, summaries, ranking within the budget, on made-up and real days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from newsletter import i18n
from newsletter.app import App
from newsletter.compose.edition import Candidate, compose_plan
from newsletter.compose.reading import count_words, reading_seconds, words_per_minute
from newsletter.compose.summary import split_sentences, summarise
from tests.conftest import feed

END = datetime(2026, 3, 25, 7, 0, tzinfo=UTC)
SECTIONS = ["politique", "economie", "sport"]


def candidate(
    n: int,
    *,
    category: str = "politique",
    words: int = 40,
    hours: float = 1,
    featured: bool = False,
    url: str | None = None,
    title: str | None = None,
) -> Candidate:
    return Candidate(
        article_id=n,
        url=url or f"https://news.example/{n}",
        url_key=url or f"key{n}",
        title=title or f"Titre numéro {n} sur un sujet important",
        summary=" ".join(["mot"] * (words - 1)) + ".",
        body="",
        category=category,
        language="fr",
        published_at=END - timedelta(hours=hours),
        feed_position=n,
        featured=featured,
    )


def plan(candidates: list[Candidate], budget: int = 300):
    return compose_plan(
        candidates, window_end=END, budget_seconds=budget, sections=SECTIONS,
        language="fr", summary_max_chars=2000, section_titles=i18n.section_titles("fr"),
    )  # fmt: skip


def test_reading_rates_follow_the_cited_sources() -> None:
    assert words_per_minute("en") == 238
    assert words_per_minute("fr") == pytest.approx(238 * 195 / 228)
    assert words_per_minute("fr-MA") == words_per_minute("fr")
    assert words_per_minute("xx") == 238
    assert words_per_minute("fr", {"fr": 250}) == 250
    assert count_words("Aujourd’hui, c'est-à-dire le 25 mars : 3,5 % !") == 7
    assert reading_seconds(" ".join(["mot"] * 238), "en") == pytest.approx(60)


def test_sentences_split_on_french_abbreviations_and_numbers() -> None:
    text = (
        "M. Alami, ministre, a parlé. Le taux est de 2,5 %. "
        "Mme Tazi (Dr. en droit) répond « Non. » Fin."
    )
    assert split_sentences(text) == [
        "M. Alami, ministre, a parlé.",
        "Le taux est de 2,5 %.",
        "Mme Tazi (Dr. en droit) répond « Non. »",
        "Fin.",
    ]


def test_summaries_end_at_a_sentence_boundary_and_mark_only_real_cuts() -> None:
    text = "Première phrase assez courte. Deuxième phrase, plus longue que la première. Troisième."
    assert summarise(text, 40) == "Première phrase assez courte."
    assert summarise(text, 1000) == text
    long_sentence = "Un " + "très " * 60 + "long titre."
    cut = summarise(long_sentence, 50)
    assert cut.endswith("…") and len(cut) <= 50 and " très…" in cut
    assert summarise("Phrase complète. Phrase coupée par la source...", 300) == "Phrase complète."


def test_plan_fits_the_budget_and_prefers_important_items() -> None:
    candidates = [candidate(n, words=60, hours=n % 12 + 1) for n in range(60)]
    candidates.append(candidate(99, words=60, hours=20, featured=True, category="economie"))
    result = plan(candidates)
    assert 0 < result.reading_seconds <= 300
    assert result.items[0].candidate.article_id == 99  # the featured story leads
    assert result.subject == candidates[-1].title
    assert result.reading_seconds >= 0.8 * 300


def test_no_two_items_for_the_same_url_or_title() -> None:
    same = [candidate(1, url="https://a.example/x"), candidate(2, url="https://a.example/x"),
            candidate(3, title="Même titre"), candidate(4, title="Même titre !")]  # fmt: skip
    result = plan(same)
    urls = [i.candidate.url_key for i in result.items]
    titles = [i.candidate.title for i in result.items]
    assert len(urls) == len(set(urls)) and len(result.items) == 2 and len(set(titles)) == 2


def test_categories_are_spread_and_sections_ordered() -> None:
    candidates = [candidate(n, category="politique", hours=0.1) for n in range(10)]
    candidates += [candidate(100 + n, category="sport", hours=10) for n in range(3)]
    candidates += [candidate(200, category="economie", hours=15)]
    result = plan(candidates, budget=150)
    sections = [item.section for item in result.items]
    assert "sport" in sections and "economie" in sections
    rest = sections[1:]
    order = {"politique": 0, "economie": 1, "sport": 2}
    assert rest == sorted(rest, key=order.__getitem__)


def test_plan_is_deterministic_and_empty_input_gives_an_empty_plan() -> None:
    candidates = [candidate(n, hours=n % 5) for n in range(30)]
    first, second = plan(candidates), plan(list(reversed(candidates)))
    assert [i.candidate.article_id for i in first.items] == [
        i.candidate.article_id for i in second.items
    ]
    empty = plan([])
    assert empty.items == [] and empty.reading_seconds == 0 and empty.subject == ""


def test_compose_real_day_within_budget(app: App) -> None:
    app.ingest(
        [str(feed("fr_telquel_ma_regenerated.rss")), str(feed("fr_jeuneafrique_regenerated.rss"))]
    )
    result = app.compose(date(2026, 3, 25))
    edition = result.edition
    assert edition.items and 0 < edition.reading_seconds <= edition.budget_seconds == 300
    assert len({item.url for item in edition.items}) == len(edition.items)
    assert all(item.summary and "<" not in item.summary for item in edition.items)
    assert edition.window_end == datetime(2026, 3, 25, 6, 0, tzinfo=UTC)  # Casablanca: UTC+1 then


def test_recompose_replaces_a_draft_and_never_changes_a_sent_edition(app: App) -> None:
    app.ingest([str(feed("fr_telquel_ma_regenerated.rss"))])
    day = date(2026, 3, 25)
    first = app.compose(day).edition
    second = app.compose(day).edition
    assert first.id == second.id and [i.url for i in first.items] == [i.url for i in second.items]
    with app.sessions.begin() as session:
        edition = session.get(type(first), first.id)
        assert edition is not None
        edition.status = "sent"
    third = app.compose(day)
    assert third.locked and third.edition.status == "sent"
