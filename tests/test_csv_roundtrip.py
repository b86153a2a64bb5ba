"""The subscriber list moves between databases through its CSV, losslessly: an export of
rows in every status (names with commas, doubled quotes, accents, formula characters),
imported into a new database (SQLite and PostgreSQL), gives the same rows; Excel's
semicolon-separated files import; an import never re-activates anybody; unknown topics
refuse their line."""

from __future__ import annotations

import csv
import io
import os
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from newsletter.audience.records import EXPORT_COLUMNS, spreadsheet_safe, spreadsheet_value
from newsletter.config.settings import Settings
from newsletter.store.db import fresh_schema_url, make_engine, session_factory
from newsletter.store.models import Subscriber
from newsletter.store.subscribers import SubscriberRecord, SubscriberState, add_subscriber
from newsletter.web.app import create_app
from newsletter.wiring import App
from tests.conftest import CliResult, run_cli
from tests.test_web_editor import EDITOR, HASH, Browser

T0 = datetime(2025, 11, 3, 8, 15, 42, 123456, tzinfo=UTC)
ROWS: list[tuple[SubscriberRecord, SubscriberState]] = [
    (SubscriberRecord("active@example.org", "Hélène Dupont-Durand", ["sport", "culture"],
                      "Europe/Paris"),
     SubscriberState(confirmed_at=T0, source="web")),
    (SubscriberRecord("pending@example.org", 'Doe, Jane "JD"'),
     SubscriberState(status="pending", source="web")),
    (SubscriberRecord("Unsub@example.org", 'O\'Brien, "Le Grand" Éloïse'),
     SubscriberState(status="unsubscribed", confirmed_at=T0,
                     unsubscribed_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))),
    (SubscriberRecord("bounced@example.org", "=HYPERLINK(\"x\")"),
     SubscriberState(status="bounced", soft_bounces=3, confirmed_at=T0)),
    (SubscriberRecord("complained@example.org", "'=already quoted"),
     SubscriberState(status="complained", confirmed_at=T0)),
    (SubscriberRecord("weekly@example.org", "محمد العربي", ["economie"], "Africa/Casablanca"),
     SubscriberState(frequency="weekly", weekday=4, format="text",
                     paused_until=date(2026, 12, 24), confirmed_at=T0)),
    (SubscriberRecord("plain@example.org", "-moins, plus+; point-virgule"),
     SubscriberState(confirmed_at=T0, source="import")),
]  # fmt: skip
COMPARED = ("email", "email_key", "name", "topics", "timezone", "status", "source",
            "created_at", "confirmed_at", "unsubscribed_at", "frequency", "weekday",
            "paused_until", "format", "soft_bounces")  # fmt: skip


@pytest.fixture
def second_url(request: pytest.FixtureRequest, database_url: str, tmp_path: Path) -> str:
    """A new, empty database of the same kind as ``database_url``."""
    if database_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'var' / 'second.db'}"
    return fresh_schema_url(request.getfixturevalue("postgres_url"), prefix="t")


def cli(url: str, *args: str) -> CliResult:
    return run_cli(*args, env={**os.environ, "NEWSLETTER_DATABASE_URL": url})


def fill(app: App) -> None:
    for index, (record, state) in enumerate(ROWS):
        created = T0.replace(day=1 + index)
        with app.sessions.begin() as session:
            add_subscriber(
                session, SubscriberRecord(record.email, record.name, record.topics,
                                          record.timezone, state),
                source="cli",
            )  # fmt: skip
            session.execute(
                Subscriber.__table__.update()
                .where(Subscriber.email_key == record.email.lower())
                .values(created_at=created)
            )


def rows_of(url: str) -> list[dict[str, Any]]:
    engine = make_engine(url)
    try:
        with session_factory(engine)() as session:
            found = session.scalars(select(Subscriber).order_by(Subscriber.email_key)).all()
            return [{name: getattr(s, name) for name in COMPARED} for s in found]
    finally:
        engine.dispose()


def test_export_then_import_into_a_new_database_gives_the_same_rows(
    app: App, settings: Settings, second_url: str, tmp_path: Path
) -> None:
    fill(app)
    url = settings.effective_database_url
    before = rows_of(url)
    assert {row["status"] for row in before} == {
        "active", "pending", "unsubscribed", "bounced", "complained"
    }  # fmt: skip
    exported = tmp_path / "list.csv"
    result = cli(url, "subscribers", "export", str(exported))
    assert result.returncode == 0, result.stderr
    assert f"{len(ROWS)} subscribers" in result.stdout
    text = exported.read_bytes().decode("utf-8-sig")
    header, *_ = list(csv.reader(io.StringIO(text)))
    assert tuple(header) == EXPORT_COLUMNS
    assert '"=HYPERLINK(""x"")"' not in text and "'=HYPERLINK" in text  # never a formula

    # The editors' export is the same file.
    application = App(settings.model_copy(update={"editors": {EDITOR: HASH}}), engine=app.engine)
    browser = Browser(create_app(application))
    assert browser.sign_in().status_code == 303
    page = browser.get("/editor/subscribers/export.csv")
    assert page.status_code == 200 and page.content == exported.read_bytes()

    assert cli(second_url, "init").returncode == 0
    imported = cli(second_url, "subscribers", "import", str(exported))
    assert imported.returncode == 0, imported.stderr
    assert f"{len(ROWS)} new, 0 updated, 0 unchanged, 0 rejected" in imported.stdout
    after = rows_of(second_url)
    for old, new in zip(before, after, strict=True):
        assert {k: v for k, v in new.items() if old[k] != v} == {}, old
    assert after == before

    # Imported again into the first database: nobody changes, nobody is re-activated.
    again = cli(url, "subscribers", "import", str(exported))
    assert f"0 new, 0 updated, {len(ROWS)} unchanged" in again.stdout
    assert rows_of(url) == before


