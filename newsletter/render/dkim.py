"""DKIM signatures (RFC 6376) with dkimpy, when a key is configured.

Each personalised message is signed on its own (its To, Message-ID and links differ), with
relaxed/relaxed canonicalisation, over the headers receivers and Gmail's bulk-sender rules
look at, including List-Unsubscribe and List-Unsubscribe-Post (RFC 8058 section 4 asks that
they be covered by a DKIM signature for one-click unsubscribe to be honoured).

Cost: dkimpy's RSA is pure Python, about 8 ms per message for a 2048-bit key on this
machine (``make bench`` will measure it); for very large lists, signing at the MTA or the
provider is the cheaper place.
"""

from __future__ import annotations

from pathlib import Path

import dkim

#: Headers signed when present (RFC 6376 section 5.4.1 recommends From, Subject, Date, To,
#: Message-ID, MIME headers and List-* ones).
SIGNED_HEADERS = (
    b"from",
    b"to",
    b"subject",
    b"date",
    b"message-id",
    b"list-id",
    b"list-unsubscribe",
    b"list-unsubscribe-post",
    b"feedback-id",
    b"mime-version",
    b"content-type",
)


class DKIMError(ValueError):
    """The key cannot be read or used for signing."""


class DKIMSigner:
    """Signs messages for ``domain`` with the key of ``selector`` (PEM, RSA or Ed25519)."""

    def __init__(self, selector: str, domain: str, private_key: bytes) -> None:
        if b"PRIVATE KEY" not in private_key:
            raise DKIMError("the DKIM key is not a PEM private key")
        self.selector = selector.encode("ascii")
        self.domain = domain.encode("ascii")
        self.private_key = private_key

    @classmethod
    def from_file(cls, selector: str, domain: str, path: Path) -> DKIMSigner:
        """A signer with the PEM key in ``path``; raises :class:`DKIMError`."""
        try:
            return cls(selector, domain, path.read_bytes())
        except OSError as exc:
            raise DKIMError(f"cannot read the DKIM key {path}: {exc.strerror or exc}") from None

    def sign(self, message: bytes) -> bytes:
        """``message`` with a ``DKIM-Signature`` header prepended (CRLF line ends kept)."""
        try:
            signature: bytes = dkim.sign(
                message,
                self.selector,
                self.domain,
                self.private_key,
                canonicalize=(b"relaxed", b"relaxed"),
                include_headers=list(SIGNED_HEADERS),
                linesep=b"\r\n",
            )
        except dkim.DKIMException as exc:
            raise DKIMError(f"DKIM signing failed: {exc}") from None
        return signature + message
