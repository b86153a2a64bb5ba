"""SMTP PIPELINING (RFC 2920) and dot-stuffing (RFC 5321 section 4.5.2): one write for
MAIL FROM, RCPT TO and DATA where the server offers it, each refusal still reported at its
stage, and messages whose lines start with a dot arriving exactly."""

from __future__ import annotations

import os
import re
import shutil
import smtplib
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPProtocol
from aiosmtpd.smtp import Envelope as SMTPEnvelope
from aiosmtpd.smtp import Session as SMTPSession

from newsletter.providers.base import Envelope, Result
from newsletter.providers.smtp import SMTPProvider, dot_stuffed
from newsletter.wiring import App
from tests.conftest import RecordingHandler, free_port
from tests.test_smtp_connections import send_edition

BODY = (
    b"From: a@example.ma\r\nTo: r@example.org\r\nSubject: dots\r\n\r\n"
    b".starts with a dot\r\n..two dots\r\n.\r\nmiddle\r\n.=\r\nend"
)


def envelope(key: int, recipient: str, sender: str = "bounces@example.ma") -> Envelope:
    return Envelope(key=key, sender=sender, recipient=recipient, data=BODY,
                    message_id=f"<{key}@example.ma>", campaign="2026-03-25")  # fmt: skip


def test_dot_stuffing_matches_the_rule_and_ends_the_data() -> None:
    assert dot_stuffed(b".a\r\nb\r\n.\r\n..c") == b"..a\r\nb\r\n..\r\n...c\r\n.\r\n"
    assert dot_stuffed(b"plain\r\n") == b"plain\r\n.\r\n"


class MailRefusingHandler(RecordingHandler):
    """Refuses MAIL FROM for one sender."""

    async def handle_MAIL(
        self, server: SMTPProtocol, session: SMTPSession, envelope: SMTPEnvelope,
        address: str, mail_options: list[str],
    ) -> str:  # fmt: skip
        if address == "blocked@example.ma":
            return "550 5.7.1 Sender refused"
        envelope.mail_from = address
        return "250 OK"


@contextmanager
def aiosmtpd_server(handler: RecordingHandler) -> Iterator[int]:
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), decode_data=False)
    controller.start()
    try:
        yield controller.port
    finally:
        controller.stop()


@pytest.mark.parametrize("pipelining", [True, False], ids=["pipelined", "lockstep"])
def test_dots_arrive_exactly_and_refusals_keep_their_stage(pipelining: bool) -> None:
    handler = MailRefusingHandler(pipelining=pipelining)
    handler.refuse = {"gone@example.org": (550, "5.1.1 No such user"),
                      "later@example.org": (451, "4.7.1 Try later")}  # fmt: skip
    with aiosmtpd_server(handler) as port:
        provider = SMTPProvider("127.0.0.1", port, timeout=10)
        blocked = envelope(5, "x@example.org", sender="blocked@example.ma")
        batch = provider.send([envelope(1, "r@example.org"), envelope(2, "gone@example.org"),
                               envelope(3, "later@example.org"), blocked,
                               envelope(4, "s@example.org")])  # fmt: skip
        provider.close()
    results = {result.key: result for result in batch.results}
    assert results[1].result == Result.SENT and results[4].result == Result.SENT
    assert results[2].result == Result.FAILED and results[2].hard_bounce
    assert results[2].detail == "RCPT TO: 550 5.1.1 No such user"
    assert (
        results[3].result == Result.DEFERRED and results[3].detail == "RCPT TO: 451 4.7.1 Try later"
    )
    assert results[5].result == Result.FAILED and not results[5].hard_bounce
    assert results[5].detail == "MAIL FROM: 550 5.7.1 Sender refused"
    assert [m.rcpt_tos for m in handler.messages] == [["r@example.org"], ["s@example.org"]]
    assert all(m.data == BODY + b"\r\n"
               for m in handler.messages)  # fmt: skip
    assert provider.connections_opened == 1


