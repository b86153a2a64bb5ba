"""HTTP mail providers: each sends a real edition to a stand-in (``httpx.MockTransport``)
that checks the documented request (method, URL, auth, body) and answers as the provider
does; 429, 5xx, timeouts and 4xx end in the right delivery states; the daily cap, the
pause after repeated errors and the failover provider."""

from __future__ import annotations

import base64
import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from newsletter.config.settings import ConfigError, Settings, load_settings
from newsletter.providers.base import Provider
from newsletter.providers.failover import FailoverProvider
from newsletter.providers.http import (
    MAX_WAIT_SECONDS,
    RetryPolicy,
    parse_reset,
    parse_retry_after,
)
from newsletter.providers.mailgun import MailgunProvider
from newsletter.providers.message import parse_message
from newsletter.providers.postmark import PostmarkProvider
from newsletter.providers.registry import make_provider
from newsletter.providers.resend import ResendProvider
from newsletter.providers.sendgrid import SendGridProvider
from newsletter.render.headers import address_line
from newsletter.store.models import Delivery, Suppression
from newsletter.store.subscribers import SubscriberRecord, add_subscriber
from newsletter.wiring import App
from tests.batch_standins import Call, expand
from tests.conftest import run_cli

DAY = date(2026, 3, 25)
TOKEN = "pm-server-token-0123"
NOW = 1_900_000_000.0  # the fake clock's start (seconds since the epoch)


def prepare(app: App, subscribers: int = 5) -> list[str]:
    """Sample articles, ``subscribers`` readers and the draft of :data:`DAY`."""
    app.ingest.sample(DAY)
    addresses = [f"reader{n}@example.org" for n in range(subscribers)]
    with app.sessions.begin() as session:
        for n, address in enumerate(addresses):
            add_subscriber(session, SubscriberRecord(address, name=f"Lecteur {n}"), source="test")
    assert app.composer.compose(DAY).edition.items
    return addresses


def rows(app: App) -> dict[str, int]:
    """Deliveries per status."""
    with app.sessions() as session:
        return dict(Counter(session.scalars(select(Delivery.status))))


def deliveries(app: App) -> dict[str, Delivery]:
    """Deliveries by address."""
    with app.sessions() as session:
        return {d.email: d for d in session.scalars(select(Delivery))}


def with_settings(app: App, **changes: Any) -> Settings:
    """``app``'s settings (its database comes from the environment) with ``changes``,
    validated as an operator's would be."""
    settings = load_settings(**changes)
    assert settings.effective_database_url == app.settings.effective_database_url
    return settings


