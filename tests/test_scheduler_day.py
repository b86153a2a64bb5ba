"""The day's actions with a controlled clock, on SQLite and PostgreSQL, mailing through a
real SMTP server: the draft and the editors' notice, the send at the send time, a late
start, a three-day outage, the grace period, holds, approvals and two schedulers racing."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from email import message_from_bytes, policy
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from newsletter.editions.compose import Cadence, week_window
from newsletter.providers.smtp import SMTPProvider
from newsletter.scheduler.day import Day, Outcome
from newsletter.store.articles import articles_in_window
from newsletter.store.models import Delivery, Edition, EditionStatus, Frequency
from newsletter.store.subscribers import SubscriberRecord, add_subscriber
from newsletter.wiring import App
from tests.conftest import RecordingHandler

DAY = date(2026, 10, 14)  # Africa/Casablanca, UTC+0 since 2026-09-20
EDITORS = ["chef@example.ma", "adjoint@example.ma"]
READERS = [f"lecteur{n}@example.org" for n in range(3)]


class Clock:
    """A controlled clock: the time the scheduler sees."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def make_day(
    app: App, smtp_server: tuple[RecordingHandler, int]
) -> Callable[..., tuple[Day, Clock]]:
    """``make_day(**settings)``: a Day on the test database, mailing through the SMTP
    server, with the sample articles and three readers in place."""
    _, port = smtp_server
    with app.sessions.begin() as session:
        for address in READERS:
            add_subscriber(session, SubscriberRecord(address), source="test")

    def make(**changes: Any) -> tuple[Day, Clock]:
        settings = app.settings.model_copy(update={
            "editors": EDITORS, "timezone": "Africa/Casablanca", "send_time": time(7, 0),
            "provider": "smtp", "smtp_host": "127.0.0.1", "smtp_port": port, **changes,
        })  # fmt: skip
        application = App(settings, engine=app.engine,
                          provider=SMTPProvider("127.0.0.1", port, timeout=10))  # fmt: skip
        clock = Clock(datetime(2000, 1, 1))
        return Day(application, clock=clock), clock

    return make


def editions_received(handler: RecordingHandler) -> Counter[str]:
    return Counter(r for m in handler.messages for r in m.rcpt_tos if r in READERS)


def editors_mail(handler: RecordingHandler) -> list[str]:
    """The messages the first editor received, as headers and decoded body."""
    out = []
    for m in handler.messages:
        if m.rcpt_tos == [EDITORS[0]]:
            message = message_from_bytes(m.data, policy=policy.default)
            headers = "".join(f"{k}: {v}\n" for k, v in message.items())
            out.append(headers + message.get_content())
    return out


def test_the_morning_composes_tells_the_editors_and_sends_once(
    make_day: Callable[..., tuple[Day, Clock]], smtp_server: tuple[RecordingHandler, int]
) -> None:
    handler, _ = smtp_server
    day, clock = make_day()
    day.app.ingest.sample(DAY)
    compose_at, send_at = day.timing.compose.fire_time(DAY), day.timing.send.fire_time(DAY)
    assert send_at - compose_at == timedelta(minutes=60)
    clock.now = compose_at
    assert day.compose() == Outcome.COMPOSED
    assert day.compose() == Outcome.ELSEWHERE  # done once; a rerun (restart) does nothing
    notices = editors_mail(handler)
    assert len(notices) == 1 and "/editor/editions/2026-10-14" in notices[0]
    assert "Auto-Submitted: auto-generated" in notices[0]
    clock.now = send_at - timedelta(seconds=1)
    assert day.send_day(DAY) == Outcome.NOT_YET
    clock.now = send_at
    assert day.send() == Outcome.SENT
    assert editions_received(handler) == Counter(READERS)
    clock.now = send_at + timedelta(minutes=1)
    assert day.send() == Outcome.ALREADY and Outcome.SENT not in day.check()
    assert editions_received(handler) == Counter(READERS)  # still one each
    assert len(editors_mail(handler)) == 1  # on time: no alert


