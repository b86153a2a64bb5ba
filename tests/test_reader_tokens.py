"""Reader tokens: key rotation through NEWSLETTER_OLD_SECRET_KEYS and the clock-skew leeway."""

from __future__ import annotations

import time

import pytest

from newsletter.config.settings import ConfigError, load_settings
from newsletter.links import CLOCK_SKEW_SECONDS, Links, Purpose, TokenError, TokenExpired

OLD = "old-secret-key-0123456789abcdef"
NEW = "new-secret-key-0123456789abcdef"


def test_old_keys_from_the_environment_still_verify(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSLETTER_SECRET_KEY", OLD)
    before = Links(load_settings().base_url, load_settings().secret_keys)
    token = before.token(Purpose.UNSUBSCRIBE, 12)

    monkeypatch.setenv("NEWSLETTER_SECRET_KEY", NEW)
    monkeypatch.setenv("NEWSLETTER_OLD_SECRET_KEYS", f" {OLD} , older-key-0123456789abcdef")
    settings = load_settings()
    assert settings.secret_keys == [OLD, "older-key-0123456789abcdef", NEW]  # newest last
    after = Links(settings.base_url, settings.secret_keys)
    assert after.verify(Purpose.UNSUBSCRIBE, token) == 12  # an old email's link still works
    fresh = after.token(Purpose.UNSUBSCRIBE, 12)
    assert fresh != token
    assert Links("http://x", [NEW]).verify(Purpose.UNSUBSCRIBE, fresh) == 12  # signed with NEW
    with pytest.raises(TokenError):
        before.verify(Purpose.UNSUBSCRIBE, fresh)
    # Once the old key is dropped from the list, its links stop verifying.
    monkeypatch.delenv("NEWSLETTER_OLD_SECRET_KEYS")
    dropped = load_settings()
    with pytest.raises(TokenError):
        Links(dropped.base_url, dropped.secret_keys).verify(Purpose.UNSUBSCRIBE, token)


def test_old_keys_apply_to_the_generated_key_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NEWSLETTER_SECRET_KEY")
    monkeypatch.setenv("NEWSLETTER_OLD_SECRET_KEYS", OLD)
    keys = load_settings().secret_keys
    assert keys[0] == OLD and len(keys) == 2 and len(keys[1]) > 40


@pytest.mark.parametrize("value", ["short", f"{OLD},tiny"])
def test_short_old_keys_are_refused(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("NEWSLETTER_OLD_SECRET_KEYS", value)
    with pytest.raises(ConfigError, match=r"OLD_SECRET_KEYS: key \d must be at least 16"):
        load_settings()


def test_a_token_from_a_clock_slightly_ahead_verifies(monkeypatch: pytest.MonkeyPatch) -> None:
    links = Links("https://b.example", [NEW])
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 120)  # the signing machine is ahead
    ahead = links.token(Purpose.CONFIRM, 3)
    far_ahead_clock = real() + CLOCK_SKEW_SECONDS + 600
    monkeypatch.setattr(time, "time", lambda: far_ahead_clock)
    far_ahead = links.token(Purpose.CONFIRM, 3)
    monkeypatch.setattr(time, "time", real)
    assert links.verify(Purpose.CONFIRM, ahead) == 3
    with pytest.raises(TokenError) as refused:
        links.verify(Purpose.CONFIRM, far_ahead)
    assert not isinstance(refused.value, TokenExpired)


def test_expiry_has_the_same_leeway(monkeypatch: pytest.MonkeyPatch) -> None:
    links = Links("https://b.example", [NEW])
    token = links.token(Purpose.CONFIRM, 4)
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 3600 + CLOCK_SKEW_SECONDS // 2)
    assert links.verify(Purpose.CONFIRM, token, max_age=3600) == 4
    monkeypatch.setattr(time, "time", lambda: real() + 3600 + CLOCK_SKEW_SECONDS + 60)
    with pytest.raises(TokenExpired):
        links.verify(Purpose.CONFIRM, token, max_age=3600)
