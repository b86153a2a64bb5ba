"""SMTP connections: several by default, and a server that accepts fewer is sent to over
those it accepted (aiosmtpd answering ``421`` to connections over its limit)."""

from __future__ import annotations

import asyncio
import logging
import smtplib
from collections import Counter
from datetime import date
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP

from newsletter.config.delivery import DeliverySettings
from newsletter.config.settings import load_settings
from newsletter.providers.base import Envelope, Result
from newsletter.providers.smtp import SMTPProvider
from newsletter.store.subscribers import SubscriberRecord, add_subscriber
from newsletter.wiring import App
from tests.conftest import RecordingHandler, free_port

DAY = date(2026, 3, 25)


class SlowHandler(RecordingHandler):
    """Takes a few milliseconds per message, so that the sending threads overlap."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(0.005)
        return await super().handle_DATA(server, session, envelope)


class LimitedController(Controller):
    """An aiosmtpd server that greets connections over ``limit`` with ``421`` and closes
    them (Postfix's ``smtpd_client_connection_count_limit`` does the same)."""

    def __init__(self, handler: RecordingHandler, limit: int) -> None:
        super().__init__(handler, hostname="127.0.0.1", port=free_port())
        self.limit, self.open, self.refused, self.most = limit, 0, 0, 0

    def factory(self) -> SMTP:
        controller = self

        class Limited(SMTP):
            counted = False

            def connection_made(self, transport: Any) -> None:
                if controller.open >= controller.limit:
                    controller.refused += 1
                    transport.write(b"421 4.7.0 Too many connections from your host\r\n")
                    transport.close()
                    return
                self.counted = True
                controller.open += 1
                controller.most = max(controller.most, controller.open)
                super().connection_made(transport)

            def connection_lost(self, error: Exception | None) -> None:
                if self.counted:
                    controller.open -= 1
                    super().connection_lost(error)

        return Limited(self.handler, **self.SMTP_kwargs)


def send_edition(app: App, port: int, readers: int, monkeypatch: pytest.MonkeyPatch) -> Any:
    app.ingest.sample(DAY)
    with app.sessions.begin() as session:
        for n in range(readers):
            add_subscriber(session, SubscriberRecord(f"r{n:03d}@example.org"), source="test")
    for name, value in {"PROVIDER": "smtp", "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port),
                        "SEND_BATCH_SIZE": "5"}.items():  # fmt: skip
        monkeypatch.setenv(f"NEWSLETTER_{name}", value)
    return App(load_settings(), engine=app.engine).release.send(DAY)


def test_four_connections_by_default(app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    assert DeliverySettings().smtp_connections == 4
    handler = SlowHandler()
    controller = LimitedController(handler, limit=32)
    controller.start()
    try:
        result = send_edition(app, controller.port, 80, monkeypatch)
    finally:
        controller.stop()
    assert result.run.sent == 80 and not result.run.stopped
    assert len(handler.connections) == 4 and controller.refused == 0


def test_a_server_that_accepts_two_connections_gets_everything_over_those_two(
    app: App, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    handler = SlowHandler()
    controller = LimitedController(handler, limit=2)
    controller.start()
    try:
        with caplog.at_level(logging.WARNING, logger="newsletter.providers.smtp"):
            result = send_edition(app, controller.port, 60, monkeypatch)
    finally:
        controller.stop()
    assert result.run.sent == 60 and result.run.stopped is None, result.run.stopped
    assert result.edition.status == "sent"
    counts = Counter(rcpt for message in handler.messages for rcpt in message.rcpt_tos)
    assert counts == Counter({f"r{n:03d}@example.org": 1 for n in range(60)})
    assert controller.most == 2  # never more at once than the server accepts
    assert controller.refused >= 1  # (a close the server has not seen yet may cost another)
    # The limit is learnt and logged once: later threads borrow instead of knocking again.
    refusals = [r for r in caplog.records if "refused connection" in r.getMessage()]
    assert len(refusals) == 1 and "421" in refusals[0].getMessage()


def test_a_first_connection_refused_with_421_still_stops_the_batch() -> None:
    """With no connection of ours open, a 421 greeting is the server's refusal of us: the
    batch stops (nothing sent, nothing uncertain) as any failure to connect does."""
    controller = LimitedController(RecordingHandler(), limit=0)
    controller.start()
    try:
        provider = SMTPProvider("127.0.0.1", controller.port, timeout=5)
        envelope = Envelope(
            1, "a@example.ma", "r@example.org", b"Subject: x\r\n\r\nx\r\n", "<1@x>", "c"
        )
        batch = provider.send([envelope])
        provider.close()
    finally:
        controller.stop()
    assert [r.result for r in batch.results] == [Result.UNSENT]
    assert batch.stop and "421" in batch.stop


def test_a_connection_borrowed_from_a_closed_provider_is_given_up_cleanly() -> None:
    """Two providers on a one-connection server: the second borrows the first's line, and
    when the first closes it, the second opens its own."""
    handler = RecordingHandler()
    controller = LimitedController(handler, limit=1)
    controller.start()
    try:
        first = SMTPProvider("127.0.0.1", controller.port, timeout=5)
        second = SMTPProvider("127.0.0.1", controller.port, timeout=5)

        def envelope(n: int) -> Envelope:
            return Envelope(
                n, "a@example.ma", f"r{n}@example.org", b"S: x\r\n\r\nx\r\n", "<x>", "c"
            )

        assert first.send([envelope(1)]).results[0].result == Result.SENT
        assert second.send([envelope(2)]).results[0].result == Result.SENT  # borrowed
        assert second.connections_opened == 0
        first.close()
        assert second.send([envelope(3)]).results[0].result == Result.SENT  # its own now
        assert second.connections_opened == 1
        second.close()
    finally:
        controller.stop()
    assert sorted(r for m in handler.messages for r in m.rcpt_tos) == [
        "r1@example.org", "r2@example.org", "r3@example.org",
    ]  # fmt: skip


def test_smtplib_reports_a_421_greeting_as_a_connect_error() -> None:
    """The refusal the provider recognises: smtplib raises SMTPConnectError(421) for it."""
    controller = LimitedController(RecordingHandler(), limit=0)
    controller.start()
    try:
        with pytest.raises(smtplib.SMTPConnectError) as refused:
            smtplib.SMTP("127.0.0.1", controller.port, timeout=5)
    finally:
        controller.stop()
    assert refused.value.smtp_code == 421
