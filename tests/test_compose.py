"""Compose: reading time, summaries, stories, the knapsack fit, editors' decisions,
personal variants, and the real days of ../shared/data."""

from __future__ import annotations

import dataclasses
import random
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from newsletter import words
from newsletter.compose.edition import Candidate, Decisions, Policy, _sections, compose_plan
from newsletter.compose.fit import Option, fit, knapsack
from newsletter.compose.reading import count_words, reading_seconds, words_per_minute
from newsletter.compose.stories import Text, group_stories
from newsletter.compose.summary import split_sentences, summarise
from newsletter.editions.compose import candidates_of as _candidates
from newsletter.editions.document import edition_json
from newsletter.store.articles import articles_in_window
from newsletter.store.models import Article, Subscriber
from newsletter.store.subscribers import SubscriberRecord, add_subscriber
from newsletter.textutil import collapse
from newsletter.wiring import App
from tests.conftest import feed

END = datetime(2026, 3, 25, 7, 0, tzinfo=UTC)
SECTIONS = ["politique", "economie", "sport"]
POLICY = Policy(
    budget_seconds=300,
    sections=SECTIONS,
    language="fr",
    summary_max_chars=2000,
    section_titles=words.section_titles("fr"),
)
_RNG = random.Random(42)
VOCABULARY = [
    "".join(_RNG.choice("bcdfghjklmnpqrstvwxz") + _RNG.choice("aeiou") for _ in range(3))
    for _ in range(3000)
]


def title_of(n: int) -> str:
    """A made-up title of six words that shares no story with another n."""
    rng = random.Random(n)
    return " ".join(rng.choice(VOCABULARY) for _ in range(6)).capitalize()


def candidate(
    n: int,
    *,
    category: str = "politique",
    words: int = 40,
    hours: float = 1,
    featured: bool = False,
    title: str | None = None,
    source: str = "Le Brief",
    summary: str | None = None,
) -> Candidate:
    lead = random.Random(-n)  # a lead of its own: grouping reads summaries too
    return Candidate(
        article_id=n,
        url=f"https://news.example/{n}",
        url_key=f"key{n}",
        title=title or title_of(n),
        summary=summary or " ".join(lead.choice(VOCABULARY) for _ in range(words - 1)) + ".",
        body="",
        category=category,
        language="fr",
        published_at=END - timedelta(hours=hours),
        feed_position=n % 20,
        featured=featured,
        source_name=source,
    )


def plan(candidates: list[Candidate], policy: Policy = POLICY, decisions: Decisions | None = None):
    return compose_plan(candidates, window_end=END, policy=policy, decisions=decisions)


# --- reading time and summaries ----------------------------------------------------------------
def test_reading_rates_follow_the_cited_sources() -> None:
    assert words_per_minute("en") == 238
    assert words_per_minute("fr") == pytest.approx(238 * 195 / 228)
    assert words_per_minute("fr-MA") == words_per_minute("fr")
    assert words_per_minute("xx") == 238
    assert words_per_minute("fr", {"fr": 250}) == 250
    assert count_words("Aujourd’hui, c'est-à-dire le 25 mars : 3,5 % !") == 7
    assert reading_seconds(" ".join(["mot"] * 238), "en") == pytest.approx(60)


def test_sentences_split_on_french_abbreviations_quotes_and_numbers() -> None:
    text = (
        "M. Alami, ministre, a parlé. Le taux est de 2,5 %. "
        "Mme Tazi (Dr. en droit) répond « Non. » Fin. Les U.S.A. ont réagi, etc. Puis rien."
    )
    assert split_sentences(text) == [
        "M. Alami, ministre, a parlé.",
        "Le taux est de 2,5 %.",
        "Mme Tazi (Dr. en droit) répond « Non. »",
        "Fin.",
        "Les U.S.A. ont réagi, etc.",
        "Puis rien.",
    ]


