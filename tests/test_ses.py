"""Amazon SES v2 through moto's server mode: our SigV4-signed HTTP request (botocore), sent
over a real socket, checked by moto's signature verification and answered like SES."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from email import message_from_bytes, policy

import boto3
import httpx
import pytest
from moto import settings as moto_settings
from moto.core import DEFAULT_ACCOUNT_ID
from moto.core.authorization import ActionAuthenticatorMixin
from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.ses.models import ses_backends
from sqlalchemy import select

from newsletter.config.settings import ConfigError, load_settings
from newsletter.providers.base import Envelope, Result
from newsletter.providers.registry import make_provider
from newsletter.providers.ses import SESProvider
from newsletter.store.models import Delivery
from newsletter.wiring import App
from tests.conftest import free_port
from tests.test_providers_http import DAY, prepare, rows

REGION = "eu-west-1"
SENDER = "newsletter@example.ma"


@pytest.fixture
def moto_ses() -> Iterator[str]:
    """A moto server on a free port; yields its URL. Every moto backend is emptied first."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"
    httpx.post(f"{url}/moto-api/reset").raise_for_status()  # moto's state is per process
    try:
        yield url
    finally:
        server.stop()


@pytest.fixture
def aws_keys(moto_ses: str, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    """An IAM user's access key made in moto, the sender verified, then moto's signature
    and permission checks turned on; the key is in the standard AWS variables."""
    setup = {
        "endpoint_url": moto_ses, "region_name": REGION,
        "aws_access_key_id": "setup", "aws_secret_access_key": "setup",
    }  # fmt: skip
    boto3.client("ses", **setup).verify_email_identity(EmailAddress=SENDER)
    iam = boto3.client("iam", **setup)
    iam.create_user(UserName="newsletter")
    iam.put_user_policy(
        UserName="newsletter",
        PolicyName="send",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "ses:*", "Resource": "*"}],
            }
        ),
    )
    key = iam.create_access_key(UserName="newsletter")["AccessKey"]
    monkeypatch.setattr(moto_settings, "INITIAL_NO_AUTH_ACTION_COUNT", 0)
    monkeypatch.setattr(ActionAuthenticatorMixin, "request_count", 0)
    for name in ("AWS_PROFILE", "AWS_DEFAULT_REGION", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return key["AccessKeyId"], key["SecretAccessKey"]


def ses_app(app: App, endpoint: str) -> App:
    settings = load_settings(
        provider="ses", ses_endpoint_url=endpoint, sender=f"Le Brief <{SENDER}>"
    )
    return App(settings, engine=app.engine, http_client=httpx.Client(timeout=30))


def test_ses_sends_an_edition_with_signed_raw_requests(
    app: App, moto_ses: str, aws_keys: tuple[str, str]
) -> None:
    addresses = prepare(app, 4)
    sender = ses_app(app, moto_ses)
    result = sender.release.send(DAY)
    assert (result.run.sent, result.run.failed, result.run.stopped) == (4, 0, None)
    sent = ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages
    assert sorted(m.destinations[0] for m in sent) == sorted(addresses)
    with app.sessions() as session:
        ids = {d.email: d.provider_message_id for d in session.scalars(select(Delivery))}
    assert {m.destinations[0]: m.id for m in sent} == ids  # SES's MessageId is recorded
    for message in sent:
        parsed = message_from_bytes(message.raw_data.encode(), policy=policy.default)
        assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert parsed["List-Unsubscribe"].startswith("<http")
        assert parsed["List-Id"] and parsed["Message-ID"].startswith(f"<{DAY.isoformat()}.")
        assert parsed["To"].addresses[0].addr_spec == message.destinations[0]
    assert rows(app) == {"sent": 4}


def test_a_wrong_secret_is_refused_by_the_signature_check_and_fails_nobody(
    app: App, moto_ses: str, aws_keys: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    prepare(app, 3)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
    result = ses_app(app, moto_ses).release.send(DAY)
    assert result.run.sent == 0 and result.run.failed == 0
    assert result.run.stopped and "ses: HTTP 403" in result.run.stopped
    assert "Signature" in result.run.stopped
    assert rows(app) == {"pending": 3}
    assert ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages == []


def test_an_unverified_sender_fails_the_message_with_ses_text(
    app: App, moto_ses: str, aws_keys: tuple[str, str]
) -> None:
    prepare(app, 1)
    settings = load_settings(
        provider="ses", ses_endpoint_url=moto_ses, sender="Le Brief <other@example.ma>"
    )
    result = App(settings, engine=app.engine, http_client=httpx.Client()).release.send(DAY)
    assert result.run.failed == 1
    with app.sessions() as session:
        delivery = session.scalars(select(Delivery)).one()
    assert delivery.status == "failed" and delivery.last_code == 400
    assert "MessageRejected" in (delivery.last_error or "")
    assert "other@example.ma" in (delivery.last_error or "")


def test_the_request_is_the_documented_sendemail_call(aws_keys: tuple[str, str]) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"MessageId": "0100-abc"})

    provider = make_provider(
        load_settings(provider="ses"), httpx.Client(transport=httpx.MockTransport(handler))
    )
    assert isinstance(provider, SESProvider)
    data = b"From: a@example.ma\r\nTo: b@example.org\r\nSubject: x\r\n\r\nhello\r\n"
    batch = provider.send(
        [Envelope(7, "a@example.ma", "b@example.org", data, "<m@x>", "2026-03-25")]
    )
    assert batch.results[0].result == Result.SENT
    assert batch.results[0].provider_message_id == "0100-abc"
    request = seen[0]
    assert request.method == "POST"
    assert str(request.url) == f"https://email.{REGION}.amazonaws.com/v2/email/outbound-emails"
    authorization = request.headers["Authorization"]
    assert authorization.startswith(f"AWS4-HMAC-SHA256 Credential={aws_keys[0]}/")
    assert f"/{REGION}/ses/aws4_request" in authorization and "X-Amz-Date" in request.headers
    body = json.loads(request.content)
    assert body["Destination"] == {"ToAddresses": ["b@example.org"]}
    assert base64.b64decode(body["Content"]["Raw"]["Data"]) == data


