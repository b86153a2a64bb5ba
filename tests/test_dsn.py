"""Bounce messages (RFC 3464 DSNs): realistic Postfix and Exchange samples parse to the
right events; `newsletter bounces import` applies them from a Maildir, an mbox or files,
once each; the inbound SMTP server (a real aiosmtpd) applies what it receives."""

from __future__ import annotations

import json
import mailbox
import os
import smtplib
from pathlib import Path

import pytest
from sqlalchemy import select

from newsletter.feedback.dsn import NotADsn, kind_of, parse
from newsletter.feedback.mailboxes import Applier, NotAReport, parse_report, serve
from newsletter.feedback.webhooks import Kind, Malformed
from newsletter.store.models import Subscriber, Suppression
from newsletter.store.subscribers import SubscriberRecord, add_subscriber
from newsletter.wiring import App
from tests.conftest import CliResult, free_port, run_cli

SAMPLES = Path(__file__).parent / "data" / "dsn"
READERS = ("a@example.org", "b@example.org", "c@example.org", "d.reader@contoso.com",
           "e@example.net")  # fmt: skip


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("postfix-user-unknown.eml", [(Kind.HARD_BOUNCE, "a@example.org", "5.1.1 550 5.1.1")]),
        ("postfix-expired-and-quota.eml", [
            (Kind.SOFT_BOUNCE, "b@example.org", "5.2.2 552 5.2.2 <b@example.org>: Mailbox full"),
            (Kind.SOFT_BOUNCE, "c@example.org", "4.4.1 connect to mx.example.net"),
        ]),
        ("postfix-delayed-warning.eml", []),
        ("exchange-recipient-not-found.eml", [
            (Kind.HARD_BOUNCE, "D.Reader@contoso.com",
             "5.1.10 550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found"),
        ]),
        ("encoded-report-spam-rejection.eml", [(Kind.HARD_BOUNCE, "e@example.net", "5.7.1")]),
        ("postfix-delivered.eml", [(Kind.DELIVERED, "b@example.org", "2.0.0")]),
    ],
)  # fmt: skip
def test_samples_parse_to_events(name: str, expected: list[tuple[Kind, str, str]]) -> None:
    events = parse(sample(name))
    assert [(e.kind, e.email) for e in events] == [(k, m) for k, m, _ in expected]
    for event, (_, _, detail) in zip(events, expected, strict=True):
        assert event.detail and event.detail.startswith(detail), event.detail
        assert event.provider == "dsn" and len(event.event_key) <= 255
    assert parse(sample(name)) == events  # the same message gives the same keys


def test_feedback_loop_abuse_report_is_a_complaint() -> None:
    """RFC 5965 ARF: the recipient redacted from the report is read from the original's To;
    other feedback types are not complaints."""
    events = parse_report(sample("arf-abuse-feedback-loop.eml"))
    assert [(e.provider, e.kind, e.email) for e in events] == [
        ("arf", Kind.COMPLAINT, "b@example.org")
    ]
    assert events[0].detail == "abuse report from ExampleMail-FBL/1.2"
    with_rcpt = sample("arf-abuse-feedback-loop.eml").replace(
        b"Version: 1\n", b"Version: 1\nOriginal-Rcpt-To: <c@example.org>\n"
    )
    assert [e.email for e in parse_report(with_rcpt)] == ["c@example.org"]
    not_spam = sample("arf-abuse-feedback-loop.eml").replace(b"abuse", b"not-spam")
    assert parse_report(not_spam) == []
    redacted = sample("arf-abuse-feedback-loop.eml").replace(b"<b@example.org>", b"[redacted]")
    with pytest.raises(Malformed):
        parse_report(redacted)
    with pytest.raises(NotAReport):
        parse_report(sample("autoreply-not-a-dsn.eml"))


def test_not_a_dsn_and_broken_reports() -> None:
    with pytest.raises(NotADsn):
        parse(sample("autoreply-not-a-dsn.eml"))
    no_recipient = sample("postfix-user-unknown.eml").replace(b"Final-Recipient", b"X-Recipient")
    with pytest.raises(Malformed):
        parse(no_recipient)
    encoded = sample("encoded-report-spam-rejection.eml")
    head, _, _ = encoded.partition(b"Content-Transfer-Encoding: base64\n\n")
    not_a_report = head + b"Content-Transfer-Encoding: base64\n\nbm90IGEgcmVwb3J0\n--==b==--\n"
    with pytest.raises(Malformed):
        parse(not_a_report)
    with pytest.raises(NotADsn):
        parse(b"\x00\xff garbage without headers")