def test_an_excel_file_in_french_imports(app: App, settings: Settings, tmp_path: Path) -> None:
    url = settings.effective_database_url
    excel = tmp_path / "excel.csv"
    excel.write_bytes(
        "email;name;topics;timezone\r\n"
        'a@example.org;"Dupont; ""Doudou"", Hélène";sport;Europe/Paris\r\n'
        'b@example.org;"Martin, Luc";"culture,sport";\r\n'
        "c@example.org;Zoé;;\r\n".encode("cp1252")
    )
    result = cli(url, "subscribers", "import", str(excel))
    assert result.returncode == 0, result.stderr
    assert "3 new" in result.stdout and "0 rejected" in result.stdout
    by_email = {row["email"]: row for row in rows_of(url)}
    assert by_email["a@example.org"]["name"] == 'Dupont; "Doudou", Hélène'
    assert by_email["a@example.org"]["topics"] == ["sport"]
    assert by_email["b@example.org"]["name"] == "Martin, Luc"
    assert by_email["b@example.org"]["topics"] == ["culture", "sport"]
    assert by_email["c@example.org"]["status"] == "active"


def test_a_comma_file_whose_first_line_looks_like_semicolons(
    app: App, settings: Settings, tmp_path: Path
) -> None:
    """The header alone says nothing; the whole file says commas."""
    url = settings.effective_database_url
    path = tmp_path / "x.csv"
    path.write_text(
        'email,name\nx@example.org,"Nom; avec, ""guillemets"""\ny@example.org,"a;b"\n',
        encoding="utf-8",
    )
    assert cli(url, "subscribers", "import", str(path)).returncode == 0
    names = {row["email"]: row["name"] for row in rows_of(url)}
    assert names == {"x@example.org": 'Nom; avec, "guillemets"', "y@example.org": "a;b"}
    forced = tmp_path / "semi.csv"
    forced.write_text("email\nz@example.org\n", encoding="utf-8")
    assert cli(url, "subscribers", "import", "--delimiter", ";", str(forced)).returncode == 0
    bad = cli(url, "subscribers", "import", "--delimiter", "|", str(forced))
    assert bad.returncode == 2 and "--delimiter" in bad.stderr


def test_unknown_topics_refuse_their_line(app: App, settings: Settings, tmp_path: Path) -> None:
    url = settings.effective_database_url
    path = tmp_path / "topics.csv"
    path.write_text(
        'email,topics\nok@example.org,sport\nko@example.org,"sport,astrologie"\n',
        encoding="utf-8",
    )
    result = cli(url, "subscribers", "import", str(path))
    assert result.returncode == 0
    assert "1 new" in result.stdout and "1 rejected" in result.stdout
    assert "line 3" in result.stderr and "astrologie" in result.stderr
    assert [row["email"] for row in rows_of(url)] == ["ok@example.org"]


def test_an_import_never_reactivates_and_the_status_column_is_read(
    app: App, settings: Settings, tmp_path: Path
) -> None:
    url = settings.effective_database_url
    with app.sessions.begin() as session:
        add_subscriber(session, SubscriberRecord("left@example.org",
                       state=SubscriberState(status="unsubscribed")), source="web")  # fmt: skip
    path = tmp_path / "status.csv"
    path.write_text(
        "email,name,status\nleft@example.org,Léa,active\nnew@example.org,,bounced\n"
        "bad@example.org,,asleep\n",
        encoding="utf-8",
    )
    result = cli(url, "subscribers", "import", str(path))
    assert "1 new, 1 updated" in result.stdout and "line 4" in result.stderr
    statuses = {row["email"]: (row["status"], row["name"]) for row in rows_of(url)}
    assert statuses == {"left@example.org": ("unsubscribed", "Léa"),
                        "new@example.org": ("bounced", None)}  # fmt: skip


@pytest.mark.parametrize(
    "name", ["=1+1", "+33 6", "-x", "@home", "'=x", "''", "'", "O'Neil", "plain", ""]
)
def test_the_spreadsheet_guard_is_removed_again(name: str) -> None:
    guarded = spreadsheet_safe(name)
    assert guarded[:1] not in ("=", "+", "-", "@")
    assert spreadsheet_value(guarded) == name


def test_a_semicolon_export_to_standard_output_imports_back(
    app: App, settings: Settings, second_url: str, tmp_path: Path
) -> None:
    fill(app)
    url = settings.effective_database_url
    result = cli(url, "subscribers", "export", "--delimiter", ";", "-")
    assert result.returncode == 0, result.stderr
    first = result.stdout.lstrip("\ufeff").splitlines()[0]
    assert first == ";".join(EXPORT_COLUMNS)
    path = tmp_path / "semi.csv"
    path.write_text(result.stdout, encoding="utf-8", newline="")
    assert cli(second_url, "init").returncode == 0
    imported = cli(second_url, "subscribers", "import", str(path))
    assert imported.returncode == 0, imported.stderr
    assert rows_of(second_url) == rows_of(url)