def test_missing_aws_credentials_name_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_REGION", REGION)
    with pytest.raises(ConfigError, match="AWS_ACCESS_KEY_ID"):
        make_provider(load_settings(provider="ses"), httpx.Client())
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.delenv("AWS_REGION")
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    with pytest.raises(ConfigError, match="AWS_REGION"):
        make_provider(load_settings(provider="ses"), httpx.Client())


@pytest.mark.parametrize(
    ("status", "error_type", "expected", "stops"),
    [
        (400, "MessageRejected", Result.FAILED, False),
        (400, "LimitExceededException", Result.DEFERRED, False),
        (400, "SendingPausedException", Result.UNSENT, True),
        (400, "AccountSuspendedException", Result.UNSENT, True),
    ],
)
def test_ses_error_types_decide_the_outcome(
    aws_env: None, status: int, error_type: str, expected: Result, stops: bool
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            status,
            headers={"x-amzn-ErrorType": f"{error_type}:http://internal.amazon.com/coral/"},
            json={"message": f"{error_type} says no"},
        )

    provider = make_provider(
        load_settings(provider="ses"), httpx.Client(transport=httpx.MockTransport(handler))
    )
    data = b"From: a@example.ma\r\nTo: b@example.org\r\nSubject: x\r\n\r\nhello\r\n"
    envelopes = [
        Envelope(n, "a@example.ma", f"b{n}@example.org", data, f"<{n}@x>", "c") for n in (1, 2)
    ]
    batch = provider.send(envelopes)
    first = batch.results[0]
    assert first.result == expected and first.code == status
    assert first.detail == f"ses: {error_type}: HTTP {status}: {error_type} says no"
    assert (batch.stop is not None) == stops
    if expected != Result.FAILED:  # the provider is in trouble: the rest goes back unsent
        assert batch.results[1].result == Result.UNSENT


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Static credentials and a region in the standard AWS variables."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
