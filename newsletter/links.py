"""Signed links: one serializer per purpose, one URL builder for every absolute link.

Tokens are itsdangerous URL-safe timed signatures of a subscriber id. Each purpose has its
own salt, so a token made for "preferences" never verifies as "unsubscribe". Keys rotate:
:class:`Links` takes a list of keys, newest last; every key verifies, the newest signs.
"""

from __future__ import annotations

import binascii
import hmac
import time
from datetime import date
from enum import StrEnum
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from itsdangerous import BadData, URLSafeSerializer, URLSafeTimedSerializer


class Purpose(StrEnum):
    """What a token allows. The value is part of the salt."""

    CONFIRM = "confirm"
    PREFERENCES = "preferences"
    UNSUBSCRIBE = "unsubscribe"
    READER = "reader"  # who followed a click link (only with NEWSLETTER_TRACK_READERS)


#: Lifetime of each purpose's tokens in seconds; None: valid as long as the key is.
#: Unsubscribe links must keep working in old emails (RFC 8058 gives no expiry; Gmail's
#: bulk-sender rules ask that unsubscribing work at any time).
MAX_AGE: dict[Purpose, int | None] = {
    Purpose.CONFIRM: 7 * 24 * 3600,
    Purpose.PREFERENCES: None,
    Purpose.UNSUBSCRIBE: None,
    Purpose.READER: None,
}
#: Clock-skew leeway in seconds: a token stamped up to this far in the future (another
#: machine's clock ahead of ours) still verifies, and an expiry is checked this much late.
CLOCK_SKEW_SECONDS = 300
#: URL paths, one per purpose (short: the List-Unsubscribe header carries one).
PATHS = {Purpose.CONFIRM: "c", Purpose.PREFERENCES: "p", Purpose.UNSUBSCRIBE: "u"}
#: URL path of the click redirect (``/r/<token>``).
CLICK_PATH = "r"


#: The largest subscriber id a token may carry: the subscribers' key is an SQL INTEGER,
#: which PostgreSQL stores in 32 bits (its documentation, "Numeric Types"); a larger id,
#: even validly signed, names no row and must not reach the database.
MAX_ID = 2**31 - 1


class TokenError(Exception):
    """A token that does not verify: forged, for another purpose, or malformed."""


class TokenExpired(TokenError):
    """A genuine token past its purpose's lifetime."""


_URLSAFE = bytes.maketrans(b"+/", b"-_")


def _b64(data: bytes) -> bytes:
    """Unpadded URL-safe base64 (RFC 4648 section 5), as itsdangerous writes it."""
    return binascii.b2a_base64(data, newline=False).translate(_URLSAFE).rstrip(b"=")


