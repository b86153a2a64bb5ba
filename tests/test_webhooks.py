"""Provider webhooks through the real ASGI app (httpx's ASGI transport) with real crypto:
each provider's correctly signed event changes a subscriber exactly once (sent twice), a
forged or stale one gets 401/403 and changes nothing, a malformed one 400; soft bounces are
counted to the limit; SNS certificates come from an injected fetcher serving our own
certificate, and subscriptions are confirmed through an injected httpx client."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import os
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID
from sqlalchemy import func, select

from newsletter.store.models import ProviderEvent, Subscriber, Suppression
from newsletter.store.subscribers import SubscriberRecord, add_subscriber
from newsletter.web.app import create_app
from newsletter.web.webhooks import Webhooks
from newsletter.wiring import App

READERS = ("a@example.org", "b@example.org", "c@example.org")
MAILGUN_KEY = "mailgun-signing-key-0123456789abcdef"
POSTMARK = ("postmark-hooks", "a-long-postmark-password-0123")
RESEND_KEY = os.urandom(24)
RESEND_SECRET = "whsec_" + base64.b64encode(RESEND_KEY).decode()
TOPIC = "arn:aws:sns:eu-west-1:123456789012:ses-events"
CERT_URL = "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-0123abcd.pem"

SENDGRID_KEY = ec.generate_private_key(ec.SECP256R1())
SENDGRID_PUBLIC = base64.b64encode(
    SENDGRID_KEY.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
).decode()


def _certificate(key: rsa.RSAPrivateKey, name: str) -> bytes:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


SNS_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
SNS_CERT = _certificate(SNS_KEY, "sns.amazonaws.com")


# --- a synchronous driver of the ASGI app ----------------------------------------------------
class Client:
    """Each call is one real ASGI request through httpx's ASGI transport."""

    def __init__(self, asgi: object) -> None:
        self.asgi = asgi

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.asgi)  # type: ignore[arg-type]
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                return await client.post(path, **kwargs)

        return asyncio.run(go())


class SnsStandIn:
    """Stands in for SNS: serves certificates by URL (counting fetches) and records the
    subscription-confirmation GETs through an httpx.MockTransport."""

    def __init__(self) -> None:
        self.certificates = {CERT_URL: SNS_CERT}
        self.fetched: list[str] = []
        self.confirmed: list[str] = []
        self.http = httpx.Client(transport=httpx.MockTransport(self.handle))

    def fetch(self, url: str) -> bytes:
        self.fetched.append(url)
        if url not in self.certificates:
            raise httpx.HTTPStatusError("404", request=httpx.Request("GET", url),
                                        response=httpx.Response(404))  # fmt: skip
        return self.certificates[url]

    def handle(self, request: httpx.Request) -> httpx.Response:
        assert request.method == "GET"
        assert request.url.host == "sns.eu-west-1.amazonaws.com"
        assert request.url.params["Action"] == "ConfirmSubscription"
        self.confirmed.append(str(request.url))
        return httpx.Response(200, text="<ConfirmSubscriptionResponse/>")