class FakeTime:
    """A clock that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = NOW
        self.waits: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


def check_personal_headers(headers: dict[str, str], html: str | None, recipient: str) -> None:
    """The per-recipient headers we wrote reached the provider intact."""
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = headers["List-Unsubscribe"]
    assert unsubscribe.startswith("<http://localhost:8000/u/") and unsubscribe.endswith(">")
    assert html is not None and unsubscribe[1:-1] in html  # the same signed link as the body
    assert headers["List-Id"].endswith("<brief.example.ma>")
    message_id = headers.get("Message-ID") or headers.get("Message-Id") or ""
    assert message_id.startswith(f"<{DAY.isoformat()}.")
    assert recipient in (html or "")


# --- stand-ins ------------------------------------------------------------------------------
def as_call(request: httpx.Request) -> Any:
    """``request`` as the batch stand-ins of ``benchmarks/standins.py`` read it."""
    return Call(
        request.url.path, {k.lower(): v for k, v in request.headers.items()}, request.read()
    )


@dataclass
class StandIn:
    """Records requests and the problems found in them; ``script`` answers the next calls
    before the normal handling (a response, or an exception to raise)."""

    problems: list[str] = field(default_factory=list)
    requests: list[httpx.Request] = field(default_factory=list)
    script: list[httpx.Response | Exception] = field(default_factory=list)
    refuse: dict[str, tuple[int, str]] = field(default_factory=dict)  # address -> code, text
    sent: list[str] = field(default_factory=list)

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.script:
            answer = self.script.pop(0)
            if isinstance(answer, Exception):
                raise answer
            return answer
        return self.answer(request)

    def answer(self, request: httpx.Request) -> httpx.Response:
        raise NotImplementedError

    def expect(self, condition: bool, problem: str) -> None:
        if not condition:
            self.problems.append(problem)

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self.handler))


class PostmarkStandIn(StandIn):
    """Postmark's ``/email/batch``: token header, JSON array of at most 500, 200 with one
    result per message (``ErrorCode`` 0 or the refusal)."""

    def answer(self, request: httpx.Request) -> httpx.Response:
        self.expect(request.method == "POST", f"method {request.method}")
        self.expect(request.url.path == "/email/batch", f"path {request.url.path}")
        self.expect(request.headers.get("Content-Type") == "application/json", "content type")
        self.expect(request.headers.get("Accept") == "application/json", "accept")
        if request.headers.get("X-Postmark-Server-Token") != TOKEN:
            return httpx.Response(
                401, json={"ErrorCode": 10, "Message": "The Server Token you provided was invalid."}
            )
        messages = json.loads(request.content)
        self.expect(isinstance(messages, list) and 0 < len(messages) <= 500, "batch size")
        results = []
        for message in messages:
            for key in ("From", "To", "Subject", "HtmlBody", "TextBody", "MessageStream"):
                self.expect(isinstance(message.get(key), str) and message[key], f"{key} missing")
            self.expect(message["MessageStream"] == "broadcast", "stream")
            headers = {h["Name"]: h["Value"] for h in message["Headers"]}
            address = message["To"].rpartition("<")[2].rstrip(">")
            check_personal_headers(headers, message["HtmlBody"], address)
            self.expect(message["From"] == '"Le Brief" <newsletter@example.ma>', "From")
            self.expect(message["Metadata"]["delivery_id"].isdigit(), "metadata")
            if address in self.refuse:
                code, text = self.refuse[address]
                results.append({"ErrorCode": code, "Message": text, "To": message["To"]})
                continue
            self.sent.append(address)
            results.append(
                {"ErrorCode": 0, "Message": "OK", "MessageID": f"pm-{len(self.sent)}",
                 "To": message["To"], "SubmittedAt": "2026-03-25T07:00:00Z"}
            )  # fmt: skip
        return httpx.Response(200, json=results)


class SendGridStandIn(StandIn):
    """SendGrid's ``/v3/mail/send``: Bearer key, up to 1,000 personalizations, text before
    HTML; each personalization expanded with its substitutions and headers; 202 with
    ``X-Message-Id``, or 400 with ``errors`` naming the refused personalizations."""

    key = "SG.test-key"

    def answer(self, request: httpx.Request) -> httpx.Response:
        self.expect(request.method == "POST", f"method {request.method}")
        self.expect(request.url.path == "/v3/mail/send", f"path {request.url.path}")
        if request.headers.get("Authorization") != f"Bearer {self.key}":
            return httpx.Response(
                401, json={"errors": [{"message": "The provided authorization grant is invalid"}]}
            )
        body = json.loads(request.content)
        personalizations = body["personalizations"]
        self.expect(1 <= len(personalizations) <= 1000, "personalizations")
        content = body["content"]
        self.expect([c["type"] for c in content] == ["text/plain", "text/html"], "content order")
        self.expect(body["from"] == {"email": "newsletter@example.ma", "name": "Le Brief"}, "from")
        self.expect(bool(body["subject"]), "subject")
        delivered = expand("sendgrid", as_call(request))
        errors = []
        for index, message in enumerate(delivered):
            check_personal_headers(message.headers, message.html, message.address)
            if message.address in self.refuse:
                text = self.refuse[message.address][1]
                errors.append({"message": text, "field": f"personalizations.{index}.to"})
        if errors:
            return httpx.Response(400, json={"errors": errors})
        self.sent += [m.address for m in delivered]
        return httpx.Response(202, headers={"X-Message-Id": f"sg-{len(self.requests)}"})


class MailgunStandIn(StandIn):
    """Mailgun's ``/v3/{domain}/messages``: basic auth ``api:KEY``, multipart form with a
    ``to`` per recipient and ``recipient-variables``, expanded per recipient; 200 with the
    id, or 400 for the whole call."""

    key = "mg-key-123"
    domain = "mg.example.ma"

    def answer(self, request: httpx.Request) -> httpx.Response:
        self.expect(request.method == "POST", f"method {request.method}")
        self.expect(request.url.path == f"/v3/{self.domain}/messages", "path")
        expected = "Basic " + base64.b64encode(f"api:{self.key}".encode()).decode()
        if request.headers.get("Authorization") != expected:
            return httpx.Response(401, text="Forbidden")
        content_type = request.headers.get("Content-Type", "")
        self.expect(content_type.startswith("multipart/form-data; boundary="), "multipart")
        delivered = expand("mailgun", as_call(request))
        self.expect(0 < len(delivered) <= 1000, "recipients")
        for message in delivered:
            check_personal_headers(message.headers, message.html, message.address)
            if message.address in self.refuse:
                code, text = self.refuse[message.address]
                return httpx.Response(code, json={"message": text})
        self.sent += [m.address for m in delivered]
        return httpx.Response(
            200,
            json={
                "id": f"<mg-{len(self.requests)}@mg.example.ma>",
                "message": "Queued. Thank you.",
            },
        )


class ResendStandIn(StandIn):
    """Resend's ``/emails/batch``: Bearer key, an ``Idempotency-Key``, up to 100 emails;
    200 with ``data`` ids. A key seen before gives back the first answer."""

    key = "re_test_key"

    def __init__(self) -> None:
        super().__init__()
        self.answers: dict[str, httpx.Response] = {}

    def answer(self, request: httpx.Request) -> httpx.Response:
        self.expect(request.method == "POST", f"method {request.method}")
        self.expect(request.url.path == "/emails/batch", f"path {request.url.path}")
        if request.headers.get("Authorization") != f"Bearer {self.key}":
            return httpx.Response(
                401, json={"statusCode": 401, "name": "missing_api_key", "message": "Missing key"}
            )
        key = request.headers.get("Idempotency-Key", "")
        self.expect(0 < len(key) <= 256, "idempotency key")
        if key in self.answers:
            return self.answers[key]
        emails = json.loads(request.content)
        self.expect(0 < len(emails) <= 100, "batch size")
        data = []
        for email in emails:
            self.expect(email["from"] == '"Le Brief" <newsletter@example.ma>', "from")
            self.expect(len(email["to"]) == 1 and bool(email["text"]), "to/text")
            check_personal_headers(email["headers"], email["html"], email["to"][0])
            self.sent.append(email["to"][0])
            data.append({"id": f"re-{len(self.sent)}"})
        self.answers[key] = httpx.Response(200, json={"data": data})
        return self.answers[key]


def http_app(app: App, stand_in: StandIn, **changes: Any) -> App:
    """An App on ``app``'s database whose HTTP providers talk to ``stand_in``."""
    return App(with_settings(app, **changes), engine=app.engine, http_client=stand_in.client())


