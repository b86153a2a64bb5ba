"""The scheduler's day driven by a controlled clock through whole weeks around real clock
changes (Europe/Paris with a send time inside the changed hour, America/New_York): the
jobs fire at their trigger's times, the periodic check runs every twenty minutes, and each
local day gets one edition, sent once, at its send time."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from newsletter.providers.smtp import SMTPProvider
from newsletter.scheduler.day import Day, Outcome
from newsletter.store.models import EditionStatus
from newsletter.store.subscribers import SubscriberRecord, add_subscriber
from newsletter.timeutil import get_zone
from newsletter.wiring import App
from tests.conftest import RecordingHandler

READERS = ["a@example.org", "b@example.org"]


def feed_for(day: date, zone_name: str, folder: Path) -> Path:
    """Five articles of their own published on the evening before ``day`` (local)."""
    zone = get_zone(zone_name)
    items = []
    for n in range(5):
        published = datetime.combine(day - timedelta(days=1), time(18, n), tzinfo=zone)
        items.append(
            f"<item><title>Nouvelle {n} du {day.isoformat()} : un titre assez long</title>"
            f"<link>https://example.ma/{day.isoformat()}/{n}</link><category>politique"
            "</category><description>Un résumé de l’article, en quelques mots utiles."
            f"</description><pubDate>{format_datetime(published.astimezone(UTC))}</pubDate>"
            "</item>"
        )
    path = folder / f"{day.isoformat()}.xml"
    path.write_text(
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Site'
        "</title><link>https://example.ma/</link><description>d</description>"
        + "".join(items)
        + "</channel></rss>",
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize(
    ("zone_name", "at", "first"),
    [
        ("Europe/Paris", time(2, 30), date(2026, 10, 22)),  # 02:30 happens twice on 10-25
        ("Europe/Paris", time(2, 30), date(2026, 3, 26)),  # 02:30 never happens on 03-29
        ("America/New_York", time(1, 30), date(2026, 10, 29)),  # repeated on 11-01
    ],
)
def test_a_week_across_a_clock_change_sends_one_edition_per_local_day(
    app: App, smtp_server: tuple[RecordingHandler, int], tmp_path: Path,
    zone_name: str, at: time, first: date,
) -> None:  # fmt: skip
    handler, port = smtp_server
    with app.sessions.begin() as session:
        for address in READERS:
            add_subscriber(session, SubscriberRecord(address), source="test")
    settings = app.settings.model_copy(update={"timezone": zone_name, "send_time": at})
    application = App(settings, engine=app.engine,
                      provider=SMTPProvider("127.0.0.1", port, timeout=10))  # fmt: skip
    days = [first + timedelta(days=n) for n in range(7)]
    for day in days:
        assert application.ingest.sources([str(feed_for(day, zone_name, tmp_path))])[0].new == 5
    clock_now = [datetime.combine(first - timedelta(days=1), time(12), tzinfo=UTC)]
    day_logic = Day(application, clock=lambda: clock_now[0])
    timing = day_logic.timing
    next_fire = {job: timing.trigger(job).get_next_fire_time(None, clock_now[0])
                 for job in ("compose", "send")}  # fmt: skip
    sent_at: dict[date, datetime] = {}
    end = timing.send.fire_time(days[-1]) + timedelta(hours=1)
    while clock_now[0] < end:
        clock_now[0] += timedelta(minutes=20)
        for job, fire in next_fire.items():  # APScheduler: run what is due, ask for the next
            if fire is not None and fire.astimezone(UTC) <= clock_now[0]:
                clock_now[0] = fire.astimezone(UTC)  # the job runs on time
                outcome = day_logic.compose() if job == "compose" else day_logic.send()
                if outcome == Outcome.SENT:
                    sent_at[timing.send.day_of(clock_now[0])] = clock_now[0]
                next_fire[job] = timing.trigger(job).get_next_fire_time(fire, clock_now[0])
        assert Outcome.SENT not in day_logic.check()  # the check never sends a second time
    assert sorted(sent_at) == days
    for day, instant in sent_at.items():
        assert instant == timing.send.fire_time(day)
        local = instant.astimezone(get_zone(zone_name))
        assert local.date() == day and (local.hour, local.minute) in (
            (at.hour, at.minute),
            (at.hour + 1, at.minute),  # after a spring-forward gap
        )
        edition = application.drafts.get(day)
        assert edition is not None and edition.status == EditionStatus.SENT
    counts = Counter(r for m in handler.messages for r in m.rcpt_tos)
    assert counts == Counter({r: 7 for r in READERS})  # one a day, each day
