"""What readers read feeds the ranking: a section's click-through over the sent editions of
the last NEWSLETTER_READERSHIP_DAYS days is the ``readership`` score part, weighed by
NEWSLETTER_READERSHIP_WEIGHT (0 by default: off, the ranking exactly as without it)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from newsletter.compose.edition import compose_plan
from newsletter.compose.scoring import readership
from newsletter.editions.compose import ComposeResult
from newsletter.store.clicks import section_click_rates
from newsletter.store.models import Edition, EditionItem, EditionStatus
from newsletter.web.app import create_app
from newsletter.wiring import App
from tests.test_clicks import DAY, READERS, send
from tests.test_compose import END, POLICY, candidate
from tests.test_web import TestClient

NEXT = DAY + timedelta(days=1)


def weighted(app: App, weight: float, **more: object) -> App:
    """The same database with NEWSLETTER_READERSHIP_WEIGHT=``weight``."""
    update = {"readership_weight": weight, **more}
    return App(app.settings.model_copy(update=update), engine=app.engine)


def ranking(result: ComposeResult) -> list[tuple[str, str, float, dict[str, float]]]:
    """The composed main edition: (url, section, score, score parts) of each item, in order."""
    assert result.plan is not None
    return [(i.candidate.url, i.section, i.score, i.parts.as_dict()) for i in result.plan.items]


def click_section(app: App) -> tuple[str, int]:
    """Clicks, through the real redirect, on every main item of the least scored section of
    the sent edition of DAY (twice on its first item); that section and the clicks."""
    with app.sessions() as session:
        edition = session.scalars(select(Edition).where(Edition.date == DAY)).one()
        assert edition.status == EditionStatus.SENT
        items = [(i.id, i.section, i.score) for i in edition.items]
        edition_id = edition.id
    best: dict[str, float] = {}
    for _, section, score in items:
        best[section or ""] = max(best.get(section or "", 0.0), score)
    assert len(best) >= 2, "the sample edition has several sections"
    quiet = min(best, key=lambda s: (best[s], s))
    clicked = [item_id for item_id, section, _ in items if section == quiet]
    client = TestClient(create_app(app), base_url="http://localhost:8000")
    clicks = 0
    for n, item_id in enumerate(clicked):
        token = app.links.click_token(edition_id, item_id, 0)
        for _ in range(2 if n == 0 else 1):
            assert client.get(f"/r/{token}").status_code == 302
            clicks += 1
    return quiet, clicks


def test_clicks_raise_their_section_only_when_weighted(app: App) -> None:
    send(app)
    app.ingest.sample(NEXT)
    before = ranking(app.composer.compose(NEXT))
    assert all(parts["readership"] == 0.0 for *_, parts in before)
    section, _ = click_section(app)

    # the default (weight 0): the order and the scores exactly as before the clicks
    assert ranking(app.composer.compose(NEXT)) == before

    after = ranking(weighted(app, 1.0).composer.compose(NEXT))
    old = {url: (score, parts) for url, _, score, parts in before}
    raised = [(url, score, parts) for url, s, score, parts in after if s == section]
    assert raised, f"the next edition holds stories of {section!r}"
    for url, score, parts in raised:
        assert parts["readership"] > 0
        if url in old:
            assert score > old[url][0]
    for _, s, _, parts in after:
        if s != section:
            assert parts["readership"] == 0.0  # never clicked: rate 0
        assert parts["total"] == pytest.approx(
            (
                parts["featured"] + parts["coverage"] + parts["prominence"]
                + parts["recency"] + parts["readership"]
            )
            * parts["category_weight"]
            * parts["kind_weight"],
            abs=1e-3,
        )  # fmt: skip
    with app.sessions() as session:  # what `compose --json` prints, as stored
        stored = session.scalars(
            select(EditionItem)
            .join(Edition, Edition.id == EditionItem.edition_id)
            .where(Edition.date == NEXT, EditionItem.variant == "", EditionItem.section == section)
        ).all()
        assert stored and all(i.score_parts["readership"] > 0 for i in stored)


def test_the_rate_is_clicks_per_item_shown_to_a_reader(app: App) -> None:
    send(app)
    section, clicks = click_section(app)
    with app.sessions() as session:
        edition = session.scalars(select(Edition).where(Edition.date == DAY)).one()
        shown = sum(1 for i in edition.items if i.section == section)
        rates = section_click_rates(session, NEXT, 28)
        assert rates[section] == pytest.approx(clicks / (shown * len(READERS)))
        assert all(rate == 0.0 for s, rate in rates.items() if s != section)
        assert set(rates) == {i.section for i in edition.items}
        # only editions before the day, within the days
        assert section_click_rates(session, DAY, 28) == {}
        assert section_click_rates(session, DAY + timedelta(days=29), 28) == {}
        assert section_click_rates(session, DAY + timedelta(days=29), 29)[section] > 0
        assert section_click_rates(session, NEXT, 28, newsletter="weekly") == {}
    # the setting's days: a composition 30 days later no longer counts them
    late = weighted(app, 1.0, readership_days=28)
    with app.sessions() as session:
        assert late.composer.readership_rates(session, DAY + timedelta(days=30)) == {}
        assert late.composer.readership_rates(session, NEXT)[section] > 0
        assert app.composer.readership_rates(session, NEXT) == {}  # weight 0: not read


def test_a_draft_counts_no_clicks(app: App) -> None:
    app.ingest.sample(DAY)
    app.composer.compose(DAY)  # a draft: never sent, nobody read it
    with app.sessions() as session:
        assert section_click_rates(session, NEXT, 28) == {}


def test_readership_is_relative_to_the_best_section() -> None:
    rates = {"sport": 0.02, "politique": 0.01, "culture": 0.0}
    assert readership(rates, "sport", 0.5) == 0.5
    assert readership(rates, "politique", 0.5) == pytest.approx(0.25)
    assert readership(rates, "culture", 0.5) == 0.0
    assert readership(rates, "monde", 0.5) == 0.0  # never shown
    assert readership(rates, "sport", 0.0) == 0.0  # off
    assert readership({"sport": 0.0}, "sport", 1.0) == 0.0  # nothing clicked


def test_the_policy_carries_the_rates_and_compose_stays_pure() -> None:
    candidates = [candidate(n, category=c) for n, c in enumerate(["politique", "sport"] * 3)]
    plain = compose_plan(candidates, window_end=END, policy=POLICY)
    off = compose_plan(
        candidates,
        window_end=END,
        policy=replace(POLICY, readership={"sport": 0.1}),
    )
    assert [(i.candidate.article_id, i.score) for i in off.items] == [
        (i.candidate.article_id, i.score) for i in plain.items
    ]
    on = compose_plan(
        candidates,
        window_end=END,
        policy=replace(POLICY, readership={"sport": 0.1}, readership_weight=2.0),
    )
    scores = {i.candidate.article_id: i for i in plain.items}
    for item in on.items:
        if item.section == "sport":
            assert item.parts.readership == 2.0
            assert item.score > scores[item.candidate.article_id].score
        else:
            assert item.parts.readership == 0.0
            assert item.score == scores[item.candidate.article_id].score
