"""Deliver: every active subscriber exactly once, through the file outbox and real SMTP;
interruptions, refusals and a dead server lose nothing and send nothing twice."""

from __future__ import annotations

import socket
import time as time_module
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from newsletter.deliver import worker as worker_module
from newsletter.errors import UsageError
from newsletter.providers.base import BatchResult, Envelope, MessageResult, Result
from newsletter.providers.file import FileProvider
from newsletter.providers.smtp import SMTPProvider, is_hard_bounce
from newsletter.store.models import Delivery, Subscriber, SubscriberStatus, Suppression
from newsletter.store.subscribers import SubscriberRecord, add_subscriber, unsubscribe_address
from newsletter.wiring import App
from tests.conftest import RecordingHandler, free_port

DAY = date(2026, 3, 25)


def prepare(app: App, subscribers: int = 5) -> list[str]:
    app.ingest.sample(DAY)
    addresses = [f"reader{n}@example.org" for n in range(subscribers)]
    with app.sessions.begin() as session:
        for address in addresses:
            add_subscriber(
                session,
                SubscriberRecord(address, name=f"Lecteur {n}" if (n := len(address)) else None),
                source="test",
            )
    assert app.composer.compose(DAY).edition.items
    return addresses


def statuses(app: App) -> Counter[str]:
    with app.sessions() as session:
        return Counter(session.scalars(select(Delivery.status)))


def test_file_provider_writes_one_message_per_subscriber_once(app: App, tmp_path: Path) -> None:
    addresses = prepare(app)
    first = app.release.send(DAY)
    assert (first.released, first.created, first.run.sent) == (True, 5, 5)
    assert first.edition.status == "sent" and first.run.finished
    files = sorted((app.settings.effective_outbox_dir / DAY.isoformat()).glob("*.eml"))
    recipients = sorted(
        message_from_bytes(f.read_bytes(), policy=policy.default)["To"].addresses[0].addr_spec
        for f in files
    )
    assert recipients == sorted(addresses)
    second = app.release.send(DAY)
    assert (second.released, second.created, second.run.sent) == (False, 0, 0)
    assert len(list(files[0].parent.glob("*.eml"))) == 5


def test_recipients_are_frozen_and_inactive_ones_skipped(app: App) -> None:
    prepare(app, 3)
    with app.sessions.begin() as session:
        first = session.scalars(select(Subscriber).order_by(Subscriber.id)).first()
        assert first is not None
        first.status = SubscriberStatus.UNSUBSCRIBED
    result = app.release.send(DAY)
    assert (result.run.sent, result.run.skipped, result.created) == (2, 0, 2)
    with app.sessions.begin() as session:
        add_subscriber(session, SubscriberRecord("late@example.org"), source="test")
    assert app.release.send(DAY).run.sent == 0


class CrashingProvider(FileProvider):
    """Accepts ``limit`` messages, then dies as a killed process would (no results)."""

    def __init__(self, outbox: Path, limit: int) -> None:
        super().__init__(outbox)
        self.limit = limit
        self.handed: list[str] = []

    def send(self, envelopes: Sequence[Envelope]) -> BatchResult:
        batch = BatchResult()
        for envelope in envelopes:
            if len(self.handed) == self.limit:
                raise KeyboardInterrupt("killed")
            batch.results += super().send([envelope]).results
            self.handed.append(envelope.recipient)
        return batch


class BlindFileProvider(FileProvider):
    """An outbox that cannot tell what it received, like an SMTP server."""

    settle = None  # type: ignore[assignment]