def direct_app(app: App, provider: Provider, **changes: Any) -> App:
    return App(with_settings(app, **changes), engine=app.engine, provider=provider)


def postmark(stand_in: StandIn, fake: FakeTime, **policy: Any) -> PostmarkProvider:
    return PostmarkProvider(
        stand_in.client(), TOKEN, api_url="https://pm.test",
        policy=RetryPolicy(**{"attempts": 3, "max_wait": 60, **policy}),
        sleep=fake.sleep, clock=fake.clock,
    )  # fmt: skip


# --- each provider sends an edition -----------------------------------------------------------
def test_postmark_sends_in_batches_and_reads_each_message_result(app: App) -> None:
    addresses = prepare(app, 7)
    stand_in = PostmarkStandIn()
    stand_in.refuse = {
        addresses[1]: (406, "You tried to send to a recipient that has been marked as inactive."),
        addresses[4]: (300, "Invalid 'To' address: 'reader4@example.org'."),
    }
    sender = http_app(
        app, stand_in, provider="postmark", postmark_token=TOKEN,
        postmark_api_url="https://pm.test/", send_batch_size=3,
    )  # fmt: skip
    result = sender.release.send(DAY)
    assert stand_in.problems == []
    assert len(stand_in.requests) == 3  # 7 messages in claims of 3: 3 + 3 + 1
    assert all(r.url.host == "pm.test" for r in stand_in.requests)
    assert (result.run.sent, result.run.failed, result.run.bounced) == (5, 2, 1)
    assert result.edition.status == "sent"
    rows_by_address = deliveries(app)
    assert rows_by_address[addresses[0]].provider_message_id == "pm-1"
    assert rows_by_address[addresses[0]].provider == "postmark"
    inactive = rows_by_address[addresses[1]]
    assert (inactive.status, inactive.last_code) == ("failed", 406)
    assert "marked as inactive" in (inactive.last_error or "")
    invalid = rows_by_address[addresses[4]]
    assert (invalid.status, invalid.last_code) == ("failed", 300)
    assert "Invalid 'To' address" in (invalid.last_error or "")
    with app.sessions() as session:
        suppressed = [s.email_key for s in session.scalars(select(Suppression))]
    assert suppressed == [addresses[1]]  # 406: Postmark already suppressed the address
    assert sorted(stand_in.sent) == sorted(set(addresses) - {addresses[1], addresses[4]})


def test_postmark_account_errors_on_a_200_stop_without_failing_anyone(app: App) -> None:
    addresses = prepare(app, 3)
    stand_in = PostmarkStandIn()
    stand_in.refuse = {a: (401, "Sender signature not confirmed.") for a in addresses}
    result = http_app(app, stand_in, provider="postmark", postmark_token=TOKEN).release.send(DAY)
    assert result.run.failed == 0 and result.run.sent == 0
    assert result.run.stopped and "Sender signature not confirmed" in result.run.stopped
    assert rows(app) == {"pending": 3}


def test_sendgrid_sends_one_personalization_per_reader_in_one_request(app: App) -> None:
    addresses = prepare(app, 4)
    stand_in = SendGridStandIn()
    stand_in.refuse = {addresses[2]: (400, "Does not contain a valid address.")}
    sender = http_app(
        app, stand_in, provider="sendgrid", sendgrid_api_key=SendGridStandIn.key,
        sendgrid_api_url="https://sg.test",
    )  # fmt: skip
    result = sender.release.send(DAY)
    assert stand_in.problems == []
    assert (result.run.sent, result.run.failed) == (3, 1)
    # One request for the four, refused for one of them; the other three again at once.
    assert [len(json.loads(r.content)["personalizations"]) for r in stand_in.requests] == [4, 3]
    by_address = deliveries(app)
    assert by_address[addresses[0]].provider_message_id == "sg-2"
    refused = by_address[addresses[2]]
    assert (refused.status, refused.last_code) == ("failed", 400)
    assert refused.last_error == (
        "sendgrid: HTTP 400: Does not contain a valid address. (personalizations.2.to)"
    )
    body = json.loads(stand_in.requests[0].content)
    assert body["personalizations"][0]["custom_args"]["delivery_id"].isdigit()
    assert body["categories"] == [DAY.isoformat()]


