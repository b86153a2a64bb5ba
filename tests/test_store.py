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

    with app.sessions.begin() as session:
        session.add(edition(date(2026, 1, 12)))
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
