"""The editors' notices and alerts through a real SMTP server (aiosmtpd): the subject and
the addresses arrive exactly as written, accents and spaces before accented words included
(the ``email`` package's folding lost them: "réformes à" arrived as "réformesà")."""

from __future__ import annotations

from email import message_from_bytes, policy

import pytest

from newsletter.providers.smtp import SMTPProvider
from newsletter.scheduler.mail import editors_message, mail_editors
from newsletter.wiring import App
from tests.conftest import RecordingHandler

EDITORS = {"chef@example.ma": None, "adjoint@example.ma": None}
SUBJECTS = [
    "Le Brief : brouillon du 14 octobre : xxxxxx réformes à relire",  # lost its space
    "Le Brief : brouillon du 14 octobre 2026 à relire : réformes à l'Assemblée nationale",
    "Le Brief : alerte (retard) 14/10 : les réformes à l'Assemblée, à l'Élysée et à Matignon "
    "sont à relire avant l'envoi de 07:00",  # long: folded over several encoded-words
    "Ünïcödé  d'abord   puis   des espaces",  # runs of spaces become one (header-safe)
]


@pytest.mark.parametrize("subject", SUBJECTS)
def test_editors_subject_arrives_exactly(
    app: App, smtp_server: tuple[RecordingHandler, int], subject: str
) -> None:
    handler, port = smtp_server
    settings = app.settings.model_copy(
        update={"editors": EDITORS, "sender": '"Rédaction, Le Brief" <brief@example.ma>'}
    )
    application = App(settings, engine=app.engine,
                      provider=SMTPProvider("127.0.0.1", port, timeout=10))  # fmt: skip
    body = "Le brouillon est prêt : https://example.ma/editor/editions/2026-10-14\nÀ bientôt."
    assert mail_editors(application, subject, body) == 2
    assert sorted(r for m in handler.messages for r in m.rcpt_tos) == sorted(EDITORS)
    for received in handler.messages:
        raw = received.data
        assert all(len(line) <= 78 for line in raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n"))
        message = message_from_bytes(raw, policy=policy.default)
        assert message["Subject"] == " ".join(subject.split())
        assert message["From"].addresses[0].display_name == "Rédaction, Le Brief"
        assert message["From"].addresses[0].addr_spec == "brief@example.ma"
        assert message["To"].addresses[0].addr_spec in EDITORS
        assert message["Auto-Submitted"] == "auto-generated"
        assert message.get_content().replace("\r\n", "\n") == body + "\n"


def test_editors_message_refuses_header_injection(app: App) -> None:
    raw = editors_message(app, "chef@example.ma", "ok\r\nBcc: x@example.org", "body")
    message = message_from_bytes(raw, policy=policy.default)
    assert message["Bcc"] is None
    assert "\n" not in message["Subject"] and message["Subject"].endswith("x@example.org")


def test_confirmation_subject_and_names_arrive_exactly(app: App) -> None:
    from newsletter.audience.signup import confirmation_message
    from newsletter.words import say

    title = "Le Brief : xxxxxx réformes à relire"
    raw = confirmation_message(
        app.links, subscriber_id=7, email="lectrice@example.org", title=title,
        sender_name="Rédaction, Le Brief", sender_address="brief@example.ma", days=7,
    )  # fmt: skip
    message = message_from_bytes(raw, policy=policy.default)
    assert message["Subject"] == say("signup.subject", "fr", title=title)
    assert message["From"].addresses[0].display_name == "Rédaction, Le Brief"
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "/c/" in text and "7 jours" in text
    assert "<a" in message.get_body(preferencelist=("html",)).get_content()
