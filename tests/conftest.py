"""Shared fixtures: isolated settings, real databases (SQLite, PostgreSQL), a real SMTP
server (aiosmtpd) and the real feeds of ../shared/data when present."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPProtocol
from aiosmtpd.smtp import Envelope as SMTPEnvelope
from aiosmtpd.smtp import Session as SMTPSession

from newsletter.config.settings import Settings, load_settings
from newsletter.store.db import fresh_schema_url, make_engine
from newsletter.wiring import App

ROOT = Path(__file__).resolve().parent.parent
FEEDS = ROOT.parent / "shared" / "data" / "feeds"
PG_URL = os.environ.get("NEWSLETTER_TEST_DATABASE_URL")
SECRET = "test-secret-key-0123456789abcdef"


def feed(name: str) -> Path:
    """Path of a real feed in ../shared/data/feeds; skips the test where it is absent."""
    path = FEEDS / name
    if not path.is_file():
        pytest.skip(f"{path} is absent (../shared/data is not beside this checkout)")
    return path


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No NEWSLETTER_* variable from outside leaks in; the working directory is empty."""
    for name in list(os.environ):
        if name.startswith("NEWSLETTER_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NEWSLETTER_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("NEWSLETTER_SECRET_KEY", SECRET)
    return tmp_path


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test using it runs on SQLite (a file) and on PostgreSQL (its own schema)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'var' / 'test.db'}"
    if not PG_URL:
        pytest.skip("NEWSLETTER_TEST_DATABASE_URL is not set (PostgreSQL tests skipped)")
    assert PG_URL
    return fresh_schema_url(PG_URL, prefix="t")


@pytest.fixture
def settings(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings on the parametrised database (environment, as an operator would set it)."""
    monkeypatch.setenv("NEWSLETTER_DATABASE_URL", database_url)
    return load_settings()


@pytest.fixture
def app(settings: Settings) -> Iterator[App]:
    """An application with a migrated database."""
    application = App(settings, engine=make_engine(settings.effective_database_url))
    application.init_db()
    yield application
    application.engine.dispose()


# --- a real SMTP server ----------------------------------------------------------------------
@dataclass
class Received:
    """One message as the SMTP server received it."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    peer: object


@dataclass
class RecordingHandler:
    """aiosmtpd handler that stores messages and can refuse chosen recipients."""

    messages: list[Received] = field(default_factory=list)
    refuse: dict[str, tuple[int, str]] = field(default_factory=dict)  # address -> code, text
    connections: set[int] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(
        self, server: SMTPProtocol, session: SMTPSession, envelope: SMTPEnvelope,
        address: str, rcpt_options: list[str],
    ) -> str:  # fmt: skip
        if address in self.refuse:
            code, reason = self.refuse[address]
            return f"{code} {reason}"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(
        self, server: SMTPProtocol, session: SMTPSession, envelope: SMTPEnvelope
    ) -> str:
        with self.lock:
            self.connections.add(id(session))
            self.messages.append(
                Received(
                    envelope.mail_from,
                    list(envelope.rcpt_tos),
                    envelope.original_content or b"",
                    session.peer,
                )
            )
            count = len(self.messages)
        return f"250 2.0.0 Ok: queued as TEST{count:05d}"


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[tuple[RecordingHandler, int]]:
    """A real SMTP server on a free loopback port; yields (handler, port)."""
    handler = RecordingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), decode_data=False)
    controller.start()
    try:
        yield handler, controller.port
    finally:
        controller.stop()
