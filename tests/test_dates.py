"""Dates as real feeds write them: the parser alone, then inside RSS and Atom documents read
by ``parse_feed``, down to the exact UTC instant; dates that cannot be read, dates in the
future and an entry a truncated feed cut off."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from newsletter.ingest.dates import month_number, read_date, zone_offset
from newsletter.ingest.feeds import CLOCK_SKEW, SourceData, parse_feed
from newsletter.timeutil import get_zone
from newsletter.wiring import App

PARIS = get_zone("Europe/Paris")  # UTC+1 in winter, UTC+2 in summer
NOW = datetime(2026, 12, 6, 23, 0, tzinfo=UTC)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


# (as a feed writes it, the instant it names); dates without a zone are Paris time.
FORMS = [
    # RFC 822 / RFC 5322 section 3.3, French names, numeric offset
    ("Jeu, 12 déc 2024 06:30:00 +0100", utc(2024, 12, 12, 5, 30)),
    # no space after the comma, -0000 (UTC, local zone unknown)
    ("Fri,24 Nov 2023 18:28:36 -0000", utc(2023, 11, 24, 18, 28, 36)),
    # German two-letter day, English month, no zone: Paris time (winter, +01:00)
    ("Mo, 04 Dec 2023 09:15:00", utc(2023, 12, 4, 8, 15)),
    # named zone: CET is +01:00 whatever the newsletter's zone
    ("Mon, 30 Nov 2026 07:30:00 CET", utc(2026, 11, 30, 6, 30)),
    ("Sat, 18 Jul 2026 08:00:00 CEST", utc(2026, 7, 18, 6, 0)),
    # French abbreviations with dots, accents optional
    ("mar., 22 févr. 2022 20:04:25 +0000", utc(2022, 2, 22, 20, 4, 25)),
    ("ven. 18 juil. 2025 08:00:00 +0200", utc(2025, 7, 18, 6, 0)),
    ("Mar, 3 fevr 2026 10:00:00 GMT", utc(2026, 2, 3, 10, 0)),
    ("samedi 1 août 2026 09:00 UTC", utc(2026, 8, 1, 9, 0)),
    ("dimanche 6 décembre 2026 18:15:00", utc(2026, 12, 6, 17, 15)),
    ("Do, 5 Dez 2024 12:00:00 +0100", utc(2024, 12, 5, 11, 0)),
    # the zones of RFC 822 section 5
    ("Wed, 02 Oct 2002 13:00:00 GMT", utc(2002, 10, 2, 13, 0)),
    ("Wed, 02 Oct 2002 13:00:00 UT", utc(2002, 10, 2, 13, 0)),
    ("Wed, 02 Oct 2002 13:00:00 UTC", utc(2002, 10, 2, 13, 0)),
    ("Wed, 02 Oct 2002 13:00:00 Z", utc(2002, 10, 2, 13, 0)),
    ("Mon, 01 Dec 2025 08:00:00 EST", utc(2025, 12, 1, 13, 0)),
    ("Wed, 02 Oct 2002 08:00:00 EDT", utc(2002, 10, 2, 12, 0)),
    ("Mon, 01 Dec 2025 05:00:00 PST", utc(2025, 12, 1, 13, 0)),
    ("Wed, 02 Oct 2002 06:00:00 PDT", utc(2002, 10, 2, 13, 0)),
    # a two-digit year (RFC 5322 section 4.3), a time without seconds
    ("Tue, 24 Mar 26 10:00 +0530", utc(2026, 3, 24, 4, 30)),
    # ISO 8601
    ("2026-07-01T10:00:00+02:00", utc(2026, 7, 1, 8, 0)),
    ("2026-07-01T10:00:00.633Z", utc(2026, 7, 1, 10, 0)),
    ("2026-07-01T10:00:00", utc(2026, 7, 1, 8, 0)),  # Paris, summer: +02:00
    ("2026-07-01 10:00:00 -0300", utc(2026, 7, 1, 13, 0)),
    ("2026-07-01", utc(2026, 6, 30, 22, 0)),  # local midnight
    ("20261206T181534Z", utc(2026, 12, 6, 18, 15, 34)),
    # YYYY/MM/DD hh:mm:ss, one-digit day
    ("2026/12/6 18:15:34", utc(2026, 12, 6, 17, 15, 34)),
    ("2026/07/01", utc(2026, 6, 30, 22, 0)),
    # DD/MM/YYYY with an optional time
    ("06/12/2026", utc(2026, 12, 5, 23, 0)),
    ("06/12/2026 18:15", utc(2026, 12, 6, 17, 15)),
    ("6/12/2026 à 18h15", utc(2026, 12, 6, 17, 15)),
    ("01.07.2026 10:00:00 +0000", utc(2026, 7, 1, 10, 0)),
]


@pytest.mark.parametrize(("text", "instant"), FORMS)
def test_every_form_reads_to_its_utc_instant(text: str, instant: datetime) -> None:
    assert read_date(text, PARIS) == instant


@pytest.mark.parametrize(
    "text",
    ["", "demain", "31/02/2026", "2026-13-01", "Mon, 30 Foo 2026 07:30:00 +0100",
     "Mon, 30 Nov 2026 07:30:00 XYZ", "30 jui 2026", "Mon, 30 Nov 2026 25:00:00 +0100",
     "2026-07-01T10:00:00+24:00"],
)  # fmt: skip
def test_what_is_not_a_date_reads_as_none(text: str) -> None:
    assert read_date(text, PARIS) is None


def test_month_names_and_zone_offsets() -> None:
    assert [month_number(n) for n in ("déc.", "DEC", "févr.", "juil.", "Sept", "Mär", "mai")] == [
        12, 12, 2, 7, 9, 3, 5,
    ]  # fmt: skip
    assert month_number("jui") is None and month_number("ja") is None
    assert zone_offset("CEST") == zone_offset("+02:00") == zone_offset("+02")
    assert zone_offset("-0000") == zone_offset("UT") == zone_offset("Z")
    assert zone_offset("PST") == zone_offset("-0800") and zone_offset("BST") is None


def rss(*dates: str | None) -> bytes:
    items = "".join(
        f"<item><title>Article {n}</title><link>https://a.example/{n}</link>"
        + (f"<pubDate>{escape(date)}</pubDate>" if date is not None else "")
        + "</item>"
        for n, date in enumerate(dates)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>T</title>'
        f"{items}</channel></rss>"
    ).encode()


def atom(*dates: str) -> bytes:
    entries = "".join(
        f"<entry><title>Article {n}</title><link href='https://a.example/{n}'/>"
        f"<id>urn:a:{n}</id><updated>{escape(date)}</updated></entry>"
        for n, date in enumerate(dates)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>T</title><id>urn:a</id><updated>2026-12-06T00:00:00Z</updated>{entries}</feed>"
    ).encode()


def read(data: bytes, *, regular: bool = False):
    return parse_feed(SourceData(data, None), "t", zone=PARIS, fetched_at=NOW, regular=regular)


def test_every_form_in_an_rss_feed_lands_on_its_instant() -> None:
    result = read(rss(*(text for text, _ in FORMS)))
    assert [r.published_at for r in result.records] == [instant for _, instant in FORMS]
    assert not any(r.published_estimated for r in result.records)
    assert result.unreadable_dates == 0 and not result.warnings and not result.rejected


def test_every_form_in_an_atom_feed_lands_on_its_instant() -> None:
    result = read(atom(*(text for text, _ in FORMS)))
    assert [r.published_at for r in result.records] == [instant for _, instant in FORMS]
    assert result.unreadable_dates == 0


def test_a_date_without_zone_is_read_in_the_source_zone() -> None:
    data = rss("2026/12/6 08:15:34", "Mon, 30 Nov 2026 07:30:00 CET")
    new_york = parse_feed(
        SourceData(data, None), "t", zone=get_zone("America/New_York"), fetched_at=NOW
    )
    assert [r.published_at for r in new_york.records] == [
        utc(2026, 12, 6, 13, 15, 34),  # New York, -05:00
        utc(2026, 11, 30, 6, 30),  # a named zone is not the source's
    ]


def test_an_unreadable_date_from_a_polled_source_takes_the_time_first_seen() -> None:
    result = read(rss("Fri, 24 Nov 2023 18:28:36 +0000", "le jour d'après", None), regular=True)
    published = [(r.published_at, r.published_estimated) for r in result.records]
    assert published == [(utc(2023, 11, 24, 18, 28, 36), False), (NOW, True), (NOW, True)]
    assert result.unreadable_dates == 2
    assert result.warnings == ["2 entries without a date that can be read, first-seen time used"]


def test_an_unreadable_date_from_a_source_read_once_is_rejected_and_named() -> None:
    result = read(rss("Fri, 24 Nov 2023 18:28:36 +0000", "le jour d'après", None), regular=False)
    assert [r.published_at for r in result.records] == [utc(2023, 11, 24, 18, 28, 36)]
    assert result.unreadable_dates == 2
    first, second = result.rejected
    assert first.startswith('entry 2 (Article 1): no date that can be read ("le jour d\'après")')
    assert second.startswith("entry 3 (Article 2): no date that can be read (none)")
    assert result.warnings == []


def test_no_date_is_in_the_future() -> None:
    soon = NOW + CLOCK_SKEW - timedelta(minutes=1)  # the source's clock runs fast
    later = NOW + CLOCK_SKEW + timedelta(minutes=1)  # a feed's error
    result = read(rss(soon.isoformat(), later.isoformat(), "Tue, 24 Mar 2099 10:00:00 GMT"))
    published = [(r.published_at, r.published_estimated) for r in result.records]
    assert published == [(NOW, False), (NOW, True), (NOW, True)]
    assert result.unreadable_dates == 0
    assert result.warnings == ["2 entries dated in the future: first-seen time used"]


def test_an_entry_a_truncated_feed_cut_off_gets_no_invented_date() -> None:
    whole = rss("Jeu, 12 déc 2024 06:30:00 +0100", "06/12/2026 18:15")
    cut = whole[: whole.index(b"<pubDate>06/12")]  # in the middle of the second entry
    for regular in (True, False):
        result = read(cut, regular=regular)
        assert [(r.title, r.published_at) for r in result.records] == [
            ("Article 0", utc(2024, 12, 12, 5, 30))
        ]
        [rejected] = result.rejected
        assert rejected.startswith("entry 2 (Article 1): cut off where the feed ends")
        assert result.unreadable_dates == 0
    # cut after its date, the last entry keeps the date it has
    later = read(whole[: whole.index(b"</item></channel>")])
    assert [r.published_at for r in later.records] == [
        utc(2024, 12, 12, 5, 30), utc(2026, 12, 6, 17, 15),
    ]  # fmt: skip


def test_the_report_of_an_ingest_counts_unreadable_dates(app: App, tmp_path: Path) -> None:
    path = tmp_path / "feed.rss"
    path.write_bytes(rss("Mon, 30 Nov 2026 07:30:00 CET", "bientôt"))
    [report] = app.ingest.sources([str(path)])  # read once: the undated entry is refused
    assert (report.new, report.unreadable_dates) == (1, 1)
    assert report.as_dict()["unreadable_dates"] == 1
    [polled] = app.ingest.sources([str(path)], regular=True)  # polled: first-seen time
    assert (polled.new, polled.skipped, polled.unreadable_dates) == (1, 1, 1)