def test_a_start_ten_minutes_late_sends_once_and_reports_it_late(
    make_day: Callable[..., tuple[Day, Clock]], smtp_server: tuple[RecordingHandler, int]
) -> None:
    handler, _ = smtp_server
    day, clock = make_day()
    day.app.ingest.sample(DAY)
    send_at = day.timing.send.fire_time(DAY)
    clock.now = send_at + timedelta(minutes=10)
    # At start the send job's first run is today's, in the past: APScheduler runs it at once.
    assert day.timing.send.get_next_fire_time(None, clock.now) == send_at
    assert day.send() == Outcome.SENT  # composes the missing draft first
    assert day.check() == [Outcome.ALREADY]  # the periodic check right after: nothing
    assert editions_received(handler) == Counter(READERS)
    mails = editors_mail(handler)
    assert len(mails) == 2  # the draft's notice and the "late" alert
    assert any("alerte (late)" in m for m in mails)


def test_a_three_day_outage_sends_only_todays_edition(
    make_day: Callable[..., tuple[Day, Clock]], smtp_server: tuple[RecordingHandler, int]
) -> None:
    handler, _ = smtp_server
    day, clock = make_day()
    before = DAY - timedelta(days=3)
    day.app.ingest.sample(before)
    clock.now = day.timing.send.fire_time(before)
    assert day.send() == Outcome.SENT  # the last day before the outage
    day.app.ingest.sample(DAY)
    clock.now = day.timing.send.fire_time(DAY) + timedelta(minutes=2)  # back, three days on
    outcomes = [day.send(), *day.check()]  # the coalesced send job and the check
    assert outcomes.count(Outcome.SENT) == 1
    with day.app.sessions() as session:
        dates = session.scalars(select(Edition.date).order_by(Edition.date)).all()
        deliveries = session.scalars(select(Delivery.edition_id)).all()
    assert dates == [before, DAY]  # no edition for the days of the outage
    assert len(deliveries) == 2 * len(READERS)
    assert editions_received(handler) == Counter({r: 2 for r in READERS})


def test_past_the_grace_period_the_day_is_skipped_with_one_alert(
    make_day: Callable[..., tuple[Day, Clock]], smtp_server: tuple[RecordingHandler, int]
) -> None:
    handler, _ = smtp_server
    day, clock = make_day(send_grace_minutes=180)
    before = DAY - timedelta(days=1)
    day.app.ingest.sample(before)
    clock.now = day.timing.send.fire_time(before)
    assert day.send() == Outcome.SENT  # the day before, as usual
    handler.messages.clear()
    day.app.ingest.sample(DAY)
    clock.now = day.timing.send.fire_time(DAY) + timedelta(hours=3, minutes=1)
    assert day.check() == [Outcome.SKIPPED, Outcome.SKIPPED]
    assert day.send() == Outcome.SKIPPED
    assert editions_received(handler) == Counter()
    alerts = [m for m in editors_mail(handler) if "alerte (skipped)" in m]
    assert len(alerts) == 1 and "2026-10-14" in alerts[0]
    assert day.app.drafts.get(DAY) is None  # nothing composed for a day given up


def test_a_new_installation_started_late_reports_no_missed_day(
    make_day: Callable[..., tuple[Day, Clock]], smtp_server: tuple[RecordingHandler, int]
) -> None:
    handler, _ = smtp_server
    day, clock = make_day()
    clock.now = day.timing.send.fire_time(DAY) + timedelta(hours=5)
    assert day.check() == [Outcome.SKIPPED, Outcome.SKIPPED]
    assert handler.messages == []  # nothing was ever sent, so nothing was missed


def test_editions_sent_by_hand_before_the_first_start_are_no_outage(
    make_day: Callable[..., tuple[Day, Clock]], smtp_server: tuple[RecordingHandler, int]
) -> None:
    """`newsletter send` used by hand for a while, then `newsletter run` started for the
    first time after a day's grace: no "downtime?" alert for the day before."""
    handler, _ = smtp_server
    day, clock = make_day()
    earlier = DAY - timedelta(days=5)
    day.app.ingest.sample(earlier)
    assert day.app.release.send(earlier, early=True).run.sent == len(READERS)  # by hand
    handler.messages.clear()
    clock.now = day.timing.send.fire_time(DAY) + timedelta(hours=5)
    assert day.check() == [Outcome.SKIPPED, Outcome.SKIPPED]
    assert [m for m in editors_mail(handler) if "alerte" in m] == []