def test_mailgun_sends_one_batch_with_recipient_variables(app: App) -> None:
    addresses = prepare(app, 4)
    stand_in = MailgunStandIn()
    sender = http_app(
        app, stand_in, provider="mailgun", mailgun_api_key=MailgunStandIn.key,
        mailgun_domain=MailgunStandIn.domain, mailgun_api_url="https://mg.test",
    )  # fmt: skip
    result = sender.release.send(DAY)
    assert stand_in.problems == []
    assert result.run.sent == 4 and sorted(stand_in.sent) == sorted(addresses)
    assert len(stand_in.requests) == 1
    by_address = deliveries(app)
    assert {d.provider_message_id for d in by_address.values()} == {"<mg-1@mg.example.ma>"}
    form = stand_in.requests[0].content
    assert b'name="o:tag"' in form and b'name="v:delivery_id"' in form
    assert form.count(b'name="to"') == 4


def test_mailgun_refusing_a_batch_fails_its_messages_with_the_text(app: App) -> None:
    addresses = prepare(app, 3)
    stand_in = MailgunStandIn()
    stand_in.refuse = {addresses[1]: (400, "to parameter is not a valid address")}
    sender = http_app(
        app, stand_in, provider="mailgun", mailgun_api_key=MailgunStandIn.key,
        mailgun_domain=MailgunStandIn.domain, mailgun_api_url="https://mg.test",
    )  # fmt: skip
    result = sender.release.send(DAY)
    assert result.run.failed == 3  # Mailgun validates the whole call
    refused = deliveries(app)[addresses[1]]
    assert (refused.status, refused.last_code) == ("failed", 400)
    assert refused.last_error == "mailgun: HTTP 400: to parameter is not a valid address"


def test_resend_sends_batches_with_an_idempotency_key(app: App) -> None:
    addresses = prepare(app, 5)
    stand_in = ResendStandIn()
    sender = http_app(
        app, stand_in, provider="resend", resend_api_key=ResendStandIn.key,
        resend_api_url="https://re.test", send_batch_size=2,
    )  # fmt: skip
    result = sender.release.send(DAY)
    assert stand_in.problems == []
    assert result.run.sent == 5 and sorted(stand_in.sent) == sorted(addresses)
    keys = [r.headers["Idempotency-Key"] for r in stand_in.requests]
    assert len(keys) == 3 and len(set(keys)) == 3
    assert all(k.startswith(f"{DAY.isoformat()}/") for k in keys)


def test_a_timed_out_answer_is_retried_under_the_same_idempotency_key(app: App) -> None:
    addresses = prepare(app, 2)
    stand_in = ResendStandIn()
    fake = FakeTime()

    def lost_answer(request: httpx.Request) -> httpx.Response:
        stand_in.requests.append(request)
        stand_in.answer(request)  # Resend accepted the batch, the answer never came back
        raise httpx.ReadTimeout("timed out", request=request)

    original = stand_in.handler
    calls = iter([lost_answer])
    client = httpx.Client(transport=httpx.MockTransport(lambda r: next(calls, original)(r)))
    provider = ResendProvider(
        client, ResendStandIn.key, api_url="https://re.test", sleep=fake.sleep, clock=fake.clock
    )
    result = direct_app(app, provider).release.send(DAY)
    assert result.run.sent == 2
    assert sorted(stand_in.sent) == sorted(addresses)  # each once, though sent twice
    keys = {r.headers["Idempotency-Key"] for r in stand_in.requests}
    assert len(stand_in.requests) == 2 and len(keys) == 1
    assert len(fake.waits) == 1


def test_a_sign_up_confirmation_goes_through_postmarks_transactional_stream(app: App) -> None:
    seen: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["X-Postmark-Server-Token"] == TOKEN
        seen.extend(json.loads(request.content))
        return httpx.Response(200, json=[{"ErrorCode": 0, "Message": "OK", "MessageID": "c-1"}])

    client = httpx.Client(transport=httpx.MockTransport(handler))
    settings = with_settings(app, provider="postmark", postmark_token=TOKEN)
    outcome = App(settings, engine=app.engine, http_client=client).signups.signup("new@example.org")
    assert outcome.confirmation_needed
    (message,) = seen
    assert message["MessageStream"] == "outbound"
    assert message["To"] == "new@example.org"
    assert message["Subject"].startswith("Confirmez votre abonnement")
    assert "http://localhost:8000/" in message["TextBody"] and "<a href=" in message["HtmlBody"]


def test_display_names_with_commas_quotes_and_accents_survive_the_parsing() -> None:
    name = 'Zoé "Zo" Naït-Sidi, lectrice'
    data = (
        f"{address_line('From', 'Le Brief, édition', 'nl@example.ma')}\r\n"
        f"{address_line('To', name, 'zoe@example.org')}\r\n"
        "Subject: =?utf-8?q?=C3=A9t=C3=A9?=\r\n"
        "List-Unsubscribe: <https://example.ma/u/abc>,\r\n <mailto:u@example.ma?subject=u-abc>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\nBonjour\r\n"
    ).encode()
    parsed = parse_message(data, "zoe@example.org")
    assert parsed.to == (name, "zoe@example.org") and parsed.subject == "été"
    assert parsed.sender == ("Le Brief, édition", "nl@example.ma")
    assert parsed.from_line == '"Le Brief, édition" <nl@example.ma>'
    assert parsed.to_line == '"Zoé \\"Zo\\" Naït-Sidi, lectrice" <zoe@example.org>'
    assert parsed.headers == {
        "List-Unsubscribe": "<https://example.ma/u/abc>, <mailto:u@example.ma?subject=u-abc>"
    }
    assert (parsed.text, parsed.html) == ("Bonjour\n", None)