class StrictPipeliningServer:
    """A server that answers MAIL FROM, RCPT TO and DATA only once it holds all three: a
    client that waits for each reply before its next command never gets one (it times
    out). It counts the messages it took and can refuse DATA."""

    def __init__(self, data_reply: bytes = b"354 go ahead\r\n") -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.data_reply = data_reply
        self.messages: list[bytes] = []
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        connection, _ = self.listener.accept()
        with connection, connection.makefile("rb") as reader:
            connection.sendall(b"220 strict ESMTP\r\n")
            reader.readline()  # EHLO
            connection.sendall(b"250-strict\r\n250-PIPELINING\r\n250 8BITMIME\r\n")
            while True:
                first = reader.readline()
                if not first or first.upper().startswith(b"QUIT"):
                    connection.sendall(b"221 bye\r\n")
                    return
                if first.upper().startswith(b"RSET"):
                    connection.sendall(b"250 reset\r\n")
                    continue
                commands = [first, reader.readline(), reader.readline()]
                assert [c[:4].upper() for c in commands] == [b"MAIL", b"RCPT", b"DATA"], commands
                connection.sendall(b"250 sender ok\r\n250 recipient ok\r\n" + self.data_reply)
                if not self.data_reply.startswith(b"354"):
                    continue
                lines = []
                while (line := reader.readline()) != b".\r\n":
                    lines.append(line[1:] if line.startswith(b".") else line)
                self.messages.append(b"".join(lines))
                connection.sendall(b"250 queued\r\n")

    def close(self) -> None:
        self.listener.close()


def test_the_three_commands_go_in_one_write() -> None:
    server = StrictPipeliningServer()
    provider = SMTPProvider("127.0.0.1", server.port, timeout=5)
    batch = provider.send([envelope(1, "r@example.org"), envelope(2, "s@example.org")])
    provider.close()
    server.thread.join(5)
    server.close()
    assert [r.result for r in batch.results] == [Result.SENT, Result.SENT], batch
    assert server.messages == [BODY + b"\r\n"] * 2


def test_a_refused_data_command_is_reported_and_the_message_not_sent() -> None:
    server = StrictPipeliningServer(data_reply=b"554 5.3.4 no more today\r\n")
    provider = SMTPProvider("127.0.0.1", server.port, timeout=5)
    batch = provider.send([envelope(1, "r@example.org")])
    provider.close()
    server.close()
    (result,) = batch.results
    assert result.result == Result.FAILED and result.detail == "DATA: 554 5.3.4 no more today"
    assert not server.messages


def test_an_address_that_needs_quoting_goes_one_command_at_a_time(
    smtp_server: tuple[RecordingHandler, int],
) -> None:
    handler, port = smtp_server
    provider = SMTPProvider("127.0.0.1", port, timeout=10)
    batch = provider.send([envelope(1, '"first last"@example.org')])
    provider.close()
    assert batch.results[0].result == Result.SENT
    assert handler.messages[0].rcpt_tos == ['"first last"@example.org']


def smtp_sink_path() -> str | None:
    return shutil.which("smtp-sink") or next(
        (p for p in ("/usr/sbin/smtp-sink", "/usr/bin/smtp-sink") if os.path.exists(p)), None
    )


