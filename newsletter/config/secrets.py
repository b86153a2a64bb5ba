"""Parsing of the webhook secrets operators paste into the settings (no newsletter imports,
so that ``config`` can validate them).

- SendGrid shows its Event Webhook verification key as the base64 of a DER
  SubjectPublicKeyInfo of an ECDSA P-256 key (SendGrid docs, "Getting started with the Event
  Webhook Security Features"); a PEM block is accepted too.
- Resend signs through Svix; its secret is ``whsec_`` followed by the base64 of the HMAC key
  (Svix docs, "Verifying payloads manually").
"""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # cryptography loads only when a key is read: most commands read none
    from cryptography.hazmat.primitives.asymmetric import ec


class InvalidKey(ValueError):
    """A configured key or secret cannot be parsed; the message says what was expected."""


def sendgrid_public_key(value: str) -> ec.EllipticCurvePublicKey:
    """The ECDSA P-256 public key of ``value`` (base64 DER or PEM).

    Raises :class:`InvalidKey` when it is not such a key.
    """
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import (
        load_der_public_key,
        load_pem_public_key,
    )

    text = value.strip()
    try:
        if text.startswith("-----BEGIN"):
            key = load_pem_public_key(text.encode())
        else:
            key = load_der_public_key(base64.b64decode(text, validate=True))
    except (ValueError, binascii.Error, TypeError) as exc:
        raise InvalidKey(
            "expected SendGrid's verification key: base64 (DER) or PEM of an ECDSA P-256 "
            f"public key ({exc.__class__.__name__})"
        ) from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise InvalidKey("expected an ECDSA P-256 (secp256r1) public key")
    return key


def svix_secret(value: str) -> bytes:
    """The HMAC key of a Svix secret ``whsec_<base64>`` (the prefix is optional).

    Raises :class:`InvalidKey` when the rest is not base64 or is shorter than 16 bytes.
    """
    text = value.strip().removeprefix("whsec_")
    try:
        key = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidKey("expected a Svix secret such as whsec_<base64>") from None
    if len(key) < 16:
        raise InvalidKey("the secret's key is shorter than 16 bytes")
    return key