def test_lost_answers_under_an_idempotency_key_that_never_come_back_are_uncertain(
    app: App,
) -> None:
    prepare(app, 2)
    stand_in, fake = ResendStandIn(), FakeTime()
    stand_in.script = [
        httpx.ReadTimeout("read timed out"),
        httpx.Response(503, json={"statusCode": 503, "name": "x", "message": "busy"}),
        httpx.Response(503, json={"statusCode": 503, "name": "x", "message": "busy"}),
    ]
    provider = ResendProvider(
        stand_in.client(), ResendStandIn.key, policy=RetryPolicy(attempts=3),
        sleep=fake.sleep, clock=fake.clock,
    )  # fmt: skip
    result = direct_app(app, provider).release.send(DAY)
    assert len(stand_in.requests) == 3 and result.run.unknown == 2
    assert rows(app) == {"sending": 2}  # the first may have gone: not resent blindly
    assert "may have been accepted" in (next(iter(deliveries(app).values())).last_error or "")


# --- 429, 5xx, timeouts, 4xx -----------------------------------------------------------------
def test_429_with_seconds_waits_that_long_then_sends(app: App) -> None:
    prepare(app, 2)
    stand_in, fake = PostmarkStandIn(), FakeTime()
    stand_in.script = [httpx.Response(429, headers={"Retry-After": "7"}, json={"Message": "x"})]
    result = direct_app(app, postmark(stand_in, fake)).release.send(DAY)
    assert fake.waits == [7.0]
    assert result.run.sent == 2 and rows(app) == {"sent": 2}


def test_429_with_an_http_date_waits_until_then(app: App) -> None:
    prepare(app, 1)
    stand_in, fake = PostmarkStandIn(), FakeTime()
    when = format_datetime(datetime.fromtimestamp(NOW + 30, UTC), usegmt=True)
    stand_in.script = [httpx.Response(429, headers={"Retry-After": when})]
    result = direct_app(app, postmark(stand_in, fake)).release.send(DAY)
    assert fake.waits == [30.0] and result.run.sent == 1


def test_429_with_a_past_date_retries_at_once(app: App) -> None:
    prepare(app, 1)
    stand_in, fake = PostmarkStandIn(), FakeTime()
    stand_in.script = [
        httpx.Response(429, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})
    ]
    result = direct_app(app, postmark(stand_in, fake)).release.send(DAY)
    assert fake.waits == [0.0] and result.run.sent == 1


def test_429_with_an_unreadable_value_falls_back_to_backoff(app: App) -> None:
    prepare(app, 1)
    stand_in, fake = PostmarkStandIn(), FakeTime()
    stand_in.script = [httpx.Response(429, headers={"Retry-After": "soon-ish"})]
    result = direct_app(app, postmark(stand_in, fake)).release.send(DAY)
    assert len(fake.waits) == 1 and 1.0 <= fake.waits[0] <= 2.0  # 1 s, plus jitter up to 1 s
    assert result.run.sent == 1


def test_a_retry_after_beyond_the_cap_defers_the_batch_without_waiting(app: App) -> None:
    prepare(app, 3)
    stand_in, fake = PostmarkStandIn(), FakeTime()
    stand_in.script = [
        httpx.Response(429, headers={"Retry-After": "3600"}, json={"Message": "Rate limit"})
    ]
    before = datetime.now(UTC)
    result = direct_app(app, postmark(stand_in, fake, max_wait=60)).release.send(DAY)
    assert fake.waits == [] and len(stand_in.requests) == 1
    assert (result.run.deferred, result.run.sent) == (3, 0)
    for delivery in deliveries(app).values():
        assert (delivery.status, delivery.last_code) == ("deferred", 429)
        assert "Rate limit" in (delivery.last_error or "")
        retry_at = delivery.next_attempt_at
        assert retry_at is not None
        retry_at = retry_at if retry_at.tzinfo else retry_at.replace(tzinfo=UTC)
        assert before + timedelta(seconds=3590) <= retry_at <= before + timedelta(hours=2)


@pytest.mark.parametrize("value", ["9999999999", "99999999999999999999"])
def test_an_absurd_retry_after_defers_by_a_day_at_most(app: App, value: str) -> None:
    """A provider's Retry-After of centuries (or past any clock) defers the batch by a
    day, with a reason; it neither crashes the send nor leaves the messages uncertain."""
    prepare(app, 3)
    stand_in, fake = PostmarkStandIn(), FakeTime()
    stand_in.script = [httpx.Response(429, headers={"Retry-After": value}, json={"Message": "x"})]
    before = datetime.now(UTC)
    result = direct_app(app, postmark(stand_in, fake, max_wait=60)).release.send(DAY)
    assert (result.run.deferred, result.run.sent, result.run.unknown) == (3, 0, 0)
    for delivery in deliveries(app).values():
        assert (delivery.status, delivery.last_code) == ("deferred", 429)
        retry_at = delivery.next_attempt_at
        assert retry_at is not None
        retry_at = retry_at if retry_at.tzinfo else retry_at.replace(tzinfo=UTC)
        assert retry_at <= datetime.now(UTC) + timedelta(days=1)
        assert retry_at >= before + timedelta(hours=23)


