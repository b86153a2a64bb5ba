"""Subscribers: validation, CSV import with line numbers, merges that respect consent."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from newsletter.app import App
from newsletter.audience import InvalidSubscriber, import_csv, make_record
from newsletter.store.models import Subscriber, SubscriberStatus


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
    assert (again.added, again.updated, again.kept_inactive) == (0, 2, 1)
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
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes("email,name\na@example.org,Hélène\n".encode("latin-1"))
    with pytest.raises(InvalidSubscriber, match="UTF-8"):
        import_csv(app.sessions, latin1)


def test_international_domains_are_stored_in_ascii_and_repeated_columns_refused(
    app: App, tmp_path: Path
) -> None:
    assert make_record("nonascii@exämple.org").email == "nonascii@xn--exmple-cua.org"
    assert make_record("a@example.org", topics="Sport; Économie").topics == ["sport", "economie"]
    twice = tmp_path / "twice.csv"
    twice.write_text("email,email,name\na@example.org,b@example.org,A\n")
    with pytest.raises(InvalidSubscriber, match="names email twice"):
        import_csv(app.sessions, twice)