def test_summaries_end_at_a_sentence_boundary_and_mark_only_real_cuts() -> None:
    text = "Première phrase assez courte. Deuxième phrase, plus longue que la première. Troisième."
    assert summarise(text, 40) == "Première phrase assez courte."
    assert summarise(text, 1000) == text
    long_sentence = "Un " + "très " * 60 + "long titre."
    cut = summarise(long_sentence, 50)
    assert cut.endswith("…") and len(cut) <= 50 and " très…" in cut
    assert summarise("Phrase complète. Phrase coupée par la source...", 300) == "Phrase complète."


# --- the knapsack ------------------------------------------------------------------------------
def test_knapsack_maximises_value_within_capacity() -> None:
    options = [
        Option(1, 10, 10, "a"),
        Option(2, 6, 7, "a"),
        Option(3, 5, 6, "b"),
        Option(4, 1, 0.5, "c"),
    ]
    assert knapsack(options, 11) == [1, 2]  # 7 + 6 beats 10 alone
    assert knapsack(options, 0) == [] and knapsack([], 10) == []


def test_fit_caps_a_category_share_unless_nothing_else_exists() -> None:
    crowded = [Option(n, 20, 1.0 - n / 100, "politique") for n in range(20)]
    others = [Option(100 + n, 20, 0.1, ["sport", "culture", "monde"][n % 3]) for n in range(30)]
    chosen = fit(crowded + others, 300, 0.4)
    politics = sum(1 for i in chosen if (crowded + others)[i].group == "politique")
    assert politics * 20 <= 0.4 * 300 and len(chosen) == 15
    alone = fit(crowded, 300, 0.4)
    assert len(alone) == 15  # nothing else exists: the cap gives way


def test_plan_fills_90_to_100_percent_with_the_most_important() -> None:
    candidates = [
        candidate(n, words=25 + n % 30, hours=n % 20, category=SECTIONS[n % 3]) for n in range(80)
    ]
    candidates.append(candidate(99, words=60, hours=20, featured=True, category="economie"))
    result = plan(candidates)
    assert 0.9 * 300 <= result.reading_seconds <= 300
    assert result.items[0].candidate.article_id == 99  # the featured story leads
    assert result.subject == candidates[-1].title
    assert all(item.parts.total == pytest.approx(item.score, abs=1e-4) for item in result.items)


def test_same_story_from_several_sources_is_one_item_that_ranks_higher() -> None:
    base = [candidate(n, hours=2) for n in range(1, 30)]
    story = [
        candidate(
            200,
            title="Carburants : les prix à la pompe baissent dès ce lundi",
            summary="Le gazole perd 40 centimes et l'essence 30 centimes dès lundi.",
            source="TelQuel",
        ),
        candidate(
            201,
            title="Prix des carburants : la baisse à la pompe accueillie avec prudence",
            summary="Les transporteurs saluent la baisse du gazole, mais attendent la suite.",
            source="Médias24",
        ),
        candidate(
            202,
            title="Carburants : baisse des prix à la pompe ce lundi",
            summary="Le litre de gazole baisse de 40 centimes lundi, l'essence de 30 centimes.",
            source="Le360",
        ),
    ]
    result = plan(base + story)
    fuel = [i for i in result.items if "arburant" in i.candidate.title]
    assert len(fuel) == 1
    assert fuel[0].parts.coverage > 0 and {c.source for c in fuel[0].also} == {
        "Médias24",
        "Le360",
    } - {fuel[0].candidate.source} | ({"TelQuel"} - {fuel[0].candidate.source})
    assert result.items[0] is fuel[0]


def test_editor_decisions_pin_exclude_move_and_set() -> None:
    candidates = [candidate(n, hours=n) for n in range(1, 40)]
    normal = plan(candidates)
    last = candidates[-1].article_id
    assert last not in {i.candidate.article_id for i in normal.items}
    first = normal.items[0].candidate.article_id
    decided = plan(
        candidates,
        decisions=Decisions(
            pins=(last,), excludes=frozenset({first}), positions={last: 3}, subject="Mon objet"
        ),
    )
    ids = [i.candidate.article_id for i in decided.items]
    assert first not in ids and ids[2] == last and decided.items[2].pinned
    assert decided.subject == "Mon objet" and decided.reading_seconds <= 300