def test_5xx_is_retried_with_growing_backoff_then_succeeds(app: App) -> None:
    prepare(app, 2)
    stand_in, fake = PostmarkStandIn(), FakeTime()
    stand_in.script = [
        httpx.Response(503, text="Service Unavailable"),
        httpx.Response(500, json={"ErrorCode": 0, "Message": "Internal error"}),
    ]
    result = direct_app(app, postmark(stand_in, fake)).release.send(DAY)
    assert result.run.sent == 2 and len(stand_in.requests) == 3
    assert len(fake.waits) == 2
    assert 1.0 <= fake.waits[0] <= 2.0 and 2.0 <= fake.waits[1] <= 3.0


def test_5xx_that_persists_defers_with_the_provider_message(app: App) -> None:
    prepare(app, 2)
    stand_in, fake = PostmarkStandIn(), FakeTime()
    stand_in.script = [httpx.Response(503, json={"Message": "Down for maintenance"})] * 3
    result = direct_app(app, postmark(stand_in, fake)).release.send(DAY)
    assert len(stand_in.requests) == 3 and result.run.deferred == 2
    for delivery in deliveries(app).values():
        assert (delivery.status, delivery.last_code) == ("deferred", 503)
        assert delivery.last_error == "postmark: HTTP 503: Down for maintenance"


def test_a_connection_timeout_is_retried(app: App) -> None:
    prepare(app, 2)
    stand_in, fake = PostmarkStandIn(), FakeTime()
    stand_in.script = [httpx.ConnectTimeout("connect timed out")]
    result = direct_app(app, postmark(stand_in, fake)).release.send(DAY)
    assert result.run.sent == 2 and len(stand_in.requests) == 2 and len(fake.waits) == 1


def test_timeouts_that_persist_defer(app: App) -> None:
    prepare(app, 2)
    stand_in, fake = PostmarkStandIn(), FakeTime()
    stand_in.script = [httpx.ConnectTimeout("connect timed out")] * 3
    result = direct_app(app, postmark(stand_in, fake)).release.send(DAY)
    assert result.run.deferred == 2 and rows(app) == {"deferred": 2}
    assert "ConnectTimeout" in (next(iter(deliveries(app).values())).last_error or "")


def test_a_lost_answer_without_idempotency_is_uncertain_and_not_resent(app: App) -> None:
    prepare(app, 2)
    stand_in, fake = PostmarkStandIn(), FakeTime()
    stand_in.script = [httpx.ReadTimeout("read timed out")]
    result = direct_app(app, postmark(stand_in, fake)).release.send(DAY)
    assert len(stand_in.requests) == 1 and fake.waits == []
    assert result.run.unknown == 2 and rows(app) == {"sending": 2}
    assert result.run.uncertain == 2


def test_a_4xx_fails_the_batch_with_the_provider_message(app: App) -> None:
    prepare(app, 2)
    stand_in, fake = PostmarkStandIn(), FakeTime()
    stand_in.script = [
        httpx.Response(422, json={"ErrorCode": 300, "Message": "Invalid 'From' address"})
    ]
    result = direct_app(app, postmark(stand_in, fake)).release.send(DAY)
    assert result.run.failed == 2 and len(stand_in.requests) == 1
    for delivery in deliveries(app).values():
        assert (delivery.status, delivery.last_code) == ("failed", 422)
        assert delivery.last_error == "postmark: HTTP 422: Invalid 'From' address"


def test_refused_credentials_stop_the_send_and_fail_nobody(app: App) -> None:
    prepare(app, 3)
    stand_in = PostmarkStandIn()
    result = http_app(app, stand_in, provider="postmark", postmark_token="wrong").release.send(DAY)
    assert result.run.failed == 0 and len(stand_in.requests) == 1
    assert result.run.stopped and "Server Token you provided was invalid" in result.run.stopped
    assert rows(app) == {"pending": 3}


def test_rate_limit_headers_make_the_next_call_wait_for_the_reset(app: App) -> None:
    prepare(app, 2)
    stand_in, fake = SendGridStandIn(), FakeTime()
    first = stand_in.answer

    def answer(request: httpx.Request) -> httpx.Response:
        response = first(request)
        response.headers["X-RateLimit-Remaining"] = "0"
        response.headers["X-RateLimit-Reset"] = str(int(fake.now) + 12)
        return response

    stand_in.answer = answer  # type: ignore[method-assign]
    provider = SendGridProvider(  # one reader a call: the reset concerns the second
        stand_in.client(), SendGridStandIn.key, per_call=1, concurrency=1,
        sleep=fake.sleep, clock=fake.clock,
    )  # fmt: skip
    result = direct_app(app, provider).release.send(DAY)
    assert stand_in.problems == [] and result.run.sent == 2
    assert fake.waits == [12.0]  # before the second call only


