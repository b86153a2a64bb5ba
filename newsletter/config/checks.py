"""Checks that several groups of settings share; each raises :class:`ValueError` with the
message the operator sees after the setting's name (``NEWSLETTER_BASE_URL: ...``)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit


def one_line(value: str) -> str:
    """``value`` stripped; raises :class:`ValueError` when it holds CR, LF or NUL."""
    if any(c in value for c in "\r\n\x00"):
        raise ValueError("must be on one line")
    return value.strip()


def http_url(value: str) -> str:
    """``value`` stripped and without a trailing ``/``.

    Raises :class:`ValueError` unless it is an absolute ``http``/``https`` URL without a query
    or fragment.
    """
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"expected an absolute http(s) URL, got {value!r}")
    if parts.query or parts.fragment:
        raise ValueError("must not have a query or fragment")
    return value.strip().rstrip("/")


def token(value: str) -> str:
    """``value`` unchanged; raises :class:`ValueError` unless it is letters, digits, ``.``,
    ``_`` and ``-`` only (a header token, a domain, a provider's stream name)."""
    if not re.fullmatch(r"[A-Za-z0-9._-]+", value):
        raise ValueError(f"letters, digits, '.', '_' and '-' only, got {value!r}")
    return value


def feed_url(value: str) -> str:
    """``value`` stripped: a well-formed absolute ``http``/``https`` URL with a host (a
    query is allowed: many feeds have one). Raises :class:`ValueError` otherwise, the
    reason in the message."""
    text = value.strip()
    if not text or any(c.isspace() or ord(c) < 32 for c in text):
        raise ValueError(f"expected an http(s) URL without spaces, got {value!r}")
    try:
        parts = urlsplit(text)
        port = parts.port  # raises for a port that is not a number
    except ValueError as exc:
        raise ValueError(f"not a well-formed URL ({exc}): {value!r}") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise ValueError(f"expected an http or https URL, got {value!r}")
    if not parts.hostname or (port is not None and not 0 < port < 65536):
        raise ValueError(f"the URL names no host: {value!r}")
    return text