@pytest.mark.parametrize(
    ("action", "status", "kind"),
    [
        ("failed", "5.1.1", Kind.HARD_BOUNCE),  # bad destination mailbox address
        ("failed", "5.7.1", Kind.HARD_BOUNCE),  # delivery not authorised
        ("Failed", "5.1.10 (extra)", Kind.HARD_BOUNCE),
        ("failed", "4.4.1", Kind.SOFT_BOUNCE),  # no answer from host (queue expired)
        ("failed", "5.2.2", Kind.SOFT_BOUNCE),  # RFC 3463: mailbox full is transient
        ("failed", "5.3.1", Kind.SOFT_BOUNCE),  # RFC 3463: mail system full is transient
        ("failed", "", None),
        ("failed", "2.0.0", None),
        ("delayed", "4.4.1", None),  # a warning: still being retried
        ("relayed", "2.0.0", None),
        ("expanded", "2.0.0", None),
        ("delivered", "2.0.0", Kind.DELIVERED),
    ],
)
def test_action_and_status_classification(action: str, status: str, kind: Kind | None) -> None:
    assert kind_of(action, status) == kind


@pytest.fixture
def readers(app: App) -> App:
    with app.sessions.begin() as session:
        for email in READERS:
            add_subscriber(session, SubscriberRecord(email), source="test")
    return app


def state(app: App, email: str) -> tuple[str, int, str | None]:
    with app.sessions() as session:
        row = session.scalars(select(Subscriber).where(Subscriber.email_key == email)).one()
        suppression = session.get(Suppression, email)
        return row.status, row.soft_bounces, suppression.reason if suppression else None


def cli(*args: str, cwd: Path) -> CliResult:
    return run_cli(*args, cwd=cwd, env=dict(os.environ))