def test_a_held_edition_waits_alerts_at_the_deadline_and_goes_when_released(
    make_day: Callable[..., tuple[Day, Clock]], smtp_server: tuple[RecordingHandler, int]
) -> None:
    handler, _ = smtp_server
    day, clock = make_day(approval_deadline_minutes=30)
    day.app.ingest.sample(DAY)
    clock.now = day.timing.compose.fire_time(DAY)
    assert day.compose() == Outcome.COMPOSED
    assert day.app.drafts.hold(DAY)
    send_at = day.timing.send.fire_time(DAY)
    clock.now = send_at
    assert day.send() == Outcome.HELD
    clock.now = send_at + timedelta(minutes=31)
    assert day.check() == [Outcome.HELD] and day.check() == [Outcome.HELD]
    assert sum("alerte (held)" in m for m in editors_mail(handler)) == 1
    assert editions_received(handler) == Counter()
    assert day.app.drafts.hold(DAY, held=False)
    clock.now = send_at + timedelta(minutes=32)
    assert day.check() == [Outcome.SENT]
    assert editions_received(handler) == Counter(READERS)


def test_with_approval_required_the_edition_goes_once_approved(
    make_day: Callable[..., tuple[Day, Clock]], smtp_server: tuple[RecordingHandler, int]
) -> None:
    handler, _ = smtp_server
    day, clock = make_day(require_approval=True, approval_deadline_minutes=15)
    day.app.ingest.sample(DAY)
    clock.now = day.timing.compose.fire_time(DAY)
    assert day.compose() == Outcome.COMPOSED
    assert "approuvée" in editors_mail(handler)[0]
    send_at = day.timing.send.fire_time(DAY)
    clock.now = send_at
    assert day.send() == Outcome.AWAITING_APPROVAL
    clock.now = send_at + timedelta(minutes=16)
    assert day.check() == [Outcome.AWAITING_APPROVAL]
    assert sum("alerte (approval)" in m for m in editors_mail(handler)) == 1
    assert day.app.drafts.approve(DAY, EDITORS[0])
    assert day.check() == [Outcome.SENT]
    assert editions_received(handler) == Counter(READERS)
    edition = day.app.drafts.get(DAY)
    assert edition is not None and edition.approved_by == EDITORS[0]


def test_two_schedulers_at_the_same_instant_send_once(
    make_day: Callable[..., tuple[Day, Clock]], smtp_server: tuple[RecordingHandler, int]
) -> None:
    handler, _ = smtp_server
    days = [make_day()[0] for _ in range(2)]
    days[0].app.ingest.sample(DAY)
    send_at = days[0].timing.send.fire_time(DAY)
    outcomes: list[Outcome] = []
    barrier = threading.Barrier(2)

    def run(day: Day) -> None:
        day.clock = lambda: send_at + timedelta(seconds=1)
        barrier.wait()
        outcomes.append(day.send())

    threads = [threading.Thread(target=run, args=(d,)) for d in days]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert outcomes.count(Outcome.SENT) == 1, outcomes
    assert editions_received(handler) == Counter(READERS)
    assert len(editors_mail(handler)) == 1  # one notice, from whichever composed
    edition = days[1].app.drafts.get(DAY)
    assert edition is not None and edition.status == EditionStatus.SENT


def test_weekly_readers_get_the_weeks_edition_on_their_weekday_only(
    make_day: Callable[..., tuple[Day, Clock]], smtp_server: tuple[RecordingHandler, int]
) -> None:
    handler, _ = smtp_server
    day, clock = make_day()
    weekly_today, weekly_other = "hebdo@example.org", "hebdo.lundi@example.org"
    with day.app.sessions.begin() as session:
        for address, weekday in ((weekly_today, DAY.weekday()), (weekly_other, 0)):
            reader = add_subscriber(session, SubscriberRecord(address), source="test").subscriber
            reader.frequency, reader.weekday = Frequency.WEEKLY, weekday
    yesterday = DAY - timedelta(days=1)
    day.app.ingest.sample(yesterday)
    clock.now = day.timing.send.fire_time(yesterday)
    assert DAY.weekday() != 0 and yesterday.weekday() != DAY.weekday()
    assert day.send() == Outcome.SENT  # yesterday: daily readers only, no weekly edition
    assert day.app.drafts.get(yesterday, Cadence.WEEKLY) is None
    day.app.ingest.sample(DAY)
    clock.now = day.timing.compose.fire_time(DAY)
    assert day.compose() == Outcome.COMPOSED
    weekly = day.app.drafts.get(DAY, Cadence.WEEKLY)
    assert weekly is not None and weekly.items and weekly.budget_seconds == 300
    assert weekly.window_end - weekly.window_start == timedelta(days=7)
    daily = day.app.drafts.get(DAY)
    assert daily is not None and daily.items  # the weekly edition took nothing from it
    told_yesterday = {i.article_id for i in day.app.drafts.get(yesterday).items}  # type: ignore[union-attr]
    with day.app.sessions() as session:  # the week's candidates include yesterday's stories
        week = articles_in_window(
            session, *week_window(DAY, day.app.composer.options), newsletter="weekly"
        )
    assert told_yesterday <= {a.id for a in week}
    clock.now = day.timing.send.fire_time(DAY)
    assert day.send() == Outcome.SENT
    assert day.check() == [Outcome.ALREADY]
    counts = Counter(r for m in handler.messages for r in m.rcpt_tos)
    assert counts[weekly_today] == 1 and counts[weekly_other] == 0
    assert all(counts[r] == 2 for r in READERS)  # yesterday's and today's daily editions
    with day.app.sessions() as session:
        weekly_rows = session.scalars(
            select(Delivery.email).where(Delivery.edition_id == weekly.id)
        ).all()
    assert weekly_rows == [weekly_today]