def test_postfix_smtp_sink_takes_an_edition_pipelined(
    app: App, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    """Postfix's own server (``smtp-sink``, Debian package ``postfix``), which offers
    PIPELINING: every reader's message arrives once, whole, over four connections."""
    path = smtp_sink_path()
    if path is None:
        pytest.skip("smtp-sink is not installed (Debian package postfix)")
    # smtp-sink runs as nobody when started by root: a folder it can reach and write
    dumps = Path(tempfile.mkdtemp(prefix="smtp-sink-"))
    dumps.chmod(0o777)
    request.addfinalizer(lambda: shutil.rmtree(dumps, ignore_errors=True))
    port = free_port()
    user = ["-u", "nobody"] if os.geteuid() == 0 else []
    sink = subprocess.Popen([path, *user, "-d", f"{dumps}/%M.", f"127.0.0.1:{port}", "100"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        for _ in range(50):
            try:
                with smtplib.SMTP("127.0.0.1", port, timeout=2) as probe:
                    probe.ehlo()
                    assert probe.has_extn("pipelining")
                break
            except OSError:
                time.sleep(0.1)
        result = send_edition(app, port, 30, monkeypatch)
    finally:
        sink.terminate()
        sink.wait()
    assert result.run.sent == 30 and not result.run.stopped
    files = sorted(dumps.iterdir())
    assert len(files) == 30
    recipients = []
    for file in files:
        dump = file.read_bytes()
        recipients += re.findall(rb"(?m)^To: (r\d{3}@example\.org)\r?$", dump)
        assert dump.rstrip().endswith(b"--")  # the whole multipart message, its close included
    assert sorted(recipients) == [f"r{n:03d}@example.org".encode() for n in range(30)]


@contextmanager
def smtp_sink(*options: str) -> Iterator[int]:
    """Postfix's smtp-sink with fault ``options`` (``man smtp-sink``) on a free port;
    skips where it is not installed."""
    path = smtp_sink_path()
    if path is None:
        pytest.skip("smtp-sink is not installed (Debian package postfix)")
    port = free_port()
    user = ["-u", "nobody"] if os.geteuid() == 0 else []
    sink = subprocess.Popen([path, *user, *options, f"127.0.0.1:{port}", "100"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        for _ in range(50):
            try:
                socket.create_connection(("127.0.0.1", port), 1).close()
                break
            except OSError:
                time.sleep(0.05)
        yield port
    finally:
        sink.terminate()
        sink.wait()


def send_one(port: int, message: Envelope) -> Any:
    """The provider's result for ``message`` alone, on a provider of its own."""
    provider = SMTPProvider("127.0.0.1", port, timeout=5)
    try:
        batch = provider.send([message])
    finally:
        provider.close()
    (result,) = batch.results
    return result


@pytest.mark.parametrize(("command", "stage"), [("mail", "MAIL FROM"), ("rcpt", "RCPT TO")])
def test_a_421_and_a_close_while_pipelined_is_deferred_at_its_stage(
    command: str, stage: str
) -> None:
    """``-Q``: smtp-sink answers 421 and hangs up; the pipelined replies after it never come."""
    with smtp_sink("-Q", command) as port:
        result = send_one(port, envelope(1, "r@example.org"))
    assert result.result == Result.DEFERRED and result.code == 421, result
    assert result.detail.startswith(f"{stage}: 421")


@pytest.mark.parametrize(
    "options", [["-q", "mail"], ["-p", "-q", "data"]], ids=["pipelined", "lockstep"]
)
def test_a_connection_lost_twice_before_the_message_defers_it_at_its_stage(
    options: list[str],
) -> None:
    """``-q``: smtp-sink hangs up after the command without a reply. The message never
    went: deferred (retried after the backoff), never uncertain."""
    with smtp_sink(*options) as port:
        result = send_one(port, envelope(1, "r@example.org"))
    stage = "MAIL FROM" if "mail" in options else "DATA"
    assert result.result == Result.DEFERRED, result
    assert result.detail.startswith(f"connection lost at {stage}, twice")


def test_a_send_to_a_server_that_drops_every_transaction_ends_with_everyone_deferred(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    with smtp_sink("-q", "mail") as port:
        started = time.monotonic()
        result = send_edition(app, port, 12, monkeypatch)
    assert time.monotonic() - started < 30
    assert (result.run.sent, result.run.deferred) == (0, 12) and not result.run.finished
    # the edition's totals once every connection's thread has ended
    assert {k: v for k, v in result.run.totals.items() if v} == {"deferred": 12}


def test_an_address_that_is_not_ascii_fails_alone(
    smtp_server: tuple[RecordingHandler, int],
) -> None:
    handler, port = smtp_server
    provider = SMTPProvider("127.0.0.1", port, timeout=10)
    batch = provider.send([envelope(1, "héloïse@example.org"), envelope(2, "r@example.org")])
    provider.close()
    first, second = batch.results
    assert first.result == Result.FAILED and "SMTPUTF8" in (first.detail or "")
    assert second.result == Result.SENT and handler.messages[0].rcpt_tos == ["r@example.org"]