def test_a_rate_limit_reset_beyond_the_cap_defers_without_calling(app: App) -> None:
    prepare(app, 2)
    stand_in, fake = MailgunStandIn(), FakeTime()
    first = stand_in.answer

    def answer(request: httpx.Request) -> httpx.Response:
        response = first(request)
        response.headers["X-RateLimit-Remaining"] = "0"
        response.headers["X-RateLimit-Reset"] = str(int((fake.now + 600) * 1000))  # ms
        return response

    stand_in.answer = answer  # type: ignore[method-assign]
    provider = MailgunProvider(  # one reader a call: the reset concerns the second
        stand_in.client(), MailgunStandIn.key, MailgunStandIn.domain, per_call=1,
        concurrency=1, policy=RetryPolicy(max_wait=60), sleep=fake.sleep, clock=fake.clock,
    )  # fmt: skip
    result = direct_app(app, provider).release.send(DAY)
    assert (result.run.sent, result.run.deferred) == (1, 1) and len(stand_in.requests) == 1
    deferred = next(d for d in deliveries(app).values() if d.status == "deferred")
    assert deferred.last_code == 429 and "resets in 600 s" in (deferred.last_error or "")


# --- limits: the error-count pause, the daily cap, failover ---------------------------------
def test_a_provider_that_keeps_failing_pauses_the_edition_with_the_reason(
    app: App, caplog: pytest.LogCaptureFixture
) -> None:
    prepare(app, 6)
    stand_in, fake = SendGridStandIn(), FakeTime()
    stand_in.script = [httpx.Response(502, text="Bad Gateway")] * 100
    provider = SendGridProvider(  # one reader a call: each error counts one message
        stand_in.client(), SendGridStandIn.key, policy=RetryPolicy(attempts=1), per_call=1,
        concurrency=1, sleep=fake.sleep, clock=fake.clock,
    )  # fmt: skip
    with caplog.at_level(logging.WARNING, logger="newsletter.deliver"):
        result = direct_app(app, provider, pause_after_errors=3).release.send(DAY)
    assert len(stand_in.requests) == 3  # then it stopped instead of burning the list
    assert any("paused after 3 consecutive errors" in r.getMessage() for r in caplog.records)
    assert result.run.stopped and "paused after 3 consecutive errors" in result.run.stopped
    edition = app.drafts.get(DAY)
    assert edition is not None and edition.status == "paused"
    assert result.run.stopped.startswith(edition.paused_reason or "?")
    assert result.run.stopped.endswith("(the edition is paused: `newsletter resume` goes on)")
    assert "sendgrid: HTTP 502: Bad Gateway" in edition.paused_reason
    assert rows(app) == {"deferred": 3, "pending": 3}
    shown = run_cli("status", "--date", DAY.isoformat(), check=True)
    assert "(paused)" in shown.stdout and edition.paused_reason in shown.stdout
    as_json = run_cli("status", "--date", DAY.isoformat(), "--json", check=True)
    assert json.loads(as_json.stdout)["paused_reason"] == edition.paused_reason
    assert app.drafts.pause(DAY, False)  # resume clears the reason
    resumed = app.drafts.get(DAY)
    assert resumed is not None and resumed.status == "sending" and resumed.paused_reason is None


def test_refusals_in_a_row_pause_but_an_accepted_message_resets_the_count(app: App) -> None:
    addresses = prepare(app, 6)
    stand_in = SendGridStandIn()
    stand_in.refuse = {a: (400, "invalid") for a in addresses[:2] + addresses[3:5]}
    sender = http_app(
        app, stand_in, provider="sendgrid", sendgrid_api_key=SendGridStandIn.key,
        pause_after_errors=3,
    )  # fmt: skip
    result = sender.release.send(DAY)
    assert (result.run.sent, result.run.failed, result.run.stopped) == (2, 4, None)


def test_the_daily_cap_stops_the_send_and_keeps_the_rest_queued(app: App) -> None:
    addresses = prepare(app, 5)
    stand_in = ResendStandIn()
    sender = http_app(
        app, stand_in, provider="resend", resend_api_key=ResendStandIn.key, daily_cap=3,
        send_batch_size=2,
    )  # fmt: skip
    result = sender.release.send(DAY)
    assert result.run.sent == 3 and len(stand_in.sent) == 3
    assert result.run.stopped and "daily cap of 3 messages in 24 hours" in result.run.stopped
    assert "the next may go at" in result.run.stopped
    assert rows(app) == {"sent": 3, "pending": 2}
    again = sender.release.send(DAY)  # still within the same 24 hours: nothing more goes
    assert again.run.sent == 0 and len(stand_in.sent) == 3
    assert sorted(stand_in.sent) == sorted(addresses[:3])


def test_failover_takes_what_the_first_provider_defers(app: App) -> None:
    prepare(app, 4)
    down, up, fake = PostmarkStandIn(), ResendStandIn(), FakeTime()
    down.script = [httpx.Response(503, json={"Message": "Postmark is down"})] * 100
    primary = postmark(down, fake, attempts=2)
    secondary = ResendProvider(up.client(), ResendStandIn.key, sleep=fake.sleep, clock=fake.clock)
    failover = FailoverProvider(primary, secondary, cooldown=300, clock=fake.clock)
    result = direct_app(app, failover, send_batch_size=2).release.send(DAY)
    assert result.run.sent == 4 and rows(app) == {"sent": 4}
    assert len(up.sent) == 4 and down.sent == []
    assert len(down.requests) == 2  # the first batch's two attempts; then skipped while down
    for delivery in deliveries(app).values():
        assert delivery.provider_message_id and delivery.provider_message_id.startswith("re-")
        assert (delivery.last_error or "").startswith("via resend (postmark: ")