def test_plan_is_deterministic_and_empty_input_gives_an_empty_plan() -> None:
    candidates = [candidate(n, hours=n % 5, category=SECTIONS[n % 3]) for n in range(60)]
    first, second = plan(candidates), plan(list(reversed(candidates)))
    assert [i.candidate.article_id for i in first.items] == [
        i.candidate.article_id for i in second.items
    ]
    empty = plan([])
    assert empty.items == [] and empty.reading_seconds == 0 and empty.subject == ""


def test_sections_follow_the_configured_order_with_the_lead_on_top() -> None:
    candidates = [candidate(n, hours=n % 7, category=SECTIONS[n % 3]) for n in range(60)]
    result = plan(candidates)
    rest = [item.section for item in result.items[1:]]
    assert rest == sorted(rest, key=SECTIONS.index)
    assert set(rest) == set(SECTIONS)


def test_a_personal_variant_favours_the_readers_topics_within_budget() -> None:
    candidates = [candidate(n, hours=n % 7, category=SECTIONS[n % 3]) for n in range(60)]
    sport = plan(candidates, Policy(**{**POLICY.__dict__, "topics": frozenset({"sport"})}))
    main = plan(candidates)
    share = lambda p: sum(i.reading_seconds for i in p.items if i.section == "sport")  # noqa: E731
    assert share(sport) > share(main) and sport.reading_seconds <= 300
    assert sport.items[0].section == "sport" and sport.items[1].section == "sport"


# --- with the store ------------------------------------------------------------------------------
def test_recompose_keeps_decisions_and_never_changes_a_sent_edition(app: App) -> None:
    app.ingest.sample(date(2026, 3, 25))
    day = date(2026, 3, 25)
    first = app.composer.compose(day).edition
    outsider = first.items[-1].article_id
    assert outsider is not None
    decided = app.drafts.decide(
        day, pins=[outsider], positions={str(outsider): 1}, subject="Objet choisi"
    )
    assert (
        decided.edition.items[0].article_id == outsider
        and decided.edition.subject == "Objet choisi"
    )
    again = app.composer.compose(day).edition
    assert again.items[0].article_id == outsider and again.subject == "Objet choisi"
    excluded = app.drafts.decide(day, excludes=[outsider], pins=[])
    assert outsider not in {i.article_id for i in excluded.edition.items}
    with app.sessions.begin() as session:
        edition = session.get(type(first), first.id)
        assert edition is not None
        edition.status = "sent"
    locked = app.composer.compose(day)
    assert locked.locked and locked.edition.status == "sent"


def test_one_variant_per_distinct_topic_choice(app: App) -> None:
    day = date(2026, 3, 25)
    app.ingest.sample(day)
    with app.sessions.begin() as session:
        for n, topics in enumerate(
            [["sport"], ["sport"], ["culture", "sport"], [], ["sport", "culture"]]
        ):
            add_subscriber(
                session, SubscriberRecord(f"r{n}@example.org", topics=topics), source="test"
            )
    edition = app.composer.compose(day).edition
    assert edition.variants == ["culture,sport", "sport"]
    sport = edition.variant_items("sport")
    assert sport[0].section == "sport" and edition.variant_seconds["sport"] <= 300
    document = edition_json(edition)
    assert [v["topics"] for v in document["variants"]] == [["culture", "sport"], ["sport"]]
    result = app.release.send(day)
    assert result.run.sent == 5
    with app.sessions() as session:
        assert len(session.scalars(select(Subscriber)).all()) == 5


def test_lookback_extends_the_window_when_the_day_is_thin(app: App) -> None:
    day = date(2026, 3, 25)
    app.ingest.sample(day, now=datetime(2026, 3, 24, 0, 0, tzinfo=UTC))  # 30+ hours early
    edition = app.composer.compose(day).edition
    assert edition.items and edition.window_end - edition.window_start == timedelta(hours=48)


# --- the real days of ../shared/data ------------------------------------------------------------
def english(app: App, names: list[str]) -> None:
    """An English day is composed by an edition whose articles may be in English."""
    if all(name.startswith("en_") for name in names):
        app.composer.options = dataclasses.replace(app.composer.options, languages=("en",))


