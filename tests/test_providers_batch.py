"""Batch APIs: one call per variant and up to the provider's limit of readers, each reader's
values filled in by the provider (Mailgun's ``recipient-variables``, SendGrid's
``substitutions``) or from the prepared variant (Postmark, Resend), never by parsing our
MIME. The stand-in expands each call as the provider documents (``benchmarks.standins``),
and every reader must get what SMTP would have carried: the same text and HTML, their own
List-Unsubscribe with the one-click header, Message-ID and links, their exact name."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import httpx
import pytest

from newsletter.deliver.worker import Sender
from newsletter.providers.base import Envelope, Provider, Result
from newsletter.providers.http import RetryPolicy
from newsletter.providers.mailgun import MailgunProvider
from newsletter.providers.postmark import PostmarkProvider
from newsletter.providers.resend import ResendProvider
from newsletter.providers.sendgrid import SendGridProvider
from newsletter.store.outbox import ClaimedDelivery
from newsletter.store.subscribers import SubscriberRecord, add_subscriber
from newsletter.wiring import App
from tests.batch_standins import Call, Delivered, answer, count, expand
from tests.test_providers_http import DAY, with_settings

#: A long accented display name: the ``email`` package's folding used to insert a space
#: into such a name ("Sociét é") on its way to Postmark, SendGrid and Resend.
LONG_NAME = "Société Générale des Éditions Françaises d'Outre-Mer — Çà et là, « l'été »"
SENDER = "Rédaction de l'Hebdomadaire Économique et Société Générale des Éditions Maghrébines"


class BatchStandIn:
    """Answers each call as ``provider`` documents and keeps what it would deliver."""

    def __init__(self, provider: str, wait: Callable[[], None] | None = None) -> None:
        self.provider, self.wait = provider, wait
        self.calls: list[Call] = []
        self.delivered: list[Delivered] = []
        self.lock = threading.Lock()

    def handler(self, request: httpx.Request) -> httpx.Response:
        call = Call(
            request.url.path,
            {k.lower(): v for k, v in request.headers.items()},
            request.read(),
        )
        if self.wait is not None:
            self.wait()
        delivered = expand(self.provider, call)
        assert len(delivered) == count(self.provider, call)
        with self.lock:
            self.calls.append(call)
            self.delivered += delivered
        status, headers, body = answer(self.provider, call, len(delivered))
        return httpx.Response(status, headers=headers, content=body)

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self.handler))


def provider_for(name: str, client: httpx.Client, **options: Any) -> Provider:
    policy = RetryPolicy(attempts=1)
    if name == "mailgun":
        return MailgunProvider(client, "key", "mg.example.ma", policy=policy, **options)
    if name == "sendgrid":
        return SendGridProvider(client, "SG.key", policy=policy, **options)
    if name == "postmark":
        return PostmarkProvider(client, "token", policy=policy, **options)
    return ResendProvider(client, "re_key", policy=policy, **options)


def edition_sender(app: App, readers: int, name: str | None = None) -> tuple[Sender, list[str]]:
    """The day's edition composed for ``readers`` subscribers (named ``name``) and released;
    the :class:`Sender` that makes their envelopes."""
    app.ingest.sample(DAY)
    addresses = [f"reader{n}@example.org" for n in range(readers)]
    with app.sessions.begin() as session:
        for address in addresses:
            add_subscriber(session, SubscriberRecord(address, name=name), source="test")
    edition = app.composer.compose(DAY).edition
    return app.renderer.sender(edition), addresses


def envelopes(sender: Sender, addresses: list[str], name: str | None = None) -> list[Envelope]:
    return [
        sender.envelope(ClaimedDelivery(1000 + n, n + 1, address, name, 0))
        for n, address in enumerate(addresses)
    ]


def mime(envelope: Envelope) -> EmailMessage:
    """What SMTP would carry for ``envelope``, parsed."""
    message = message_from_bytes(envelope.data, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def unfolded(message: EmailMessage, name: str) -> str:
    raw = dict(message.items())[name]
    return " ".join(str(raw).replace("\r\n", "").split())


BATCH_PROVIDERS = ["mailgun", "sendgrid", "postmark", "resend"]


@pytest.mark.parametrize("name", BATCH_PROVIDERS)
def test_every_reader_gets_their_own_message_through_the_batch_api(app: App, name: str) -> None:
    sender, addresses = edition_sender(app, 7)
    sent = envelopes(sender, addresses)
    stand_in = BatchStandIn(name)
    provider = provider_for(name, stand_in.client())
    result = provider.send(sent)
    assert [r.key for r in result.results] == [e.key for e in sent]
    assert {r.result for r in result.results} == {Result.SENT} and result.stop is None
    assert len(stand_in.calls) == 1  # seven readers of one variant: one call
    by_address = {d.address: d for d in stand_in.delivered}
    assert sorted(by_address) == sorted(addresses) and len(stand_in.delivered) == 7
    unsubscribes = set()
    for envelope in sent:
        got, smtp = by_address[envelope.recipient], mime(envelope)
        # The same text and HTML as the MIME parts, with this reader's links.
        html_part, text_part = smtp.get_body(("html",)), smtp.get_body(("plain",))
        assert html_part is not None and text_part is not None
        assert got.html == html_part.get_content().replace("\r\n", "\n")
        assert got.text == text_part.get_content().replace("\r\n", "\n")
        assert got.subject == str(smtp["Subject"])
        assert got.headers["List-Unsubscribe"] == unfolded(smtp, "List-Unsubscribe")
        assert got.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        message_id = got.headers.get("Message-ID", got.headers.get("Message-Id"))
        assert message_id == envelope.message_id == str(smtp["Message-ID"])
        assert got.headers["List-Id"] == unfolded(smtp, "List-Id")
        url = got.headers["List-Unsubscribe"][1:-1]
        assert url in got.html and url in got.text and envelope.recipient in got.text
        unsubscribes.add(url)
    assert len(unsubscribes) == 7  # each reader their own signed link


@pytest.mark.parametrize("name", BATCH_PROVIDERS)
def test_long_accented_display_names_arrive_exactly(
    app: App, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSLETTER_FROM", f'"{SENDER}" <newsletter@example.ma>')
    named = App(with_settings(app), engine=app.engine)
    sender, addresses = edition_sender(named, 2, LONG_NAME)
    stand_in = BatchStandIn(name)
    provider_for(name, stand_in.client()).send(envelopes(sender, addresses, LONG_NAME))
    name_of_to = "" if name == "resend" else LONG_NAME  # Resend's "to" takes an address
    assert [(d.name, d.sender) for d in stand_in.delivered] == [
        (name_of_to, (SENDER, "newsletter@example.ma"))
    ] * 2


def test_calls_run_at_once_up_to_the_concurrency(app: App) -> None:
    sender, addresses = edition_sender(app, 6)
    together = threading.Barrier(3, timeout=10)  # broken unless three calls are in flight
    stand_in = BatchStandIn("mailgun", wait=together.wait)
    provider = provider_for("mailgun", stand_in.client(), per_call=2, concurrency=3)
    assert provider.batch_size == 6
    result = provider.send(envelopes(sender, addresses))
    assert [r.result for r in result.results] == [Result.SENT] * 6
    assert sorted(count("mailgun", c) for c in stand_in.calls) == [2, 2, 2]


def test_a_call_that_stops_the_send_leaves_the_calls_not_started_unsent(app: App) -> None:
    sender, addresses = edition_sender(app, 6)
    calls: list[int] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(401, json={"errors": [{"message": "bad key"}]})

    client = httpx.Client(transport=httpx.MockTransport(refuse))
    provider = provider_for("sendgrid", client, per_call=2, concurrency=1)
    result = provider.send(envelopes(sender, addresses))
    assert len(calls) == 1 and result.stop and "bad key" in result.stop
    assert [r.result for r in result.results] == [Result.UNSENT] * 6


def test_sendgrid_fails_only_the_readers_a_400_names(app: App) -> None:
    sender, addresses = edition_sender(app, 4)
    stand_in = BatchStandIn("sendgrid")

    def handler(request: httpx.Request) -> httpx.Response:
        body = request.read()
        if b"reader2@example.org" in body:
            index = next(
                i for i, p in enumerate(json.loads(body)["personalizations"])
                if p["to"][0]["email"] == "reader2@example.org"
            )  # fmt: skip
            return httpx.Response(400, json={"errors": [{
                "message": "Does not contain a valid address.",
                "field": f"personalizations.{index}.to"}]})  # fmt: skip
        return stand_in.handler(request)

    client = httpx.Client(transport=httpx.MockTransport(handler))
    result = provider_for("sendgrid", client).send(envelopes(sender, addresses))
    outcome = {r.key: r for r in result.results}
    assert [outcome[1000 + n].result for n in range(4)] == [
        Result.SENT, Result.SENT, Result.FAILED, Result.SENT
    ]  # fmt: skip
    assert "valid address" in (outcome[1002].detail or "")
    assert sorted(d.address for d in stand_in.delivered) == [
        addresses[0],
        addresses[1],
        addresses[3],
    ]


def test_json_providers_never_build_the_mime_bytes(app: App) -> None:
    sender, addresses = edition_sender(app, 3)
    built: list[int] = []
    sent = envelopes(sender, addresses)
    for envelope in sent:
        build = envelope._build
        assert build is not None

        def counted(build: Callable[[], bytes] = build) -> bytes:
            built.append(1)
            return build()

        envelope._build = counted
    for name in BATCH_PROVIDERS:
        provider_for(name, BatchStandIn(name).client()).send(sent)
    assert built == []  # render once, personalise cheaply: no MIME, no parsing


@pytest.mark.parametrize("name", BATCH_PROVIDERS)
def test_tracked_readers_links_carry_each_readers_token_through_the_batch_api(
    app: App, name: str
) -> None:
    """With ``NEWSLETTER_TRACK_READERS`` the click links name the reader by a token signed
    only when a message asks for it: the batch payloads must ask for it too."""
    tracked = App(with_settings(app, track_readers=True), engine=app.engine)
    sender, addresses = edition_sender(tracked, 3)
    sent = envelopes(sender, addresses)
    stand_in = BatchStandIn(name)
    result = provider_for(name, stand_in.client()).send(sent)
    assert {r.result for r in result.results} == {Result.SENT}
    by_address = {d.address: d for d in stand_in.delivered}
    readers = set()
    for envelope in sent:
        got = by_address[envelope.recipient]
        html_part = mime(envelope).get_body(("html",))
        assert html_part is not None
        assert got.html == html_part.get_content().replace("\r\n", "\n")
        tokens = set(re.findall(r"[?&]r=([A-Za-z0-9_.-]+)", got.html))
        assert len(tokens) == 1 and "%" not in got.html.split("?r=")[1][:80], got.html[:300]
        readers |= tokens
    assert len(readers) == 3  # each reader their own token