def test_failover_also_takes_over_refused_credentials(app: App) -> None:
    prepare(app, 2)
    primary, secondary = PostmarkStandIn(), SendGridStandIn()
    settings = with_settings(
        app, provider="postmark", postmark_token="wrong", failover_provider="sendgrid",
        sendgrid_api_key=SendGridStandIn.key,
    )  # fmt: skip

    def route(request: httpx.Request) -> httpx.Response:
        return (primary if request.url.host == "api.postmarkapp.com" else secondary).handler(
            request
        )

    client = httpx.Client(transport=httpx.MockTransport(route))
    result = App(settings, engine=app.engine, http_client=client).release.send(DAY)
    assert result.run.sent == 2 and result.run.stopped is None
    assert len(secondary.sent) == 2 and primary.sent == []


# --- settings ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("provider", "variable", "extra"),
    [
        ("postmark", "NEWSLETTER_POSTMARK_TOKEN", {}),
        ("sendgrid", "NEWSLETTER_SENDGRID_API_KEY", {}),
        ("mailgun", "NEWSLETTER_MAILGUN_API_KEY", {"mailgun_domain": "mg.example.ma"}),
        ("mailgun", "NEWSLETTER_MAILGUN_DOMAIN", {"mailgun_api_key": "key"}),
        ("resend", "NEWSLETTER_RESEND_API_KEY", {}),
    ],
)
def test_missing_credentials_name_the_variable(
    provider: str, variable: str, extra: dict[str, str]
) -> None:
    with pytest.raises(ConfigError, match=variable):
        make_provider(load_settings(provider=provider, **extra), httpx.Client())


def test_settings_come_from_the_documented_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    from newsletter.config.settings import unknown_variables

    variables = {
        "NEWSLETTER_PROVIDER": "postmark",
        "NEWSLETTER_POSTMARK_TOKEN": TOKEN,
        "NEWSLETTER_POSTMARK_API_URL": "https://pm.example.net/",
        "NEWSLETTER_SENDGRID_API_KEY": "sg",
        "NEWSLETTER_SENDGRID_API_URL": "https://api.eu.sendgrid.com",
        "NEWSLETTER_MAILGUN_API_KEY": "mg",
        "NEWSLETTER_MAILGUN_DOMAIN": "mg.example.ma",
        "NEWSLETTER_MAILGUN_API_URL": "https://api.eu.mailgun.net",
        "NEWSLETTER_RESEND_API_KEY": "re",
        "NEWSLETTER_RESEND_API_URL": "http://127.0.0.1:9000",
        "NEWSLETTER_SES_ENDPOINT_URL": "http://127.0.0.1:5000",
        "NEWSLETTER_DAILY_CAP": "50000",
        "NEWSLETTER_RETRY_AFTER_MAX": "120",
        "NEWSLETTER_PAUSE_AFTER_ERRORS": "25",
        "NEWSLETTER_FAILOVER_PROVIDER": "resend",
    }
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    assert unknown_variables() == []
    settings = load_settings()
    assert settings.postmark_api_url == "https://pm.example.net"
    assert (settings.daily_cap, settings.retry_after_max, settings.pause_after_errors) == (
        50000, 120.0, 25,
    )  # fmt: skip
    provider = make_provider(settings, httpx.Client())
    assert isinstance(provider, FailoverProvider)
    assert isinstance(provider.primary, PostmarkProvider)
    assert isinstance(provider.secondary, ResendProvider)
    assert provider.primary.url == "https://pm.example.net/email/batch"
    monkeypatch.setenv("NEWSLETTER_FAILOVER_PROVIDER", "postmark")
    with pytest.raises(ConfigError, match="NEWSLETTER_FAILOVER_PROVIDER"):
        make_provider(load_settings(), httpx.Client())
    monkeypatch.setenv("NEWSLETTER_RESEND_API_URL", "ftp://nope")
    with pytest.raises(ConfigError, match="NEWSLETTER_RESEND_API_URL"):
        load_settings()


# --- Retry-After and reset values --------------------------------------------------------------
def test_retry_after_values() -> None:
    now = 1_700_000_000.0
    assert parse_retry_after("120", now) == 120.0
    assert parse_retry_after(" 0 ", now) == 0.0
    in_a_minute = format_datetime(datetime.fromtimestamp(now + 60, UTC), usegmt=True)
    assert parse_retry_after(in_a_minute, now) == 60.0
    assert parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now) == 0.0
    for garbage in (None, "", "-5", "1.5", "tomorrow", "Sun, 99 Nov 1994 08:49:37 GMT"):
        assert parse_retry_after(garbage, now) is None, garbage
    assert parse_reset("30", now) == 30.0
    assert parse_reset(str(int(now) + 45), now) == 45.0
    assert parse_reset(str(int(now * 1000) + 5000), now) == 5.0
    assert parse_reset("soon", now) is None
    # absurd values are clamped to a day instead of deferring by centuries or overflowing
    assert parse_retry_after("9999999999", now) == MAX_WAIT_SECONDS == 86400.0
    assert parse_retry_after("99999999999999999999", now) == MAX_WAIT_SECONDS
    assert parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", now) == MAX_WAIT_SECONDS
    assert parse_reset("9" * 40, now) == MAX_WAIT_SECONDS
