"""Store: migrations equal the models, times are UTC everywhere, uniqueness holds, and two
workers never claim the same delivery."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from newsletter.store.db import (
    DatabaseError,
    alembic_config,
    check_schema,
    make_engine,
    session_factory,
)
from newsletter.store.models import Base, Delivery, Edition
from newsletter.store.outbox import claim_batch, create_deliveries
from newsletter.store.subscribers import SubscriberRecord, add_subscriber
from newsletter.wiring import App


def test_migrations_create_exactly_the_models(app: App) -> None:
    with app.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    head = ScriptDirectory.from_config(alembic_config(app.engine)).get_current_head()
    assert app.init_db() == head  # repeating is safe


def test_upgrade_from_the_first_release_keeps_data(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A database made by the first release's schema (0001) upgrades in place: its rows stay
    and the new columns take their defaults."""
    from alembic import command
    from sqlalchemy import text

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    config = alembic_config(engine)
    command.upgrade(config, "0001")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO subscribers (email, email_key, topics, status, created_at)"
                " VALUES ('a@example.org', 'a@example.org', '[]', 'active', '2026-01-01 00:00:00')"
            )
        )
    command.upgrade(config, "head")
    with engine.connect() as connection:
        row = connection.execute(
            text("SELECT frequency, format, soft_bounces FROM subscribers")
        ).one()
    assert tuple(row) == ("daily", "html", 0)