def test_import_from_a_maildir_applies_each_report_once(readers: App, tmp_path: Path) -> None:
    box = mailbox.Maildir(tmp_path / "Bounces", create=True)
    names = ["postfix-user-unknown.eml", "postfix-expired-and-quota.eml",
             "postfix-delayed-warning.eml", "exchange-recipient-not-found.eml",
             "encoded-report-spam-rejection.eml", "autoreply-not-a-dsn.eml",
             "arf-abuse-feedback-loop.eml"]  # fmt: skip
    for name in names:
        box.add(sample(name))
    first = cli("bounces", "import", "--json", str(tmp_path / "Bounces"), cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    counts = json.loads(first.stdout)
    assert counts == {"messages": 7, "reports": 6, "ignored": 1, "malformed": 0,
                      "applied": 6, "duplicates": 0, "problems": []}  # fmt: skip
    assert state(readers, "a@example.org") == ("bounced", 0, "hard_bounce")
    assert state(readers, "b@example.org") == ("complained", 1, "complaint")  # ARF + 5.2.2
    assert state(readers, "c@example.org") == ("active", 1, None)
    assert state(readers, "d.reader@contoso.com") == ("bounced", 0, "hard_bounce")
    assert state(readers, "e@example.net") == ("bounced", 0, "hard_bounce")
    again = cli("bounces", "import", str(tmp_path / "Bounces"), cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "0 events applied, 6 already known" in again.stdout
    assert state(readers, "c@example.org") == ("active", 1, None)


def test_import_from_an_mbox_counts_soft_bounces_to_the_limit(readers: App, tmp_path: Path) -> None:
    box = mailbox.mbox(tmp_path / "bounces.mbox", create=True)
    expired = sample("postfix-expired-and-quota.eml")
    for day in (5, 6, 7):  # three editions, three reports (distinct Message-IDs)
        box.add(expired.replace(b"<20261205050340.", f"<2026120{day}050340.".encode()))
    box.flush()
    result = cli("bounces", "import", str(tmp_path / "bounces.mbox"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "3 messages read: 3 bounce reports" in result.stdout
    assert state(readers, "b@example.org") == ("bounced", 3, "soft_bounces")
    assert state(readers, "c@example.org") == ("bounced", 3, "soft_bounces")
    assert state(readers, "a@example.org") == ("active", 0, None)


def test_a_delivery_report_ends_a_run_of_soft_bounces(readers: App, tmp_path: Path) -> None:
    files = [SAMPLES / "postfix-expired-and-quota.eml", SAMPLES / "postfix-delivered.eml"]
    result = cli("bounces", "import", *map(str, files), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert state(readers, "b@example.org") == ("active", 0, None)  # reset by the delivery
    assert state(readers, "c@example.org") == ("active", 1, None)


def test_import_usage_errors(readers: App, tmp_path: Path) -> None:
    missing = cli("bounces", "import", str(tmp_path / "nowhere"), cwd=tmp_path)
    assert missing.returncode == 2 and "no such file" in missing.stderr
    broken = tmp_path / "broken.eml"
    broken.write_bytes(sample("postfix-user-unknown.eml").replace(b"Final-Recipient", b"X-R"))
    result = cli("bounces", "import", str(broken), cwd=tmp_path)
    assert result.returncode == 0 and "1 unreadable" in result.stdout
    assert "broken.eml: the delivery-status report names no recipient" in result.stderr
    assert "Traceback" not in result.stderr
    good = tmp_path / "good.eml"
    good.write_bytes(sample("postfix-user-unknown.eml"))
    empty = tmp_path / "empty-folder"
    (empty / "sub").mkdir(parents=True)
    for paths in ([str(tmp_path / "nowhere"), str(good)], [str(empty), str(good)],
                  [str(good), str(empty)]):  # fmt: skip
        refused = cli("bounces", "import", *paths, cwd=tmp_path)
        assert refused.returncode == 2, (paths, refused.stderr)
    assert "folder without message files" in refused.stderr
    with readers.sessions() as session:  # nothing applied before the refusal
        assert session.scalars(select(Suppression)).first() is None
    unreadable = tmp_path / "unreadable.eml"
    unreadable.write_bytes(sample("postfix-user-unknown.eml").replace(
        b"Status: 5.1.1", b"Status: 5.abc"))  # fmt: skip
    warned = cli("bounces", "import", str(unreadable), cwd=tmp_path)
    assert warned.returncode == 0 and "1 unreadable" in warned.stdout
    assert "unreadable Status '5.abc'" in warned.stderr and "no recipient" not in warned.stderr


def test_failed_recipients_without_a_usable_status_or_address_say_so() -> None:
    with pytest.raises(Malformed, match=r"Action: failed with an unreadable Status '5\.abc'"):
        parse(sample("postfix-user-unknown.eml").replace(b"Status: 5.1.1", b"Status: 5.abc"))
    bad_address = (
        sample("postfix-user-unknown.eml")
        .replace(b"rfc822; a@example.org", b"rfc822; not-an-address")
        .replace(b"Original-Recipient: rfc822;a@example.org\n", b"")
    )
    with pytest.raises(Malformed, match="'rfc822; not-an-address' is not an rfc822 address"):
        parse(bad_address)
    assert parse(sample("postfix-delayed-warning.eml")) == []  # delayed: rightly nothing


def test_inbound_smtp_server_applies_reports_once(readers: App) -> None:
    applier = Applier(readers.sessions, readers.settings.soft_bounce_limit)
    port = free_port()
    controller = serve(applier, "127.0.0.1", port)
    try:
        with smtplib.SMTP("127.0.0.1", port) as smtp:
            for _ in range(2):  # the MTA delivers the same report twice
                refused = smtp.sendmail("", ["bounces@example.ma"],
                                        sample("exchange-recipient-not-found.eml"))  # fmt: skip
                assert refused == {}
            smtp.sendmail("c@example.org", ["bounces@example.ma"],
                          sample("autoreply-not-a-dsn.eml"))  # fmt: skip
    finally:
        controller.stop()
    assert state(readers, "d.reader@contoso.com") == ("bounced", 0, "hard_bounce")
    report = controller.handler.report
    assert (report.messages, report.reports, report.ignored) == (3, 2, 1)
    assert (report.applied, report.duplicates) == (1, 1)