def test_interrupted_send_resumes_without_sending_twice(
    app: App, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    prepare(app, 7)
    outbox = tmp_path / "crash-outbox"
    crashing = CrashingProvider(outbox, limit=3)
    crashing_app = App(app.settings, engine=app.engine, provider=crashing)
    # The crashing run is a process that no longer exists once it has died.
    monkeypatch.setattr(worker_module, "worker_id", lambda: f"{socket.gethostname()}:999999:dead")
    with pytest.raises(KeyboardInterrupt):
        crashing_app.release.send(DAY, batch_size=5)
    # Three were handed over and recorded, the fourth was in flight, the rest of the claim
    # was given back; nobody is lost.
    assert statuses(app) == Counter({"sent": 3, "sending": 1, "pending": 3})
    monkeypatch.undo()
    resumed = App(app.settings, engine=app.engine, provider=BlindFileProvider(outbox))
    result = resumed.release.send(DAY, batch_size=2)
    assert result.run.sent == 3 and result.run.uncertain == 1
    assert result.run.totals["sending"] == 1 and result.edition.status == "sending"
    received = Counter(recipient_of(f) for f in outbox.rglob("*.eml"))
    assert max(received.values()) == 1 and len(received) == 6
    operator = resumed.release.send(DAY, resend_uncertain=True)
    assert (operator.run.requeued, operator.run.sent) == (1, 1)
    assert operator.edition.status == "sent"
    assert len({recipient_of(f) for f in outbox.rglob("*.eml")}) == 7


def test_a_stop_request_finishes_the_message_in_flight_and_gives_back_the_rest(app: App) -> None:
    prepare(app, 6)
    outbox = app.settings.effective_outbox_dir / DAY.isoformat()

    def stop_after_two() -> bool:  # a signal arriving once two messages were handed over
        return outbox.is_dir() and len(list(outbox.glob("*.eml"))) >= 2

    # The whole group of 6 is marked "sending" in one commit; the stop gives back the 4
    # that were never handed over.
    result = app.release.send(DAY, batch_size=50, should_stop=stop_after_two)
    assert result.run.stopped == "interrupted" and result.run.sent == 2
    assert statuses(app) == Counter({"sent": 2, "pending": 4})
    assert app.release.send(DAY).run.sent == 4


def recipient_of(path: Path) -> str:
    return message_from_bytes(path.read_bytes(), policy=policy.default)["To"].addresses[0].addr_spec


def test_smtp_one_connection_and_per_recipient_refusals(
    app: App, smtp_server: tuple[RecordingHandler, int]
) -> None:
    handler, port = smtp_server
    addresses = prepare(app, 6)
    handler.refuse = {
        addresses[1]: (550, "5.1.1 No such user"),
        addresses[2]: (451, "4.7.1 Try later"),
    }
    provider = SMTPProvider("127.0.0.1", port, timeout=10)
    result = App(app.settings, engine=app.engine, provider=provider).release.send(DAY, batch_size=4)
    assert (result.run.sent, result.run.failed, result.run.deferred) == (4, 1, 1)
    assert provider.connections_opened == 1 and len(handler.connections) == 1
    assert sorted(r for m in handler.messages for r in m.rcpt_tos) == sorted(
        a for a in addresses if a not in handler.refuse
    )
    with app.sessions() as session:
        rows = {d.email: d for d in session.scalars(select(Delivery))}
    assert rows[addresses[1]].status == "failed" and rows[addresses[1]].last_code == 550
    assert result.run.bounced == 1  # 5.1.1: the address does not exist
    with app.sessions() as session:
        statuses_by_email = dict(session.execute(select(Subscriber.email, Subscriber.status)).all())
        suppressed = session.scalars(select(Suppression.email_key)).all()
    assert statuses_by_email[addresses[1]] == "bounced" and suppressed == [addresses[1]]
    assert statuses_by_email[addresses[2]] == "active"  # 4.7.1 is only "later"
    assert "No such user" in (rows[addresses[1]].last_error or "")
    assert (
        rows[addresses[2]].status == "deferred" and rows[addresses[2]].next_attempt_at is not None
    )
    assert (
        rows[addresses[0]].provider_message_id
        and "queued as" in rows[addresses[0]].provider_message_id
    )
    assert result.edition.status == "sending" and result.run.next_retry is not None


def test_dead_smtp_server_stops_the_send_and_loses_nothing(
    app: App, smtp_server: tuple[RecordingHandler, int]
) -> None:
    handler, port = smtp_server
    prepare(app, 4)
    dead = App(
        app.settings, engine=app.engine, provider=SMTPProvider("127.0.0.1", free_port(), timeout=2)
    )
    stopped = dead.release.send(DAY)
    assert stopped.run.stopped and "cannot connect" in stopped.run.stopped
    assert statuses(app) == Counter({"pending": 4})
    alive = App(
        app.settings, engine=app.engine, provider=SMTPProvider("127.0.0.1", port, timeout=10)
    )
    assert alive.release.send(DAY).run.sent == 4 and len(handler.messages) == 4


def test_an_address_that_cannot_be_written_fails_alone(app: App) -> None:
    prepare(app, 2)
    with app.sessions.begin() as session:
        add_subscriber(session, SubscriberRecord('bad"quote@example.org'), source="test")
    result = app.release.send(DAY)
    assert (result.run.sent, result.run.failed) == (2, 1)
    assert "cannot put" in result.run.failures[0]


def test_an_edition_is_not_sent_before_its_window_closes(app: App) -> None:
    later = date.today() + timedelta(days=2)
    app.ingest.sample(later, now=datetime.combine(later, time(12, 0), UTC))  # dated in its window
    with app.sessions.begin() as session:
        add_subscriber(session, SubscriberRecord("a@example.org"), source="test")
    with pytest.raises(UsageError, match="cannot be sent before"):
        app.release.send(later)
    assert app.release.send(later, early=True).run.sent == 1


def test_empty_edition_is_not_sent(app: App) -> None:
    with app.sessions.begin() as session:
        add_subscriber(session, SubscriberRecord("a@example.org"), source="test")
    with pytest.raises(UsageError, match="no items"):
        app.release.send(date(2020, 1, 1))


@pytest.mark.parametrize(
    ("code", "reply", "hard"),
    [
        (550, "5.1.1 <x@example.org>: Recipient address rejected: User unknown", True),
        (550, "5.7.1 Message rejected as spam", False),
        (550, "Mailbox unavailable", True),
        (552, "5.2.2 Mailbox full", False),
        (554, "5.2.1 Mailbox disabled", True),
    ],
)
def test_hard_bounces_are_told_from_other_refusals(code: int, reply: str, hard: bool) -> None:
    assert is_hard_bounce(code, reply) is hard


def test_a_server_that_times_out_during_data_stops_the_send_with_one_message_in_doubt(
    app: App,
) -> None:
    import asyncio

    class Slow(RecordingHandler):
        async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
            await asyncio.sleep(1.5)  # longer than the client's timeout
            return await super().handle_DATA(server, session, envelope)

    handler = Slow()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        prepare(app, 5)
        provider = SMTPProvider("127.0.0.1", controller.port, timeout=0.5)
        result = App(app.settings, engine=app.engine, provider=provider).release.send(DAY)
    finally:
        controller.stop()
    assert result.run.stopped and "during DATA" in result.run.stopped
    assert result.run.uncertain == 1 and result.run.in_flight_elsewhere == 0
    assert statuses(app) == Counter({"pending": 4, "sending": 1})


def test_a_pause_as_the_last_message_goes_still_ends_sent(app: App) -> None:
    prepare(app, 3)

    def pause_at_the_end(report: worker_module.RunReport) -> None:
        if report.sent == 3:
            assert app.drafts.pause(DAY)

    result = app.release.send(DAY, on_progress=pause_at_the_end)
    assert result.run.sent == 3 and result.edition.status == "sent"


def test_the_file_outbox_settles_messages_left_in_doubt_by_a_dead_worker(app: App) -> None:
    """Rows a killed worker left ``sending`` are settled from the outbox itself: a message
    whose file exists counts as sent, one that was never written is sent now; nobody gets
    two files and nothing stays in doubt."""
    prepare(app, 6)
    app.release.send(DAY, should_stop=lambda: True)  # released; nothing handed over yet
    dead = f"{socket.gethostname()}:999999999:dead00"
    outbox = app.settings.effective_outbox_dir / DAY.isoformat()
    with app.sessions.begin() as session:
        rows = list(session.scalars(select(Delivery).order_by(Delivery.id)))
        for row in rows[:4]:  # a group marked "sending" by the dead worker ...
            row.status, row.claimed_by, row.attempts = "sending", dead, 1
        ids = [(row.id, row.email) for row in rows[:4]]
    provider = FileProvider(app.settings.effective_outbox_dir)
    for key, email in ids[:2]:  # ... of which it had written two before it died
        envelope = Envelope(key, "a@example.ma", email, b"Subject: x\r\n\r\nx\r\n", "<m>",
                            DAY.isoformat())  # fmt: skip
        assert provider.send([envelope]).results[0].result == "sent"
    result = app.release.send(DAY)
    assert result.run.uncertain == 0 and result.run.sent == 4  # 2 in doubt + 2 never claimed
    assert statuses(app) == Counter({"sent": 6})
    files = [path.name.split("-", 1)[1] for path in outbox.glob("*.eml")]
    assert sorted(files) == sorted(f"{email}.eml" for email in prepare_emails(app))
    assert len(files) == len(set(files)) == 6


def prepare_emails(app: App) -> list[str]:
    with app.sessions() as session:
        return list(session.scalars(select(Subscriber.email)))


def test_send_respects_the_editors_hold_and_the_approval_requirement(app: App) -> None:
    """A cron job running `send` cannot go around the editors: a held draft, or an
    unapproved one when approval is required, is refused and stays a draft."""
    prepare(app, 3)
    app.composer.compose(DAY)
    app.drafts.hold(DAY)
    with pytest.raises(UsageError, match="held by an editor"):
        app.release.send(DAY)
    assert app.drafts.get(DAY).status == "draft" and statuses(app) == Counter()  # type: ignore[union-attr]
    app.drafts.hold(DAY, held=False)
    strict = App(app.settings.model_copy(update={"require_approval": True}), engine=app.engine)
    with pytest.raises(UsageError, match="not approved"):
        strict.release.send(DAY)
    assert strict.drafts.get(DAY).status == "draft"  # type: ignore[union-attr]
    strict.drafts.approve(DAY, by="chef@example.ma")
    assert strict.release.send(DAY).run.sent == 3


def test_a_composition_that_changes_an_approved_draft_clears_the_approval(app: App) -> None:
    """An approval names the content the editor saw: recomposing (the command line's
    `compose`, the scheduler) with the same content keeps it; with news that changes the
    draft, the version goes up, the approval is cleared (in the audit log) and a send that
    requires approval is refused until an editor approves again."""
    from newsletter.ingest.urls import canonical_key
    from newsletter.store.articles import ArticleRecord, upsert_articles
    from newsletter.store.audit import AuditEntry

    prepare(app, 2)
    strict = App(app.settings.model_copy(update={"require_approval": True}), engine=app.engine)
    strict.drafts.approve(DAY, by="chef@example.ma")
    version = strict.drafts.get(DAY).version  # type: ignore[union-attr]
    same = strict.composer.compose(DAY).edition
    assert same.approved_by == "chef@example.ma" and same.version == version
    url = "https://example.ma/politique/seisme-bilan"
    with app.sessions.begin() as session:
        upsert_articles(session, [ArticleRecord(
            url=url, url_key=canonical_key(url), source="https://example.ma/feed",
            source_name="Le Site", title="Séisme dans le Haut Atlas : le bilan s’alourdit",
            summary="Un séisme de magnitude 6,8 a frappé la région d’Al Haouz dans la nuit.",
            published_at=datetime(2026, 3, 25, 5, 30, tzinfo=UTC), category="politique",
            language="fr", featured=True,
        )])  # fmt: skip
    changed = strict.composer.compose(DAY).edition
    assert url in [item.url for item in changed.items]
    assert changed.approved_at is None and changed.version == version + 1
    with app.sessions() as session:
        entry = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert entry is not None and (entry.actor, entry.action) == ("composer", "compose")
    assert entry.details["approval_cleared"]["by"] == "chef@example.ma"
    with pytest.raises(UsageError, match="not approved"):
        strict.release.send(DAY)
    strict.drafts.approve(DAY, by="chef@example.ma")
    assert strict.release.send(DAY).run.sent == 2


def test_a_provider_that_cannot_work_is_refused_before_the_edition_is_released(app: App) -> None:
    """A missing API key stops `send` with the variable's name and changes nothing: no
    released edition is left for a worker to send later."""
    from newsletter.config.settings import ConfigError

    prepare(app, 3)
    broken = App(app.settings.model_copy(update={"provider": "sendgrid"}), engine=app.engine)
    with pytest.raises(ConfigError, match="NEWSLETTER_SENDGRID_API_KEY"):
        broken.release.send(DAY)
    edition = app.drafts.get(DAY)
    assert edition is not None and edition.status == "draft" and statuses(app) == Counter()


def test_a_half_set_dkim_key_is_refused_before_the_edition_is_released(app: App) -> None:
    """A DKIM selector without its key (or the reverse) stops `send` with the variables'
    names before the release: the edition stays a draft, no delivery row is written."""
    from newsletter.config.settings import ConfigError

    prepare(app, 3)
    half = app.settings.model_copy(update={"dkim_selector": "brief"})
    broken = App(half, engine=app.engine)
    with pytest.raises(ConfigError, match="NEWSLETTER_DKIM_SELECTOR and NEWSLETTER_DKIM_PRIVATE"):
        broken.release.send(DAY)
    edition = app.drafts.get(DAY)
    assert edition is not None and edition.status == "draft" and statuses(app) == Counter()


class PacedProvider(BlindFileProvider):
    """An outbox that cannot settle (like SMTP: one message per call, one commit each) and
    runs ``during(n)`` before writing its n-th message (0-based)."""

    def __init__(self, outbox: Path, during: Callable[[int], None]) -> None:
        super().__init__(outbox)
        self.during, self.handed = during, 0

    def send(self, envelopes: Sequence[Envelope]) -> BatchResult:
        batch = BatchResult()
        for envelope in envelopes:
            self.during(self.handed)
            self.handed += 1
            batch.results += super().send([envelope]).results
        return batch


def test_an_unsubscribe_during_the_send_stops_a_message_not_yet_marked_sending(
    app: App, tmp_path: Path
) -> None:
    """The 50-row claim holds every reader; one who unsubscribes while the 2nd message goes
    (their row already claimed, not yet marked) gets nothing, and their row says why."""
    addresses = prepare(app, 6)
    leaver = sorted(addresses)[4]

    def unsubscribe_at_the_second(n: int) -> None:
        if n == 1:
            assert unsubscribe_address(app.sessions, leaver) == leaver  # committed here

    outbox = tmp_path / "paced"
    provider = PacedProvider(outbox, unsubscribe_at_the_second)
    result = App(app.settings, engine=app.engine, provider=provider).release.send(DAY)
    written = sorted(recipient_of(path) for path in outbox.rglob("*.eml"))
    assert leaver not in written and written == sorted(a for a in addresses if a != leaver)
    assert (result.run.sent, result.run.skipped, result.edition.status) == (5, 1, "sent")
    with app.sessions() as session:
        assert session.scalar(select(Delivery.status).where(Delivery.email == leaver)) == "skipped"


class DeferringProvider(BlindFileProvider):
    """A provider that defers every message (a full mailbox, a greylisting server)."""

    def send(self, envelopes: Sequence[Envelope]) -> BatchResult:
        full = "4.2.2 mailbox full"
        return BatchResult(
            [MessageResult(e.key, Result.DEFERRED, code=452, detail=full) for e in envelopes]
        )


def test_a_deferred_message_gives_up_after_the_retry_window_and_the_edition_finishes(
    app: App, tmp_path: Path
) -> None:
    """Default settings (24 hours): retries back off, the last one falls on the deadline,
    and a deferral at the deadline fails the message with the reason."""
    prepare(app, 2)
    deferring = App(app.settings, engine=app.engine, provider=DeferringProvider(tmp_path))
    first = deferring.release.send(DAY)
    assert (first.run.deferred, first.edition.status) == (2, "sending")
    with app.sessions() as session:
        rows = list(session.scalars(select(Delivery)))
    for row in rows:  # the first deferral starts the window; the backoff is 5 minutes
        assert row.status == "deferred" and row.first_deferred_at is not None
        assert row.next_attempt_at is not None
        waited = row.next_attempt_at - row.first_deferred_at
        assert abs(waited - timedelta(minutes=5)) < timedelta(seconds=1)

    def shift(first_deferred_ago: timedelta) -> None:
        """As if the first deferral were ``first_deferred_ago`` ago and a retry were due."""
        now = datetime.now(UTC)
        with app.sessions.begin() as session:
            for row in session.scalars(select(Delivery)):
                row.first_deferred_at = now - first_deferred_ago
                row.next_attempt_at = now - timedelta(seconds=1)

    shift(timedelta(hours=23, minutes=58))  # 2 minutes left: the backoff is cut to them
    second = deferring.release.send(DAY)
    assert second.run.deferred == 2 and second.edition.status == "sending"
    with app.sessions() as session:
        for row in session.scalars(select(Delivery)):
            assert row.first_deferred_at and row.next_attempt_at
            assert row.next_attempt_at == row.first_deferred_at + timedelta(hours=24)
    shift(timedelta(hours=24))  # the deadline: the last retry is deferred again
    last = deferring.release.send(DAY)
    assert (last.run.failed, last.run.deferred) == (2, 0)
    assert last.edition.status == "sent" and last.run.finished
    with app.sessions() as session:
        for row in session.scalars(select(Delivery)):
            assert row.status == "failed" and row.last_code == 452
            assert row.last_error == "gave up after 24 hours of deferrals; last: 4.2.2 mailbox full"


def test_retry_hours_is_read_from_newsletter_retry_hours(monkeypatch: pytest.MonkeyPatch) -> None:
    from newsletter.config.options import DeliveryOptions
    from newsletter.config.settings import load_settings

    assert DeliveryOptions.from_settings(load_settings()).retry_hours == 24
    monkeypatch.setenv("NEWSLETTER_RETRY_HOURS", "6")
    assert DeliveryOptions.from_settings(load_settings()).retry_hours == 6
    now = datetime(2026, 3, 25, 12, tzinfo=UTC)
    deferral = worker_module.Outcome(1, worker_module.DeliveryStatus.DEFERRED, "x", detail="busy")
    later = worker_module.give_up_or_defer(
        deferral, 9, now - timedelta(hours=5), timedelta(hours=6), now
    )
    assert later.status == "deferred" and later.retry_at == now + timedelta(hours=1)  # not 6
    gone = worker_module.give_up_or_defer(
        deferral, 9, now - timedelta(hours=6), timedelta(hours=6), now
    )
    assert (
        gone.status == "failed" and gone.detail == "gave up after 6 hours of deferrals; last: busy"
    )


def test_a_worker_keeps_beating_while_a_long_send_runs(app: App, tmp_path: Path) -> None:
    """The heartbeat does not wait for the end of an edition: 2 seconds into a send, the
    worker's last beat is younger than a second."""
    from newsletter.store.workers import live_workers

    prepare(app, 8)
    app.release.send(DAY, should_stop=lambda: True)  # released; nothing handed over yet
    seen: list[int] = []

    def look(n: int) -> None:
        time_module.sleep(0.3)
        if n == 7:  # 2.1 s into the send, before the last message
            with app.sessions() as session:
                seen.append(live_workers(session, timeout=timedelta(seconds=1)))

    slow = App(app.settings, engine=app.engine, provider=PacedProvider(tmp_path, look))
    assert slow.delivery.work(once=True, poll_seconds=0.1, heartbeat_seconds=0.2) == 8
    assert seen == [1]
    with app.sessions() as session:
        assert live_workers(session) == 0  # a clean stop leaves


class TakesNothing:
    """A provider that answers every message "never received" and gives no reason to
    stop: what a faulty provider would do."""

    name = "takes-nothing"
    batch_size = 1

    def __init__(self) -> None:
        self.calls = 0

    def send(self, envelopes: Sequence[Envelope]) -> BatchResult:
        self.calls += 1
        assert self.calls < 10, "the same messages claimed again and again"
        return BatchResult([MessageResult(e.key, Result.UNSENT, detail="busy") for e in envelopes])

    def close(self) -> None:
        """Nothing to close."""


def test_a_provider_that_takes_nothing_stops_the_send_instead_of_looping(app: App) -> None:
    prepare(app, 3)
    provider = TakesNothing()
    result = App(app.settings, engine=app.engine, provider=provider).release.send(DAY)
    assert result.run.stopped == "takes-nothing took none of 1 messages: busy"
    assert provider.calls == 1 and statuses(app) == Counter({"pending": 3})