def test_missing_schema_is_reported(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(DatabaseError, match="newsletter init"):
        check_schema(engine)


def edition(day: date) -> Edition:
    now = datetime.now(UTC)
    return Edition(date=day, subject="s", reading_seconds=1, budget_seconds=300,
                   window_start=now, window_end=now, composed_at=now)  # fmt: skip


def test_datetimes_are_stored_and_read_as_utc(app: App) -> None:
    casablanca_time = datetime(2026, 3, 25, 8, 0, tzinfo=timezone(timedelta(hours=1)))
    with app.sessions.begin() as session:
        row = edition(date(2026, 3, 25))
        row.window_end = casablanca_time
        session.add(row)
    with app.sessions() as session:
        stored = session.scalars(select(Edition)).one()
        assert stored.window_end == datetime(2026, 3, 25, 7, 0, tzinfo=UTC)
        assert stored.window_end.tzinfo == UTC
    with pytest.raises(Exception, match="naive datetime"), app.sessions.begin() as session:
        bad = edition(date(2026, 3, 26))
        bad.composed_at = datetime(2026, 3, 26, 7, 0)
        session.add(bad)


def test_an_edition_is_unique_per_date_and_a_delivery_per_subscriber(app: App) -> None:
    with pytest.raises(IntegrityError), app.sessions.begin() as session:
        session.add(edition(date(2026, 1, 1)))
        session.add(edition(date(2026, 1, 1)))
    with app.sessions.begin() as session:
        row = edition(date(2026, 1, 2))
        session.add(row)
        add_subscriber(session, SubscriberRecord("a@example.org"), source="test")
        session.flush()
        assert create_deliveries(session, row.id) == 1
        assert create_deliveries(session, row.id) == 0


def test_release_skips_weekly_readers_and_readers_paused_on_that_date(app: App) -> None:
    from newsletter.store.models import Subscriber

    with app.sessions.begin() as session:
        row = edition(date(2026, 1, 10))
        session.add(row)
        for address in ("daily", "weekly", "paused", "back"):
            add_subscriber(session, SubscriberRecord(f"{address}@example.org"), source="test")
        session.flush()
        people = {s.email.split("@")[0]: s for s in session.scalars(select(Subscriber))}
        people["weekly"].frequency = "weekly"
        people["weekly"].weekday = 0
        people["paused"].paused_until = date(2026, 1, 11)  # receives again the next day
        people["back"].paused_until = date(2026, 1, 10)
        session.flush()
        assert create_deliveries(session, row.id) == 2
        emails = set(session.scalars(select(Delivery.email).where(Delivery.edition_id == row.id)))
    assert emails == {"daily@example.org", "back@example.org"}


def test_hold_and_approve_apply_to_drafts_only(app: App) -> None:
    from newsletter.errors import UsageError
    from newsletter.store.models import EditionItem

    with app.sessions.begin() as session:
        row = edition(date(2026, 1, 12))
        row.all_items.append(
            EditionItem(
                variant="",
                position=0,
                url="https://news.example/1",
                title="t",
                summary="s",
                reading_seconds=10,
                score=1,
            )
        )
        session.add(row)
    day = date(2026, 1, 12)
    assert app.drafts.hold(day) is True
    assert app.drafts.hold(day) is False  # already held
    assert app.drafts.get(day).held  # type: ignore[union-attr]
    assert app.drafts.approve(day, by="editor@example.org") is True
    approved = app.drafts.get(day)
    assert approved is not None and not approved.held
    assert approved.approved_by == "editor@example.org"
    assert app.drafts.approve(day, by="other@example.org") is False  # the first approval stands
    with app.sessions.begin() as session:
        session.get(Edition, approved.id).status = "sending"  # type: ignore[union-attr]
    with pytest.raises(UsageError, match="already sending"):
        app.drafts.hold(day)
    with pytest.raises(UsageError, match="no edition"):
        app.drafts.approve(date(2030, 1, 1), by="editor@example.org")


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_workers_never_claim_the_same_row_on_postgresql(app: App) -> None:
    with app.sessions.begin() as session:
        row = edition(date(2026, 1, 3))
        row.status = "sending"  # released: only released editions give rows out
        session.add(row)
        for n in range(200):
            add_subscriber(session, SubscriberRecord(f"r{n}@example.org"), source="test")
        session.flush()
        create_deliveries(session, row.id)
        edition_id = row.id
    claimed: list[list[int]] = [[], []]
    barrier = threading.Barrier(2)

    def worker(index: int) -> None:
        engine = make_engine(app.settings.effective_database_url)
        factory = session_factory(engine)
        barrier.wait()
        while True:
            with factory.begin() as session:
                batch = claim_batch(session, edition_id, 7, f"worker-{index}")
            if not batch:
                break
            claimed[index] += [c.delivery_id for c in batch]
        engine.dispose()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    everything = claimed[0] + claimed[1]
    assert len(everything) == len(set(everything)) == 200
    assert claimed[0] and claimed[1]
    with app.sessions() as session:
        assert set(session.scalars(select(Delivery.status))) == {"claimed"}


# --- named queries of the pages and of provider events ---------------------------------------
def test_a_search_matches_part_of_an_address_and_its_wildcards_literally(app: App) -> None:
    from newsletter.store.subscribers import search_subscribers

    with app.sessions.begin() as session:
        for address in (
            "ann_b@example.org",
            "annxb@example.org",
            "100%@example.org",
            "1000@example.org",
            "back\\slash@example.org",
            "Zoe@Example.org",
        ):
            add_subscriber(session, SubscriberRecord(address), source="test")
    with app.sessions() as session:

        def found(text: str, limit: int = 10) -> list[str]:
            return [s.email for s in search_subscribers(session, text, limit)]

        assert found("n_b") == ["ann_b@example.org"]  # "_" is no wildcard
        assert found("0%") == ["100%@example.org"]  # nor "%"
        assert found("k\\s") == ["back\\slash@example.org"]
        assert found("  ZOE@ ") == ["Zoe@Example.org"]  # as the address key: case, spaces
        assert found("example") == found("EXAMPLE.ORG") and len(found("example")) == 6
        assert found("ann", 1) == ["ann_b@example.org"]  # by address, limited
        assert found("nobody") == []


def test_subscribers_after_walks_every_subscriber_page_by_page(app: App) -> None:
    from newsletter.store.subscribers import subscribers_after

    with app.sessions.begin() as session:
        for n in range(5):
            add_subscriber(session, SubscriberRecord(f"p{n}@example.org"), source="test")
    seen: list[str] = []
    after = 0
    with app.sessions() as session:
        while page := subscribers_after(session, after, 2):
            assert len(page) <= 2
            seen += [s.email for s in page]
            after = page[-1].id
    assert seen == [f"p{n}@example.org" for n in range(5)]


def test_soft_bounces_count_up_and_reset_only_a_known_address(app: App) -> None:
    from newsletter.store.subscribers import (
        count_soft_bounce,
        reset_soft_bounces,
        subscriber_by_email,
    )

    with app.sessions.begin() as session:
        add_subscriber(session, SubscriberRecord("soft@example.org"), source="test")
    with app.sessions.begin() as session:
        assert count_soft_bounce(session, "Soft@Example.org") == 1
        assert count_soft_bounce(session, "soft@example.org") == 2
        assert count_soft_bounce(session, "nobody@example.org") is None
        assert reset_soft_bounces(session, "nobody@example.org") is False
    with app.sessions.begin() as session:
        assert subscriber_by_email(session, " SOFT@example.org").soft_bounces == 2  # type: ignore[union-attr]
        assert reset_soft_bounces(session, "soft@example.org") is True
        assert reset_soft_bounces(session, "soft@example.org") is False  # nothing to reset
    with app.sessions() as session:
        assert subscriber_by_email(session, "soft@example.org").soft_bounces == 0  # type: ignore[union-attr]


def test_activate_changes_pending_and_unsubscribed_readers_only(app: App) -> None:
    from newsletter.store.models import SubscriberStatus
    from newsletter.store.subscribers import activate, get_subscriber

    with app.sessions.begin() as session:
        ids = {}
        for status in SubscriberStatus:
            added = add_subscriber(
                session, SubscriberRecord(f"{status.value}@example.org"), source="test",
                status=status,
            )  # fmt: skip
            ids[status] = added.subscriber.id
    with app.sessions.begin() as session:
        rows = {status: get_subscriber(session, i) for status, i in ids.items()}
        changed = {status for status, row in rows.items() if activate(session, row)}  # type: ignore[arg-type]
    assert changed == {SubscriberStatus.PENDING, SubscriberStatus.UNSUBSCRIBED}
    with app.sessions() as session:
        back = get_subscriber(session, ids[SubscriberStatus.UNSUBSCRIBED])
        assert back is not None and back.status == SubscriberStatus.ACTIVE
        assert back.confirmed_at is not None and back.unsubscribed_at is None
        assert get_subscriber(session, ids[SubscriberStatus.BOUNCED]).status == "bounced"  # type: ignore[union-attr]
        assert get_subscriber(session, 10**9) is None


def test_editions_are_listed_newest_first_and_the_archive_holds_released_ones(app: App) -> None:
    from newsletter.store.editions import (
        ItemRow,
        main_item_counts,
        recent_editions,
        released_editions,
        save_draft,
    )

    def item(n: int) -> ItemRow:
        return ItemRow(article_id=None, section=None, category=None, url=f"https://e.org/{n}",
                       title=f"t{n}", summary="", source_name=None, reading_seconds=1.0,
                       score=1.0)  # fmt: skip

    now = datetime.now(UTC)
    with app.sessions.begin() as session:
        for day, status in ((1, "sent"), (2, "sending"), (3, "paused"), (4, "draft")):
            items = {"": [item(1), item(2)], "sport": [item(3)]} if day == 2 else {}
            row = save_draft(
                session, date(2026, 2, day), subject=f"d{day}", preheader="",
                reading_seconds=1, budget_seconds=300, window=(now, now), items=items,
            )  # fmt: skip
            row.status = status
    with app.sessions() as session:
        listed = recent_editions(session, 3)
        assert [e.date.day for e in listed] == [4, 3, 2]
        assert main_item_counts(session, [e.id for e in listed]) == {listed[2].id: 2}
        assert main_item_counts(session, []) == {}
        assert [e.date.day for e in released_editions(session, 10)] == [3, 2, 1]
        assert [e.date.day for e in released_editions(session, 1)] == [3]


def test_article_titles_leave_out_missing_articles(app: App) -> None:
    from newsletter.store.articles import ArticleRecord, article_titles, upsert_articles
    from newsletter.store.models import Article

    with app.sessions.begin() as session:
        record = ArticleRecord(url="https://e.org/a", url_key="ka", source="s", title="Title A",
                               published_at=datetime.now(UTC))  # fmt: skip
        upsert_articles(session, [record])
    with app.sessions() as session:
        article_id = session.scalars(select(Article.id)).one()
        assert article_titles(session, [article_id, article_id + 1]) == {article_id: "Title A"}
        assert article_titles(session, []) == {}


def test_suppressions_are_listed_newest_first(app: App) -> None:
    from newsletter.store.suppressions import is_suppressed, recent_suppressions, suppress

    with app.sessions.begin() as session:
        suppress(session, "First@example.org", "hard_bounce")
    with app.sessions.begin() as session:
        suppress(session, "second@example.org", "complaint", "spam")
    with app.sessions() as session:
        assert is_suppressed(session, "FIRST@example.org")
        assert not is_suppressed(session, "third@example.org")
        rows = recent_suppressions(session, 10)
        assert [(r.email_key, r.reason) for r in rows] == [
            ("second@example.org", "complaint"), ("first@example.org", "hard_bounce")
        ]  # fmt: skip
        assert len(recent_suppressions(session, 1)) == 1


def test_a_provider_event_is_recorded_once(app: App) -> None:
    from newsletter.store.events import (
        DuplicateEvent,
        event_seen,
        event_transaction,
        record_event,
    )

    def record(key: str) -> None:
        record_event(session, provider="ses", event_key=key, kind="complaint",
                     email_key="a@example.org", detail=None)  # fmt: skip

    with event_transaction(app.sessions) as session:
        assert not event_seen(session, "ses", "e1")
        record("e1")
        assert event_seen(session, "ses", "e1")  # in the same transaction too
    with pytest.raises(DuplicateEvent), event_transaction(app.sessions) as session:
        record("e2")
        record("e1")  # a twin: the whole transaction is rolled back
    with app.sessions() as session:
        assert event_seen(session, "ses", "e1") and not event_seen(session, "ses", "e2")
        assert not event_seen(session, "postmark", "e1")