def test_an_approved_draft_goes_as_approved_even_when_news_arrives_after(
    make_day: Callable[..., tuple[Day, Clock]], tmp_path: Path
) -> None:
    day, clock = make_day(require_approval=True)
    day.app.ingest.sample(DAY)
    clock.now = day.timing.compose.fire_time(DAY)
    assert day.compose() == Outcome.COMPOSED
    assert day.app.drafts.approve(DAY, EDITORS[0])
    approved = [i.article_id for i in day.app.drafts.get(DAY).items]  # type: ignore[union-attr]
    late_news = tmp_path / "late.xml"
    published = format_datetime(day.timing.send.fire_time(DAY) - timedelta(minutes=20))
    late_news.write_text(
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Le Site'
        "</title><link>https://example.ma/</link><description>d</description><item>"
        "<title>Dernière minute : le gouvernement annonce un plan majeur</title>"
        "<link>https://example.ma/politique/derniere-minute</link><category>politique"
        "</category><description>Une annonce majeure, avant l’envoi, après l’approbation."
        f"</description><pubDate>{published}</pubDate></item></channel></rss>",
        encoding="utf-8",
    )
    assert day.app.ingest.sources([str(late_news)])[0].new == 1
    clock.now = day.timing.send.fire_time(DAY)
    assert day.send() == Outcome.SENT
    sent = day.app.drafts.get(DAY)
    assert sent is not None and [i.article_id for i in sent.items] == approved


def test_time_zone_waves_send_at_the_readers_own_send_time_once(
    make_day: Callable[..., tuple[Day, Clock]], smtp_server: tuple[RecordingHandler, int]
) -> None:
    handler, _ = smtp_server
    tokyo, new_york = "tokyo@example.org", "newyork@example.org"
    day, clock = make_day(timezone_waves=True)
    with day.app.sessions.begin() as session:
        add_subscriber(session, SubscriberRecord(tokyo, timezone="Asia/Tokyo"), source="test")
        add_subscriber(session, SubscriberRecord(new_york, timezone="America/New_York"),
                       source="test")  # fmt: skip
    day.app.ingest.sample(DAY)
    send_at = day.timing.send.fire_time(DAY)
    assert send_at == datetime(2026, 10, 14, 7, 0, tzinfo=UTC)  # Casablanca, UTC+0

    def got() -> Counter[str]:
        return Counter(r for m in handler.messages for r in m.rcpt_tos if r not in EDITORS)

    clock.now = send_at
    assert day.send() == Outcome.SENT
    # Tokyo's 07:00 came first (22:00 UTC the day before): it goes with the release
    assert got() == Counter([*READERS, tokyo])
    clock.now = datetime(2026, 10, 14, 10, 59, tzinfo=UTC)
    assert Outcome.SENT not in day.check()
    assert got()[new_york] == 0
    clock.now = datetime(2026, 10, 14, 11, 0, tzinfo=UTC)  # 07:00 in New York (EDT)
    assert Outcome.SENT in day.check()
    clock.now = datetime(2026, 10, 14, 11, 5, tzinfo=UTC)
    assert Outcome.SENT not in day.check()
    assert got() == Counter([*READERS, tokyo, new_york])  # each once
    edition = day.app.drafts.get(DAY)
    assert edition is not None and edition.status == EditionStatus.SENT