REAL_DAYS = {
    "2026-03-25": ["fr_telquel_ma_regenerated.rss", "fr_jeuneafrique_regenerated.rss"],
    "2023-08-24": ["fr_france24_fr.rss"],
    "2024-03-27": ["fr_lemonde_international.rss"],
    "2018-12-20": ["en_bbc_uk-politics.rss"],
    "2018-02-01": ["en_guardian_us.rss"],
}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("day", sorted(REAL_DAYS))
def test_real_days(app: App, day: str) -> None:
    english(app, REAL_DAYS[day])
    app.ingest.sources([str(feed(name)) for name in REAL_DAYS[day]])
    result = app.composer.compose(date.fromisoformat(day))
    edition, plan_ = result.edition, result.plan
    assert plan_ is not None and edition.items
    assert edition.reading_seconds <= edition.budget_seconds
    if plan_.stories > len(edition.items):  # candidates left over: they sufficed
        assert edition.reading_seconds >= 0.9 * edition.budget_seconds
    with app.sessions() as session:
        articles = session.execute(select(Article.id, Article.summary, Article.language)).all()
    sources = {row[0]: row[1] for row in articles}
    languages = {row[0]: row[2] for row in articles}
    texts = [Text(i.title, sources[i.article_id], languages[i.article_id]) for i in edition.items]
    groups = group_stories(texts)  # as composition reads them: title, summary, language
    assert all(len(group) == 1 for group in groups), "two items tell the same story"
    for item in edition.items:
        whole = collapse(sources[item.article_id])
        paragraphs = sources[item.article_id].split("\n\n")
        paragraph_ends = {collapse(" ".join(paragraphs[: k + 1])) for k in range(len(paragraphs))}
        ends_a_sentence = re.search(r"[.!?…][»”\"')’]*$", item.summary)
        assert ends_a_sentence or item.summary in paragraph_ends, item.summary  # a boundary
        if item.summary.endswith("…") and not whole.endswith(("…", "...")):
            prefix = item.summary[:-1]
            assert whole.startswith(prefix) and whole[len(prefix)] in " ,;:", item.summary
        assert set(item.score_parts) >= {"featured", "coverage", "prominence", "recency", "total"}
    with app.sessions() as session:
        window = articles_in_window(session, edition.window_start, edition.window_end)
    candidates = _candidates(window)
    section_of = _sections(candidates, app.settings.sections, app.composer.policy().section_titles)
    # Each section that holds a whole story is represented; a story told under several
    # sections (a report, a column, a video) belongs to whichever its lead is in.
    stories = [{section_of[candidates[i].article_id] for i in g} for g in group_stories(candidates)]
    sections = {next(iter(s)) for s in stories if len(s) == 1}
    represented = {item.section for item in edition.items}
    assert sections <= represented or len(edition.items) < len(sections), sections - represented


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_real_duplicates_are_grouped(app: App) -> None:
    app.composer.options = dataclasses.replace(app.composer.options, languages=("en", "fr"))
    app.ingest.sources([str(feed("en_bbc_uk-politics.rss"))])
    edition = app.composer.compose(date(2018, 12, 20)).edition
    corbyn = [i.title for i in edition.items if "stupid" in i.title]
    assert len(corbyn) == 1
    app.ingest.sources([str(feed("fr_lemonde_international.rss"))])
    edition = app.composer.compose(date(2024, 3, 27)).edition
    assert sum("Baltimore" in i.title for i in edition.items) == 1


def test_variants_put_any_topic_first_and_keep_the_editors_pins() -> None:
    sections = ["politique", "economie", "sport", "france", "afrique"]
    candidates = [candidate(n, hours=n % 7, category=sections[n % 5]) for n in range(60)]
    pinned = candidates[1].article_id  # an "economie" story
    policy = Policy(**{**POLICY.__dict__, "topics": frozenset({"france"})})
    result = plan(candidates, policy, Decisions(pins=(pinned,)))
    assert result.items[0].candidate.article_id == pinned  # the editor's lead leads everywhere
    following = [item.section for item in result.items[1:]]
    assert following[0] == "france" and following == sorted(
        following, key=lambda s: s != "france"
    )  # every item of the reader's topic comes before the others
