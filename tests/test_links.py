"""Signed links: purpose-bound, forgery- and expiry-proof, rotatable."""

from __future__ import annotations

import time

import pytest

from newsletter.links import Links, Purpose, TokenError, TokenExpired

KEY = "first-secret-key-0123456789"


def test_tokens_verify_for_their_purpose_only() -> None:
    links = Links("https://brief.example.ma/", [KEY])
    url = links.subscriber_url(Purpose.UNSUBSCRIBE, 42)
    assert url.startswith("https://brief.example.ma/u/") and len(url) < 80
    token = url.rsplit("/", 1)[1]
    assert links.verify(Purpose.UNSUBSCRIBE, token) == 42
    with pytest.raises(TokenError):
        links.verify(Purpose.PREFERENCES, token)


@pytest.mark.parametrize(
    "mangle",
    [
        # A character inside the signature: the last one also carries padding bits, so
        # changing it may leave the decoded signature equal (a test that could not fail).
        lambda t: t[:-5] + ("A" if t[-5] != "A" else "B") + t[-4:],
        lambda t: t[:10],
        lambda t: "",
        lambda t: "x.y.z",
    ],
)
def test_forged_or_truncated_tokens_are_refused(mangle) -> None:  # type: ignore[no-untyped-def]
    links = Links("https://b.example", [KEY])
    with pytest.raises(TokenError):
        links.verify(Purpose.UNSUBSCRIBE, mangle(links.token(Purpose.UNSUBSCRIBE, 7)))
    other = Links("https://b.example", ["another-secret-key-0123456789"])
    with pytest.raises(TokenError):
        other.verify(Purpose.UNSUBSCRIBE, links.token(Purpose.UNSUBSCRIBE, 7))


def test_confirm_links_expire_after_seven_days(monkeypatch: pytest.MonkeyPatch) -> None:
    links = Links("https://b.example", [KEY])
    token = links.token(Purpose.CONFIRM, 5)
    assert links.verify(Purpose.CONFIRM, token) == 5
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 8 * 24 * 3600)
    with pytest.raises(TokenExpired):
        links.verify(Purpose.CONFIRM, token)
    assert links.verify(Purpose.UNSUBSCRIBE, links.token(Purpose.UNSUBSCRIBE, 5)) == 5


def test_rotated_key_still_verifies_old_links() -> None:
    old = Links("https://b.example", [KEY])
    token = old.token(Purpose.PREFERENCES, 9)
    rotated = Links("https://b.example", [KEY, "new-secret-key-0123456789"])
    assert rotated.verify(Purpose.PREFERENCES, token) == 9
    with pytest.raises(TokenError):  # new links are signed with the newest key
        old.verify(Purpose.PREFERENCES, rotated.token(Purpose.PREFERENCES, 9))


def test_utm_parameters_are_added_once_and_can_be_turned_off() -> None:
    from datetime import date

    from newsletter.links import with_utm

    params = {"utm_source": "newsletter", "utm_medium": "email", "utm_campaign": "brief-{date}"}
    url = with_utm("https://news.example/a?id=3&utm_source=site", params, date(2026, 3, 25))
    assert url == (
        "https://news.example/a?id=3&utm_source=site&utm_medium=email&utm_campaign=brief-2026-03-25"
    )
    assert with_utm("https://news.example/a", None, date(2026, 3, 25)) == "https://news.example/a"
