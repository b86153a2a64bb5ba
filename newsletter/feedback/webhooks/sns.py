"""Amazon SNS HTTP(S) messages: signature verification and subscription confirmation.

Source: Amazon SNS Developer Guide, "Verifying the signatures of Amazon SNS messages" and
"Parsing message formats" (HTTP/HTTPS notification, subscription confirmation and
unsubscribe confirmation JSON):

- The string to sign is ``Name\\nValue\\n`` for, in this order, ``Message``, ``MessageId``,
  ``Subject`` (only if present), ``Timestamp``, ``TopicArn``, ``Type`` for a
  ``Notification``; and ``Message``, ``MessageId``, ``SubscribeURL``, ``Timestamp``,
  ``Token``, ``TopicArn``, ``Type`` for ``SubscriptionConfirmation`` and
  ``UnsubscribeConfirmation``.
- ``SignatureVersion`` ``1`` is RSA PKCS#1 v1.5 with SHA-1, ``2`` with SHA-256; ``Signature``
  is base64.
- The certificate comes from ``SigningCertURL``, which must be an ``https`` URL on
  ``sns.<region>.amazonaws.com`` (checked before anything is fetched; nothing else is ever
  fetched). Certificates are cached by URL. Trust comes from that host, reached over TLS
  with certificate verification (httpx's default), as AWS's own SNS message validators do;
  the certificate must also be within its validity period.
- The message's ``Timestamp`` is not checked for age: SNS retries under its delivery policy
  for up to hours, and a replayed genuine message changes nothing (events apply once).
"""

from __future__ import annotations

import base64
import binascii
import re
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from newsletter.feedback.webhooks import Malformed, Unauthorized

#: Host names SNS signs from (certificates and subscription URLs).
SNS_HOST = re.compile(r"sns\.[a-z]{2}(-[a-z]+)+-\d\.amazonaws\.com")
#: Fields signed, per message type (SNS Developer Guide).
SIGNED = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": (
        "Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type",
    ),
    "UnsubscribeConfirmation": (
        "Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type",
    ),
}  # fmt: skip
HASHES = {"1": hashes.SHA1, "2": hashes.SHA256}
#: Largest certificate we download (bytes); a real one is about 2 KB.
MAX_CERTIFICATE = 64 * 1024

#: Fetches a certificate URL and returns its PEM bytes; raises on failure.
Fetcher = Callable[[str], bytes]


def is_sns_url(url: object) -> bool:
    """True for an ``https://sns.<region>.amazonaws.com/...`` URL (no port, no user)."""
    if not isinstance(url, str):
        return False
    parts = urlsplit(url)
    return (
        parts.scheme == "https"
        and parts.port is None
        and parts.username is None
        and bool(SNS_HOST.fullmatch(parts.hostname or ""))
    )


def http_fetcher(client: httpx.Client) -> Fetcher:
    """A :data:`Fetcher` through ``client`` (no redirects followed, at most 64 KB)."""

    def fetch(url: str) -> bytes:
        with client.stream("GET", url, follow_redirects=False) as response:
            response.raise_for_status()
            data = b""
            for chunk in response.iter_bytes():
                data += chunk
                if len(data) > MAX_CERTIFICATE:
                    raise ValueError("certificate too large")
            return data

    return fetch


class Verifier:
    """Verifies SNS message signatures, fetching certificates through ``fetch`` (only from
    SNS URLs) and caching them by URL (at most ``cache_size``)."""

    def __init__(self, fetch: Fetcher, cache_size: int = 32) -> None:
        self.fetch, self.cache_size = fetch, cache_size
        self._cache: dict[str, x509.Certificate] = {}
        self._lock = threading.Lock()

    def certificate(self, url: str) -> x509.Certificate:
        """The certificate at ``url`` (cached). Raises :class:`Unauthorized` for a URL that
        is not an SNS one, or a certificate that cannot be fetched, parsed, or is expired."""
        if not is_sns_url(url):
            raise Unauthorized("SigningCertURL is not an https://sns.<region>.amazonaws.com URL")
        with self._lock:
            cached = self._cache.get(url)
        if cached is None:
            try:
                cached = x509.load_pem_x509_certificate(self.fetch(url))
            except Exception as exc:  # network, HTTP status or PEM: all mean "cannot verify"
                raise Unauthorized(f"cannot get the SNS signing certificate: {exc}") from None
            with self._lock:
                if len(self._cache) >= self.cache_size:
                    self._cache.pop(next(iter(self._cache)))
                self._cache[url] = cached
        now = datetime.now(UTC)
        if not cached.not_valid_before_utc <= now <= cached.not_valid_after_utc:
            raise Unauthorized("the SNS signing certificate is not valid now")
        return cached

    def verify(self, message: dict[str, Any]) -> None:
        """Check ``message``'s signature (a parsed SNS JSON body).

        Raises :class:`Malformed` (unknown type, a signed field missing or not a string)
        or :class:`Unauthorized` (unsupported version, bad URL, wrong signature).
        """
        kind = message.get("Type")
        if kind not in SIGNED:
            raise Malformed(f"unknown SNS message Type {kind!r}")
        lines = []
        for name in SIGNED[kind]:
            if name == "Subject" and name not in message:
                continue
            value = message.get(name)
            if not isinstance(value, str):
                raise Malformed(f"an SNS {kind} needs a string {name!r}")
            lines.append(f"{name}\n{value}\n")
        algorithm = HASHES.get(str(message.get("SignatureVersion")))
        if algorithm is None:
            raise Unauthorized("unsupported SignatureVersion (expected 1 or 2)")
        try:
            signature = base64.b64decode(str(message.get("Signature") or ""), validate=True)
        except (binascii.Error, ValueError):
            raise Unauthorized("the SNS signature is not base64") from None
        key = self.certificate(str(message.get("SigningCertURL"))).public_key()
        if not isinstance(key, rsa.RSAPublicKey):
            raise Unauthorized("the SNS certificate has no RSA key")
        try:
            key.verify(signature, "".join(lines).encode(), padding.PKCS1v15(), algorithm())
        except InvalidSignature:
            raise Unauthorized("the SNS signature does not verify") from None


def confirm_subscription(message: dict[str, Any], client: httpx.Client) -> None:
    """Confirm a verified ``SubscriptionConfirmation`` by a GET of its ``SubscribeURL``
    (only an SNS URL). Raises :class:`Unauthorized` for another URL and
    :class:`httpx.HTTPError` when SNS does not answer 2xx."""
    url = message.get("SubscribeURL")
    if not is_sns_url(url):
        raise Unauthorized("SubscribeURL is not an https://sns.<region>.amazonaws.com URL")
    client.get(str(url), follow_redirects=False).raise_for_status()