@pytest.fixture(autouse=True)
def webhook_secrets(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every provider's secret, set as an operator would (before the settings are read)."""
    monkeypatch.setenv("NEWSLETTER_MAILGUN_WEBHOOK_KEY", MAILGUN_KEY)
    monkeypatch.setenv("NEWSLETTER_SENDGRID_WEBHOOK_PUBLIC_KEY", SENDGRID_PUBLIC)
    monkeypatch.setenv("NEWSLETTER_POSTMARK_WEBHOOK_USER", POSTMARK[0])
    monkeypatch.setenv("NEWSLETTER_POSTMARK_WEBHOOK_PASSWORD", POSTMARK[1])
    monkeypatch.setenv("NEWSLETTER_RESEND_WEBHOOK_SECRET", RESEND_SECRET)
    monkeypatch.setenv("NEWSLETTER_SES_SNS_TOPIC_ARN", TOPIC)


@pytest.fixture
def sns_stand_in() -> SnsStandIn:
    return SnsStandIn()


@pytest.fixture
def client(app: App, sns_stand_in: SnsStandIn) -> Client:
    with app.sessions.begin() as session:
        for email in READERS:
            add_subscriber(session, SubscriberRecord(email), source="test")
    hooks = Webhooks(app, fetch_certificate=sns_stand_in.fetch, http=sns_stand_in.http)
    return Client(create_app(app, hooks))


def state(app: App, email: str) -> tuple[str, int, str | None]:
    """(status, soft bounces, suppression reason) of ``email``."""
    with app.sessions() as session:
        row = session.scalars(select(Subscriber).where(Subscriber.email == email)).one()
        suppression = session.get(Suppression, email.lower())
        return row.status, row.soft_bounces, suppression.reason if suppression else None


def event_rows(app: App) -> int:
    with app.sessions() as session:
        return session.scalar(select(func.count()).select_from(ProviderEvent)) or 0


UNTOUCHED = ("active", 0, None)


# --- signing, as each provider documents it --------------------------------------------------
def mailgun_body(event: dict[str, Any], *, key: str = MAILGUN_KEY, age: float = 0,
                 token: str | None = None) -> bytes:  # fmt: skip
    timestamp = str(int(time.time() - age))
    token = token or uuid.uuid4().hex + uuid.uuid4().hex[:18]
    signature = hmac.new(key.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()
    return json.dumps(
        {
            "signature": {"timestamp": timestamp, "token": token, "signature": signature},
            "event-data": event,
        }
    ).encode()


def mailgun_failed(email: str, severity: str = "permanent", event_id: str = "mg-1") -> dict:
    return {
        "event": "failed", "severity": severity, "id": event_id, "recipient": email,
        "timestamp": time.time(), "reason": "bounce",
        "delivery-status": {"code": 550, "message": "5.1.1 The email account does not exist"},
    }  # fmt: skip


def sendgrid_request(events: list[dict], *, key: ec.EllipticCurvePrivateKey = SENDGRID_KEY,
                     age: float = 0) -> dict[str, Any]:  # fmt: skip
    body = json.dumps(events).encode()
    timestamp = str(int(time.time() - age))
    signature = key.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    return {
        "content": body,
        "headers": {
            "Content-Type": "application/json",
            "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
            "X-Twilio-Email-Event-Webhook-Timestamp": timestamp,
        },
    }


def postmark_request(payload: object, credentials: tuple[str, str] = POSTMARK) -> dict:
    token = base64.b64encode(":".join(credentials).encode()).decode()
    return {
        "content": json.dumps(payload).encode(),
        "headers": {"Authorization": f"Basic {token}", "Content-Type": "application/json"},
    }


def resend_request(payload: object, *, key: bytes = RESEND_KEY, age: float = 0,
                   message_id: str = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W") -> dict:  # fmt: skip
    body = json.dumps(payload).encode()
    timestamp = str(int(time.time() - age))
    digest = hmac.new(key, f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256)
    return {
        "content": body,
        "headers": {
            "svix-id": message_id,
            "svix-timestamp": timestamp,
            "svix-signature": "v1,bm90LXRoaXMtb25l v1,"
            + base64.b64encode(digest.digest()).decode(),
        },
    }


#: The signed fields of each SNS message type, in the documented order.
SNS_FIELDS = {
    "Notification": ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"],
    "SubscriptionConfirmation": [
        "Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"
    ],
}  # fmt: skip


def sns_request(kind: str, fields: dict[str, str], *, version: str = "1",
                key: rsa.RSAPrivateKey = SNS_KEY, topic: str = TOPIC,
                cert_url: str = CERT_URL) -> dict:  # fmt: skip
    message = {
        "Type": kind, "MessageId": str(uuid.uuid4()), "TopicArn": topic,
        "Timestamp": "2026-11-30T05:00:00.000Z", "SignatureVersion": version,
        "SigningCertURL": cert_url, **fields,
    }  # fmt: skip
    text = "".join(f"{name}\n{message[name]}\n" for name in SNS_FIELDS[kind] if name in message)
    digest = hashes.SHA1() if version == "1" else hashes.SHA256()
    message["Signature"] = base64.b64encode(
        key.sign(text.encode(), padding.PKCS1v15(), digest)
    ).decode()
    return {
        "content": json.dumps(message).encode(),
        "headers": {"x-amz-sns-message-type": kind, "Content-Type": "text/plain; charset=UTF-8"},
    }


def ses_bounce(email: str, bounce_type: str = "Permanent", feedback: str = "fb-1") -> str:
    return json.dumps({
        "notificationType": "Bounce",
        "bounce": {
            "bounceType": bounce_type, "bounceSubType": "General", "feedbackId": feedback,
            "timestamp": "2026-11-30T05:00:00.000Z",
            "reportingMTA": "dsn; a1-2.smtp-out.amazonses.com",
            "bouncedRecipients": [{"emailAddress": email, "action": "failed", "status": "5.1.1",
                                   "diagnosticCode": "smtp; 550 5.1.1 user unknown"}],
        },
        "mail": {"messageId": "0102018b-ses-message", "source": "newsletter@example.ma",
                 "destination": [email]},
    })  # fmt: skip


# --- each provider: once, twice, forged, malformed --------------------------------------------
def test_mailgun_hard_bounce_applies_once(app: App, client: Client) -> None:
    body = mailgun_body(mailgun_failed("A@example.org"))
    first = client.post("/webhooks/mailgun", content=body)
    assert first.status_code == 200 and first.json() == {"events": 1, "applied": 1, "duplicates": 0}
    assert state(app, "a@example.org") == ("bounced", 0, "hard_bounce")
    # Mailgun retries with a new token and signature: the same event id changes nothing.
    again = client.post("/webhooks/mailgun", content=mailgun_body(mailgun_failed("a@example.org")))
    assert again.json() == {"events": 1, "applied": 0, "duplicates": 1}
    assert event_rows(app) == 1


def test_mailgun_forged_stale_replayed_and_malformed(app: App, client: Client) -> None:
    forged = mailgun_body(mailgun_failed("b@example.org"), key="not-the-key-0123456789")
    assert client.post("/webhooks/mailgun", content=forged).status_code == 401
    stale = mailgun_body(mailgun_failed("b@example.org"), age=3600)
    assert client.post("/webhooks/mailgun", content=stale).status_code == 401
    unsigned = json.dumps({"event-data": mailgun_failed("b@example.org")}).encode()
    assert client.post("/webhooks/mailgun", content=unsigned).status_code == 400
    assert client.post("/webhooks/mailgun", content=b"{not json").status_code == 400
    assert state(app, "b@example.org") == UNTOUCHED and event_rows(app) == 0
    genuine = mailgun_body(mailgun_failed("c@example.org", "temporary", "mg-2"), token="t" * 50)
    assert client.post("/webhooks/mailgun", content=genuine).status_code == 200
    replay = mailgun_body(mailgun_failed("b@example.org", event_id="mg-3"), token="t" * 50)
    assert client.post("/webhooks/mailgun", content=replay).status_code == 403
    assert state(app, "b@example.org") == UNTOUCHED
    assert state(app, "c@example.org") == ("active", 1, None)
    signed_but_bad = mailgun_body({"event": "failed", "severity": "permanent", "id": "x"})
    assert client.post("/webhooks/mailgun", content=signed_but_bad).status_code == 400


def test_sendgrid_batch_applies_each_event_once(app: App, client: Client) -> None:
    batch = [
        {"email": "a@example.org", "timestamp": 1764478800, "event": "processed",
         "sg_event_id": "sg-0", "sg_message_id": "m0"},
        {"email": "a@example.org", "timestamp": 1764478801, "event": "bounce", "type": "bounce",
         "status": "5.1.1", "reason": "550 5.1.1 unknown user", "sg_event_id": "sg-1"},
        {"email": "b@example.org", "timestamp": 1764478802, "event": "spamreport",
         "sg_event_id": "sg-2"},
        {"email": "c@example.org", "timestamp": 1764478803, "event": "group_unsubscribe",
         "asm_group_id": 7, "sg_event_id": "sg-3"},
    ]  # fmt: skip
    first = client.post("/webhooks/sendgrid", **sendgrid_request(batch))
    assert first.status_code == 200 and first.json()["applied"] == 3
    assert state(app, "a@example.org") == ("bounced", 0, "hard_bounce")
    assert state(app, "b@example.org") == ("complained", 0, "complaint")
    assert state(app, "c@example.org") == ("unsubscribed", 0, None)
    again = client.post("/webhooks/sendgrid", **sendgrid_request(batch))
    assert again.json() == {"events": 3, "applied": 0, "duplicates": 3}
    assert event_rows(app) == 3


def test_sendgrid_forged_stale_and_malformed(app: App, client: Client) -> None:
    batch = [{"email": "a@example.org", "event": "bounce", "type": "bounce", "sg_event_id": "x"}]
    other_key = ec.generate_private_key(ec.SECP256R1())
    assert (
        client.post("/webhooks/sendgrid", **sendgrid_request(batch, key=other_key)).status_code
        == 401
    )
    assert client.post("/webhooks/sendgrid", **sendgrid_request(batch, age=3600)).status_code == 401
    request = sendgrid_request(batch)
    request["content"] = request["content"].replace(b"a@example", b"b@example")  # tampered
    assert client.post("/webhooks/sendgrid", **request).status_code == 401
    unsigned = json.dumps(batch).encode()
    assert client.post("/webhooks/sendgrid", content=unsigned).status_code == 401
    assert (
        client.post("/webhooks/sendgrid", **sendgrid_request({"not": "a list"})).status_code == 400
    )  # type: ignore[arg-type]
    not_events = [{"email": "a@example.org", "sg_event_id": "x"}, "bounce"]
    assert client.post("/webhooks/sendgrid", **sendgrid_request(not_events)).status_code == 400
    # One unreadable entry is skipped; the rest of the batch is applied (no endless retry).
    odd = [
        {"email": "a@example.org", "event": "bounce", "type": "bounce"},  # no sg_event_id
        {"email": "not an address", "event": "spamreport", "sg_event_id": "y"},
        {"email": "c@example.org", "event": "unsubscribe", "sg_event_id": "z"},
    ]
    response = client.post("/webhooks/sendgrid", **sendgrid_request(odd))
    assert response.status_code == 200 and response.json()["applied"] == 1
    assert state(app, "c@example.org") == ("unsubscribed", 0, None)
    assert event_rows(app) == 1
    assert state(app, "a@example.org") == UNTOUCHED


def test_sendgrid_batches_may_exceed_the_app_body_limit(app: App, client: Client) -> None:
    """SendGrid posts up to 768 KB: its route takes up to 1 MiB; other routes keep 64 KB."""
    filler = [{"email": f"r{i}@example.org", "event": "open", "sg_event_id": f"o{i}",
               "useragent": "Mozilla/5.0 " * 10} for i in range(2500)]  # fmt: skip
    batch = [*filler, {"email": "a@example.org", "event": "bounce", "type": "bounce",
                       "sg_event_id": "big-1"}]  # fmt: skip
    request = sendgrid_request(batch)
    assert 64 * 1024 < len(request["content"]) < 1024 * 1024
    assert client.post("/webhooks/sendgrid", **request).status_code == 200
    assert state(app, "a@example.org")[2] == "hard_bounce"
    assert client.post("/webhooks/postmark", content=b"x" * (65 * 1024)).status_code == 413
    huge = sendgrid_request([{"event": "open", "pad": "x" * (1100 * 1024)}])
    assert client.post("/webhooks/sendgrid", **huge).status_code == 413


def test_postmark_bounce_complaint_and_subscription_change(app: App, client: Client) -> None:
    bounce = {
        "RecordType": "Bounce", "MessageStream": "broadcast", "ID": 4323372036854775807,
        "Type": "HardBounce", "TypeCode": 1, "Name": "Hard bounce", "Tag": "2026-11-30",
        "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483", "ServerID": 23,
        "Description": "The server was unable to deliver your message (ex: unknown user).",
        "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
        "Email": "a@example.org", "From": "newsletter@example.ma",
        "BouncedAt": "2026-11-30T05:00:00.907Z", "Inactive": True, "CanActivate": True,
    }  # fmt: skip
    for expected in ({"events": 1, "applied": 1, "duplicates": 0},
                     {"events": 1, "applied": 0, "duplicates": 1}):  # fmt: skip
        response = client.post("/webhooks/postmark", **postmark_request(bounce))
        assert response.status_code == 200 and response.json() == expected
    assert state(app, "a@example.org") == ("bounced", 0, "hard_bounce")
    complaint = {"RecordType": "SpamComplaint", "ID": 42, "Type": "SpamComplaint",
                 "TypeCode": 512, "Email": "b@example.org"}  # fmt: skip
    assert client.post("/webhooks/postmark", **postmark_request(complaint)).status_code == 200
    assert state(app, "b@example.org") == ("complained", 0, "complaint")
    change = {
        "RecordType": "SubscriptionChange", "MessageID": "a4909a96-73d8-4dbb-a7b1-33fa6b6c24c5",
        "ServerID": 23, "MessageStream": "broadcast", "ChangedAt": "2026-11-30T05:10:00Z",
        "Recipient": "c@example.org", "Origin": "Recipient", "SuppressSending": True,
        "SuppressionReason": "ManualSuppression", "Tag": "", "Metadata": {},
    }  # fmt: skip
    assert client.post("/webhooks/postmark", **postmark_request(change)).status_code == 200
    assert state(app, "c@example.org") == ("unsubscribed", 0, None)
    assert event_rows(app) == 3


def test_postmark_wrong_credentials_and_malformed(app: App, client: Client) -> None:
    bounce = {"RecordType": "Bounce", "ID": 1, "Type": "HardBounce", "Email": "a@example.org"}
    wrong = client.post(
        "/webhooks/postmark", **postmark_request(bounce, ("postmark-hooks", "guess"))
    )
    assert wrong.status_code == 401 and wrong.headers["www-authenticate"].startswith("Basic")
    request = postmark_request(bounce)
    del request["headers"]["Authorization"]
    assert client.post("/webhooks/postmark", **request).status_code == 401
    bearer = postmark_request(bounce)
    bearer["headers"]["Authorization"] = "Bearer " + POSTMARK[1]
    assert client.post("/webhooks/postmark", **bearer).status_code == 401
    assert client.post("/webhooks/postmark", **postmark_request([bounce])).status_code == 400
    no_email = {"RecordType": "Bounce", "ID": 2, "Type": "HardBounce"}
    assert client.post("/webhooks/postmark", **postmark_request(no_email)).status_code == 400
    bad = postmark_request(bounce)
    bad["content"] = b"\xff\xfe not json"
    assert client.post("/webhooks/postmark", **bad).status_code == 400
    assert state(app, "a@example.org") == UNTOUCHED and event_rows(app) == 0


def test_resend_bounce_once_then_forged_stale_malformed(app: App, client: Client) -> None:
    payload = {
        "type": "email.bounced", "created_at": "2026-11-30T05:00:12.126Z",
        "data": {
            "created_at": "2026-11-30T05:00:11.894Z",
            "email_id": "56761188-7520-42d8-8898-ff6fc54ce618",
            "from": "Le Brief <newsletter@example.ma>", "to": ["a@example.org"],
            "subject": "Le Brief du 30 novembre",
            "bounce": {"message": "The recipient's mailbox does not exist.",
                       "subType": "General", "type": "Permanent"},
        },
    }  # fmt: skip
    for applied in (1, 0):
        response = client.post("/webhooks/resend", **resend_request(payload))
        assert response.status_code == 200 and response.json()["applied"] == applied
    assert state(app, "a@example.org") == ("bounced", 0, "hard_bounce")
    complaint = {"type": "email.complained", "data": {"to": ["b@example.org"]}}
    forged = resend_request(complaint, key=os.urandom(24), message_id="msg_2")
    assert client.post("/webhooks/resend", **forged).status_code == 401
    stale = resend_request(complaint, age=3600, message_id="msg_3")
    assert client.post("/webhooks/resend", **stale).status_code == 401
    unsigned = resend_request(complaint, message_id="msg_4")
    unsigned["headers"]["svix-signature"] = ""
    assert client.post("/webhooks/resend", **unsigned).status_code == 401
    assert (
        client.post("/webhooks/resend", **resend_request(["x"], message_id="m5")).status_code == 400
    )
    no_to = {"type": "email.complained", "data": {}}
    assert (
        client.post("/webhooks/resend", **resend_request(no_to, message_id="m6")).status_code == 400
    )
    assert state(app, "b@example.org") == UNTOUCHED and event_rows(app) == 1
    genuine = resend_request(complaint, message_id="msg_7")
    assert client.post("/webhooks/resend", **genuine).status_code == 200
    assert state(app, "b@example.org") == ("complained", 0, "complaint")


@pytest.mark.parametrize("version", ["1", "2"])
def test_ses_through_sns_applies_once(
    app: App, client: Client, sns_stand_in: SnsStandIn, version: str
) -> None:
    request = sns_request("Notification", {"Message": ses_bounce("a@example.org")}, version=version)
    for applied in (1, 0):  # SNS redelivers the very same message
        response = client.post("/webhooks/ses", **request)
        assert response.status_code == 200 and response.json()["applied"] == applied
    assert state(app, "a@example.org") == ("bounced", 0, "hard_bounce")
    complaint = json.dumps({
        "notificationType": "Complaint",
        "complaint": {"feedbackId": "fb-2", "complaintFeedbackType": "abuse",
                      "complainedRecipients": [{"emailAddress": "b@example.org"}],
                      "timestamp": "2026-11-30T05:01:00.000Z"},
        "mail": {"messageId": "m-2"},
    })  # fmt: skip
    response = client.post(
        "/webhooks/ses",
        **sns_request("Notification", {"Message": complaint, "Subject": "x"}, version=version),
    )
    assert response.status_code == 200
    assert state(app, "b@example.org") == ("complained", 0, "complaint")
    assert sns_stand_in.fetched == [CERT_URL]  # fetched once, then cached


def test_ses_forged_foreign_and_malformed(
    app: App, client: Client, sns_stand_in: SnsStandIn
) -> None:
    message = {"Message": ses_bounce("a@example.org")}
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert (
        client.post("/webhooks/ses", **sns_request("Notification", message, key=other)).status_code
        == 401
    )
    tampered = sns_request("Notification", message)
    tampered["content"] = tampered["content"].replace(b"a@example.org", b"c@example.org")
    assert client.post("/webhooks/ses", **tampered).status_code == 401
    evil = "https://sns.eu-west-1.amazonaws.com.evil.example/cert.pem"
    assert (
        client.post(
            "/webhooks/ses", **sns_request("Notification", message, cert_url=evil)
        ).status_code
        == 401
    )
    plain_http = CERT_URL.replace("https:", "http:")
    assert (
        client.post(
            "/webhooks/ses", **sns_request("Notification", message, cert_url=plain_http)
        ).status_code
        == 401
    )
    assert sns_stand_in.fetched == [CERT_URL]  # never fetched from elsewhere
    foreign = sns_request("Notification", message, topic="arn:aws:sns:eu-west-1:999999999999:x")
    assert client.post("/webhooks/ses", **foreign).status_code == 403
    version3 = sns_request("Notification", message)
    version3["content"] = version3["content"].replace(
        b'"SignatureVersion": "1"', b'"SignatureVersion": "3"'
    )
    assert client.post("/webhooks/ses", **version3).status_code == 401
    not_ses = sns_request("Notification", {"Message": "Hello from the SNS console"})
    assert client.post("/webhooks/ses", **not_ses).status_code == 400
    assert client.post("/webhooks/ses", content=b"[1, 2]").status_code == 400
    assert state(app, "a@example.org") == UNTOUCHED and event_rows(app) == 0


def test_sns_subscription_is_confirmed_only_once_verified(
    app: App, client: Client, sns_stand_in: SnsStandIn
) -> None:
    url = ("https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription"
           f"&TopicArn={TOPIC}&Token=2336412f37fb687f5d51e6e2425")  # fmt: skip
    fields = {"Message": "You have chosen to subscribe to the topic.", "SubscribeURL": url,
              "Token": "2336412f37fb687f5d51e6e2425"}  # fmt: skip
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = sns_request("SubscriptionConfirmation", fields, key=other)
    assert client.post("/webhooks/ses", **forged).status_code == 401
    assert sns_stand_in.confirmed == []
    elsewhere = dict(fields, SubscribeURL="https://attacker.example/?Action=ConfirmSubscription")
    assert (
        client.post(
            "/webhooks/ses", **sns_request("SubscriptionConfirmation", elsewhere)
        ).status_code
        == 401
    )
    assert sns_stand_in.confirmed == []
    response = client.post("/webhooks/ses", **sns_request("SubscriptionConfirmation", fields))
    assert response.status_code == 200 and sns_stand_in.confirmed == [url]


def test_soft_bounces_suppress_after_the_limit_in_a_row(app: App, client: Client) -> None:
    def soft(event_id: str) -> int:
        body = mailgun_body(mailgun_failed("a@example.org", "temporary", event_id))
        return client.post("/webhooks/mailgun", content=body).status_code

    def delivered(event_id: str) -> int:
        event = {"event": "delivered", "id": event_id, "recipient": "a@example.org"}
        return client.post("/webhooks/mailgun", content=mailgun_body(event)).status_code

    assert soft("s1") == soft("s2") == 200
    assert state(app, "a@example.org") == ("active", 2, None)
    assert soft("s2") == 200  # a retry of the second: not counted again
    assert state(app, "a@example.org") == ("active", 2, None)
    assert delivered("d1") == 200  # a delivery ends the run
    assert state(app, "a@example.org") == ("active", 0, None)
    assert delivered("d2") == 200  # nothing to reset: not even recorded
    assert soft("s3") == soft("s4") == 200
    assert state(app, "a@example.org") == ("active", 2, None)
    assert soft("s5") == 200  # the third in a row (NEWSLETTER_SOFT_BOUNCE_LIMIT=3)
    assert state(app, "a@example.org") == ("bounced", 3, "soft_bounces")
    assert event_rows(app) == 6


def test_unconfigured_and_unknown_providers_answer_404(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NEWSLETTER_MAILGUN_WEBHOOK_KEY")
    application = App(app.settings.model_copy(update={"mailgun_webhook_key": None}),
                      engine=app.engine)  # fmt: skip
    bare = Client(create_app(application))
    body = mailgun_body(mailgun_failed("a@example.org"))
    assert bare.post("/webhooks/mailgun", content=body).status_code == 404
    assert bare.post("/webhooks/sparkpost", content=b"{}").status_code == 404
    assert event_rows(app) == 0


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("NEWSLETTER_SENDGRID_WEBHOOK_PUBLIC_KEY", "bm90IGEga2V5", "ECDSA P-256"),
        ("NEWSLETTER_RESEND_WEBHOOK_SECRET", "whsec_***", "whsec_"),
        ("NEWSLETTER_SES_SNS_TOPIC_ARN", "ses-events", "SNS topic ARN"),
        ("NEWSLETTER_POSTMARK_WEBHOOK_PASSWORD", "short", "at least 16"),
        ("NEWSLETTER_SOFT_BOUNCE_LIMIT", "0", "greater than or equal to 1"),
    ],
)
def test_bad_webhook_settings_are_named(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    from newsletter.config.settings import ConfigError, load_settings

    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError, match=f"{variable}: .*{message}"):
        load_settings()


def test_postmark_credentials_go_together(monkeypatch: pytest.MonkeyPatch) -> None:
    from newsletter.config.settings import ConfigError, load_settings

    monkeypatch.delenv("NEWSLETTER_POSTMARK_WEBHOOK_PASSWORD")
    with pytest.raises(ConfigError, match="NEWSLETTER_POSTMARK_WEBHOOK_PASSWORD: set together"):
        load_settings()
    monkeypatch.delenv("NEWSLETTER_POSTMARK_WEBHOOK_USER")
    assert load_settings().postmark_webhook_password is None
    pem = SENDGRID_KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    monkeypatch.setenv("NEWSLETTER_SENDGRID_WEBHOOK_PUBLIC_KEY", pem.decode())
    assert load_settings().sendgrid_webhook_public_key.startswith("-----BEGIN")  # type: ignore[union-attr]


def test_a_bounced_reader_is_not_mailed_again(app: App, client: Client) -> None:
    """The loop closed: after a provider's hard bounce, the next edition skips the reader."""
    body = mailgun_body(mailgun_failed("b@example.org"))
    assert client.post("/webhooks/mailgun", content=body).status_code == 200
    day = date(2026, 3, 25)
    app.ingest.sample(day)
    assert app.release.send(day).run.sent == 2
    folder = app.settings.effective_outbox_dir / day.isoformat()
    recipients = sorted(
        str(message_from_bytes(path.read_bytes(), policy=policy.default)["To"])
        for path in folder.glob("*.eml")
    )
    assert recipients == ["a@example.org", "c@example.org"]


def test_twin_deliveries_at_the_same_time_apply_once(app: App) -> None:
    """A provider that retries while the first request is still being handled: the unique
    (provider, event_key) lets one win; the other's effect is rolled back."""
    from concurrent.futures import ThreadPoolExecutor

    from newsletter.feedback.apply import apply_event
    from newsletter.feedback.webhooks import Event, Kind

    with app.sessions.begin() as session:
        add_subscriber(session, SubscriberRecord("a@example.org"), source="test")
    event = Event("mailgun", "twin-1", Kind.SOFT_BOUNCE, "a@example.org", "452 4.2.2 full")
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(
            pool.map(lambda _: apply_event(app.sessions, event, soft_bounce_limit=3), range(8))
        )
    assert sorted(r.duplicate for r in results) == [False] + [True] * 7
    assert state(app, "a@example.org") == ("active", 1, None) and event_rows(app) == 1
