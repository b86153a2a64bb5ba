"""Subscribers: validation, CSV import with line numbers, merges that respect consent."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from newsletter.audience.records import InvalidSubscriber, import_csv, make_record
from newsletter.store.db import transaction
from newsletter.store.models import Subscriber, SubscriberStatus
from newsletter.store.subscribers import SubscriberRecord, add_subscriber
from newsletter.wiring import App


def test_make_record_validates_and_normalises() -> None:
    record = make_record(
        " Helene@EXAMPLE.org ", "Hélène\r\nBcc: x", "Sport, Économie,sport", "Europe/Paris"
    )
    assert record.email == "Helene@example.org"
    assert record.name == "Hélène Bcc: x"
    assert record.topics == ["sport", "economie"]
    for bad in ["no-at-sign", "a@b", "a@@example.org", "a b@example.org", "é@example.org", ""]:
        with pytest.raises(InvalidSubscriber):
            make_record(bad)
    with pytest.raises(InvalidSubscriber, match="time zone"):
        make_record("a@example.org", timezone="Mars/Olympus")


def test_csv_import_reports_bad_rows_and_merges_duplicates(app: App, tmp_path: Path) -> None:
    csv_file = tmp_path / "subs.csv"
    csv_file.write_text(
        "email,name,topics,timezone\n"
        "a@example.org,Alice,sport,\n"
        "not-an-address,Bob,,\n"
        'A@example.org,,"culture,monde",Europe/Paris\n'
        "c@example.org,Chaïmae,,Mars/Olympus\n"
        "d@example.org,,,\n",
        encoding="utf-8",
    )
    report = import_csv(app.sessions, csv_file)
    assert (report.added, report.updated, report.duplicates) == (2, 0, 1)
    assert [line.split(":")[0] for line in report.rejected] == ["line 3", "line 5"]
    with app.sessions() as session:
        alice = session.scalars(
            select(Subscriber).where(Subscriber.email_key == "a@example.org")
        ).one()
        assert (alice.name, alice.topics, alice.timezone) == (
            "Alice",
            ["culture", "monde"],
            "Europe/Paris",
        )
        alice.status = SubscriberStatus.UNSUBSCRIBED
        session.commit()
    again = import_csv(app.sessions, csv_file)
    assert (again.added, again.updated, again.unchanged, again.kept_inactive) == (0, 0, 2, 1)
    with app.sessions() as session:
        assert (
            session.scalars(
                select(Subscriber.status).where(Subscriber.email_key == "a@example.org")
            ).one()
            == "unsubscribed"
        )


def test_semicolon_separated_csv_with_bom_is_read(app: App, tmp_path: Path) -> None:
    csv_file = tmp_path / "excel.csv"
    content = "\ufeffEmail;Name;Topics\r\nz@example.org;Zineb Aït Ali;sport,culture\r\n"
    csv_file.write_bytes(content.encode())
    report = import_csv(app.sessions, csv_file)
    assert (report.added, report.rejected) == (1, [])
    with app.sessions() as session:
        zineb = session.scalars(select(Subscriber)).one()
        assert (zineb.name, zineb.topics) == ("Zineb Aït Ali", ["sport", "culture"])


def test_csv_without_email_column_or_unreadable_is_refused(app: App, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("name,topics\nAlice,sport\n")
    with pytest.raises(InvalidSubscriber, match="'email' column"):
        import_csv(app.sessions, bad)
    with pytest.raises(InvalidSubscriber, match="cannot read"):
        import_csv(app.sessions, tmp_path / "missing.csv")
    broken = tmp_path / "broken-utf16.csv"
    broken.write_bytes(b"\xff\xfe" + "email\n".encode("utf-16-le") + b"\x00\xd8")
    with pytest.raises(InvalidSubscriber, match="UTF-16 byte order mark"):
        import_csv(app.sessions, broken)


def test_international_domains_are_stored_in_ascii_and_repeated_columns_refused(
    app: App, tmp_path: Path
) -> None:
    assert make_record("nonascii@exämple.org").email == "nonascii@xn--exmple-cua.org"
    assert make_record("a@example.org", topics="Sport; Économie").topics == ["sport", "economie"]
    twice = tmp_path / "twice.csv"
    twice.write_text("email,email,name\na@example.org,b@example.org,A\n")
    with pytest.raises(InvalidSubscriber, match="names email twice"):
        import_csv(app.sessions, twice)


def _subscriber(app: App, email: str) -> Subscriber:
    with app.sessions() as session:
        return session.scalars(select(Subscriber).where(Subscriber.email_key == email)).one()


def test_reimport_keeps_what_readers_chose_and_their_status(app: App, tmp_path: Path) -> None:
    csv_file = tmp_path / "subs.csv"
    csv_file.write_text(
        "email,name,topics,timezone\n"
        "user12@example.org,User 12,sport,Europe/Paris\n"
        "noname@example.org,,sport,\n"
        "pending@example.org,P,sport,\n",
        encoding="utf-8",
    )
    with transaction(app.sessions) as session:
        add_subscriber(session, SubscriberRecord("pending@example.org"), source="web",
                       status=SubscriberStatus.PENDING)  # fmt: skip
    first = import_csv(app.sessions, csv_file)
    assert (first.added, first.updated, first.unchanged) == (2, 1, 0)  # pending got a name
    with transaction(app.sessions) as session:  # the reader's own choices, then a new name
        reader = session.scalars(
            select(Subscriber).where(Subscriber.email_key == "user12@example.org")
        ).one()
        reader.topics = ["culture"]
        reader.timezone = "Africa/Casablanca"
        reader.frequency = "weekly"
        reader.format = "text"
        reader.paused_until = date(2030, 1, 1)
    csv_file.write_text(
        "email,name,topics,timezone\n"
        "user12@example.org,Someone Else,sport,Europe/Paris\n"
        "noname@example.org,Nour,sport,\n"
        "pending@example.org,Q,sport,\n"
        "fresh@example.org,F,monde,\n",
        encoding="utf-8",
    )
    again = import_csv(app.sessions, csv_file)
    assert (again.added, again.updated, again.unchanged) == (1, 1, 2)
    assert again.kept_inactive == 1  # the pending address stays pending
    reader = _subscriber(app, "user12@example.org")
    assert (reader.name, reader.topics, reader.timezone, reader.frequency, reader.format,
            reader.paused_until) == ("User 12", ["culture"], "Africa/Casablanca", "weekly",
                                     "text", date(2030, 1, 1))  # fmt: skip
    assert _subscriber(app, "noname@example.org").name == "Nour"
    pending = _subscriber(app, "pending@example.org")
    assert (pending.status, pending.name, pending.topics) == ("pending", "P", [])
    assert _subscriber(app, "fresh@example.org").topics == ["monde"]


def test_excel_encodings_are_read_and_cp1252_is_announced(app: App, tmp_path: Path) -> None:
    content = "email;name\r\nhelene@example.org;Hélène Œuvré\r\n"
    for number, (encoding, warned) in enumerate(
        [("cp1252", True), ("utf-16", False), ("utf-8-sig", False), ("utf-8", False)]
    ):
        csv_file = tmp_path / f"{number}.csv"
        csv_file.write_bytes(content.replace("helene", f"helene{number}").encode(encoding))
        report = import_csv(app.sessions, csv_file)
        assert (report.added, report.rejected) == (1, []), encoding
        assert bool(report.warnings) == warned, encoding
        assert _subscriber(app, f"helene{number}@example.org").name == "Hélène Œuvré"
    assert "Windows-1252" in import_csv(app.sessions, tmp_path / "0.csv").warnings[0]


def test_huge_field_refuses_the_file_and_unknown_columns_only_warn(
    app: App, tmp_path: Path
) -> None:
    huge = tmp_path / "huge.csv"
    huge.write_text("email,name\nok@example.org,A\nb@example.org," + "x" * 200_000 + "\n")
    with pytest.raises(InvalidSubscriber, match="line 3: not a readable subscriber CSV"):
        import_csv(app.sessions, huge)
    with app.sessions() as session:
        assert session.scalars(select(Subscriber)).first() is None  # nothing half-applied
    extra = tmp_path / "extra.csv"
    extra.write_text("email,phone\nx@example.org,0600\n")
    report = import_csv(app.sessions, extra, label="readers.csv")
    assert (report.added, report.rejected) == (1, [])
    assert report.warnings == ["readers.csv: ignoring unknown column(s) phone"]
