"""Erasure (GDPR art. 17) through the command line and the editors' button: no table keeps
the address afterwards, deliveries keep the edition's counts, and a suppressed address
stays refused (as a digest) by a sign-up, an import and ``subscribers add``."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import func, select

from newsletter.config.settings import Settings
from newsletter.store.events import record_event
from newsletter.store.models import Base, Delivery, Subscriber, Suppression
from newsletter.store.subscribers import SubscriberRecord, add_subscriber, erased_key
from newsletter.store.suppressions import is_suppressed, suppress
from newsletter.web.app import create_app
from newsletter.wiring import App
from tests.conftest import CliResult, run_cli
from tests.test_web import DAY
from tests.test_web_editor import EDITOR, HASH, Browser

READERS = ("Gone@example.org", "left@example.org", "stays@example.org")


def cli(*args: str) -> CliResult:
    return run_cli(*args, env=dict(os.environ))


def holders(app: App, address: str) -> list[str]:
    """Every ``table.column`` where some row holds ``address`` (any case), text columns of
    every table of the schema."""
    found = []
    with app.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            for column in table.columns:
                if column.type.python_type is not str:  # type: ignore[attr-defined]
                    continue
                hit = connection.execute(
                    select(func.count()).select_from(table).where(
                        func.lower(column).contains(address.lower(), autoescape=True)
                    )
                ).scalar()  # fmt: skip
                if hit:
                    found.append(f"{table.name}.{column.name}")
    return found


def sent_edition(app: App) -> None:
    """The sample edition sent to the readers; a bounce of the first, suppressed."""
    app.ingest.sample(DAY)
    with app.sessions.begin() as session:
        for email in READERS:
            add_subscriber(session, SubscriberRecord(email, name="Nom"), source="test")
    assert app.release.send(DAY).run.sent == len(READERS)
    with app.sessions.begin() as session:
        record_event(session, provider="postmark", event_key="e1", kind="hard_bounce",
                     email_key="gone@example.org",
                     detail="550 5.1.1 <Gone@example.org>: no such user")  # fmt: skip
        suppress(session, "gone@example.org", "hard_bounce", "550 5.1.1 <gone@example.org>")
        session.execute(
            Delivery.__table__.update()
            .where(Delivery.email == "Gone@example.org")
            .values(last_error="550 5.1.1 <gone@example.org> unknown")
        )


def test_erase_from_the_command_line_leaves_no_address_and_keeps_it_refused(
    app: App, settings: Settings, tmp_path: Path
) -> None:
    sent_edition(app)
    assert holders(app, "gone@example.org")  # the check can see the address
    result = cli("subscribers", "erase", "GONE@example.org")
    assert result.returncode == 0, result.stderr
    assert "subscriber deleted" in result.stdout and "still suppressed" in result.stdout
    assert holders(app, "gone@example.org") == []
    with app.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Delivery)) == len(READERS)
        assert session.scalar(select(func.count()).select_from(Subscriber)) == len(READERS) - 1
        assert session.get(Suppression, erased_key("gone@example.org")) is not None
        assert is_suppressed(session, "Gone@Example.org")
    assert "nothing holds" in cli("subscribers", "erase", "gone@example.org").stderr
    assert holders(app, "stays@example.org")  # the others are untouched

    # Still refused: a sign-up, an import, `subscribers add`.
    client_app = create_app(app)
    browser = Browser(client_app)
    answer = browser.post("/api/subscribe", json={"email": "gone@example.org"})
    assert answer.status_code == 202
    again = tmp_path / "again.csv"
    again.write_text("email\ngone@example.org\nnew@example.org\n", encoding="utf-8")
    imported = cli("subscribers", "import", str(again))
    assert "1 new" in imported.stdout and "line 2" in imported.stderr
    assert "suppression" in imported.stderr
    added = cli("subscribers", "add", "gone@example.org")
    assert added.returncode == 1 and "suppression" in added.stderr
    assert holders(app, "gone@example.org") == []


def test_erase_an_unsuppressed_reader_with_the_editors_button(app: App, settings: Settings) -> None:
    sent_edition(app)
    application = App(settings.model_copy(update={"editors": {EDITOR: HASH}}), engine=app.engine)
    browser = Browser(create_app(application))
    assert browser.sign_in().status_code == 303
    found = browser.get("/editor/subscribers?q=left")
    assert 'action="/editor/subscribers/erase"' in found.text
    assert browser.send("/editor/subscribers/erase", email="left@example.org").status_code == 400
    assert holders(app, "left@example.org")  # nothing changed without the box ticked
    unknown = browser.send("/editor/subscribers/erase", email="nobody@example.org", confirm="yes")
    assert unknown.status_code == 404
    answer = browser.send("/editor/subscribers/erase", email="left@example.org", confirm="yes")
    assert answer.status_code == 303
    shown = browser.get(answer.headers["location"])
    assert "left@example.org est effacé" in shown.text and "1 envois" in shown.text
    assert holders(app, "left@example.org") == []
    with app.sessions() as session:
        assert not is_suppressed(session, "left@example.org")  # may come back by sign-up
        kept = session.scalars(select(Delivery).where(Delivery.subscriber_id.is_(None))).all()
        assert [(d.email, d.status) for d in kept] == [("", "sent")]
    # The editors' export no longer lists the person.
    assert "left@example.org" not in browser.get("/editor/subscribers/export.csv").text
