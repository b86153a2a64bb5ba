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