class Links:
    """Builds absolute URLs from ``base_url`` and signs/verifies subscriber tokens.

    ``secret_keys``: list of keys, newest last (at least one).
    """

    def __init__(self, base_url: str, secret_keys: list[str]) -> None:
        if not secret_keys:
            raise ValueError("at least one secret key is required")
        self.base_url = base_url.rstrip("/")
        self._serializers = {
            purpose: URLSafeTimedSerializer(secret_keys, salt=f"newsletter.{purpose.value}")
            for purpose in Purpose
        }
        # Signing is on the hot path (two links per message): derive each key once
        # (itsdangerous's default: HMAC-SHA1 with a key derived from the salt and the
        # newest secret), then sign with the one-shot ``hmac.digest``.
        self._signers = {purpose: s.make_signer() for purpose, s in self._serializers.items()}
        self._keys = {purpose: signer.derive_key() for purpose, signer in self._signers.items()}
        self._stamp: tuple[int, bytes] = (0, b"")
        # Click tokens name an edition's link, the same for every reader: untimed (links in
        # old emails keep working), their own salt, the same keys (rotation applies).
        self._clicks = URLSafeSerializer(secret_keys, salt="newsletter.click")

    def token(self, purpose: Purpose, subscriber_id: int) -> str:
        """A signed token binding ``subscriber_id`` to ``purpose``: itsdangerous's URL-safe
        timed format (``payload.timestamp.signature``, each unpadded URL-safe base64),
        written directly for an id (the same bytes as ``dumps``, in a third of the time)."""
        if type(subscriber_id) is not int or subscriber_id < 0:
            payload = self._serializers[purpose].dump_payload(subscriber_id)
            return self._signers[purpose].sign(payload).decode("ascii")
        now = int(time.time())
        if self._stamp[0] != now:  # the timestamp part changes once a second
            self._stamp = (now, _b64(now.to_bytes((now.bit_length() + 7) // 8 or 1, "big")))
        value = _b64(str(subscriber_id).encode("ascii")) + b"." + self._stamp[1]
        signature = hmac.digest(self._keys[purpose], value, "sha1")
        return (value + b"." + _b64(signature)).decode("ascii")

    def verify(self, purpose: Purpose, token: str, *, max_age: float | None = None) -> int:
        """The subscriber id in ``token``.

        ``max_age`` (seconds) defaults to the purpose's lifetime in :data:`MAX_AGE`; both ends
        get :data:`CLOCK_SKEW_SECONDS` of leeway (machines' clocks differ). Every key of the
        list verifies (rotation). Raises :class:`TokenExpired` for a genuine but expired
        token, :class:`TokenError` for anything forged, truncated, signed with a key no
        longer listed, for another purpose, dated beyond the leeway in the future, or
        carrying an id outside ``1..MAX_ID``.
        """
        limit = MAX_AGE[purpose] if max_age is None else max_age
        try:
            # The age is checked here rather than by itsdangerous, which refuses any token
            # stamped even one second ahead of this machine's clock.
            value, stamped = self._serializers[purpose].loads(token, return_timestamp=True)
        except BadData as exc:  # bad signature, or a payload that is not ours
            raise TokenError(f"this {purpose.value} link is not valid") from exc
        age = time.time() - stamped.timestamp()
        if age < -CLOCK_SKEW_SECONDS:
            raise TokenError(f"this {purpose.value} link is dated in the future")
        if limit is not None and age > limit + CLOCK_SKEW_SECONDS:
            raise TokenExpired(f"this {purpose.value} link has expired")
        if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= MAX_ID:
            raise TokenError(f"this {purpose.value} link is not valid")
        return value

    def click_token(self, edition_id: int, item_id: int, link: int) -> str:
        """A signed token naming link ``link`` (0: the item's article, k: its k-th other
        source) of item ``item_id`` of edition ``edition_id``; never a URL, so that the
        redirect can only go where the edition's items point (no open redirect)."""
        return self._clicks.dumps([edition_id, item_id, link])

    def verify_click(self, token: str) -> tuple[int, int, int]:
        """``(edition_id, item_id, link)`` of a :meth:`click_token`; raises
        :class:`TokenError` for anything forged, malformed or signed with a dropped key."""
        try:
            value = self._clicks.loads(token)
        except BadData as exc:
            raise TokenError("this link is not valid") from exc
        if (
            not isinstance(value, list)
            or len(value) != 3
            or not all(type(part) is int and 0 <= part <= MAX_ID for part in value)
        ):
            raise TokenError("this link is not valid")
        return value[0], value[1], value[2]

    def click_url(self, edition_id: int, item_id: int, link: int) -> str:
        """The absolute redirect URL (``/r/<token>``) of a :meth:`click_token`."""
        return self.url(f"{CLICK_PATH}/{self.click_token(edition_id, item_id, link)}")

    def url(self, path: str) -> str:
        """The absolute URL of ``path`` (a path on the web app, with or without "/")."""
        return f"{self.base_url}/{path.lstrip('/')}"

    def subscriber_url(self, purpose: Purpose, subscriber_id: int) -> str:
        """The signed link of ``purpose`` for ``subscriber_id`` (e.g. ``/u/<token>``)."""
        return self.url(f"{PATHS[purpose]}/{self.token(purpose, subscriber_id)}")

    def edition_url(self, day: date) -> str:
        """The public "view in browser" page of an edition."""
        return self.url(f"editions/{day.isoformat()}")


def with_utm(url: str, parameters: dict[str, str] | None, day: date) -> str:
    """``url`` with UTM parameters added (``{date}`` in a value becomes ``day``); parameters
    the URL already has are kept as they are. None or an empty mapping: ``url`` unchanged."""
    if not parameters:
        return url
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    present = {key for key, _ in query}
    query += [
        (key, value.replace("{date}", day.isoformat()))
        for key, value in parameters.items()
        if key not in present
    ]
    return urlunsplit(parts._replace(query=urlencode(query)))
